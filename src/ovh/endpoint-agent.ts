import { subscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { openTunnel } from '../shared/proxy.js';
import { requestContext, withContext } from '../shared/request-context.js';

/**
 * node-ovh calls `https.request()` without an agent and offers no `ca`, `agent` or proxy option,
 * so the only seam is `https.globalAgent`. This agent changes nothing for other hosts; for a
 * registered OVH endpoint it adds the endpoint's extra CA (never disabling verification).
 *
 * Sockets get no timeout of ours: Node arms the pooled socket's timer from the server's `Keep-Alive`
 * hint (4 s for `timeout=5`) and leaves it armed when the socket is reused, so a handler that destroyed
 * the socket on `timeout` cut requests in flight. Node itself closes idle pooled sockets on that timer;
 * a request in flight ends at its own deadline, where the transport destroys it (see `watchOvhRequests`).
 */
interface EndpointSettings {
  /**
   * The extra CA as a secure context built once per endpoint: passing `ca` to every connection made Node
   * parse the ~145 bundled root certificates again for each new TLS socket (~50 ms of CPU each, see
   * bench/RESULTS.md). A CA that does not load stays `ca`, so it fails per request as before.
   */
  tls: { secureContext: SecureContext } | { ca: string[] } | undefined;
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
    return super.createConnection(withCa, callback);
  }

  /** Through the proxy: once the tunnel is open, the same TLS connection over it. */
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

/** The last CA's TLS settings: the startup check's transport and the bot's trust the same CA, built once (≈30 ms each). */
let lastTls: { caPem: string; tls: EndpointSettings['tls'] } | undefined;

/** The system roots plus `caPem`, as one SecureContext (a context per socket costs ~50 ms of CPU each). */
function tlsWithCa(caPem: string): EndpointSettings['tls'] {
  if (lastTls?.caPem === caPem) return lastTls.tls;
  const ca = [...rootCertificates, caPem];
  let tls: EndpointSettings['tls'];
  try {
    tls = { secureContext: createSecureContext({ ca }) };
  } catch {
    tls = { ca };
  }
  lastTls = { caPem, tls };
  return tls;
}

/** Registers an OVH endpoint; returns a function that unregisters it. */
export function registerOvhEndpoint(options: {
  host: string;
  port: number;
  caPem: string | undefined;
  proxy?: URL | undefined;
}): () => void {
  const agent = sharedAgent();
  const key = endpointKey(options.host, options.port);
  const settings: EndpointSettings = {
    tls: options.caPem === undefined ? undefined : tlsWithCa(options.caPem),
    proxy: options.proxy,
  };
  agent.endpoints.set(key, settings);
  return () => {
    if (agent.endpoints.get(key) === settings) agent.endpoints.delete(key);
  };
}

type RequestWatcher = (request: ClientRequest) => void;
let subscribed = false;

/**
 * Runs `issue` (one node-ovh call) and hands `watch` every HTTP request it makes, as it is sent: node-ovh
 * keeps the request object and the response headers to itself, and the caller needs both (to end a request
 * at its deadline, to read Retry-After). Node publishes each client request on a diagnostics channel,
 * synchronously, in the async context of the code that made it; that context tells whose request it is.
 * `jsonContentType`: a request with a body and no Content-Type gets `application/json` (node-ovh's OAuth2 mode
 * omits it). Node has already serialised the headers when it publishes the request, so this is done where
 * node-ovh calls `https.request`, in the same context.
 */
export function watchOvhRequests<T>(watch: RequestWatcher, options: { jsonContentType: boolean }, issue: () => T): T {
  if (!subscribed) {
    subscribed = true;
    subscribe('http.client.request.start', (message) => {
      const call = requestContext.getStore()?.ovhCall;
      const request = (message as { request?: unknown } | null)?.request;
      if (call !== undefined && request instanceof ClientRequest) call.watch(request);
    });
    wrapHttpsRequest();
  }
  return withContext({ ovhCall: { watch, jsonContentType: options.jsonContentType } }, issue);
}

/** node-ovh calls `https.request(options, callback)` on the module object, so the amendment goes there. */
function wrapHttpsRequest(): void {
  const original = https.request as (...args: unknown[]) => ClientRequest;
  https.request = ((...args: unknown[]) => {
    const [first] = args;
    if (requestContext.getStore()?.ovhCall?.jsonContentType === true && isOptions(first)) {
      const headers: Record<string, unknown> = { ...(first.headers as Record<string, unknown> | undefined) };
      const names = Object.keys(headers).map((name) => name.toLowerCase());
      if (names.includes('content-length') && !names.includes('content-type')) {
        args[0] = { ...first, headers: { ...headers, 'Content-Type': 'application/json' } };
      }
    }
    return original(...args);
  }) as typeof https.request;
}

function isOptions(value: unknown): value is https.RequestOptions {
  return typeof value === 'object' && value !== null && !(value instanceof URL);
}
