import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_CHANNEL,
  type BotHarness,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
const auditTexts = () => h.auditMessages().map((m) => `${m.method} ${JSON.stringify(m.args)}`);

describe('audit: a message in the audit channel after every change, durable', () => {
  it('posts when a change starts and rewrites the same message when the OVH task ends', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    const { id } = await h.command('snapshot schedule add zpool-128310/logs day-2', { user: USERS.admin });
    await h.replies(id, final);
    await h.slack.waitFor(() => auditTexts().some((t) => /Succeeded/.test(t)), 'the final audit update');
    const posts = h.auditMessages().filter((m) => m.method === 'chat.postMessage');
    expect(posts).toHaveLength(1);
    const updates = h.auditMessages().filter((m) => m.method === 'chat.update');
    const ts = h.slack.callsTo('chat.postMessage').find((c) => c.args['channel'] === AUDIT_CHANNEL);
    expect(updates.length).toBeGreaterThan(0);
    const last = updates.at(-1);
    expect(last?.args['ts']).toBeDefined();
    const rendered = JSON.stringify(last?.args);
    expect(rendered).toContain('<@U0ADMIN>');
    expect(rendered).toContain('zpool-128310/logs');
    expect(rendered).toContain('day-2');
    expect(rendered).toMatch(/OVH task\D+4\d{6}/);
    expect(ts).toBeDefined();
  });

  it('loses nothing during a Slack outage: retries until Slack is back, honouring Retry-After', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    let failures = 0;
    let successes = 0;
    const delivered: string[] = [];
    let outage = true;
    const rateLimitedAt: number[] = [];
    const attemptsAt: number[] = [];
    h.slack.on('chat.postMessage', (args) => {
      attemptsAt.push(h.clock.now());
      if (outage) {
        failures++;
        if (failures === 1) {
          rateLimitedAt.push(h.clock.now());
          return { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } };
        }
        return { status: 503, body: { ok: false, error: 'service_unavailable' } };
      }
      successes++;
      delivered.push(JSON.stringify(args));
      return { body: { ok: true, channel: args['channel'], ts: '1800000000.000100' } };
    });
    const { id } = await h.command('snapshot create zpool-128310/logs during-outage');
    expect((await h.replies(id, final)).at(-1)).toMatch(/^Done/); // the change itself does not wait for Slack
    await h.slack.waitFor(() => failures >= 3, 'several failed deliveries');
    outage = false;
    // Posted once Slack is back, showing the end (in the post itself, or in an edit of it right after).
    await h.slack.waitFor(
      () =>
        delivered.some((t) => /during-outage/.test(t)) &&
        [
          ...delivered,
          ...h
            .auditMessages()
            .filter((m) => m.method === 'chat.update')
            .map((m) => JSON.stringify(m.args)),
        ].some((t) => /Succeeded/.test(t)),
      'delivery after the outage',
    );
    // Retry-After: 30 s was waited (in the bot's clock) before the next try.
    const [first = 0, second = 0] = attemptsAt;
    expect(first).toBe(rateLimitedAt[0]);
    expect(second - first).toBeGreaterThanOrEqual(30_000);
    // Exactly one message was posted for the record (later versions edit it): no duplicates.
    expect(successes).toBe(1);
  });

  it('survives a restart: undelivered records go out from the next process', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    h.slack.on('chat.postMessage', () => ({ status: 500, body: { ok: false, error: 'internal_error' } }));
    const { id } = await h.command('snapshot create zpool-128310/logs before-restart');
    await h.replies(id, final);
    await h.slack.waitFor(() => h.slack.callsTo('chat.postMessage').length >= 1, 'a failed attempt');
    h.slack.on('chat.postMessage', (args) => ({
      body: { ok: true, channel: args['channel'], ts: '1800000000.000200' },
    }));
    await h.restart();
    await h.slack.waitFor(
      () => auditTexts().some((t) => /before-restart/.test(t) && /Succeeded/.test(t)),
      'delivery by the new process',
    );
  });

  it('resumes following an OVH task after a restart and reports its result', async () => {
    h = await startBotHarness({
      sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 120_000 } },
      overrides: { tracker: { initialIntervalMs: 60_000, maxIntervalMs: 60_000 } },
    });
    const { id } = await h.command('snapshot create zpool-128310/logs in-flight');
    await h.replies(id, (t) => t.some((x) => x.startsWith('Submitted')));
    await h.restart({ tracker: { initialIntervalMs: 1_000, maxIntervalMs: 10_000 } });
    const texts = await h.replies(id, final);
    expect(texts.at(-1)).toBe('Done: create snapshot `in-flight` on `zpool-128310/logs`');
    await h.slack.waitFor(
      () => auditTexts().some((t) => /in-flight/.test(t) && /Succeeded/.test(t)),
      'the audit update after resume',
    );
  });

  it('audits denied and failed changes too', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    const denied = await h.command('snapshot delete zpool-128310/data/snap-data-pre-upgrade', { user: USERS.viewer });
    await h.replies(denied.id, (t) => t.length > 0);
    const failed = await h.command('snapshot create zpool-128310/backups full-partition');
    await h.replies(failed.id, (t) => t.length > 0);
    await h.slack.waitFor(
      () => auditTexts().some((t) => /Denied/i.test(t)) && auditTexts().some((t) => /Failed/i.test(t)),
      'denied and failed audit messages',
    );
    expect(auditTexts().join('\n')).toMatch(/10\/10 custom snapshots/);
  });
});
