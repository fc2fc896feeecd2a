import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approvalCardKey, approvalOutcomeKey } from '../../src/slack/approval-cards.js';
import { NOTIFICATION_EVENT_TYPE } from '../../src/slack/notification-publisher.js';
import { openDatabase } from '../../src/store/database.js';
import { forEachBackend } from '../store/test-database.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  CHANNELS,
  messageText,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { type BotProcess, clickButton, sendCommand, spawnBot, useBotProcessWorld } from '../support/bot-process.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { buttonClick } from '../support/slack-payloads.js';

/**
 * Notifications the bot owes (the approval card's rewrite, the requester's DM) when Slack's Web API answers
 * chat.postMessage and chat.update with 500 and 429 while a request is decided: after Slack recovers they
 * arrive exactly once, the card's versions in order, across a restart of the bot and with two bot processes
 * on one store.
 */

/** Every chat.postMessage / chat.update Slack accepted, in order, with the notification key and version. */
function acceptedWrites(
  slack: FakeSlack,
): Array<{ method: string; channel: string; key: string; version: number; text: string }> {
  return accepted.get(slack) ?? [];
}
const accepted = new WeakMap<FakeSlack, ReturnType<typeof acceptedWrites>>();
function recordAccepted(slack: FakeSlack): void {
  const writes: ReturnType<typeof acceptedWrites> = [];
  accepted.set(slack, writes);
  slack.subscribe((call) => {
    if (call.method !== 'chat.postMessage' && call.method !== 'chat.update') return;
    if (call.answer['ok'] !== true) return;
    const meta = call.args['metadata'] as { event_type?: string; event_payload?: { key?: string; version?: number } };
    if (meta?.event_type !== NOTIFICATION_EVENT_TYPE) return;
    writes.push({
      method: call.method,
      channel: String(call.args['channel']),
      key: String(meta.event_payload?.key),
      version: Number(meta.event_payload?.version),
      text: messageText(call.args),
    });
  });
}

/** What a request's notifications became in Slack: one card, rewritten in order, and one DM. */
function expectDeliveredOnce(slack: FakeSlack, id: string, requester: string): void {
  const writes = acceptedWrites(slack);
  const card = writes.filter((w) => w.key === approvalCardKey(id));
  expect(card.filter((w) => w.method === 'chat.postMessage')).toHaveLength(1);
  expect(card[0]?.method).toBe('chat.postMessage');
  const versions = card.map((w) => w.version);
  expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b)); // strictly increasing: never older
  expect(card.at(-1)?.text).toMatch(/Approved → done/);
  expect(
    (slack.messages.get(APPROVALS_CHANNEL) ?? []).filter((m) => String(m.text).startsWith(`Approval #${id}`)),
  ).toHaveLength(1);
  const dm = writes.filter((w) => w.key === approvalOutcomeKey(id));
  expect(dm).toEqual([expect.objectContaining({ method: 'chat.postMessage', channel: requester, version: 1 })]);
  expect(dm[0]?.text).toContain(`Your request #${id}`);
  expect(dm[0]?.text).toMatch(/Approved → done/);
  const shown = (slack.messages.get(`D${requester}`) ?? []).filter(
    (m) => (m.metadata as { event_payload?: { key?: string } }).event_payload?.key === approvalOutcomeKey(id),
  );
  expect(shown).toHaveLength(1);
}

const pendingId = (replies: Array<Record<string, unknown>>): string | undefined =>
  /^Pending approval #([A-Z0-9]{6})/.exec(
    String(replies.find((r) => String(r['text']).startsWith('Pending approval #'))?.['text'] ?? ''),
  )?.[1];

describe('notifications of one bot: Slack down, a restart in between, a channel that refuses the bot', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('the card rewrite and the requester’s DM of a decision made during the outage arrive once, in order', async () => {
    // Virtual time moves only when the test says. Retries start at 10–20 s, so a shutdown's 5 s flush does not
    // wait on them.
    const overrides = {
      outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0, retryBaseMs: 20_000 },
    };
    h = await startBotHarness({ config: TEST_CONFIG, autoAdvance: false, overrides });
    const harness = h;
    recordAccepted(harness.slack);
    const { id: replyId } = await harness.command(
      'snapshot delete zpool-204117/db/snap-db-keep --reason "before the migration"',
      { user: USERS.operator },
    );
    await harness.slack.waitFor(() => pendingId(harness.slack.replies(replyId)) !== undefined, 'the pending reply');
    const id = pendingId(harness.slack.replies(replyId)) ?? '';
    await harness.slack.waitFor(
      () => acceptedWrites(harness.slack).some((w) => w.key === approvalCardKey(id)),
      'the card',
    );

    const outage = harness.slack.outage({ retryAfterSeconds: 7 });
    const answerId = randomUUID();
    await harness.interact(
      buttonClick({
        user: USERS.approver,
        channel: APPROVALS_CHANNEL,
        actionId: 'nasha_approval_approve',
        value: id,
        responseUrl: harness.slack.responseUrl(answerId),
      }),
    );
    await harness.slack.waitFor(() => harness.slack.replies(answerId).length > 0, 'the answer to the click');
    expect(messageText(harness.slack.replies(answerId)[0] ?? {})).toContain('running it now');
    // OVH's task ends in virtual time: the request succeeds while Slack keeps failing.
    for (let i = 0; i < 60 && (await harness.bot.approvals.get(id))?.state !== 'succeeded'; i++) {
      harness.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await harness.bot.approvals.get(id))?.state).toBe('succeeded');
    await harness.slack.waitFor(() => outage.failures() >= 2, 'Slack refusing the rewrite and the DM');
    expect(acceptedWrites(harness.slack).filter((w) => w.key === approvalOutcomeKey(id))).toEqual([]);
    // The card's rewrite and the DM, owed, and the vote and the end in the card's thread.
    expect(await harness.bot.notifications.depth()).toBe(4);
    harness.clock.advance(5_000);
    const metrics = await harness.bot.metrics.text();
    expect(metrics).toMatch(/^nasha_notification_outbox_depth 4$/m);
    expect(metrics).toMatch(/^nasha_notification_outbox_oldest_seconds [1-9]\d*/m);
    expect(metrics).toMatch(/^nasha_notification_dead_letters 0$/m);

    // A restart while they are owed: the next process has them from the table.
    await harness.restart(overrides);
    expect(await harness.bot.notifications.depth()).toBe(4);
    outage.end();
    for (let i = 0; i < 40 && (await harness.bot.notifications.depth()) > 0; i++) {
      harness.clock.advance(10_000);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await harness.slack.waitFor(
      () => acceptedWrites(harness.slack).some((w) => w.key === approvalOutcomeKey(id)),
      'the DM after recovery',
    );
    expectDeliveredOnce(harness.slack, id, USERS.operator);
    expect(outage.failures()).toBeGreaterThanOrEqual(2);
    expect(harness.logLines.some((line) => line.includes('notification not delivered yet, will retry'))).toBe(true);
  });

  it('a quick-run summary in a channel the bot is not in goes to the requester’s DM, is rewritten there to the end, and the reply says where it is', async () => {
    h = await startBotHarness({ config: TEST_CONFIG });
    const harness = h;
    recordAccepted(harness.slack);
    const post = harness.slack.handlerOf('chat.postMessage');
    harness.slack.on('chat.postMessage', (args) =>
      args['channel'] === CHANNELS.incident ? { body: { ok: false, error: 'not_in_channel' } } : post(args),
    );
    const { id } = await harness.command('snapshot quick zpool-128310/logs inc-dm', {
      user: USERS.operator,
      channel: CHANNELS.incident,
    });
    const replies = await harness.replies(id, (texts) => texts.length > 0);
    expect(replies.at(-1)).toBe('Quick snapshots: the summary is in your DM.');
    const summary = () => acceptedWrites(harness.slack).filter((w) => w.key.startsWith('quick:'));
    await harness.slack.waitFor(() => /1\/1 done/.test(summary().at(-1)?.text ?? ''), 'the final summary');
    expect(summary()[0]).toMatchObject({ method: 'chat.postMessage', channel: USERS.operator });
    // Edited where Slack put it (the DM conversation), never posted again.
    expect(
      summary()
        .slice(1)
        .every((w) => w.method === 'chat.update' && w.channel === `D${USERS.operator}`),
    ).toBe(true);
    expect(harness.slack.messages.get(`D${USERS.operator}`)).toHaveLength(1);
    expect(harness.logLines.some((line) => line.includes('cannot post in the channel; using its fallback'))).toBe(true);
  });
});

describe('notifications while Slack is down, with two bot processes on one store', () => {
  const world = useBotProcessWorld(TEST_CONFIG, {
    sim: { taskTimings: { doingAfterMs: 50, doneAfterMs: 300 } },
    groups: { S0SRE: [USERS.operator] },
    prefix: 'nasha-notify-replicas-',
  });
  beforeAll(() => recordAccepted(world.slack));

  forEachBackend((backend) => {
    it('a decision on one replica during the outage: each notification arrives once after recovery', async () => {
      const { slack, sim } = world;
      const store = await backend.open();
      const env = world.env(
        'databaseUrl' in store ? { DATABASE_URL: store.databaseUrl } : { NASHA_DATA_DIR: store.dataDir },
      );
      const replicas: BotProcess[] = await Promise.all([spawnBot(env), spawnBot(env)]);
      const database = await openDatabase(store);
      try {
        const urls = replicas.map((r) => `http://127.0.0.1:${r.port}/slack/events`);
        const partition = backend.name === 'sqlite' ? 'vol-001' : 'vol-002';
        const name = `snap-${partition}-baseline`;
        const replyId = randomUUID();
        await sendCommand(urls[0] ?? '', {
          text: `snapshot delete zpool-310442/${partition}/${name} --reason "replicas, Slack down"`,
          user_id: USERS.operator,
          response_url: slack.responseUrl(replyId),
        });
        await slack.waitFor(() => pendingId(slack.replies(replyId)) !== undefined, 'the pending reply', 20_000);
        const id = pendingId(slack.replies(replyId)) ?? '';
        await slack.waitFor(() => acceptedWrites(slack).some((w) => w.key === approvalCardKey(id)), 'the card', 20_000);

        const outage = slack.outage({ retryAfterSeconds: 1 });
        // Clicks on both replicas (Slack sends duplicates): one decision.
        await Promise.all(
          urls.map((url) =>
            clickButton(url, {
              user: USERS.approver,
              channel: APPROVALS_CHANNEL,
              actionId: 'nasha_approval_approve',
              value: id,
              responseUrl: slack.responseUrl(randomUUID()),
            }),
          ),
        );
        const owed = async () =>
          (
            await database.db
              .selectFrom('notifications')
              .select(['id', 'attempts', 'delivered_version', 'version'])
              .execute()
          ).filter((row) => row.id.startsWith(`approval:${id}:`));
        // The DM is owed and Slack has refused it at least once.
        for (let i = 0; i < 200; i++) {
          const dm = (await owed()).find((row) => row.id === approvalOutcomeKey(id));
          if (dm !== undefined && dm.attempts > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect((await owed()).find((row) => row.id === approvalOutcomeKey(id))?.attempts).toBeGreaterThan(0);
        expect(acceptedWrites(slack).filter((w) => w.key === approvalOutcomeKey(id))).toEqual([]);
        outage.end();
        await slack.waitFor(
          () => {
            const writes = acceptedWrites(slack);
            return (
              writes.some((w) => w.key === approvalOutcomeKey(id)) &&
              writes.some((w) => w.key === `approval:${id}:thread:end`) &&
              /Approved → done/.test(writes.filter((w) => w.key === approvalCardKey(id)).at(-1)?.text ?? '')
            );
          },
          "the DM, the final card and the end in the card's thread after recovery",
          40_000,
        );
        // Both replicas' outboxes have looked again meanwhile: still exactly once.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expectDeliveredOnce(slack, id, USERS.operator);
        expect((await owed()).length).toBeGreaterThan(0);
        expect((await owed()).every((row) => row.delivered_version === row.version)).toBe(true);
        expect(sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/${name}`))).toHaveLength(1);
      } finally {
        await database.close();
        await Promise.all(replicas.map((r) => r.stop()));
      }
    }, 90_000);
  });
});
