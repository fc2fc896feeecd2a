import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { TEST_CONFIG } from '../support/bot-harness.js';
import { botProcessEnv, freePort, spawnBot } from '../support/bot-process.js';
import { type ConnectProxy, certificateFor, startConnectProxy, startTlsFront } from '../support/connect-proxy.js';
import { FakeSlack } from '../support/fake-slack.js';
import { type SocketLink, startSocketLink } from '../support/socket-link.js';

/**
 * The bot behind an outbound proxy, as ops teams run it: Slack (Web API and Socket Mode) and OVH are
 * reachable only through a real CONNECT proxy on loopback. Their names (`*.test`) resolve nowhere but in
 * the proxy, over HTTPS with a certificate for those names, so a bot that reaches them went through it.
 */

const PROXY_USER = 'ops';
const PROXY_PASSWORD = 'pr0xy-s3cret';

let slack: FakeSlack;
let sim: Simulator;
let link: SocketLink;
let proxy: ConnectProxy;
const fronts: Array<{ close(): Promise<void> }> = [];
let dir: string;
let slackApiUrl: string;
let slackTarget: string;
let socketTarget: string;
let ovhTarget: string;

beforeAll(async () => {
  const cert = await certificateFor(['slack.test', 'wss.test', 'ovh.test']);
  dir = mkdtempSync(join(tmpdir(), 'nasha-proxy-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  writeFileSync(join(dir, 'ca.pem'), cert.certPem);

  slack = new FakeSlack();
  await slack.start();
  const slackFront = await startTlsFront(cert, Number(new URL(slack.baseUrl).port));
  fronts.push(slackFront);
  slackApiUrl = `https://slack.test:${slackFront.port}/api/`;
  slackTarget = `slack.test:${slackFront.port}`;

  link = await startSocketLink(slack, {
    publicUrl: async (port) => {
      const wsFront = await startTlsFront(cert, port);
      fronts.push(wsFront);
      socketTarget = `wss.test:${wsFront.port}`;
      return `wss://${socketTarget}/link`;
    },
  });

  // node-ovh signs `https://<host><path>`: the simulator checks signatures against the name the bot uses.
  sim = await startSimulator({ cert, publicHost: 'ovh.test' });
  ovhTarget = `ovh.test:${sim.port}`;

  proxy = await startConnectProxy({
    hosts: { 'slack.test': '127.0.0.1', 'wss.test': '127.0.0.1', 'ovh.test': '127.0.0.1' },
    credentials: { user: PROXY_USER, password: PROXY_PASSWORD },
  });
});

afterAll(async () => {
  await link?.close();
  await Promise.all(fronts.map((front) => front.close()));
  await proxy?.close();
  await sim?.close();
  await slack?.stop();
});

/** The bot's environment: Slack and OVH by their `.test` names, the CA trusted as an operator would. */
function proxiedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...botProcessEnv({
      slackApiUrl,
      sim: { baseUrl: `https://${ovhTarget}/1.0`, credentials: sim.credentials },
      dir,
    }),
    // Slack's CA for undici (Node's extra CAs); OVH's through OVH_CA_FILE, set by botProcessEnv.
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
    NASHA_DATA_DIR: mkdtempSync(join(dir, 'data-')),
    NASHA_STARTUP_TIMEOUT_MS: '8000',
    ...extra,
  };
}

const proxyUrl = (withCredentials: boolean) =>
  withCredentials
    ? `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${proxy.port}`
    : `http://127.0.0.1:${proxy.port}`;

/** Runs the bot until it exits by itself (a failed startup). */
function runToExit(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('behind an outbound proxy (HTTPS_PROXY, NO_PROXY)', () => {
  it('Socket Mode: auth.test, apps.connections.open, the WebSocket and OVH all go through the proxy', async () => {
    const before = proxy.tunnels.length;
    const healthPort = await freePort();
    const bot = await spawnBot(
      proxiedEnv({
        SLACK_APP_TOKEN: 'xapp-1-proxy-test',
        HEALTH_PORT: String(healthPort),
        HTTPS_PROXY: proxyUrl(true),
      }),
      30_000,
    );
    try {
      const health = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      expect(health.status).toBe(200);
      const tunnels = proxy.tunnels.slice(before);
      expect(tunnels).toContain(slackTarget);
      expect(tunnels).toContain(socketTarget);
      expect(tunnels).toContain(ovhTarget);
      expect(link.sockets.length).toBeGreaterThan(0);
      expect(slack.callsTo('apps.connections.open').at(-1)?.authorization).toBe('Bearer xapp-1-proxy-test');
      expect(bot.output()).not.toContain(PROXY_PASSWORD);
    } finally {
      expect(await bot.stop()).toBe(0);
    }
    expect(bot.output()).not.toContain(PROXY_PASSWORD);
  }, 60_000);

  it('a proxy that wants credentials it was not given: exit 1 naming the proxy, each dependency and the fix', async () => {
    const result = await runToExit(proxiedEnv({ HTTPS_PROXY: proxyUrl(false) }));
    expect(result.code).toBe(1);
    const proxyName = `http://127.0.0.1:${proxy.port}`;
    expect(result.stderr).toContain(
      `Slack auth.test at ${slackApiUrl} (through ${proxyName}): proxy ${proxyName} could not open a tunnel to ${slackTarget}: it answered 407 Proxy Authentication Required. Likely cause: the proxy wants credentials. Fix: put them in the proxy URL: HTTPS_PROXY=http://user:password@host:port.`,
    );
    expect(result.stderr).toContain(
      `OVH at https://${ovhTarget}/1.0 (through ${proxyName}): proxy ${proxyName} could not open a tunnel to ${ovhTarget}: it answered 407 Proxy Authentication Required. Likely cause: the proxy wants credentials.`,
    );
    expect(proxy.refused.filter((r) => r.status === 407).map((r) => r.target)).toEqual(
      expect.arrayContaining([slackTarget, ovhTarget]),
    );
  }, 30_000);

  it('NO_PROXY: the hosts it lists go direct (here: nowhere, since only the proxy can resolve them)', async () => {
    const before = proxy.tunnels.length;
    const result = await runToExit(
      proxiedEnv({ HTTPS_PROXY: proxyUrl(true), NO_PROXY: 'localhost, .slack.test,ovh.test' }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /Slack auth\.test at https:\/\/slack\.test:\d+\/api\/: getaddrinfo ENOTFOUND slack\.test\. Likely cause: DNS: "slack\.test" does not resolve from this host\./,
    );
    expect(result.stderr).toMatch(
      /OVH at https:\/\/ovh\.test:\d+\/1\.0: .*(ENOTFOUND|EAI_NONAME).*Likely cause: DNS: "ovh\.test" does not resolve from this host\. Fix: check the host name in OVH_ENDPOINT and this host's DNS resolver, or, if outbound traffic must go through a proxy, set HTTPS_PROXY \(and keep ovh\.test out of NO_PROXY\)\./,
    );
    expect(proxy.tunnels.slice(before)).toEqual([]);
  }, 30_000);
});
