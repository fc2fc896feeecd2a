import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../src/compose.js';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { PAGE_ACTION } from '../../src/slack/blocks/replies.js';
import { CHANNELS, messageText, TEST_CONFIG, testEnv, USERS } from '../support/bot-harness.js';
import { FakeSlack } from '../support/fake-slack.js';
import { buttonClick } from '../support/slack-payloads.js';
import { slashCommandPayload } from '../support/slack-requests.js';
import { type SocketLink, startSocketLink } from '../support/socket-link.js';

/**
 * Socket Mode gets the same guarantees as HTTP (issue 13, items 3 and 4): a delivery Slack sends again (in a new
 * envelope) runs once, and every envelope is acknowledged at once, however malformed its payload.
 */
let slack: FakeSlack;
let sim: Simulator;
let link: SocketLink;
let bot: RunningBot;
const logLines: string[] = [];

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  link = await startSocketLink(slack);
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9), { autoAdvance: true });
  sim = await startSimulator({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'nasha-socket-requests-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  const env = testEnv({ slack, sim, dir, appToken: 'xapp-1-test-app-token' });
  bot = await startBot(env, {
    clock,
    logger: createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, callback) {
          logLines.push(String(chunk));
          callback();
        },
      }),
    }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    slackRetries: 0,
    outbox: { idlePollMs: Number.POSITIVE_INFINITY },
    approvalSweepMs: Number.POSITIVE_INFINITY,
  });
  await slack.waitFor(() => link.latest() !== undefined, 'the bot to open the WebSocket');
});

afterAll(async () => {
  await bot?.stop();
  await link?.close();
  await sim?.close();
  await slack?.stop();
});

/** Sends one envelope; resolves with its acknowledgement, or 'no ack' if none comes within Slack's 3 s. */
async function deliver(
  type: string,
  payload: unknown,
  extra: Record<string, unknown> = {},
): Promise<{ payload?: Record<string, unknown>; ms: number } | 'no ack'> {
  const envelopeId = randomUUID();
  const sent = performance.now();
  link
    .latest()
    ?.send(JSON.stringify({ envelope_id: envelopeId, type, accepts_response_payload: true, payload, ...extra }));
  try {
    await slack.waitFor(() => link.ackOf(envelopeId) !== undefined, `the ack of ${envelopeId}`, 3_000);
  } catch {
    return 'no ack';
  }
  const ack = link.ackOf(envelopeId);
  const answer = ack?.message['payload'] as Record<string, unknown> | undefined;
  return { ...(answer !== undefined && { payload: answer }), ms: (ack?.at ?? sent) - sent };
}

/** The request lines of a command (each written once its listener is done). */
const requestLines = (text: string) =>
  logLines.filter((l) => l.includes('"msg":"slack request"') && l.includes(`"command":"${text}"`)).length;

/** Waits until a command ran to the end: its result replied, its request line written (later tests count theirs). */
async function finished(id: string, text: string, lines: number): Promise<void> {
  await slack.waitFor(() => slack.replies(id).some((r) => /^(Done|Failed)/.test(String(r['text']))), 'the result');
  await slack.waitFor(() => requestLines(text) >= lines, 'the request log line');
}

const snapshotPosts = (partition: string) =>
  sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${partition}/customSnapshot`)).length;

const command = (text: string, replyId: string) =>
  slashCommandPayload({
    channel_id: CHANNELS.ops,
    user_id: USERS.admin,
    text,
    response_url: slack.responseUrl(replyId),
  });

describe('Socket Mode: deliveries sent again', () => {
  it('a slash command delivered again in a new envelope runs once; the copy is acknowledged as already received', async () => {
    const id = randomUUID();
    const payload = command('snapshot create zpool-128310/logs', id);
    const before = snapshotPosts('logs');
    const first = await deliver('slash_commands', payload);
    expect(JSON.stringify(first)).toContain('Working on');
    await finished(id, 'snapshot create zpool-128310/logs', 1);
    const again = await deliver('slash_commands', payload, { retry_attempt: 1, retry_reason: 'timeout' });
    expect(again).not.toBe('no ack');
    expect(String((again as { payload?: { text?: unknown } }).payload?.text)).toMatch(
      /already received.*not run again/i,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(snapshotPosts('logs') - before).toBe(1);
    expect(logLines.filter((l) => l.includes('"outcome":"duplicate"'))).toHaveLength(1);
  });

  it('two commands with their own trigger_ids both run', async () => {
    const before = snapshotPosts('media');
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) {
      expect(
        JSON.stringify(await deliver('slash_commands', command('snapshot create zpool-204117/media', id))),
      ).toContain('Working on');
    }
    for (const id of ids) await finished(id, 'snapshot create zpool-204117/media', 2);
    expect(snapshotPosts('media') - before).toBe(2);
  });
});

describe('Socket Mode: malformed payloads are acknowledged at once', () => {
  const malformed: Array<[string, string, unknown]> = [
    ['a null payload', 'interactive', null],
    ['a number', 'interactive', 123],
    ['an array', 'interactive', []],
    ['an empty object', 'interactive', {}],
    ['a block action without a user', 'interactive', { type: 'block_actions', actions: [{ action_id: 'x' }] }],
    ['a form submission without a user', 'interactive', { type: 'view_submission', view: { callback_id: 'x' } }],
    ['a command without a user', 'slash_commands', { command: '/nasha', text: 'help' }],
  ];

  it.each(malformed)('%s: acknowledged, one log line, nothing done', async (_what, type, payload) => {
    const logged = logLines.length;
    const ack = await deliver(type, payload);
    expect(ack).not.toBe('no ack');
    expect((ack as { ms: number }).ms).toBeLessThan(1_000);
    const lines = logLines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'slack request', outcome: 'malformed' });
  });

  it('a button with a tampered value: acknowledged, and the clicker is told it is no longer valid', async () => {
    const id = randomUUID();
    const ack = await deliver(
      'interactive',
      buttonClick({
        user: USERS.viewer,
        channel: CHANNELS.ops,
        actionId: `${PAGE_ACTION}_next`,
        value: 'not json',
        responseUrl: slack.responseUrl(id),
      }),
    );
    expect(ack).not.toBe('no ack');
    await slack.waitFor(() => slack.replies(id).length > 0, 'the answer to the clicker');
    expect(messageText(slack.replies(id)[0] ?? {})).toMatch(/button is no longer valid/i);
  });
});
