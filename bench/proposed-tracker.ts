import type { RequestBudget } from '../src/ovh/budget.js';
import type { NashaClient } from '../src/ovh/client.js';
import { FAILED_TASK_STATUSES, type Task } from '../src/ovh/models.js';
import { type TaskResult, TaskTracker } from '../src/ovh/task-tracker.js';
import type { Clock } from '../src/shared/clock.js';

interface Followed {
  resolve: (result: TaskResult) => void;
  /** Rounds this task was missing from the `done` list. */
  misses: number;
}

/**
 * A prototype of the polling policy proposed in bench/RESULTS.md for src/ovh/task-tracker.ts, to measure
 * its effect (bench only; no timeouts or shutdown handling):
 * - a round is ONE request, `GET …/task?status=done`; a task missing from it 3 rounds in a row gets its
 *   own GET (a failed task never shows as done, and that GET brings OVH's details);
 * - the back-off restarts (1 s, ×1.5, ≤ 10 s) whenever a task joins, so the last task is not checked late;
 * - while requests wait for the budget (creations), rounds wait too, up to 10 s: polls use spare budget.
 */
export class ProposedTracker extends TaskTracker {
  private readonly followed = new Map<string, Map<number, Followed>>();
  private readonly joined = new Map<string, number>();
  private readonly deps: { client: NashaClient; clock: Clock; budget: RequestBudget };

  constructor(deps: { client: NashaClient; clock: Clock; budget: RequestBudget }) {
    super(deps);
    this.deps = deps;
  }

  override track(serviceName: string, task: Task): Promise<TaskResult> {
    return this.wait(serviceName, task.taskId);
  }

  override wait(serviceName: string, taskId: number): Promise<TaskResult> {
    return new Promise((resolve) => {
      const tasks = this.followed.get(serviceName) ?? new Map<number, Followed>();
      tasks.set(taskId, { resolve, misses: 0 });
      this.joined.set(serviceName, this.deps.clock.now());
      if (!this.followed.has(serviceName)) {
        this.followed.set(serviceName, tasks);
        void this.poll(serviceName, tasks);
      }
    });
  }

  private async poll(serviceName: string, tasks: Map<number, Followed>): Promise<void> {
    const { client, clock, budget } = this.deps;
    let lastRound = clock.now();
    let rounds = 0;
    let joinedAt = this.joined.get(serviceName);
    while (tasks.size > 0) {
      if (this.joined.get(serviceName) !== joinedAt) {
        joinedAt = this.joined.get(serviceName);
        rounds = 0;
      }
      await clock.sleep(Math.min(10_000, 1_000 * 1.5 ** rounds));
      if (budget.queued > 0 && clock.now() - lastRound < 10_000) continue;
      lastRound = clock.now();
      rounds++;
      const done = new Set(await client.listTasks(serviceName, { status: 'done' }).catch(() => []));
      for (const [taskId, followed] of tasks) {
        if (done.has(taskId)) this.settle(tasks, taskId, { outcome: 'done', taskId, task: undefined });
        else if (++followed.misses >= 3) {
          const task = await client.getTask(serviceName, taskId).catch(() => undefined);
          if (task !== undefined && (FAILED_TASK_STATUSES as readonly string[]).includes(task.status)) {
            this.settle(tasks, taskId, {
              outcome: 'failed',
              taskId,
              status: 'ovhError',
              details: task.details ?? null,
              task,
            });
          }
          followed.misses = 0;
        }
      }
    }
    this.followed.delete(serviceName);
  }

  private settle(tasks: Map<number, Followed>, taskId: number, result: TaskResult): void {
    tasks.get(taskId)?.resolve(result);
    tasks.delete(taskId);
  }
}
