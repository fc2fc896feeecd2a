import { afterEach, describe, expect, it } from 'vitest';
import { NashaClient, type TaskFilter } from '../../src/ovh/client.js';
import type { Task } from '../../src/ovh/models.js';
import { TaskTracker } from '../../src/ovh/task-tracker.js';
import { currentBudgetScope, withRequestClass } from '../../src/shared/request-context.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

const SVC = 'zpool-310442';
let h: OvhHarness;

afterEach(async () => {
  await h?.close();
});

const taskRequests = (harness: OvhHarness) =>
  harness.sim.requests
    .filter((r) => r.path.includes('/task'))
    .map((r) => `${r.path.replace(/^.*\/task/, '/task')}?${new URLSearchParams(r.query)}`);

describe('TaskTracker', () => {
  it('follows one task with one GET per round, spaced by half its age', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 6_000 } } });
    const task = await h.api.client.addSnapshotType(SVC, 'vol-001', 'day-2');
    const started = h.clock.now();
    const result = await h.api.tracker.track(SVC, task);
    expect(result).toMatchObject({ outcome: 'done', taskId: task.taskId, task: { status: 'done' } });
    // Rounds at +1000, +2000, +3000 (at least 1 s apart), then half the task's age later: +4500,
    // +6750, where done (at +6000) is seen.
    expect(taskRequests(h)).toEqual(Array(5).fill(`/task/${task.taskId}?`));
    expect(h.clock.now() - started).toBe(6_750);
  });

  it('polls many tasks of one service with one `done` list per round, not one GET per task', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 5_000 } } });
    const partitions = Array.from({ length: 20 }, (_, i) => `vol-${String(i + 10).padStart(3, '0')}`);
    const tasks = await Promise.all(
      partitions.map((p) => h.api.client.createCustomSnapshot(SVC, p, { name: `snap-${p}-incident` })),
    );
    const results = await Promise.all(tasks.map((t) => h.api.tracker.track(SVC, t)));
    expect(results.map((r) => r.outcome)).toEqual(Array(20).fill('done'));
    const requests = taskRequests(h);
    // Rounds at +1000, +2000, +3000 (`done` lists; after three misses the 20 overdue tasks are found
    // in the todo/doing lists, which costs two calls, not 20 GETs), +4500, +6750 (all done at +5000).
    expect(requests).toEqual([
      '/task?status=done',
      '/task?status=done',
      '/task?status=done',
      '/task?status=todo',
      '/task?status=doing',
      '/task?status=done',
      '/task?status=done',
    ]);
    for (const p of partitions.slice(0, 3)) {
      expect(await h.api.client.listCustomSnapshots(SVC, p)).toContain(`snap-${p}-incident`);
    }
  });

  it('fetches a few overdue tasks directly, and finds a failure among many without a GET per task', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 30_000 } } });
    h.sim.addTaskOutcomes({ partition: 'vol-020', outcome: 'customerError', details: 'quota reached' });
    const slow = await Promise.all(
      ['vol-018', 'vol-019', 'vol-020', 'vol-021'].map((p) => h.api.client.createCustomSnapshot(SVC, p, { name: 's' })),
    );
    const results = await Promise.all(slow.map((t) => h.api.tracker.track(SVC, t)));
    expect(results.map((r) => r.outcome)).toEqual(['done', 'done', 'failed', 'done']);
    expect(results[2]).toMatchObject({ status: 'customerError', details: 'quota reached' });
    const requests = taskRequests(h);
    // The failed task is the only one fetched on its own; the slow ones are located by list.
    expect(requests.filter((r) => r.startsWith('/task/'))).toEqual([`/task/${slow[2]?.taskId}?`]);
    expect(requests.filter((r) => r === '/task?status=todo')).toHaveLength(
      requests.filter((r) => r === '/task?status=doing').length,
    );
  });

  it('starts the back-off over when a task joins, so the newest task is not checked late', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 60_000 } } });
    // The simulator logs wall-clock arrival times; polls are timed here in the tracker's virtual time.
    const pollTimes: number[] = [];
    const clock = h.clock;
    class TimedClient extends NashaClient {
      override listTasks(serviceName: string, filter?: TaskFilter): Promise<number[]> {
        pollTimes.push(clock.now());
        return super.listTasks(serviceName, filter);
      }
      override getTask(serviceName: string, taskId: number): Promise<Task> {
        pollTimes.push(clock.now());
        return super.getTask(serviceName, taskId);
      }
    }
    const tracker = new TaskTracker({ client: new TimedClient(h.api.transport), clock });
    const first = await h.api.client.createCustomSnapshot(SVC, 'vol-008', { name: 'first' });
    const firstDone = tracker.track(SVC, first);
    // The lone task's rounds stretch to the 10 s ceiling (…, +32782, +42782, +52782).
    await clock.sleep(45_000);
    const second = await h.api.client.createCustomSnapshot(SVC, 'vol-009', { name: 'second' });
    const joinedAt = clock.now();
    expect(await tracker.track(SVC, second)).toMatchObject({ outcome: 'done' });
    expect(await firstDone).toMatchObject({ outcome: 'done' });
    expect(pollTimes.find((at) => at > joinedAt)).toBe(joinedAt + 1_000);
  });

  it('polls in the class of the request that started a task while someone waits for it, then as background', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 60_000 } } });
    const clock = h.clock;
    const polls: Array<{ at: number; requestClass: string | undefined; actor: string | undefined }> = [];
    class ScopedClient extends NashaClient {
      override getTask(serviceName: string, taskId: number): Promise<Task> {
        const scope = currentBudgetScope();
        polls.push({ at: clock.now(), requestClass: scope?.requestClass, actor: scope?.actor });
        return super.getTask(serviceName, taskId);
      }
    }
    const tracker = new TaskTracker({ client: new ScopedClient(h.api.transport), clock, attendedMs: 30_000 });
    const task = await h.api.client.createCustomSnapshot(SVC, 'vol-030', { name: 'attended' });
    const started = clock.now();
    // Tracked while serving a person (the loop itself keeps no caller's context: each round sets its own).
    const done = withRequestClass('interactive', 'UALICE', () => tracker.track(SVC, task));
    expect(await done).toMatchObject({ outcome: 'done' });
    const attended = polls.filter((p) => p.at - started < 30_000);
    const later = polls.filter((p) => p.at - started >= 30_000);
    expect(attended.length).toBeGreaterThan(0);
    expect(later.length).toBeGreaterThan(0);
    expect(new Set(attended.map((p) => `${p.requestClass}:${p.actor}`))).toEqual(new Set(['interactive:UALICE']));
    expect(new Set(later.map((p) => p.requestClass))).toEqual(new Set(['background']));

    // A task nobody in this process started (resumed after a restart) is background from the start.
    polls.length = 0;
    const resumed = await h.api.client.createCustomSnapshot(SVC, 'vol-031', { name: 'resumed' });
    expect(await tracker.wait(SVC, resumed.taskId)).toMatchObject({ outcome: 'done' });
    expect(new Set(polls.map((p) => p.requestClass))).toEqual(new Set(['background']));
  });

  it('holds polling rounds while requests wait for the OVH budget, at most 20 s', async () => {
    const budget = { queued: 1, queuedAtOrAbove: () => budget.queued };
    h = await startOvhHarness({
      sim: { taskTimings: { doingAfterMs: 100, doneAfterMs: 500 } },
      tracker: { budget },
    });
    const task = await h.api.client.createCustomSnapshot(SVC, 'vol-010', { name: 'held' });
    const started = h.clock.now();
    expect(await h.api.tracker.track(SVC, task)).toMatchObject({ outcome: 'done' });
    // Queued requests all along: the first round waits until the 20 s ceiling, then goes out anyway.
    expect(h.clock.now() - started).toBe(20_000);
    // A person waiting for their own change is not held: the budget takes turns between people.
    const mine = await h.api.client.createCustomSnapshot(SVC, 'vol-011', { name: 'attended' });
    const asked = h.clock.now();
    expect(await withRequestClass('interactive', 'UBOB', () => h.api.tracker.track(SVC, mine))).toMatchObject({
      outcome: 'done',
    });
    expect(h.clock.now() - asked).toBe(1_000);
    budget.queued = 0;
    const next = await h.api.client.createCustomSnapshot(SVC, 'vol-010', { name: 'free' });
    const again = h.clock.now();
    expect(await h.api.tracker.track(SVC, next)).toMatchObject({ outcome: 'done' });
    expect(h.clock.now() - again).toBe(1_000);
  });

  it('reports a failed task with OVH’s status and details, others still succeed', async () => {
    h = await startOvhHarness();
    h.sim.addTaskOutcomes({ partition: 'vol-005', outcome: 'ovhError', details: 'zfs: dataset is busy' });
    const ok = await h.api.client.createCustomSnapshot(SVC, 'vol-004', { name: 'snap-a' });
    const bad = await h.api.client.createCustomSnapshot(SVC, 'vol-005', { name: 'snap-b' });
    const ok2 = await h.api.client.createCustomSnapshot(SVC, 'vol-006', { name: 'snap-c' });
    const [r1, r2, r3] = await Promise.all([ok, bad, ok2].map((t) => h.api.tracker.track(SVC, t)));
    expect(r1).toMatchObject({ outcome: 'done' });
    expect(r3).toMatchObject({ outcome: 'done' });
    expect(r2).toMatchObject({
      outcome: 'failed',
      status: 'ovhError',
      details: 'zfs: dataset is busy',
      taskId: bad.taskId,
    });
    expect(await h.api.client.listCustomSnapshots(SVC, 'vol-005')).not.toContain('snap-b');
    // Only the failed task needed its own GET (to bring back OVH's details).
    expect(taskRequests(h).filter((r) => r.startsWith('/task/'))).toEqual([`/task/${bad.taskId}?`]);
  });

  it('gives up at the deadline with the last status seen, and never rejects', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 3_600_000 } } });
    const task = await h.api.client.addSnapshotType(SVC, 'vol-002', 'day-3');
    const result = await h.api.tracker.track(SVC, task, { timeoutMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'timeout', taskId: task.taskId, lastStatus: 'doing' });
    expect(h.api.tracker.inFlight).toBe(0);
  });

  it('keeps polling through transient API errors and reports them if the deadline passes', async () => {
    h = await startOvhHarness({ tuning: { maxRetries: 0 } });
    const task = await h.api.client.addSnapshotType(SVC, 'vol-003', 'day-3');
    h.sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha/{serviceName}/task/{taskId}',
      fault: { type: 'status', status: 503 },
      times: 2,
    });
    expect(await h.api.tracker.track(SVC, task)).toMatchObject({ outcome: 'done' });

    const stuck = await h.api.client.addSnapshotType(SVC, 'vol-003', 'hour-6');
    h.sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha/{serviceName}/task/{taskId}',
      fault: { type: 'status', status: 503 },
    });
    const result = await h.api.tracker.track(SVC, stuck, { timeoutMs: 20_000 });
    expect(result).toMatchObject({ outcome: 'timeout' });
    expect(result.outcome === 'timeout' && result.lastError).toMatch(/HTTP 503/);
  });

  it('reports a task OVH no longer knows as lost', async () => {
    h = await startOvhHarness();
    expect(await h.api.tracker.wait(SVC, 123)).toMatchObject({
      outcome: 'lost',
      reason: 'The requested object (taskId = 123) does not exist',
    });
  });

  it('shares one wait between several callers of the same task', async () => {
    h = await startOvhHarness();
    const task = await h.api.client.addSnapshotType(SVC, 'vol-007', 'day-1');
    const [a, b] = await Promise.all([h.api.tracker.track(SVC, task), h.api.tracker.wait(SVC, task.taskId)]);
    expect(a).toEqual(b);
  });
});
