import https from 'node:https';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OvhApiError } from '../../src/ovh/errors.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

const SVC = 'zpool-128310';
let h: OvhHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('pooled sockets', () => {
  // Real time on purpose: what is under test is Node's own socket timer. The simulator is a Node HTTPS server,
  // so it announces `Keep-Alive: timeout=5`, and Node then arms a 4 s timeout on the pooled socket.
  it('a write slower than the server’s keep-alive hint still gets its answer (OVH_TIMEOUT_MS decides)', async () => {
    h = await startOvhHarness({ tuning: { timeoutMs: 10_000 } });
    await h.api.client.listPartitions(SVC); // leaves a keep-alive socket in the pool
    const hint = await keepAliveHint(h);
    expect(hint).toBe('timeout=5');
    h.sim.addFaults({ method: 'POST', path: '/*', fault: { type: 'latency', ms: 4_600 } });

    const started = performance.now();
    const task = await h.api.client.addSnapshotType(SVC, 'logs', 'day-2');
    expect(performance.now() - started).toBeGreaterThanOrEqual(4_500);
    expect(task.taskId).toBeGreaterThan(0);
    // OVH applied it once, and the bot has its answer (the task), not an error.
    expect(h.sim.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([200]);
  }, 15_000);

  it('a request that gets no answer ends at the deadline, and its socket with it', async () => {
    h = await startOvhHarness({ tuning: { timeoutMs: 300 } });
    await h.api.client.listServices();
    h.sim.addFaults({ method: 'POST', path: '/*', fault: { type: 'stall' } });
    const error = await h.api.client.addSnapshotType(SVC, 'logs', 'day-2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OvhApiError);
    expect((error as OvhApiError).kind).toBe('timeout');
    // Nothing keeps the abandoned request's connection open (it used to linger until an idle timer).
    const port = h.sim.port;
    await vi.waitFor(() => expect(socketsTo(port, https.globalAgent.sockets)).toBe(0), { timeout: 1_000 });
  });
});

describe('requests in flight', () => {
  it('at most 8 at once: a burst opens at most 8 connections, the others wait and reuse them', async () => {
    h = await startOvhHarness();
    await h.api.client.listServices();
    const harness = h;
    harness.sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}',
      fault: { type: 'hold' },
    });
    const calls = Promise.all(Array.from({ length: 20 }, () => harness.api.client.getPartition(SVC, 'data')));
    await vi.waitFor(() => expect(harness.sim.held).toHaveLength(8));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(harness.sim.held).toHaveLength(8);
    expect(socketsTo(harness.sim.port, https.globalAgent.sockets)).toBe(8);
    const released = new Set<number>();
    while (released.size < 20) {
      await vi.waitFor(() => expect(harness.sim.held.some((held) => !released.has(held.id))).toBe(true));
      for (const held of harness.sim.held)
        if (!released.has(held.id) && harness.sim.releaseHeld(held.id)) released.add(held.id);
    }
    expect((await calls).map((p) => p.partitionName)).toEqual(Array(20).fill('data'));
    // The 12 that waited went over the 8 sockets already open.
    const pooled =
      socketsTo(harness.sim.port, https.globalAgent.sockets) +
      socketsTo(harness.sim.port, https.globalAgent.freeSockets);
    expect(pooled).toBeLessThanOrEqual(8);
  });
});

/** Sockets of the agent (in use) connected to the local `port`. */
function socketsTo(port: number, sockets: NodeJS.ReadOnlyDict<import('node:net').Socket[]>): number {
  return Object.values(sockets)
    .flat()
    .filter((socket) => socket?.remotePort === port && !socket.destroyed).length;
}

/** The Keep-Alive header the simulator answers with (read with a plain request of our own). */
async function keepAliveHint(harness: OvhHarness): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(
        `${harness.sim.origin}/1.0/auth/time`,
        { ca: harness.sim.caCertPem, agent: new https.Agent({ keepAlive: true }) },
        (res) => {
          res.resume();
          resolve(String(res.headers['keep-alive']));
        },
      )
      .on('error', reject);
  });
}
