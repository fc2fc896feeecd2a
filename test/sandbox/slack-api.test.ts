import { afterEach, describe, expect, it } from 'vitest';
import { type AnsweredCall, LocalSlackApi } from '../../src/sandbox/slack-api.js';

let slack: LocalSlackApi | undefined;
afterEach(async () => {
  await slack?.stop();
});

async function call(method: string, body: object, token?: string) {
  const res = await fetch(`${slack?.apiUrl}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('the local Slack Web API', () => {
  it('checks the bot token as Slack does, and answers unknown methods like Slack when strict', async () => {
    slack = new LocalSlackApi({ botToken: 'xoxb-right', unknownMethods: 'error' });
    await slack.start();
    expect(await call('chat.postMessage', { channel: 'C1', text: 'hi' })).toEqual({ ok: false, error: 'not_authed' });
    expect(await call('chat.postMessage', { channel: 'C1', text: 'hi' }, 'xoxb-wrong')).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect(await call('chat.postMessage', { channel: 'C1', text: 'hi' }, 'xoxb-right')).toMatchObject({
      ok: true,
      channel: 'C1',
      ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
    });
    expect(await call('admin.users.remove', {}, 'xoxb-right')).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('answers users.info like Slack: the locale only with include_locale, user_not_found for strangers', async () => {
    slack = new LocalSlackApi();
    await slack.start();
    slack.users.set('U0FR', { name: 'camille', locale: 'fr-FR', tz: 'Europe/Paris' });
    expect(await call('users.info', { user: 'U0FR', include_locale: true })).toEqual({
      ok: true,
      user: { id: 'U0FR', name: 'camille', tz: 'Europe/Paris', locale: 'fr-FR' },
    });
    expect(await call('users.info', { user: 'U0FR' })).toEqual({
      ok: true,
      user: { id: 'U0FR', name: 'camille', tz: 'Europe/Paris' },
    });
    expect(await call('users.info', { user: 'U0WHO', include_locale: true })).toEqual({
      ok: false,
      error: 'user_not_found',
    });
  });

  it('tells listeners what the bot said and what Slack answered; a listener bug is not the bot’s problem', async () => {
    slack = new LocalSlackApi();
    await slack.start();
    const seen: AnsweredCall[] = [];
    slack.subscribe(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = slack.subscribe((c) => seen.push(c));
    const opened = await call('views.open', { trigger_id: 't1', view: { type: 'modal', title: { text: 'x' } } });
    expect(opened).toMatchObject({ ok: true, view: { id: 'V1', type: 'modal' } });
    const posted = await fetch(slack.responseUrl('r1'), { method: 'POST', body: JSON.stringify({ text: 'done' }) });
    expect(posted.status).toBe(200);
    const garbage = await fetch(slack.responseUrl('r2'), { method: 'POST', body: '{not json' });
    expect(garbage.status).toBe(400);
    expect(seen.map((c) => [c.method, c.answer['ok']])).toEqual([
      ['views.open', true],
      ['response_url', true],
    ]);
    expect(seen[1]?.args).toEqual({ text: 'done', url: '/response-url/r1' });
    unsubscribe();
    await call('auth.test', {});
    expect(seen).toHaveLength(2);
  });
});
