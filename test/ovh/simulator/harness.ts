import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  generateLoopbackCertificate,
  type LoopbackCertificate,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../../src/ovh/simulator/index.js';
import { type HttpResult, type OvhCallOptions, ovhCall } from '../../support/ovh-signing.js';

/** Shared by every simulator of a test file: one certificate, fresh state per test, closed after each. */

let certificate: Promise<LoopbackCertificate> | undefined;
const running: Simulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

export async function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  certificate ??= generateLoopbackCertificate();
  const sim = await startSimulator({ cert: await certificate, ...options });
  running.push(sim);
  return sim;
}

type Extra = Omit<OvhCallOptions, 'method' | 'path' | 'body'>;

/** Signed calls with the sandbox credentials (override per call through `extra`). */
export function api(sim: Simulator, defaults: Extra = {}) {
  return {
    get: (path: string, extra: Extra = {}): Promise<HttpResult> =>
      ovhCall(sim, { ...defaults, ...extra, method: 'GET', path }),
    post: (path: string, body?: unknown, extra: Extra = {}): Promise<HttpResult> =>
      ovhCall(sim, { ...defaults, ...extra, method: 'POST', path, body }),
    del: (path: string, extra: Extra = {}): Promise<HttpResult> =>
      ovhCall(sim, { ...defaults, ...extra, method: 'DELETE', path }),
  };
}

export const P128 = '/dedicated/nasha/zpool-128310';
export const P204 = '/dedicated/nasha/zpool-204117';

/**
 * The environment of an OVH application on `sim` (endpoint, application key and secret, its CA in a temporary
 * file), as `npm run ovh:credentials` reads it; add OVH_CONSUMER_KEY for a complete application key.
 */
export function applicationEnv(sim: Simulator): {
  OVH_ENDPOINT: string;
  OVH_APP_KEY: string;
  OVH_APP_SECRET: string;
  OVH_CA_FILE: string;
} {
  const caFile = join(mkdtempSync(join(tmpdir(), 'nasha-sim-ca-')), 'ca.pem');
  writeFileSync(caFile, sim.caCertPem);
  return {
    OVH_ENDPOINT: sim.baseUrl,
    OVH_APP_KEY: sim.credentials.appKey,
    OVH_APP_SECRET: sim.credentials.appSecret,
    OVH_CA_FILE: caFile,
  };
}
