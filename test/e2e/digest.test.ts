import { afterEach, expect, it } from 'vitest';
import { forEachBackend } from '../store/test-database.js';
import { requestApproval } from '../support/approval-requests.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  type BotHarnessOptions,
  messageText,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';

/** The daily digest (issue 17.4) through the real composition root, the notification outbox and the local Web API. */

const DIGEST_CHANNEL = 'C0DIGEST';

/** 09:30 in Paris (08:30 UTC in winter); requests wait a week, so none expires before the next digest. */
const DIGEST_CONFIG = `${TEST_CONFIG.replace(
  `  channel: ${APPROVALS_CHANNEL}\n`,
  `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    snapshot.delete: { ttl: 7d }\n`,
)}digest:
  channel: ${DIGEST_CHANNEL}
  time: "09:30"
  timezone: Europe/Paris
`;

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

async function start(options: BotHarnessOptions = {}): Promise<BotHarness> {
  h = await startBotHarness({
    config: DIGEST_CONFIG,
    autoAdvance: false,
    ...options,
    overrides: { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 }, ...options.overrides },
  });
  return h;
}

const digests = () => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === DIGEST_CHANNEL);

/** Lets the bot's pending work (outbox passes, sweeps) run without moving the clock. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

const requestChange = (text: string, user: string) => requestApproval(h, text, user);

it('says nothing when there is nothing to say, then once a day at the configured local time, once across a restart', async () => {
  // 09:00 UTC = 10:00 in Paris: today's 09:30 is past, so it ran at startup, with nothing to say.
  await start();
  await settle();
  expect(digests()).toHaveLength(0);

  // Something to say tomorrow: a change made today, and a request still open.
  const { id } = await h.command('snapshot create zpool-204117/db digest-today', { user: USERS.admin });
  for (let i = 0; i < 30 && !h.slack.replies(id).some((r) => /^Done: create snapshot/.test(messageText(r))); i++) {
    h.clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(h.slack.replies(id).some((r) => /^Done: create snapshot/.test(messageText(r)))).toBe(true);
  const request = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason digest', USERS.operator);

  // Tomorrow 08:29 UTC: not yet.
  h.clock.advance(Date.UTC(2026, 10, 29, 8, 29) - h.clock.now());
  await settle();
  expect(digests()).toHaveLength(0);
  h.clock.advance(60_000);
  await h.slack.waitFor(() => digests().length === 1, 'the digest');
  const digest = messageText(digests()[0]?.args ?? {});
  expect(digest).toContain('Daily digest — 2026-11-29');
  expect(digest).toContain(`#${request}`);
  expect(digest).toContain('Open approval requests* (1)');
  expect(digest).toContain('snapshots taken: 1');
  expect(digest).toContain('<#C0AUDIT>');

  // A restart the same day: the digest is not sent again.
  await h.restart({ outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } });
  await settle();
  h.clock.advance(1_000);
  await settle();
  expect(digests()).toHaveLength(1);
  expect(h.slack.callsTo('chat.update').filter((c) => c.args['channel'] === DIGEST_CHANNEL)).toHaveLength(0);
});

forEachBackend((backend) => {
  it('two replicas sharing one store send one digest', async () => {
    const store = await backend.open();
    await start({
      env: 'databaseUrl' in store ? { databaseUrl: store.databaseUrl } : { dataDir: store.dataDir },
      overrides: { digestLoop: false },
    });
    // A second replica with the same settings (its digest loop off too: both are run by hand below).
    const extra = await h.replica();
    const request = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason two', USERS.operator);
    const now = h.clock.now();
    const [a, b] = await Promise.all([h.bot.digest?.runFor(now), extra.digest?.runFor(now)]);
    expect([a, b]).toEqual([true, true]);
    await h.slack.waitFor(() => digests().length === 1, 'the digest');
    await settle();
    h.clock.advance(1_000);
    await settle();
    expect(digests()).toHaveLength(1);
    // Not rewritten by the second replica either: its write of the day's key changed nothing.
    expect(h.slack.callsTo('chat.update').filter((c) => c.args['channel'] === DIGEST_CHANNEL)).toHaveLength(0);
    expect(messageText(digests()[0]?.args ?? {})).toContain(`#${request}`);
  });
});
