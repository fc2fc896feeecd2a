import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createProxyDispatcher,
  DEFAULT_NO_PROXY,
  openTunnel,
  type ProxySettings,
  ProxyTunnelError,
  parseNoProxy,
  proxyFor,
} from '../../src/shared/proxy.js';
import { type ConnectProxy, startConnectProxy } from '../support/connect-proxy.js';

const PROXY = new URL('http://proxy.corp:3128');

function settings(noProxy: string | undefined): ProxySettings {
  const { rules, problems } = parseNoProxy(noProxy ?? DEFAULT_NO_PROXY);
  expect(problems).toEqual([]);
  return { https: PROXY, http: undefined, noProxy: rules };
}

const proxied = (noProxy: string | undefined, url: string) => proxyFor(settings(noProxy), new URL(url)) !== undefined;

describe('NO_PROXY, by the usual conventions', () => {
  it('a name covers itself and every name under it, never a longer name that merely ends the same', () => {
    expect(proxied('example.com', 'https://example.com/')).toBe(false);
    expect(proxied('example.com', 'https://api.eu.example.com/')).toBe(false);
    expect(proxied('example.com', 'https://badexample.com/')).toBe(true);
    expect(proxied('example.com', 'https://example.com.evil.net/')).toBe(true);
  });

  it('a leading dot or *. means the same; case and a trailing dot do not matter', () => {
    for (const entry of ['.example.com', '*.example.com', 'EXAMPLE.com.']) {
      expect(proxied(entry, 'https://example.com/')).toBe(false);
      expect(proxied(entry, 'https://Api.Example.COM./')).toBe(false);
      expect(proxied(entry, 'https://example.org/')).toBe(true);
    }
  });

  it('host:port matches that port only (the scheme default when the URL has none)', () => {
    expect(proxied('example.com:8443', 'https://example.com:8443/')).toBe(false);
    expect(proxied('example.com:8443', 'https://example.com/')).toBe(true);
    expect(proxied('example.com:443', 'https://example.com/')).toBe(false);
  });

  it('a comma list with spaces and empty entries; * alone sends nothing to the proxy', () => {
    expect(proxied(' a.test , , example.com ', 'https://example.com/')).toBe(false);
    expect(proxied(' a.test , , example.com ', 'https://b.test/')).toBe(true);
    expect(proxied('*', 'https://anything.example/')).toBe(false);
  });

  it('IP addresses and CIDR blocks, IPv4 and IPv6, with or without a port; names are never resolved', () => {
    expect(proxied('10.0.0.0/8', 'https://10.20.30.40/')).toBe(false);
    expect(proxied('10.0.0.0/8', 'https://11.0.0.1/')).toBe(true);
    expect(proxied('192.168.1.10', 'https://192.168.1.10/')).toBe(false);
    expect(proxied('192.168.1.10:8443', 'https://192.168.1.10/')).toBe(true);
    expect(proxied('fd00::/8', 'https://[fd12::1]/')).toBe(false);
    expect(proxied('[::1]:8443', 'https://[::1]:8443/')).toBe(false);
    expect(proxied('10.0.0.0/8', 'https://internal.example/')).toBe(true);
  });

  it('unset: loopback goes direct, everything else to the proxy; set: it is the whole list', () => {
    for (const url of [
      'https://localhost:8443/',
      'https://db.localhost/',
      'https://127.0.0.1/',
      'https://127.9.9.9/',
    ]) {
      expect(proxied(undefined, url)).toBe(false);
    }
    expect(proxied(undefined, 'https://[::1]/')).toBe(false);
    expect(proxied(undefined, 'https://slack.com/')).toBe(true);
    expect(proxied('.corp', 'https://127.0.0.1/')).toBe(true);
  });

  it('the scheme picks the variable: HTTPS_PROXY for https/wss, HTTP_PROXY for http/ws, none = direct', () => {
    const both: ProxySettings = { https: PROXY, http: new URL('http://plain:8080'), noProxy: [] };
    expect(proxyFor(both, new URL('wss://wss-primary.slack.com/link'))).toBe(PROXY);
    expect(proxyFor(both, new URL('ws://example.com/'))?.host).toBe('plain:8080');
    expect(proxyFor({ ...both, http: undefined }, new URL('http://example.com/'))).toBeUndefined();
  });

  it('names what it cannot read', () => {
    expect(parseNoProxy('good.example, bad host, 10.0.0.0/40, example.com:99999, -x-.example').problems).toEqual([
      'NO_PROXY entry "bad host" is not a host name, host:port, IP address or CIDR',
      'NO_PROXY entry "10.0.0.0/40" is not a host name, host:port, IP address or CIDR',
      'NO_PROXY entry "example.com:99999" is not a host name, host:port, IP address or CIDR',
      'NO_PROXY entry "-x-.example" is not a host name, host:port, IP address or CIDR',
    ]);
  });
});

describe('tunnels through a real CONNECT proxy', () => {
  let proxy: ConnectProxy;
  let locked: ConnectProxy;
  let web: Server;
  let webPort: number;

  beforeAll(async () => {
    web = createServer((req, res) => res.end(`hello from ${req.headers.host}`));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as AddressInfo).port;
    proxy = await startConnectProxy({ hosts: { 'web.test': '127.0.0.1', '127.0.0.1': '127.0.0.1' } });
    locked = await startConnectProxy({
      hosts: { 'web.test': '127.0.0.1' },
      credentials: { user: 'ops', password: 'p@ss:word' },
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await locked?.close();
    await new Promise<void>((resolve) => web.close(() => resolve()));
  });

  it('the dispatcher tunnels a name only the proxy knows, and sends loopback direct by default', async () => {
    const dispatcher = createProxyDispatcher({
      https: undefined,
      http: new URL(proxy.url),
      noProxy: parseNoProxy(DEFAULT_NO_PROXY).rules,
    });
    expect(dispatcher).toBeDefined();
    const before = proxy.tunnels.length;
    const viaProxy = await undiciFetch(`http://web.test:${webPort}/`, { ...(dispatcher && { dispatcher }) });
    expect(await viaProxy.text()).toBe(`hello from web.test:${webPort}`);
    expect(proxy.tunnels.slice(before)).toEqual([`web.test:${webPort}`]);
    const direct = await undiciFetch(`http://127.0.0.1:${webPort}/`, { ...(dispatcher && { dispatcher }) });
    expect(await direct.text()).toBe(`hello from 127.0.0.1:${webPort}`);
    expect(proxy.tunnels.slice(before)).toHaveLength(1);
    await dispatcher?.close();
  });

  it('no proxy configured: no dispatcher at all, so Slack keeps its own defaults', () => {
    expect(createProxyDispatcher({ https: undefined, http: undefined, noProxy: [] })).toBeUndefined();
  });

  it('sends the credentials of the proxy URL (percent-decoded); without them the 407 is a ProxyTunnelError', async () => {
    const socket = await openTunnel(new URL(`http://ops:p%40ss%3Aword@127.0.0.1:${locked.port}`), 'web.test', webPort);
    socket.destroy();
    expect(locked.tunnels).toEqual([`web.test:${webPort}`]);
    const refused = await openTunnel(new URL(locked.url), 'web.test', webPort).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProxyTunnelError);
    expect(refused).toMatchObject({ statusCode: 407, target: `web.test:${webPort}`, proxy: locked.url });
    expect(String(refused)).not.toContain('p@ss');
  });

  it('a proxy that is not there is a ProxyTunnelError carrying the socket error', async () => {
    const closed = await startConnectProxy({ hosts: {} });
    await closed.close();
    const error = await openTunnel(new URL(closed.url), 'web.test', webPort).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyTunnelError);
    expect((error as ProxyTunnelError).statusCode).toBeUndefined();
    expect((error as Error & { cause: NodeJS.ErrnoException }).cause.code).toBe('ECONNREFUSED');
  });
});
