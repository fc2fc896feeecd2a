/**
 * What a partition's snapshots amount to against its policy: its restore points (automatic ones only as "at
 * most one period old", since OVH lists no automatic snapshot; custom ones with when they were taken, if that
 * is known) and its problems. Pure: the scanner, status and restore help compute the same thing.
 */
import type { SnapshotType } from '../../ovh/models.js';
import { HOUR_MS } from '../../shared/duration.js';
import { CUSTOM_SLOTS, type PlanGap, type PlanMiss, type ProtectionPolicy, type ProtectionProblem } from './model.js';
import type { PlanRun } from './ports.js';
import { latestSlot, ownerOf, parsePlanName, planSnapshotName } from './schedule.js';

/** How long each automatic frequency's rolling snapshot may be old. */
export const FREQUENCY_PERIOD_MS: Readonly<Record<SnapshotType, number>> = {
  'hour-1': HOUR_MS,
  'hour-6': 6 * HOUR_MS,
  'day-1': 24 * HOUR_MS,
  'day-2': 48 * HOUR_MS,
  'day-3': 72 * HOUR_MS,
  'day-7': 168 * HOUR_MS,
};

export type RestorePoint =
  /** NAS-HA's rolling snapshot of an enabled frequency: taken at some time within the last period. */
  | { kind: 'automatic'; type: SnapshotType; periodMs: number }
  | {
      kind: 'custom';
      name: string;
      /** When it was taken, if known; `takenBy` says how the bot knows. */
      takenAt: number | null;
      takenBy: CustomOrigin;
      expiration?: string | null | undefined;
    };

export type CustomOrigin =
  /** A plan snapshot of this policy (class label). */
  | { kind: 'plan'; label: string }
  /** Taken through the bot: the audit record or the quick-snapshot record says by whom (a user id or a system actor). */
  | { kind: 'recorded'; by: string }
  /** Only its name says when (`snap-<partition>-<yyyymmdd-hhmmss>`, `<label>-<partition>-<yyyymmddThhmm>`). */
  | { kind: 'name' }
  | { kind: 'unknown' };

export interface PartitionFacts {
  service: string;
  partition: string;
  frequencies: readonly SnapshotType[];
  custom: readonly string[];
  usedBySnapshots: number | null;
  /** Creations the bot recorded (audit, quick snapshots), by snapshot name. */
  known: ReadonlyMap<string, { at: number; by: string }>;
  /** Expirations, when they were read (status); not needed for problems. */
  expirations?: ReadonlyMap<string, string | null> | undefined;
}

export interface Assessment {
  restorePoints: RestorePoint[];
  /** When the newest restore point was taken at the latest (null: there is none). */
  newestAt: number | null;
  /** The oldest known moment a restore point is from (how far back it can restore, as far as the bot knows). */
  oldestAt: number | null;
  problems: ProtectionProblem[];
}

const NAME_STAMP = /(\d{4})(\d{2})(\d{2})[-T](\d{2})(\d{2})(\d{2})?$/;

/** The UTC time a default or quick snapshot name ends with, if any. */
export function timeFromName(name: string): number | undefined {
  const match = NAME_STAMP.exec(name);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = '0'] = match;
  const at = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(at) ? undefined : at;
}

/** Before checking a slot's snapshot, give its run this long (a plan over many partitions spreads out). */
export function graceMs(everyMs: number): number {
  return Math.min(everyMs / 2, HOUR_MS);
}

export function customPoint(
  name: string,
  facts: Pick<PartitionFacts, 'known' | 'expirations'>,
  runs: readonly PlanRun[],
): Extract<RestorePoint, { kind: 'custom' }> {
  const expiration = facts.expirations?.get(name);
  const plan = parsePlanName(name);
  const known = facts.known.get(name);
  const base = expiration === undefined ? {} : { expiration };
  if (plan !== undefined) {
    const run = runs.find((r) => r.name === name);
    // Content is as of the moment it was taken: a late run is later than its slot.
    const takenAt = known?.at ?? (run === undefined ? plan.slotAt : plan.slotAt + run.lateMs);
    return { kind: 'custom', name, takenAt, takenBy: { kind: 'plan', label: plan.label }, ...base };
  }
  if (known !== undefined)
    return { kind: 'custom', name, takenAt: known.at, takenBy: { kind: 'recorded', by: known.by }, ...base };
  const fromName = timeFromName(name);
  return fromName === undefined
    ? { kind: 'custom', name, takenAt: null, takenBy: { kind: 'unknown' }, ...base }
    : { kind: 'custom', name, takenAt: fromName, takenBy: { kind: 'name' }, ...base };
}

function gapOf(run: PlanRun | undefined): PlanGap {
  if (run === undefined) return { cause: 'not_taken' };
  switch (run.state) {
    case 'failed':
      return run.gap ?? { cause: 'failed', problem: undefined, ovh: undefined };
    case 'skipped':
      return run.gap ?? { cause: 'reserve', count: CUSTOM_SLOTS, reserve: 0 };
    case 'started':
    case 'done':
      return { cause: 'gone' };
    case 'claimed':
      return { cause: 'not_taken' };
  }
}

/** The latest due plan snapshot of each class that is not on OVH (one entry per snapshot name). */
export function planMisses(
  policy: ProtectionPolicy,
  partition: string,
  custom: readonly string[],
  runs: readonly PlanRun[],
  firstSeenAt: number,
  now: number,
): PlanMiss[] {
  const misses = new Map<string, PlanMiss>();
  for (const cls of policy.plan) {
    const slotAt = latestSlot(cls, policy.timezone, now - graceMs(cls.everyMs));
    if (slotAt < firstSeenAt) continue;
    const owner = ownerOf(policy.plan, cls, policy.timezone, slotAt);
    const name = planSnapshotName(owner.label, partition, slotAt);
    if (custom.includes(name) || misses.has(name)) continue;
    const run = runs.find((r) => r.slotAt === slotAt);
    misses.set(name, { label: owner.label, slotAt, name, gap: gapOf(run) });
  }
  return [...misses.values()].sort((a, b) => a.slotAt - b.slotAt);
}

export function assess(
  policy: ProtectionPolicy | undefined,
  facts: PartitionFacts,
  runs: readonly PlanRun[],
  firstSeenAt: number,
  now: number,
): Assessment {
  const automatic: RestorePoint[] = facts.frequencies
    .map((type) => ({ kind: 'automatic' as const, type, periodMs: FREQUENCY_PERIOD_MS[type] }))
    .sort((a, b) => a.periodMs - b.periodMs);
  const custom = facts.custom.map((name) => customPoint(name, facts, runs));
  custom.sort((a, b) => (b.takenAt ?? Number.NEGATIVE_INFINITY) - (a.takenAt ?? Number.NEGATIVE_INFINITY));
  const knownTimes = custom.map((c) => c.takenAt).filter((t): t is number => t !== null);
  const shortest = automatic[0];
  const candidates = [...knownTimes, ...(shortest?.kind === 'automatic' ? [now - shortest.periodMs] : [])];
  const newestAt = candidates.length === 0 ? null : Math.max(...candidates);
  const oldestAt = knownTimes.length === 0 ? null : Math.min(...knownTimes);
  const problems: ProtectionProblem[] = [];
  if (policy !== undefined) {
    const missing = policy.frequencies.filter((type) => !facts.frequencies.includes(type));
    if (missing.length > 0) problems.push({ kind: 'frequency_missing', missing, required: policy.frequencies });

    const age = newestAt === null ? Number.POSITIVE_INFINITY : now - newestAt;
    if (age >= policy.maxAge.warnMs) {
      problems.push({
        kind: 'stale',
        level: age >= policy.maxAge.criticalMs ? 'critical' : 'warn',
        newestAt,
        warnMs: policy.maxAge.warnMs,
        criticalMs: policy.maxAge.criticalMs,
      });
    }

    const misses = planMisses(policy, facts.partition, facts.custom, runs, firstSeenAt, now);
    if (misses.length > 0) problems.push({ kind: 'plan_missing', missing: misses });

    const count = facts.custom.length;
    if (count >= CUSTOM_SLOTS || count > CUSTOM_SLOTS - policy.reserve) {
      const oldest = [...custom].reverse().find((c) => c.takenAt !== null);
      problems.push({
        kind: 'slots',
        level: count >= CUSTOM_SLOTS ? 'full' : 'reserve',
        count,
        max: CUSTOM_SLOTS,
        reserve: policy.reserve,
        oldest: oldest?.takenAt == null ? undefined : { name: oldest.name, takenAt: oldest.takenAt },
      });
    }

    if (facts.usedBySnapshots !== null && facts.usedBySnapshots > policy.snapshotSpacePercent) {
      problems.push({
        kind: 'snapshot_space',
        usedPercent: facts.usedBySnapshots,
        limitPercent: policy.snapshotSpacePercent,
      });
    }
  }
  return { restorePoints: [...automatic, ...custom], newestAt, oldestAt, problems };
}
