import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OvhApiError } from '../../src/ovh/errors.js';
import { createNashaApi, type NashaApi } from '../../src/ovh/index.js';
import { generateLoopbackCertificate } from '../../src/ovh/simulator/cert.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FAST_TUNING } from '../support/ovh-harness.js';

/**
 * OVH's front answers 429 with a Retry-After header; the simulator's faults carry no headers, so this is a
 * small HTTPS server of its own that does, behind the real node-ovh. The client's clock is virtual: the
 * waits are checked in it, to the millisecond.
 */
interface RateLimitedOvh {
  server: Server;
  /** Virtual time of each GET /dedicated/nasha. */
  seenAt: number[];
  api: NashaApi;
  clock: ManualClock;
}

let ovh: RateLimitedOvh | undefined;

afterEach(async () => {
  ovh?.api.transport.close();
  ovh?.server.closeAllConnections();
  await new Promise<void>((resolve) => (ovh === undefined ? resolve() : ovh.server.close(() => resolve())));
  ovh = undefined;
});

async function rateLimitedOvh(answers: Array<{ status: number; retryAfter?: string }>): Promise<RateLimitedOvh> {
  const cert = await generateLoopbackCertificate();
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0), { autoAdvance: true });
  const seenAt: number[] = [];
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    req.resume();
    if (req.url === '/1.0/auth/time') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(String(Math.round(Date.now() / 1_000)));
      return;
    }
    seenAt.push(clock.now());
    const answer = answers.shift() ?? { status: 200 };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
    const body = answer.status === 200 ? ['zpool-128310'] : { message: 'Too many requests' };
    res.writeHead(answer.status, headers).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const api = createNashaApi({
    config: {
      connection: {
        endpoint: `https://127.0.0.1:${port}/1.0`,
        host: '127.0.0.1',
        port,
        basePath: '/1.0',
        appKey: 'app-key-0001',
        appSecret: 'app-secret-0001',
        consumerKey: 'consumer-key-0001',
        caPem: cert.certPem,
      },
      tuning: FAST_TUNING,
    },
    clock,
  });
  ovh = { server, seenAt, api, clock };
  return ovh;
}

describe('Retry-After from OVH', () => {
  it('a GET refused with 429 and Retry-After: 10 is retried after 10 s, not after the back-off', async () => {
    const { api, seenAt } = await rateLimitedOvh([
      { status: 429, retryAfter: '10' },
      { status: 429, retryAfter: '10' },
    ]);
    expect(await api.client.listServices()).toEqual(['zpool-128310']);
    const gaps = seenAt.slice(1).map((at, i) => at - (seenAt[i] ?? 0));
    expect(gaps).toEqual([10_000, 10_000]);
  });

  it('without Retry-After it backs off (equal jitter from 500 ms)', async () => {
    const { api, seenAt } = await rateLimitedOvh([{ status: 503 }]);
    expect(await api.client.listServices()).toEqual(['zpool-128310']);
    const gap = (seenAt[1] ?? 0) - (seenAt[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(250);
    expect(gap).toBeLessThanOrEqual(500);
  });

  it('a Retry-After longer than a caller should wait fails at once, saying why', async () => {
    const { api, seenAt } = await rateLimitedOvh([{ status: 429, retryAfter: '3600' }]);
    const error = await api.client.listServices().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OvhApiError);
    expect(error).toMatchObject({ httpStatus: 429, attempts: 1 });
    expect((error as OvhApiError).ovhMessage).toBe('Too many requests (OVH asks to retry in 3600 s)');
    expect(seenAt).toHaveLength(1);
  });
});
