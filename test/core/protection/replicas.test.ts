/**
 * Two replicas sharing one store (PostgreSQL when NASHA_TEST_DATABASE_URL is set, and SQLite) and one OVH:
 * both run every plan pass at the same moment, each with its own OVH client, yet each plan snapshot is sent
 * to OVH once; and one of them scans at a time.
 */
import { afterEach, expect, it } from 'vitest';
import { createNashaApi } from '../../../src/ovh/index.js';
import type { SimulatorSeed } from '../../../src/ovh/simulator/index.js';
import { DAY_MS } from '../../../src/shared/duration.js';
import { type Database, openDatabase } from '../../../src/store/database.js';
import { forEachBackend } from '../../store/test-database.js';
import { type OvhHarness, startOvhHarness } from '../../support/ovh-harness.js';
import { protectionStack } from '../../support/protection-stack.js';

const SVC = 'zpool-7';
const PARTITIONS = 12;
const CONFIG = `audit: {channel: C0AUDIT}
approvals: {channel: C0APPROVALS}
protection:
  alerts_channel: C0ALERTS
  policies:
    - name: fleet
      targets: ["${SVC}/*"]
      plan:
        - { every: 12h, keep: 2, at: "00:00" }
        - { every: 1d, keep: 2, at: "00:00" }
`;
const SEED: SimulatorSeed = {
  services: [
    {
      serviceName: SVC,
      partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionName: `vol-${i}`, size: 50 })),
    },
  ],
};

let ovh: OvhHarness | undefined;
const opened: Database[] = [];
const closing: Array<() => void> = [];

afterEach(async () => {
  for (const close of closing.splice(0)) close();
  await Promise.all(opened.splice(0).map((db) => db.close()));
  await ovh?.close();
});

forEachBackend((backend) => {
  it('takes each plan snapshot once when two replicas run every pass together', async () => {
    ovh = await startOvhHarness({
      autoAdvance: false,
      sim: { seed: SEED, taskTimings: { doingAfterMs: 200, doneAfterMs: 500 } },
    });
    const options = await backend.open();
    const first = await openDatabase(options);
    opened.push(first);
    const second = await openDatabase(options);
    opened.push(second);
    const otherApi = createNashaApi({ config: ovh.config, clock: ovh.clock });
    closing.push(() => otherApi.transport.close());
    const a = protectionStack({ ovh, database: first, config: CONFIG });
    const b = protectionStack({ ovh: { ...ovh, api: otherApi }, database: second, config: CONFIG });
    const { clock, sim } = ovh;

    const scans = await Promise.all([a.protection.scanNow(), b.protection.scanNow()]);
    expect(scans.filter((report) => report === undefined)).toHaveLength(1);

    const start = clock.now();
    let at = a.protection.scheduler.nextDueAt(start);
    let elsewhere = 0;
    let started = 0;
    while (at < start + 5 * DAY_MS) {
      clock.set(at);
      const passes = await Promise.all([a.protection.runPlans(), b.protection.runPlans()]);
      elsewhere += passes.reduce((n, p) => n + p.elsewhere, 0);
      started += passes.reduce((n, p) => n + p.started, 0);
      for (let i = 0; i < 30; i++) {
        const done = await Promise.all([a.protection.scheduler.settled(0), b.protection.scheduler.settled(0)]);
        if (done.every(Boolean)) break;
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(1_000);
        await Promise.all([a.protection.scheduler.settled(2_000), b.protection.scheduler.settled(2_000)]);
      }
      at = Math.min(a.protection.scheduler.nextDueAt(clock.now()), b.protection.scheduler.nextDueAt(clock.now()));
    }

    // Ten slots (two a day for five days) on each partition, each sent once, between the two of them.
    const posts = sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/customSnapshot'));
    expect(posts).toHaveLength(10 * PARTITIONS);
    expect(started).toBe(10 * PARTITIONS);
    expect(elsewhere).toBeGreaterThanOrEqual(10 * PARTITIONS);
    const rows = await first.db.selectFrom('protection_plan_runs').selectAll().execute();
    expect(rows).toHaveLength(10 * PARTITIONS);
    expect(new Set(rows.map((r) => r.owner)).size).toBe(2);
    expect(rows.every((r) => r.state === 'done')).toBe(true);
    const names = sim.state.listCustomSnapshots(SVC, 'vol-0');
    expect(names.filter((n) => n.startsWith('plan-'))).toHaveLength(new Set(names).size);
  }, 120_000);
});
