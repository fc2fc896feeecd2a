import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { currentBudgetScope, type RequestClass, withContext } from '../shared/request-context.js';
import type { NashaClient } from './client.js';
import { OvhApiError } from './errors.js';
import { FAILED_TASK_STATUSES, type Task, type TaskStatus } from './models.js';

export type FailedTaskStatus = 'cancelled' | 'customerError' | 'ovhError';

export type TaskResult =
  | { outcome: 'done'; taskId: number; task: Task | undefined }
  | { outcome: 'failed'; taskId: number; status: FailedTaskStatus; details: string | null; task: Task }
  | { outcome: 'timeout'; taskId: number; lastStatus: TaskStatus | undefined; lastError: string | undefined }
  | { outcome: 'lost'; taskId: number; reason: string };

export interface TaskTrackerOptions {
  client: NashaClient;
  clock: Clock;
  logger?: Logger;
  /**
   * The OVH request budget shared with every other call. While requests as urgent as a round wait in it
   * (creations of an incident snapshot, a user's listing), polling rounds wait too, up to `maxHoldMs`.
   */
  budget?: { queuedAtOrAbove(requestClass: RequestClass): number };
  /**
   * How long a task is polled in the class of the request that started it (a person waiting for their
   * change or quick run); after that, and for tasks nobody started in this process, polling is background work.
   */
  attendedMs?: number;
  /** Shortest time between rounds, and the first poll after a task is tracked (OVH tasks take seconds). */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  /**
   * The longest a round waits for requests queued in the budget (default 20 s): each round then takes a token
   * from them (a second of an incident run at 60/min), so while they queue the summary is refreshed less often.
   */
  maxHoldMs?: number;
  /**
   * Rounds follow the youngest task's age: the next one comes after (factor − 1) × its age, between
   * the shortest and longest interval. So a task is seen done at most (factor − 1) of its age late.
   */
  backoffFactor?: number;
  /** Default deadline per task (Terraform waits 10 minutes). */
  defaultTimeoutMs?: number;
}

interface Tracked {
  deadline: number;
  lastStatus: TaskStatus | undefined;
  lastError: string | undefined;
  /** Rounds in a row this task was missing from the `done` list. */
  misses: number;
  /** When we started following it. */
  since: number;
  /** Whose request started it, and its class (background when nobody's). */
  requestClass: RequestClass;
  actor: string | undefined;
  resolvers: Array<(result: TaskResult) => void>;
}

interface ServiceLoop {
  tasks: Map<number, Tracked>;
  /** When the next polling round is due (a joining task brings it forward). */
  nextRoundAt: number;
}

const CLASS_RANK: Readonly<Record<RequestClass, number>> = { interactive: 0, bulk: 1, background: 2 };

/** Rounds a task may be missing from the `done` list before we look at it more closely. */
const MISSES_BEFORE_CHECK = 3;
/** Up to this many overdue tasks are fetched one by one; more are first located with two list calls. */
const DIRECT_CHECKS = 2;

/**
 * Follows OVH tasks to a terminal state. Tasks of one service share a polling loop whose round
 * costs one request whatever the number of tasks: a lone task is fetched (`GET /task/{id}`, which
 * also brings a failure's details); several are matched against `GET /task?status=done`. A task
 * that fails never shows as done, so one missing from that list three rounds running is looked at:
 * fetched directly, or when many are overdue (slow OVH), first located in the `todo`/`doing` lists
 * so only tasks in neither (failed, cancelled) cost a GET each.
 * Rounds are spaced by half the youngest task's age (1 s to 10 s): geometric back-off that starts
 * over when a task joins, so the newest task is not checked late. They give way (up to 20 s) to requests
 * as urgent queued for the OVH budget: polling uses what creations and users leave over. A round is in the class
 * of the most urgent task someone waits for (their change, their quick run), else background work.
 */
export class TaskTracker {
  private readonly services = new Map<string, ServiceLoop>();
  private readonly client: NashaClient;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly budget: { queuedAtOrAbove(requestClass: RequestClass): number } | undefined;
  private readonly attendedMs: number;
  private readonly initialIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly maxHoldMs: number;
  private readonly backoffFactor: number;
  private readonly defaultTimeoutMs: number;
  private stopped = false;
  private rounds = 0;

  constructor(options: TaskTrackerOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.logger = options.logger;
    this.budget = options.budget;
    this.attendedMs = options.attendedMs ?? 2 * 60_000;
    this.initialIntervalMs = options.initialIntervalMs ?? 1_000;
    this.maxIntervalMs = Math.max(this.initialIntervalMs, options.maxIntervalMs ?? 10_000);
    this.maxHoldMs = Math.max(this.maxIntervalMs, options.maxHoldMs ?? 20_000);
    this.backoffFactor = options.backoffFactor ?? 1.5;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 10 * 60_000;
  }

  /**
   * Stops polling (shutdown). Pending waits never settle: the tasks stay unfinished in the
   * journal and the next start follows them again, rather than recording a false outcome.
   */
  stop(): void {
    this.stopped = true;
    this.services.clear();
  }

  /** Tasks currently followed, all services together. */
  get inFlight(): number {
    let count = 0;
    for (const loop of this.services.values()) count += loop.tasks.size;
    return count;
  }

  /** Polling rounds made so far, all services together (one request each, plus checks of overdue tasks). */
  get roundsPolled(): number {
    return this.rounds;
  }

  /** Follows a task returned by a POST/DELETE (resolves at once if it is already terminal). */
  track(serviceName: string, task: Task, options: { timeoutMs?: number } = {}): Promise<TaskResult> {
    const immediate = terminalResult(task);
    if (immediate !== undefined) return Promise.resolve(immediate);
    return this.wait(serviceName, task.taskId, { ...options, lastStatus: task.status });
  }

  /** Follows a task by id (e.g. one recorded before a restart). Never rejects. */
  wait(
    serviceName: string,
    taskId: number,
    options: { timeoutMs?: number; lastStatus?: TaskStatus } = {},
  ): Promise<TaskResult> {
    return new Promise((resolve) => {
      if (this.stopped) return;
      const now = this.clock.now();
      let loop = this.services.get(serviceName);
      const startLoop = loop === undefined;
      if (loop === undefined) {
        loop = { tasks: new Map(), nextRoundAt: now + this.initialIntervalMs };
        this.services.set(serviceName, loop);
      }
      const existing = loop.tasks.get(taskId);
      if (existing !== undefined) {
        existing.resolvers.push(resolve);
        return;
      }
      const scope = currentBudgetScope();
      loop.tasks.set(taskId, {
        deadline: now + (options.timeoutMs ?? this.defaultTimeoutMs),
        lastStatus: options.lastStatus,
        lastError: undefined,
        misses: 0,
        since: now,
        requestClass: scope?.requestClass ?? 'background',
        actor: scope?.actor,
        resolvers: [resolve],
      });
      // A new task starts the back-off over: it is checked as soon as a lone one would be.
      loop.nextRoundAt = Math.min(loop.nextRoundAt, now + this.initialIntervalMs);
      if (startLoop) void this.pollService(serviceName, loop);
    });
  }

  private async pollService(serviceName: string, loop: ServiceLoop): Promise<void> {
    const { tasks } = loop;
    let lastRoundAt = this.clock.now();
    try {
      while (tasks.size > 0) {
        // Short sleeps, so a joining task can bring the next round forward.
        await this.clock.sleep(Math.min(this.initialIntervalMs, loop.nextRoundAt - this.clock.now()));
        if (this.stopped) return;
        const now = this.clock.now();
        if (now >= loop.nextRoundAt) {
          const scope = this.roundScope(tasks, now);
          // A person waiting for their change polls at once (the budget takes turns between people); bulk and
          // background rounds give way to requests as urgent waiting for budget (creations, users), and poll
          // with what is left over, later.
          const yieldsTo = scope.requestClass === 'interactive' ? 0 : this.budget?.queuedAtOrAbove(scope.requestClass);
          if ((yieldsTo ?? 0) > 0 && now - lastRoundAt < this.maxHoldMs) {
            loop.nextRoundAt = Math.min(now + this.initialIntervalMs, lastRoundAt + this.maxHoldMs);
          } else {
            lastRoundAt = now;
            this.rounds += 1;
            // The loop runs in the context of whoever started it: each round says whom it serves now.
            await withContext({ budget: scope }, () => this.round(serviceName, tasks));
            if (this.stopped) return;
            loop.nextRoundAt = this.clock.now() + this.nextInterval(tasks);
          }
        }
        this.expire(tasks);
      }
    } catch (error) {
      // round() handles API errors itself; anything here is a bug, and no waiter may hang on it.
      this.logger?.error({ err: error, serviceName }, 'task tracking loop failed');
      for (const [taskId, tracked] of tasks) {
        settle(tasks, taskId, tracked, { outcome: 'lost', taskId, reason: 'task tracking failed unexpectedly' });
      }
    } finally {
      if (this.services.get(serviceName) === loop) this.services.delete(serviceName);
    }
  }

  /** A round serves its most urgent task that someone still waits for (the oldest of them), else background. */
  private roundScope(
    tasks: Map<number, Tracked>,
    now: number,
  ): { requestClass: RequestClass; actor: string | undefined } {
    let best: { requestClass: RequestClass; actor: string | undefined } = {
      requestClass: 'background',
      actor: undefined,
    };
    for (const tracked of tasks.values()) {
      if (now - tracked.since >= this.attendedMs) continue;
      if (CLASS_RANK[tracked.requestClass] < CLASS_RANK[best.requestClass]) {
        best = { requestClass: tracked.requestClass, actor: tracked.actor };
      }
    }
    return best;
  }

  /** (factor − 1) × the youngest task's age, within the shortest and longest interval. */
  private nextInterval(tasks: Map<number, Tracked>): number {
    let youngest = Number.NEGATIVE_INFINITY;
    for (const tracked of tasks.values()) youngest = Math.max(youngest, tracked.since);
    const age = this.clock.now() - youngest;
    const interval = Math.round(age * (this.backoffFactor - 1));
    return Math.min(this.maxIntervalMs, Math.max(this.initialIntervalMs, Number.isFinite(interval) ? interval : 0));
  }

  private async round(serviceName: string, tasks: Map<number, Tracked>): Promise<void> {
    const ids = [...tasks.keys()];
    if (ids.length === 1) {
      await this.fetchEach(serviceName, tasks, ids);
      return;
    }
    let done: Set<number>;
    try {
      done = new Set(await this.client.listTasks(serviceName, { status: 'done' }));
    } catch (error) {
      this.noteError(tasks, ids, error);
      return;
    }
    let overdue: number[] = [];
    for (const taskId of ids) {
      const tracked = tasks.get(taskId);
      if (tracked === undefined) continue;
      if (done.has(taskId)) settle(tasks, taskId, tracked, { outcome: 'done', taskId, task: undefined });
      else if (++tracked.misses >= MISSES_BEFORE_CHECK) overdue.push(taskId);
    }
    if (overdue.length > DIRECT_CHECKS) overdue = await this.stillPending(serviceName, tasks, overdue);
    for (const taskId of overdue) {
      const tracked = tasks.get(taskId);
      if (tracked !== undefined) tracked.misses = 0;
    }
    await this.fetchEach(serviceName, tasks, overdue);
  }

  /** Marks the overdue tasks OVH still has queued or running; returns the others (failed, or odd). */
  private async stillPending(
    serviceName: string,
    tasks: Map<number, Tracked>,
    overdue: readonly number[],
  ): Promise<number[]> {
    const pending = new Map<number, TaskStatus>();
    try {
      const [todo, doing] = await Promise.all([
        this.client.listTasks(serviceName, { status: 'todo' }),
        this.client.listTasks(serviceName, { status: 'doing' }),
      ]);
      for (const id of todo) pending.set(id, 'todo');
      for (const id of doing) pending.set(id, 'doing');
    } catch (error) {
      this.noteError(tasks, overdue, error);
      return [];
    }
    const others: number[] = [];
    for (const taskId of overdue) {
      const tracked = tasks.get(taskId);
      const status = pending.get(taskId);
      if (tracked === undefined) continue;
      if (status === undefined) {
        others.push(taskId);
      } else {
        tracked.lastStatus = status;
        tracked.misses = 0;
      }
    }
    return others;
  }

  private async fetchEach(serviceName: string, tasks: Map<number, Tracked>, ids: readonly number[]): Promise<void> {
    for (const taskId of ids) {
      const tracked = tasks.get(taskId);
      if (tracked === undefined) continue;
      try {
        const task = await this.client.getTask(serviceName, taskId);
        tracked.lastStatus = task.status;
        const result = terminalResult(task);
        if (result !== undefined) settle(tasks, taskId, tracked, result);
      } catch (error) {
        if (error instanceof OvhApiError && (error.isNotFound || error.kind === 'input')) {
          settle(tasks, taskId, tracked, { outcome: 'lost', taskId, reason: error.ovhMessage ?? error.message });
        } else {
          this.noteError(tasks, [taskId], error);
        }
      }
    }
  }

  private noteError(tasks: Map<number, Tracked>, ids: readonly number[], error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.logger?.warn({ err: error, taskIds: ids }, 'polling OVH tasks failed; will retry next round');
    for (const id of ids) {
      const tracked = tasks.get(id);
      if (tracked !== undefined) tracked.lastError = message;
    }
  }

  private expire(tasks: Map<number, Tracked>): void {
    const now = this.clock.now();
    for (const [taskId, tracked] of tasks) {
      if (now >= tracked.deadline) {
        settle(tasks, taskId, tracked, {
          outcome: 'timeout',
          taskId,
          lastStatus: tracked.lastStatus,
          lastError: tracked.lastError,
        });
      }
    }
  }
}

function settle(tasks: Map<number, Tracked>, taskId: number, tracked: Tracked, result: TaskResult): void {
  tasks.delete(taskId);
  for (const resolve of tracked.resolvers) resolve(result);
}

function terminalResult(task: Task): TaskResult | undefined {
  if (task.status === 'done') return { outcome: 'done', taskId: task.taskId, task };
  if ((FAILED_TASK_STATUSES as readonly string[]).includes(task.status)) {
    return {
      outcome: 'failed',
      taskId: task.taskId,
      status: task.status as FailedTaskStatus,
      details: task.details ?? null,
      task,
    };
  }
  return undefined;
}
