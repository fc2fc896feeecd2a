import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL,
  AUDIT_CHANNEL,
  type BotHarness,
  CHANNELS,
  messageText,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { controlCall } from '../support/ovh-signing.js';
import { buttonClick, select, staticSelect, viewSubmission } from '../support/slack-payloads.js';
import { postSigned, slashCommandBody } from '../support/slack-requests.js';

/**
 * The workspace default is French and the audit and approvals channels read English. Slack says the admin reads
 * French (fr-FR, Paris) and the approver English (en-US); the viewer has no profile Slack can give
 * (user_not_found), so the default applies.
 */
const CONFIG = `${TEST_CONFIG.replace(
  '  - id: C0GENERAL\n    max_role: viewer\n',
  `  - id: C0GENERAL\n    max_role: viewer\n  - id: ${AUDIT_CHANNEL}\n    language: en\n  - id: ${APPROVALS_CHANNEL}\n    language: en\n`,
)}language: fr\n`;

type View = { callback_id: string; private_metadata: string; title: { text: string }; submit?: { text: string } };

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: CONFIG });
  h.slack.users.set(USERS.admin, { name: 'camille', locale: 'fr-FR', tz: 'Europe/Paris' });
  h.slack.users.set(USERS.approver, { name: 'bob', locale: 'en-US', tz: 'America/New_York' });
  h.slack.users.set(USERS.operator, { name: 'oscar', locale: 'fr-CA', tz: 'America/Toronto' });
});
afterAll(async () => {
  await h?.close();
});

async function reply(text: string, user: string, done: (texts: string[]) => boolean): Promise<string> {
  const { ack, id } = await h.command(text, { user });
  expect(ack.status).toBe(200);
  const replies = await h.replies(id, done);
  return replies.at(-1) ?? '';
}

async function openForm(user: string): Promise<View> {
  const opened = h.slack.callsTo('views.open').length;
  const { ack } = await h.command('snapshot', { user });
  expect(ack.status).toBe(200);
  await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opened, 'views.open');
  return h.slack.callsTo('views.open').at(-1)?.args['view'] as View;
}

describe('each person reads the bot in their Slack language; channels in theirs', () => {
  it('help: French for a fr-FR user, English for an en-US user, the default (French) when Slack says nothing', async () => {
    const french = await reply('help', USERS.admin, (t) => t.some((x) => x.includes('Aide')));
    expect(french).toBe('Aide de nasha-bot');
    const english = await reply('help', USERS.approver, (t) => t.some((x) => x.includes('help')));
    expect(english).toBe('nasha-bot help');
    const byDefault = await reply('help', USERS.viewer, (t) => t.some((x) => x.includes('Aide')));
    expect(byDefault).toBe('Aide de nasha-bot');
    // fr-CA is French too.
    expect(await reply('help', USERS.operator, (t) => t.some((x) => x.includes('Aide')))).toBe('Aide de nasha-bot');
  });

  it('help’s blocks explain the same commands in French', async () => {
    const { id } = await h.command('help', { user: USERS.admin });
    await h.replies(id, (t) => t.includes('Aide de nasha-bot'));
    const shown = JSON.stringify(h.slack.replies(id).at(-1)?.['blocks']);
    expect(shown).toContain('Ce que vous pouvez faire ici.');
    expect(shown).toContain('`delete &lt;service&gt;/&lt;partition&gt;/&lt;nom&gt; [--reason &lt;motif&gt;]`');
    expect(shown).not.toContain('What you can do here');
  });

  it('can-i answers in the asker’s language', async () => {
    const french = await reply('can-i create zpool-128310/data', USERS.admin, (t) =>
      t.some((x) => /^(Oui|Non)/.test(x)),
    );
    expect(french).toMatch(/^Oui\u00a0: vous pouvez lancer create sur/);
    const english = await reply('can-i create zpool-128310/data', USERS.approver, (t) =>
      t.some((x) => /^(Yes|No)/.test(x)),
    );
    expect(english).toMatch(/^Yes: you can run create on/);
  });

  it('a grammar error is answered at once, in French, with the same command words', async () => {
    const { ack } = await h.command('snapshot lsit', { user: USERS.admin });
    const said = ack.json() as { text: string };
    expect(said.text).toBe('Commande inconnue\u00a0: `lsit`. Vouliez-vous dire `list`\u202f? Essayez `/nasha help`.');
    const { ack: english } = await h.command('snapshot lsit', { user: USERS.approver });
    expect((english.json() as { text: string }).text).toBe(
      'Unknown command `lsit`. Did you mean `list`? Try `/nasha help`.',
    );
  });

  it('forms: the French user’s form and its next step are French; the English user’s are English', async () => {
    const french = await openForm(USERS.admin);
    expect(french.title.text).toBe('Instantanés NAS-HA');
    expect(french.submit?.text).toBe('Suivant');
    const english = await openForm(USERS.approver);
    expect(english.title.text).toBe('NAS-HA snapshots');

    const next = await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: french.callback_id,
        private_metadata: french.private_metadata,
        state: {
          service: { service: select('zpool-128310') },
          partition: { partition: select('logs') },
          action: { action: staticSelect('create') },
        },
      }),
    );
    const update = next.json() as { response_action: string; view: View };
    expect(update.view.callback_id).toBe('nasha_modal_create');
    expect(update.view.title.text).toBe('Créer un instantané');
    expect(JSON.stringify(update.view)).toContain('Dans 30m, 12h, 7j, 2sem ou 1j12h');

    // The form's inline errors are French.
    const missing = await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: french.callback_id,
        private_metadata: french.private_metadata,
        state: { service: { service: select('zpool-128310') } },
      }),
    );
    expect(missing.json()).toMatchObject({
      response_action: 'errors',
      errors: { partition: 'Choisissez une partition.', action: 'Choisissez une action.' },
    });
  });

  it('asks Slack once per person (cached), with include_locale', () => {
    const asked = h.slack.callsTo('users.info');
    const perUser = new Map<string, number>();
    for (const call of asked) perUser.set(String(call.args['user']), (perUser.get(String(call.args['user'])) ?? 0) + 1);
    expect(perUser.get(USERS.admin)).toBe(1);
    expect(perUser.get(USERS.approver)).toBe(1);
    expect(asked.every((call) => call.args['include_locale'] === 'true')).toBe(true);
  });

  it('a French create with a French duration: the result is French, the audit channel (configured en) English', async () => {
    const posted = h.auditMessages().length;
    const { ack, id } = await h.command('snapshot create zpool-128310/data depuis-fr --expires 7j', {
      user: USERS.admin,
    });
    expect((ack.json() as { text: string }).text).toBe('En cours\u00a0: un instantané de `zpool-128310/data`…');
    const replies = await h.replies(id, (t) => t.some((x) => x.startsWith('Fait')));
    expect(replies.at(-1)).toBe('Fait\u00a0: créer l’instantané `depuis-fr` sur `zpool-128310/data`');
    const shown = JSON.stringify(h.slack.replies(id).at(-1)?.['blocks']);
    expect(shown).toContain(':white_check_mark: Fait\u00a0: Créer l’instantané `depuis-fr` sur `zpool-128310/data`.');
    expect(shown).toMatch(/La tâche OVH `\d+` est terminée\./);
    expect(shown).not.toMatch(/Done|OVH task/);
    await h.slack.waitFor(() => h.auditMessages().length > posted, 'the audit message');
    const audit = messageText(h.auditMessages().at(-1)?.args ?? {});
    expect(audit).toContain('depuis-fr');
    expect(audit).toMatch(/Create snapshot/);
    expect(audit).not.toMatch(/Instantané|instantané|Création/);
    const created = h.sim.requests.find((r) => r.method === 'POST' && r.path.endsWith('/data/customSnapshot'));
    expect(created?.status).toBe(200);
  });

  it('a refused change is explained to the fr-FR user in French; the audit record reads English', async () => {
    const posted = h.auditMessages().length;
    // The general channel allows viewers only: the admin's create is refused there, and audited.
    const { id } = await h.command('snapshot create zpool-128310/data pas-ici', {
      user: USERS.admin,
      channel: CHANNELS.general,
    });
    const replies = await h.replies(id, (t) => t.some((x) => x.startsWith('Vous devez')));
    expect(replies.at(-1)).toBe(
      'Vous devez avoir le rôle operator sur `zpool-128310/data`\u00a0: ce canal autorise au plus viewer (plafond du canal).',
    );
    const shown = JSON.stringify(h.slack.replies(id).at(-1)?.['blocks']);
    expect(shown).toContain(':no_entry: Vous devez avoir le rôle *operator* sur `zpool-128310/data`');
    await h.slack.waitFor(() => h.auditMessages().length > posted, 'the audit message');
    const audit = messageText(h.auditMessages().at(-1)?.args ?? {});
    expect(audit).toContain('Denied');
    expect(audit).toContain(
      'You need *operator* on `zpool-128310/data`: this channel allows at most *viewer* (channel cap).',
    );
    expect(audit).not.toMatch(/Vous|rôle|canal/);
  });

  it('an impossible date is refused in French, the calendar’s facts in French; audited in English', async () => {
    const posted = h.auditMessages().length;
    const { id } = await h.command('snapshot create zpool-128310/data fevrier --expires 2027-02-30', {
      user: USERS.admin,
    });
    const replies = await h.replies(id, (t) => t.some((x) => x.startsWith('L’expiration')));
    expect(replies.at(-1)).toBe(
      'L’expiration `2027-02-30` n’est pas une date réelle\u00a0: février 2027 compte 28 jours.',
    );
    await h.slack.waitFor(() => h.auditMessages().length > posted, 'the audit message');
    const audit = messageText(h.auditMessages().at(-1)?.args ?? {});
    expect(audit).toContain('Invalid input: nothing changed');
    expect(audit).toContain('The expiration `2027-02-30` is not a real date: February 2027 has 28 days.');
  });

  it('a command Slack delivers twice is run once; the copy is answered in the sender’s language', async () => {
    const id = randomUUID();
    const body = slashCommandBody({
      text: 'snapshot list zpool-128310/data',
      user_id: USERS.admin,
      response_url: h.slack.responseUrl(id),
    });
    const first = await postSigned(h.url, SIGNING_SECRET, body);
    expect((first.json() as { text: string }).text).toBe('En cours\u00a0: les instantanés de `zpool-128310/data`…');
    const copy = await postSigned(h.url, SIGNING_SECRET, body);
    expect(copy.json()).toMatchObject({
      response_type: 'ephemeral',
      text: 'Cette requête a déjà été reçue\u00a0: elle n’a pas été exécutée une seconde fois.',
    });
  });
  it('an approval: the French requester is answered and told the outcome in French; the card (channel en) is English', async () => {
    const { id: replyId } = await h.command(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason "faire de la place"',
      { user: USERS.admin },
    );
    const pending = (await h.replies(replyId, (t) => t.some((x) => x.startsWith('Approbation en attente')))).at(-1);
    const id = /#(\S+)$/.exec(pending ?? '')?.[1];
    if (id === undefined) throw new Error(`no approval request: ${pending}`);
    expect(JSON.stringify(h.slack.replies(replyId).at(-1)?.['blocks'])).toContain('demande une approbation');
    const cardOf = () =>
      h.slack.calls
        .filter(
          (c) =>
            (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args['channel'] === APPROVALS_CHANNEL,
        )
        .map((c) => messageText(c.args))
        .filter((text) => text.includes(`#${id}`))
        .at(-1) ?? '';
    await h.slack.waitFor(() => cardOf().includes('Waiting for approval'), 'the English card');
    expect(cardOf()).not.toMatch(/approbation|Approuver/);

    const answer = randomUUID();
    await h.interact(
      buttonClick({
        user: USERS.approver,
        channel: APPROVALS_CHANNEL,
        actionId: 'nasha_approval_approve',
        value: id,
        responseUrl: h.slack.responseUrl(answer),
      }),
    );
    await h.slack.waitFor(() => h.slack.replies(answer).length > 0, 'the approver’s answer');
    expect(messageText(h.slack.replies(answer)[0] ?? {})).toContain(`You approved #${id}`);
    await h.slack.waitFor(() => cardOf().includes('Approved → done'), 'the card’s final state, in English');
    const dms = () => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === USERS.admin);
    await h.slack.waitFor(() => dms().length > 0, 'the DM to the requester');
    const dm = messageText(dms()[0]?.args ?? {});
    expect(dm).toContain(`Votre demande #${id}`);
    expect(dm).toContain('Approuvée → faite');
    expect(dm).not.toMatch(/Your request|done/);
  });
});

/**
 * The other way round: the workspace default is English, and the audit, approvals, alerts and incident channels read
 * French.
 * The people (admin, approver, operator) read English in their DMs and replies, in their own time zone.
 */
const ALERTS = 'C0ALERTS';
const FRENCH_CHANNELS = `${TEST_CONFIG.replace(
  '  - id: C0GENERAL\n    max_role: viewer\n',
  `  - id: C0GENERAL\n    max_role: viewer\n${[AUDIT_CHANNEL, APPROVALS_CHANNEL, ALERTS, CHANNELS.incident]
    .map((id) => `  - id: ${id}\n    language: fr\n`)
    .join('')}`,
)}language: en
protection:
  alerts_channel: ${ALERTS}
  policies:
    - name: production
      targets: ["zpool-128310/data"]
      frequencies: [hour-1, day-1, day-7]
`;

describe('channels configured in French; English people stay English', () => {
  let g: BotHarness;
  beforeAll(async () => {
    g = await startBotHarness({ config: FRENCH_CHANNELS });
    for (const [id, name] of [
      [USERS.admin, 'alice'],
      [USERS.approver, 'bob'],
      [USERS.operator, 'carol'],
    ] as const) {
      g.slack.users.set(id, { name, locale: 'en-US', tz: 'America/New_York' });
    }
  });
  afterAll(async () => {
    await g?.close();
  });

  const posts = (channel: string) =>
    g.slack.calls
      .filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args['channel'] === channel)
      .map((c) => messageText(c.args));

  it('an approval: the card and the audit are French, the English requester’s reply and DM English', async () => {
    const { id: replyId } = await g.command(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason "free space"',
      { user: USERS.admin },
    );
    const pending = (await g.replies(replyId, (t) => t.some((x) => x.startsWith('Pending approval')))).at(-1);
    const id = /#(\S+)$/.exec(pending ?? '')?.[1];
    if (id === undefined) throw new Error(`no approval request: ${pending}`);
    const cardOf = () =>
      posts(APPROVALS_CHANNEL)
        .filter((text) => text.includes(`#${id}`))
        .at(-1) ?? '';
    await g.slack.waitFor(() => cardOf().includes('En attente d’approbation'), 'the French card');
    expect(cardOf()).toContain('Approuver');
    expect(cardOf()).not.toMatch(/Waiting for approval|"Approve"/);
    // The card's times are Slack's date tokens: each member of the channel sees their own time zone.
    expect(cardOf()).toContain('<!date^');

    const answer = randomUUID();
    await g.interact(
      buttonClick({
        user: USERS.approver,
        channel: APPROVALS_CHANNEL,
        actionId: 'nasha_approval_approve',
        value: id,
        responseUrl: g.slack.responseUrl(answer),
      }),
    );
    await g.slack.waitFor(() => g.slack.replies(answer).length > 0, 'the approver’s answer');
    expect(messageText(g.slack.replies(answer)[0] ?? {})).toContain(`You approved #${id}`);
    await g.slack.waitFor(() => cardOf().includes('Approuvée → faite'), 'the card’s final state, in French');
    const dms = () => g.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === USERS.admin);
    await g.slack.waitFor(() => dms().length > 0, 'the DM to the requester');
    const dm = messageText(dms()[0]?.args ?? {});
    expect(dm).toContain(`Your request #${id}`);
    expect(dm).not.toMatch(/Votre|Approuvée/);
    await g.slack.waitFor(
      () => posts(AUDIT_CHANNEL).some((text) => text.includes('Suppression d’instantané') && text.includes('Réussi')),
      'the French audit message',
    );
    expect(posts(AUDIT_CHANNEL).join('\n')).not.toMatch(/Delete snapshot|Succeeded/);
  });

  it('an incident quick snapshot: the summary in the French channel, the English asker’s answer in English', async () => {
    const { id } = await g.command('snapshot quick zpool-204117 inc-fr', {
      user: USERS.operator,
      channel: CHANNELS.incident,
    });
    const answer = (await g.replies(id, (t) => t.length > 0)).join('\n');
    expect(answer).toContain('Quick snapshots: the summary is in this channel.');
    const summary = () =>
      posts(CHANNELS.incident)
        .filter((text) => text.includes('inc-fr'))
        .at(-1) ?? '';
    await g.slack.waitFor(() => summary().includes('Instantanés d’incident — '), 'the French summary, finished');
    expect(summary()).not.toMatch(/Quick snapshots|done/);
  });

  it('a protection alert is French, its Fix worded from the gate; status and restore answer the English user in their zone', async () => {
    const protection = g.bot.protection;
    if (protection === undefined) throw new Error('protection is not running');
    const drift = await controlCall(g.sim, 'POST', '/partitions/zpool-128310/data', { scheduled: ['hour-1', 'day-1'] });
    expect(drift.status).toBe(200);
    await protection.scanNow();
    await protection.scanNow();
    await g.slack.waitFor(() => posts(ALERTS).length > 0, 'the alert');
    const alert = posts(ALERTS).at(-1) ?? '';
    expect(alert).toContain('Des fréquences requises sont désactivées');
    expect(alert).toContain(
      'La fréquence `day-7` n’est pas activée\u202f; la politique exige `hour-1`, `day-1` et `day-7`.',
    );
    // schedule.add needs no approval here: the Fix runs at once with the table's role for it.
    expect(alert).toContain('*Corriger* active `day-7` en votre nom (immédiatement avec le rôle *operator*).');
    expect(alert).toContain('Corriger\u00a0: activer day-7');
    expect(alert).not.toContain('avec approbation');
    expect(alert).toContain('<!date^');
    expect(alert).not.toMatch(/Required|Fix:|Policy /);

    const { id: statusId } = await g.command('snapshot status zpool-128310/data', {
      user: USERS.admin,
      channel: CHANNELS.ops,
    });
    await g.replies(statusId, (t) => t.some((x) => x.startsWith('Protection')));
    const status = messageText(g.slack.replies(statusId).at(-1) ?? {});
    expect(status).toContain('Policy `production`: requires `hour-1`, `day-1` and `day-7`');
    expect(status).toContain('`day-7` is not enabled');

    const { id: restoreId } = await g.command('snapshot restore zpool-128310/data --at 2h', {
      user: USERS.admin,
      channel: CHANNELS.ops,
    });
    await g.replies(restoreId, (t) => t.some((x) => x.startsWith('Restore help')));
    const restore = messageText(g.slack.replies(restoreId).at(-1) ?? {});
    expect(restore).toContain('/nasha snapshot create zpool-128310/data before-restore');
    // A reply to one person: their time zone, not Slack's tokens.
    expect(restore).not.toContain('<!date^');
    expect(restore).toMatch(/E[SD]T/);
  });
});
