import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NashaClient } from '../ovh/client.js';
import { OvhApiError } from '../ovh/errors.js';
import { MAX_CUSTOM_SNAPSHOTS, type Task } from '../ovh/models.js';
import type { TaskResult, TaskTracker } from '../ovh/task-tracker.js';
import type { Clock } from '../shared/clock.js';
import { excerpt } from '../shared/excerpt.js';
import { InFlightWork } from '../shared/in-flight.js';
import { pool } from '../shared/pool.js';
import { withRequestClass } from '../shared/request-context.js';
import {
  type AuditProblem,
  type AuditRefusal,
  auditProblem,
  auditRefusal,
  type QuickAuditSummary,
} from './audit-detail.js';
import { NashaError, refused, toNashaError } from './errors.js';
import type { ActionGate, Explanation, RefusedVerdict, Verdict } from './gate.js';
import { type Actor, formatTarget, type Target } from './model.js';
import { MAX_EXPIRATION_MS, parseExpiration } from './naming.js';
import type { Policy } from './policy.js';
import type { AuditSink, JsonValue } from './ports.js';
import type { TaskFailure } from './problems.js';
import { type PartitionTarget, taskFailure } from './snapshot-service.js';
import { suggest } from './suggest.js';

/** What the bot remembers for quick snapshots (OVH keeps no creation time). */
export interface QuickSnapshotMemory {
  recordCreated(service: string, partition: string, name: string, at: number, by: string): Promise<void>;
  createdAt(service: string, partition: string, names: readonly string[]): Promise<Map<string, number>>;
  lastTarget(scope: string): Promise<string | undefined>;
  rememberTarget(scope: string, target: string, at: number): Promise<void>;
  /** Keeps a run in progress (latest state wins), so a restart can finish it. */
  saveRun(run: QuickRun, auditId: string, reply: JsonValue, at: number): Promise<void>;
  finishRun(id: string, at: number): Promise<void>;
  /** Runs saved and not finished, oldest first. */
  unfinishedRuns(): Promise<SavedQuickRun[]>;
}

export interface SavedQuickRun {
  run: QuickRun;
  auditId: string;
  reply: JsonValue;
}

export interface ExistingSnapshot {
  name: string;
  expiration: string | null;
  /** When the bot made it, if it did. */
  createdAt: number | null;
}

/** Why a partition's snapshot was not taken, as data. */
export type QuickFailure =
  | { kind: 'problem'; problem: AuditProblem }
  /** OVH's task ended badly: its status and OVH's words. */
  | ({ kind: 'task' } & TaskFailure)
  /** The bot restarted: before starting it, while creating it (OVH had no trace), or without being able to check. */
  | { kind: 'restart'; when: 'not_started' | 'not_created' | 'unknown' }
  /** Written by an older version as text. */
  | { kind: 'text'; text: string };

export type QuickItemState =
  | { status: 'queued' }
  | { status: 'creating'; taskId: number | null }
  | { status: 'done'; taskId: number | null; existed: boolean }
  | { status: 'failed'; failure: QuickFailure; taskId: number | null }
  | { status: 'full'; snapshots: ExistingSnapshot[] }
  | { status: 'denied'; refusal: AuditRefusal };

export interface QuickItem {
  target: PartitionTarget;
  name: string;
  state: QuickItemState;
}

export interface QuickRun {
  id: string;
  spec: string;
  label: string;
  requester: string;
  reason: string | null;
  expiration: string | null;
  items: QuickItem[];
  startedAt: number;
  finishedAt: number | null;
}

export interface QuickSnapshotSettings {
  targetGroups: ReadonlyMap<string, readonly Target[]>;
  defaultExpirationMs: number | undefined;
}

export interface QuickSnapshotDeps {
  client: NashaClient;
  tracker: TaskTracker;
  /** Decides each partition (`snapshot.quick`: operator, or a responder group, within the channel cap). */
  gate: ActionGate;
  /** Which services the user may see (for suggestions). */
  policy: Pick<Policy, 'canSeeService' | 'filterReadable'>;
  audit: AuditSink;
  memory: QuickSnapshotMemory;
  settings: QuickSnapshotSettings;
  clock: Clock;
  logger?: Logger;
  /** Partitions worked on at once; the OVH request budget paces them anyway. */
  concurrency?: number;
}

const DEFAULT_LABEL = 'incident';
const MAX_TARGETS = 500;

/**
 * Incident snapshots in one go: every partition of a target (one partition, a service, or a named
 * group) in parallel, with deterministic names so a retry or a double click in the same minute
 * makes no duplicate, and one live summary. Nothing is ever deleted automatically.
 */
export class QuickSnapshotService {
  private readonly deps: QuickSnapshotDeps;
  private stopping = false;
  /** Creations and saves under way (shutdown waits for them, so a restart knows every task id). */
  private readonly inFlight = new InFlightWork();

  constructor(deps: QuickSnapshotDeps) {
    this.deps = deps;
  }

  /** Shutdown: partitions not started yet stay queued; the next start reports them as not started. */
  stop(): void {
    this.stopping = true;
  }

  /** Waits (wall clock, up to `timeoutMs`) for creations and saves under way; false if some still are. */
  drained(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /** The last target used in a scope (`channel:C…` or `user:U…`), to prefill forms. */
  lastTarget(scope: string): Promise<string | undefined> {
    return this.deps.memory.lastTarget(scope);
  }

  /** Resolves the target, names and permissions; nothing is sent to OVH yet. */
  async plan(
    actor: Actor,
    spec: string,
    options: { label?: string | undefined; expires?: string | undefined; reason?: string | undefined },
  ): Promise<QuickRun> {
    const now = this.deps.clock.now();
    const targets = await this.resolve(actor, spec.trim());
    const label = sanitizeLabel(options.label ?? DEFAULT_LABEL);
    const expiration =
      options.expires !== undefined
        ? parseExpiration(options.expires, now)
        : this.deps.settings.defaultExpirationMs !== undefined
          ? new Date(now + Math.min(this.deps.settings.defaultExpirationMs, MAX_EXPIRATION_MS))
              .toISOString()
              .replace('.000Z', 'Z')
          : null;
    const judged = await Promise.all(
      targets.map(async (target) => ({
        target,
        verdict: await this.deps.gate.evaluate(actor, 'snapshot.quick', target),
      })),
    );
    const seen = visibleParts(judged, spec);
    const items: QuickItem[] = seen.map(({ target, verdict }) => ({
      target,
      name: quickSnapshotName(label, target.partition, now),
      state:
        verdict.kind === 'refused'
          ? { status: 'denied', refusal: auditRefusal(verdict.refusal) }
          : { status: 'queued' },
    }));
    return {
      id: randomUUID(),
      spec: spec.trim(),
      label,
      requester: actor.userId,
      reason: options.reason?.trim() ? options.reason.trim().slice(0, 500) : null,
      expiration,
      items,
      startedAt: now,
      finishedAt: null,
    };
  }

  /**
   * `can-i quick <spec>`: the plan's own judgement of each partition the spec names, for `subjectId` — the same
   * resolution and the same per-partition verdicts as {@link plan}, so a yes here is a queued partition there.
   * Partitions the subject may not see are left out (as the plan leaves them out); when someone asks about
   * another person, so are those the asker may not read. Someone else's permissions are the gate's to refuse.
   */
  async explain(asker: Actor, subjectId: string, spec: string): Promise<QuickExplanation | RefusedVerdict> {
    const targets = await this.resolve(asker, spec.trim());
    const self = subjectId === asker.userId;
    const explained = await Promise.all(
      targets.map(async (target) => {
        const explanation = await this.deps.gate.explain(asker, subjectId, 'snapshot.quick', target);
        const askerReads =
          self || (await this.deps.policy.filterReadable(asker, target.service, [target.partition])).length > 0;
        return { explanation, askerReads };
      }),
    );
    const parts: Explanation[] = [];
    for (const { explanation, askerReads } of explained) {
      if (!('verdict' in explanation)) return explanation;
      if (askerReads) parts.push(explanation);
    }
    return { spec: spec.trim(), self, subjectId, parts: visibleParts(parts, spec) };
  }

  /**
   * Takes the snapshots, reporting every state change through `onProgress`, and writes one audit
   * record for the whole run. If nothing is allowed, refuses (audited) before touching OVH.
   */
  async execute(
    actor: Actor,
    run: QuickRun,
    scope: string | undefined,
    onProgress: (run: QuickRun) => void,
    /** Where the summary is (opaque here), kept with the run so a restart can finish it. */
    reply: JsonValue = null,
  ): Promise<QuickRun> {
    const allowed = run.items.filter((i) => i.state.status === 'queued');
    const auditBase = { actor, action: 'snapshot.quick' as const, target: { service: run.spec }, subject: run.label };
    if (allowed.length === 0) {
      const first = run.items.find((i) => i.state.status === 'denied');
      const refusal: AuditRefusal =
        first?.state.status === 'denied' ? first.state.refusal : { kind: 'not_visible', action: 'snapshot.quick' };
      await this.deps.audit.record({
        ...auditBase,
        outcome: 'denied',
        detail: { problem: { kind: 'refused', refusal }, quick: quickSummary(run) },
      });
      throw new QuickRunRefusedError(refusal, run.spec);
    }
    if (scope !== undefined) await this.deps.memory.rememberTarget(scope, run.spec, run.startedAt);
    const audit = await this.deps.audit.record({
      ...auditBase,
      outcome: 'started',
      detail: { ...(run.reason !== null && { reason: run.reason }), quick: quickSummary(run) },
    });
    const saver = this.runSaver(run, audit.id, reply);
    await this.inFlight.track(saver.save());
    onProgress(run);
    // The pool bounds creations in flight, not tasks being followed: holding a slot until the task
    // ended capped throughput at 8 per task duration, far below the budget (bench/RESULTS.md).
    const following: Promise<void>[] = [];
    // Creations and their polling are bulk work: other people's single requests go between them.
    await withRequestClass('bulk', actor.userId, () =>
      pool(allowed, this.deps.concurrency ?? 8, async (item) => {
        if (this.stopping) return;
        const task = await this.inFlight.track(this.submit(run, item, () => onProgress(run)));
        if (task !== undefined) {
          // The task id is what a restart needs to follow it again.
          void this.inFlight.track(saver.save());
          following.push(this.follow(item, task, () => onProgress(run)));
        }
      }),
    );
    await Promise.all(following);
    // Shutting down with partitions left queued: the next start finishes the run.
    if (this.stopping) return run;
    await this.finish(run, audit.id);
    onProgress(run);
    return run;
  }

  /**
   * Finishes the runs a previous process left in progress: follows their tasks again, settles the
   * partitions it never got to, then updates their audit record and calls `report` (the summary).
   * Returns how many there are; they finish in the background.
   */
  async resume(report: (saved: SavedQuickRun) => Promise<void>): Promise<number> {
    const runs = await this.deps.memory.unfinishedRuns();
    for (const saved of runs) {
      void this.finishResumed(saved)
        .then(() => report(saved))
        .catch((error: unknown) =>
          this.deps.logger?.error({ err: error, runId: saved.run.id }, 'finishing a resumed quick snapshot run failed'),
        );
    }
    return runs.length;
  }

  private async finishResumed({ run, auditId }: SavedQuickRun): Promise<void> {
    await Promise.all(
      run.items.map(async (item) => {
        const { state } = item;
        if (state.status === 'creating' && state.taskId !== null) {
          const result = await this.deps.tracker.wait(item.target.service, state.taskId);
          item.state = stateOf(result, state.taskId);
        } else if (state.status === 'creating' || state.status === 'queued') {
          item.state = await this.afterRestart(item, state.status, run.startedAt);
        }
      }),
    );
    await this.finish(run, auditId);
  }

  /**
   * A partition the previous process never started, or was creating without knowing the task yet (a
   * crash between OVH's answer and the save): taken if OVH lists the snapshot; followed if OVH still
   * runs a creation on that partition begun since the run started.
   */
  private async afterRestart(item: QuickItem, status: 'creating' | 'queued', since: number): Promise<QuickItemState> {
    if (status === 'queued')
      return { status: 'failed', taskId: null, failure: { kind: 'restart', when: 'not_started' } };
    const { service, partition } = item.target;
    const names = await this.deps.client.listCustomSnapshots(service, partition).catch(() => undefined);
    if (names?.includes(item.name)) return { status: 'done', taskId: null, existed: false };
    const running = await this.runningCreation(service, partition, since).catch(() => undefined);
    if (running !== undefined) return stateOf(await this.deps.tracker.track(service, running), running.taskId);
    return {
      status: 'failed',
      taskId: null,
      failure: { kind: 'restart', when: names === undefined ? 'unknown' : 'not_created' },
    };
  }

  /** OVH's queued or running custom-snapshot creation on a partition, begun since `since` (newest first). */
  private async runningCreation(service: string, partition: string, since: number): Promise<Task | undefined> {
    const operation = 'clusterLeclercCustomSnapCreate';
    const [todo, doing] = await Promise.all([
      this.deps.client.listTasks(service, { status: 'todo', operation }),
      this.deps.client.listTasks(service, { status: 'doing', operation }),
    ]);
    for (const taskId of [...new Set([...todo, ...doing])].sort((a, b) => b - a)) {
      const task = await this.deps.client.getTask(service, taskId);
      // A minute of slack for the difference between our clock and OVH's.
      const began = Date.parse(task.todoDate ?? '');
      if (task.partitionName === partition && Number.isFinite(began) && began >= since - 60_000) return task;
    }
    return undefined;
  }

  private async finish(run: QuickRun, auditId: string): Promise<void> {
    run.finishedAt = this.deps.clock.now();
    const taken = run.items.filter((i) => i.state.status === 'done').length;
    const outcome = taken === run.items.length ? 'succeeded' : taken > 0 ? 'partial' : 'failed';
    await this.deps.audit.update(auditId, { outcome, detail: { quick: quickSummary(run) } });
    await this.deps.memory
      .finishRun(run.id, run.finishedAt)
      .catch((error: unknown) => this.deps.logger?.warn({ err: error, runId: run.id }, 'could not close a quick run'));
  }

  /** Saves the run; calls made while a save is under way are folded into one more save. */
  private runSaver(run: QuickRun, auditId: string, reply: JsonValue): { save(): Promise<void> } {
    let writing: Promise<void> | undefined;
    let again = false;
    const write = async () => {
      do {
        again = false;
        await this.deps.memory
          .saveRun(run, auditId, reply, this.deps.clock.now())
          .catch((error: unknown) =>
            this.deps.logger?.warn({ err: error, runId: run.id }, 'could not save a quick run'),
          );
      } while (again);
    };
    return {
      save: () => {
        if (writing !== undefined) {
          again = true;
          return writing;
        }
        writing = write().finally(() => {
          writing = undefined;
        });
        return writing;
      },
    };
  }

  /** Creates the snapshot; the task to follow, or undefined when the item already ended (failed, full…). */
  private async submit(run: QuickRun, item: QuickItem, changed: () => void): Promise<Task | undefined> {
    const { service, partition } = item.target;
    item.state = { status: 'creating', taskId: null };
    changed();
    try {
      const task = await this.deps.client.createCustomSnapshot(service, partition, {
        name: item.name,
        ...(run.expiration !== null && { expiration: run.expiration }),
      });
      await this.deps.memory
        .recordCreated(service, partition, item.name, this.deps.clock.now(), run.requester)
        .catch((error: unknown) => this.deps.logger?.warn({ err: error }, 'could not record a snapshot creation time'));
      item.state = { status: 'creating', taskId: task.taskId };
      changed();
      return task;
    } catch (error) {
      item.state = await this.classifyFailure(item, error);
      changed();
      return undefined;
    }
  }

  private async follow(item: QuickItem, task: Task, changed: () => void): Promise<void> {
    try {
      item.state = stateOf(await this.deps.tracker.track(item.target.service, task), task.taskId);
    } catch (error) {
      item.state = await this.classifyFailure(item, error);
    }
    changed();
  }

  /** 409: taken already (a retry in the same minute) → done. 400 at 10/10 → full, with what is there. */
  private async classifyFailure(item: QuickItem, error: unknown): Promise<QuickItemState> {
    const { service, partition } = item.target;
    if (error instanceof OvhApiError && error.kind === 'http' && error.httpStatus === 409) {
      return { status: 'done', taskId: null, existed: true };
    }
    if (error instanceof OvhApiError && error.kind === 'http' && error.httpStatus === 400) {
      const names = await this.deps.client.listCustomSnapshots(service, partition).catch(() => undefined);
      if (names?.includes(item.name)) return { status: 'done', taskId: null, existed: true };
      if (names !== undefined && names.length >= MAX_CUSTOM_SNAPSHOTS) {
        return { status: 'full', snapshots: await this.oldestFirst(item.target, names) };
      }
    }
    return {
      status: 'failed',
      failure: {
        kind: 'problem',
        problem: auditProblem(toNashaError(error, 'create snapshot', item.target, item.name).problem),
      },
      taskId: null,
    };
  }

  /** OVH gives only name and expiration: order by the time the bot recorded, then expiration, then name. */
  private async oldestFirst(target: PartitionTarget, names: readonly string[]): Promise<ExistingSnapshot[]> {
    const [created, details] = await Promise.all([
      this.deps.memory.createdAt(target.service, target.partition, names).catch(() => new Map<string, number>()),
      Promise.all(
        names.map((name) =>
          this.deps.client
            .getCustomSnapshot(target.service, target.partition, name)
            .then((s) => s.expiration)
            .catch(() => null),
        ),
      ),
    ]);
    const snapshots = names.map((name, i) => ({
      name,
      expiration: details[i] ?? null,
      createdAt: created.get(name) ?? null,
    }));
    return snapshots.sort(compareOldest);
  }

  private async resolve(actor: Actor, spec: string): Promise<PartitionTarget[]> {
    if (spec === '') throw new NashaError({ kind: 'quick_target_missing' });
    const group = this.deps.settings.targetGroups.get(spec);
    if (group !== undefined) {
      return group.filter((t): t is PartitionTarget => t.partition !== undefined);
    }
    const [service = '', partition, extra] = spec.split('/');
    if (extra !== undefined || service === '' || partition === '') {
      throw new NashaError({ kind: 'quick_target_invalid', spec: excerpt(spec, 80) });
    }
    if (partition !== undefined) return [{ service, partition }];
    let partitions: string[];
    try {
      partitions = await this.deps.client.listPartitions(service);
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) {
        // Suggestions only from what this user may see: services they have a grant on, and group names.
        const services = await this.deps.client.listServices().catch(() => [] as string[]);
        const visible = await Promise.all(services.map((name) => this.deps.policy.canSeeService(actor, name)));
        const candidates = [...services.filter((_s, i) => visible[i]), ...this.deps.settings.targetGroups.keys()];
        throw new NashaError({
          kind: 'quick_target_unknown',
          spec: service,
          suggestions: suggest(service, candidates),
        });
      }
      throw toNashaError(error, 'list partitions', { service });
    }
    if (partitions.length === 0) throw new NashaError({ kind: 'service_empty', service });
    return partitions
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .slice(0, MAX_TARGETS)
      .map((p) => ({ service, partition: p }));
  }
}

/** `can-i quick <spec>`: each partition the plan would consider, with the verdict the plan would act on. */
export interface QuickExplanation {
  spec: string;
  self: boolean;
  subjectId: string;
  /** In the plan's order; never empty (a spec with nothing visible is refused as not found). */
  parts: Explanation[];
}

function hidden(verdict: Verdict): boolean {
  return verdict.kind === 'refused' && verdict.refusal.kind === 'not_visible';
}

/**
 * Partitions the user may not see at all are left out: a refusal must not name them. Nothing left: the spec is
 * "not found, or not yours", never confirmed.
 */
function visibleParts<T extends { target: Target; verdict: Verdict }>(judged: readonly T[], spec: string): T[] {
  const seen = judged.filter(({ verdict }) => !hidden(verdict));
  if (seen.length === 0) {
    throw refused({ kind: 'not_visible', action: 'snapshot.quick', target: { service: spec.trim() } });
  }
  return seen;
}

/** Nothing in a quick run may be taken by this user: refused (and audited) before anything is sent. */
export class QuickRunRefusedError extends NashaError {
  constructor(
    readonly refusal: AuditRefusal,
    spec: string,
  ) {
    super({ kind: 'quick_refused', refusal, spec });
  }
}

/** `<label>-<partition>-<UTC yyyymmddThhmm>`, in OVH's allowed characters: the same within a minute. */
export function quickSnapshotName(label: string, partition: string, now: number): string {
  const stamp = new Date(now).toISOString().slice(0, 16).replace(/[-:]/g, '');
  const safePartition = partition.replace(/[^A-Za-z0-9._-]/g, '-');
  const room = 100 - safePartition.length - stamp.length - 2;
  return `${label.slice(0, Math.max(1, room))}-${safePartition}-${stamp}`;
}

/** Lowercase letters, digits and dashes; e.g. a channel name `#inc-2041-db-outage` → `inc-2041-db-outage`. */
export function sanitizeLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return label === '' ? DEFAULT_LABEL : label;
}

export function compareOldest(a: ExistingSnapshot, b: ExistingSnapshot): number {
  if (a.createdAt !== null && b.createdAt !== null && a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  if (a.createdAt !== null && b.createdAt === null) return -1;
  if (a.createdAt === null && b.createdAt !== null) return 1;
  const ea = a.expiration === null ? Number.POSITIVE_INFINITY : Date.parse(a.expiration);
  const eb = b.expiration === null ? Number.POSITIVE_INFINITY : Date.parse(b.expiration);
  if (ea !== eb) return ea - eb;
  return a.name.localeCompare(b.name);
}

/** A partition's state once OVH's task ended. */
function stateOf(result: TaskResult, taskId: number): QuickItemState {
  if (result.outcome === 'done') return { status: 'done', taskId, existed: false };
  return { status: 'failed', taskId, failure: { kind: 'task', ...taskFailure(result) } };
}

/** The run for its audit record: partitions by state. */
function quickSummary(run: QuickRun): QuickAuditSummary {
  const where = (status: QuickItemState['status']) =>
    run.items.filter((i) => i.state.status === status).map((i) => formatTarget(i.target));
  return {
    label: run.label,
    expiration: run.expiration,
    taken: run.items.filter((i) => i.state.status === 'done').map((i) => `${formatTarget(i.target)}/${i.name}`),
    failed: where('failed'),
    full: where('full'),
    denied: where('denied'),
    pending: run.items.filter((i) => i.state.status === 'queued' || i.state.status === 'creating').length,
  };
}

/** Runs `work` over `items` with at most `limit` at once. */
