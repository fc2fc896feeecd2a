import type { OvhConnectionConfig } from '../config.js';
import { BASE_PATH, type Simulator } from './server.js';

/** How a client reaches a simulator: its address, its sandbox keys, its CA trusted for that endpoint only. */
export function simulatorConnection(sim: Simulator): OvhConnectionConfig {
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
