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
