import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../src/sandbox/slack-api.js';
import { forEachBackend } from '../store/test-database.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  type BotHarnessOptions,
  messageText,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick, textInput, viewSubmission } from '../support/slack-payloads.js';

const MINUTE = 60_000;

/** Deletes need one approver from S0STORAGE; reminders at 30 min, 90, 210; escalated to S0LEADS at 60 min; 4 h ttl. */
const REMINDER_CONFIG = TEST_CONFIG.replace(
  `  channel: ${APPROVALS_CHANNEL}\n`,
  `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    snapshot.delete: { approver_groups: [S0STORAGE], remind_after: 30m, escalate_to: [S0LEADS], escalate_after: 1h, ttl: 4h }\n`,
);

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

async function start(options: BotHarnessOptions = {}): Promise<BotHarness> {
  h = await startBotHarness({
    config: REMINDER_CONFIG,
    autoAdvance: false,
    ...options,
    overrides: { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 }, ...options.overrides },
  });
  h.slack.groups.set('S0STORAGE', [USERS.approver]);
  h.slack.groups.set('S0LEADS', [USERS.admin]);
  return h;
}

/** Files a delete as the operator; returns the request id. */
async function requestDelete(name: string): Promise<string> {
  const { id } = await h.command(`snapshot delete zpool-204117/db/${name} --reason "no longer needed"`, {
    user: USERS.operator,
  });
  const texts = await h.replies(id, (t) => t.some((x) => x.startsWith('Pending approval #')));
  const pending = texts.find((x) => x.startsWith('Pending approval #')) ?? '';
  return pending.slice('Pending approval #'.length, 'Pending approval #'.length + 6);
}

const channelMessages = (): StoredMessage[] => h.slack.messages.get(APPROVALS_CHANNEL) ?? [];

/** The card's message in the approvals channel (not a reply). */
function cardOf(requestId: string): StoredMessage | undefined {
  // Found by the notification key in its metadata (the text is in the channel's language).
  return channelMessages().find(
    (m) => m.thread_ts === undefined && JSON.stringify(m.metadata ?? {}).includes(`"approval:${requestId}:card"`),
  );
}

/** The replies in the card's thread, oldest first, as text. */
function thread(requestId: string): string[] {
  const card = cardOf(requestId);
  if (card === undefined) return [];
  return channelMessages()
    .filter((m) => m.thread_ts === card.ts)
    .map((m) => messageText({ text: m.text, blocks: m.blocks }));
}

const reminders = (requestId: string) => thread(requestId).filter((t) => t.includes(':bell:'));
const escalations = (requestId: string) => thread(requestId).filter((t) => t.includes(':rotating_light:'));
const dms = (user: string) => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === user);

/** Moves virtual time in steps (each lets the sweep and the outbox run), `ms` in all. */
async function advance(ms: number, step = 5 * MINUTE): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    h.clock.advance(Math.min(step, left));
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
}

async function approve(user: string, requestId: string): Promise<void> {
  const replyId = randomUUID();
  const res = await h.interact(
    buttonClick({
      user,
      channel: APPROVALS_CHANNEL,
      actionId: 'nasha_approval_approve',
      value: requestId,
      responseUrl: h.slack.responseUrl(replyId),
    }),
  );
  expect(res.status).toBe(200);
  await h.slack.waitFor(() => h.slack.replies(replyId).length > 0, 'the answer to approve');
}

describe('reminders and escalation in the card thread', () => {
  it('reminds at remind_after, then doubling; escalates once with a DM; nothing after expiry', async () => {
    await start();
    const id = await requestDelete('snap-db-keep');
    await h.slack.waitFor(() => cardOf(id) !== undefined, 'the card');

    await advance(30 * MINUTE - 1_000);
    await settle();
    expect(reminders(id)).toEqual([]);
    await advance(2_000);
    await h.slack.waitFor(() => reminders(id).length === 1, 'the first reminder');
    const first = reminders(id)[0] ?? '';
    expect(first).toContain('Reminder 1');
    expect(first).toContain('<!subteam^S0STORAGE>');
    expect(first).not.toMatch(/<!channel>|<!here>|<!everyone>|S0LEADS/);

    // Escalation at 1 h: S0LEADS is mentioned in the thread, and the requester is told.
    await advance(30 * MINUTE);
    await h.slack.waitFor(() => escalations(id).length === 1, 'the escalation');
    expect(escalations(id)[0]).toContain('<!subteam^S0LEADS>');
    await h.slack.waitFor(() => dms(USERS.operator).length === 1, 'the escalation DM');
    expect(messageText(dms(USERS.operator)[0]?.args ?? {})).toContain('escalated');
    expect(reminders(id)).toHaveLength(1);

    // The second reminder 60 min after the first (90 min), naming both groups; the third 120 min later.
    await advance(30 * MINUTE - 5 * MINUTE);
    await settle();
    expect(reminders(id)).toHaveLength(1);
    await advance(5 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 2, 'the second reminder');
    expect(reminders(id)[1]).toMatch(/Reminder 2.*<!subteam\^S0STORAGE>.*<!subteam\^S0LEADS>/s);
    await advance(115 * MINUTE);
    await settle();
    expect(reminders(id)).toHaveLength(2);
    await advance(5 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 3, 'the third reminder');

    // Expiry at 4 h: the end goes in the thread, and nothing more is sent.
    await advance(30 * MINUTE);
    await h.slack.waitFor(() => thread(id).some((t) => t.includes('Expired')), 'the expiry in the thread');
    await advance(24 * 60 * MINUTE, 60 * MINUTE);
    await settle();
    expect(reminders(id)).toHaveLength(3);
    expect(escalations(id)).toHaveLength(1);
    expect(dms(USERS.operator).filter((c) => messageText(c.args).includes('escalated'))).toHaveLength(1);
  });

  it('puts each vote and the end in the thread, and reminds no more once decided', async () => {
    await start();
    const id = await requestDelete('snap-db-keep');
    await advance(30 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 1, 'the first reminder');
    await approve(USERS.approver, id);
    // The OVH task runs in virtual time.
    for (let i = 0; i < 40 && !thread(id).some((t) => /Approved → done/.test(t)); i++) await advance(1_000);
    await h.slack.waitFor(() => thread(id).some((t) => /Approved → done/.test(t)), 'the end in the thread');
    const replies = thread(id);
    expect(replies.findIndex((t) => t.includes('Approved by <@U0APPROVER> (1 of 1)'))).toBeGreaterThan(0);
    await advance(10 * 60 * MINUTE, 30 * MINUTE);
    await settle();
    expect(reminders(id)).toHaveLength(1);
    expect(escalations(id)).toHaveLength(0);
    expect(dms(USERS.operator).filter((c) => messageText(c.args).includes('escalated'))).toHaveLength(0);
  });

  it('puts a rejection with its reason, and a cancellation, in the thread; no reminder after either', async () => {
    await start();
    const rejected = await requestDelete('snap-db-keep');
    const cancelled = await requestDelete('snap-db-month-end');
    const replyId = randomUUID();
    await h.interact(
      buttonClick({
        user: USERS.approver,
        channel: APPROVALS_CHANNEL,
        actionId: 'nasha_approval_reject',
        value: rejected,
        responseUrl: h.slack.responseUrl(replyId),
      }),
    );
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > 0, 'the reject form');
    const form = h.slack.callsTo('views.open').at(-1)?.args['view'] as {
      callback_id: string;
      private_metadata: string;
    };
    await h.interact(
      viewSubmission(USERS.approver, {
        ...form,
        state: { reason: { reason: textInput('we still need it for the audit') } },
      }),
    );
    await h.slack.waitFor(() => thread(rejected).some((t) => t.includes('Rejected')), 'the rejection in the thread');
    expect(thread(rejected).at(-1)).toContain('<@U0APPROVER>');
    expect(thread(rejected).at(-1)).toContain('we still need it for the audit');
    await h.interact(
      buttonClick({
        user: USERS.operator,
        channel: APPROVALS_CHANNEL,
        actionId: 'nasha_approval_cancel',
        value: cancelled,
        responseUrl: h.slack.responseUrl(randomUUID()),
      }),
    );
    await h.slack.waitFor(() => thread(cancelled).some((t) => t.includes('Cancelled')), 'the cancellation');
    await advance(5 * 60 * MINUTE, 30 * MINUTE);
    await settle();
    expect([...reminders(rejected), ...reminders(cancelled), ...escalations(rejected)]).toEqual([]);
  });

  it('names the approvers by their grants when the rule names no approver group, never @channel', async () => {
    await start({ config: TEST_CONFIG });
    const id = await requestDelete('snap-db-keep');
    await advance(30 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 1, 'the first reminder');
    const first = reminders(id)[0] ?? '';
    // Approvers and admins whose scope covers zpool-204117/db; not the requester, not the viewer.
    for (const user of [USERS.admin, USERS.approver, USERS.approver2, USERS.scopedApprover]) {
      expect(first).toContain(`<@${user}>`);
    }
    expect(first).not.toMatch(/<!channel>|<!here>|<!everyone>|U0OPER|U0VIEW/);
  });

  it("speaks the approvals channel's language in the thread, and the requester's in the escalation DM", async () => {
    const french = REMINDER_CONFIG.replace(
      '  - id: C0GENERAL\n    max_role: viewer\n',
      `  - id: C0GENERAL\n    max_role: viewer\n  - id: ${APPROVALS_CHANNEL}\n    language: fr\n`,
    );
    await start({ config: french });
    h.slack.users.set(USERS.operator, { name: 'carol', locale: 'en-US', tz: 'Europe/London' });
    const id = await requestDelete('snap-db-keep');
    await advance(60 * MINUTE);
    await h.slack.waitFor(() => escalations(id).length === 1, 'the escalation');
    expect(reminders(id)[0]).toContain('Rappel 1\u00a0: la demande');
    expect(escalations(id)[0]).toContain('elle est transmise à <!subteam^S0LEADS>');
    await h.slack.waitFor(() => dms(USERS.operator).length === 1, 'the escalation DM');
    expect(messageText(dms(USERS.operator)[0]?.args ?? {})).toContain('it was escalated to <!subteam^S0LEADS>');
  });

  it('survives a restart: a reminder claimed before is not sent again, the next one comes on time', async () => {
    await start();
    const id = await requestDelete('snap-db-keep');
    await advance(30 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 1, 'the first reminder');
    await h.restart({ outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } });
    await settle();
    expect(reminders(id)).toHaveLength(1);
    await advance(55 * MINUTE);
    await settle();
    expect(reminders(id)).toHaveLength(1);
    await advance(5 * MINUTE);
    await h.slack.waitFor(() => reminders(id).length === 2, 'the second reminder after the restart');
    expect(escalations(id)).toHaveLength(1);
  });
});

describe('reminders across two replicas sharing one store', () => {
  forEachBackend((backend) => {
    it('each reminder and the escalation are sent once, whichever replica sweeps', async () => {
      const store = await backend.open();
      await start({ env: 'databaseUrl' in store ? { databaseUrl: store.databaseUrl } : { dataDir: store.dataDir } });
      // A second replica: the same composition root, store, Slack and virtual clock.
      await h.replica();
      const id = await requestDelete('snap-db-keep');
      await advance(30 * MINUTE);
      await h.slack.waitFor(() => reminders(id).length >= 1, 'the first reminder');
      await advance(60 * MINUTE);
      await h.slack.waitFor(() => reminders(id).length >= 2, 'the second reminder');
      await settle();
      expect(reminders(id).map((t) => /Reminder (\d)/.exec(t)?.[1])).toEqual(['1', '2']);
      expect(escalations(id)).toHaveLength(1);
      expect(dms(USERS.operator).filter((c) => messageText(c.args).includes('escalated'))).toHaveLength(1);
    }, 60_000);
  });
});
