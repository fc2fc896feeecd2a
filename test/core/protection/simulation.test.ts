/**
 * 120 simulated days of a protection policy against the NAS-HA simulator (real client over HTTPS, real store):
 * the plan scheduler and the coverage scanner on one injected clock, driven from event to event the way their
 * loops are (each pass says when the next is due), with people taking snapshots of their own, the bot down
 * for two and a half days, and a frequency removed behind the bot's back.
 *
 * Properties, checked at every step: never more than 10 − reserve custom snapshots (plan and people), no plan
 * snapshot created twice, nothing deleted by the bot; after warm-up, every retention class holds all its
 * restore points except those a full partition made the bot skip (and those the downtime lost).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuditDetail } from '../../../src/core/audit-detail.js';
import { graceMs } from '../../../src/core/protection/assess.js';
import { CUSTOM_SLOTS } from '../../../src/core/protection/model.js';
import { latestSlot, ownerOf, planSnapshotName, slotsBetween } from '../../../src/core/protection/schedule.js';
import type { SimulatorSeed } from '../../../src/ovh/simulator/index.js';
import { DAY_MS, HOUR_MS } from '../../../src/shared/duration.js';
import { type Database, openDatabase } from '../../../src/store/database.js';
import { type OvhHarness, startOvhHarness } from '../../support/ovh-harness.js';
import { type ProtectionStack, protectionStack } from '../../support/protection-stack.js';

const SVC = 'zpool-1';
const RESERVE = 2;
const OPERATOR = 'U0OPER';
const CONFIG = `audit: {channel: C0AUDIT}
approvals: {channel: C0APPROVALS}
grants:
  - { role: operator, users: [${OPERATOR}], scope: ["${SVC}/*"] }
protection:
  scan_every: 1d
  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["${SVC}/data", "${SVC}/logs"]
      frequencies: [hour-1, day-1]
      plan:
        - { every: 12h, keep: 4, at: "00:00" }
        - { every: 1d, keep: 3, at: "00:00" }
        - { every: 7d, keep: 2, at: "Sun 00:00" }
      reserve: ${RESERVE}
`;

const SEED: SimulatorSeed = {
  services: [
    {
      serviceName: SVC,
      partitions: [
        { partitionName: 'data', size: 100, scheduled: ['hour-1', 'day-1'] },
        { partitionName: 'logs', size: 100, scheduled: ['hour-1', 'day-1'] },
        { partitionName: 'other', size: 100, scheduled: ['hour-1'] },
      ],
    },
  ],
};

/** A small seeded generator: the same people every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;

afterEach(async () => {
  await ovh?.close();
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('protection over 120 simulated days', () => {
  it('keeps every retention class, never eats the reserve, never takes or deletes twice', async () => {
    ovh = await startOvhHarness({
      autoAdvance: false,
      sim: { seed: SEED, taskTimings: { doingAfterMs: 200, doneAfterMs: 500 } },
    });
    // The store on tmpfs when there is one: the test measures the bot, not the disk's fsync.
    dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'nasha-protect-sim-'));
    // SQLite: this is the long property run; two replicas on PostgreSQL are replicas.test.ts.
    database = await openDatabase({ dataDir: dir });
    const { clock, sim } = ovh;
    const start = clock.now();
    const end = start + 120 * DAY_MS;
    const downFrom = start + 50 * DAY_MS + 13 * HOUR_MS;
    const backAt = start + 53 * DAY_MS + 1 * HOUR_MS; // 10:00 UTC: the 00:00 slot is 10 h late, still useful
    const driftAt = start + 70 * DAY_MS;
    const warmUp = start + 15 * DAY_MS;
    const people = random(42);
    let stack: ProtectionStack = protectionStack({ ovh, database, config: CONFIG });
    const policy = stack.protection.config.policies[0];
    if (policy === undefined) throw new Error('no policy');

    /** Lets the tasks a pass started finish: time moves a second at a time until they are followed to the end. */
    const drain = async () => {
      for (let i = 0; i < 30; i++) {
        if (await stack.protection.scheduler.settled(0)) return;
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(1_000);
        if (await stack.protection.scheduler.settled(2_000)) return;
      }
    };
    const customOf = (partition: string) => sim.state.listCustomSnapshots(SVC, partition);
    const check = () => {
      for (const partition of ['data', 'logs']) {
        expect(customOf(partition).length, `custom snapshots on ${partition}`).toBeLessThanOrEqual(
          CUSTOM_SLOTS - RESERVE,
        );
      }
      expect(sim.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    };

    // Events: a scan every day at 18:00, plan passes whenever the scheduler says the next one is due.
    const scans = Array.from({ length: 120 }, (_, i) => Date.UTC(2026, 10, 28, 18) + i * DAY_MS);
    let nextPlan = start;
    let scanIndex = 0;
    let peopleCount = 0;
    const skipped = new Set<string>();
    const lateRuns: number[] = [];
    let restarted = false;
    let drift: { alertId: string } | undefined;

    await stack.protection.scanNow();
    while (true) {
      const nextScan = scans[scanIndex] ?? Number.POSITIVE_INFINITY;
      const at = Math.min(nextPlan, nextScan);
      if (at > end) break;
      clock.set(at);
      if (at >= downFrom && at < backAt) {
        // The bot is down: nothing runs until it is back.
        if (nextPlan === at) nextPlan = backAt;
        if (nextScan === at) scanIndex += 1;
        continue;
      }
      if (!restarted && at >= backAt) {
        restarted = true;
        stack = protectionStack({ ovh, database, config: CONFIG });
      }
      if (at === nextPlan) {
        const pass = await stack.protection.runPlans();
        lateRuns.push(...pass.lateness.filter((ms) => ms > HOUR_MS));
        await drain();
        nextPlan = stack.protection.scheduler.nextDueAt(clock.now());
        // People: now and then a snapshot of their own, kept one to four days, never beyond 10 − reserve.
        if (people() < 0.35 && customOf('data').length < CUSTOM_SLOTS - RESERVE) {
          peopleCount += 1;
          sim.state.createCustomSnapshot(SVC, 'data', {
            name: `snap-data-person-${peopleCount}`,
            expiration: new Date(clock.now() + (1 + Math.floor(people() * 4)) * DAY_MS).toISOString(),
          });
          clock.advance(1_000);
        }
      }
      if (at === nextScan) {
        scanIndex += 1;
        if (drift === undefined && at >= driftAt) {
          // Behind the bot's back (OVH's control panel): day-1 is removed from logs.
          sim.state.removeScheduledType(SVC, 'logs', 'day-1');
          clock.advance(1_000);
        }
        const report = await stack.protection.scanNow();
        expect(report?.failed).toBe(0);
        if (drift === undefined && at >= driftAt) {
          const open = (await stack.store.openAlerts()).filter(
            (a) => a.partition === 'logs' && a.kind === 'frequency_missing',
          );
          expect(open).toHaveLength(1);
          drift = { alertId: open[0]?.id ?? '' };
          expect(stack.alerts.posts.filter((p) => p.alert.id === drift?.alertId)).toHaveLength(1);
        } else if (drift !== undefined && (await stack.store.alert(drift.alertId))?.state === 'open') {
          // One alert while it lasts: the next scan changes nothing, then an operator presses Fix.
          expect(stack.alerts.posts.filter((p) => p.alert.id === drift?.alertId)).toHaveLength(1);
          const fix = await stack.protection.requestFix(drift.alertId);
          expect(fix.drafts).toEqual([
            { action: 'schedule.add', target: { service: SVC, partition: 'logs' }, type: 'day-1' },
          ]);
          const outcomes = [];
          for (const draft of fix.drafts) {
            const outcome = await stack.desk.submit({ userId: OPERATOR, channelId: 'C0ALERTS' }, draft);
            expect(outcome.kind).toBe('started');
            clock.advance(1_000);
            if (outcome.kind === 'started') expect((await outcome.done).outcome).toBe('succeeded');
            outcomes.push(outcome);
          }
          await stack.protection.fixed(drift.alertId, OPERATOR, outcomes);
          const resolved = await stack.store.alert(drift.alertId);
          expect(resolved?.state).toBe('resolved');
          expect(stack.alerts.shown().get(drift.alertId)?.state).toBe('resolved');
        }
        for (const partition of ['data', 'logs']) {
          for (const run of await stack.store.runsOf(SVC, partition, 0)) {
            if (run.state === 'skipped') skipped.add(run.name);
          }
        }
        if (at >= warmUp) {
          // Every class holds each of its last `keep` slots, unless skipped for the reserve or lost to downtime.
          for (const partition of ['data', 'logs']) {
            const names = customOf(partition);
            for (const cls of policy.plan) {
              const latest = latestSlot(cls, 'UTC', at - graceMs(cls.everyMs));
              for (const slot of slotsBetween(cls, 'UTC', latest - cls.keep * cls.everyMs, latest)) {
                const name = planSnapshotName(ownerOf(policy.plan, cls, 'UTC', slot).label, partition, slot);
                const lost = slot >= downFrom - 12 * HOUR_MS && slot < backAt;
                if (!lost && !skipped.has(name))
                  expect(names, `${name} at ${new Date(at).toISOString()}`).toContain(name);
              }
            }
          }
        }
      }
      check();
    }
    await drain();
    check();

    // Exactly once: every plan snapshot was POSTed once, by the policy, and audited once.
    const created = await database.db
      .selectFrom('audit_records')
      .select(['subject', 'outcome', 'detail', 'actor_user_id'])
      .where('action', '=', 'snapshot.create')
      .execute();
    const planRecords = created.filter((r) => r.actor_user_id === 'protection:production');
    const names = planRecords.map((r) => r.subject);
    expect(new Set(names).size).toBe(names.length);
    const posts = sim.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/customSnapshot') && r.status === 200,
    );
    expect(posts).toHaveLength(names.length + created.length - planRecords.length);
    expect(planRecords.every((r) => r.outcome === 'succeeded')).toBe(true);
    // About two plan slots a day on each of two partitions (the downtime and the skips aside).
    expect(names.length).toBeGreaterThan(400);
    expect(skipped.size).toBeGreaterThan(0);

    // The slot missed while the bot was down was taken at the start, late, and its record says so.
    expect(lateRuns).toEqual([10 * HOUR_MS, 10 * HOUR_MS]);
    const missed = planRecords
      .map((r) => parseAuditDetail(r.detail)?.protection?.plan)
      .filter((plan) => plan?.missed === true);
    expect(missed).toHaveLength(2);
    expect(missed[0]?.lateMs).toBe(10 * HOUR_MS);
    expect(drift).toBeDefined();
    expect(clock.now() - start).toBeGreaterThan(end - start - DAY_MS);
  }, 120_000);
});
