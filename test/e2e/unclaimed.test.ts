import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalShortcutPayload, messageShortcutPayload } from '../../src/sandbox/payloads.js';
import { FIELD, MODAL } from '../../src/slack/blocks/modals.js';
import { PAGE_ACTION } from '../../src/slack/blocks/replies.js';
import {
  type BotHarness,
  CHANNELS,
  messageText,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { blockSuggestion, buttonClick, textInput, viewSubmission } from '../support/slack-payloads.js';
import { postSigned, slashCommandBody } from '../support/slack-requests.js';

/**
 * Interactions no listener claims (a button or form from an older version, a shortcut the manifest has
 * and the code does not): answered at once, never Bolt's 404 after 3 s, and never acknowledged twice
 * when a listener does claim them.
 */
let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG });
});
afterAll(async () => {
  await h?.close();
});

const STALE = /older version of nasha-bot|not one this version of nasha-bot knows/;
const failures = () =>
  h.logLines.filter((l) => /unhandled error in a Slack listener|not acknowledged|multiple times/i.test(l));

describe('interactions no listener claims', () => {
  it('a message button: answered at once, and the clicker is told it is stale', async () => {
    const id = 'stale-button';
    const started = Date.now();
    const res = await h.interact(
      buttonClick({
        user: USERS.viewer,
        channel: CHANNELS.ops,
        actionId: 'nasha_retired_button',
        value: '{}',
        responseUrl: h.slack.responseUrl(id),
      }),
    );
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_500);
    await h.slack.waitFor(() => h.slack.replies(id).length > 0, 'the stale-button reply');
    expect(messageText(h.slack.replies(id)[0] ?? {})).toMatch(STALE);
    // One line for the request, written once the answer is out: it says what happened.
    await h.slack.waitFor(
      () => h.logLines.some((l) => l.includes('no listener claims') && l.includes('nasha_retired_button')),
      'the request log line',
    );
  });

  it('a slash command this version does not handle: a clear reply, at once', async () => {
    const started = Date.now();
    const res = await postSigned(
      h.url,
      SIGNING_SECRET,
      slashCommandBody({ command: '/nasha-legacy', text: 'list', user_id: USERS.viewer, channel_id: CHANNELS.ops }),
    );
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(messageText(res.json() as Record<string, unknown>)).toMatch(
      /does not handle `\/nasha-legacy`.*\/nasha help/,
    );
  });

  it('a form: replaced by a notice, nothing changed', async () => {
    const before = h.sim.requests.filter((r) => r.method !== 'GET').length;
    const res = await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: 'nasha_modal_retired',
        private_metadata: '',
        state: { name: { name: textInput('x') } },
      }),
    );
    expect(res.status).toBe(200);
    const answer = res.json() as { response_action?: string; view?: unknown };
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view)).toMatch(STALE);
    expect(h.sim.requests.filter((r) => r.method !== 'GET').length).toBe(before);
  });

  it('a type-ahead of an unknown field: no options, at once', async () => {
    const res = await h.interact(
      blockSuggestion(USERS.admin, 'retired_field', 'zp', { callback_id: MODAL.main, private_metadata: '' }),
    );
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ options: [] });
  });

  it('a form closed (nothing listens for that): acknowledged at once', async () => {
    const started = Date.now();
    const res = await h.interact({
      type: 'view_closed',
      user: { id: USERS.admin, name: 'a' },
      team: { id: 'T1', domain: 'acme' },
      view: { id: 'V1', callback_id: MODAL.main, private_metadata: '' },
      is_cleared: false,
    });
    expect([res.status, res.body]).toEqual([200, '']);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('shortcuts: acknowledged, and a notice opens in a modal', async () => {
    const opened = h.slack.callsTo('views.open').length;
    const global = await h.interact(
      globalShortcutPayload({
        user: { id: USERS.operator, name: 'o' },
        callbackId: 'nasha_retired_shortcut',
        triggerId: '1337.50.abc',
        actionTs: '1700000002.000100',
      }),
    );
    const onMessage = await h.interact(
      messageShortcutPayload({
        user: { id: USERS.operator, name: 'o' },
        callbackId: 'nasha_retired_message_shortcut',
        channel: { id: CHANNELS.incident, name: 'incident' },
        message: { ts: '1700000000.000100', text: 'db is down', userId: USERS.viewer },
        responseUrl: h.slack.responseUrl('retired-shortcut'),
        triggerId: '1337.51.abc',
        actionTs: '1700000002.000200',
      }),
    );
    expect([global.status, onMessage.status]).toEqual([200, 200]);
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length === opened + 2, 'two notices');
    for (const call of h.slack.callsTo('views.open').slice(opened)) expect(JSON.stringify(call.args)).toMatch(STALE);
  });

  it('claimed interactions are still answered by their own listener only (no double acknowledgement)', async () => {
    const id = 'page-button';
    const res = await h.interact(
      buttonClick({
        user: USERS.viewer,
        channel: CHANNELS.ops,
        actionId: `${PAGE_ACTION}_next`,
        value: JSON.stringify({ view: 'partitions', service: 'zpool-128310', page: 1 }),
        responseUrl: h.slack.responseUrl(id),
      }),
    );
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.replies(id).length > 0, 'the page');
    expect(messageText(h.slack.replies(id)[0] ?? {})).not.toMatch(STALE);
    const options = await h.interact(
      blockSuggestion(USERS.admin, FIELD.service, 'zpool', { callback_id: MODAL.main, private_metadata: '' }),
    );
    expect(options.status).toBe(200);
    expect(failures()).toEqual([]);
  });
});
