import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../src/sandbox/slack-api.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  CHANNELS,
  messageText,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick, homeOpened } from '../support/slack-payloads.js';
import { postSigned } from '../support/slack-requests.js';

/**
 * Break-glass end to end: signed slash commands and clicks into the real Bolt app, the local Web API, the
 * simulator behind node-ovh. Deletes need one approver; members of S0ONCALL (the operator) may run them at once.
 */
const GLASS_CONFIG = TEST_CONFIG.replace(
  `  channel: ${APPROVALS_CHANNEL}\n`,
  `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    snapshot.delete: { break_glass: { group: S0ONCALL } }\n`,
);
const SNAPSHOT = 'zpool-204117/db/snap-db-keep';
const REASON = 'the disk is full and payments are down';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

async function start(): Promise<BotHarness> {
  h = await startBotHarness({
    config: GLASS_CONFIG,
    overrides: { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } },
  });
  h.slack.groups.set('S0ONCALL', [USERS.operator]);
  return h;
}

const ovhDeletes = () => h.sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/snap-db-keep'));
const dms = (user: string) => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === user);
const channelMessages = (): StoredMessage[] => h.slack.messages.get(APPROVALS_CHANNEL) ?? [];
const reviewCard = (): StoredMessage | undefined =>
  channelMessages().find((m) => m.thread_ts === undefined && JSON.stringify(m.metadata ?? {}).includes('breakglass:'));
const cardText = () => {
  const card = reviewCard();
  return card === undefined ? '' : messageText({ text: card.text, blocks: card.blocks });
};
const thread = (): string[] => {
  const card = reviewCard();
  if (card === undefined) return [];
  return channelMessages()
    .filter((m) => m.thread_ts === card.ts)
    .map((m) => messageText({ text: m.text, blocks: m.blocks }));
};
const auditSays = (pattern: RegExp) => h.auditMessages().some((m) => pattern.test(messageText(m.args)));

/** The last reply on a command's response_url, as sent. */
function lastReply(id: string): Record<string, unknown> {
  return h.slack.replies(id).at(-1) ?? {};
}

/** Sends `/nasha …` and waits for its reply to settle past "working". */
async function command(text: string, user: string): Promise<string> {
  const { id } = await h.command(text, { user });
  await h.replies(id, (texts) => texts.some((t) => !t.includes('Working on')));
  return id;
}

/** Clicks a button as `user`; returns the id of the response_url its answers go to. */
async function click(user: string, actionId: string, value: string, channel: string): Promise<string> {
  const replyId = randomUUID();
  const res = await h.interact(
    buttonClick({ user, channel, actionId, value, responseUrl: h.slack.responseUrl(replyId) }),
  );
  expect(res.status).toBe(200);
  await h.slack.waitFor(() => h.slack.replies(replyId).length > 0, `an answer to ${actionId}`);
  return replyId;
}

/** `user` opens the App Home tab: the text of the tab published for them. */
async function homeOf(user: string): Promise<string> {
  const published = () => h.slack.callsTo('views.publish').filter((c) => c.args['user_id'] === user);
  const before = published().length;
  const res = await postSigned(h.url, SIGNING_SECRET, homeOpened(user), { contentType: 'application/json' });
  expect(res.status).toBe(200);
  await h.slack.waitFor(() => published().length > before, `the Home tab of ${user}`);
  return JSON.stringify(published().at(-1)?.args['view']);
}

/** The break-glass button in a confirm reply: its value and its confirm dialog. */
function glassButton(reply: Record<string, unknown>): { value: string; confirm: string } {
  const blocks = reply['blocks'] as Array<{ type: string; elements?: Array<Record<string, unknown>> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e['action_id'] === 'nasha_break_glass_run');
  if (button === undefined) throw new Error(`no break-glass button in ${JSON.stringify(reply)}`);
  return { value: String(button['value']), confirm: JSON.stringify(button['confirm']) };
}

describe('break-glass', () => {
  it('a member runs it after the confirm click; approvers told at once; audit marked; an approver acknowledges', async () => {
    await start();
    const id = await command(`snapshot delete ${SNAPSHOT} --reason "${REASON}" --break-glass`, USERS.operator);
    const offer = lastReply(id);
    expect(messageText(offer)).toContain('Break-glass');
    const button = glassButton(offer);
    expect(button.confirm).toContain('This runs now without approval and will be reviewed by the approvers afterwards');
    // Nothing runs before the click, and nobody was told yet.
    expect(ovhDeletes()).toHaveLength(0);
    expect(reviewCard()).toBeUndefined();

    const ran = await click(USERS.operator, 'nasha_break_glass_run', button.value, CHANNELS.ops);
    await h.slack.waitFor(() => /done/i.test(String(lastReply(ran)['text'] ?? '')), 'the change done');
    expect(ovhDeletes()).toHaveLength(1);

    // Every approver of the rule on the target gets a DM (never the one who ran it), and the approvals channel a card.
    const approvers = [USERS.admin, USERS.approver, USERS.approver2, USERS.scopedApprover];
    await h.slack.waitFor(() => approvers.every((u) => dms(u).length === 1), 'the approvers’ DMs');
    expect(messageText(dms(USERS.approver)[0]?.args ?? {})).toContain(REASON);
    expect(dms(USERS.operator).filter((c) => messageText(c.args).includes('break-glass'))).toHaveLength(0);
    expect(dms(USERS.viewer)).toHaveLength(0);
    await h.slack.waitFor(() => reviewCard() !== undefined, 'the review card');
    expect(cardText()).toContain('nasha_break_glass_ack');
    expect(cardText()).toContain(REASON);
    const reviewId = /Break-glass #([A-Z0-9]{6})/.exec(cardText())?.[1] ?? '';
    expect(reviewId).toMatch(/^[A-Z0-9]{6}$/);
    expect((await h.bot.breakGlass.listUnacknowledgedBreakGlass()).map((r) => r.id)).toEqual([reviewId]);
    // Awaiting review on the App Home of the approvers and of the one who ran it; not on a viewer's.
    for (const user of [USERS.approver, USERS.operator]) {
      expect(await homeOf(user)).toMatch(
        new RegExp(`Break-glass changes awaiting review\\* \\(1\\)[\\s\\S]*#${reviewId}`),
      );
    }
    expect(await homeOf(USERS.viewer)).not.toContain(`#${reviewId}`);

    // The audit record stands out, marked break-glass with the group.
    await h.slack.waitFor(
      () => auditSays(/:rotating_light: \*Break-glass\*: run without approval by a member of <!subteam\^S0ONCALL>/),
      'the break-glass audit line',
    );

    // A viewer's forged Acknowledge and the actor's own are refused, each audited.
    const forged = await click(USERS.viewer, 'nasha_break_glass_ack', reviewId, APPROVALS_CHANNEL);
    expect(messageText(lastReply(forged))).toMatch(/need \*approver\*/);
    const own = await click(USERS.operator, 'nasha_break_glass_ack', reviewId, APPROVALS_CHANNEL);
    expect(messageText(lastReply(own))).toContain('You ran this change yourself');
    await h.slack.waitFor(
      () => auditSays(/<@U0VIEW>.*Refused/s) && auditSays(/<@U0OPER>.*Refused/s),
      'the refused clicks in the audit channel',
    );
    expect(cardText()).toContain('nasha_break_glass_ack');

    // An approver acknowledges it: recorded once, the card rewritten, a reply in its thread.
    const acked = await click(USERS.approver, 'nasha_break_glass_ack', reviewId, APPROVALS_CHANNEL);
    expect(messageText(lastReply(acked))).toContain(`You acknowledged break-glass #${reviewId}`);
    await h.slack.waitFor(() => cardText().includes('Acknowledged by <@U0APPROVER>'), 'the card rewritten');
    expect(cardText()).not.toContain('nasha_break_glass_ack');
    await h.slack.waitFor(() => thread().some((t) => t.includes('Acknowledged by <@U0APPROVER>')), 'the thread reply');
    const again = await click(USERS.approver2, 'nasha_break_glass_ack', reviewId, APPROVALS_CHANNEL);
    expect(messageText(lastReply(again))).toContain('already acknowledged by <@U0APPROVER>');
    expect(await h.bot.breakGlass.listUnacknowledgedBreakGlass()).toEqual([]);
    expect(await homeOf(USERS.approver)).not.toContain('awaiting review');
    await h.slack.waitFor(() => auditSays(/acknowledged by <@U0APPROVER>/), 'the change’s record says who reviewed it');
    expect(ovhDeletes()).toHaveLength(1);
  });

  it('refused, and audited, for someone outside the group; a 19-character reason is refused; nothing runs', async () => {
    await start();
    const outsider = await command(`snapshot delete ${SNAPSHOT} --reason "${REASON}" --break-glass`, USERS.scoped);
    expect(messageText(lastReply(outsider))).toContain('Only members of <!subteam^S0ONCALL> may run');
    expect(messageText(lastReply(outsider))).not.toContain('nasha_break_glass_run');
    await h.slack.waitFor(() => auditSays(/<@U0SCOPED>.*Denied/s), 'the refusal in the audit channel');

    const short = await command(
      `snapshot delete ${SNAPSHOT} --reason "${'x'.repeat(19)}" --break-glass`,
      USERS.operator,
    );
    expect(messageText(lastReply(short))).toContain('at least 20 characters');
    expect(messageText(lastReply(short))).not.toContain('nasha_break_glass_run');

    // The member's button replayed by someone else: the signed value is not theirs, so nothing runs.
    const id = await command(`snapshot delete ${SNAPSHOT} --reason "${REASON}" --break-glass`, USERS.operator);
    const { value } = glassButton(lastReply(id));
    const replayed = await click(USERS.scoped, 'nasha_break_glass_run', value, CHANNELS.ops);
    expect(messageText(lastReply(replayed))).not.toMatch(/done/i);

    await new Promise((r) => setTimeout(r, 100));
    expect(ovhDeletes()).toHaveLength(0);
    expect(reviewCard()).toBeUndefined();
    expect(await h.bot.breakGlass.listUnacknowledgedBreakGlass()).toEqual([]);
  });

  it('help and can-i offer break-glass to the member only', async () => {
    await start();
    const member = await command('can-i delete zpool-204117/db', USERS.operator);
    expect(messageText(lastReply(member))).toContain('Or at once by break-glass');
    const other = await command('can-i delete zpool-204117/db', USERS.scoped);
    expect(messageText(lastReply(other))).not.toContain('break-glass');
    const help = await command('help', USERS.operator);
    expect(messageText(lastReply(help))).toContain('[--break-glass]');
    const otherHelp = await command('help', USERS.scoped);
    expect(messageText(lastReply(otherHelp))).not.toContain('--break-glass');
  });
});
