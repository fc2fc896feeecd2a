import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../src/compose.js';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_CONFIG, testEnv } from '../support/bot-harness.js';
import { freePort } from '../support/bot-process.js';
import { FakeSlack } from '../support/fake-slack.js';
import { type SocketLink, startSocketLink } from '../support/socket-link.js';

let slack: FakeSlack | undefined;
let sim: Simulator | undefined;
let link: SocketLink | undefined;
let bot: RunningBot | undefined;
const timers: NodeJS.Timeout[] = [];

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await bot?.stop();
  await link?.close();
  await sim?.close();
  await slack?.stop();
});

async function readyz(port: number): Promise<{ status: number; slack: { ok: boolean; detail: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await res.json()) as { checks: { slack: { ok: boolean; detail: string } } };
  return { status: res.status, slack: body.checks.slack };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('Socket Mode liveness: a link that stops answering is detected, /readyz fails, the bot reconnects and recovers', async () => {
  slack = new FakeSlack();
  await slack.start();
  // While false, Slack refuses new connections: the outage lasts until the test has seen /readyz fail.
  let slackUp = true;
  link = await startSocketLink(slack, {
    accepting: () => slackUp,
    // Like Slack, the server pings regularly.
    onConnection: (socket) => timers.push(setInterval(() => socket.ping(), 100)),
  });
  const sockets = link.sockets;
  sim = await startSimulator();
  const dir = mkdtempSync(join(tmpdir(), 'nasha-liveness-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  const healthPort = await freePort();
  bot = await startBot(testEnv({ slack, sim, dir, appToken: 'xapp-1-liveness', healthPort }), {
    logger: createLogger({ level: 'silent' }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    slackRetries: 0,
    socketPingTimeoutMs: 300,
    outbox: { idlePollMs: Number.POSITIVE_INFINITY },
  });
  await until(
    'the first connection',
    async () => (await readyz(healthPort).catch(() => ({ status: 0 }))).status === 200,
  );
  expect(slack.callsTo('apps.connections.open')).toHaveLength(1);

  // The link goes silent: the server neither reads (so no pong) nor pings.
  slackUp = false;
  for (const t of timers.splice(0)) clearInterval(t);
  (sockets[0] as unknown as { _socket: Socket })._socket.pause();
  await until('/readyz to fail', async () => (await readyz(healthPort)).status === 503);
  expect((await readyz(healthPort)).slack.ok).toBe(false);

  // Slack comes back: the bot reconnects by itself (a new apps.connections.open, a new socket) and /readyz recovers.
  slackUp = true;
  await until('a reconnection', async () => sockets.length >= 2 && (await readyz(healthPort)).status === 200, 15_000);
  expect(slack.callsTo('apps.connections.open').length).toBeGreaterThanOrEqual(2);
}, 30_000);
