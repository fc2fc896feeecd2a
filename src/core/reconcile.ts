/**
 * What OVH shows about a change whose answer never reached the bot (the bot died mid-call, or the answer was
 * lost on the way: a timeout, a reset, a 5xx or a gateway page after OVH had committed it), and the background
 * sweep that settles such changes. The decisions are here; SnapshotService records them.
 */
import type { Logger } from 'pino';
import type { NashaClient } from '../ovh/client.js';
import { OvhApiError } from '../ovh/errors.js';
import { FAILED_TASK_STATUSES, PENDING_TASK_STATUSES, type Task, type TaskFunction } from '../ovh/models.js';
import { InFlightWork } from '../shared/in-flight.js';
import { withFreshReads } from '../shared/request-context.js';
import type { ChangeAction } from './ports.js';

/** The change as the intent recorded it. */
export interface IntendedChange {
  service: string;
  partition: string;
  kind: ChangeAction;
  /** Snapshot name or frequency. */
  subject: string;
}

/** What OVH shows about an intended change. */
export type OvhFinding =
  /** A task for the change, begun since it was sent: followed to its end like any other. */
  | { kind: 'task'; task: Task }
  /** The partition shows the change made, and no task was found to name. */
  | { kind: 'applied'; detail: string }
  /** The partition does not show it and no task for it exists: OVH did not make it. */
  | { kind: 'not_applied'; detail: string };

/** The OVH task operation each change starts (ovh-api.md §1.3; both frequency changes share one). */
export const TASK_OPERATION: Readonly<Record<ChangeAction, TaskFunction>> = {
  'snapshot.create': 'clusterLeclercCustomSnapCreate',
  'snapshot.delete': 'clusterLeclercCustomSnapDelete',
  'schedule.add': 'clusterLeclercSnapshotUpdate',
  'schedule.remove': 'clusterLeclercSnapshotUpdate',
};

/** OVH's clock and ours differ: a task dated this much before the change was sent still counts as its own. */
export const TASK_CLOCK_SLACK_MS = 60_000;
/** The newest tasks of the operation read at most, per check (each is one GET). */
const MAX_TASKS_READ = 10;

/**
 * True for a failed POST/DELETE that OVH may have carried out anyway: no answer in time, a broken connection
 * after the request went out, a 5xx, or an answer that is not OVH's JSON (a proxy page, a malformed 200).
 * Refusals (4xx, a clock error, invalid input) and connections never made are not: nothing was done.
 */
export function isAmbiguousWriteFailure(error: unknown): boolean {
  if (!(error instanceof OvhApiError)) return false;
  switch (error.kind) {
    case 'timeout':
    case 'parse':
      return true;
    case 'http':
      return (error.httpStatus ?? 0) >= 500;
    case 'network':
      return !NEVER_CONNECTED.test(error.ovhMessage ?? '');
    default:
      return false;
  }
}

/** Network errors raised before any byte of the request could leave. */
const NEVER_CONNECTED = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** How the answer was lost, in words for the audit record and the user. */
export function describeLostAnswer(error: unknown): string {
  if (error instanceof OvhApiError) {
    switch (error.kind) {
      case 'timeout':
        return 'OVH did not answer in time';
      case 'http':
        return `OVH answered HTTP ${error.httpStatus ?? '?'}`;
      case 'parse':
        return 'OVH answered with a page that is not its API answer';
      case 'network':
        return `the connection to OVH broke (${error.ovhMessage ?? 'network error'})`;
      default:
        return error.message;
    }
  }
  return 'the answer from OVH was lost';
}

/**
 * Asks OVH whether a change sent at `since` was made: the partition's state, then the newest tasks of its
 * operation on that partition since then (skipping `journaled`, tasks that belong to other changes). A task
 * is taken only if it agrees with the state: a done one only if the change shows, a failed one only if it
 * does not. Throws (an OvhApiError) when OVH cannot be asked.
 */
export async function findOnOvh(
  client: NashaClient,
  change: IntendedChange,
  since: number,
  journaled: ReadonlySet<number>,
): Promise<OvhFinding> {
  // After a lost answer, only OVH's own listing can say whether the change was made.
  const shows = await withFreshReads(() => stateShows(client, change));
  const task = await matchingTask(client, change, since, journaled, shows);
  if (task !== undefined) return { kind: 'task', task };
  const what = stateText(change, shows);
  return shows
    ? { kind: 'applied', detail: `OVH shows it done (${what}; no OVH task found for it)` }
    : { kind: 'not_applied', detail: `OVH shows it was not done (${what}, and no OVH task was started for it)` };
}

/** True if the partition shows the change made. */
async function stateShows(client: NashaClient, change: IntendedChange): Promise<boolean> {
  const { service, partition, subject } = change;
  switch (change.kind) {
    case 'snapshot.create':
      return (await client.listCustomSnapshots(service, partition)).includes(subject);
    case 'snapshot.delete':
      return !(await client.listCustomSnapshots(service, partition)).includes(subject);
    case 'schedule.add':
      return (await client.listSnapshotTypes(service, partition)).some((type) => type === subject);
    case 'schedule.remove':
      return !(await client.listSnapshotTypes(service, partition)).some((type) => type === subject);
  }
}

function stateText(change: IntendedChange, shows: boolean): string {
  const subject = change.subject;
  switch (change.kind) {
    case 'snapshot.create':
      return shows ? `snapshot ${subject} exists` : `there is no snapshot ${subject}`;
    case 'snapshot.delete':
      return shows ? `snapshot ${subject} is gone` : `snapshot ${subject} is still there`;
    case 'schedule.add':
      return shows ? `${subject} is enabled` : `${subject} is not enabled`;
    case 'schedule.remove':
      return shows ? `${subject} is disabled` : `${subject} is still enabled`;
  }
}

async function matchingTask(
  client: NashaClient,
  change: IntendedChange,
  since: number,
  journaled: ReadonlySet<number>,
  shows: boolean,
): Promise<Task | undefined> {
  const ids = await client.listTasks(change.service, { operation: TASK_OPERATION[change.kind] });
  // Task ids grow with time: newest first, and stop at the first one older than the change.
  const candidates = [...new Set(ids)].filter((id) => !journaled.has(id)).sort((a, b) => b - a);
  for (const taskId of candidates.slice(0, MAX_TASKS_READ)) {
    const task = await client.getTask(change.service, taskId);
    const began = Date.parse(task.todoDate ?? '');
    if (Number.isFinite(began) && began < since - TASK_CLOCK_SLACK_MS) return undefined;
    if (task.partitionName !== change.partition) continue;
    if (PENDING_TASK_STATUSES.includes(task.status)) return task;
    if (task.status === 'done' && shows) return task;
    if (FAILED_TASK_STATUSES.includes(task.status) && !shows) return task;
  }
  return undefined;
}

/**
 * Keeps a lease alive while a write or a check lasts, on wall-clock time: what it covers is real I/O, and a
 * timer on an injected virtual clock would move that clock for everyone while waiting for the network.
 */
export function keepRenewed(renew: () => Promise<boolean>, everyMs: number, onLost: () => void): { stop(): void } {
  let stopped = false;
  const timer = setInterval(() => {
    void renew().then(
      (held) => {
        if (!held && !stopped) onLost();
      },
      () => undefined, // a failed renewal is retried at the next tick; the lease has slack for it
    );
  }, everyMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export interface IntentSweeperOptions {
  /** One pass: settles what is due; resolves with when the next intent is due (epoch ms on `now`'s clock). */
  pass: () => Promise<number | undefined>;
  /** The clock intents are dated with. */
  now: () => number;
  /** The longest wait between passes (wall-clock ms). */
  intervalMs: number;
  logger?: Logger | undefined;
}

/**
 * Runs the reconciliation pass at start, then every `intervalMs`, and sooner when an intent's lease runs out,
 * so a replica picks up a dead one's work about when it becomes due. Waits are wall-clock timers (see
 * keepRenewed); the due times come from the injected clock.
 */
export class IntentSweeper {
  private readonly options: IntentSweeperOptions;
  private readonly passes = new InFlightWork();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: IntentSweeperOptions) {
    this.options = options;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Runs a pass now (after a local change left an intent for the sweep). */
  kick(): void {
    if (this.running) this.schedule(0);
  }

  /** No more passes; waits (bounded) for the one under way. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.passes.drained(timeoutMs);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runPass(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private async runPass(): Promise<void> {
    if (!this.running) return;
    let next: number | undefined;
    try {
      next = await this.passes.track(this.options.pass());
    } catch (error) {
      this.options.logger?.error({ err: error }, 'change reconciliation pass failed');
    }
    if (!this.running) return;
    const untilDue = next === undefined ? Number.POSITIVE_INFINITY : next - this.options.now();
    // At least a second apart, so a row that stays due (unreadable, or leased to this process) cannot spin.
    this.schedule(Math.max(1_000, Math.min(this.options.intervalMs, untilDue)));
  }
}
