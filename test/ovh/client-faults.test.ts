import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OvhApiError } from '../../src/ovh/errors.js';
import { createNashaApi } from '../../src/ovh/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { withFreshReads, withRequestClass } from '../../src/shared/request-context.js';
import { type OvhHarness, simulatorConfig, startOvhHarness } from '../support/ovh-harness.js';

const SVC = 'zpool-128310';
const PARTITIONS = `/dedicated/nasha/${SVC}/partition`;
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

const apiLines = (harness: OvhHarness) => harness.requestLines().filter((line) => !line.endsWith('/auth/time'));

describe('error kinds', () => {
  it('timeout: a stalled response fails after the deadline, and a GET is not retried on it', async () => {
    h = await startOvhHarness({ tuning: { timeoutMs: 250 } });
    h.sim.addFaults({ method: 'GET', path: PARTITIONS, fault: { type: 'stall' } });
    const error = await rejection(h.api.client.listPartitions(SVC));
    expect(error).toMatchObject({
      kind: 'timeout',
      operation: 'GET /dedicated/nasha/{serviceName}/partition',
      attempts: 1,
    });
    expect(apiLines(h)).toEqual([`GET /1.0${PARTITIONS}`]);
    // The client is still usable afterwards.
    h.sim.clearFaults();
    expect(await h.api.client.listPartitions(SVC)).toContain('data');
  });

  it('network: a refused connection is a network error, retried for GETs', async () => {
    const port = await freePort();
    const sim = (await startOvhHarness()).sim;
    const config = simulatorConfig(sim, { maxRetries: 2 });
    await sim.close();
    const clock = new ManualClock(0, { autoAdvance: true });
    const api = createNashaApi({ config: { ...config, connection: { ...config.connection, port } }, clock });
    const error = await rejection(api.client.listServices());
    expect(error.kind).toBe('network');
    expect(error.ovhMessage).toMatch(/ECONNREFUSED/);
    expect(error.attempts).toBe(3);
    api.transport.close();
    h = undefined as unknown as OvhHarness;
  });

  it('network: a reset connection on a GET is retried and succeeds', async () => {
    h = await startOvhHarness();
    h.sim.addFaults({ method: 'GET', path: PARTITIONS, fault: { type: 'reset' }, times: 1 });
    expect(await h.api.client.listPartitions(SVC)).toContain('data');
    expect(apiLines(h)).toEqual([`GET /1.0${PARTITIONS}`, `GET /1.0${PARTITIONS}`]);
  });

  it('parse: an HTML 502 from a proxy on a POST is reported, never retried', async () => {
    h = await startOvhHarness();
    const route = `${PARTITIONS}/logs/snapshot`;
    h.sim.addFaults({ method: 'POST', path: route, fault: { type: 'html', status: 502 } });
    const error = await rejection(h.api.client.addSnapshotType(SVC, 'logs', 'day-2'));
    expect(error).toMatchObject({ kind: 'parse', attempts: 1 });
    expect(error.ovhMessage).toMatch(/not JSON/);
    expect(apiLines(h)).toEqual([`POST /1.0${route}`]);
  });

  it('parse: an HTML 502 on a GET is retried', async () => {
    h = await startOvhHarness();
    h.sim.addFaults({ method: 'GET', path: PARTITIONS, fault: { type: 'html', status: 502 }, times: 2 });
    expect(await h.api.client.listPartitions(SVC)).toContain('logs');
    expect(apiLines(h)).toHaveLength(3);
  });

  it('parse: a JSON body that does not match OVH’s model is rejected with where it differs', async () => {
    h = await startOvhHarness();
    h.sim.addFaults({
      method: 'GET',
      path: `${PARTITIONS}/data`,
      fault: { type: 'status', status: 200, body: { size: 'big' } },
    });
    const error = await rejection(h.api.client.getPartition(SVC, 'data'));
    expect(error.kind).toBe('parse');
    expect(error.ovhMessage).toMatch(/does not match OVH's model at (partitionName|protocol|size)/);
  });

  it('clock: "Query out of time" re-syncs once and retries; a second refusal is a clock error', async () => {
    h = await startOvhHarness();
    expect(await h.api.client.listServices()).toContain(SVC);
    h.sim.setSkew(3_600); // OVH's clock jumps an hour: our stamped requests are now stale.
    expect(await h.api.client.listPartitions(SVC)).toContain('data');
    expect(h.requestLines().filter((l) => l.endsWith('/auth/time'))).toHaveLength(2);
    expect(h.sim.requests.filter((r) => r.status === 400)).toHaveLength(1);

    h.sim.addFaults({
      path: '/dedicated/nasha',
      fault: {
        type: 'status',
        status: 400,
        body: { errorCode: 'QUERY_TIME_OUT', httpCode: '400 Bad Request', message: 'Query out of time' },
      },
    });
    // Fresh: the listing of a moment ago would otherwise come from the cache.
    const error = await rejection(withFreshReads(() => h.api.client.listServices()));
    expect(error).toMatchObject({ kind: 'clock', httpStatus: 400, ovhMessage: 'Query out of time' });
  });

  it('clock: concurrent first calls share one /auth/time', async () => {
    h = await startOvhHarness();
    await Promise.all([h.api.client.listServices(), h.api.client.listPartitions(SVC), h.api.client.getService(SVC)]);
    expect(h.requestLines().filter((l) => l.endsWith('/auth/time'))).toHaveLength(1);
  });

  it('http: signature, unknown keys and access rules are refused with OVH’s messages', async () => {
    h = await startOvhHarness();
    const bad = createNashaApi({
      config: { ...h.config, connection: { ...h.config.connection, appSecret: 'wrong-secret' } },
    });
    expect(await rejection(bad.client.listServices())).toMatchObject({
      httpStatus: 400,
      ovhMessage: 'Invalid signature',
    });
    bad.transport.close();

    h.sim.addConsumerKey({ consumerKey: 'read-only-ck', accessRules: [{ method: 'GET', path: '/dedicated/nasha/*' }] });
    const readOnly = createNashaApi({
      config: { ...h.config, connection: { ...h.config.connection, consumerKey: 'read-only-ck' } },
    });
    expect(await readOnly.client.listPartitions(SVC)).toContain('data');
    expect(await rejection(readOnly.client.addSnapshotType(SVC, 'logs', 'day-1'))).toMatchObject({
      httpStatus: 403,
      ovhMessage: 'This call has not been granted',
    });
    readOnly.transport.close();
  });
});

describe('TLS trust', () => {
  it('verifies certificates: without OVH_CA_FILE the self-signed simulator is refused', async () => {
    h = await startOvhHarness();
    const untrusted = createNashaApi({
      config: {
        ...h.config,
        connection: { ...h.config.connection, caPem: undefined },
        tuning: { ...h.config.tuning, maxRetries: 0 },
      },
    });
    const error = await rejection(untrusted.client.listServices());
    expect(error.kind).toBe('network');
    expect(error.ovhMessage).toMatch(/SELF_SIGNED|self-signed|unable to verify/i);
    untrusted.transport.close();
  });

  it('trusts the extra CA for that endpoint only, not for other hosts of the process', async () => {
    h = await startOvhHarness();
    expect(await h.api.client.listServices()).toContain(SVC);
    // Same server, other name: not a registered endpoint, so the default trust store applies.
    const https = await import('node:https');
    const outcome = await new Promise<string>((resolve) => {
      https
        .get(`https://localhost:${h.sim.port}/1.0/auth/time`, (res) => resolve(`status ${res.statusCode}`))
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(outcome).toMatch(/SELF_SIGNED|CERT/);
  });
});

describe('retries and budget', () => {
  it('429 on a GET: backs off exponentially with jitter, then succeeds', async () => {
    h = await startOvhHarness();
    await h.api.client.listServices();
    h.sim.addFaults({ method: 'GET', path: PARTITIONS, fault: { type: 'status', status: 429 }, times: 2 });
    const before = h.clock.now();
    expect(await h.api.client.listPartitions(SVC)).toContain('data');
    const statuses = h.sim.requests.filter((r) => r.path.endsWith('/partition')).map((r) => r.status);
    expect(statuses).toEqual([429, 429, 200]);
    // Delays are 250–500 ms then 500–1000 ms (base 500 ms, "equal jitter").
    const waited = h.clock.now() - before;
    expect(waited).toBeGreaterThanOrEqual(750);
    expect(waited).toBeLessThanOrEqual(1_500);
  });

  it('gives up after OVH_MAX_RETRIES and reports the last status', async () => {
    h = await startOvhHarness({ tuning: { maxRetries: 2 } });
    h.sim.addFaults({ method: 'GET', path: PARTITIONS, fault: { type: 'status', status: 503 } });
    expect(await rejection(h.api.client.listPartitions(SVC))).toMatchObject({
      kind: 'http',
      httpStatus: 503,
      attempts: 3,
    });
  });

  it('never retries a POST or DELETE blindly (429 / 500)', async () => {
    h = await startOvhHarness();
    h.sim.addFaults({ method: 'POST', path: '/*', fault: { type: 'status', status: 429 } });
    h.sim.addFaults({ method: 'DELETE', path: '/*', fault: { type: 'status', status: 500 } });
    expect(await rejection(h.api.client.addSnapshotType(SVC, 'logs', 'day-1'))).toMatchObject({
      httpStatus: 429,
      attempts: 1,
    });
    expect(await rejection(h.api.client.deleteCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade'))).toMatchObject({
      httpStatus: 500,
      attempts: 1,
    });
    expect(h.sim.requests.filter((r) => r.method !== 'GET')).toHaveLength(2);
  });

  it('spends one shared budget: a burst goes at once, the rest at the sustained rate', async () => {
    h = await startOvhHarness({ tuning: { requestsPerMinute: 60, burst: 3 }, autoAdvance: false });
    // A person's requests: background work would leave the budget's reserve alone.
    const asPerson = <T>(work: () => T) => withRequestClass('interactive', 'U1', work);
    await asPerson(() => h.api.client.listServices()); // time sync + 1 call: 1 token of the burst of 3 is left
    const partitionCalls = () => h.sim.requests.filter((r) => r.path.endsWith('/partition')).length;
    const calls = asPerson(() => Promise.all(Array.from({ length: 4 }, () => h.api.client.listPartitions(SVC))));
    await vi.waitFor(() => expect(partitionCalls()).toBe(1));
    for (const expected of [2, 3, 4]) {
      h.clock.advance(999);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(partitionCalls()).toBe(expected - 1); // not a millisecond early
      h.clock.advance(1);
      await vi.waitFor(() => expect(partitionCalls()).toBe(expected));
    }
    await calls;
    expect(h.api.transport.requestBudget.available()).toBe(0);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
