import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NashaClient } from '../ovh/client.js';
import { OvhApiError } from '../ovh/errors.js';
import {
  type CustomSnapshot,
  MAX_CUSTOM_SNAPSHOTS,
  type Partition,
  type SnapshotType,
  type Storage,
  type Task,
} from '../ovh/models.js';
import type { TaskResult, TaskTracker } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import { InFlightWork } from '../shared/in-flight.js';
import { withFreshReads, withRequestClass } from '../shared/request-context.js';
import type { ApprovableAction } from './actions.js';
import { auditProblem } from './audit-detail.js';
import { NashaError, refused, toNashaError } from './errors.js';
import type { ActionGate, RunVerdict } from './gate.js';
import type { Actor, Target } from './model.js';
import { checkSnapshotName } from './naming.js';
import type { Policy } from './policy.js';
import type {
  AuditSink,
  ChangeIntent,
  ChangeOrigin,
  JournalEntry,
  JsonValue,
  Lease,
  StoredIntent,
  TaskJournalPort,
} from './ports.js';
import { isNoop, type OvhProblem, type OvhStep, type TaskFailure } from './problems.js';
import {
  findOnOvh,
  isAmbiguousWriteFailure,
  keepRenewed,
  type LostAnswer,
  lostAnswer,
  type OvhFinding,
  type Settlement,
  TASK_CLOCK_SLACK_MS,
} from './reconcile.js';
import { suggest } from './suggest.js';

/** Partitions shown per page where each costs OVH requests. */
export const PARTITIONS_PER_PAGE = 10;
export const LIST_PARTITIONS_PER_PAGE = 5;
/** How long a change's OVH task is followed. */
export const TASK_DEADLINE_MS = 10 * 60_000;
/** Default lease on a change's intent (see SnapshotServiceDeps.intentLeaseMs). */
export const DEFAULT_INTENT_LEASE_MS = 20_000;
/** After a lost answer: waits before each check on OVH. "Not applied" needs two checks that agree. */
const LOST_ANSWER_CHECK_DELAYS_MS = [0, 2_000, 5_000];
/** The sweep gives up asking OVH about one change after this many tries (about two hours of back-off). */
const MAX_INTENT_CHECKS = 12;
/** Intents settled per sweep pass. */
const INTENTS_PER_PASS = 20;

export interface PartitionTarget {
  service: string;
  partition: string;
}

export type ChangeRequest =
  | { action: 'schedule.add'; target: PartitionTarget; type: SnapshotType }
  | { action: 'schedule.remove'; target: PartitionTarget; type: SnapshotType }
  | { action: 'snapshot.create'; target: PartitionTarget; name: string; expiration?: string | undefined }
  | { action: 'snapshot.delete'; target: PartitionTarget; name: string };

/** How a change ended, as data: the Slack layer words it (OVH's own words are the only text in it). */
export type ChangeResult =
  | { outcome: 'succeeded'; taskId: number }
  | { outcome: 'failed'; taskId: number; failure: TaskFailure }
  /** OVH's answer was lost, but OVH shows the change made (no task found to name). */
  | { outcome: 'applied'; taskId: null; settlement: Settlement }
  /** OVH did not make the change: checked on OVH after its answer was lost, or it was never sent. */
  | { outcome: 'not_applied'; taskId: null; settlement: Settlement }
  /** OVH could not be asked yet: the sweep goes on checking and reports to the same reply and audit record. */
  | { outcome: 'unknown'; taskId: null; settlement: Settlement };

export interface ChangeStarted {
  auditId: string;
  /** OVH's task; undefined when OVH's answer was lost: `done` then says what OVH shows. */
  task: Task | undefined;
  /** Settles when OVH's task ends, or when the check after a lost answer concludes (never rejects). */
  done: Promise<ChangeResult>;
}

/** Hears how changes settled by the reconciliation sweep (or resumed after a restart) ended. */
export type ChangeReporter = (origin: ChangeOrigin, result: ChangeResult) => Promise<void>;

export interface Page<T> {
  items: T[];
  page: number;
  pageCount: number;
  total: number;
}

export interface Inspection {
  enabled: SnapshotType[];
  custom: string[];
  snapshot: CustomSnapshot | undefined;
}

export interface PartitionSnapshots {
  service: string;
  partition: string;
  schedule: SnapshotType[];
  custom: CustomSnapshot[];
}

export interface SnapshotServiceDeps {
  client: NashaClient;
  tracker: TaskTracker;
  /** Decides reads (changes arrive with the gate's verdict). */
  gate: ActionGate;
  /** Visibility: which services and partitions the user may see (listings, suggestions). */
  policy: Pick<Policy, 'canSeeService' | 'filterReadable'>;
  audit: AuditSink;
  journal: TaskJournalPort;
  clock: Clock;
  logger?: Logger;
  /**
   * Lease on a change's write-ahead intent while this process works on it, renewed every third of it. Once it
   * runs out (the process died) another replica, or the next start, reconciles the change with OVH; so it is
   * also how long a request still out at OVH gets to land: more than one OVH attempt (OVH_TIMEOUT_MS).
   */
  intentLeaseMs?: number;
}

/** A POST/DELETE whose answer never came back usably; `lease` is still being renewed. */
interface UnansweredWrite {
  intent: ChangeIntent;
  error: unknown;
  lease: { stop(): void };
}

/**
 * What lets a change be sent: the gate's `run` verdict for it, or an approval the approvals service has just
 * re-validated. Nothing else does, so the two-person rule does not rest on each surface routing correctly.
 */
export type ChangeAuthorization =
  /** `reason`: a break-glass change's reason, kept in its audit record with the group that allowed it. */
  { verdict: RunVerdict; reason?: string | undefined } | { approvedAuditId: string };

/**
 * What the bot does, independent of Slack: every read and change on NAS-HA snapshots, with the
 * permission check first, the audit record before the OVH write, and the task followed after.
 */
export class SnapshotService {
  /** OVH writes between "audit written" and "task journaled" (or the check of a lost answer): shutdown waits. */
  private readonly writes = new InFlightWork();
  /** This process, as the owner of intent leases. */
  private readonly owner = randomUUID();
  private readonly leaseMs: number;

  constructor(private readonly deps: SnapshotServiceDeps) {
    this.leaseMs = deps.intentLeaseMs ?? DEFAULT_INTENT_LEASE_MS;
  }

  /**
   * Resolves true once no change is between its audit record and its journal entry (so a restart
   * can finish everything), or false after `timeoutMs`. Task tracking itself is not waited for.
   */
  drained(timeoutMs: number): Promise<boolean> {
    return this.writes.drained(timeoutMs);
  }

  // ---------------------------------------------------------------- reads

  async services(actor: Actor): Promise<Storage[]> {
    const names = await this.ovh(() => this.deps.client.listServices(), 'list services');
    const visible = await this.visibleServices(actor, names);
    // A request per service: bulk work, which lets other people's single requests go first.
    return withRequestClass('bulk', actor.userId, () =>
      Promise.all(
        visible.map((name) => this.ovh(() => this.deps.client.getService(name), 'read service', { service: name })),
      ),
    );
  }

  async partitions(actor: Actor, service: string, page = 1): Promise<Page<Partition>> {
    const names = await this.readablePartitions(actor, service);
    const slice = paginate(names, page, PARTITIONS_PER_PAGE);
    const items = await withRequestClass('bulk', actor.userId, () =>
      Promise.all(
        slice.items.map((p) =>
          this.ovh(() => this.deps.client.getPartition(service, p), 'read partition', { service, partition: p }),
        ),
      ),
    );
    return { ...slice, items };
  }

  /** Frequencies and custom snapshots (with expirations) of one partition, or a page of a service's. */
  async snapshots(actor: Actor, target: Target, page = 1): Promise<Page<PartitionSnapshots>> {
    if (target.partition !== undefined) {
      await this.requireRead(actor, target);
      const one = await this.partitionSnapshots(actor, target.service, target.partition);
      return { items: [one], page: 1, pageCount: 1, total: 1 };
    }
    const names = await this.readablePartitions(actor, target.service);
    const slice = paginate(names, page, LIST_PARTITIONS_PER_PAGE);
    const items = await withRequestClass('bulk', actor.userId, () =>
      Promise.all(slice.items.map((p) => this.partitionSnapshots(actor, target.service, p))),
    );
    return { ...slice, items };
  }

  async scheduleShow(actor: Actor, target: PartitionTarget, type: SnapshotType): Promise<{ enabled: SnapshotType[] }> {
    await this.requireRead(actor, target);
    const enabled = await this.enabledTypes(target, actor);
    if (!enabled.includes(type)) {
      throw new NashaError({ kind: 'frequency_not_enabled', target, type, enabled: sortTypes(enabled) });
    }
    return { enabled };
  }

  async showSnapshot(actor: Actor, target: PartitionTarget, name: string): Promise<CustomSnapshot> {
    await this.requireRead(actor, target);
    try {
      return await this.deps.client.getCustomSnapshot(target.service, target.partition, name);
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) throw await this.snapshotNotFound(target, name, error);
      throw toNashaError(error, 'read snapshot', target, name);
    }
  }

  /** Names for option menus: services the user can see. */
  async serviceNames(actor: Actor): Promise<string[]> {
    return this.visibleServices(actor, await this.ovh(() => this.deps.client.listServices(), 'list services'));
  }

  /** Names for option menus: partitions of a service the user can read. */
  async partitionNames(actor: Actor, service: string): Promise<string[]> {
    return this.readablePartitions(actor, service);
  }

  /** Custom snapshot names of a partition (for menus and suggestions). */
  async snapshotNames(actor: Actor, target: PartitionTarget): Promise<string[]> {
    await this.requireRead(actor, target);
    return this.ovh(
      () => this.deps.client.listCustomSnapshots(target.service, target.partition),
      'list snapshots',
      target,
    );
  }

  async enabledFrequencies(actor: Actor, target: PartitionTarget): Promise<SnapshotType[]> {
    await this.requireRead(actor, target);
    return this.enabledTypes(target, actor);
  }

  /**
   * Live facts about what a destructive change would touch (for approval previews and the
   * re-validation before execution). No permission check: callers decide who may see it.
   */
  async inspect(request: ChangeRequest): Promise<Inspection> {
    const target = request.target;
    // What a change would touch is read from OVH, not from the listing cache.
    const [enabled, custom] = await withFreshReads(() =>
      Promise.all([this.enabledTypes(target), this.customNames(target)]),
    );
    if (request.action === 'snapshot.delete' || request.action === 'snapshot.create') {
      if (request.action === 'snapshot.delete' && !custom.includes(request.name)) {
        throw new NashaError({
          kind: 'snapshot_missing',
          target,
          name: request.name,
          suggestions: suggest(request.name, custom),
        });
      }
      const snapshot =
        request.action === 'snapshot.delete'
          ? await this.ovh(
              () => this.deps.client.getCustomSnapshot(target.service, target.partition, request.name),
              'read snapshot',
              target,
              request.name,
            )
          : undefined;
      return { enabled: sortTypes(enabled), custom, snapshot };
    }
    if (request.action === 'schedule.remove' && !enabled.includes(request.type)) {
      throw new NashaError({ kind: 'frequency_not_enabled', target, type: request.type, enabled: sortTypes(enabled) });
    }
    if (request.action === 'schedule.add' && enabled.includes(request.type)) {
      throw new NashaError({ kind: 'frequency_enabled', target, type: request.type });
    }
    return { enabled: sortTypes(enabled), custom, snapshot: undefined };
  }

  // ---------------------------------------------------------------- changes

  /**
   * Runs one change the gate allowed (or an approval authorized): pre-checks against the live API (clear errors
   * instead of OVH's terse ones), an audit record written before the OVH call, the call, then the task followed.
   * `reply` is kept with the task so the result can be reported after a restart. Surfaces call
   * `ChangeDesk.submit`, which asks the gate first.
   */
  async change(
    actor: Actor,
    request: ChangeRequest,
    reply: JsonValue,
    authorization: ChangeAuthorization,
  ): Promise<ChangeStarted> {
    const { target } = request;
    const auditBase = { actor, action: request.action, target, subject: subjectOf(request) };
    let audit: { id: string };
    if ('approvedAuditId' in authorization) {
      // Authorized by an approval that the approvals service has just re-validated.
      audit = { id: authorization.approvedAuditId };
      await this.deps.audit.update(audit.id, { outcome: 'started' });
    } else {
      const { verdict } = authorization;
      if (verdict.action !== request.action || !sameTarget(verdict.target, target)) {
        throw new Error(`a verdict for ${verdict.action} cannot authorize ${request.action}`);
      }
      // Run by break-glass: the record says so, as data, from the verdict itself.
      const glass = verdict.basis.kind === 'break_glass' ? verdict.basis : undefined;
      audit = await this.deps.audit.record({
        ...auditBase,
        outcome: 'started',
        ...(glass !== undefined && {
          detail: { breakGlass: { group: glass.groupId }, reason: authorization.reason },
        }),
      });
    }
    const written = await this.writes.track(this.writeAndJournal(request, audit.id, reply));
    if ('task' in written) {
      const done = this.follow(target.service, written.task.taskId, audit.id, TASK_DEADLINE_MS, written.task);
      return { auditId: audit.id, task: written.task, done };
    }
    const done = this.writes.track(this.settleLostAnswer(written));
    return { auditId: audit.id, task: undefined, done };
  }

  /**
   * The write-ahead intent, the pre-checks, the OVH write, then its task id in the audit record and the
   * journal (closing the intent). A refusal is audited and thrown; an answer lost on the way (OVH may have
   * done it) comes back as an UnansweredWrite, still leased, for `settleLostAnswer`.
   */
  private async writeAndJournal(
    request: ChangeRequest,
    auditId: string,
    reply: JsonValue,
  ): Promise<{ task: Task } | UnansweredWrite> {
    const { service, partition } = request.target;
    const intent: ChangeIntent = {
      id: randomUUID(),
      service,
      partition,
      kind: request.action,
      subject: subjectOf(request),
      auditId,
      reply,
      createdAt: this.deps.clock.now(),
      sentAt: null,
      checks: 0,
    };
    try {
      await this.deps.journal.addIntent(intent, this.lease());
    } catch (error) {
      throw await this.refused(undefined, auditId, request, error);
    }
    const lease = this.keepLeased(intent.id);
    let task: Task;
    try {
      await withFreshReads(() => this.precheck(request));
      intent.sentAt = this.deps.clock.now();
      await this.deps.journal.markIntentSent(intent.id, intent.sentAt);
    } catch (error) {
      lease.stop();
      throw await this.refused(intent.id, auditId, request, error);
    }
    try {
      task = await this.write(request);
    } catch (error) {
      if (isAmbiguousWriteFailure(error)) return { intent, error, lease };
      lease.stop();
      throw await this.refused(intent.id, auditId, request, error);
    }
    lease.stop();
    try {
      await this.deps.audit.update(auditId, { taskId: task.taskId });
      await this.deps.journal.attachTask(intent.id, this.journalEntry(intent, task.taskId));
    } catch (error) {
      // OVH has it; the intent stays open and the sweep will find the task there.
      await this.abandon(intent);
      throw error;
    }
    return { task };
  }

  /** A change that did not reach OVH, or that OVH refused: audited as failed, the intent closed. */
  private async refused(
    intentId: string | undefined,
    auditId: string,
    request: ChangeRequest,
    error: unknown,
  ): Promise<NashaError> {
    const failure = error instanceof NashaError ? error : toNashaError(error, stepOf(request), request.target);
    try {
      await this.deps.audit.update(auditId, {
        outcome: isNoop(failure.problem, request.action) ? 'noop' : 'failed',
        detail: { problem: auditProblem(failure.problem) },
      });
    } catch (auditError) {
      // The sweep will record it (as not applied) once it can.
      if (intentId !== undefined) await this.abandonId(intentId, 0);
      throw auditError;
    }
    if (intentId !== undefined) {
      await this.deps.journal
        .closeIntent(intentId, 'failed')
        .catch((closeError: unknown) =>
          this.deps.logger?.error({ err: closeError, intentId }, 'could not close a refused change intent'),
        );
    }
    return failure;
  }

  /**
   * After an ambiguous failure (timeout, reset, 5xx, gateway page): asks OVH what happened before saying
   * anything. A task found is followed; otherwise the change is applied or not as OVH shows it (not applied
   * only once two checks agree); if OVH cannot be asked, the intent is left to the sweep and the answer is
   * "unknown, being checked".
   */
  private async settleLostAnswer({ intent, error, lease }: UnansweredWrite): Promise<ChangeResult> {
    const lost = lostAnswer(error);
    this.deps.logger?.warn({ err: error, intentId: intent.id }, 'OVH answer to a change was lost; checking OVH');
    try {
      let notApplied: OvhFinding | undefined;
      let lastError: unknown = error;
      for (const delay of LOST_ANSWER_CHECK_DELAYS_MS) {
        if (delay > 0) await this.deps.clock.sleep(delay);
        let finding: OvhFinding;
        try {
          finding = await this.findOnOvh(intent);
        } catch (checkError) {
          lastError = checkError;
          continue;
        }
        if (finding.kind !== 'not_applied' || notApplied !== undefined) {
          return await this.concludeLive(intent, finding, lost);
        }
        notApplied = finding;
      }
      // Not two agreeing checks: the sweep looks again later.
      return await this.stillUnknown(intent, lastError, lost);
    } catch (recordError) {
      this.deps.logger?.error({ err: recordError, intentId: intent.id }, 'settling a lost OVH answer failed');
      await this.abandon(intent);
      return { outcome: 'unknown', taskId: null, settlement: { kind: 'checking', lost } };
    } finally {
      lease.stop();
    }
  }

  /** The live caller's view of a finding: the intent is closed (or journaled) before it hears the result. */
  private async concludeLive(intent: ChangeIntent, finding: OvhFinding, lost: LostAnswer): Promise<ChangeResult> {
    if (finding.kind === 'task') {
      return (await this.adopt(intent, finding.task, lost))?.done ?? this.handledElsewhere();
    }
    const result = await this.recordFinding(intent, finding, lost);
    await this.deps.journal.closeIntent(intent.id, finding.kind);
    return result;
  }

  /**
   * Journals a task found on OVH for an intent and follows it; undefined if the intent was closed meanwhile.
   * The audit record says how the task was found.
   */
  private async adopt(
    intent: ChangeIntent,
    task: Task,
    lost: LostAnswer,
  ): Promise<{ done: Promise<ChangeResult> } | undefined> {
    if (intent.auditId !== null) {
      await this.deps.audit.update(intent.auditId, {
        taskId: task.taskId,
        detail: { settlement: { kind: 'task_found', lost, taskId: task.taskId }, note: undefined },
      });
    }
    if (!(await this.deps.journal.attachTask(intent.id, this.journalEntry(intent, task.taskId)))) return undefined;
    this.deps.logger?.info({ intentId: intent.id, taskId: task.taskId }, 'found the OVH task of a change');
    return { done: this.follow(intent.service, task.taskId, intent.auditId, TASK_DEADLINE_MS, task) };
  }

  private handledElsewhere(): ChangeResult {
    return { outcome: 'unknown', taskId: null, settlement: { kind: 'other_replica' } };
  }

  /** The audit record says what OVH shows; the result says it to the user. */
  private recordFinding(
    intent: ChangeIntent,
    finding: Exclude<OvhFinding, { kind: 'task' }>,
    lost: LostAnswer,
  ): Promise<ChangeResult> {
    const seen = { lost, action: intent.kind, subject: intent.subject };
    return this.recordSettlement(
      intent,
      finding.kind,
      finding.kind === 'applied' ? { kind: 'shown_made', ...seen } : { kind: 'shown_not_made', ...seen },
    );
  }

  /** A change settled without a task: its audit record (an older version's note replaced), then the result. */
  private async recordSettlement(
    intent: ChangeIntent,
    outcome: 'applied' | 'not_applied',
    settlement: Settlement,
  ): Promise<ChangeResult> {
    if (intent.auditId !== null) {
      await this.deps.audit.update(intent.auditId, {
        outcome: outcome === 'applied' ? 'succeeded' : 'not_applied',
        detail: { settlement, note: undefined },
      });
    }
    return { outcome, taskId: null, settlement };
  }

  /**
   * OVH cannot be asked: the audit record says "unknown" (once), and the intent goes back to the sweep with
   * back-off; after MAX_INTENT_CHECKS tries it stays unknown for good and says so.
   */
  private async stillUnknown(
    intent: ChangeIntent,
    error: unknown,
    lost: LostAnswer,
    report?: ChangeReporter,
  ): Promise<ChangeResult> {
    const checks = intent.checks + 1;
    const final = checks >= MAX_INTENT_CHECKS;
    const settlement: Settlement = {
      kind: 'cannot_ask',
      lost,
      problem: checkProblem(error, intent),
      tries: checks,
      gaveUp: final,
    };
    const result: ChangeResult = { outcome: 'unknown', taskId: null, settlement };
    if (intent.checks === 0 || final) {
      if (intent.auditId !== null)
        await this.deps.audit.update(intent.auditId, { outcome: 'unknown', detail: { settlement, note: undefined } });
      await report?.(intent, result);
    }
    if (final) await this.deps.journal.closeIntent(intent.id, 'unknown');
    else {
      const retryIn = Math.min(15 * 60_000, 30_000 * 2 ** (checks - 1));
      await this.deps.journal.releaseIntent(intent.id, this.owner, { at: this.deps.clock.now() + retryIn, checks });
    }
    return result;
  }

  /**
   * One reconciliation pass (at startup, then periodically, on every replica): settles the intents whose
   * lease ran out (their writer died) and reports each result. Resolves with when the next one is due.
   */
  async reconcileDue(report: ChangeReporter): Promise<number | undefined> {
    const now = this.deps.clock.now();
    const claimed = await this.deps.journal.claimIntents(this.lease(), now, INTENTS_PER_PASS);
    for (const intent of claimed) {
      await this.reconcile(intent, report).catch(async (error: unknown) => {
        this.deps.logger?.error({ err: error, intentId: intent.id }, 'reconciling a change failed');
        await this.abandon(intent);
      });
    }
    return this.deps.journal.nextIntentDueAt();
  }

  /** The intent written for an audit record (an approved change's), if any. */
  changeIntentOf(auditId: string): Promise<StoredIntent | undefined> {
    return this.deps.journal.intentOfAudit(auditId);
  }

  private async reconcile(intent: ChangeIntent, report: ChangeReporter): Promise<void> {
    const lease = this.keepLeased(intent.id);
    try {
      if (intent.sentAt === null) {
        await this.reportSettled(
          intent,
          'not_applied',
          () => this.recordSettlement(intent, 'not_applied', NOT_SENT),
          report,
        );
        return;
      }
      // Whatever the writer saw (if it saw anything) is not kept with the intent: the answer never reached it.
      const lost: LostAnswer = { kind: 'not_heard' };
      let finding: OvhFinding;
      try {
        finding = await this.findOnOvh(intent);
      } catch (error) {
        await this.stillUnknown(intent, error, lost, report);
        return;
      }
      if (finding.kind === 'task') {
        const adopted = await this.adopt(intent, finding.task, lost);
        void adopted?.done.then((result) =>
          report(intent, result).catch((error: unknown) =>
            this.deps.logger?.error({ err: error, intentId: intent.id }, 'reporting a reconciled change failed'),
          ),
        );
        return;
      }
      const found = finding;
      await this.reportSettled(intent, found.kind, () => this.recordFinding(intent, found, lost), report);
    } finally {
      lease.stop();
    }
  }

  /** Sweep order: audit record, then the user, then the intent closed (a crash in between repeats, never loses). */
  private async reportSettled(
    intent: ChangeIntent,
    outcome: 'applied' | 'not_applied',
    record: () => Promise<ChangeResult>,
    report: ChangeReporter,
  ): Promise<void> {
    const result = await record();
    await report(intent, result).catch((error: unknown) =>
      this.deps.logger?.error({ err: error, intentId: intent.id }, 'reporting a reconciled change failed'),
    );
    await this.deps.journal.closeIntent(intent.id, outcome);
  }

  private async findOnOvh(intent: ChangeIntent): Promise<OvhFinding> {
    const since = intent.sentAt ?? intent.createdAt;
    const journaled = await this.deps.journal.journaledTaskIds(intent.service, since - TASK_CLOCK_SLACK_MS);
    return findOnOvh(this.deps.client, intent, since, new Set(journaled));
  }

  private journalEntry(intent: ChangeIntent, taskId: number): JournalEntry {
    return {
      service: intent.service,
      taskId,
      auditId: intent.auditId,
      kind: intent.kind,
      reply: intent.reply,
      deadlineAt: this.deps.clock.now() + TASK_DEADLINE_MS,
    };
  }

  private lease(): Lease {
    return { owner: this.owner, until: this.deps.clock.now() + this.leaseMs };
  }

  private keepLeased(intentId: string): { stop(): void } {
    return keepRenewed(
      () => this.deps.journal.renewIntent(intentId, this.lease()),
      Math.max(1, Math.floor(this.leaseMs / 3)),
      () => this.deps.logger?.warn({ intentId }, 'lost the lease on a change intent to another replica'),
    );
  }

  /** Hands an intent back to the sweep at once (work on it stopped half-way). */
  private abandon(intent: ChangeIntent): Promise<void> {
    return this.abandonId(intent.id, intent.checks);
  }

  private async abandonId(intentId: string, checks: number): Promise<void> {
    await this.deps.journal
      .releaseIntent(intentId, this.owner, { at: this.deps.clock.now(), checks })
      .catch((error: unknown) =>
        this.deps.logger?.error({ err: error, intentId }, 'could not release a change intent'),
      );
  }

  /**
   * After a restart: follows every task that was still running, updates its audit record, and
   * hands each result with its stored reply to `onResult`.
   */
  async resume(onResult: ChangeReporter): Promise<number> {
    const entries = await this.deps.journal.unfinished();
    for (const entry of entries) {
      const remaining = Math.max(1_000, entry.deadlineAt - this.deps.clock.now());
      void this.follow(entry.service, entry.taskId, entry.auditId, remaining).then((result) =>
        onResult(entry, result).catch((error: unknown) =>
          this.deps.logger?.error({ err: error, taskId: entry.taskId }, 'reporting a resumed task failed'),
        ),
      );
    }
    return entries.length;
  }

  private async follow(
    service: string,
    taskId: number,
    auditId: string | null,
    timeoutMs: number,
    task?: Task,
  ): Promise<TaskChangeResult> {
    const tracked = task
      ? await this.deps.tracker.track(service, task, { timeoutMs })
      : await this.deps.tracker.wait(service, taskId, { timeoutMs });
    const result = toChangeResult(tracked);
    try {
      if (auditId !== null) {
        // On success the detail stays as it was (e.g. who approved it).
        await this.deps.audit.update(auditId, {
          outcome: result.outcome,
          ...(result.outcome === 'failed' && { detail: { task: result.failure } }),
        });
      }
      await this.deps.journal.finish(service, taskId, tracked.outcome);
    } catch (error) {
      // The journal keeps the task unfinished, so a restart will report it again.
      this.deps.logger?.error({ err: error, taskId }, 'recording a task result failed');
    }
    return result;
  }

  private async precheck(request: ChangeRequest): Promise<void> {
    const { target } = request;
    switch (request.action) {
      case 'schedule.add': {
        const enabled = await this.enabledTypes(target);
        if (enabled.includes(request.type))
          throw new NashaError({ kind: 'frequency_enabled', target, type: request.type });
        return;
      }
      case 'schedule.remove': {
        const enabled = await this.enabledTypes(target);
        if (!enabled.includes(request.type)) {
          throw new NashaError({
            kind: 'frequency_not_enabled',
            target,
            type: request.type,
            enabled: sortTypes(enabled),
          });
        }
        return;
      }
      case 'snapshot.create': {
        checkSnapshotName(request.name);
        const names = await this.customNames(target);
        if (names.includes(request.name)) throw new NashaError({ kind: 'snapshot_exists', target, name: request.name });
        if (names.length >= MAX_CUSTOM_SNAPSHOTS) {
          throw new NashaError({ kind: 'partition_full', target, count: names.length, max: MAX_CUSTOM_SNAPSHOTS });
        }
        return;
      }
      case 'snapshot.delete': {
        const names = await this.customNames(target);
        if (!names.includes(request.name)) {
          throw new NashaError({
            kind: 'snapshot_missing',
            target,
            name: request.name,
            suggestions: suggest(request.name, names),
          });
        }
        return;
      }
    }
  }

  private write(request: ChangeRequest): Promise<Task> {
    const { service, partition } = request.target;
    const client = this.deps.client;
    switch (request.action) {
      case 'schedule.add':
        return client.addSnapshotType(service, partition, request.type);
      case 'schedule.remove':
        return client.removeSnapshotType(service, partition, request.type);
      case 'snapshot.create':
        return client.createCustomSnapshot(service, partition, {
          name: request.name,
          ...(request.expiration !== undefined && { expiration: request.expiration }),
        });
      case 'snapshot.delete':
        return client.deleteCustomSnapshot(service, partition, request.name);
    }
  }

  // ---------------------------------------------------------------- helpers

  private async requireRead(actor: Actor, target: Target): Promise<void> {
    const verdict = await this.deps.gate.evaluate(actor, 'read', target);
    if (verdict.kind === 'refused') throw refused(verdict.refusal);
  }

  private async visibleServices(actor: Actor, names: readonly string[]): Promise<string[]> {
    const checks = await Promise.all(names.map((name) => this.deps.policy.canSeeService(actor, name)));
    return names.filter((_name, index) => checks[index]);
  }

  private async readablePartitions(actor: Actor, service: string): Promise<string[]> {
    if (!(await this.deps.policy.canSeeService(actor, service))) {
      throw refused({ kind: 'not_visible', action: 'read', target: { service } });
    }
    let names: string[];
    try {
      names = await this.deps.client.listPartitions(service);
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) throw await this.serviceNotFound(actor, service);
      throw toNashaError(error, 'list partitions', { service });
    }
    return (await this.deps.policy.filterReadable(actor, service, names)).sort(naturalCompare);
  }

  private async partitionSnapshots(actor: Actor, service: string, partition: string): Promise<PartitionSnapshots> {
    const target = { service, partition };
    const [schedule, names] = await Promise.all([this.enabledTypes(target, actor), this.customNames(target, actor)]);
    const custom = await Promise.all(
      names.map((name) =>
        this.deps.client
          .getCustomSnapshot(service, partition, name)
          // Deleted or expired between the two calls: drop it rather than fail the listing.
          .catch((error: unknown) =>
            error instanceof OvhApiError && error.isNotFound ? undefined : Promise.reject(error),
          ),
      ),
    ).catch((error: unknown) => Promise.reject(toNashaError(error, 'read snapshot', target)));
    return {
      service,
      partition,
      schedule: sortTypes(schedule),
      custom: custom.filter((c): c is CustomSnapshot => c !== undefined).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** `actor`: whose view suggestions are limited to when the partition is not found. */
  private async enabledTypes(target: PartitionTarget, actor?: Actor): Promise<SnapshotType[]> {
    try {
      return await this.deps.client.listSnapshotTypes(target.service, target.partition);
    } catch (error) {
      throw await this.notFoundOr(error, target, 'read frequencies', actor);
    }
  }

  private async customNames(target: PartitionTarget, actor?: Actor): Promise<string[]> {
    try {
      return await this.deps.client.listCustomSnapshots(target.service, target.partition);
    } catch (error) {
      throw await this.notFoundOr(error, target, 'list snapshots', actor);
    }
  }

  /**
   * A 404 on a partition route means the service or the partition is unknown: say which. Suggestions come only
   * from what the user may see — unless no actor is given (an approved change re-checked for its requester,
   * who could see the target when they asked).
   */
  private async notFoundOr(error: unknown, target: PartitionTarget, step: OvhStep, actor?: Actor): Promise<NashaError> {
    if (!(error instanceof OvhApiError && error.isNotFound)) return toNashaError(error, step, target);
    const partitions = await this.deps.client.listPartitions(target.service).catch(() => undefined);
    if (partitions === undefined) return this.serviceNotFound(actor, target.service);
    const visible = actor === undefined ? [] : await this.deps.policy.filterReadable(actor, target.service, partitions);
    return new NashaError({
      kind: 'partition_missing',
      service: target.service,
      partition: target.partition,
      suggestions: suggest(target.partition, visible),
    });
  }

  private async serviceNotFound(actor: Actor | undefined, service: string): Promise<NashaError> {
    const names = actor === undefined ? [] : await this.deps.client.listServices().catch(() => [] as string[]);
    const visible = actor === undefined ? [] : await this.visibleServices(actor, names);
    return new NashaError({ kind: 'service_missing', service, suggestions: suggest(service, visible) });
  }

  private async snapshotNotFound(target: PartitionTarget, name: string, cause: OvhApiError): Promise<NashaError> {
    const names = await this.customNames(target).catch(() => undefined);
    if (names === undefined) return toNashaError(cause, 'read snapshot', target, name);
    // The user may read this partition (checked before), so its snapshot names are theirs to see.
    return new NashaError({ kind: 'snapshot_missing', target, name, suggestions: suggest(name, names) });
  }

  private async ovh<T>(call: () => Promise<T>, step: OvhStep, target?: Target, name?: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toNashaError(error, step, target, name);
    }
  }
}

/** What a followed task's end means: a task always has a definite outcome. */
type TaskChangeResult = Extract<ChangeResult, { outcome: 'succeeded' | 'failed' }>;

function toChangeResult(result: TaskResult): TaskChangeResult {
  return result.outcome === 'done'
    ? { outcome: 'succeeded', taskId: result.taskId }
    : { outcome: 'failed', taskId: result.taskId, failure: taskFailure(result) };
}

/** How a task that did not end done ended: its status and OVH's words (or the error the tracking ended on). */
export function taskFailure(result: Exclude<TaskResult, { outcome: 'done' }>): TaskFailure {
  switch (result.outcome) {
    case 'failed':
      return { outcome: 'failed', status: result.status, details: result.details ?? undefined };
    case 'timeout':
      return { outcome: 'timeout', status: result.lastStatus, details: result.lastError };
    case 'lost':
      return { outcome: 'lost', status: undefined, details: result.reason };
  }
}

const NOT_SENT: Settlement = { kind: 'not_sent' };

/** How a check on OVH failed, as the problem it is (a failure outside OVH's reads is an unexpected one). */
function checkProblem(error: unknown, intent: ChangeIntent): OvhProblem {
  const target = { service: intent.service, partition: intent.partition };
  const problem = toNashaError(error, 'read task', target).problem;
  return problem.kind === 'ovh'
    ? problem
    : {
        kind: 'ovh',
        failure: 'unexpected',
        step: 'read task',
        target,
        name: undefined,
        httpStatus: undefined,
        ovhMessage: undefined,
      };
}

/** The subject of a change: the snapshot's name or the frequency. */
export function subjectOf(change: ChangeRequest): string {
  return change.action === 'schedule.add' || change.action === 'schedule.remove' ? change.type : change.name;
}

/** The OVH step that sends a change. */
export function stepOf(change: ChangeRequest): OvhStep {
  switch (change.action) {
    case 'schedule.add':
      return 'add frequency';
    case 'schedule.remove':
      return 'remove frequency';
    case 'snapshot.create':
      return 'create snapshot';
    case 'snapshot.delete':
      return 'delete snapshot';
  }
}

function sameTarget(a: Target, b: Target): boolean {
  return a.service === b.service && a.partition === b.partition;
}

/** Changes that can be approved are exactly the change requests' actions. */
export type ChangeAction = ChangeRequest['action'] & ApprovableAction;

const TYPE_ORDER: readonly SnapshotType[] = ['hour-1', 'hour-6', 'day-1', 'day-2', 'day-3', 'day-7'];
export function sortTypes(types: readonly SnapshotType[]): SnapshotType[] {
  return [...types].sort((a, b) => TYPE_ORDER.indexOf(a) - TYPE_ORDER.indexOf(b));
}

function paginate<T>(items: readonly T[], page: number, size: number): Page<T> {
  const pageCount = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pageCount);
  return { items: items.slice((current - 1) * size, current * size), page: current, pageCount, total: items.length };
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
