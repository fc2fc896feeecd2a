import { afterEach, describe, expect, it } from 'vitest';
import { parseOvhConfig } from '../../src/ovh/config.js';
import { OvhApiError } from '../../src/ovh/errors.js';
import { createNashaApi, type NashaApi } from '../../src/ovh/index.js';
import {
  type IamPolicyInput,
  SANDBOX_NICHANDLE,
  SANDBOX_SERVICE_ACCOUNT,
  type Simulator,
  type SimulatorOptions,
  serviceAccountUrn,
  simulatorServiceAccountConnection,
  startSimulator,
  TOKEN_PATH,
} from '../../src/ovh/simulator/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { withFreshReads } from '../../src/shared/request-context.js';
import { FAST_TUNING } from '../support/ovh-harness.js';

/**
 * The bot through an OVH service account: node-ovh's OAuth2 mode (Bearer tokens, no signature) over real HTTPS to
 * the simulator's token endpoint and IAM, with the wrapper's fixes: one token fetch for concurrent first calls,
 * renewal before expiry, one new token after a 401, JSON bodies with their Content-Type.
 */
const SVC = 'zpool-128310';
const OTHER = 'zpool-204117';
const ME = serviceAccountUrn(SANDBOX_NICHANDLE, SANDBOX_SERVICE_ACCOUNT.clientId);
const urn = (service: string) => `urn:v1:eu:resource:nasHA:${service}`;

let sim: Simulator | undefined;
let api: NashaApi | undefined;
afterEach(async () => {
  api?.tracker.stop();
  api?.transport.close();
  await sim?.close();
  sim = undefined;
  api = undefined;
});

async function start(options: SimulatorOptions = {}, clientSecret = SANDBOX_SERVICE_ACCOUNT.clientSecret) {
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0), { autoAdvance: true });
  // Tokens expire on the same clock the client renews them by.
  sim = await startSimulator({ clock, authNow: () => clock.now(), ...options });
  const connection = simulatorServiceAccountConnection(sim, { ...SANDBOX_SERVICE_ACCOUNT, clientSecret });
  api = createNashaApi({ config: { connection, tuning: { ...FAST_TUNING, maxRetries: 0 } }, clock });
  return { sim, api, clock };
}

const tokenRequests = (s: Simulator) => s.requests.filter((r) => r.path === TOKEN_PATH);
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      if (!(error instanceof OvhApiError)) throw error;
      return error;
    },
  );

describe('OVH service account (OAuth2 client credentials)', () => {
  it('calls the API with a Bearer token: no signature, no /auth/time; concurrent first calls share one token', async () => {
    const { sim, api } = await start();
    const results = await Promise.all(Array.from({ length: 8 }, () => api.client.listServices()));
    expect(results.every((services) => services.includes(SVC))).toBe(true);
    expect(tokenRequests(sim)).toHaveLength(1);
    expect(sim.iam.issued).toBe(1);
    expect(sim.requests.some((r) => r.path.endsWith('/auth/time'))).toBe(false);
    const calls = sim.requests.filter((r) => r.path === '/1.0/dedicated/nasha');
    expect(calls).toHaveLength(8);
    expect(calls.every((r) => r.identity === ME && r.consumerKey === null)).toBe(true);
  });

  it('sends JSON bodies with their Content-Type (node-ovh omits it in OAuth2 mode)', async () => {
    const { sim, api } = await start();
    const task = await api.client.createCustomSnapshot(SVC, 'data', { name: 'oauth-snap' });
    expect(task.operation).toBe('clusterLeclercCustomSnapCreate');
    expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', status: 200, identity: ME });
  });

  it('renews the token before it expires, and not before it needs to', async () => {
    const { sim, api, clock } = await start({ tokenLifetimeSeconds: 120 });
    await api.client.listServices();
    clock.advance(50_000);
    await api.client.listServices();
    expect(sim.iam.issued).toBe(1);
    // 65 s into a 120 s token: inside the renewal margin (60 s, at most half the lifetime), still valid on OVH.
    clock.advance(15_000);
    await api.client.listServices();
    expect(sim.iam.issued).toBe(2);
    expect(sim.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('a 401 (token revoked) fetches a new token and retries once, also a POST; a second 401 is the answer', async () => {
    const { sim, api } = await start();
    await api.client.listServices();
    sim.iam.revokeTokens();
    const task = await api.client.addSnapshotType(SVC, 'data', 'hour-6');
    expect(task.status).toBe('todo');
    expect(sim.iam.issued).toBe(2);
    expect(sim.requests.filter((r) => r.status === 401)).toHaveLength(1);
    // Exactly one change made: the refused POST never ran.
    expect(sim.requests.filter((r) => r.method === 'POST' && r.applied && r.path.endsWith('/snapshot'))).toHaveLength(
      1,
    );

    sim.addFaults({
      method: 'GET',
      path: '/dedicated/nasha',
      times: 2,
      fault: { type: 'status', status: 401, body: { class: 'Client::Unauthorized', message: 'Invalid token' } },
    });
    // Fresh: the listing read above is cached, and this must reach OVH.
    const error = await rejection(withFreshReads(() => api.client.listServices()));
    expect(error).toMatchObject({ httpStatus: 401, attempts: 2, ovhMessage: 'Invalid token' });
    expect(sim.iam.issued).toBe(3);
  });

  it('a wrong client secret is the token endpoint refusing, named as such', async () => {
    const { api } = await start({}, 'wrong-secret');
    const error = await rejection(api.client.listServices());
    expect(error).toMatchObject({ operation: 'POST /oauth2/token', httpStatus: 401 });
    expect(error.ovhMessage).toContain('invalid_client');
  });
});

describe('IAM policies on the simulator', () => {
  const readOnly: IamPolicyInput = {
    name: 'read-only',
    identities: [ME],
    resources: [{ urn: urn(SVC) }],
    permissions: { allow: [{ action: 'nasHA:apiovh:get' }, { action: 'nasHA:apiovh:partition/*' }] },
  };

  it('answers 403 "User not granted" for an action no policy allows, and lists only granted services', async () => {
    const { sim, api } = await start({
      iamPolicies: [{ ...readOnly, permissions: { ...readOnly.permissions, except: [{ action: '*/create' }] } }],
    });
    expect(await api.client.listServices()).toEqual([SVC]);
    expect(await api.client.listPartitions(SVC)).toContain('data');
    const denied = await rejection(api.client.createCustomSnapshot(SVC, 'data', { name: 'nope' }));
    expect(denied).toMatchObject({ httpStatus: 403, ovhMessage: 'User not granted for this request' });
    // Another service: no policy names its URN.
    expect(await rejection(api.client.listPartitions(OTHER))).toMatchObject({ httpStatus: 403 });
    expect(sim.state.listCustomSnapshots(SVC, 'data')).not.toContain('nope');
  });

  it('a deny wins over an allow', async () => {
    const { api } = await start({
      iamPolicies: [
        readOnly,
        {
          name: 'no-partitions',
          identities: [ME],
          resources: [{ urn: urn(SVC) }],
          permissions: { deny: [{ action: 'nasHA:apiovh:partition/get' }] },
        },
      ],
    });
    expect(await api.client.getService(SVC)).toMatchObject({ serviceName: SVC });
    expect(await rejection(api.client.listPartitions(SVC))).toMatchObject({ httpStatus: 403 });
  });
});

describe('service-account configuration', () => {
  const base = { OVH_CLIENT_ID: 'client-1', OVH_CLIENT_SECRET: 'secret-1' };

  it('takes the token URL from node-ovh for OVH endpoints, and from OVH_TOKEN_URL otherwise', () => {
    const eu = parseOvhConfig({ ...base, OVH_ENDPOINT: 'ovh-eu' }).connection;
    expect(eu.oauth2?.tokenUrl.href).toBe('https://www.ovh.com/auth/oauth2/token');
    expect(eu.appKey).toBeUndefined();
    expect(parseOvhConfig({ ...base, OVH_ENDPOINT: 'ovh-ca' }).connection.oauth2?.tokenUrl.href).toBe(
      'https://ca.ovh.com/auth/oauth2/token',
    );
    const custom = parseOvhConfig({
      ...base,
      OVH_ENDPOINT: 'https://api.eu.ovhcloud.com/1.0',
      OVH_TOKEN_URL: 'https://auth.eu.ovhcloud.com/oauth2/token',
    }).connection;
    expect(custom.oauth2?.tokenUrl.href).toBe('https://auth.eu.ovhcloud.com/oauth2/token');
    expect(() => parseOvhConfig({ ...base, OVH_ENDPOINT: 'https://127.0.0.1:8443/1.0' })).toThrow(
      /OVH_TOKEN_URL is required with a service account on https:\/\/127\.0\.0\.1:8443\/1\.0/,
    );
    expect(() => parseOvhConfig({ ...base, OVH_ENDPOINT: 'sys-eu' })).toThrow(/OVH_TOKEN_URL is required/);
    expect(() =>
      parseOvhConfig({ ...base, OVH_ENDPOINT: 'ovh-eu', OVH_TOKEN_URL: 'http://www.ovh.com/auth/oauth2/token' }),
    ).toThrow(/OVH_TOKEN_URL must be the https:\/\/ URL/);
    expect(() => parseOvhConfig({ OVH_ENDPOINT: 'ovh-eu', OVH_CLIENT_ID: 'client-1' })).toThrow(
      /OVH_CLIENT_SECRET is required/,
    );
  });

  it('refuses both kinds of credentials, naming them', () => {
    expect(() =>
      parseOvhConfig({ ...base, OVH_ENDPOINT: 'ovh-eu', OVH_APP_KEY: 'ak', OVH_CONSUMER_KEY: 'ck' }),
    ).toThrow(
      'OVH credentials of both kinds are set: OVH_APP_KEY, OVH_CONSUMER_KEY (an application key) and OVH_CLIENT_ID, OVH_CLIENT_SECRET (a service account)',
    );
  });
});
