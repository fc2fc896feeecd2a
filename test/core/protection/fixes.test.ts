import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { fixDrafts, fixFor } from '../../../src/core/protection/fixes.js';
import type { ProtectionPolicy, ProtectionProblem } from '../../../src/core/protection/model.js';
import type { ScannedPartition } from '../../../src/core/protection/ports.js';
import { ProtectionMetrics } from '../../../src/ops/protection-metrics.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { DAY_MS, HOUR_MS } from '../../../src/shared/duration.js';

const NOW = Date.UTC(2026, 10, 28, 9);
const policy: ProtectionPolicy = {
  name: 'production',
  targets: [{ kind: 'scope', pattern: 'zpool-1/*' }],
  frequencies: ['hour-1', 'day-1'],
  plan: [{ label: 'daily', everyMs: DAY_MS, keep: 3, minuteOfDay: 120, weekday: undefined }],
  reserve: 2,
  maxAge: { warnMs: 2 * HOUR_MS, criticalMs: 26 * HOUR_MS },
  snapshotSpacePercent: 15,
  timezone: 'UTC',
};
const target = { service: 'zpool-1', partition: 'data' };

describe('alert fixes', () => {
  it('enables missing frequencies, takes the missing plan snapshot under its own name, deletes only through a request', () => {
    const add = fixFor(policy, { kind: 'frequency_missing', missing: ['day-1'], required: ['hour-1', 'day-1'] }, NOW);
    expect(add && fixDrafts(add, target)).toEqual([{ action: 'schedule.add', target, type: 'day-1' }]);

    const slotAt = Date.UTC(2026, 10, 28, 2);
    const name = 'plan-daily-data-20261128T0200';
    const take = fixFor(
      policy,
      { kind: 'plan_missing', missing: [{ label: 'daily', slotAt, name, gap: { cause: 'not_taken' } }] },
      NOW,
    );
    // The same expiration the plan would have given it: three days on, five minutes early.
    expect(take && fixDrafts(take, target)).toEqual([
      { action: 'snapshot.create', target, name, expires: '2026-12-01T01:55:00Z' },
    ]);

    const stale = fixFor(policy, { kind: 'stale', level: 'warn', newestAt: null, warnMs: 1, criticalMs: 2 }, NOW);
    expect(stale && fixDrafts(stale, target)).toEqual([
      { action: 'snapshot.create', target, name: undefined, expires: '2026-12-05T09:00:00Z' },
    ]);

    const full = fixFor(
      policy,
      {
        kind: 'slots',
        level: 'full',
        count: 10,
        max: 10,
        reserve: 2,
        oldest: { name: 'snap-old', takenAt: NOW - DAY_MS },
      },
      NOW,
    );
    expect(full && fixDrafts(full, target)).toEqual([{ action: 'snapshot.delete', target, name: 'snap-old' }]);
    expect(
      fixFor(policy, { kind: 'slots', level: 'full', count: 10, max: 10, reserve: 2, oldest: undefined }, NOW),
    ).toBeUndefined();
    expect(fixFor(policy, { kind: 'snapshot_space', usedPercent: 30, limitPercent: 15 }, NOW)).toBeUndefined();
  });
});

describe('protection metrics', () => {
  it('counts by policy, result and problem kind only, never by partition', async () => {
    const registry = new Registry();
    const clock = new ManualClock(NOW);
    const metrics = new ProtectionMetrics(registry, ['production'], clock);
    const partition = (name: string, problems: ProtectionProblem[], newestAt: number): ScannedPartition => ({
      service: 'zpool-1',
      partition: name,
      policy: 'production',
      firstSeenAt: NOW,
      lastSeenAt: NOW,
      scan: { scannedAt: NOW, frequencies: [], custom: [], usedBySnapshots: null, problems, newestAt },
    });
    metrics.scanned(
      {
        at: NOW,
        covered: 2,
        scanned: 2,
        failed: 0,
        requests: 8,
        durationMs: 1_500,
        alerts: { opened: 1, revised: 0, resolved: 0, delivered: 1, undelivered: 0 },
      },
      [
        partition('data', [], NOW - HOUR_MS),
        partition('logs', [{ kind: 'frequency_missing', missing: ['day-1'], required: ['day-1'] }], NOW - 3 * HOUR_MS),
      ],
    );
    metrics.planRun('production', 'taken', 90_000);
    metrics.planRun('production', 'skipped', 0);
    const text = await registry.metrics();
    expect(text).toContain('nasha_protection_partitions{policy="production"} 2');
    expect(text).toContain('nasha_protection_problem_partitions{kind="frequency_missing"} 1');
    expect(text).toContain('nasha_protection_problem_partitions{kind="stale"} 0');
    expect(text).toContain('nasha_protection_newest_restore_point_age_seconds{policy="production"} 10800');
    expect(text).toContain('nasha_protection_plan_snapshots_total{policy="production",result="taken"} 1');
    expect(text).toContain('nasha_protection_plan_snapshots_total{policy="production",result="skipped"} 1');
    expect(text).toContain('nasha_protection_plan_snapshots_total{policy="production",result="failed"} 0');
    expect(text).toContain('nasha_protection_scan_requests 8');
    expect(text).not.toContain('logs');
    expect(text).not.toContain('zpool-1');
  });
});
