import { describe, expect, it } from 'vitest';
import { NASHA_ROUTES } from '../../../src/ovh/simulator/routes.js';
import { ManualClock } from '../../../src/shared/clock.js';
import {
  componentSchema,
  operationFor,
  requestBodySchemaFor,
  responseSchemaFor,
  templateFor,
  validateAgainst,
} from '../../support/openapi.js';
import { api, startTestSimulator } from './harness.js';

/**
 * Every simulator response of routes 1-16 must match OVH's OpenAPI model for that route, with
 * every declared field present and nothing extra (`closed`), since the simulator claims to send
 * complete models.
 */

const S = '{serviceName}';
const P = '{partitionName}';
const T = '/dedicated/nasha';

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const sim = await startTestSimulator({
    clock,
    taskOutcomes: [{ partition: 'scratch', outcome: 'ovhError', details: 'boom' }],
  });
  const call = api(sim);
  /** Calls a concrete path, asserts 200 and that the body matches the template's response schema. */
  const conforms = async (method: 'GET' | 'POST' | 'DELETE', template: string, path: string, body?: unknown) => {
    expect(templateFor(method, path), path).toBe(template);
    const res =
      method === 'GET' ? await call.get(path) : method === 'POST' ? await call.post(path, body) : await call.del(path);
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
    expect(
      validateAgainst(responseSchemaFor(method, template), res.json, { closed: true }),
      `${method} ${path}`,
    ).toEqual([]);
    return res.json;
  };
  return { sim, clock, conforms };
}

describe('simulator responses conform to the OpenAPI schema', () => {
  it('routes 1-5 and 16: services, service infos, partitions, usage', async () => {
    const { conforms } = await setup();
    const services = (await conforms('GET', T, T)) as string[];
    for (const service of services) {
      await conforms('GET', `${T}/${S}`, `${T}/${service}`);
      await conforms('GET', `${T}/${S}/serviceInfos`, `${T}/${service}/serviceInfos`);
      const partitions = (await conforms('GET', `${T}/${S}/partition`, `${T}/${service}/partition`)) as string[];
      for (const partition of partitions.slice(0, 5)) {
        await conforms('GET', `${T}/${S}/partition/${P}`, `${T}/${service}/partition/${partition}`);
        for (const type of ['size', 'used', 'usedbysnapshots']) {
          await conforms(
            'GET',
            `${T}/${S}/partition/${P}/use`,
            `${T}/${service}/partition/${partition}/use?type=${type}`,
          );
        }
      }
    }
  });

  it('routes 6-15: snapshots, custom snapshots and tasks in every state', async () => {
    const { conforms, clock } = await setup();
    const base = `${T}/zpool-204117/partition/uploads`;
    await conforms('GET', `${T}/${S}/partition/${P}/snapshot`, `${base}/snapshot`);
    await conforms('GET', `${T}/${S}/partition/${P}/snapshot/{snapshotType}`, `${base}/snapshot/day-2`);
    const tasks: { taskId: number }[] = [];
    const snapshot = `${T}/${S}/partition/${P}/snapshot`;
    tasks.push((await conforms('POST', snapshot, `${base}/snapshot`, { snapshotType: 'day-7' })) as { taskId: number });
    tasks.push(
      (await conforms('DELETE', `${snapshot}/{snapshotType}`, `${base}/snapshot/day-2`)) as { taskId: number },
    );

    const custom = `${T}/${S}/partition/${P}/customSnapshot`;
    await conforms('GET', custom, `${base}/customSnapshot`);
    await conforms('GET', `${custom}/{name}`, `${base}/customSnapshot/snap-uploads-2025-11-20`);
    await conforms('GET', `${custom}/{name}`, `${T}/zpool-204117/partition/db/customSnapshot/snap-db-month-end`);
    tasks.push(
      (await conforms('POST', custom, `${base}/customSnapshot`, {
        name: 'snap-uploads-2026-01-01T00:00:00.000Z',
        expiration: '2026-06-01T00:00:00Z',
      })) as { taskId: number },
    );
    tasks.push(
      (await conforms('DELETE', `${custom}/{name}`, `${base}/customSnapshot/snap-uploads-2025-11-20`)) as {
        taskId: number;
      },
    );
    const failing = (await conforms('POST', custom, `${T}/zpool-204117/partition/scratch/customSnapshot`, {
      name: 'snap-fails',
    })) as { taskId: number };

    const task = `${T}/${S}/task/{taskId}`;
    for (const advance of [0, 2_000, 3_000]) {
      // todo, then doing, then done (and ovhError for the failing one)
      clock.advance(advance);
      for (const { taskId } of [...tasks, failing]) await conforms('GET', task, `${T}/zpool-204117/task/${taskId}`);
    }
    expect(
      ((await conforms('GET', task, `${T}/zpool-204117/task/${failing.taskId}`)) as { status: string }).status,
    ).toBe('ovhError');
    await conforms('GET', `${T}/${S}/task`, `${T}/zpool-204117/task`);
    await conforms(
      'GET',
      `${T}/${S}/task`,
      `${T}/zpool-204117/task?status=done&operation=clusterLeclercSnapshotUpdate`,
    );
  });

  it('every simulated route exists in the schema with the same path parameters', () => {
    for (const route of NASHA_ROUTES) {
      const operation = operationFor(route.method, route.template);
      const pathParams = (operation.parameters ?? []).filter((param) => param.in === 'path').map((param) => param.name);
      const templateParams = [...route.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect(pathParams.sort(), `${route.method} ${route.template}`).toEqual(templateParams.sort());
    }
  });

  it('accepts every request-body property the schema declares', async () => {
    const { sim } = await setup();
    const custom = requestBodySchemaFor('POST', `${T}/${S}/partition/${P}/customSnapshot`);
    expect(Object.keys((custom?.['properties'] ?? {}) as object).sort()).toEqual(['expiration', 'name']);
    const snapshot = requestBodySchemaFor('POST', `${T}/${S}/partition/${P}/snapshot`);
    expect(Object.keys((snapshot?.['properties'] ?? {}) as object)).toEqual(['snapshotType']);
    const res = await api(sim).post(`${T}/zpool-128310/partition/logs/customSnapshot`, {
      name: 'snap-all-fields',
      expiration: '2026-02-01',
    });
    expect(res.status).toBe(200);
  });
});

describe('test/support/openapi helpers', () => {
  const task = {
    taskId: 4_000_000,
    operation: 'clusterLeclercSnapshotUpdate',
    status: 'todo',
    storageName: 'zpool-1',
    partitionName: 'p',
    details: null,
    todoDate: '2026-01-01T00:00:00+01:00',
    lastUpdate: null,
    doneDate: null,
  };

  it('handles nullable, allOf + $ref enums and formats', () => {
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), task, { closed: true })).toEqual([]);
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), { ...task, status: 'finished' })).toEqual([
      expect.stringMatching(/^\/status must be equal to one of the allowed values/),
    ]);
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), { ...task, todoDate: 'yesterday' })).not.toEqual(
      [],
    );
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), { ...task, taskId: 1.5 })).not.toEqual([]);
    const storage = { serviceName: 'zpool-1', ip: null, iam: null };
    expect(validateAgainst(componentSchema('dedicated.nasha.StorageWithIAM'), storage)).toEqual([]);
    expect(
      validateAgainst(componentSchema('dedicated.nasha.StorageWithIAM'), { ...storage, ip: '300.1.1.1' }),
    ).not.toEqual([]);
    expect(
      validateAgainst(componentSchema('dedicated.nasha.StorageWithIAM'), {
        ...storage,
        iam: { id: 'not-a-uuid', urn: 'u' },
      }),
    ).not.toEqual([]);
  });

  it('closed mode reports missing and undeclared properties', () => {
    const { doneDate: _omitted, ...partial } = task;
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), partial)).toEqual([]);
    expect(validateAgainst(componentSchema('dedicated.nasTask.Task'), partial, { closed: true })).toEqual([
      "(root) must have required property 'doneDate'",
    ]);
    expect(
      validateAgainst(
        componentSchema('dedicated.nasha.customSnap'),
        { name: 'a', expiration: null, size: 1 },
        { closed: true },
      ),
    ).toEqual(['(root) must NOT have additional properties (size)']);
  });

  it('finds operations, parameters and templates', () => {
    const list = operationFor('GET', '/1.0/dedicated/nasha/{serviceName}/task');
    expect(
      list.parameters
        ?.filter((param) => param.in === 'query')
        .map((param) => param.name)
        .sort(),
    ).toEqual(['operation', 'status']);
    expect(() => operationFor('PATCH', `${T}/${S}`)).toThrow(/no PATCH/);
    expect(() => responseSchemaFor('GET', '/dedicated/nasha/nope')).toThrow(/no such path/);
    expect(templateFor('GET', '/dedicated/nasha/zpool-1/partition/p/use?type=size')).toBe(
      `${T}/${S}/partition/${P}/use`,
    );
    expect(templateFor('GET', '/dedicated/nasha/zpool-1/serviceInfos')).toBe(`${T}/${S}/serviceInfos`);
    expect(templateFor('GET', '/dedicated/nasha/zpool-1/nope')).toBeUndefined();
  });
});
