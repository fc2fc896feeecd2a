import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditOutbox, AuditTrail } from '../../src/core/audit.js';
import { systemClock } from '../../src/shared/clock.js';
import { AUDIT_EVENT_TYPE, createSlackAuditPublisher } from '../../src/slack/audit-publisher.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { openDatabase } from '../../src/store/database.js';
import {
  AUDIT_CHANNEL,
  type BotHarness,
  CHANNELS,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import { FakeSlack } from '../support/fake-slack.js';

let h: BotHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
const auditPosts = (harness: BotHarness) =>
  harness.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === AUDIT_CHANNEL);

describe('audit delivery under Slack faults: what the channel shows is one message per record, in order', () => {
  it('a post whose answer is lost is found in the channel and edited, never posted twice', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    const harness = h;
    const post = harness.slack.handlerOf('chat.postMessage');
    harness.slack.on('chat.postMessage', (args) => {
      const answer = post(args);
      // Slack posts it, but the connection drops before the answer: the bot cannot know it was posted.
      return args['channel'] === AUDIT_CHANNEL && auditPosts(harness).length === 0 ? { ...answer, drop: true } : answer;
    });
    const { id } = await harness.command('snapshot create zpool-128310/logs answer-lost', { user: USERS.admin });
    expect((await harness.replies(id, final)).at(-1)).toMatch(/^Done/);
    const shown = () => harness.slack.messages.get(AUDIT_CHANNEL) ?? [];
    await harness.slack.waitFor(() => /Succeeded/.test(JSON.stringify(shown())), 'the audit message to show the end');

    expect(shown()).toHaveLength(1);
    expect(auditPosts(harness)).toHaveLength(1);
    const message = shown()[0];
    expect(message?.metadata).toMatchObject({ event_type: AUDIT_EVENT_TYPE });
    expect(harness.slack.callsTo('conversations.history')).toHaveLength(1);
    const edits = harness.slack.callsTo('chat.update').filter((c) => c.args['channel'] === AUDIT_CHANNEL);
    expect(edits.length).toBeGreaterThan(0);
    for (const edit of edits) expect(edit.args['ts']).toBe(message?.ts);
  });

  it('after a restart the channel gets the records in creation order, the oldest (in back-off) first', async () => {
    // Virtual time moves only when the test says: the oldest record is still in its retry delay at the restart.
    const overrides = { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } };
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS, autoAdvance: false, overrides });
    const harness = h;
    const post = harness.slack.handlerOf('chat.postMessage');
    // Slack rate-limits the audit channel for 10 minutes.
    harness.slack.on('chat.postMessage', (args) =>
      args['channel'] === AUDIT_CHANNEL
        ? { status: 429, headers: { 'retry-after': '600' }, body: { ok: false, error: 'ratelimited' } }
        : post(args),
    );
    for (let i = 0; i < 4; i++) {
      await harness.command(`snapshot create zpool-128310/logs order-${i}`, { user: USERS.admin });
      await harness.slack.waitFor(() => auditPosts(harness).length === 1, 'the first audit post');
      await vi.waitFor(async () => expect(await harness.bot.outbox.depth()).toBe(i + 1));
    }
    // Only the oldest was tried; it waits out the Retry-After, the newer ones behind it.
    expect(JSON.stringify(auditPosts(harness)[0]?.args)).toContain('order-0');
    await harness.restart(overrides);
    harness.slack.on('chat.postMessage', post);
    const shown = () => (harness.slack.messages.get(AUDIT_CHANNEL) ?? []).map((m) => JSON.stringify(m));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(shown()).toEqual([]); // the new process knows the oldest's retry time from the table
    harness.clock.advance(600_000);
    await harness.slack.waitFor(() => shown().length === 4, 'the four audit messages');
    expect(shown().map((text) => /order-\d/.exec(text)?.[0])).toEqual(['order-0', 'order-1', 'order-2', 'order-3']);
  });
});

describe('audit delivery through the real Slack publisher and WebClient, with a slow Slack', () => {
  it('a post answered after the call timeout is found, not posted again: one message per record', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const post = slack.handlerOf('chat.postMessage');
    let posts = 0;
    // Every other post is answered only after 700 ms, well past the 300 ms timeout (Slack still posts it).
    slack.on('chat.postMessage', (args) => ({ ...post(args), delay: ++posts % 2 === 1 ? 700 : 0 }));
    const client = new webApi.WebClient('xoxb-test-token', {
      slackApiUrl: slack.apiUrl,
      timeout: 300,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
    const dir = await mkdtemp(join(tmpdir(), 'nasha-audit-slow-'));
    const database = await openDatabase({ dataDir: dir });
    cleanups.push(async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    });
    const repo = new AuditStore(database.db);
    const outbox = new AuditOutbox({
      repo,
      publisher: createSlackAuditPublisher(client, { callTimeoutMs: 300 }),
      clock: systemClock,
      retryBaseMs: 100,
      minIntervalPerChannelMs: 50,
      idlePollMs: Number.POSITIVE_INFINITY,
    });
    cleanups.push(() => outbox.stop());
    const trail = new AuditTrail({ repo, clock: systemClock, auditChannel: AUDIT_CHANNEL, outbox });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const record = await trail.record({
        actor: { userId: USERS.admin, channelId: CHANNELS.ops },
        action: 'snapshot.create',
        target: { service: 'zpool-128310', partition: 'logs' },
        subject: `slow-${i}`,
        outcome: 'started',
      });
      ids.push(record.id);
    }
    expect(await outbox.flush(15_000)).toBe(true);

    const messages = slack.messages.get(AUDIT_CHANNEL) ?? [];
    const perRecord = ids.map(
      (id) =>
        messages.filter((m) => (m.metadata as { event_payload?: { audit_id?: string } }).event_payload?.audit_id === id)
          .length,
    );
    expect(perRecord).toEqual([1, 1, 1, 1]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(4);
    expect(slack.callsTo('conversations.history').length).toBeGreaterThanOrEqual(2);
    // In order, and each record's ts is the one Slack gave its message.
    expect(messages.map((m) => (m.metadata as { event_payload: { audit_id: string } }).event_payload.audit_id)).toEqual(
      ids,
    );
    for (const [i, id] of ids.entries()) expect((await repo.get(id))?.slackTs).toBe(messages[i]?.ts);
  });
});
