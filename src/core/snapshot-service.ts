import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NashaClient } from '../ovh/client.js';
import { OvhApiError } from '../ovh/errors.js';
import type { CustomSnapshot, Partition, SnapshotType, Storage, Task } from '../ovh/models.js';
import type { TaskResult, TaskTracker } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import { InFlightWork } from '../shared/in-flight.js';
import { NashaError } from './errors.js';
import { type Actor, formatTarget, type Target } from './model.js';
import { checkSnapshotName } from './naming.js';
import type {
  AccessPolicy,
  AuditSink,
  ChangeAction,
  ChangeIntent,
  ChangeOrigin,
  JournalEntry,
  JsonValue,
  Lease,
  StoredIntent,
  TaskJournalPort,
} from './ports.js';
import {
  describeLostAnswer,
  findOnOvh,
  isAmbiguousWriteFailure,
  keepRenewed,
  type OvhFinding,
  TASK_CLOCK_SLACK_MS,
} from './reconcile.js';
import { didYouMean, suggest } from './suggest.js';

/** At most this many custom snapshots per partition (OVH FAQ and control panel). */
export const MAX_CUSTOM_SNAPSHOTS = 10;
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

export type ChangeResult =
  | { outcome: 'succeeded'; taskId: number }
  | { outcome: 'failed'; taskId: number; detail: string }
  /** OVH's answer was lost, but OVH shows the change made (no task found to name). */
  | { outcome: 'applied'; taskId: null; detail: string }
  /** OVH did not make the change: checked on OVH after its answer was lost, or it was never sent. */
  | { outcome: 'not_applied'; taskId: null; detail: string }
  /** OVH could not be asked yet: the sweep goes on checking and reports to the same reply and audit record. */
  | { outcome: 'unknown'; taskId: null; detail: string };

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
  policy: AccessPolicy;
  audit: AuditSink;
  journal: TaskJournalPort;
  clock: Clock;
  logger?: Logger;
  /**
   * Changes that run only once a second person approved them (`approvals.rules`). `change()` refuses
   * them without an approval, whichever surface asked: the two-person rule does not rest on each
   * listener routing correctly.
   */
  approvalRequired?: (action: ChangeAction) => boolean;
  /**
   * Lease on a change's write-ahead intent while this process works on it, renewed every third of it. Once it
   * runs out (the process died) another replica, or the next start, reconciles the change with OVH; so it is
   * also how long a request still out at OVH gets to land: more than one OVH attempt (OVH_TIMEOUT_MS).
   */
  intentLeaseMs?: number;
}

/** A POST/DELETE whose answer never came back usably; `lease` is still being renewed. */
interface LostAnswer {
  intent: ChangeIntent;
  error: unknown;
  lease: { stop(): void };
}

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
    return Promise.all(visible.map((name) => this.ovh(() => this.deps.client.getService(name), `read ${name}`)));
  }

  async partitions(actor: Actor, service: string, page = 1): Promise<Page<Partition>> {
    const names = await this.readablePartitions(actor, service);
    const slice = paginate(names, page, PARTITIONS_PER_PAGE);
    const items = await Promise.all(
      slice.items.map((p) => this.ovh(() => this.deps.client.getPartition(service, p), `read ${service}/${p}`)),
    );
    return { ...slice, items };
  }

  /** Frequencies and custom snapshots (with expirations) of one partition, or a page of a service's. */
  async snapshots(actor: Actor, target: Target, page = 1): Promise<Page<PartitionSnapshots>> {
    if (target.partition !== undefined) {
      await this.requireRead(actor, target);
      const one = await this.partitionSnapshots(target.service, target.partition);
      return { items: [one], page: 1, pageCount: 1, total: 1 };
    }
    const names = await this.readablePartitions(actor, target.service);
    const slice = paginate(names, page, LIST_PARTITIONS_PER_PAGE);
    const items = await Promise.all(slice.items.map((p) => this.partitionSnapshots(target.service, p)));
    return { ...slice, items };
  }

  async scheduleShow(actor: Actor, target: PartitionTarget, type: SnapshotType): Promise<{ enabled: SnapshotType[] }> {
    await this.requireRead(actor, target);
    const enabled = await this.enabledTypes(target);
    if (!enabled.includes(type)) {
      throw new NashaError(
        'not_found',
        `\`${type}\` is not enabled on \`${formatTarget(target)}\` (enabled: ${listOrNone(enabled)}).`,
      );
    }
    return { enabled };
  }

  async showSnapshot(actor: Actor, target: PartitionTarget, name: string): Promise<CustomSnapshot> {
    await this.requireRead(actor, target);
    try {
      return await this.deps.client.getCustomSnapshot(target.service, target.partition, name);
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) throw await this.snapshotNotFound(target, name, error);
      throw toNashaError(error, `read snapshot \`${name}\``);
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
    return this.ovh(() => this.deps.client.listCustomSnapshots(target.service, target.partition), 'list snapshots');
  }

  async enabledFrequencies(actor: Actor, target: PartitionTarget): Promise<SnapshotType[]> {
    await this.requireRead(actor, target);
    return this.enabledTypes(target);
  }

  /**
   * Live facts about what a destructive change would touch (for approval previews and the
   * re-validation before execution). No permission check: callers decide who may see it.
   */
  async inspect(request: ChangeRequest): Promise<Inspection> {
    const target = request.target;
    const [enabled, custom] = await Promise.all([this.enabledTypes(target), this.customNames(target)]);
    if (request.action === 'snapshot.delete' || request.action === 'snapshot.create') {
      if (request.action === 'snapshot.delete' && !custom.includes(request.name)) {
        const suggestions = suggest(request.name, custom);
        throw new NashaError(
          'not_found',
          `\`${formatTarget(target)}\` has no custom snapshot named \`${request.name}\`.${didYouMean(suggestions)}`,
          { suggestions },
        );
      }
      const snapshot =
        request.action === 'snapshot.delete'
          ? await this.ovh(
              () => this.deps.client.getCustomSnapshot(target.service, target.partition, request.name),
              `read snapshot \`${request.name}\``,
            )
          : undefined;
      return { enabled: sortTypes(enabled), custom, snapshot };
    }
    if (request.action === 'schedule.remove' && !enabled.includes(request.type)) {
      throw new NashaError(
        'not_found',
        `\`${request.type}\` is not enabled on \`${formatTarget(target)}\` (enabled: ${listOrNone(enabled)}).`,
      );
    }
    return { enabled: sortTypes(enabled), custom, snapshot: undefined };
  }

  // ---------------------------------------------------------------- changes

  /**
   * Runs one change: permission, pre-checks against the live API (clear errors instead of OVH's
   * terse ones), an audit record written before the OVH call, the call, then the task followed.
   * `reply` is kept with the task so the result can be reported after a restart.
   */
  async change(
    actor: Actor,
    request: ChangeRequest,
    reply: JsonValue = null,
    options: { approvedAuditId?: string } = {},
  ): Promise<ChangeStarted> {
    const { target } = request;
    const subject = request.action.startsWith('schedule.')
      ? (request as { type: string }).type
      : (request as { name: string }).name;
    const auditBase = { actor, action: request.action, target, subject };
    let audit: { id: string };
    if (options.approvedAuditId !== undefined) {
      // Authorized by an approval that the approvals service has just re-validated.
      audit = { id: options.approvedAuditId };
      await this.deps.audit.update(audit.id, { outcome: 'started' });
    } else if (this.deps.approvalRequired?.(request.action) === true) {
      const why = `${capitalize(describeChange(request))} needs a second person's approval: request it with a reason.`;
      await this.deps.audit.record({ ...auditBase, outcome: 'denied', detail: plain(why) });
      throw new NashaError('denied', why);
    } else {
      const decision = await this.deps.policy.decide(actor, request.action, target);
      if (!decision.allowed) {
        await this.deps.audit.record({ ...auditBase, outcome: 'denied', detail: plain(decision.summary) });
        throw new NashaError('denied', capitalize(decision.summary));
      }
      audit = await this.deps.audit.record({ ...auditBase, outcome: 'started' });
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
   * done it) comes back as a LostAnswer, still leased, for `settleLostAnswer`.
   */
  private async writeAndJournal(
    request: ChangeRequest,
    auditId: string,
    reply: JsonValue,
  ): Promise<{ task: Task } | LostAnswer> {
    const { service, partition } = request.target;
    const intent: ChangeIntent = {
      id: randomUUID(),
      service,
      partition,
      kind: request.action,
      subject: changeSubject(request),
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
      await this.precheck(request);
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
    const failure = error instanceof NashaError ? error : toNashaError(error, describeChange(request));
    try {
      await this.deps.audit.update(auditId, { outcome: 'failed', detail: plain(failure.message) });
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
  private async settleLostAnswer({ intent, error, lease }: LostAnswer): Promise<ChangeResult> {
    const lost = describeLostAnswer(error);
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
      return await this.stillUnknown(intent, lastError, `${lost}, and OVH cannot be asked now`);
    } catch (recordError) {
      this.deps.logger?.error({ err: recordError, intentId: intent.id }, 'settling a lost OVH answer failed');
      await this.abandon(intent);
      return {
        outcome: 'unknown',
        taskId: null,
        detail: `${lost}; the bot is still checking whether OVH made the change`,
      };
    } finally {
      lease.stop();
    }
  }

  /** The live caller's view of a finding: the intent is closed (or journaled) before it hears the result. */
  private async concludeLive(intent: ChangeIntent, finding: OvhFinding, lost: string): Promise<ChangeResult> {
    if (finding.kind === 'task') return (await this.adopt(intent, finding.task))?.done ?? this.handledElsewhere();
    const result = await this.recordFinding(intent, finding, lost);
    await this.deps.journal.closeIntent(intent.id, finding.kind);
    return result;
  }

  /** Journals a task found on OVH for an intent and follows it; undefined if the intent was closed meanwhile. */
  private async adopt(intent: ChangeIntent, task: Task): Promise<{ done: Promise<ChangeResult> } | undefined> {
    if (intent.auditId !== null) await this.deps.audit.update(intent.auditId, { taskId: task.taskId });
    if (!(await this.deps.journal.attachTask(intent.id, this.journalEntry(intent, task.taskId)))) return undefined;
    this.deps.logger?.info({ intentId: intent.id, taskId: task.taskId }, 'found the OVH task of a change');
    return { done: this.follow(intent.service, task.taskId, intent.auditId, TASK_DEADLINE_MS, task) };
  }

  private handledElsewhere(): ChangeResult {
    return { outcome: 'unknown', taskId: null, detail: 'another bot replica is finishing this change' };
  }

  /** The audit record says what OVH shows; the result says it to the user. */
  private async recordFinding(
    intent: ChangeIntent,
    finding: Exclude<OvhFinding, { kind: 'task' }>,
    context: string,
  ): Promise<ChangeResult> {
    const detail = context === '' ? finding.detail : `${context}; ${finding.detail}`;
    if (intent.auditId !== null) {
      await this.deps.audit.update(intent.auditId, {
        outcome: finding.kind === 'applied' ? 'succeeded' : 'not_applied',
        detail: plain(detail),
      });
    }
    return { outcome: finding.kind, taskId: null, detail };
  }

  /**
   * OVH cannot be asked: the audit record says "unknown" (once), and the intent goes back to the sweep with
   * back-off; after MAX_INTENT_CHECKS tries it stays unknown for good and says so.
   */
  private async stillUnknown(
    intent: ChangeIntent,
    error: unknown,
    context: string,
    report?: ChangeReporter,
  ): Promise<ChangeResult> {
    const checks = intent.checks + 1;
    const why = error instanceof Error ? error.message : String(error);
    const final = checks >= MAX_INTENT_CHECKS;
    const detail = final
      ? `${context} (${why}); gave up asking after ${checks} tries: check the partition on OVH`
      : `${context} (${why}); the bot keeps checking and updates this record`;
    const result: ChangeResult = { outcome: 'unknown', taskId: null, detail };
    if (intent.checks === 0 || final) {
      if (intent.auditId !== null)
        await this.deps.audit.update(intent.auditId, { outcome: 'unknown', detail: plain(detail) });
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
        const finding = {
          kind: 'not_applied',
          detail: 'the bot stopped before sending it to OVH; nothing was changed',
        } as const;
        await this.reportFinding(intent, finding, '', report);
        return;
      }
      let finding: OvhFinding;
      try {
        finding = await this.findOnOvh(intent);
      } catch (error) {
        await this.stillUnknown(
          intent,
          error,
          "OVH's answer never reached the bot, and OVH cannot be asked now",
          report,
        );
        return;
      }
      if (finding.kind === 'task') {
        const adopted = await this.adopt(intent, finding.task);
        void adopted?.done.then((result) =>
          report(intent, result).catch((error: unknown) =>
            this.deps.logger?.error({ err: error, intentId: intent.id }, 'reporting a reconciled change failed'),
          ),
        );
        return;
      }
      await this.reportFinding(intent, finding, "OVH's answer never reached the bot", report);
    } finally {
      lease.stop();
    }
  }

  /** Sweep order: audit record, then the user, then the intent closed (a crash in between repeats, never loses). */
  private async reportFinding(
    intent: ChangeIntent,
    finding: Exclude<OvhFinding, { kind: 'task' }>,
    context: string,
    report: ChangeReporter,
  ): Promise<void> {
    const result = await this.recordFinding(intent, finding, context);
    await report(intent, result).catch((error: unknown) =>
      this.deps.logger?.error({ err: error, intentId: intent.id }, 'reporting a reconciled change failed'),
    );
    await this.deps.journal.closeIntent(intent.id, finding.kind);
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
          ...(result.outcome === 'failed' && { detail: result.detail }),
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
        if (enabled.includes(request.type)) {
          throw new NashaError('conflict', `\`${request.type}\` is already enabled on \`${formatTarget(target)}\`.`);
        }
        return;
      }
      case 'schedule.remove': {
        const enabled = await this.enabledTypes(target);
        if (!enabled.includes(request.type)) {
          throw new NashaError(
            'not_found',
            `\`${request.type}\` is not enabled on \`${formatTarget(target)}\` (enabled: ${listOrNone(enabled)}).`,
          );
        }
        return;
      }
      case 'snapshot.create': {
        checkSnapshotName(request.name);
        const names = await this.customNames(target);
        if (names.includes(request.name)) {
          throw new NashaError(
            'conflict',
            `\`${formatTarget(target)}\` already has a snapshot named \`${request.name}\`.`,
          );
        }
        if (names.length >= MAX_CUSTOM_SNAPSHOTS) {
          throw new NashaError(
            'limit_reached',
            `\`${target.partition}\` has ${names.length}/${MAX_CUSTOM_SNAPSHOTS} custom snapshots — delete one first (\`/nasha snapshot list ${formatTarget(target)}\`).`,
          );
        }
        return;
      }
      case 'snapshot.delete': {
        const names = await this.customNames(target);
        if (!names.includes(request.name)) {
          throw new NashaError(
            'not_found',
            `\`${formatTarget(target)}\` has no custom snapshot named \`${request.name}\`.${didYouMean(suggest(request.name, names))}`,
            { suggestions: suggest(request.name, names) },
          );
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
    const decision = await this.deps.policy.decide(actor, 'read', target);
    if (!decision.allowed) throw new NashaError('denied', capitalize(decision.summary));
  }

  private async visibleServices(actor: Actor, names: readonly string[]): Promise<string[]> {
    const checks = await Promise.all(names.map((name) => this.deps.policy.canSeeService(actor, name)));
    return names.filter((_name, index) => checks[index]);
  }

  private async readablePartitions(actor: Actor, service: string): Promise<string[]> {
    if (!(await this.deps.policy.canSeeService(actor, service))) {
      throw new NashaError('denied', `You have no access to \`${service}\`.`);
    }
    let names: string[];
    try {
      names = await this.deps.client.listPartitions(service);
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) throw await this.serviceNotFound(actor, service);
      throw toNashaError(error, `list the partitions of \`${service}\``);
    }
    return (await this.deps.policy.filterReadable(actor, service, names)).sort(naturalCompare);
  }

  private async partitionSnapshots(service: string, partition: string): Promise<PartitionSnapshots> {
    const target = { service, partition };
    const [schedule, names] = await Promise.all([this.enabledTypes(target), this.customNames(target)]);
    const custom = await Promise.all(
      names.map((name) =>
        this.deps.client
          .getCustomSnapshot(service, partition, name)
          // Deleted or expired between the two calls: drop it rather than fail the listing.
          .catch((error: unknown) =>
            error instanceof OvhApiError && error.isNotFound ? undefined : Promise.reject(error),
          ),
      ),
    ).catch((error: unknown) =>
      Promise.reject(toNashaError(error, `read the snapshots of \`${formatTarget(target)}\``)),
    );
    return {
      service,
      partition,
      schedule: sortTypes(schedule),
      custom: custom.filter((c): c is CustomSnapshot => c !== undefined).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  private async enabledTypes(target: PartitionTarget): Promise<SnapshotType[]> {
    try {
      return await this.deps.client.listSnapshotTypes(target.service, target.partition);
    } catch (error) {
      throw await this.notFoundOr(error, target, `read the frequencies of \`${formatTarget(target)}\``);
    }
  }

  private async customNames(target: PartitionTarget): Promise<string[]> {
    try {
      return await this.deps.client.listCustomSnapshots(target.service, target.partition);
    } catch (error) {
      throw await this.notFoundOr(error, target, `list the snapshots of \`${formatTarget(target)}\``);
    }
  }

  /** A 404 on a partition route means the service or the partition is unknown: say which, with suggestions. */
  private async notFoundOr(error: unknown, target: PartitionTarget, what: string): Promise<NashaError> {
    if (!(error instanceof OvhApiError && error.isNotFound)) return toNashaError(error, what);
    const partitions = await this.deps.client.listPartitions(target.service).catch(() => undefined);
    if (partitions === undefined) {
      return this.serviceNotFound(undefined, target.service);
    }
    const suggestions = suggest(target.partition, partitions);
    return new NashaError(
      'not_found',
      `\`${target.service}\` has no partition \`${target.partition}\`.${didYouMean(suggestions)}`,
      { suggestions },
    );
  }

  private async serviceNotFound(actor: Actor | undefined, service: string): Promise<NashaError> {
    const names = await this.deps.client.listServices().catch(() => [] as string[]);
    const visible = actor === undefined ? names : await this.visibleServices(actor, names);
    const suggestions = suggest(service, visible);
    return new NashaError('not_found', `There is no NAS-HA service \`${service}\`.${didYouMean(suggestions)}`, {
      suggestions,
    });
  }

  private async snapshotNotFound(target: PartitionTarget, name: string, cause: OvhApiError): Promise<NashaError> {
    const names = await this.customNames(target).catch(() => undefined);
    if (names === undefined) return toNashaError(cause, `read snapshot \`${name}\``);
    const suggestions = suggest(name, names);
    return new NashaError(
      'not_found',
      `\`${formatTarget(target)}\` has no custom snapshot named \`${name}\`.${didYouMean(suggestions)}`,
      { suggestions },
    );
  }

  private async ovh<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toNashaError(error, what);
    }
  }
}

/** Maps an OVH failure to what the user should read. */
export function toNashaError(error: unknown, what: string): NashaError {
  if (error instanceof NashaError) return error;
  if (error instanceof OvhApiError) {
    switch (error.kind) {
      case 'http':
        if (error.httpStatus === 404)
          return new NashaError(
            'not_found',
            `OVH could not find it while trying to ${what}: ${error.ovhMessage ?? 'not found'}.`,
            { cause: error },
          );
        if (error.httpStatus === 429 || (error.httpStatus ?? 0) >= 500) {
          return new NashaError(
            'ovh_unavailable',
            `OVH is not answering properly (HTTP ${error.httpStatus}) — could not ${what}. Try again in a minute.`,
            { cause: error },
          );
        }
        return new NashaError(
          'ovh_refused',
          `OVH refused to ${what}: ${error.ovhMessage ?? `HTTP ${error.httpStatus}`}.`,
          { cause: error },
        );
      case 'input':
        return new NashaError('invalid_input', `Cannot ${what}: ${error.ovhMessage ?? 'invalid input'}.`, {
          cause: error,
        });
      case 'timeout':
        return new NashaError('ovh_unavailable', `OVH did not answer in time — could not ${what}.`, { cause: error });
      case 'clock':
        return new NashaError('ovh_unavailable', `OVH rejected the request time (clock skew) — could not ${what}.`, {
          cause: error,
        });
      case 'network':
        return new NashaError(
          'ovh_unavailable',
          `Cannot reach OVH (${error.ovhMessage ?? 'network error'}) — could not ${what}.`,
          { cause: error },
        );
      case 'parse':
        return new NashaError('ovh_unavailable', `OVH sent an unexpected answer — could not ${what}.`, {
          cause: error,
        });
    }
  }
  return new NashaError('ovh_unavailable', `Something went wrong while trying to ${what}.`, { cause: error });
}

/** What a followed task's end means: a task always has a definite outcome. */
type TaskChangeResult = Extract<ChangeResult, { outcome: 'succeeded' | 'failed' }>;

function toChangeResult(result: TaskResult): TaskChangeResult {
  switch (result.outcome) {
    case 'done':
      return { outcome: 'succeeded', taskId: result.taskId };
    case 'failed':
      return {
        outcome: 'failed',
        taskId: result.taskId,
        detail: `OVH task ended in ${result.status}${result.details ? `: ${result.details}` : ''}`,
      };
    case 'timeout':
      return {
        outcome: 'failed',
        taskId: result.taskId,
        detail: `OVH task still ${result.lastStatus ?? 'unknown'} after the deadline${result.lastError ? ` (${result.lastError})` : ''}; check it later`,
      };
    case 'lost':
      return { outcome: 'failed', taskId: result.taskId, detail: `OVH no longer knows the task: ${result.reason}` };
  }
}

/** The snapshot name or frequency a change is about. */
function changeSubject(request: ChangeRequest): string {
  return request.action === 'schedule.add' || request.action === 'schedule.remove' ? request.type : request.name;
}

export function describeChange(request: ChangeRequest): string {
  const where = `\`${formatTarget(request.target)}\``;
  switch (request.action) {
    case 'schedule.add':
      return `enable \`${request.type}\` snapshots on ${where}`;
    case 'schedule.remove':
      return `disable \`${request.type}\` snapshots on ${where}`;
    case 'snapshot.create':
      return `create snapshot \`${request.name}\` on ${where}`;
    case 'snapshot.delete':
      return `delete snapshot \`${request.name}\` on ${where}`;
  }
}

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

function listOrNone(types: readonly SnapshotType[]): string {
  return types.length === 0
    ? 'none'
    : sortTypes(types)
        .map((t) => `\`${t}\``)
        .join(', ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Audit details are plain text: strip mrkdwn backticks and Slack escapes. */
function plain(text: string): string {
  return text
    .replace(/`/g, '')
    .replace(/<!subteam\^([A-Z0-9]+)(\|[^>]*)?>/g, 'group $1')
    .slice(0, 1_000);
}
