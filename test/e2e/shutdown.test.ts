import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { AUDIT_CHANNEL, SIGNING_SECRET, TEST_CONFIG_NO_APPROVALS, USERS } from '../support/bot-harness.js';
import { botProcessEnv, spawnBot } from '../support/bot-process.js';
import { FakeSlack } from '../support/fake-slack.js';
import { postSigned, slackSignature, slashCommandBody } from '../support/slack-requests.js';

let slack: FakeSlack;
let sim: Simulator;
let dir: string;

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  sim = await startSimulator({ taskTimings: { doingAfterMs: 100, doneAfterMs: 500 } });
  dir = mkdtempSync(join(tmpdir(), 'nasha-shutdown-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG_NO_APPROVALS);
  writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
});
afterAll(async () => {
  await sim?.close();
  await slack?.stop();
});

const env = () => botProcessEnv({ slackApiUrl: slack.apiUrl, sim, dir }, { NASHA_DATA_DIR: join(dir, 'data') });

async function create(port: number, name: string): Promise<void> {
  const res = await postSigned(
    `http://127.0.0.1:${port}/slack/events`,
    SIGNING_SECRET,
    slashCommandBody({
      text: `snapshot create zpool-128310/logs ${name}`,
      user_id: USERS.admin,
      response_url: slack.responseUrl(randomUUID()),
    }),
  );
  expect(res.status).toBe(200);
}

describe('graceful shutdown', () => {
  it('SIGTERM finishes the OVH write in flight, records its task, exits 0; the next start follows it to the end', async () => {
    sim.addFaults({
      method: 'POST',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
      fault: { type: 'latency', ms: 1_500 },
      times: 1,
    });
    const first = await spawnBot(env());
    await create(first.port, 'during-shutdown');
    await slack.waitFor(
      () => sim.requests.some((r) => r.method === 'GET' && r.path.endsWith('/logs/customSnapshot')),
      'the change to reach OVH',
      10_000,
    );
    first.signal('SIGTERM');
    expect(await first.exited).toBe(0);
    // The write was finished, not cut: OVH answered it before the process left.
    const post = sim.requests.find((r) => r.method === 'POST' && r.path.endsWith('/logs/customSnapshot'));
    expect(post?.status).toBe(200);

    const second = await spawnBot(env());
    await slack.waitFor(
      () =>
        slack.calls.some(
          (c) =>
            c.args['channel'] === AUDIT_CHANNEL &&
            JSON.stringify(c.args).includes('during-shutdown') &&
            /Succeeded/.test(String(c.args['text'])),
        ),
      'the audit record to be completed by the next process',
      15_000,
    );
    expect(second.output()).toContain('following OVH tasks left unfinished by the previous run');
    second.signal('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('a signed but hostile payload Bolt itself chokes on (payload=null) is answered 400 and the process serves on', async () => {
    const bot = await spawnBot(env());
    const url = `http://127.0.0.1:${bot.port}/slack/events`;
    // Bolt's receiver would throw on it and never answer; the bot refuses it before Bolt reads it.
    const body = 'payload=null';
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(2_000),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body),
      },
      body,
    });
    expect(res.status).toBe(400);
    const help = await postSigned(
      url,
      SIGNING_SECRET,
      slashCommandBody({ text: 'help', user_id: USERS.viewer, response_url: slack.responseUrl(randomUUID()) }),
    );
    expect(help.status).toBe(200);
    expect(bot.output()).not.toContain('unhandled promise rejection');
    bot.signal('SIGTERM');
    expect(await bot.exited).toBe(0);
  }, 60_000);

  it('a second SIGTERM exits at once', async () => {
    sim.addFaults({
      method: 'POST',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
      fault: { type: 'latency', ms: 5_000 },
      times: 1,
    });
    const bot = await spawnBot(env());
    await create(bot.port, 'impatient');
    await slack.waitFor(
      () => sim.requests.filter((r) => r.path.endsWith('/logs/customSnapshot')).length >= 3,
      'the change to be in flight',
      10_000,
    );
    bot.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const second = Date.now();
    bot.signal('SIGTERM');
    expect(await bot.exited).toBe(1);
    expect(Date.now() - second).toBeLessThan(2_000);
  }, 60_000);
});
