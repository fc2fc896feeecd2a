import { afterEach, describe, expect, it } from 'vitest';
import { OvhApiError } from '../../src/ovh/errors.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

const SVC = 'zpool-128310';
let h: OvhHarness;

afterEach(async () => {
  await h?.close();
});

async function rejection(promise: Promise<unknown>): Promise<OvhApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OvhApiError);
    return error as OvhApiError;
  }
  throw new Error('expected the call to fail');
}

describe('NashaClient against the simulator (node-ovh, real HTTPS, real signatures)', () => {
  it('reads services, a service, partitions, a partition and its usage', async () => {
    h = await startOvhHarness();
    const { client } = h.api;
    expect(await client.listServices()).toEqual(expect.arrayContaining([SVC, 'zpool-204117']));
    expect(await client.getService(SVC)).toMatchObject({ serviceName: SVC, customName: 'Production NAS (RBX)' });
    expect(await client.listPartitions(SVC)).toEqual(expect.arrayContaining(['data', 'backups', 'logs']));
    expect(await client.getPartition(SVC, 'data')).toMatchObject({
      partitionName: 'data',
      protocol: 'NFS',
      size: 2000,
    });
    const size = await client.getPartitionUsage(SVC, 'data', 'size');
    const used = await client.getPartitionUsage(SVC, 'data', 'used');
    expect(size.value).toBeGreaterThan(used.value);
    expect(await client.getPartitionUsage(SVC, 'data', 'usedbysnapshots')).toMatchObject({ unit: expect.any(String) });
    // One clock sync for the whole client, then one request per call.
    expect(h.requestLines().filter((l) => l.endsWith('/auth/time'))).toHaveLength(1);
    expect(h.sim.requests.find((r) => r.path.endsWith('/use'))?.query).toEqual({ type: 'size' });
  });

  it('adds, shows and removes an automatic snapshot frequency, following the OVH tasks', async () => {
    h = await startOvhHarness();
    const { client, tracker } = h.api;
    expect(await client.listSnapshotTypes(SVC, 'logs')).toEqual(['hour-1']);

    const addTask = await client.addSnapshotType(SVC, 'logs', 'day-3');
    expect(addTask).toMatchObject({ operation: 'clusterLeclercSnapshotUpdate', status: 'todo', partitionName: 'logs' });
    // OVH applies the change only when the task is done.
    expect(await client.listSnapshotTypes(SVC, 'logs')).toEqual(['hour-1']);
    expect(await tracker.track(SVC, addTask)).toMatchObject({ outcome: 'done', taskId: addTask.taskId });
    expect((await client.listSnapshotTypes(SVC, 'logs')).sort()).toEqual(['day-3', 'hour-1']);
    expect(await client.getSnapshotType(SVC, 'logs', 'day-3')).toEqual({ snapshotType: 'day-3' });

    const removeTask = await client.removeSnapshotType(SVC, 'logs', 'day-3');
    expect(await tracker.track(SVC, removeTask)).toMatchObject({ outcome: 'done' });
    expect(await client.listSnapshotTypes(SVC, 'logs')).toEqual(['hour-1']);
    const gone = await rejection(client.getSnapshotType(SVC, 'logs', 'day-3'));
    expect(gone).toMatchObject({
      kind: 'http',
      httpStatus: 404,
      ovhMessage: 'The requested object (type = day-3) does not exist',
    });
    expect(gone.isNotFound).toBe(true);
  });

  it('creates (with an ISO 8601 expiration), shows and deletes a custom snapshot', async () => {
    h = await startOvhHarness();
    const { client, tracker } = h.api;
    const name = 'snap-logs-2026-11-28T09:00:00.000Z';
    const expiration = '2026-12-05T09:00:00+00:00';
    const create = await client.createCustomSnapshot(SVC, 'logs', { name, expiration });
    expect(create).toMatchObject({ operation: 'clusterLeclercCustomSnapCreate', status: 'todo' });
    expect(await tracker.track(SVC, create)).toMatchObject({ outcome: 'done' });
    expect(await client.listCustomSnapshots(SVC, 'logs')).toEqual([name]);
    expect(await client.getCustomSnapshot(SVC, 'logs', name)).toEqual({ name, expiration });
    // The name travels in the path with its ':' and '.' intact, and the signature still matches.
    expect(h.requestLines()).toContain(`GET /1.0/dedicated/nasha/${SVC}/partition/logs/customSnapshot/${name}`);

    const del = await client.deleteCustomSnapshot(SVC, 'logs', name);
    expect(del.operation).toBe('clusterLeclercCustomSnapDelete');
    expect(await tracker.track(SVC, del)).toMatchObject({ outcome: 'done' });
    expect(await client.listCustomSnapshots(SVC, 'logs')).toEqual([]);

    const noExpiry = await client.createCustomSnapshot(SVC, 'logs', { name: 'snap-forever' });
    await tracker.track(SVC, noExpiry);
    expect(await client.getCustomSnapshot(SVC, 'logs', 'snap-forever')).toEqual({
      name: 'snap-forever',
      expiration: null,
    });
    // The POST body held only the name: no `expiration: null` was sent.
    const post = h.sim.requests.filter((r) => r.method === 'POST').at(-1);
    expect(post?.status).toBe(200);
  });

  it('lists tasks with status and operation filters, and gets one task', async () => {
    h = await startOvhHarness();
    const { client } = h.api;
    const task = await client.addSnapshotType(SVC, 'logs', 'hour-6');
    expect(await client.listTasks(SVC, { status: 'todo' })).toContain(task.taskId);
    expect(await client.listTasks(SVC, { status: 'done' })).not.toContain(task.taskId);
    expect(await client.listTasks(SVC, { operation: 'clusterLeclercSnapshotUpdate' })).toContain(task.taskId);
    expect(await client.listTasks(SVC, { operation: 'clusterLeclercCustomSnapCreate' })).not.toContain(task.taskId);
    expect(await client.listTasks(SVC)).toContain(task.taskId);
    expect(await client.getTask(SVC, task.taskId)).toMatchObject({ taskId: task.taskId, storageName: SVC });
    const queries = h.sim.requests.filter((r) => r.path.endsWith('/task')).map((r) => r.query);
    expect(queries).toEqual([
      { status: 'todo' },
      { status: 'done' },
      { operation: 'clusterLeclercSnapshotUpdate' },
      { operation: 'clusterLeclercCustomSnapCreate' },
      {},
    ]);
  });

  it("surfaces OVH's refusals with status and message: 404, 409, 10/10 limit", async () => {
    h = await startOvhHarness();
    const { client } = h.api;
    expect(await rejection(client.getPartition(SVC, 'nope'))).toMatchObject({
      kind: 'http',
      httpStatus: 404,
      ovhMessage: 'The requested object (partitionName = nope) does not exist',
      operation: 'GET /dedicated/nasha/{serviceName}/partition/{partitionName}',
    });
    expect(await rejection(client.listPartitions('zpool-000000'))).toMatchObject({
      httpStatus: 404,
      ovhMessage: 'This service does not exist',
    });
    expect(await rejection(client.addSnapshotType(SVC, 'data', 'day-1'))).toMatchObject({
      kind: 'http',
      httpStatus: 409,
    });
    const full = await rejection(client.createCustomSnapshot(SVC, 'backups', { name: 'snap-eleventh' }));
    expect(full).toMatchObject({ kind: 'http', httpStatus: 400 });
    expect(full.message).toContain('POST /dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot');
  });
});
