import type { NashaClient } from '../src/ovh/client.js';
import { OvhApiError } from '../src/ovh/errors.js';
import { FAILED_TASK_STATUSES, type Task, type TaskStatus } from '../src/ovh/models.js';
import { type TaskResult, TaskTracker } from '../src/ovh/task-tracker.js';
import type { Clock } from '../src/shared/clock.js';

/**
 * The baseline for scenario 2: how the OVH control panel and Terraform follow tasks — every task on its
 * own, one GET /task/{id} per task per round, with the bot's back-off (first poll after 1 s, ×1.5, at most
 * 10 s). A TaskTracker subclass only so QuickSnapshotService takes it; none of the batching is used.
 */
export class PerTaskTracker extends TaskTracker {
  private readonly perTaskClient: NashaClient;
  private readonly perTaskClock: Clock;

  constructor(options: { client: NashaClient; clock: Clock }) {
    super(options);
    this.perTaskClient = options.client;
    this.perTaskClock = options.clock;
  }

  override track(serviceName: string, task: Task): Promise<TaskResult> {
    return this.wait(serviceName, task.taskId, { lastStatus: task.status });
  }

  override async wait(
    serviceName: string,
    taskId: number,
    options: { lastStatus?: TaskStatus } = {},
  ): Promise<TaskResult> {
    let interval = 1_000;
    let lastStatus = options.lastStatus;
    const deadline = this.perTaskClock.now() + 10 * 60_000;
    while (this.perTaskClock.now() < deadline) {
      await this.perTaskClock.sleep(interval);
      try {
        const task = await this.perTaskClient.getTask(serviceName, taskId);
        lastStatus = task.status;
        if (task.status === 'done') return { outcome: 'done', taskId, task };
        if ((FAILED_TASK_STATUSES as readonly string[]).includes(task.status)) {
          return { outcome: 'failed', taskId, status: 'ovhError', details: task.details ?? null, task };
        }
      } catch (error) {
        if (error instanceof OvhApiError && error.isNotFound) return { outcome: 'lost', taskId, reason: error.message };
      }
      interval = Math.min(10_000, Math.round(interval * 1.5));
    }
    return { outcome: 'timeout', taskId, lastStatus, lastError: undefined };
  }
}
