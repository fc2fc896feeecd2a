import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NashaClient } from '../../src/ovh/client.js';
import { OvhApiError } from '../../src/ovh/errors.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

/** Values the bot could conceivably pass where a name is expected. */
const HOSTILE: unknown[] = [
  null,
  undefined,
  '',
  ' ',
  '..',
  '../../me',
  'a/b',
  'data%2F..%2Fme',
  'name\u0000',
  'tab\there',
  'new\nline',
  'x'.repeat(10_000),
  '\u202egnp.exe',
  '\ud83d',
  42,
  Number.NaN,
  {},
  [],
  { toString: () => 'zpool-128310' },
];

type Call = (client: NashaClient, bad: unknown) => Promise<unknown>;
const S = 'zpool-128310';
const P = 'data';
// biome-ignore lint/suspicious/noExplicitAny: the point is to pass what the types forbid.
const any = (value: unknown): any => value;

const CALLS: Record<string, Call> = {
  getService: (c, v) => c.getService(any(v)),
  listPartitions: (c, v) => c.listPartitions(any(v)),
  getPartition: (c, v) => c.getPartition(S, any(v)),
  getPartitionUsage: (c, v) => c.getPartitionUsage(S, any(v), 'size'),
  listSnapshotTypes: (c, v) => c.listSnapshotTypes(any(v), P),
  addSnapshotType: (c, v) => c.addSnapshotType(S, any(v), 'day-1'),
  getSnapshotType: (c, v) => c.getSnapshotType(S, P, any(v)),
  removeSnapshotType: (c, v) => c.removeSnapshotType(S, P, any(v)),
  listCustomSnapshots: (c, v) => c.listCustomSnapshots(S, any(v)),
  createCustomSnapshot: (c, v) => c.createCustomSnapshot(S, P, { name: any(v) }),
  createCustomSnapshotBadExpiry: (c, v) =>
    c.createCustomSnapshot(S, P, { name: 'snap-ok', expiration: any(v ?? 'soon') }),
  getCustomSnapshot: (c, v) => c.getCustomSnapshot(S, P, any(v)),
  deleteCustomSnapshot: (c, v) => c.deleteCustomSnapshot(S, any(v), 'snap-data-pre-upgrade'),
  listTasks: (c, v) => c.listTasks(any(v)),
  getTask: (c, v) => c.getTask(S, any(v)),
};

let h: OvhHarness;
beforeAll(async () => {
  h = await startOvhHarness();
});
afterAll(async () => {
  await h.close();
});

describe('nothing the bot can pass makes the client hang, crash or send an unvalidated request', () => {
  it.each(Object.keys(CALLS))('%s rejects hostile values with an input error before any request', async (name) => {
    const call = CALLS[name];
    if (call === undefined) throw new Error(name);
    // 42 is a perfectly good task id (it just does not exist).
    for (const value of HOSTILE.filter((v) => !(name === 'getTask' && v === 42))) {
      const before = h.sim.requests.length;
      let outcome: unknown;
      try {
        // A hung promise would hit the test timeout; a crash would fail the run.
        outcome = await call(h.api.client, value);
      } catch (error) {
        outcome = error;
      }
      // `{ toString }` and the like are not strings: refused too.
      expect(outcome, `${name}(${String(JSON.stringify(value))?.slice(0, 40)})`).toBeInstanceOf(OvhApiError);
      expect((outcome as OvhApiError).kind).toBe('input');
      expect(h.sim.requests.length).toBe(before);
    }
  });

  it('odd but valid names are encoded, reach OVH and come back as a clean 404', async () => {
    for (const name of ['snap?x=1', 'snap#frag', 'snap%00', 'ünïcödé', 'snap&name=other']) {
      const error = await h.api.client.getCustomSnapshot(S, P, name).catch((e: unknown) => e);
      expect(error).toMatchObject({
        kind: 'http',
        httpStatus: 404,
        ovhMessage: `The requested object (name = ${name}) does not exist`,
      });
    }
  });

  it('rejects a bad task id (zero, negative, fractional, unsafe) without a request', async () => {
    for (const id of [0, -1, 1.5, 2 ** 60]) {
      await expect(h.api.client.getTask(S, id)).rejects.toMatchObject({ kind: 'input' });
    }
  });
});
