import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { forEachBackend } from '../store/test-database.js';
import { APPROVALS_CHANNEL, SIGNING_SECRET, TEST_CONFIG, USERS } from '../support/bot-harness.js';
import { type BotProcess, botProcessEnv, spawnBot } from '../support/bot-process.js';
import { FakeSlack } from '../support/fake-slack.js';
import { buttonClick } from '../support/slack-payloads.js';
import { interactivityBody, postSigned, slashCommandBody } from '../support/slack-requests.js';

let slack: FakeSlack;
let sim: Simulator;
let dir: string;

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  slack.groups.set('S0SRE', [USERS.operator]);
  sim = await startSimulator({ taskTimings: { doingAfterMs: 50, doneAfterMs: 300 } });
  dir = mkdtempSync(join(tmpdir(), 'nasha-replicas-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
});

afterAll(async () => {
  await sim?.close();
  await slack?.stop();
});

forEachBackend((backend) => {
  let replicas: BotProcess[] = [];
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('two bot processes share one store: clicks land on both, exactly one execution and one card', async () => {
    const store = await backend.open();
    const env = botProcessEnv(
      { slackApiUrl: slack.apiUrl, sim, dir },
      'databaseUrl' in store ? { DATABASE_URL: store.databaseUrl } : { NASHA_DATA_DIR: store.dataDir },
    );
    replicas = await Promise.all([spawnBot(env), spawnBot(env)]);
    const urls = replicas.map((r) => `http://127.0.0.1:${r.port}/slack/events`);
    const name = backend.name === 'sqlite' ? 'snap-vol-001-baseline' : 'snap-vol-002-baseline';
    const partition = backend.name === 'sqlite' ? 'vol-001' : 'vol-002';

    const replyId = randomUUID();
    const ack = await postSigned(
      urls[0] ?? '',
      SIGNING_SECRET,
      slashCommandBody({
        text: `snapshot delete zpool-310442/${partition}/${name} --reason replicas`,
        user_id: USERS.operator,
        response_url: slack.responseUrl(replyId),
      }),
    );
    expect(ack.status).toBe(200);
    await slack.waitFor(
      () => slack.replies(replyId).some((r) => String(r['text']).startsWith('Pending approval #')),
      'the pending reply',
      20_000,
    );
    const requestId = String(
      slack.replies(replyId).find((r) => String(r['text']).startsWith('Pending approval #'))?.['text'],
    ).slice(18, 24);

    const answers: string[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const answerId = randomUUID();
        const payload = buttonClick({
          user: i % 3 === 0 ? USERS.approver2 : USERS.approver,
          channel: APPROVALS_CHANNEL,
          actionId: 'nasha_approval_approve',
          value: requestId,
          responseUrl: slack.responseUrl(answerId),
        });
        const res = await postSigned(urls[i % 2] ?? '', SIGNING_SECRET, interactivityBody(payload));
        expect(res.status).toBe(200);
        await slack.waitFor(() => slack.replies(answerId).length > 0, 'an answer', 20_000);
        answers.push(String(slack.replies(answerId)[0]?.['text'] ?? JSON.stringify(slack.replies(answerId)[0])));
      }),
    );
    expect(answers.filter((a) => a.includes('running it now'))).toHaveLength(1);
    const cardCalls = () =>
      slack.calls.filter(
        (c) => c.args['channel'] === APPROVALS_CHANNEL && String(c.args['text']).startsWith(`Approval #${requestId}`),
      );
    await slack.waitFor(
      () => cardCalls().some((c) => String(c.args['text']).endsWith('succeeded')),
      'the final card',
      20_000,
    );
    expect(cardCalls().filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/${name}`))).toHaveLength(1);
  }, 90_000);
});
