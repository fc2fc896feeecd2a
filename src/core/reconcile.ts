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
import { toNashaError } from './errors.js';
import type { ChangeAction } from './ports.js';
import type { OvhProblem, OvhStep } from './problems.js';

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
  | { kind: 'applied' }
  /** The partition does not show it and no task for it exists: OVH did not make it. */
  | { kind: 'not_applied' };

/** How OVH's answer to a change went missing. */
export type LostAnswer =
  | { kind: 'timeout' }
  /** A 5xx (or a gateway's error page). */
  | { kind: 'http'; httpStatus: number | undefined }
  /** An answer that is not OVH's API answer (a proxy page, a malformed 200). */
  | { kind: 'parse' }
  /** The connection broke after the request went out; `ovhMessage`: the network error's own code and words. */
  | { kind: 'network'; ovhMessage: string | undefined }
  /** The answer never reached the bot (it stopped, or handed the change to the sweep): found by the sweep. */
  | { kind: 'not_heard' };

/**
 * How a change whose answer was lost, or that was never sent, was settled: what the bot found on OVH and how,
 * as data (the Slack layer words it; the audit record keeps it as it is).
 */
export type Settlement =
  /** The partition shows the change made (`action` on `subject`), and no OVH task was found to name. */
  | { kind: 'shown_made'; lost: LostAnswer; action: ChangeAction; subject: string }
  /** The partition does not show it and no OVH task was started for it (two checks agree). */
  | { kind: 'shown_not_made'; lost: LostAnswer; action: ChangeAction; subject: string }
  /** OVH's task for it was found and followed. */
  | { kind: 'task_found'; lost: LostAnswer; taskId: number }
  /** The bot stopped after writing the change down and before sending it to OVH: nothing was changed. */
  | { kind: 'not_sent' }
  /** OVH cannot be asked (`problem`: how the last check failed); after `tries` checks, `gaveUp` or still checking. */
  | { kind: 'cannot_ask'; lost: LostAnswer; problem: OvhProblem; tries: number; gaveUp: boolean }
  /** What OVH showed could not be recorded yet: the sweep checks again. */
  | { kind: 'checking'; lost: LostAnswer }
  /** Another replica of the bot took the change over and finishes it. */
  | { kind: 'other_replica' }
  /** Settled by the sweep while the bot restarted: the audit record has what OVH showed. */
  | { kind: 'settled_by_sweep' }
  /** Stopped before OVH made it (a pre-check or OVH refused it): the audit record has why. */
  | { kind: 'failed_before_made' };

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

/** How the answer was lost, as data. */
export function lostAnswer(error: unknown): LostAnswer {
  if (error instanceof OvhApiError) {
    switch (error.kind) {
      case 'timeout':
        return { kind: 'timeout' };
      case 'http':
        return { kind: 'http', httpStatus: error.httpStatus };
      case 'parse':
        return { kind: 'parse' };
      case 'network':
        return { kind: 'network', ovhMessage: error.ovhMessage };
      default:
        break;
    }
  }
  return { kind: 'not_heard' };
}

/**
 * Asks OVH whether a change sent at `since` was made: the partition's state, then the newest tasks of its
 * operation on that partition since then (skipping `journaled`, tasks that belong to other changes). A task
 * is taken only if it agrees with the state: a done one only if the change shows, a failed one only if it
 * does not. Throws a NashaError (an `ovh` problem naming the step) when OVH cannot be asked.
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
  return { kind: shows ? 'applied' : 'not_applied' };
}

/** One read of a check; a failure says which read it was. */
async function asking<T>(change: IntendedChange, step: OvhStep, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toNashaError(error, step, { service: change.service, partition: change.partition });
  }
}

/** True if the partition shows the change made. */
async function stateShows(client: NashaClient, change: IntendedChange): Promise<boolean> {
  const { service, partition, subject } = change;
  const snapshots = () => asking(change, 'list snapshots', () => client.listCustomSnapshots(service, partition));
  const types = () => asking(change, 'read frequencies', () => client.listSnapshotTypes(service, partition));
  switch (change.kind) {
    case 'snapshot.create':
      return (await snapshots()).includes(subject);
    case 'snapshot.delete':
      return !(await snapshots()).includes(subject);
    case 'schedule.add':
      return (await types()).some((type) => type === subject);
    case 'schedule.remove':
      return !(await types()).some((type) => type === subject);
  }
}

async function matchingTask(
  client: NashaClient,
  change: IntendedChange,
  since: number,
  journaled: ReadonlySet<number>,
  shows: boolean,
): Promise<Task | undefined> {
  const ids = await asking(change, 'read task', () =>
    client.listTasks(change.service, { operation: TASK_OPERATION[change.kind] }),
  );
  // Task ids grow with time: newest first, and stop at the first one older than the change.
  const candidates = [...new Set(ids)].filter((id) => !journaled.has(id)).sort((a, b) => b - a);
  for (const taskId of candidates.slice(0, MAX_TASKS_READ)) {
    const task = await asking(change, 'read task', () => client.getTask(change.service, taskId));
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
