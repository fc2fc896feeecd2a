import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOT_TOKEN,
  type BotHarness,
  CHANNELS,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick, viewSubmission } from '../support/slack-payloads.js';
import { interactivityBody, postSigned, slackSignature, slashCommandBody } from '../support/slack-requests.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
});
afterAll(async () => {
  await h?.close();
});

const ovhWrites = () => h.sim.requests.filter((r) => r.method !== 'GET').length;

describe('request verification and hostile payloads', () => {
  it('a forged signature is rejected with 401 and nothing is done', async () => {
    const body = slashCommandBody({
      text: 'snapshot create zpool-128310/logs forged',
      user_id: USERS.admin,
      response_url: h.slack.responseUrl('forged'),
    });
    const before = { ovh: h.sim.requests.length, slack: h.slack.calls.length };
    const res = await postSigned(h.url, SIGNING_SECRET, body, {
      signature: slackSignature('not-the-secret', Math.floor(Date.now() / 1000), body),
    });
    expect(res.status).toBe(401);
    expect(h.sim.requests.length).toBe(before.ovh);
    expect(h.slack.calls.length).toBe(before.slack);
  });

  it('a replayed request (timestamp older than 5 minutes) is rejected with 401 and nothing is done', async () => {
    const body = slashCommandBody({
      text: 'snapshot create zpool-128310/logs replayed',
      user_id: USERS.admin,
      response_url: h.slack.responseUrl('replay'),
    });
    const before = ovhWrites();
    const res = await postSigned(h.url, SIGNING_SECRET, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(res.status).toBe(401);
    expect(ovhWrites()).toBe(before);
  });

  it('a tampered body with the original signature is rejected', async () => {
    const body = slashCommandBody({ text: 'snapshot services', user_id: USERS.viewer });
    const ts = Math.floor(Date.now() / 1000);
    const signature = slackSignature(SIGNING_SECRET, ts, body);
    const res = await postSigned(h.url, SIGNING_SECRET, body.replace(USERS.viewer, USERS.admin), {
      timestamp: ts,
      signature,
    });
    expect(res.status).toBe(401);
  });

  it('identity comes only from the payload user: a button value cannot grant access', async () => {
    // A viewer clicks a (crafted) page button; the value names a service, never a user or role.
    const value = JSON.stringify({
      view: 'partitions',
      service: 'zpool-128310',
      page: 1,
      user: USERS.admin,
      role: 'admin',
    });
    const res = await h.interact(
      buttonClick({
        user: USERS.nobody,
        channel: CHANNELS.ops,
        actionId: 'nasha_page_next',
        value,
        responseUrl: h.slack.responseUrl('btn'),
      }),
    );
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.replies('btn').length > 0, 'the reply');
    expect(JSON.stringify(h.slack.replies('btn')[0])).toMatch(/was not found, or is not yours/);
  });

  it('forged or foreign private_metadata in a modal submission is refused inline, nothing changes', async () => {
    const before = ovhWrites();
    for (const metadata of [
      '',
      'garbage',
      '{"u":"U0NOBODY","c":"C0OPS","s":"zpool-128310","p":"data","t":1}',
      'eyJ1IjoiVTBBRE1JTiJ9.forged',
    ]) {
      const res = await h.interact(
        viewSubmission(USERS.nobody, {
          callback_id: 'nasha_modal_delete',
          private_metadata: metadata,
          state: {
            snapshot: { snapshot: { type: 'static_select', selected_option: { value: 'snap-data-pre-upgrade' } } },
          },
        }),
      );
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ response_action: 'errors' });
    }
    expect(ovhWrites()).toBe(before);
  });

  it('malformed interactivity payloads get a 4xx or a quiet 200, never a crash', async () => {
    const bodies = [
      'payload=not-json',
      interactivityBody({ type: 'block_actions' }),
      interactivityBody({ type: 'view_submission', view: { callback_id: 'nasha_modal_main' } }),
      interactivityBody({ type: 'block_suggestion', action_id: 'service', user: { id: 'x' } }),
      interactivityBody({
        type: 'block_actions',
        user: { id: USERS.admin },
        actions: [{ action_id: 'nasha_page_next', value: '{"view":"list","service":"../../x","page":-1}' }],
      }),
    ];
    for (const body of bodies) {
      const res = await postSigned(h.url, SIGNING_SECRET, body);
      expect(res.status).toBeLessThan(500);
    }
    // Still alive and well.
    const { ack } = await h.command('help', { user: USERS.viewer });
    expect(ack.status).toBe(200);
  });

  it('path injection in command arguments never reaches OVH unvalidated', async () => {
    const before = h.sim.requests.length;
    for (const text of [
      'snapshot list ../../me',
      'snapshot list zpool-128310/..',
      'snapshot show zpool-128310/data/%2e%2e',
      'snapshot list zpool-128310/data%00',
    ]) {
      const { id, ack } = await h.command(text);
      expect(ack.status).toBe(200);
      if (JSON.stringify(ack.json()).includes('Working on')) await h.replies(id, (t) => t.length > 0);
    }
    const reached = h.sim.requests.slice(before).map((r) => r.path);
    for (const path of reached) expect(path).not.toMatch(/\/\.\.(\/|$)/);
  });

  it('logs one line per request with a correlation id shared by the OVH calls it made', async () => {
    const { id } = await h.command('snapshot partitions zpool-204117', { user: USERS.viewer });
    await h.replies(id, (t) => t.length > 0);
    // The request line is written when the listener returns, just after its last reply.
    await h.slack.waitFor(
      () => h.logLines.some((l) => l.includes('"command":"snapshot partitions zpool-204117"')),
      'the request log line',
    );
    const lines = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = lines.findLast(
      (l) => l['msg'] === 'slack request' && l['command'] === 'snapshot partitions zpool-204117',
    );
    expect(request).toMatchObject({
      kind: 'command',
      userId: USERS.viewer,
      channelId: CHANNELS.ops,
      requestId: expect.any(String),
    });
    const ovh = lines.filter((l) => l['msg'] === 'OVH request' && l['requestId'] === request?.['requestId']);
    expect(ovh.map((l) => l['route'])).toContain('/dedicated/nasha/{serviceName}/partition/{partitionName}');
  });

  it('secrets never appear in logs or in anything sent to Slack', async () => {
    const secrets = [SIGNING_SECRET, BOT_TOKEN, h.env.ovh.connection.appSecret, h.env.ovh.connection.consumerKey];
    // What the bot *says* to Slack (the token itself legitimately authenticates each call).
    const sent = JSON.stringify(h.slack.calls.map(({ args: { token: _token, ...said } }) => said));
    const logs = h.logLines.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(sent).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
