/**
 * Plan snapshots: each covered partition gets each retention class's snapshot at its slot, through the same
 * pipeline as people's changes (ChangeDesk → gate → write-ahead intent → OVH → task followed → audit), as the
 * policy's system actor. OVH deletes them at their expiration, which implements `keep`; the bot deletes nothing.
 *
 * Exactly once: a slot is claimed in the database (its primary key) before anything is sent, and its name is the
 * same whoever computes it, so another replica, a restart or a retry finds it taken (or OVH refuses a second one).
 * A slot missed while the bot was down is taken at the next start if it is still the class's latest, and its
 * audit record says it was late and why. A partition without a free custom slot beyond the reserve is skipped
 * (the scanner's alert says why); a failed or skipped slot is tried again a few times while it is still useful.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { MINUTE_MS } from '../../shared/duration.js';
import { InFlightWork } from '../../shared/in-flight.js';
import { pool } from '../../shared/pool.js';
import { auditProblem } from '../audit-detail.js';
import type { ChangeDesk } from '../desk.js';
import type { AuditSink } from '../ports.js';
import type { Problem } from '../problems.js';
import type { ChangeResult } from '../snapshot-service.js';
import { protectionActor } from './actor.js';
import { CUSTOM_SLOTS, type PlanClass, type PlanGap, type ProtectionConfig, type ProtectionPolicy } from './model.js';
import type { Pacer, PlanRun, ProtectionOvh, ProtectionRepository, RunKey } from './ports.js';
import { expiresAt, latestSlot, nextSlot, ownerOf, planSnapshotName } from './schedule.js';

/** How long a claim on a slot holds before another replica may take it over (its holder died). */
const CLAIM_MS = 15 * MINUTE_MS;
/** A failed or skipped slot is tried again after this, up to this many attempts in all, while still useful. */
export const PLAN_RETRY = { afterMs: 15 * MINUTE_MS, maxAttempts: 4 };
/** Partitions worked on at once; the pacer and the OVH request budget pace them anyway. */
const DEFAULT_CONCURRENCY = 4;
/** Requests one plan run makes before its task is followed: the slot check, the pre-check, the creation. */
const REQUESTS_PER_RUN = 3;

export type PlanResult = 'taken' | 'existed' | 'skipped' | 'failed';

/** Hears how plan runs go (metrics). */
export interface PlanObserver {
  planRun(policy: string, result: PlanResult, latenessMs: number): void;
}

export interface PlanSchedulerDeps {
  config: ProtectionConfig;
  store: ProtectionRepository;
  desk: Pick<ChangeDesk, 'submit'>;
  audit: AuditSink;
  ovh: ProtectionOvh;
  pacer: Pacer;
  clock: Clock;
  logger?: Logger | undefined;
  observer?: PlanObserver | undefined;
  concurrency?: number | undefined;
  /** This process, as the owner of slot claims. */
  owner?: string | undefined;
}

/** What one pass did, slot by slot (started ones are followed in the background; `settled` waits for them). */
export interface PlanPass {
  due: number;
  started: number;
  existed: number;
  skipped: number;
  failed: number;
  /** Slots another replica (or an earlier pass) has. */
  elsewhere: number;
  /** Lateness of the runs this pass started, in ms. */
  lateness: number[];
}

interface DueSlot {
  service: string;
  partition: string;
  policy: ProtectionPolicy;
  cls: PlanClass;
  slotAt: number;
  name: string;
}

export class PlanScheduler {
  private readonly owner: string;
  private readonly startedAt: number;
  private readonly following = new InFlightWork();
  /** Slots this process saw settled: no need to ask the database again. */
  private readonly settledSlots = new Set<string>();
  private retryAt: number | undefined;

  constructor(private readonly deps: PlanSchedulerDeps) {
    this.owner = deps.owner ?? randomUUID();
    this.startedAt = deps.clock.now();
  }

  /** Resolves once every task started by a pass is followed to its end (or `timeoutMs` of wall time passed). */
  settled(timeoutMs = 60_000): Promise<boolean> {
    return this.following.drained(timeoutMs);
  }

  /** The slots due now: each class's latest slot on each covered partition, if still useful and owed. */
  async dueSlots(now: number): Promise<DueSlot[]> {
    const policies = new Map(this.deps.config.policies.map((p) => [p.name, p]));
    const due: DueSlot[] = [];
    for (const covered of await this.deps.store.covered()) {
      const policy = policies.get(covered.policy);
      if (policy === undefined) continue;
      const seen = new Set<number>();
      for (const cls of policy.plan) {
        const slotAt = latestSlot(cls, policy.timezone, now);
        // Slots before the policy covered the partition are not owed; a shared slot is its owner's.
        if (slotAt < covered.firstSeenAt || seen.has(slotAt)) continue;
        const owner = ownerOf(policy.plan, cls, policy.timezone, slotAt);
        if (owner !== cls || now >= expiresAt(owner, slotAt)) continue;
        seen.add(slotAt);
        if (this.settledSlots.has(slotKey(covered, slotAt))) continue;
        due.push({
          service: covered.service,
          partition: covered.partition,
          policy,
          cls: owner,
          slotAt,
          name: planSnapshotName(owner.label, covered.partition, slotAt),
        });
      }
    }
    return due;
  }

  /** When the next pass should run: the next slot of any class, or a retry. */
  nextDueAt(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const policy of this.deps.config.policies) {
      for (const cls of policy.plan) next = Math.min(next, nextSlot(cls, policy.timezone, now));
    }
    return this.retryAt === undefined ? next : Math.min(next, Math.max(now, this.retryAt));
  }

  /** Takes every due slot not taken yet. */
  async runDue(): Promise<PlanPass> {
    const now = this.deps.clock.now();
    const due = await this.dueSlots(now);
    const pass: PlanPass = {
      due: due.length,
      started: 0,
      existed: 0,
      skipped: 0,
      failed: 0,
      elsewhere: 0,
      lateness: [],
    };
    this.retryAt = undefined;
    await pool(due, this.deps.concurrency ?? DEFAULT_CONCURRENCY, async (slot) => {
      try {
        const result = await this.runSlot(slot);
        if (result === 'elsewhere') pass.elsewhere += 1;
        else {
          pass[result === 'taken' ? 'started' : result] += 1;
          if (result === 'taken') pass.lateness.push(this.deps.clock.now() - slot.slotAt);
          if (result === 'failed' || result === 'skipped') {
            this.retryAt = Math.min(
              this.retryAt ?? Number.POSITIVE_INFINITY,
              this.deps.clock.now() + PLAN_RETRY.afterMs,
            );
          }
        }
      } catch (error) {
        pass.failed += 1;
        this.deps.logger?.error({ err: error, name: slot.name }, 'protection: a plan run failed unexpectedly');
      }
    });
    if (pass.due > 0) this.deps.logger?.info({ ...pass, lateness: undefined }, 'protection: plan pass');
    return pass;
  }

  private async runSlot(slot: DueSlot): Promise<PlanResult | 'elsewhere'> {
    const { service, partition, policy, slotAt, name } = slot;
    const key: RunKey = { service, partition, slotAt };
    await this.deps.pacer.wait('background', REQUESTS_PER_RUN);
    const now = this.deps.clock.now();
    const lateMs = Math.max(0, now - slotAt);
    const run = await this.deps.store.claimRun(
      { service, partition, slotAt, label: slot.cls.label, policy: policy.name, name, lateMs },
      { owner: this.owner, until: now + CLAIM_MS },
      now,
      PLAN_RETRY,
    );
    if (run === undefined) {
      this.settledSlots.add(slotKey(slot, slotAt));
      return 'elsewhere';
    }
    let names: string[];
    try {
      names = await this.deps.ovh('background').listCustomSnapshots(service, partition);
    } catch (error) {
      const ovh = error instanceof Error ? error.message : String(error);
      return this.settle(run, 'failed', { gap: { cause: 'failed', problem: undefined, ovh } });
    }
    if (names.includes(name)) return this.settle(run, 'existed', { existed: true });
    if (names.length >= CUSTOM_SLOTS - policy.reserve) {
      this.deps.logger?.warn(
        { service, partition, name, count: names.length, reserve: policy.reserve },
        'protection: plan snapshot skipped, no free custom slot beyond the reserve',
      );
      return this.settle(run, 'skipped', { gap: { cause: 'reserve', count: names.length, reserve: policy.reserve } });
    }
    const expires = new Date(expiresAt(slot.cls, slotAt)).toISOString().replace('.000Z', 'Z');
    const outcome = await this.deps.desk.submit(protectionActor(policy.name), {
      action: 'snapshot.create',
      target: { service, partition },
      name,
      expires,
    });
    switch (outcome.kind) {
      case 'started': {
        await this.deps.store.updateRun(
          key,
          this.owner,
          { state: 'started', auditId: outcome.auditId, taskId: outcome.task?.taskId ?? null },
          this.deps.clock.now(),
        );
        // The audit record says which plan slot this is, how late, and whether the bot was down at its time.
        await this.deps.audit
          .update(outcome.auditId, {
            detail: {
              protection: {
                policy: policy.name,
                plan: { label: slot.cls.label, slotAt, lateMs, missed: slotAt < this.startedAt },
              },
            },
          })
          .catch((error: unknown) => this.deps.logger?.warn({ err: error, name }, 'could not annotate a plan record'));
        if (slotAt < this.startedAt) {
          this.deps.logger?.info(
            { service, partition, name, lateMs },
            'protection: took a plan snapshot missed while the bot was down',
          );
        }
        void this.following.track(outcome.done.then((result) => this.finish(run, result, lateMs)));
        return 'taken';
      }
      case 'failed':
      case 'refused':
      case 'noop':
        if (outcome.problem.kind === 'snapshot_exists') return this.settle(run, 'existed', { existed: true });
        return this.settle(run, 'failed', { gap: failedGap(outcome.problem) });
      case 'pending':
      case 'already_pending':
      case 'needs_reason':
        // The gate runs a policy's own snapshots directly; this would be a configuration the gate does not know.
        return this.settle(run, 'failed', {
          gap: {
            cause: 'failed',
            problem: { kind: 'refused', refusal: { kind: 'approval_required', action: 'snapshot.create' } },
            ovh: undefined,
          },
        });
    }
  }

  private async finish(run: PlanRun, result: ChangeResult, lateMs: number): Promise<void> {
    const ok = result.outcome === 'succeeded' || result.outcome === 'applied';
    const unknown = result.outcome === 'unknown';
    const key: RunKey = run;
    try {
      if (ok) await this.deps.store.updateRun(key, this.owner, { state: 'done' }, this.deps.clock.now());
      else if (!unknown) {
        await this.deps.store.updateRun(
          key,
          this.owner,
          {
            state: 'failed',
            gap: {
              cause: 'failed',
              problem: undefined,
              ovh: result.outcome === 'failed' ? result.failure.details : undefined,
            },
          },
          this.deps.clock.now(),
        );
      }
    } catch (error) {
      this.deps.logger?.error({ err: error, name: run.name }, 'protection: could not record a plan run');
    }
    if (ok) this.settledSlots.add(slotKey(run, run.slotAt));
    if (!unknown) this.deps.observer?.planRun(run.policy, ok ? 'taken' : 'failed', lateMs);
  }

  private async settle(
    run: PlanRun,
    result: Exclude<PlanResult, 'taken'>,
    patch: { gap?: PlanGap; existed?: boolean },
  ): Promise<PlanResult> {
    const state = result === 'existed' ? 'done' : result;
    await this.deps.store.updateRun(run, this.owner, { state, ...patch }, this.deps.clock.now());
    if (result === 'existed') this.settledSlots.add(slotKey(run, run.slotAt));
    if (result !== 'existed') this.deps.observer?.planRun(run.policy, result, this.deps.clock.now() - run.slotAt);
    return result;
  }
}

function slotKey(partition: { service: string; partition: string }, slotAt: number): string {
  return `${partition.service}/${partition.partition}@${slotAt}`;
}

function failedGap(problem: Problem): PlanGap {
  return {
    cause: 'failed',
    problem: auditProblem(problem),
    ovh: problem.kind === 'ovh' ? problem.ovhMessage : undefined,
  };
}
