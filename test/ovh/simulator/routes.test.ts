import { describe, expect, it } from 'vitest';
import { FIRST_TASK_ID } from '../../../src/ovh/simulator/index.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { httpsCall, ovhCall } from '../../support/ovh-signing.js';
import { api, P128, P204, startTestSimulator } from './harness.js';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

async function setup() {
  const clock = new ManualClock(START);
  const sim = await startTestSimulator({ clock });
  return { sim, clock, call: api(sim) };
}

describe('happy paths of routes 1-16', () => {
  it('1. GET /dedicated/nasha lists the services', async () => {
    const { call } = await setup();
    const res = await call.get('/dedicated/nasha');
    expect(res.status).toBe(200);
    expect(res.json).toEqual(['zpool-128310', 'zpool-204117', 'zpool-310442', 'zpool-417755']);
  });

  it('2. GET /dedicated/nasha/{serviceName} returns the StorageWithIAM model', async () => {
    const { call } = await setup();
    const res = await call.get(P128);
    expect(res.json).toEqual({
      serviceName: 'zpool-128310',
      customName: 'Production NAS (RBX)',
      datacenter: 'rbx',
      diskType: 'hdd',
      ip: '198.51.100.24',
      monitored: true,
      canCreatePartition: true,
      zpoolCapacity: expect.any(Number),
      zpoolSize: 3600,
      iam: {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        urn: 'urn:v1:eu:resource:nasHA:zpool-128310',
        displayName: 'Production NAS (RBX)',
        tags: { environment: 'production' },
      },
    });
  });

  it('3. GET …/serviceInfos returns services.Service', async () => {
    const { call } = await setup();
    const res = await call.get(`${P128}/serviceInfos`);
    expect(res.json).toMatchObject({ domain: 'zpool-128310', serviceId: 10_128_310, status: 'ok' });
  });

  it('4. GET …/partition lists partition names (120 on the bulk service)', async () => {
    const { call } = await setup();
    expect((await call.get(`${P128}/partition`)).json).toEqual(['data', 'backups', 'logs']);
    expect((await call.get(`${P204}/partition`)).json).toEqual(['db', 'uploads', 'media', 'scratch']);
    const bulk = (await call.get('/dedicated/nasha/zpool-310442/partition')).json as string[];
    expect(bulk).toHaveLength(120);
    expect([bulk[0], bulk[119]]).toEqual(['vol-001', 'vol-120']);
    expect((await call.get('/dedicated/nasha/zpool-417755/partition')).json).toEqual([]);
  });

  it('5. GET …/partition/{partitionName} returns the Partition model', async () => {
    const { call } = await setup();
    expect((await call.get(`${P128}/partition/data`)).json).toEqual({
      partitionName: 'data',
      partitionDescription: 'Application data',
      protocol: 'NFS',
      size: 2000,
      partitionCapacity: 71,
      usedBySnapshots: 9,
    });
  });

  it('16. GET …/partition/{p}/use?type= derives usage from the seed', async () => {
    const { call } = await setup();
    expect((await call.get(`${P128}/partition/data/use?type=size`)).json).toEqual({ unit: 'GB', value: 2000 });
    expect((await call.get(`${P128}/partition/data/use?type=used`)).json).toEqual({ unit: 'GB', value: 1420 });
    expect((await call.get(`${P128}/partition/data/use?type=usedbysnapshots`)).json).toEqual({
      unit: 'GB',
      value: 180,
    });
  });

  it('6/8. GET …/snapshot lists scheduled types and GET …/snapshot/{type} returns one', async () => {
    const { call } = await setup();
    expect((await call.get(`${P128}/partition/data/snapshot`)).json).toEqual(['hour-1', 'day-1', 'day-7']);
    expect((await call.get(`${P204}/partition/media/snapshot`)).json).toEqual([]);
    expect((await call.get(`${P128}/partition/data/snapshot/day-7`)).json).toEqual({ snapshotType: 'day-7' });
  });

  it('7/9. POST and DELETE …/snapshot return a todo clusterLeclercSnapshotUpdate task', async () => {
    const { call } = await setup();
    const added = await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' });
    expect(added.status).toBe(200);
    expect(added.json).toEqual({
      taskId: FIRST_TASK_ID,
      operation: 'clusterLeclercSnapshotUpdate',
      status: 'todo',
      storageName: 'zpool-128310',
      partitionName: 'logs',
      details: null,
      todoDate: '2026-01-01T12:00:00+00:00',
      lastUpdate: null,
      doneDate: null,
    });
    const removed = await call.del(`${P128}/partition/data/snapshot/day-7`);
    expect(removed.json).toMatchObject({
      taskId: FIRST_TASK_ID + 1,
      operation: 'clusterLeclercSnapshotUpdate',
      status: 'todo',
      partitionName: 'data',
    });
  });

  it('10/12. GET …/customSnapshot lists names and GET …/customSnapshot/{name} returns one', async () => {
    const { call } = await setup();
    expect((await call.get(`${P128}/partition/data/customSnapshot`)).json).toEqual([
      'snap-data-pre-upgrade',
      'snap-data-2025-12-01T09:30:00.000Z',
    ]);
    // `:` and `.` travel unencoded, as node-ovh sends them.
    const res = await call.get(`${P128}/partition/data/customSnapshot/snap-data-2025-12-01T09:30:00.000Z`);
    expect(res.json).toEqual({ name: 'snap-data-2025-12-01T09:30:00.000Z', expiration: null });
    // Percent-encoded segments are decoded.
    const encoded = await call.get(`${P128}/partition/data/customSnapshot/snap%2Ddata-2025-12-01T09%3A30%3A00.000Z`);
    expect(encoded.json).toEqual({ name: 'snap-data-2025-12-01T09:30:00.000Z', expiration: null });
    const withExpiry = (await call.get(`${P204}/partition/db/customSnapshot/snap-db-month-end`)).json;
    expect(withExpiry).toEqual({
      name: 'snap-db-month-end',
      expiration: new Date(START + 30 * 86_400_000).toISOString(),
    });
  });

  it('11/13. POST and DELETE …/customSnapshot return CustomSnapCreate/Delete tasks', async () => {
    const { call } = await setup();
    const created = await call.post(`${P128}/partition/logs/customSnapshot`, {
      name: 'snap-logs-2026-01-01T12:00:00.000Z',
      expiration: '2026-02-01T00:00:00+01:00',
    });
    expect(created.json).toMatchObject({
      operation: 'clusterLeclercCustomSnapCreate',
      status: 'todo',
      partitionName: 'logs',
    });
    const deleted = await call.del(`${P128}/partition/data/customSnapshot/snap-data-pre-upgrade`);
    expect(deleted.json).toMatchObject({
      operation: 'clusterLeclercCustomSnapDelete',
      status: 'todo',
      partitionName: 'data',
    });
  });

  it('14/15. GET …/task filters by status and operation; GET …/task/{id} returns the task', async () => {
    const { call, clock } = await setup();
    const first = (await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).json as {
      taskId: number;
    };
    clock.advance(5_000);
    const second = (await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'snap-x' })).json as {
      taskId: number;
    };
    expect((await call.get(`${P128}/task`)).json).toEqual([first.taskId, second.taskId]);
    expect((await call.get(`${P128}/task?status=done`)).json).toEqual([first.taskId]);
    expect((await call.get(`${P128}/task?status=todo`)).json).toEqual([second.taskId]);
    expect((await call.get(`${P128}/task?operation=clusterLeclercCustomSnapCreate`)).json).toEqual([second.taskId]);
    expect((await call.get(`${P128}/task?status=todo&operation=clusterLeclercSnapshotUpdate`)).json).toEqual([]);
    expect((await call.get(`${P204}/task`)).json).toEqual([]);
    const task = await call.get(`${P128}/task/${first.taskId}`);
    expect(task.json).toMatchObject({ taskId: first.taskId, status: 'done', doneDate: '2026-01-01T12:00:05+00:00' });
  });

  it('GET /auth/currentCredential describes the sandbox credential', async () => {
    const { call } = await setup();
    const res = await call.get('/auth/currentCredential');
    expect(res.json).toMatchObject({
      status: 'validated',
      rules: expect.arrayContaining([{ method: 'GET', path: '/dedicated/nasha*' }]),
    });
  });
});

describe('404 bodies with OVH wording', () => {
  const notFound = (message: string) => ({ class: 'Client::NotFound', message });

  it('unknown service, partition, type, custom snapshot, task', async () => {
    const { call } = await setup();
    const cases: [string, string][] = [
      ['/dedicated/nasha/zpool-000000', 'This service does not exist'],
      ['/dedicated/nasha/zpool-000000/partition/data/snapshot', 'This service does not exist'],
      ['/dedicated/nasha/zpool-000000/task', 'This service does not exist'],
      [`${P128}/partition/nope`, 'The requested object (partitionName = nope) does not exist'],
      [`${P128}/partition/nope/customSnapshot`, 'The requested object (partitionName = nope) does not exist'],
      [`${P128}/partition/logs/snapshot/day-1`, 'The requested object (type = day-1) does not exist'],
      [`${P128}/partition/logs/customSnapshot/gone`, 'The requested object (name = gone) does not exist'],
      [`${P128}/task/12345`, 'The requested object (taskId = 12345) does not exist'],
    ];
    for (const [path, message] of cases) {
      const res = await call.get(path);
      expect(res.status, path).toBe(404);
      expect(res.json, path).toEqual(notFound(message));
    }
    const del = await call.del(`${P128}/partition/logs/snapshot/day-7`);
    expect(del.json).toEqual(notFound('The requested object (type = day-7) does not exist'));
    const delCustom = await call.del(`${P128}/partition/logs/customSnapshot/gone`);
    expect(delCustom.json).toEqual(notFound('The requested object (name = gone) does not exist'));
  });

  it('unknown routes and methods: Got an invalid (or empty) URL', async () => {
    const { sim, call } = await setup();
    const invalid = notFound('Got an invalid (or empty) URL');
    for (const res of [
      await call.get(`${P128}/nothing-here`),
      await call.get('/dedicated/nasha/'),
      await call.del(`${P128}/partition/data`), // exists in OVH's schema, not simulated
      await call.post(`${P128}/task`, {}),
      await httpsCall(sim, { path: '/2.0/dedicated/nasha' }),
      await httpsCall(sim, { path: '/' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json).toEqual(invalid);
    }
  });
});

describe('request validation (400)', () => {
  const badRequest = (message: string) => ({ class: 'Client::BadRequest', message });

  it('rejects missing, unknown, mistyped and out-of-enum fields', async () => {
    const { call } = await setup();
    const snapshot = `${P128}/partition/logs/snapshot`;
    const custom = `${P128}/partition/logs/customSnapshot`;
    const cases: [string, unknown, string][] = [
      [snapshot, undefined, '[snapshotType] Property is mandatory'],
      [snapshot, {}, '[snapshotType] Property is mandatory'],
      [
        snapshot,
        { snapshotType: 'day-9' },
        '[snapshotType] Given data (day-9) does not belong to the dedicated.storage.SnapshotEnum enumeration',
      ],
      [snapshot, { snapshotType: 'day-1', extra: 1 }, '[extra] Unknown parameter'],
      [snapshot, { snapshotType: 7 }, '[snapshotType] Given data (7) is not a string'],
      [snapshot, [], 'Invalid body: a JSON object is expected'],
      [custom, {}, '[name] Property is mandatory'],
      [
        custom,
        { name: 'snap-a', expiration: 'next tuesday' },
        '[expiration] Given data (next tuesday) is not a valid date',
      ],
      [custom, { name: 'snap a' }, '[name] Given data (snap a) is not a valid snapshot name'],
      [custom, { name: 'snap-a', keep: true }, '[keep] Unknown parameter'],
    ];
    for (const [path, body, message] of cases) {
      const res = await call.post(path, body);
      expect(res.status, message).toBe(400);
      expect(res.json, message).toEqual(badRequest(message));
    }
  });

  it('rejects bad path and query parameters', async () => {
    const { call } = await setup();
    const cases: [string, string][] = [
      [
        `${P128}/partition/data/snapshot/weekly`,
        '[snapshotType] Given data (weekly) does not belong to the dedicated.storage.SnapshotEnum enumeration',
      ],
      [`${P128}/task/abc`, '[taskId] Given data (abc) is not a valid long'],
      [
        `${P128}/task?status=finished`,
        '[status] Given data (finished) does not belong to the dedicated.TaskStatusEnum enumeration',
      ],
      [`${P128}/partition/data/use`, '[type] Property is mandatory'],
      [
        `${P128}/partition/data/use?type=free`,
        '[type] Given data (free) does not belong to the dedicated.storage.PartitionUsageTypeEnum enumeration',
      ],
    ];
    for (const [path, message] of cases) {
      const res = await call.get(path);
      expect(res.status, path).toBe(400);
      expect(res.json, path).toEqual(badRequest(message));
    }
  });

  it('answers malformed JSON with 400 and oversized bodies with 413, and keeps serving', async () => {
    const { sim, call } = await setup();
    const malformed = await call.post(`${P128}/partition/logs/snapshot`, '{"snapshotType":');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toEqual(badRequest('Invalid JSON body'));
    const huge = await ovhCall(sim, {
      method: 'POST',
      path: `${P128}/partition/logs/customSnapshot`,
      body: { name: 'x'.repeat(70_000) },
    });
    expect(huge.status).toBe(413);
    expect((await call.get('/dedicated/nasha')).status).toBe(200);
  });
});

describe('hostile input', () => {
  it('answers malformed requests with an error and keeps serving', async () => {
    const { sim, call } = await setup();
    expect((await call.get(`${P128}/partition/%E0%A4%A/snapshot`)).status).toBe(404);
    expect((await call.get('/dedicated/nasha', { signature: 'not-even-a-signature' })).status).toBe(400);
    const badTimestamp = await httpsCall(sim, {
      path: '/1.0/dedicated/nasha',
      headers: {
        'X-Ovh-Application': 'sandbox-app-key',
        'X-Ovh-Consumer': 'sandbox-consumer-key',
        'X-Ovh-Signature': '$1$00',
        'X-Ovh-Timestamp': 'yesterday',
      },
    });
    expect(badTimestamp.json).toMatchObject({ errorCode: 'QUERY_TIME_OUT' });
    const binary = await call.post(`${P128}/partition/logs/customSnapshot`, '\u0000\uffff{');
    expect(binary.status).toBe(400);
    expect((await httpsCall(sim, { method: 'PATCH', path: `/1.0${P128}` })).status).toBe(404);
    expect((await httpsCall(sim, { path: '/_sim/validate/%E0%A4%A' })).status).toBe(400);
    expect((await call.get('/dedicated/nasha')).status).toBe(200);
  });
});
