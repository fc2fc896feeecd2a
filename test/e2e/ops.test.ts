import { afterEach, describe, expect, it } from 'vitest';
import { type BotHarness, startBotHarness, TEST_CONFIG_NO_APPROVALS, USERS } from '../support/bot-harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const base = () => `http://127.0.0.1:${h.bot.port}`;

describe('operations endpoints (HTTP mode, on PORT)', () => {
  it('/healthz: alive; /readyz: database, OVH and Slack checked', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    expect(await (await fetch(`${base()}/healthz`)).json()).toEqual({ ok: true });
    const ready = await fetch(`${base()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { database: { ok: true }, ovh: { ok: true }, slack: { ok: true } },
    });
  });

  it('/readyz fails, saying why, when OVH refuses our credentials; the check is cached to spare the budget', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    h.sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha',
      fault: {
        type: 'status',
        status: 403,
        body: { errorCode: 'INVALID_CREDENTIAL', httpCode: '403 Forbidden', message: 'This credential is not valid' },
      },
    });
    const res = await fetch(`${base()}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { ovh: { ok: boolean; detail: string } } };
    expect(body.checks.ovh).toMatchObject({
      ok: false,
      detail: expect.stringContaining('This credential is not valid'),
    });
    const calls = h.sim.requests.filter((r) => r.path === '/1.0/dedicated/nasha').length;
    await fetch(`${base()}/readyz`);
    expect(h.sim.requests.filter((r) => r.path === '/1.0/dedicated/nasha').length).toBe(calls);
  });

  it('/metrics: commands by name and result, OVH requests by route and status with latency, approvals, outbox, budget', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    for (const _ of [1, 2]) {
      const { id } = await h.command('snapshot list zpool-128310/data', { user: USERS.viewer });
      await h.replies(id, (t) => t.length > 0);
    }
    await h.slack.waitFor(
      () => h.logLines.filter((l) => l.includes('"msg":"slack request"')).length === 2,
      'the requests to finish',
    );
    const res = await fetch(`${base()}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/nasha_slack_requests_total\{kind="command",name="list",result="ok"\} 2/);
    expect(text).toMatch(
      /nasha_ovh_requests_total\{method="GET",route="\/dedicated\/nasha\/\{serviceName\}\/partition\/\{partitionName\}\/snapshot",status="200"\} 1/,
    );
    expect(text).toMatch(/nasha_ovh_request_duration_seconds_bucket\{le="0.05",method="GET",route="[^"]+"\}/);
    expect(text).toMatch(/nasha_approvals_pending 0/);
    expect(text).toMatch(/nasha_audit_outbox_depth \d+/);
    expect(text).toMatch(/nasha_audit_outbox_oldest_seconds \d/);
    expect(text).toMatch(/nasha_notification_outbox_depth 0/);
    expect(text).toMatch(/nasha_notification_outbox_oldest_seconds 0/);
    expect(text).toMatch(/nasha_notification_dead_letters 0/);
    expect(text).toMatch(/nasha_ovh_budget_tokens \d+/);
    // A person's requests, each timed in the budget; the second list came from the cache.
    expect(text).toMatch(/nasha_ovh_budget_wait_seconds_count\{class="interactive"\} [1-9]/);
    expect(text).toMatch(/nasha_ovh_budget_wait_seconds_bucket\{le="0.1",class="interactive"\} [1-9]/);
    expect(text).toMatch(/nasha_ovh_cache_lookups_total\{kind="snapshots",result="miss"\} 1/);
    expect(text).toMatch(/nasha_ovh_cache_lookups_total\{kind="snapshots",result="hit"\} 1/);
    expect(text).toMatch(/nasha_ovh_cache_lookups_total\{kind="snapshot",result="hit"\} 2/);
    // No user data in label values.
    expect(text).not.toContain('U0VIEW');
  });

  it('counts Slack requests in flight down again: none is left over at stop', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    for (const user of [USERS.viewer, USERS.admin]) {
      const { id } = await h.command('snapshot list zpool-128310/data', { user });
      await h.replies(id, (t) => t.length > 0);
    }
    await h.slack.waitFor(
      () => h.logLines.filter((l) => l.includes('"msg":"slack request"')).length === 2,
      'both requests to finish',
    );
    await h.restart();
    expect(h.logLines.find((l) => l.includes('"msg":"stopped"'))).toMatch(/"slackRequestsInFlight":0/);
  });
});
