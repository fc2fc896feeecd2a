import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../src/compose.js';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { appHomeOpenedEvent } from '../../src/sandbox/payloads.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_CONFIG, testEnv, USERS } from '../support/bot-harness.js';
import { FakeSlack } from '../support/fake-slack.js';
import { type SocketLink, startSocketLink } from '../support/socket-link.js';

let slack: FakeSlack;
let sim: Simulator;
let link: SocketLink;
let bot: RunningBot;

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  link = await startSocketLink(slack);
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9), { autoAdvance: true });
  sim = await startSimulator({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'nasha-socket-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  const env = testEnv({ slack, sim, dir, appToken: 'xapp-1-test-app-token' });
  bot = await startBot(env, {
    clock,
    logger: createLogger({ level: 'silent' }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    slackRetries: 0,
    outbox: { idlePollMs: Number.POSITIVE_INFINITY },
  });
});

afterAll(async () => {
  await bot?.stop();
  await link?.close();
  await sim?.close();
  await slack?.stop();
});

describe('Socket Mode (SLACK_APP_TOKEN set): no public URL, same listeners', () => {
  it('connects with the app token, acks a slash command envelope, and answers through response_url', async () => {
    await slack.waitFor(() => link.sockets.length > 0, 'the bot to open the WebSocket');
    const open = slack.callsTo('apps.connections.open')[0];
    expect(open?.authorization).toBe('Bearer xapp-1-test-app-token');
    link.sockets[0]?.send(
      JSON.stringify({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          token: 'legacy',
          team_id: 'T1',
          team_domain: 'acme',
          channel_id: 'C0OPS',
          channel_name: 'ops',
          user_id: USERS.viewer,
          user_name: 'v',
          command: '/nasha',
          text: 'snapshot list zpool-128310/data',
          api_app_id: 'A1',
          is_enterprise_install: 'false',
          response_url: slack.responseUrl('socket'),
          trigger_id: '1.2.3',
        },
      }),
    );
    await slack.waitFor(() => link.ackOf('env-1') !== undefined, 'the envelope ack');
    expect(JSON.stringify(link.ackOf('env-1')?.message)).toContain('Working on');
    await slack.waitFor(() => slack.replies('socket').length > 0, 'the reply');
    expect(JSON.stringify(slack.replies('socket')[0])).toContain('snap-data-pre-upgrade');
  });

  it('draws the Home tab from an app_home_opened events_api envelope', async () => {
    await slack.waitFor(() => link.sockets.length > 0, 'the bot to open the WebSocket');
    link.sockets[0]?.send(
      JSON.stringify({
        envelope_id: 'env-home',
        type: 'events_api',
        accepts_response_payload: false,
        payload: appHomeOpenedEvent(USERS.viewer, 'EvSOCKET1', '1700000000.000100'),
      }),
    );
    await slack.waitFor(() => link.ackOf('env-home') !== undefined, 'the envelope ack');
    await slack.waitFor(
      () => slack.callsTo('views.publish').some((c) => c.args['user_id'] === USERS.viewer),
      'the Home tab',
    );
    const view = slack.callsTo('views.publish').find((c) => c.args['user_id'] === USERS.viewer)?.args['view'];
    expect(view).toMatchObject({ type: 'home' });
  });
});
