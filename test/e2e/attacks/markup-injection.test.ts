import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageShortcutPayload } from '../../../src/sandbox/payloads.js';
import { APPROVAL_ACTION } from '../../../src/slack/blocks/approval-card.js';
import { MODAL } from '../../../src/slack/blocks/modals.js';
import { QUICK_ACTION, QUICK_FIELD, QUICK_MODAL, QUICK_SHORTCUT } from '../../../src/slack/blocks/quick-summary.js';
import { Arena, type Exchange, MARKUP, mrkdwnTexts } from '../../support/attack-arena.js';
import { APPROVALS_CHANNEL, AUDIT_CHANNEL, CHANNELS, USERS } from '../../support/bot-harness.js';
import { select, staticSelect, textInput } from '../../support/slack-payloads.js';

/**
 * Attack class: mention and markup injection (`<@U…>`, `<!channel>`, `<!subteam^…>`, `<#C…>`, links, `*bold*`,
 * backticks, pre-escaped `&lt;@U…&gt;`, `<!date…>`) in every field a person types — reason, reject reason, label,
 * snapshot name, quick label, schedule remove reason — on every surface (commands, forms, buttons, the shortcut).
 * Issue 13.1 from outside: typed text reaches the audit channel, the approval card, the requester's DM and the
 * sender's own reply, and is shown there literally (escaped, in a code span), never as a mention, ping, link or
 * formatting. The arena's check at the end covers every message of the file.
 */
let arena: Arena;
beforeAll(async () => {
  arena = await Arena.start();
});
afterAll(async () => {
  await arena?.close();
});

/** A reason that fits a button value (the "Delete oldest" label is at most 60 characters). */
const SHORT_MARKUP = '<@U0VICTIM> <!channel> *zbold* `ztick` <#C0VICTIM>';
/** How MARKUP's start looks once made inert: escaped, in a code span. */
const INERT = '`&lt;@U0VICTIM&gt; &lt;!channel&gt; &lt;!here&gt;';
/** SHORT_MARKUP made inert, inside the bot's own sentence (the whole reason is one code span). */
const INERT_SHORT = '&lt;@U0VICTIM&gt; &lt;!channel&gt; *zbold* ˋztickˋ &lt;#C0VICTIM&gt;';

/** The mrkdwn of every message posted or updated in a channel (or a DM: the user's id). */
function shownIn(channel: string): string[] {
  return arena.calls
    .filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args['channel'] === channel)
    .flatMap((c) => mrkdwnTexts(c.args));
}

/** The mrkdwn of everything said in answer to an exchange (ack, replies, forms). */
function shownTo(e: Exchange): string[] {
  return arena.saidTo(e).flatMap((v) => mrkdwnTexts(typeof v === 'string' ? safeJson(v) : v));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function shows(where: () => string[], inert: string, what: string): Promise<void> {
  await arena.waitFor(() => where().some((t) => t.includes(inert)), `${what} to show the typed text literally`);
}

describe('issue 13.1: typed text is inert in #audit, on cards, in DMs and in the sender’s reply', () => {
  let requestId = '';

  it('`delete --reason` with every markup construct: card, audit and reply show it literally', async () => {
    const e = await arena.command(
      'delete --reason',
      `snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason ${MARKUP}`,
      { user: USERS.operator },
    );
    await arena.waitFor(() => /#[A-Z0-9]{6}/.test(JSON.stringify(arena.replies(e))), 'the request');
    requestId = /#([A-Z0-9]{6})/.exec(JSON.stringify(arena.replies(e)))?.[1] ?? '';
    await shows(() => shownIn(APPROVALS_CHANNEL), INERT, 'the approval card');
    await shows(() => shownIn(AUDIT_CHANNEL), INERT, 'the audit record');
  });

  it('the reject form’s reason: the card, the audit and the requester’s DM show it literally', async () => {
    const click = await arena.interact(
      'setup: reject',
      arena.buttonPayload(USERS.approver, APPROVAL_ACTION.reject, requestId),
      { owed: 'reply' },
    );
    const form = await arena.openedView(click);
    const e = await arena.submit('reject reason', USERS.approver, {
      callback_id: MODAL.reject,
      private_metadata: form.private_metadata,
      state: { reason: { reason: textInput(`no: ${MARKUP}`) } },
    });
    expect(e.response).toBe('');
    const inert = '`no: &lt;@U0VICTIM&gt;';
    await shows(() => shownIn(USERS.operator), inert, 'the DM to the requester');
    await shows(() => shownIn(APPROVALS_CHANNEL), inert, 'the rejected card');
    await shows(() => shownIn(AUDIT_CHANNEL), inert, 'the audit record of the rejection');
  });

  it('the reason form (a delete without --reason)', async () => {
    const e = await arena.command('setup: delete without a reason', 'snapshot delete zpool-204117/db/snap-db-keep');
    const form = await arena.openedView(e);
    await arena.submit('reason form', USERS.admin, {
      callback_id: MODAL.reason,
      private_metadata: form.private_metadata,
      state: { reason: { reason: textInput(`form: ${MARKUP}`) } },
    });
    await shows(() => shownIn(APPROVALS_CHANNEL), '`form: &lt;@U0VICTIM&gt;', 'the approval card');
  });

  it('`schedule remove --reason`', async () => {
    await arena.command(
      'schedule remove --reason',
      `snapshot schedule remove zpool-204117/db day-1 --reason sr ${MARKUP}`,
    );
    await shows(() => shownIn(APPROVALS_CHANNEL), '`sr &lt;@U0VICTIM&gt;', 'the approval card');
    await shows(() => shownIn(AUDIT_CHANNEL), '`sr &lt;@U0VICTIM&gt;', 'the audit record');
  });

  it('`quick --reason`: the summary in the channel and the audit record', async () => {
    const name = 'quick --reason';
    arena.allow(name, 'POST', 'zpool-204117/partition/media/customSnapshot');
    await arena.command(name, `snapshot quick zpool-204117/media inc-1 --reason q ${MARKUP}`, {
      user: USERS.operator,
      channel: CHANNELS.incident,
    });
    await shows(() => shownIn(CHANNELS.incident), '`q &lt;@U0VICTIM&gt;', 'the quick summary');
    await shows(() => shownIn(AUDIT_CHANNEL), '`q &lt;@U0VICTIM&gt;', 'the audit record');
  });

  it('`create --reason` (no approval needed): the audit record', async () => {
    const name = 'create --reason';
    arena.allow(name, 'POST', 'zpool-128310/partition/logs/customSnapshot');
    await arena.command(name, `snapshot create zpool-128310/logs with-reason --reason c ${MARKUP}`);
    await arena.settle();
  });

  it.each([
    ['a mention', '<@U0VICTIM>'],
    ['@channel', '<!channel>'],
    ['@here', '<!here>'],
    ['a user group', '<!subteam^S0VICTIM>'],
    ['a channel', '<#C0VICTIM>'],
    ['a link', '<http://evil.example|x>'],
    ['bold', '*zbold*'],
    ['code', '`ztick`'],
    ['pre-escaped', '&lt;@U0VICTIM&gt;'],
  ])(
    'a snapshot name that fails validation, %s: the error reply and the audit record echo it literally',
    async (what, name) => {
      const e = await arena.command(`invalid name: ${what}`, `snapshot create zpool-128310/logs ${name}`);
      await arena.answersComplete();
      expect(shownTo(e).join('\n')).toMatch(/is not a valid snapshot name/);
    },
  );

  it.each([
    ['a mention', '<@U0VICTIM>'],
    ['@channel', '<!channel>'],
    ['bold', '*zbold*'],
    ['code', '`ztick`'],
    ['a link', '<http://evil.example|x>'],
  ])('a quick label, %s: made into a plain label, never markup', async (what, label) => {
    const name = `quick label: ${what}`;
    arena.allow(name, 'POST', 'zpool-204117/partition/uploads/customSnapshot', { min: 0, max: 1 });
    await arena.command(name, `snapshot quick zpool-204117/uploads ${label}`, { user: USERS.operator });
    await arena.answersComplete();
  });

  it('the quick form’s label and reason', async () => {
    const e = await arena.command('setup: a form for its metadata', 'snapshot', { user: USERS.operator });
    const metadata = (await arena.openedView(e)).private_metadata;
    const name = 'quick form label and reason';
    arena.allow(name, 'POST', 'zpool-204117/partition/scratch/customSnapshot');
    await arena.submit(name, USERS.operator, {
      callback_id: QUICK_MODAL,
      private_metadata: metadata,
      state: {
        [QUICK_FIELD.target]: { [QUICK_FIELD.target]: textInput('zpool-204117/scratch') },
        [QUICK_FIELD.label]: { [QUICK_FIELD.label]: textInput(MARKUP) },
        [QUICK_FIELD.reason]: { [QUICK_FIELD.reason]: textInput(`qf ${MARKUP}`) },
        [QUICK_FIELD.expiration]: { [QUICK_FIELD.expiration]: staticSelect('1d') },
      },
    });
    await shows(() => shownIn(AUDIT_CHANNEL), '`qf &lt;@U0VICTIM&gt;', 'the audit record');
  });

  it('a crafted "Delete oldest" label: the approval request’s reason shows it literally', async () => {
    const value = JSON.stringify({ s: 'zpool-128310', p: 'backups', n: 'snap-backups-week-01', l: SHORT_MARKUP });
    await arena.interact(
      'delete oldest label',
      arena.buttonPayload(USERS.operator, QUICK_ACTION.deleteOldest, value, CHANNELS.incident),
      {
        owed: 'reply',
      },
    );
    await shows(() => shownIn(APPROVALS_CHANNEL), INERT_SHORT, 'the approval card');
  });

  it('a channel named with markup, as the message shortcut’s label: a plain label in the form', async () => {
    const payload = messageShortcutPayload({
      user: { id: USERS.operator, name: 'o' },
      callbackId: QUICK_SHORTCUT.message,
      channel: { id: CHANNELS.incident, name: SHORT_MARKUP },
      message: { ts: '1700000000.000100', text: MARKUP, userId: USERS.viewer },
      responseUrl: arena.h.slack.responseUrl(randomUUID()),
      triggerId: `1337.${randomUUID()}`,
      actionTs: '1700000002.000200',
    });
    const e = await arena.interact('message shortcut', payload, { owed: 'reply' });
    const form = JSON.stringify(await arena.openedView(e));
    expect(form).not.toContain('<@U0VICTIM>');
  });

  it.each([
    ['an unknown command', MARKUP],
    ['can-i on a markup target', `can-i create ${SHORT_MARKUP}`],
    ['help with arguments', `help ${MARKUP}`],
    ['list of a markup target', 'snapshot list <!channel>/<@U0VICTIM>'],
    ['an expiry', 'snapshot create zpool-128310/logs x --expires <@U0VICTIM>'],
    ['a frequency', 'snapshot schedule add zpool-128310/logs <!channel>'],
    ['a quick target', 'snapshot quick <!subteam^S0VICTIM> x'],
  ])('echoed in the sender’s error reply, %s: literally', async (attack, text) => {
    await arena.command(`echo: ${attack}`, text);
  });

  it('the main form’s choices: a service value with markup is echoed literally', async () => {
    const e = await arena.command('setup: open the form', 'snapshot');
    const form = await arena.openedView(e);
    await arena.submit('main form with markup values', USERS.admin, {
      callback_id: MODAL.main,
      private_metadata: form.private_metadata,
      state: {
        service: { service: select(SHORT_MARKUP) },
        partition: { partition: select('<!channel>') },
        action: { action: staticSelect('list') },
      },
    });
  });
});

describe('after every attack of this file', () => {
  it('no ping from user text anywhere; typed words only inside code spans; nothing unauthorized written', async () => {
    expect(await arena.violations()).toEqual([]);
  });
});
