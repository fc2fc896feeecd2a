import type { Logger } from 'pino';
import type { NashaClient } from '../ovh/client.js';
import { OvhApiError } from '../ovh/errors.js';
import type { CustomSnapshot, Partition, SnapshotType, Storage, Task } from '../ovh/models.js';
import type { TaskResult, TaskTracker } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import { InFlightWork } from '../shared/in-flight.js';
import type { ApprovableAction } from './actions.js';
import { auditProblem } from './audit-detail.js';
import { NashaError, refused } from './errors.js';
import type { ActionGate, RunVerdict } from './gate.js';
import type { Actor, Target } from './model.js';
import { checkSnapshotName } from './naming.js';
import type { Policy } from './policy.js';
import type { AuditSink, JournalEntry, JsonValue, TaskJournalPort } from './ports.js';
import { isNoop, type OvhStep, type Problem } from './problems.js';
import { suggest } from './suggest.js';

/** At most this many custom snapshots per partition (OVH FAQ and control panel). */
export const MAX_CUSTOM_SNAPSHOTS = 10;
/** Partitions shown per page where each costs OVH requests. */
export const PARTITIONS_PER_PAGE = 10;
export const LIST_PARTITIONS_PER_PAGE = 5;
/** How long a change's OVH task is followed. */
export const TASK_DEADLINE_MS = 10 * 60_000;

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
  | { outcome: 'failed'; taskId: number; detail: string };

export interface ChangeStarted {
  auditId: string;
  task: Task;
  /** Settles when OVH's task ends (never rejects). */
  done: Promise<ChangeResult>;
}

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
}

/**
 * What lets a change be sent: the gate's `run` verdict for it, or an approval the approvals service has just
 * re-validated. Nothing else does, so the two-person rule does not rest on each surface routing correctly.
 */
export type ChangeAuthorization = { verdict: RunVerdict } | { approvedAuditId: string };

/**
 * What the bot does, independent of Slack: every read and change on NAS-HA snapshots, with the
 * permission check first, the audit record before the OVH write, and the task followed after.
 */
export class SnapshotService {
  /** OVH writes between "audit written" and "task journaled": shutdown waits for these. */
  private readonly writes = new InFlightWork();

  constructor(private readonly deps: SnapshotServiceDeps) {}

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
    return Promise.all(
      visible.map((name) => this.ovh(() => this.deps.client.getService(name), 'read service', { service: name })),
    );
  }

  async partitions(actor: Actor, service: string, page = 1): Promise<Page<Partition>> {
    const names = await this.readablePartitions(actor, service);
    const slice = paginate(names, page, PARTITIONS_PER_PAGE);
    const items = await Promise.all(
      slice.items.map((p) =>
        this.ovh(() => this.deps.client.getPartition(service, p), 'read partition', { service, partition: p }),
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
    const items = await Promise.all(slice.items.map((p) => this.partitionSnapshots(actor, target.service, p)));
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
    const [enabled, custom] = await Promise.all([this.enabledTypes(target), this.customNames(target)]);
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
      audit = await this.deps.audit.record({ ...auditBase, outcome: 'started' });
    }
    const task = await this.writes.track(this.writeAndJournal(request, audit.id, reply));
    const done = this.follow(target.service, task.taskId, audit.id, TASK_DEADLINE_MS, task);
    return { auditId: audit.id, task, done };
  }

  /** The OVH write, its task id in the audit record, and its journal entry (or the failure, audited). */
  private async writeAndJournal(request: ChangeRequest, auditId: string, reply: JsonValue): Promise<Task> {
    let task: Task;
    try {
      await this.precheck(request);
      task = await this.write(request);
    } catch (error) {
      const failure = error instanceof NashaError ? error : toNashaError(error, stepOf(request), request.target);
      await this.deps.audit.update(auditId, {
        outcome: isNoop(failure.problem, request.action) ? 'noop' : 'failed',
        detail: { problem: auditProblem(failure.problem) },
      });
      throw failure;
    }
    await this.deps.audit.update(auditId, { taskId: task.taskId });
    await this.deps.journal.add({
      service: request.target.service,
      taskId: task.taskId,
      auditId,
      kind: request.action,
      reply,
      deadlineAt: this.deps.clock.now() + TASK_DEADLINE_MS,
    });
    return task;
  }

  /**
   * After a restart: follows every task that was still running, updates its audit record, and
   * hands each result with its stored reply to `onResult`.
   */
  async resume(onResult: (entry: JournalEntry, result: ChangeResult) => Promise<void>): Promise<number> {
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
  ): Promise<ChangeResult> {
    const tracked = task
      ? await this.deps.tracker.track(service, task, { timeoutMs })
      : await this.deps.tracker.wait(service, taskId, { timeoutMs });
    const result = toChangeResult(tracked);
    try {
      if (auditId !== null) {
        // On success the detail stays as it was (e.g. who approved it).
        await this.deps.audit.update(auditId, {
          outcome: result.outcome,
          ...(result.outcome === 'failed' && { detail: { ovh: result.detail } }),
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

/** Maps an OVH failure to a problem (what the bot was doing, and how OVH failed). */
export function toNashaError(error: unknown, step: OvhStep, target?: Target, name?: string): NashaError {
  if (error instanceof NashaError) return error;
  const problem = (
    failure: Extract<Problem, { kind: 'ovh' }>['failure'],
    details: { httpStatus?: number | undefined; ovhMessage?: string | undefined } = {},
  ): NashaError =>
    new NashaError(
      {
        kind: 'ovh',
        failure,
        step,
        target,
        name,
        httpStatus: details.httpStatus,
        ovhMessage: details.ovhMessage,
      },
      { cause: error },
    );
  if (error instanceof OvhApiError) {
    const details = { httpStatus: error.httpStatus, ovhMessage: error.ovhMessage };
    switch (error.kind) {
      case 'http':
        if (error.httpStatus === 404) return problem('not_found', details);
        if (error.httpStatus === 429 || (error.httpStatus ?? 0) >= 500) return problem('unavailable', details);
        return problem('refused', details);
      case 'input':
        return problem('invalid', details);
      case 'timeout':
        return problem('timeout', details);
      case 'clock':
        return problem('clock', details);
      case 'network':
        return problem('network', details);
      case 'parse':
        return problem('parse', details);
    }
  }
  return problem('unexpected');
}

function toChangeResult(result: TaskResult): ChangeResult {
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
