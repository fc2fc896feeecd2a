import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

/**
 * The outbound proxy, as ops teams run behind one: `HTTPS_PROXY` for https:// and wss:// (Slack's Web API
 * and Socket Mode, OVH), `HTTP_PROXY` for http:// and ws://, `NO_PROXY` for the hosts that go direct. Every
 * proxied connection is an HTTP CONNECT tunnel (TLS stays end to end: the proxy never sees a token). Slack and
 * OVH use the same matcher and the same tunnel, so they can never disagree about what goes where.
 */
export interface ProxySettings {
  /** For https:// and wss:// targets. */
  https: URL | undefined;
  /** For http:// and ws:// targets. */
  http: URL | undefined;
  /** Hosts that never go through the proxy. */
  noProxy: readonly NoProxyRule[];
}

export type NoProxyRule =
  | { kind: 'all' }
  /** `example.com`, `.example.com`, `*.example.com`: the name and every name under it; `port` when written. */
  | { kind: 'name'; name: string; port: number | undefined }
  /** `10.0.0.0/8`, `127.0.0.1`, `::1` (an address is a /32 or /128); `port` when written. */
  | { kind: 'address'; blocks: BlockList; port: number | undefined };

/**
 * What NO_PROXY means when it is unset: loopback goes direct (a proxy cannot reach this host's loopback).
 * When NO_PROXY is set it is the whole list, as for curl: list loopback there to keep it direct.
 */
export const DEFAULT_NO_PROXY = 'localhost,127.0.0.0/8,::1';

/** A NO_PROXY value: comma-separated; `*` alone = nothing is proxied. Problems name the entry. */
export function parseNoProxy(text: string): { rules: NoProxyRule[]; problems: string[] } {
  const rules: NoProxyRule[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      rules.push({ kind: 'all' });
      continue;
    }
    const rule = parseEntry(entry);
    if (rule === undefined)
      problems.push(`NO_PROXY entry "${raw.trim()}" is not a host name, host:port, IP address or CIDR`);
    else rules.push(rule);
  }
  return { rules, problems };
}

function parseEntry(entry: string): NoProxyRule | undefined {
  let host = entry;
  let port: number | undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed?.[1] !== undefined) {
    host = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (isIP(entry.split('/')[0] ?? '') !== 6) {
    const withPort = /^(.*):(\d+)$/.exec(entry);
    if (withPort?.[1] !== undefined && withPort[2] !== undefined) {
      host = withPort[1];
      port = Number(withPort[2]);
    }
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) return undefined;
  const cidr = /^([0-9a-f:.]+)(?:\/(\d{1,3}))?$/.exec(host);
  const family = cidr?.[1] === undefined ? 0 : isIP(cidr[1]);
  if (cidr?.[1] !== undefined && family !== 0) {
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = cidr[2] === undefined ? (family === 4 ? 32 : 128) : Number(cidr[2]);
    if (prefix > (family === 4 ? 32 : 128)) return undefined;
    const blocks = new BlockList();
    blocks.addSubnet(cidr[1], prefix, type);
    return { kind: 'address', blocks, port };
  }
  // `.example.com` and `*.example.com` mean what `example.com` means: the name and everything under it.
  const name = host.replace(/^\*?\./, '').replace(/\.$/, '');
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)) return undefined;
  return { kind: 'name', name, port };
}

/** Where a connection goes: the URL's scheme, host and port. */
export interface ProxyTarget {
  protocol: string;
  hostname: string;
  port: number | string | undefined;
}

/** The proxy for a target, or undefined when it goes direct (no proxy for its scheme, or NO_PROXY lists it). */
export function proxyFor(settings: ProxySettings, target: ProxyTarget): URL | undefined {
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? settings.https : settings.http;
  if (proxy === undefined) return undefined;
  const host = normalizeHost(target.hostname);
  const port = target.port === undefined || target.port === '' ? (secure ? 443 : 80) : Number(target.port);
  return settings.noProxy.some((rule) => bypasses(rule, host, port)) ? undefined : proxy;
}

function bypasses(rule: NoProxyRule, host: string, port: number): boolean {
  if (rule.kind === 'all') return true;
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.kind === 'name') return host === rule.name || host.endsWith(`.${rule.name}`);
  const family = isIP(host);
  return family !== 0 && rule.blocks.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

function normalizeHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** A proxy URL as it may be shown: without its credentials. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** The proxy refused the tunnel or could not be reached; `statusCode` is the proxy's answer when there was one. */
export class ProxyTunnelError extends Error {
  override readonly name = 'ProxyTunnelError';
  readonly proxy: string;
  readonly target: string;
  readonly statusCode: number | undefined;
  constructor(init: { proxy: URL; target: string; statusCode?: number; detail: string; cause?: unknown }) {
    super(
      `proxy ${describeProxy(init.proxy)} could not open a tunnel to ${init.target}: ${init.detail}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.proxy = describeProxy(init.proxy);
    this.target = init.target;
    this.statusCode = init.statusCode;
  }
}

/** How long the proxy has to answer CONNECT (the connect timeout of a direct connection, as undici's). */
const TUNNEL_TIMEOUT_MS = 10_000;

/** Opens a CONNECT tunnel through `proxy` to host:port; the socket carries raw bytes (TLS goes on top). */
export function openTunnel(proxy: URL, host: string, port: number): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return new Promise<Socket>((resolve, reject) => {
    const fail = (detail: string, extra: { statusCode?: number; cause?: unknown } = {}) =>
      reject(new ProxyTunnelError({ proxy, target: authority, detail, ...extra }));
    const request = (proxy.protocol === 'https:' ? https : http).request({
      host: normalizeHost(proxy.hostname),
      port: proxy.port === '' ? (proxy.protocol === 'https:' ? 443 : 80) : Number(proxy.port),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      timeout: TUNNEL_TIMEOUT_MS,
    });
    request.once('connect', (response, socket, head) => {
      request.setTimeout(0);
      if (response.statusCode !== 200) {
        socket.destroy();
        fail(`it answered ${response.statusCode ?? '?'} ${response.statusMessage ?? ''}`.trim(), {
          ...(response.statusCode !== undefined && { statusCode: response.statusCode }),
        });
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('timeout', () => {
      const error = Object.assign(new Error(`no answer to CONNECT within ${TUNNEL_TIMEOUT_MS} ms`), {
        code: 'ETIMEDOUT',
      });
      request.destroy(error);
    });
    request.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message, { cause: error }));
    request.end();
  });
}

/**
 * A connection through the proxy with no byte either way for this long is dead. Slack's Socket Mode client
 * pings every 5 s and pooled Web API sockets idle for seconds at most; a custom dispatcher keeps Socket Mode
 * from destroying a stalled socket itself, so this does it.
 */
const SLACK_IDLE_TIMEOUT_MS = 60_000;

/**
 * The undici dispatcher for Slack's Web API (as a `fetch`) and Socket Mode's WebSocket: tunnels through the
 * proxy what `settings` sends there, connects directly otherwise. Undefined when no proxy is configured, so
 * Slack's own defaults stay untouched.
 */
export function createProxyDispatcher(settings: ProxySettings): Dispatcher | undefined {
  if (settings.https === undefined && settings.http === undefined) return undefined;
  const direct = buildConnector({ allowH2: false });
  const connect: buildConnector.connector = (options, callback) => {
    const proxy = proxyFor(settings, options);
    // undici calls back with the error alone on failure, whatever its types say.
    const done: buildConnector.Callback = (...args) => {
      const socket: Socket | null | undefined = args[1];
      if (socket !== null && socket !== undefined) {
        socket.setTimeout(SLACK_IDLE_TIMEOUT_MS, () => socket.destroy());
        callback(null, socket);
      } else callback(args[0] ?? new Error('connection failed'), null);
    };
    if (proxy === undefined) {
      direct(options, done);
      return;
    }
    const secure = options.protocol === 'https:' || options.protocol === 'wss:';
    const port = options.port === '' ? (secure ? 443 : 80) : Number(options.port);
    openTunnel(proxy, normalizeHost(options.hostname), port).then(
      (socket) => {
        if (secure) direct({ ...options, httpSocket: socket }, done);
        else done(null, socket);
      },
      (error: Error) => callback(error, null),
    );
  };
  return new Agent({ connect });
}
