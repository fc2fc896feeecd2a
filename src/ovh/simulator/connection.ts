import type { OvhApplicationKeyConnection, OvhConnectionConfig } from '../config.js';
import { SANDBOX_SERVICE_ACCOUNT, type ServiceAccountSpec } from './iam.js';
import { BASE_PATH, type Simulator } from './server.js';

/** How a client reaches a simulator: its address, its sandbox keys, its CA trusted for that endpoint only. */
export function simulatorConnection(sim: Simulator): OvhApplicationKeyConnection {
  return {
    endpoint: sim.baseUrl,
    host: sim.host,
    port: sim.port,
    basePath: BASE_PATH,
    appKey: sim.credentials.appKey,
    appSecret: sim.credentials.appSecret,
    consumerKey: sim.credentials.consumerKey,
    caPem: sim.caCertPem,
  };
}

/** The same simulator through a service account (OAuth2): its token endpoint, no application key. */
export function simulatorServiceAccountConnection(
  sim: Simulator,
  account: ServiceAccountSpec = SANDBOX_SERVICE_ACCOUNT,
): OvhConnectionConfig {
  const { appKey: _k, appSecret: _s, consumerKey: _c, ...endpoint } = simulatorConnection(sim);
  return {
    ...endpoint,
    oauth2: { clientId: account.clientId, clientSecret: account.clientSecret, tokenUrl: new URL(sim.tokenUrl) },
  };
}
