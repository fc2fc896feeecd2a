import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_ACTION } from '../../src/slack/blocks/approval-card.js';
import { QUICK_ACTION } from '../../src/slack/blocks/quick-summary.js';
import { PAGE_ACTION } from '../../src/slack/blocks/replies.js';
import {
  type BotHarness,
  CHANNELS,
  messageText,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick } from '../support/slack-payloads.js';
import { interactivityBody, newTriggerId, slackSignature, slashCommandBody } from '../support/slack-requests.js';

/**
 * Signed requests that are not what Slack sends (issue 13, item 4): each one is answered at once — 400 when it
 * is not a Slack request the bot can read, 200 and "this button is no longer valid" for a button it cannot use —
 * with one log line, and nothing is done.
 */
let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG });
  // The clicker's language is looked up for the answer: Slack knows them (a failed look-up logs a line of its own).
  h.slack.users.set(USERS.admin, { name: 'alice', locale: 'en-US', tz: 'Europe/London' });
});
afterAll(async () => {
  await h?.close();
});

/** Well under Bolt's 3-second timeout; the bot answers these in a few milliseconds. */
const PROMPTLY_MS = 1_000;
const INVALID_BUTTON = /button is no longer valid/i;

interface Answer {
  status: number | 'no answer';
  body: string;
  ms: number;
}

/** Posts `body` signed (or with a wrong signature); gives up after 4 s, where today's Bolt may never answer. */
async function post(body: string, options: { contentType?: string; signed?: boolean } = {}): Promise<Answer> {
  const timestamp = Math.floor(Date.now() / 1000);
  const started = performance.now();
  try {
    const res = await fetch(h.url, {
      method: 'POST',
      signal: AbortSignal.timeout(4_000),
      headers: {
        'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(options.signed === false ? 'wrong' : SIGNING_SECRET, timestamp, body),
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text, ms: performance.now() - started };
  } catch {
    return { status: 'no answer', body: '', ms: performance.now() - started };
  }
}

/** Log lines at info level or above written since `from` (Bolt's debug chatter aside). */
function linesSince(from: number): Array<Record<string, unknown>> {
  return h.logLines
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => Number(l['level']) >= 30);
}

const ovhWrites = () => h.sim.requests.filter((r) => r.method !== 'GET').length;

const payload = (value: unknown) => new URLSearchParams({ payload: JSON.stringify(value) }).toString();

describe('malformed signed requests (HTTP)', () => {
  const malformed: Array<[string, string, string?]> = [
    ['payload=null', 'payload=null'],
    ['a JSON body `null`', 'null', 'application/json'],
    ['payload=123', payload(123)],
    ['payload=[]', payload([])],
    ['payload={}', payload({})],
    ['a string payload', payload('block_actions')],
    ['a form without a payload or a command', 'text=hello&user_id=U0ADMIN'],
    ['a block action without actions or a user', payload({ type: 'block_actions' })],
    [
      'a block action without a user',
      payload({
        type: 'block_actions',
        team: { id: 'T1' },
        trigger_id: newTriggerId(),
        actions: [{ action_id: `${PAGE_ACTION}_next`, value: '{}' }],
        response_url: 'https://hooks.slack.com/actions/T1/1/no-user',
      }),
    ],
    [
      'a block action whose action has no id',
      payload({ type: 'block_actions', user: { id: USERS.admin }, team: { id: 'T1' }, actions: [{ value: 'x' }] }),
    ],
    [
      'a form submission without a user',
      payload({ type: 'view_submission', view: { callback_id: 'nasha_modal_main' } }),
    ],
    ['an options load without a field', payload({ type: 'block_suggestion', user: { id: USERS.admin }, value: 'zp' })],
    ['a legacy dialog options load', payload({ name: 'service', value: 'zp', user: { id: USERS.admin } })],
    ['an unknown payload type', payload({ type: 'workflow_step_edit', user: { id: USERS.admin } })],
  ];

  it.each(malformed)('%s: 400 at once, one log line, nothing done', async (_what, body, contentType) => {
    const before = { ovh: ovhWrites(), slack: h.slack.calls.length };
    const logged = h.logLines.length;
    const answer = await post(body, contentType === undefined ? {} : { contentType });
    expect(answer.status).toBe(400);
    expect(answer.ms).toBeLessThan(PROMPTLY_MS);
    const lines = linesSince(logged);
    expect(lines, JSON.stringify(lines)).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'slack request', outcome: 'malformed', level: 40 });
    expect(ovhWrites()).toBe(before.ovh);
    expect(h.slack.calls.length).toBe(before.slack);
  });

  it('payload=null with a wrong signature is refused as unsigned (401), not read', async () => {
    const answer = await post('payload=null', { signed: false });
    expect(answer.status).toBe(401);
  });

  it('a /nasha command with fields Slack never sends: told at once it was ignored, nothing done', async () => {
    const before = { ovh: ovhWrites(), slack: h.slack.calls.length };
    const logged = h.logLines.length;
    const body = slashCommandBody({ text: 'snapshot create zpool-128310/data', response_url: 'not a url' });
    const answer = await post(body);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(PROMPTLY_MS);
    expect(JSON.parse(answer.body)).toEqual({
      response_type: 'ephemeral',
      text: 'This request looked malformed and was ignored.',
    });
    await h.slack.waitFor(() => linesSince(logged).some((l) => l['msg'] === 'slack request'), 'the request line');
    expect(linesSince(logged)).toEqual([
      expect.objectContaining({ msg: 'malformed slash command payload', issues: ['response_url'], level: 40 }),
      expect.objectContaining({ msg: 'slack request', kind: 'command', level: 30 }),
    ]);
    expect(ovhWrites()).toBe(before.ovh);
    expect(h.slack.calls.length).toBe(before.slack);
  });

  it('the bot still serves afterwards', async () => {
    const logged = h.logLines.length;
    const { ack } = await h.command('help', { user: USERS.viewer });
    expect(ack.status).toBe(200);
    // Its line comes once the help is sent: wait for it, so the next test's lines are its own.
    await h.slack.waitFor(
      () => linesSince(logged).some((l) => l['msg'] === 'slack request' && l['command'] === 'help'),
      'the help request line',
    );
    expect(h.logLines.some((l) => /unhandled|not acknowledged/i.test(l))).toBe(false);
  });
});

describe('buttons the bot cannot use (stale or tampered values)', () => {
  const click = (actionId: string, value: string | undefined, id: string) => {
    const body = buttonClick({
      user: USERS.admin,
      channel: CHANNELS.ops,
      actionId,
      value: value ?? '',
      responseUrl: h.slack.responseUrl(id),
    }) as { actions: Array<Record<string, unknown>> };
    if (value === undefined) delete body.actions[0]?.['value'];
    return interactivityBody(body);
  };
  const page = `${PAGE_ACTION}_next`;
  const buttons: Array<[string, string, string | undefined]> = [
    ['a page button whose value is not JSON', page, 'not json'],
    ['a page button with a value of the wrong shape', page, '{"view":"list"}'],
    ['a page button with page 0', page, '{"view":"partitions","service":"zpool-128310","page":0}'],
    ['a page button without a value', page, undefined],
    [
      'a page button with an oversized value',
      page,
      JSON.stringify({ view: 'list', service: 'x'.repeat(3_000), page: 1 }),
    ],
    ['an Approve button that names no request', APPROVAL_ACTION.approve, '../x'],
    ['a Reject button without a value', APPROVAL_ACTION.reject, undefined],
    ['a Cancel button with a lowercase id', APPROVAL_ACTION.cancel, 'abcdef'],
    ['a Delete oldest button with half a value', QUICK_ACTION.deleteOldest, '{"s":"zpool-128310"}'],
    ['a button of an older version', 'nasha_retired_button', '{}'],
  ];

  it.each(buttons)(
    '%s: 200 at once, "no longer valid" to the clicker, one log line, nothing done',
    async (_what, actionId, value) => {
      const id = randomUUID();
      const before = ovhWrites();
      const logged = h.logLines.length;
      const answer = await post(click(actionId, value, id));
      expect([answer.status, answer.body]).toEqual([200, '']);
      expect(answer.ms).toBeLessThan(PROMPTLY_MS);
      await h.slack.waitFor(() => h.slack.replies(id).length > 0, 'the answer to the clicker');
      const reply = h.slack.replies(id)[0] ?? {};
      expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(messageText(reply)).toMatch(INVALID_BUTTON);
      // The request's log line is written once the listener is done (just after it answered the clicker).
      await h.slack.waitFor(() => linesSince(logged).some((l) => l['msg'] === 'slack request'), 'the log line');
      const lines = linesSince(logged);
      expect(lines, JSON.stringify(lines)).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: 'slack request', actionId, level: 40 });
      expect(ovhWrites()).toBe(before);
    },
  );
});
