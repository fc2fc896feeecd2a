/**
 * `status` and `restore`: what the caller may see of protection, as data. A single partition is read live
 * from OVH (its snapshots with their expirations); many partitions come from the last scan, one line each.
 * Nothing is shown that the caller could not read with `list`: the gate decides every partition.
 */
import { type InstantProblem, looksLikeDate, parseIsoInstant } from '../../shared/calendar.js';
import type { Clock } from '../../shared/clock.js';
import { DAY_MS, type DurationProblem, parseDuration } from '../../shared/duration.js';
import { excerpt } from '../../shared/excerpt.js';
import { NashaError, refused } from '../errors.js';
import type { ActionGate } from '../gate.js';
import type { Actor } from '../model.js';
import type { Policy } from '../policy.js';
import type { Page, PartitionTarget, SnapshotService } from '../snapshot-service.js';
import { type Assessment, assess, type RestorePoint } from './assess.js';
import { policyFor } from './coverage.js';
import type { ProtectionConfig, ProtectionProblem } from './model.js';
import type { PlanRun, ProtectionOvh, ProtectionRepository, ScannedPartition } from './ports.js';
import { retentionMs } from './schedule.js';

/** Partitions per page of a status summary (read from the database: no OVH request each). */
export const STATUS_LINES_PER_PAGE = 25;

/** One partition in a summary. */
export interface StatusLine {
  service: string;
  partition: string;
  policy: string;
  /** When the last scan read it (null: not scanned yet). */
  scannedAt: number | null;
  problems: readonly ProtectionProblem[];
  newestAt: number | null;
  customCount: number | null;
  frequencies: readonly string[];
}

export type StatusScope = { kind: 'all' } | { kind: 'service'; service: string } | { kind: 'policy'; policy: string };

export type StatusAnswer =
  | {
      kind: 'partition';
      target: PartitionTarget;
      /** Undefined: no policy covers it (its restore points are shown all the same). */
      policy: ProtectionConfig['policies'][number] | undefined;
      assessment: Assessment;
      /** The plan runs of its policy's retention window (for "which slots are there"). */
      runs: readonly PlanRun[];
      firstSeenAt: number | undefined;
      now: number;
    }
  | {
      kind: 'list';
      scope: StatusScope;
      query: string | undefined;
      page: Page<StatusLine>;
      /** No inventory of covered partitions was ever taken: an empty page means "not known yet", not "none". */
      inventoryPending: boolean;
      now: number;
    };

export interface RestoreAnswer {
  target: PartitionTarget;
  at: number;
  now: number;
  /** The newest custom snapshot taken at or before the moment (what restores it best). */
  best: Extract<RestorePoint, { kind: 'custom' }> | undefined;
  /** The first custom snapshot after the moment (when none is before it). */
  after: Extract<RestorePoint, { kind: 'custom' }> | undefined;
  /** Automatic snapshots that may be from before the moment (their time is not known, only its bound). */
  automatic: readonly Extract<RestorePoint, { kind: 'automatic' }>[];
  /** Custom snapshots whose time the bot does not know. */
  undated: readonly string[];
  protocol: string | undefined;
  /** The NAS-HA service's IP (for the share's address), when OVH gives it. */
  ip: string | null;
  /**
   * How the caller can take the safety snapshot before copying back, as the gate decides it now: a snapshot
   * (at once or by approval), an incident quick snapshot, or neither (someone else must).
   */
  safety: 'create' | 'quick' | 'none';
}

export interface ProtectionQueriesDeps {
  config: ProtectionConfig | undefined;
  store: ProtectionRepository;
  gate: ActionGate;
  policy: Pick<Policy, 'canSeeService'>;
  service: Pick<SnapshotService, 'snapshots'>;
  ovh: ProtectionOvh;
  clock: Clock;
}

export class ProtectionQueries {
  constructor(private readonly deps: ProtectionQueriesDeps) {}

  async status(actor: Actor, query: string | undefined, page = 1): Promise<StatusAnswer> {
    const now = this.deps.clock.now();
    const text = query?.trim() === '' ? undefined : query?.trim();
    if (text?.includes('/')) {
      const slash = text.indexOf('/');
      return this.partitionStatus(actor, { service: text.slice(0, slash), partition: text.slice(slash + 1) }, now);
    }
    const config = this.deps.config;
    if (config === undefined) throw new NashaError({ kind: 'protection_off' });
    let scope: StatusScope = { kind: 'all' };
    if (text !== undefined) {
      if (config.policies.some((p) => p.name === text)) scope = { kind: 'policy', policy: text };
      else if (await this.deps.policy.canSeeService(actor, text)) scope = { kind: 'service', service: text };
      else {
        const visible = await this.visiblePolicies(actor);
        throw new NashaError({ kind: 'status_target_unknown', text: excerpt(text, 80), policies: visible });
      }
    }
    const covered = (await this.deps.store.covered()).filter(
      (p) =>
        scope.kind === 'all' ||
        (scope.kind === 'service' && p.service === scope.service) ||
        (scope.kind === 'policy' && p.policy === scope.policy),
    );
    const visible = await this.readable(actor, covered);
    const lines = visible.map(lineOf);
    const inventoryPending = lines.length === 0 && (await this.deps.store.inventoryTakenAt()) === undefined;
    const size = STATUS_LINES_PER_PAGE;
    const pageCount = Math.max(1, Math.ceil(lines.length / size));
    const current = Math.min(Math.max(1, Math.floor(page) || 1), pageCount);
    return {
      kind: 'list',
      scope,
      query: text,
      page: { items: lines.slice((current - 1) * size, current * size), page: current, pageCount, total: lines.length },
      inventoryPending,
      now,
    };
  }

  async restore(actor: Actor, target: PartitionTarget, atText: string | undefined): Promise<RestoreAnswer> {
    const now = this.deps.clock.now();
    const at = parseRestoreTime(atText, now);
    const verdict = await this.deps.gate.evaluate(actor, 'protection.restore', target);
    if (verdict.kind === 'refused') throw refused(verdict.refusal);
    const { assessment } = await this.live(actor, target, now);
    const custom = assessment.restorePoints.filter(
      (p): p is Extract<RestorePoint, { kind: 'custom' }> => p.kind === 'custom',
    );
    const dated = custom.filter((p) => p.takenAt !== null).sort((a, b) => (a.takenAt ?? 0) - (b.takenAt ?? 0));
    const before = dated.filter((p) => (p.takenAt ?? 0) <= at);
    const reads = this.deps.ovh('interactive');
    const [partition, storage, safety] = await Promise.all([
      reads.getPartition(target.service, target.partition).catch(() => undefined),
      reads
        .getService(target.service)
        .then((service) => service.ip ?? null)
        .catch(() => null),
      this.safetyFor(actor, target),
    ]);
    return {
      target,
      at,
      now,
      best: before[before.length - 1],
      after: before.length === 0 ? dated[0] : undefined,
      automatic: assessment.restorePoints.filter(
        (p): p is Extract<RestorePoint, { kind: 'automatic' }> => p.kind === 'automatic' && now - p.periodMs <= at,
      ),
      undated: custom.filter((p) => p.takenAt === null).map((p) => p.name),
      protocol: partition?.protocol,
      ip: storage,
      safety,
    };
  }

  /** Which safety snapshot the caller may take: the restore help offers only a command that would run for them. */
  private async safetyFor(actor: Actor, target: PartitionTarget): Promise<RestoreAnswer['safety']> {
    if ((await this.deps.gate.evaluate(actor, 'snapshot.create', target)).kind !== 'refused') return 'create';
    if ((await this.deps.gate.evaluate(actor, 'snapshot.quick', target)).kind !== 'refused') return 'quick';
    return 'none';
  }

  private async partitionStatus(actor: Actor, target: PartitionTarget, now: number): Promise<StatusAnswer> {
    const verdict = await this.deps.gate.evaluate(actor, 'protection.status', target);
    if (verdict.kind === 'refused') throw refused(verdict.refusal);
    const live = await this.live(actor, target, now);
    return { kind: 'partition', target, now, ...live };
  }

  /** The partition read live (its permission checked by the read itself), assessed against its policy. */
  private async live(
    actor: Actor,
    target: PartitionTarget,
    now: number,
  ): Promise<{
    policy: ProtectionConfig['policies'][number] | undefined;
    assessment: Assessment;
    runs: PlanRun[];
    firstSeenAt: number | undefined;
  }> {
    const page = await this.deps.service.snapshots(actor, target);
    const item = page.items[0];
    if (item === undefined) throw refused({ kind: 'not_visible', action: 'protection.status', target });
    const policy = this.deps.config === undefined ? undefined : policyFor(this.deps.config, target);
    const covered = (await this.deps.store.covered()).find(
      (p) => p.service === target.service && p.partition === target.partition,
    );
    const longest = Math.max(0, ...(policy?.plan ?? []).map(retentionMs));
    const [known, runs] = await Promise.all([
      this.deps.store.knownCreations(target.service, target.partition),
      this.deps.store.runsOf(target.service, target.partition, now - longest - 8 * DAY_MS),
    ]);
    const assessment = assess(
      policy,
      {
        service: target.service,
        partition: target.partition,
        frequencies: item.schedule,
        custom: item.custom.map((c) => c.name),
        usedBySnapshots: covered?.scan?.usedBySnapshots ?? null,
        known,
        expirations: new Map(item.custom.map((c) => [c.name, c.expiration ?? null])),
      },
      runs,
      covered?.firstSeenAt ?? now,
      now,
    );
    return { policy, assessment, runs, firstSeenAt: covered?.firstSeenAt };
  }

  private async readable(actor: Actor, partitions: readonly ScannedPartition[]): Promise<ScannedPartition[]> {
    const verdicts = await Promise.all(
      partitions.map((p) =>
        this.deps.gate.evaluate(actor, 'protection.status', { service: p.service, partition: p.partition }),
      ),
    );
    return partitions.filter((_p, i) => verdicts[i]?.kind !== 'refused');
  }

  /** Policies that cover some partition the actor may see (for suggestions: never a policy of nothing theirs). */
  private async visiblePolicies(actor: Actor): Promise<string[]> {
    const visible = await this.readable(actor, await this.deps.store.covered());
    return [...new Set(visible.map((p) => p.policy))].sort();
  }
}

function lineOf(partition: ScannedPartition): StatusLine {
  return {
    service: partition.service,
    partition: partition.partition,
    policy: partition.policy,
    scannedAt: partition.scan?.scannedAt ?? null,
    problems: partition.scan?.problems ?? [],
    newestAt: partition.scan?.newestAt ?? null,
    customCount: partition.scan?.custom.length ?? null,
    frequencies: partition.scan?.frequencies ?? [],
  };
}

/** `--at`: an ISO 8601 date or date-time with zone, or how long ago (`3h`, `2d`, `1d12h`, optionally "ago"). */
export function parseRestoreTime(input: string | undefined, now: number): number {
  const text = (input ?? '').trim();
  const problem = (
    why: 'missing' | 'syntax' | 'not_a_date' | 'duration' | 'future',
    detail?: InstantProblem | DurationProblem,
  ) => new NashaError({ kind: 'invalid_restore_time', text: text.slice(0, 60), why, detail, now });
  if (text === '') throw problem('missing');
  let at: number;
  if (looksLikeDate(text)) {
    const parsed = parseIsoInstant(text);
    if (!parsed.ok) throw problem('not_a_date', parsed.problem);
    at = parsed.ms;
  } else if (/^\d/.test(text)) {
    const parsed = parseDuration(text.replace(/\s+ago$/i, ''));
    if (!parsed.ok) throw problem('duration', parsed.problem);
    at = now - parsed.ms;
  } else throw problem('syntax');
  if (at > now) throw problem('future');
  return at;
}
