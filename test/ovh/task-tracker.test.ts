import { afterEach, describe, expect, it } from 'vitest';
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
  it('follows one task with one GET per round, backing off between rounds', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 6_000 } } });
    const task = await h.api.client.addSnapshotType(SVC, 'vol-001', 'day-2');
    const started = h.clock.now();
    const result = await h.api.tracker.track(SVC, task);
    expect(result).toMatchObject({ outcome: 'done', taskId: task.taskId, task: { status: 'done' } });
    // Rounds at +1000, +2500, +4750, +8125 ms (×1.5): done is seen on the 4th.
    expect(taskRequests(h)).toEqual(Array(4).fill(`/task/${task.taskId}?`));
    expect(h.clock.now() - started).toBe(8_125);
  });

  it('polls many tasks of one service with list calls, not one GET per task', async () => {
    h = await startOvhHarness({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 5_000 } } });
    const partitions = Array.from({ length: 20 }, (_, i) => `vol-${String(i + 10).padStart(3, '0')}`);
    const tasks = await Promise.all(
      partitions.map((p) => h.api.client.createCustomSnapshot(SVC, p, { name: `snap-${p}-incident` })),
    );
    const results = await Promise.all(tasks.map((t) => h.api.tracker.track(SVC, t)));
    expect(results.map((r) => r.outcome)).toEqual(Array(20).fill('done'));
    const requests = taskRequests(h);
    // Rounds at +1000, +2500, +4750 (todo/doing lists), +8125 (all left the lists → one `done` list).
    expect(requests.filter((r) => r.startsWith('/task?'))).toEqual([
      ...Array(4).fill(['/task?status=todo', '/task?status=doing']).flat(),
      '/task?status=done',
    ]);
    expect(requests.filter((r) => r.startsWith('/task/'))).toEqual([]);
    for (const p of partitions.slice(0, 3)) {
      expect(await h.api.client.listCustomSnapshots(SVC, p)).toContain(`snap-${p}-incident`);
    }
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
