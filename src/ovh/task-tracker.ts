import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
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
  /** First poll this long after a task is tracked (OVH tasks take seconds). */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  backoffFactor?: number;
  /** Default deadline per task (Terraform waits 10 minutes). */
  defaultTimeoutMs?: number;
}

interface Tracked {
  deadline: number;
  lastStatus: TaskStatus | undefined;
  lastError: string | undefined;
  resolvers: Array<(result: TaskResult) => void>;
}

/**
 * Follows OVH tasks to a terminal state. Tasks of one service share a polling loop: with a single
 * task a round is one GET /task/{id}; with several it lists the `todo` and `doing` ids (two
 * requests whatever the count), then resolves the ones that left those lists, with one more list
 * call (`done`) when several finished together. Rounds back off geometrically.
 */
export class TaskTracker {
  private readonly services = new Map<string, Map<number, Tracked>>();
  private readonly client: NashaClient;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly initialIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly backoffFactor: number;
  private readonly defaultTimeoutMs: number;
  private stopped = false;

  constructor(options: TaskTrackerOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.logger = options.logger;
    this.initialIntervalMs = options.initialIntervalMs ?? 1_000;
    this.maxIntervalMs = options.maxIntervalMs ?? 10_000;
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
    for (const tasks of this.services.values()) count += tasks.size;
    return count;
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
      let tasks = this.services.get(serviceName);
      const startLoop = tasks === undefined;
      if (tasks === undefined) {
        tasks = new Map();
        this.services.set(serviceName, tasks);
      }
      const existing = tasks.get(taskId);
      if (existing !== undefined) {
        existing.resolvers.push(resolve);
      } else {
        tasks.set(taskId, {
          deadline: this.clock.now() + (options.timeoutMs ?? this.defaultTimeoutMs),
          lastStatus: options.lastStatus,
          lastError: undefined,
          resolvers: [resolve],
        });
      }
      if (startLoop) void this.pollService(serviceName, tasks);
    });
  }

  private async pollService(serviceName: string, tasks: Map<number, Tracked>): Promise<void> {
    let interval = this.initialIntervalMs;
    try {
      while (tasks.size > 0) {
        await this.clock.sleep(interval);
        if (this.stopped) return;
        await this.round(serviceName, tasks);
        if (this.stopped) return;
        this.expire(tasks);
        interval = Math.min(this.maxIntervalMs, Math.round(interval * this.backoffFactor));
      }
    } catch (error) {
      // round() handles API errors itself; anything here is a bug, and no waiter may hang on it.
      this.logger?.error({ err: error, serviceName }, 'task tracking loop failed');
      for (const [taskId, tracked] of tasks) {
        settle(tasks, taskId, tracked, { outcome: 'lost', taskId, reason: 'task tracking failed unexpectedly' });
      }
    } finally {
      if (this.services.get(serviceName) === tasks) this.services.delete(serviceName);
    }
  }

  private async round(serviceName: string, tasks: Map<number, Tracked>): Promise<void> {
    const ids = [...tasks.keys()];
    if (ids.length === 1) {
      await this.fetchOne(serviceName, tasks, ids);
      return;
    }
    const pending = new Map<number, TaskStatus>();
    try {
      const [todo, doing] = await Promise.all([
        this.client.listTasks(serviceName, { status: 'todo' }),
        this.client.listTasks(serviceName, { status: 'doing' }),
      ]);
      for (const id of todo) pending.set(id, 'todo');
      for (const id of doing) pending.set(id, 'doing');
    } catch (error) {
      this.noteError(tasks, ids, error);
      return;
    }
    for (const [id, status] of pending) {
      const tracked = tasks.get(id);
      if (tracked !== undefined) tracked.lastStatus = status;
    }
    const left = ids.filter((id) => !pending.has(id));
    if (left.length <= 1) {
      await this.fetchOne(serviceName, tasks, left);
      return;
    }
    let done: Set<number>;
    try {
      done = new Set(await this.client.listTasks(serviceName, { status: 'done' }));
    } catch (error) {
      this.noteError(tasks, left, error);
      return;
    }
    const unresolved: number[] = [];
    for (const taskId of left) {
      const tracked = tasks.get(taskId);
      if (tracked === undefined) continue;
      if (done.has(taskId)) settle(tasks, taskId, tracked, { outcome: 'done', taskId, task: undefined });
      else unresolved.push(taskId);
    }
    // Failed (or still `init`) tasks: one GET each, which also brings OVH's details.
    for (const taskId of unresolved) await this.fetchOne(serviceName, tasks, [taskId]);
  }

  private async fetchOne(serviceName: string, tasks: Map<number, Tracked>, ids: readonly number[]): Promise<void> {
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
