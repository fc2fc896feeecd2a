import https from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls';
import { openTunnel } from '../shared/proxy.js';

/**
 * node-ovh calls `https.request()` without an agent and offers no `ca`, `agent` or proxy option,
 * so the only seam is `https.globalAgent`. This agent changes nothing for other hosts; for a
 * registered OVH endpoint it adds the endpoint's extra CA (never disabling verification) and an
 * idle timeout that destroys stalled sockets node-ovh would otherwise keep forever.
 */
interface EndpointSettings {
  /**
   * The extra CA as a secure context built once per endpoint: passing `ca` to every connection made Node
   * parse the ~145 bundled root certificates again for each new TLS socket (~50 ms of CPU each, see
   * bench/RESULTS.md). A CA that does not load stays `ca`, so it fails per request as before.
   */
  tls: { secureContext: SecureContext } | { ca: string[] } | undefined;
  idleTimeoutMs: number;
  /** HTTPS_PROXY for this endpoint: each connection is a CONNECT tunnel with TLS to OVH inside it. */
  proxy: URL | undefined;
}

class OvhEndpointAgent extends https.Agent {
  readonly endpoints = new Map<string, EndpointSettings>();

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const settings = this.endpoints.get(endpointKey(options.host ?? options.hostname ?? '', options.port));
    if (settings === undefined) return super.createConnection(options, callback);
    const withCa = settings.tls === undefined ? options : { ...options, ...settings.tls };
    if (settings.proxy !== undefined && !('socket' in options)) return this.tunnel(settings.proxy, withCa, callback);
    const socket = super.createConnection(withCa, callback) as TLSSocket | null | undefined;
    if (socket) {
      socket.setTimeout(settings.idleTimeoutMs);
      // `on`, not `once`: keep-alive sockets are reused, and the agent re-arms the timeout on reuse.
      socket.on('timeout', () => socket.destroy(new Error('OVH API connection idle timeout')));
    }
    return socket;
  }

  /** Through the proxy: once the tunnel is open, the same TLS connection (and idle timeout) over it. */
  private tunnel(
    proxy: URL,
    options: https.RequestOptions,
    callback: ((err: Error | null, stream: Duplex) => void) | undefined,
  ): undefined {
    const host = options.host ?? options.hostname ?? '';
    openTunnel(proxy, host.replace(/^\[(.*)\]$/, '$1'), Number(options.port ?? 443)).then(
      (tunnel) => {
        const socket = this.createConnection({ ...options, socket: tunnel } as https.RequestOptions);
        if (socket) callback?.(null, socket);
      },
      (error: Error) => callback?.(error, undefined as never),
    );
    return undefined;
  }
}

function endpointKey(host: string, port: number | string | null | undefined): string {
  return `${host}:${port ?? 443}`;
}

function sharedAgent(): OvhEndpointAgent {
  if (!(https.globalAgent instanceof OvhEndpointAgent)) {
    // Same defaults as Node 20's own global agent, so other HTTPS users see no difference.
    https.globalAgent = new OvhEndpointAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000 });
  }
  return https.globalAgent as OvhEndpointAgent;
}

// The agent re-applies `options.timeout` to a socket each time it returns to the pool, so it must be
// at least every endpoint's idle timeout or a reused socket would be cut short mid-request.
function syncAgentTimeout(agent: OvhEndpointAgent): void {
  let timeout = 5_000;
  for (const settings of agent.endpoints.values()) timeout = Math.max(timeout, settings.idleTimeoutMs);
  agent.options.timeout = timeout;
}

function tlsWithCa(ca: string[]): EndpointSettings['tls'] {
  try {
    return { secureContext: createSecureContext({ ca }) };
  } catch {
    return { ca };
  }
}

/** Registers an OVH endpoint; returns a function that unregisters it. */
export function registerOvhEndpoint(options: {
  host: string;
  port: number;
  caPem: string | undefined;
  idleTimeoutMs: number;
  proxy?: URL | undefined;
}): () => void {
  const agent = sharedAgent();
  const key = endpointKey(options.host, options.port);
  const settings: EndpointSettings = {
    tls: options.caPem === undefined ? undefined : tlsWithCa([...rootCertificates, options.caPem]),
    idleTimeoutMs: options.idleTimeoutMs,
    proxy: options.proxy,
  };
  agent.endpoints.set(key, settings);
  syncAgentTimeout(agent);
  return () => {
    if (agent.endpoints.get(key) === settings) agent.endpoints.delete(key);
    syncAgentTimeout(agent);
  };
}
