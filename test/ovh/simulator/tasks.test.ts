import { describe, expect, it } from 'vitest';
import { type SimulatorOptions, SimulatorState } from '../../../src/ovh/simulator/index.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { api, P128, P204, startTestSimulator } from './harness.js';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const DAY = 86_400_000;

async function setup(options: SimulatorOptions = {}) {
  const clock = new ManualClock(START);
  const sim = await startTestSimulator({ clock, ...options });
  return { sim, clock, call: api(sim) };
}

interface TaskJson {
  taskId: number;
  status: string;
  details: string | null;
  lastUpdate: string | null;
  doneDate: string | null;
}

describe('task lifecycle', () => {
  it('moves todo → doing → done on the clock; the new type is listed only once done', async () => {
    const { call, clock } = await setup();
    const list = `${P128}/partition/logs/snapshot`;
    const task = (await call.post(list, { snapshotType: 'day-1' })).json as TaskJson;
    const poll = async () => (await call.get(`${P128}/task/${task.taskId}`)).json as TaskJson;

    expect(await poll()).toMatchObject({ status: 'todo', lastUpdate: null, doneDate: null });
    expect((await call.get(list)).json).toEqual(['hour-1']);
    expect((await call.get(`${list}/day-1`)).status).toBe(404);

    clock.advance(1_999);
    expect((await poll()).status).toBe('todo');
    clock.advance(1);
    expect(await poll()).toMatchObject({ status: 'doing', lastUpdate: '2026-01-01T12:00:02+00:00', doneDate: null });
    expect((await call.get(list)).json).toEqual(['hour-1']);

    clock.advance(3_000);
    expect(await poll()).toMatchObject({
      status: 'done',
      details: null,
      lastUpdate: '2026-01-01T12:00:05+00:00',
      doneDate: '2026-01-01T12:00:05+00:00',
    });
    expect((await call.get(list)).json).toEqual(['hour-1', 'day-1']);
    expect((await call.get(`${list}/day-1`)).json).toEqual({ snapshotType: 'day-1' });
  });

  it('removes a type, creates and deletes custom snapshots only when their tasks are done', async () => {
    const { call, clock } = await setup({ taskTimings: { doingAfterMs: 100, doneAfterMs: 1_000 } });
    const part = `${P128}/partition/data`;
    await call.del(`${part}/snapshot/day-7`);
    await call.post(`${part}/customSnapshot`, { name: 'snap-new', expiration: '2027-01-01' });
    await call.del(`${part}/customSnapshot/snap-data-pre-upgrade`);

    clock.advance(999);
    expect((await call.get(`${part}/snapshot`)).json).toEqual(['hour-1', 'day-1', 'day-7']);
    expect((await call.get(`${part}/customSnapshot`)).json).toEqual([
      'snap-data-pre-upgrade',
      'snap-data-2025-12-01T09:30:00.000Z',
    ]);
    expect((await call.get(`${part}/customSnapshot/snap-new`)).status).toBe(404);

    clock.advance(1);
    expect((await call.get(`${part}/snapshot`)).json).toEqual(['hour-1', 'day-1']);
    expect((await call.get(`${part}/customSnapshot`)).json).toEqual(['snap-data-2025-12-01T09:30:00.000Z', 'snap-new']);
    // The expiration is echoed exactly as sent.
    expect((await call.get(`${part}/customSnapshot/snap-new`)).json).toEqual({
      name: 'snap-new',
      expiration: '2027-01-01',
    });
  });

  it('numbers tasks from 4 000 000 upwards across services', async () => {
    const { call } = await setup();
    const a = (await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).json as TaskJson;
    const b = (await call.post(`${P204}/partition/scratch/snapshot`, { snapshotType: 'day-1' })).json as TaskJson;
    expect([a.taskId, b.taskId]).toEqual([4_000_000, 4_000_001]);
  });

  it('is also observable in-process through sim.state', async () => {
    const { sim, clock } = await setup();
    const task = sim.state.addScheduledType('zpool-128310', 'logs', 'hour-6');
    expect(sim.state.listScheduledTypes('zpool-128310', 'logs')).toEqual(['hour-1']);
    clock.advance(5_000);
    expect(sim.state.getTask('zpool-128310', task.taskId).status).toBe('done');
    expect(sim.state.listScheduledTypes('zpool-128310', 'logs')).toEqual(['hour-1', 'hour-6']);
  });
});

describe('limits and conflicts', () => {
  const conflict = expect.objectContaining({ class: 'Client::Conflict', message: expect.any(String) });
  const badRequest = expect.objectContaining({ class: 'Client::BadRequest', message: expect.any(String) });

  it('refuses an 11th custom snapshot, counting pending creations', async () => {
    const { call, clock } = await setup();
    const full = await call.post(`${P128}/partition/backups/customSnapshot`, { name: 'snap-11' });
    expect(full.status).toBe(400);
    expect(full.json).toEqual(badRequest);

    const data = `${P128}/partition/data/customSnapshot`; // 2 existing
    for (let index = 1; index <= 8; index++) {
      expect((await call.post(data, { name: `snap-pending-${index}` })).status).toBe(200);
    }
    expect((await call.post(data, { name: 'snap-one-too-many' })).status).toBe(400);
    clock.advance(5_000);
    expect((await call.get(data)).json).toHaveLength(10);
    expect((await call.post(data, { name: 'snap-one-too-many' })).status).toBe(400);

    // Deleting one frees a slot once the deletion is done.
    await call.del(`${data}/snap-pending-1`);
    expect((await call.post(data, { name: 'snap-one-too-many' })).status).toBe(400);
    clock.advance(5_000);
    expect((await call.post(data, { name: 'snap-one-too-many' })).status).toBe(200);
  });

  it('caps scheduled types (default 4), counting pending additions', async () => {
    const { call } = await setup();
    const atCap = await call.post(`${P204}/partition/db/snapshot`, { snapshotType: 'day-2' });
    expect(atCap.status).toBe(400);
    expect(atCap.json).toEqual(badRequest);

    const logs = `${P128}/partition/logs/snapshot`; // hour-1 only
    for (const snapshotType of ['hour-6', 'day-1', 'day-2']) {
      expect((await call.post(logs, { snapshotType })).status).toBe(200);
    }
    expect((await call.post(logs, { snapshotType: 'day-3' })).status).toBe(400);
  });

  it('honours configured limits', async () => {
    const { call } = await setup({ limits: { maxCustomSnapshots: 1, maxScheduledTypes: 6 } });
    expect((await call.post(`${P204}/partition/db/snapshot`, { snapshotType: 'day-2' })).status).toBe(200);
    expect((await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'a' })).status).toBe(200);
    expect((await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'b' })).status).toBe(400);
  });

  it('answers 409 for duplicates, existing or pending', async () => {
    const { call } = await setup();
    const existingType = await call.post(`${P128}/partition/data/snapshot`, { snapshotType: 'day-1' });
    expect(existingType.status).toBe(409);
    expect(existingType.json).toEqual(conflict);

    expect((await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-3' })).status).toBe(200);
    expect((await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-3' })).status).toBe(409);

    expect((await call.post(`${P128}/partition/data/customSnapshot`, { name: 'snap-data-pre-upgrade' })).status).toBe(
      409,
    );
    expect((await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'snap-twice' })).status).toBe(200);
    expect((await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'snap-twice' })).status).toBe(409);

    expect((await call.del(`${P128}/partition/data/snapshot/day-7`)).status).toBe(200);
    expect((await call.del(`${P128}/partition/data/snapshot/day-7`)).status).toBe(409);
    expect((await call.del(`${P128}/partition/data/customSnapshot/snap-data-pre-upgrade`)).status).toBe(200);
    const again = await call.del(`${P128}/partition/data/customSnapshot/snap-data-pre-upgrade`);
    expect(again.status).toBe(409);
    expect(again.json).toEqual(conflict);
  });
});

describe('custom snapshot expiration', () => {
  it('sweeps seeded snapshots once their expiration passes', async () => {
    const { call, clock } = await setup();
    const db = `${P204}/partition/db/customSnapshot`;
    expect((await call.get(db)).json).toEqual(['snap-db-before-migration', 'snap-db-month-end', 'snap-db-keep']);
    clock.advance(DAY - 1);
    expect((await call.get(db)).json).toHaveLength(3);
    clock.advance(1);
    expect((await call.get(db)).json).toEqual(['snap-db-month-end', 'snap-db-keep']);
    expect((await call.get(`${db}/snap-db-before-migration`)).status).toBe(404);
    clock.advance(365 * DAY);
    expect((await call.get(db)).json).toEqual(['snap-db-keep']);
  });

  it('sweeps a created snapshot at its expiration, whatever the offset it was given with', async () => {
    const { call, clock } = await setup();
    const logs = `${P128}/partition/logs/customSnapshot`;
    // 13:01+01:00 is 12:01Z: one minute after START.
    await call.post(logs, { name: 'snap-short', expiration: '2026-01-01T13:01:00+01:00' });
    clock.advance(5_000);
    expect((await call.get(`${logs}/snap-short`)).json).toEqual({
      name: 'snap-short',
      expiration: '2026-01-01T13:01:00+01:00',
    });
    clock.advance(55_000);
    expect((await call.get(logs)).json).toEqual([]);
  });
});

describe('task outcome injection', () => {
  it('fails a matching task with its details and does not apply the change', async () => {
    const { sim, call, clock } = await setup();
    sim.addTaskOutcomes({
      service: 'zpool-128310',
      partition: 'logs',
      operation: 'clusterLeclercSnapshotUpdate',
      outcome: 'ovhError',
      details: 'zfs: dataset is busy',
      count: 1,
    });
    const failing = (await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).json as TaskJson;
    // Other partitions/operations are unaffected.
    const other = (await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'snap-ok' })).json as TaskJson;
    clock.advance(2_000);
    expect(((await call.get(`${P128}/task/${failing.taskId}`)).json as TaskJson).status).toBe('doing');
    clock.advance(3_000);

    expect((await call.get(`${P128}/task/${failing.taskId}`)).json).toMatchObject({
      status: 'ovhError',
      details: 'zfs: dataset is busy',
      doneDate: '2026-01-01T12:00:05+00:00',
    });
    expect((await call.get(`${P128}/task/${other.taskId}`)).json).toMatchObject({ status: 'done' });
    expect((await call.get(`${P128}/partition/logs/snapshot`)).json).toEqual(['hour-1']);
    expect((await call.get(`${P128}/task?status=ovhError`)).json).toEqual([failing.taskId]);

    // count: 1 is used up: the retry succeeds.
    const retry = (await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).json as TaskJson;
    clock.advance(5_000);
    expect((await call.get(`${P128}/task/${retry.taskId}`)).json).toMatchObject({ status: 'done' });
    expect((await call.get(`${P128}/partition/logs/snapshot`)).json).toEqual(['hour-1', 'day-1']);
  });

  it('supports customerError and cancelled, unlimited by default, from startup options', async () => {
    const { call, clock } = await setup({
      taskOutcomes: [
        { operation: 'clusterLeclercCustomSnapDelete', outcome: 'customerError', details: 'snapshot is held' },
        { operation: 'clusterLeclercCustomSnapCreate', outcome: 'cancelled', details: 'cancelled by OVH' },
      ],
    });
    const part = `${P128}/partition/data/customSnapshot`;
    const del1 = (await call.del(`${part}/snap-data-pre-upgrade`)).json as TaskJson;
    const create = (await call.post(part, { name: 'snap-never' })).json as TaskJson;
    clock.advance(5_000);
    const del2 = (await call.del(`${part}/snap-data-pre-upgrade`)).json as TaskJson;
    clock.advance(5_000);
    for (const [task, status] of [
      [del1, 'customerError'],
      [del2, 'customerError'],
      [create, 'cancelled'],
    ] as const) {
      expect(((await call.get(`${P128}/task/${task.taskId}`)).json as TaskJson).status).toBe(status);
    }
    expect((await call.get(part)).json).toEqual(['snap-data-pre-upgrade', 'snap-data-2025-12-01T09:30:00.000Z']);
  });
});

describe('SimulatorState (pure)', () => {
  it('defaults a seeded partition to hour-1 and resets to the seed', () => {
    const clock = new ManualClock(START);
    const state = new SimulatorState({
      clock,
      seed: { services: [{ serviceName: 'zpool-1', partitions: [{ partitionName: 'p', size: 10 }] }] },
    });
    expect(state.listScheduledTypes('zpool-1', 'p')).toEqual(['hour-1']);
    expect(state.getService('zpool-1')).toMatchObject({ zpoolSize: 10, customName: null, ip: null });
    const task = state.removeScheduledType('zpool-1', 'p', 'hour-1');
    clock.advance(5_000);
    expect(state.listScheduledTypes('zpool-1', 'p')).toEqual([]);
    state.reset();
    expect(state.listScheduledTypes('zpool-1', 'p')).toEqual(['hour-1']);
    // Ids keep increasing after a reset so a stale id never names a new task.
    expect(state.addScheduledType('zpool-1', 'p', 'day-1').taskId).toBe(task.taskId + 1);
  });

  it('rejects an invalid seed, naming the key', () => {
    expect(
      () =>
        new SimulatorState({
          seed: { services: [{ serviceName: 'z', partitions: [{ partitionName: 'p', size: 1 }] }] },
        }),
    ).toThrow(/seed\.services\[0\]\.partitions\[0\]\.size/);
  });
});
