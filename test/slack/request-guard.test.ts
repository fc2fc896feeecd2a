import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseQuery } from 'node:querystring';
import { Writable } from 'node:stream';
import type { ReceiverEvent } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blockSuggestionPayload,
  globalShortcutPayload,
  messageButtonClick,
  messageShortcutPayload,
  viewSelectAction,
  viewSubmissionPayload,
} from '../../src/sandbox/payloads.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { deliveryKey, ReplayGuard } from '../../src/slack/replay-guard.js';
import {
  classifyRequest,
  createRequestGuard,
  MalformedRequestError,
  mayHavePayloadField,
} from '../../src/slack/request-guard.js';
import { RequestNotRunError } from '../../src/slack/request-log.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { DeliveryStore } from '../../src/store/delivery-store.js';

const user = { id: 'U0ADMIN', name: 'alice' };
const view = { id: 'V1', callback_id: 'nasha_modal_main', private_metadata: '' };

/** The payloads Slack sends, as the sandbox builds them (the same shapes the end-to-end tests use). */
const SLACK_PAYLOADS: Array<[string, object, { kind: string; triggerId: string | undefined; hasEffect: boolean }]> = [
  [
    'a slash command',
    { command: '/nasha', text: 'help', user_id: 'U0ADMIN', channel_id: 'C0OPS', trigger_id: '1.1.a', team_id: 'T1' },
    { kind: 'command', triggerId: '1.1.a', hasEffect: true },
  ],
  [
    'a message button',
    messageButtonClick({
      user,
      channel: { id: 'C0OPS', name: 'ops' },
      messageTs: '1.2',
      isEphemeral: true,
      button: { actionId: 'nasha_page_next', blockId: 'b', value: '{}', text: 'Next' },
      responseUrl: 'https://hooks.slack.com/actions/T1/1/x',
      triggerId: '1.2.b',
      actionTs: '1.3',
    }),
    { kind: 'action', triggerId: '1.2.b', hasEffect: true },
  ],
  [
    'a select in a form',
    viewSelectAction(
      user,
      view,
      { type: 'external_select', actionId: 'service', blockId: 'service', selected: { text: 'z', value: 'z' } },
      '1.3.c',
      '1.4',
    ),
    { kind: 'action', triggerId: '1.3.c', hasEffect: true },
  ],
  [
    'a form submission',
    viewSubmissionPayload(user, view, '1.4.d'),
    { kind: 'view', triggerId: '1.4.d', hasEffect: true },
  ],
  [
    'an options load',
    blockSuggestionPayload(user, view, { actionId: 'service', blockId: 'service' }, 'zp'),
    { kind: 'options', triggerId: undefined, hasEffect: false },
  ],
  [
    'a global shortcut',
    globalShortcutPayload({ user, callbackId: 'nasha_quick_global', triggerId: '1.5.e', actionTs: '1.6' }),
    { kind: 'shortcut', triggerId: '1.5.e', hasEffect: true },
  ],
  [
    'a message shortcut',
    messageShortcutPayload({
      user,
      callbackId: 'nasha_quick_message',
      channel: { id: 'C0INC', name: 'inc' },
      message: { ts: '1.7', text: 'db down', userId: 'U0VIEW' },
      responseUrl: 'https://hooks.slack.com/actions/T1/2/y',
      triggerId: '1.6.f',
      actionTs: '1.8',
    }),
    { kind: 'shortcut', triggerId: '1.6.f', hasEffect: true },
  ],
  [
    'a closed form',
    { type: 'view_closed', user: { id: 'U0ADMIN' }, view: { callback_id: 'x' }, team: { id: 'T1' } },
    { kind: 'view_closed', triggerId: undefined, hasEffect: false },
  ],
  [
    'an Events API event',
    { type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention', user: 'U0VIEW' } },
    { kind: 'event', triggerId: undefined, hasEffect: false },
  ],
];

describe('mayHavePayloadField: whether Bolt would find a payload field in a form body', () => {
  it('says no only when no key decodes to payload, as Node’s querystring decodes keys', () => {
    const cases: Array<[string, boolean]> = [
      ['command=%2Fnasha&text=payload%3Dnull&user_id=U1', false],
      ['payload=null', true],
      ['x=1&payload', true],
      ['%70ayload=null', true],
      ['%70%61%79%6C%6F%61%64=null', true],
      ['pay+load=null', false],
      ['payload%zz=1', true],
      ['', false],
    ];
    expect(cases.map(([form]) => mayHavePayloadField(form))).toEqual(cases.map(([, expected]) => expected));
    // A "no" is never wrong: querystring finds no payload key in any of those forms.
    for (const [form] of cases) {
      if (!mayHavePayloadField(form)) expect(Object.keys(parseQuery(form))).not.toContain('payload');
    }
  });
});

describe('classifyRequest', () => {
  it.each(SLACK_PAYLOADS)('%s is read as what it is', (_what, body, expected) => {
    expect(classifyRequest(body)).toEqual({ ok: true, ...expected });
  });

  it('an empty trigger_id is no trigger_id (the body identifies the delivery)', () => {
    expect(classifyRequest({ command: '/nasha', user_id: 'U1', trigger_id: '' })).toMatchObject({
      ok: true,
      triggerId: undefined,
    });
  });

  it.each([
    ['null', null],
    ['a number', 123],
    ['a string', 'block_actions'],
    ['an array', [{ type: 'block_actions' }]],
    ['an empty object', {}],
    ['a command without a user', { command: '/nasha', text: 'help' }],
    ['a command that is not a string', { command: 1, user_id: 'U1' }],
    ['a block action without actions', { type: 'block_actions', user: { id: 'U1' } }],
    ['a block action with no action', { type: 'block_actions', user: { id: 'U1' }, actions: [] }],
    ['an action without an id', { type: 'block_actions', user: { id: 'U1' }, actions: [{ value: 'x' }] }],
    ['actions without a type', { user: { id: 'U1' }, actions: [{ action_id: 'x' }] }],
    ['a block action without a user', { type: 'block_actions', actions: [{ action_id: 'x' }] }],
    ['a user that is not an object', { type: 'block_actions', user: 'U1', actions: [{ action_id: 'x' }] }],
    ['a form without a view', { type: 'view_submission', user: { id: 'U1' } }],
    ['a form without a user', { type: 'view_submission', view: { callback_id: 'x' } }],
    ['an options load without a field', { type: 'block_suggestion', user: { id: 'U1' } }],
    ['a legacy dialog options load', { name: 'service', user: { id: 'U1' } }],
    ['a dialog submission', { type: 'dialog_submission', user: { id: 'U1' } }],
    ['a shortcut without a callback id', { type: 'shortcut', user: { id: 'U1' } }],
    ['an event that is not an object', { type: 'event_callback', event: 'app_mention' }],
    ['an unknown type', { type: 'workflow_step_edit', user: { id: 'U1' } }],
  ])('%s is malformed', (_what, body) => {
    expect(classifyRequest(body)).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});

describe('the request guard in front of Bolt', () => {
  let database: Database;
  let lines: Array<Record<string, unknown>>;
  let delivered: unknown[];
  /** What listeners ran past their ack (each delivery's listener acks empty, then runs). */
  let ran: unknown[];
  let guard: ReturnType<typeof createRequestGuard>;
  let store: DeliveryStore;

  beforeEach(async () => {
    database = await openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'nasha-guard-')) });
    lines = [];
    delivered = [];
    ran = [];
    store = new DeliveryStore(database);
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    });
    guard = createRequestGuard({
      replays: new ReplayGuard({ ledger: store, clock: new ManualClock(), logger }),
      logger,
    });
  });
  afterEach(async () => {
    await database.close();
  });

  /** Sends one delivery through the guard; returns what it acknowledged with (undefined: an empty ack). */
  async function send(body: object): Promise<{ acked: boolean; response?: unknown }> {
    const answer: { acked: boolean; response?: unknown } = { acked: false };
    const event: ReceiverEvent = {
      body: body as ReceiverEvent['body'],
      ack: async (response?: unknown) => {
        Object.assign(answer, { acked: true, response });
      },
    };
    await guard(event, async (e) => {
      delivered.push(e.body);
      await e.ack();
      ran.push(e.body);
    });
    return answer;
  }

  const command = { command: '/nasha', text: 'snapshot create zpool-1/db', user_id: 'U0ADMIN', trigger_id: '9.9.z' };

  it('hands the first delivery to Bolt untouched and answers a copy itself', async () => {
    expect(await send(command)).toEqual({ acked: true, response: undefined }); // the listener's own ack
    expect(delivered).toEqual([command]);
    expect(ran).toEqual([command]);
    const copy = await send(command);
    expect(copy.acked).toBe(true);
    expect(copy.response).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/not run again/) });
    expect(delivered).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'slack request', outcome: 'duplicate', kind: 'command', userId: 'U0ADMIN' }),
    ]);
  });

  it('a copy of an interaction gets an empty ack', async () => {
    const click = {
      type: 'block_actions',
      user: { id: 'U0ADMIN' },
      actions: [{ action_id: 'x' }],
      trigger_id: '8.8.y',
    };
    await send(click);
    expect(await send(click)).toEqual({ acked: true, response: undefined });
    expect(delivered).toHaveLength(1);
  });

  it('reads that change nothing are handed on every time', async () => {
    const load = { type: 'block_suggestion', user: { id: 'U0ADMIN' }, action_id: 'service', value: 'zp' };
    await send(load);
    await send(load);
    expect(delivered).toEqual([load, load]);
  });

  it('refuses a malformed payload with one log line, before any record is made', async () => {
    await expect(send({ type: 'block_actions' })).rejects.toBeInstanceOf(MalformedRequestError);
    expect(lines).toEqual([expect.objectContaining({ msg: 'slack request', outcome: 'malformed', level: 40 })]);
    expect(await database.db.selectFrom('slack_deliveries').selectAll().execute()).toEqual([]);
    expect(delivered).toEqual([]);
  });

  it('records a command after its ack, before it runs: the ack waits for nothing but the answer', async () => {
    const event: ReceiverEvent = {
      body: command as ReceiverEvent['body'],
      ack: async () => {
        // The answer is out before the record exists.
        expect(await database.db.selectFrom('slack_deliveries').selectAll().execute()).toEqual([]);
      },
    };
    await guard(event, async (e) => {
      await e.ack();
      expect(await database.db.selectFrom('slack_deliveries').selectAll().execute()).toHaveLength(1);
      ran.push(e.body);
    });
    expect(ran).toEqual([command]);
  });

  it('a command another replica recorded: its ack goes out, then its listener is stopped before running', async () => {
    await store.record({ key: deliveryKey('command', '9.9.z', command), kind: 'command', at: 0, keepUntil: 1e15 });
    await expect(send(command)).rejects.toMatchObject({
      name: 'RequestNotRunError',
      outcome: 'duplicate',
      metric: { name: 'duplicate', result: 'ok' },
      notice: undefined, // the original's answer goes to the same response_url: nothing to add
    });
    expect(delivered).toEqual([command]);
    expect(ran).toEqual([]);
  });

  it('runs nothing when the ledger cannot be reached, and says so', async () => {
    await database.close();
    // A command: acked by its listener, then stopped, with what the sender must be told.
    const stopped = send(command);
    await expect(stopped).rejects.toBeInstanceOf(RequestNotRunError);
    await expect(stopped).rejects.toMatchObject({
      outcome: 'not run',
      metric: { name: 'unchecked', result: 'error' },
      notice: { text: expect.stringMatching(/nothing was done/) },
    });
    expect(ran).toEqual([]);
    // An interaction: answered by the guard, never handed on.
    const click = {
      type: 'block_actions',
      user: { id: 'U0ADMIN' },
      actions: [{ action_id: 'x' }],
      trigger_id: '7.7.x',
    };
    expect(await send(click)).toEqual({ acked: true, response: undefined });
    expect(delivered).toEqual([command]);
    expect(lines.map((l) => [l['outcome'], l['level']])).toEqual([['not run', 50]]);
  });

  describe('a command the edge answers first', () => {
    const WORKING = { response_type: 'ephemeral', text: 'Working on it…' };
    let answering: ReturnType<typeof createRequestGuard>;
    let asked: unknown[];

    beforeEach(() => {
      asked = [];
      const logger = createLogger({ level: 'silent' });
      answering = createRequestGuard({
        replays: new ReplayGuard({ ledger: store, clock: new ManualClock(), logger }),
        logger,
        answerFirst: async (body) => {
          asked.push(body);
          const name = (body as { command?: unknown }).command;
          return name === '/nasha' ? { ack: WORKING, context: { start: 'decided at the edge' } } : undefined;
        },
      });
    });

    /** One delivery; what Slack was answered, in order, and what the listener saw. */
    async function sendAnswered(body: object) {
      const acks: unknown[] = [];
      const seen: Array<{
        context: unknown;
        acksBefore: number;
        recordsBeforeAck: number;
        recordsAfterAck: number;
      }> = [];
      const records = async () => (await database.db.selectFrom('slack_deliveries').selectAll().execute()).length;
      const event: ReceiverEvent = {
        body: body as ReceiverEvent['body'],
        customProperties: { fromReceiver: true },
        ack: async (response?: unknown) => {
          acks.push(response);
        },
      };
      await answering(event, async (e) => {
        const acksBefore = acks.length;
        const recordsBeforeAck = await records();
        // The listener acks with the same answer: the edge sent it already, so nothing more goes to Slack.
        await e.ack(WORKING);
        seen.push({ context: e.customProperties, acksBefore, recordsBeforeAck, recordsAfterAck: await records() });
      });
      return { acks, seen };
    }

    it('answers before Bolt gets the delivery, hands on the decision, and records it at the listener’s ack', async () => {
      const { acks, seen } = await sendAnswered(command);
      expect(acks).toEqual([WORKING]);
      expect(seen).toEqual([
        {
          context: { fromReceiver: true, start: 'decided at the edge' },
          acksBefore: 1,
          recordsBeforeAck: 0,
          recordsAfterAck: 1,
        },
      ]);
    });

    it('a copy it has seen is answered "already received" without deciding anything', async () => {
      await sendAnswered(command);
      const copy = await sendAnswered(command);
      expect(copy.acks).toEqual([expect.objectContaining({ text: expect.stringMatching(/not run again/) })]);
      expect(copy.seen).toEqual([]);
      expect(asked).toHaveLength(1);
    });

    it('a copy another replica recorded: answered like the original, then its listener is stopped', async () => {
      await store.record({ key: deliveryKey('command', '9.9.z', command), kind: 'command', at: 0, keepUntil: 1e15 });
      await expect(sendAnswered(command)).rejects.toMatchObject({ name: 'RequestNotRunError', outcome: 'duplicate' });
    });

    it('a command it does not answer is acked by its listener, as before', async () => {
      const other = { ...command, command: '/other', trigger_id: '6.6.w' };
      const { acks, seen } = await sendAnswered(other);
      expect(acks).toEqual([WORKING]); // the listener's own
      expect(seen).toEqual([
        { context: { fromReceiver: true }, acksBefore: 0, recordsBeforeAck: 0, recordsAfterAck: 1 },
      ]);
      expect(asked).toEqual([other]);
    });
  });
});
