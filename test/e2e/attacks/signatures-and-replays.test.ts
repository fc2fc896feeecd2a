import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../../src/compose.js';
import { createLogger } from '../../../src/shared/logger.js';
import { APPROVAL_ACTION } from '../../../src/slack/blocks/approval-card.js';
import { FIELD, MODAL } from '../../../src/slack/blocks/modals.js';
import { Arena, type Exchange, type SendOptions } from '../../support/attack-arena.js';
import { APPROVALS_CHANNEL, SIGNING_SECRET, USERS } from '../../support/bot-harness.js';
import {
  blockSuggestion,
  buttonClick,
  select,
  staticSelect,
  textInput,
  viewSubmission,
} from '../../support/slack-payloads.js';
import { interactivityBody, slackSignature } from '../../support/slack-requests.js';

/**
 * Attack classes: forged, stale and future signatures; replays of signed deliveries (slash command, button, form
 * submission), to one bot and across two bots on one store. Each attack is a row; the arena's checks at the end
 * cover every request of the file (no unauthorized OVH write, none unanswered, no ping, no name beyond grants).
 */
let arena: Arena;
/** A second bot on the same database: a replica behind the same load balancer. */
let replica: RunningBot;
let replicaUrl: string;

beforeAll(async () => {
  arena = await Arena.start();
  replica = await startBot(arena.h.env, {
    clock: arena.h.clock,
    logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    slackRetries: 0,
    outbox: { idlePollMs: Number.POSITIVE_INFINITY },
    approvalSweepMs: Number.POSITIVE_INFINITY,
  });
  replicaUrl = `http://127.0.0.1:${replica.port}/slack/events`;
});
afterAll(async () => {
  await replica?.stop();
  await arena?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const LOGS = 'zpool-128310/partition/logs/customSnapshot';

/** One signed delivery as captured: the same bytes, timestamp and signature each time. */
function capture(body: string): Pick<SendOptions, 'timestamp' | 'signature'> {
  const timestamp = nowSeconds();
  return { timestamp, signature: slackSignature(SIGNING_SECRET, timestamp, body) };
}

/** A request of each kind the bot serves, as an attacker would build it: a change where one is possible. */
function requestsOfEachKind() {
  const command = arena.commandBody('snapshot create zpool-128310/logs forged', { user: USERS.admin });
  const approve = buttonClick({
    user: USERS.approver,
    channel: APPROVALS_CHANNEL,
    actionId: APPROVAL_ACTION.approve,
    value: 'AAAAAA',
    responseUrl: arena.h.slack.responseUrl(randomUUID()),
  });
  const form = viewSubmission(USERS.admin, {
    id: `V-${randomUUID()}`,
    callback_id: MODAL.create,
    private_metadata: 'forged',
    state: { name: { name: textInput('forged') } },
  });
  const options = blockSuggestion(USERS.admin, FIELD.service, 'zpool', {
    callback_id: MODAL.main,
    private_metadata: '',
  });
  return [
    ['command', command.body, command],
    ['button', interactivityBody(approve), {}],
    ['form', interactivityBody(form), {}],
    ['option load', interactivityBody(options), {}],
  ] as const;
}

type Forgery = [string, (body: string) => Partial<SendOptions>];
const FORGERIES: Forgery[] = [
  ['signed with another secret', () => ({ secret: 'not-the-signing-secret' })],
  ['no signature header', () => ({ omit: ['x-slack-signature'] })],
  ['no timestamp header', () => ({ omit: ['x-slack-request-timestamp'] })],
  ['a signature that is not hex', () => ({ signature: 'v0=zz' })],
  ['an empty signature', () => ({ signature: '' })],
  ['a v1 signature', (body) => ({ signature: slackSignature(SIGNING_SECRET, nowSeconds(), body).replace('v0', 'v1') })],
  [
    'a signature of another timestamp',
    (body) => ({ timestamp: nowSeconds(), signature: slackSignature(SIGNING_SECRET, nowSeconds() - 60, body) }),
  ],
  ['a timestamp that is not a number', () => ({ timestamp: 'soon' })],
  ['a negative timestamp', () => ({ timestamp: -1 })],
  ['stale: signed 6 minutes ago', () => ({ timestamp: nowSeconds() - 6 * 60 })],
  ['stale: signed a day ago', () => ({ timestamp: nowSeconds() - 86_400 })],
  ['future: signed 6 minutes ahead', () => ({ timestamp: nowSeconds() + 6 * 60 })],
  ['future: signed a year ahead', () => ({ timestamp: nowSeconds() + 365 * 86_400 })],
];

describe('forged, stale and future signatures: 401, nothing done, nothing said', () => {
  const rows = FORGERIES.flatMap(([forgery, options]) =>
    ['command', 'button', 'form', 'option load'].map((kind) => ({ name: `${kind}: ${forgery}`, kind, options })),
  );

  it.each(rows)('$name', async ({ name, kind, options }) => {
    const [, body, extra] = requestsOfEachKind().find(([k]) => k === kind) ?? [];
    if (body === undefined) throw new Error(kind);
    const before = arena.calls.length;
    const exchange = await arena.send(name, body, { owed: 'unsigned', ...extra, ...options(body) });
    expect(exchange.status).toBe(401);
    await arena.settle(50);
    expect(arena.calls.slice(before).map((c) => c.method)).toEqual([]);
  });

  it('a body changed after signing (another user, another command) is refused', async () => {
    const { body } = arena.commandBody('snapshot services', { user: USERS.nobody });
    const signed = capture(body);
    for (const tampered of [
      body.replace(USERS.nobody, USERS.admin),
      body.replace('services', 'create+zpool-128310%2Flogs'),
      `${body}&extra=1`,
    ]) {
      await arena.send('a tampered body', tampered, { owed: 'unsigned', ...signed });
    }
  });

  it('control: the same command signed properly runs (the arena sees real writes)', async () => {
    const name = 'control: a signed create';
    arena.allow(name, 'POST', LOGS);
    const e = await arena.command(name, 'snapshot create zpool-128310/logs signed-properly');
    expect(e.status).toBe(200);
  });
});

describe('replays of a captured signed delivery: run once, each copy answered at once', () => {
  /** Sends `body` as captured, `times` times, to `url` (the first bot unless given), in sequence or all at once. */
  async function replay(
    name: string,
    body: string,
    signed: Pick<SendOptions, 'timestamp' | 'signature'>,
    { times = 3, together = false, url }: { times?: number; together?: boolean; url?: string } = {},
  ): Promise<Exchange[]> {
    const one = () => arena.send(name, body, { owed: 'duplicate', ...signed, ...(url !== undefined && { url }) });
    if (together) return Promise.all(Array.from({ length: times }, one));
    const out: Exchange[] = [];
    for (let i = 0; i < times; i++) out.push(await one());
    return out;
  }

  it('a slash command `create`, replayed 3 times in a row and 3 times at once: one snapshot', async () => {
    const name = 'replayed slash command';
    arena.allow(name, 'POST', LOGS);
    const command = arena.commandBody('snapshot create zpool-128310/logs replayed-command');
    const signed = capture(command.body);
    await arena.send(name, command.body, { owed: 'ephemeral', ...command, ...signed });
    await arena.waitFor(() => arena.replies(command).some((r) => /^Done/.test(String(r['text']))), 'the result');
    await replay(name, command.body, signed);
    await replay(name, command.body, signed, { together: true });
    await arena.settle();
    expect(arena.h.sim.state.listCustomSnapshots('zpool-128310', 'logs')).toContain('replayed-command');
  });

  it('the same trigger_id signed again with other text (a re-signed copy) is still a copy', async () => {
    const name = 'same trigger_id, new text';
    arena.allow(name, 'POST', LOGS);
    const first = arena.commandBody('snapshot create zpool-128310/logs trigger-once');
    await arena.send(name, first.body, { owed: 'ephemeral', ...first });
    const again = arena.commandBody('snapshot create zpool-128310/logs trigger-twice', { triggerId: first.triggerId });
    await arena.send(name, again.body, { owed: 'duplicate', ...again });
    await arena.settle();
    expect(arena.h.sim.state.listCustomSnapshots('zpool-128310', 'logs')).not.toContain('trigger-twice');
  });

  it('copies racing the original (a retrying proxy): exactly one runs', async () => {
    const name = 'copies racing the original';
    arena.allow(name, 'POST', LOGS);
    const command = arena.commandBody('snapshot create zpool-128310/logs raced-copies');
    const signed = capture(command.body);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => arena.send(name, command.body, { owed: 'duplicate', ...command, ...signed })),
    );
    const ran = answers.filter((a) => /Working on/.test(a.response));
    expect(ran).toHaveLength(1);
    // The one that ran is owed its result like any command.
    for (const a of ran) a.owed = 'ephemeral';
  });

  it('across two bots on one store: a copy sent to the other replica, in turn and at the same time, runs nothing', async () => {
    const name = 'replayed to another replica';
    arena.allow(name, 'POST', LOGS, { min: 2 }); // one snapshot per original: none for a copy
    const inTurn = arena.commandBody('snapshot create zpool-128310/logs replica-in-turn');
    const signed = capture(inTurn.body);
    await arena.send(name, inTurn.body, { owed: 'ephemeral', ...inTurn, ...signed });
    // The replica has not seen it: each copy is acked like the original, then stopped by the ledger.
    for (let i = 0; i < 2; i++) {
      await arena.send(name, inTurn.body, { owed: 'copy elsewhere', ...inTurn, ...signed, url: replicaUrl });
    }

    const together = arena.commandBody('snapshot create zpool-128310/logs replica-together');
    const signedTogether = capture(together.body);
    await Promise.all([
      arena.send(name, together.body, { owed: 'copy elsewhere', ...together, ...signedTogether }),
      arena.send(name, together.body, { owed: 'copy elsewhere', ...together, ...signedTogether, url: replicaUrl }),
    ]);
    const results = (command: { replyId: string }) =>
      arena.replies(command).filter((r) => /^(Done|Failed)/.test(String(r['text'])));
    await arena.waitFor(() => results(together).length > 0 && results(inTurn).length > 0, 'the results');
    await arena.settle();
    expect(results(together)).toHaveLength(1);
    expect(results(inTurn)).toHaveLength(1);
  });

  it('a Reject click replayed: no second reject form opens', async () => {
    const id = await arena.requestApproval(
      'snapshot delete zpool-128310/backups/snap-backups-week-01 --reason replay test',
      USERS.operator,
    );
    const click = arena.buttonPayload(USERS.approver, APPROVAL_ACTION.reject, id);
    const body = interactivityBody(click);
    const signed = capture(body);
    const first = await arena.interact('replayed reject click', click, { owed: 'reply', ...signed });
    await arena.waitFor(() => arena.viewsOpened(first).length === 1, 'the reject form');
    await replay('replayed reject click', body, signed);
    await replay('replayed reject click', body, signed, { url: replicaUrl, times: 1 });
    await arena.settle();
    expect(arena.viewsOpened(first)).toHaveLength(1);
  });

  it('an Approve click replayed, to this bot and the replica: the change runs once', async () => {
    const name = 'replayed approve click';
    arena.allow(name, 'DELETE', 'zpool-128310/partition/backups/customSnapshot/snap-backups-week-02');
    const id = await arena.requestApproval(
      'snapshot delete zpool-128310/backups/snap-backups-week-02 --reason replay test',
      USERS.operator,
    );
    const click = arena.buttonPayload(USERS.approver, APPROVAL_ACTION.approve, id);
    const body = interactivityBody(click);
    const signed = capture(body);
    const first = await arena.interact(name, click, { owed: 'reply', ...signed });
    await replay(name, body, signed, { together: true });
    await replay(name, body, signed, { url: replicaUrl, times: 2 });
    await arena.settle();
    // One answer to the clicker: the copies were not run (not even refused as "already decided").
    expect(arena.replies(first)).toHaveLength(1);
  });

  it('a form submission (create) replayed, to this bot and the replica: one snapshot', async () => {
    const name = 'replayed create form';
    arena.allow(name, 'POST', 'zpool-204117/partition/uploads/customSnapshot');
    const opened = await arena.command('setup: open the form', 'snapshot', { user: USERS.operator });
    const main = await arena.openedView(opened);
    const next = await arena.interact(
      'setup: choose create',
      viewSubmission(USERS.operator, {
        callback_id: MODAL.main,
        private_metadata: main.private_metadata,
        state: {
          service: { service: select('zpool-204117') },
          partition: { partition: select('uploads') },
          action: { action: staticSelect('create') },
        },
      }),
      { owed: 'form' },
    );
    const createForm = (JSON.parse(next.response) as { view: { private_metadata: string } }).view;
    const submission = viewSubmission(USERS.operator, {
      id: `V-${randomUUID()}`,
      callback_id: MODAL.create,
      private_metadata: createForm.private_metadata,
      state: { name: { name: textInput('replayed-form') }, expiration: { expiration: textInput('') } },
    });
    const body = interactivityBody(submission);
    const signed = capture(body);
    await arena.interact(name, submission, { owed: 'form', ...signed });
    await replay(name, body, signed, { together: true });
    await replay(name, body, signed, { url: replicaUrl, times: 2 });
    await arena.settle();
    expect(arena.h.sim.state.listCustomSnapshots('zpool-204117', 'uploads')).toContain('replayed-form');
  });

  it('a command re-sent by Slack (X-Slack-Retry-Num) is a copy too', async () => {
    const name = 'retried by Slack';
    arena.allow(name, 'POST', LOGS);
    const command = arena.commandBody('snapshot create zpool-128310/logs slack-retry');
    const signed = capture(command.body);
    await arena.send(name, command.body, { owed: 'ephemeral', ...command, ...signed });
    await arena.send(name, command.body, {
      owed: 'duplicate',
      ...command,
      ...signed,
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
  });
});

describe('after every attack of this file', () => {
  it('no unauthorized OVH write, none unanswered, no ping, no name beyond grants, within Block Kit limits', async () => {
    expect(await arena.violations()).toEqual([]);
    // Not vacuous: the controls did write, and each forgery was tried on every kind of request.
    expect(arena.allowances.length).toBeGreaterThan(5);
    expect(arena.exchanges.filter((e) => e.owed === 'unsigned').length).toBeGreaterThanOrEqual(FORGERIES.length * 4);
  });
});
