/**
 * The scanner's problems and their alerts over the real client, simulator and store: one alert per partition
 * and kind, updated in place, resolved when it clears, a failed post retried at the next scan, a post whose
 * answer was lost found rather than made twice; and what status and restore say, within the caller's grants.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NashaError } from '../../../src/core/errors.js';
import type { SimulatorSeed } from '../../../src/ovh/simulator/index.js';
import { DAY_MS, HOUR_MS } from '../../../src/shared/duration.js';
import { type Database, openDatabase } from '../../../src/store/database.js';
import { type OvhHarness, startOvhHarness } from '../../support/ovh-harness.js';
import { type ProtectionStack, protectionStack } from '../../support/protection-stack.js';

const SVC = 'zpool-3';
const VIEWER = 'U0VIEW';
const SCOPED = 'U0SCOPED';
const CONFIG = `audit: {channel: C0AUDIT}
approvals: {channel: C0APPROVALS}
grants:
  - { role: viewer, users: [${VIEWER}], scope: ["${SVC}/*"] }
  - { role: viewer, users: [${SCOPED}], scope: ["${SVC}/web"] }
protection:
  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["${SVC}/*"]
      frequencies: [hour-1, day-1]
      plan:
        - { every: 1d, keep: 3, at: "02:00" }
      reserve: 2
      max_age: { warn: 2h, critical: 30h }
      snapshot_space: 15
`;

const at = Date.UTC(2026, 10, 28, 9, 0);
const SEED: SimulatorSeed = {
  services: [
    {
      serviceName: SVC,
      ip: '198.51.100.9',
      partitions: [
        { partitionName: 'web', protocol: 'NFS', size: 100, scheduled: ['hour-1', 'day-1'], usedBySnapshots: 4 },
        {
          // Drifting: no frequency at all, nine custom snapshots, snapshots over their space.
          partitionName: 'db',
          protocol: 'CIFS',
          size: 100,
          scheduled: [],
          usedBySnapshots: 22,
          customSnapshots: Array.from({ length: 9 }, (_, i) => ({
            name: `snap-db-2026112${i % 8}-0${i}0000`,
            expiration: new Date(at + (i + 10) * DAY_MS).toISOString(),
          })),
        },
      ],
    },
  ],
};

let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;
let stack: ProtectionStack;

afterEach(async () => {
  await ovh?.close();
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function start(config = CONFIG): Promise<void> {
  ovh = await startOvhHarness({
    autoAdvance: false,
    sim: { seed: SEED, taskTimings: { doingAfterMs: 100, doneAfterMs: 200 } },
  });
  dir = await mkdtemp(join(tmpdir(), 'nasha-protect-alerts-'));
  database = await openDatabase({ dataDir: dir });
  stack = protectionStack({ ovh, database, config });
}

describe('protection alerts', () => {
  it('opens one alert per problem, updates it in place, resolves it when it clears', async () => {
    await start();
    const report = await stack.protection.scanNow();
    // Services, the one service's partitions, 3 per partition, and the client's first clock sync (/auth/time).
    expect(report).toMatchObject({ covered: 2, scanned: 2, failed: 0, requests: 1 + 1 + 3 * 2 + 1 });
    const open = await stack.store.openAlerts();
    expect(open.map((a) => `${a.partition} ${a.kind}`).sort()).toEqual([
      'db frequency_missing',
      'db slots',
      'db snapshot_space',
      'db stale',
    ]);
    expect(open.find((a) => a.kind === 'slots')?.problem).toMatchObject({ level: 'reserve', count: 9, reserve: 2 });
    expect(stack.alerts.posts).toHaveLength(4);
    expect(stack.alerts.posts.find((p) => p.alert.kind === 'frequency_missing')?.fix).toEqual({
      kind: 'add_frequencies',
      types: ['hour-1', 'day-1'],
    });
    expect(stack.alerts.posts.find((p) => p.alert.kind === 'snapshot_space')?.fix).toBeUndefined();

    // Audited as the policy, once per alert.
    const audited = await database?.db
      .selectFrom('audit_records')
      .selectAll()
      .where('action', '=', 'protection.alert')
      .execute();
    expect(audited?.map((r) => [r.actor_user_id, r.subject, r.outcome]).sort()).toEqual([
      ['protection:production', 'frequency_missing', 'alerted'],
      ['protection:production', 'slots', 'alerted'],
      ['protection:production', 'snapshot_space', 'alerted'],
      ['protection:production', 'stale', 'alerted'],
    ]);

    // The next scan changes nothing: no new message, no edit.
    ovh?.clock.advance(HOUR_MS);
    await stack.protection.scanNow();
    expect(stack.alerts.posts).toHaveLength(4);
    expect(stack.alerts.edits).toHaveLength(0);

    // A day later the stale alert turns critical: the same message, edited. And the daily plan slot of 02:00
    // was never taken (no plan pass ran): a plan alert on each partition says so.
    ovh?.clock.advance(DAY_MS);
    await stack.protection.scanNow();
    const stale = (await stack.store.openAlerts()).find((a) => a.kind === 'stale');
    expect(stale?.problem).toMatchObject({ kind: 'stale', level: 'critical' });
    expect(stack.alerts.posts.slice(4).map((p) => [p.alert.partition, p.alert.kind, p.alert.problem])).toEqual([
      [
        'db',
        'plan_missing',
        {
          kind: 'plan_missing',
          missing: [
            {
              label: 'daily',
              slotAt: Date.UTC(2026, 10, 29, 2),
              name: 'plan-daily-db-20261129T0200',
              gap: { cause: 'not_taken' },
            },
          ],
        },
      ],
      [
        'web',
        'plan_missing',
        {
          kind: 'plan_missing',
          missing: [
            {
              label: 'daily',
              slotAt: Date.UTC(2026, 10, 29, 2),
              name: 'plan-daily-web-20261129T0200',
              gap: { cause: 'not_taken' },
            },
          ],
        },
      ],
    ]);
    expect(stack.alerts.edits.map((e) => e.view.alert.kind)).toEqual(['stale']);

    // Behind the bot's back someone enables the frequencies: both alerts resolve, visibly and audited.
    ovh?.sim.state.addScheduledType(SVC, 'db', 'hour-1');
    ovh?.sim.state.addScheduledType(SVC, 'db', 'day-1');
    ovh?.clock.advance(1_000);
    await stack.protection.scanNow();
    const kinds = (await stack.store.openAlerts()).map((a) => `${a.partition} ${a.kind}`).sort();
    expect(kinds).toEqual(['db plan_missing', 'db slots', 'db snapshot_space', 'web plan_missing']);
    const shown = [...stack.alerts.shown().values()];
    expect(
      shown
        .filter((a) => a.state === 'resolved')
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['frequency_missing', 'stale']);
    const resolved = await database?.db
      .selectFrom('audit_records')
      .select(['subject', 'outcome'])
      .where('action', '=', 'protection.alert')
      .where('outcome', '=', 'resolved')
      .execute();
    expect(resolved?.map((r) => r.subject).sort()).toEqual(['frequency_missing', 'stale']);
  });

  it('retries a failed post at the next scan, and finds a post whose answer was lost instead of posting twice', async () => {
    await start();
    stack.alerts.failing = true;
    await stack.protection.scanNow();
    expect(stack.alerts.posts).toHaveLength(0);
    expect((await stack.store.undelivered()).length).toBe(4);

    stack.alerts.failing = false;
    stack.alerts.losingAnswers = true;
    await stack.protection.scanNow();
    expect(stack.alerts.posts).toHaveLength(4); // landed, but the bot never heard back

    stack.alerts.losingAnswers = false;
    await stack.protection.scanNow();
    expect(stack.alerts.posts).toHaveLength(4); // looked for, found, edited: not posted again
    expect(stack.alerts.edits).toHaveLength(4);
    // Looked for before the second post (nothing there yet) and before the third (found).
    expect(stack.alerts.lookups).toHaveLength(8);
    expect(await stack.store.undelivered()).toEqual([]);
  });

  it('reports the OVH requests a scan sent, as counted: fewer when the cache serves the listings, more on a retry', async () => {
    await start();
    const sim = ovh?.sim;
    if (sim === undefined) throw new Error('no simulator');
    const scan = async () => {
      const before = sim.requests.length;
      const scanning = stack.protection.scanNow();
      let done = false;
      void scanning.finally(() => {
        done = true;
      });
      // Retries wait on the test's clock.
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (ovh?.clock.pendingSleepers) ovh.clock.advance(1_000);
      }
      return { report: await scanning, sent: sim.requests.length - before };
    };
    const cold = await scan();
    // The client's first request syncs its clock with OVH (/auth/time): sent, so counted.
    expect(cold.sent).toBe(1 + 1 + 3 * 2 + 1);
    expect(cold.report?.requests).toBe(cold.sent);
    // Again at once: the service and partition listings come from the cache; each partition is still read.
    const warm = await scan();
    expect(warm.sent).toBe(3 * 2);
    expect(warm.report?.requests).toBe(warm.sent);
    // A custom snapshot list answered 500 once is asked again: two requests for it, both counted.
    sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
      fault: { type: 'status', status: 500 },
      times: 1,
    });
    const retried = await scan();
    expect(retried.sent).toBe(3 * 2 + 1);
    expect(retried.report?.requests).toBe(retried.sent);
  });

  it("records a Fix press only when the desk acted on one of the fix's changes", async () => {
    const OPERATOR = 'U0OPER';
    await start(
      CONFIG.replace('grants:\n', `grants:\n  - { role: operator, users: [${OPERATOR}], scope: ["${SVC}/*"] }\n`),
    );
    await stack.protection.scanNow();
    const alert = (await stack.store.openAlerts()).find((a) => a.kind === 'frequency_missing');
    if (alert === undefined) throw new Error('no frequency alert');
    const fix = await stack.protection.requestFix(alert.id);
    const submit = (userId: string) =>
      Promise.all(fix.drafts.map((draft) => stack.desk.submit({ userId, channelId: 'C0ALERTS' }, draft)));

    // A viewer's press: the desk refuses every change; a change that failed unexpectedly has no outcome.
    const refused = await submit(VIEWER);
    expect(refused.map((o) => o.kind)).toEqual(['refused', 'refused']);
    await stack.protection.fixed(alert.id, VIEWER, [...refused, undefined]);
    expect((await stack.store.alert(alert.id))?.fixes).toEqual([]);

    // An operator's: the changes are sent, the press is recorded, and the re-read resolves the alert once done.
    const started = await submit(OPERATOR);
    expect(started.map((o) => o.kind)).toEqual(['started', 'started']);
    ovh?.clock.advance(1_000);
    for (const outcome of started) if (outcome.kind === 'started') await outcome.done;
    await stack.protection.fixed(alert.id, OPERATOR, started);
    const after = await stack.store.alert(alert.id);
    expect(after?.fixes.map((f) => f.userId)).toEqual([OPERATOR]);
    expect(after?.state).toBe('resolved');
  });

  it('says what each caller may see: status of a partition, a summary, restore help', async () => {
    await start();
    await stack.protection.scanNow();
    const viewer = { userId: VIEWER, channelId: 'C0OPS' };
    const scoped = { userId: SCOPED, channelId: 'C0OPS' };

    const detail = await stack.queries.status(viewer, `${SVC}/db`);
    expect(detail.kind).toBe('partition');
    if (detail.kind !== 'partition') return;
    expect(detail.policy?.name).toBe('production');
    expect(detail.assessment.problems.map((p) => p.kind).sort()).toEqual([
      'frequency_missing',
      'slots',
      'snapshot_space',
      'stale',
    ]);
    const first = detail.assessment.restorePoints[0];
    expect(first).toMatchObject({ kind: 'custom', takenBy: { kind: 'name' }, expiration: expect.any(String) });

    const all = await stack.queries.status(viewer, undefined);
    expect(all.kind === 'list' && all.page.items.map((l) => l.partition)).toEqual(['db', 'web']);
    const mine = await stack.queries.status(scoped, 'production');
    expect(mine.kind === 'list' && mine.page.items.map((l) => l.partition)).toEqual(['web']);
    await expect(stack.queries.status(scoped, `${SVC}/db`)).rejects.toBeInstanceOf(NashaError);
    await expect(stack.queries.status({ userId: 'U0NOBODY', channelId: 'C0OPS' }, SVC)).rejects.toMatchObject({
      problem: { kind: 'status_target_unknown', policies: [] },
    });

    const restore = await stack.queries.restore(viewer, { service: SVC, partition: 'db' }, '2026-11-25T12:00Z');
    expect(restore).toMatchObject({
      protocol: 'CIFS',
      ip: '198.51.100.9',
      best: { name: 'snap-db-20261125-050000', takenAt: Date.UTC(2026, 10, 25, 5) },
    });
    const early = await stack.queries.restore(viewer, { service: SVC, partition: 'db' }, '30d');
    expect(early.best).toBeUndefined();
    expect(early.after?.name).toBe('snap-db-20261120-000000');
    await expect(stack.queries.restore(viewer, { service: SVC, partition: 'db' }, '2027-01-01')).rejects.toMatchObject({
      problem: { kind: 'invalid_restore_time', why: 'future' },
    });
    await expect(stack.queries.restore(scoped, { service: SVC, partition: 'db' }, '1h')).rejects.toMatchObject({
      problem: { kind: 'refused', refusal: { kind: 'not_visible' } },
    });
  });
});
