import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createNashaApi } from '../../src/ovh/index.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  type BotHarnessOptions,
  CHANNELS,
  messageText,
  startBotHarness,
  TEST_CONFIG,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import { simulatorConfig } from '../support/ovh-harness.js';
import { buttonClick, textInput, viewSubmission } from '../support/slack-payloads.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const QUORUM_2_CONFIG = TEST_CONFIG.replace(
  `  channel: ${APPROVALS_CHANNEL}\n`,
  `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    schedule.remove: { quorum: 2, ttl: 30m }\n`,
);

async function start(options: BotHarnessOptions = {}): Promise<BotHarness> {
  // Without auto-advance, nothing may wait on the clock for pacing, or shutdown would wait too.
  const outbox =
    options.autoAdvance === false
      ? { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } }
      : {};
  h = await startBotHarness({ config: TEST_CONFIG, ...options, overrides: { ...outbox, ...options.overrides } });
  return h;
}

/**
 * Opens `/nasha snapshot` as `user` (the operator) in #ops, picks `service`/`partition` (zpool-204117) and
 * `action`: the next form (from `views.update`, or the ack for the create form).
 */
async function openForm(
  partition: string,
  action: 'delete' | 'schedule' | 'create',
  { user = USERS.operator, service = 'zpool-204117' }: { user?: string; service?: string } = {},
): Promise<View> {
  const opened = h.slack.callsTo('views.open').length;
  const updated = h.slack.callsTo('views.update').length;
  const { ack } = await h.command('snapshot', { user, channel: CHANNELS.ops });
  expect(ack.status).toBe(200);
  await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opened, 'the form');
  const main = h.slack.callsTo('views.open').at(-1)?.args['view'] as View;
  const next = await h.interact(
    viewSubmission(user, {
      ...main,
      state: {
        service: { service: { type: 'external_select', selected_option: { value: service } } },
        partition: { partition: { type: 'external_select', selected_option: { value: partition } } },
        action: { action: { type: 'static_select', selected_option: { value: action } } },
      },
    }),
  );
  if (action === 'create') return (next.json() as { view: View }).view;
  let form: View | undefined;
  await h.slack.waitFor(() => {
    form = h.slack
      .callsTo('views.update')
      .slice(updated)
      .map((c) => c.args['view'] as View)
      .find((v) => v.callback_id === `nasha_modal_${action}`);
    return form !== undefined;
  }, `the ${action} form`);
  return form as View;
}

/** Submits a form and waits for the modal to show `pattern` (the outcome); returns that modal's JSON. */
async function submitForm(
  user: string,
  view: View,
  state: Record<string, Record<string, object>>,
  pattern: RegExp,
): Promise<string> {
  const updated = h.slack.callsTo('views.update').length;
  const res = await h.interact(viewSubmission(user, { ...view, state }));
  expect(res.json()).toMatchObject({ response_action: 'update' });
  let shown = '';
  await h.slack.waitFor(() => {
    shown =
      h.slack
        .callsTo('views.update')
        .slice(updated)
        .map((c) => JSON.stringify(c.args['view']))
        .reverse()
        .find((v) => pattern.test(v)) ?? '';
    return shown !== '';
  }, `the form to show ${pattern}`);
  return shown;
}

const frequencies = (...values: string[]) => ({
  frequencies: { frequencies: { type: 'checkboxes', selected_options: values.map((value) => ({ value })) } },
});
const reasonState = (value: string | null) => ({ reason: { reason: { type: 'plain_text_input', value } } });

/** Approval cards posted (not rewritten) in the approvals channel. */
const cardPosts = () =>
  h.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.args['channel'] === APPROVALS_CHANNEL && String(c.args['text']).startsWith('Approval #'));

type View = { callback_id: string; private_metadata: string };

/** Runs a command and returns the id of the approval request it filed. */
async function requestChange(text: string, user: string): Promise<string> {
  const { id } = await h.command(text, { user });
  const texts = await h.replies(id, (t) =>
    t.some((x) => x.startsWith('Pending approval #') || /^(You|There|`)/.test(x)),
  );
  const pending = texts.find((x) => x.startsWith('Pending approval #'));
  if (pending === undefined) throw new Error(`no approval request: ${JSON.stringify(h.slack.replies(id).at(-1))}`);
  return pending.slice('Pending approval #'.length, 'Pending approval #'.length + 6);
}

/** The latest rendering of an approval card (post or update in the approvals channel). */
function card(requestId: string): string {
  const calls = h.slack.calls.filter(
    (c) =>
      (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
      c.args['channel'] === APPROVALS_CHANNEL &&
      String(c.args['text']).startsWith(`Approval #${requestId}`),
  );
  return messageText(calls.at(-1)?.args ?? {});
}

async function cardShows(requestId: string, pattern: RegExp): Promise<string> {
  await h.slack.waitFor(() => pattern.test(card(requestId)), `card #${requestId} to match ${pattern}`);
  return card(requestId);
}

/** Clicks a card button as `user`; returns the ephemeral answer. */
async function click(user: string, action: 'approve' | 'reject' | 'cancel', requestId: string): Promise<string> {
  const replyId = randomUUID();
  const res = await h.interact(
    buttonClick({
      user,
      channel: APPROVALS_CHANNEL,
      actionId: `nasha_approval_${action}`,
      value: requestId,
      responseUrl: h.slack.responseUrl(replyId),
    }),
  );
  expect(res.status).toBe(200);
  if (action === 'reject') return '';
  await h.slack.waitFor(() => h.slack.replies(replyId).length > 0, `an answer to ${action}`);
  return messageText(h.slack.replies(replyId)[0] ?? {});
}

const ovhDeletes = (name: string) => h.sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/${name}`));
const dms = (user: string) => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === user);

describe('approvals: a second person approves destructive changes', () => {
  it('request → card with preview → approve (with confirm) → done; DM and audit', async () => {
    await start();
    const id = await requestChange(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason "free space before the upgrade"',
      USERS.operator,
    );
    const pending = await cardShows(id, /Waiting for approval/);
    expect(pending).toContain('<@U0OPER>');
    expect(pending).toContain('free space before the upgrade');
    expect(pending).toContain(
      'Deletes custom snapshot `snap-data-pre-upgrade` (kept until deleted). 1 custom snapshot(s) will remain',
    );
    expect(pending).toMatch(/"confirm":\{"title"/);
    expect(ovhDeletes('snap-data-pre-upgrade')).toHaveLength(0);

    expect(await click(USERS.approver, 'approve', id)).toContain(`You approved #${id}; running it now.`);
    const done = await cardShows(id, /Approved → done/);
    expect(done).toContain('<@U0APPROVER>');
    expect(done).toMatch(/OVH task `\d+`/);
    expect(done).not.toContain('nasha_approval_approve');
    expect(ovhDeletes('snap-data-pre-upgrade')).toHaveLength(1);
    await h.slack.waitFor(() => dms(USERS.operator).length > 0, 'the DM to the requester');
    expect(messageText(dms(USERS.operator)[0]?.args ?? {})).toContain('done');
    await h.slack.waitFor(
      () =>
        h.auditMessages().some((m) => JSON.stringify(m.args).includes(id) && /Succeeded/.test(String(m.args['text']))),
      'the audit record reaching its final state',
    );
  });

  it('records and shows the reason as it was typed: Slack sends `&`, `<` and `>` in a command as entities', async () => {
    await start();
    // Typed: --reason "R&D: old <tmp> data" (as Slack sends it, should_escape on).
    const id = await requestChange(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason "R&amp;D: old &lt;tmp&gt; data"',
      USERS.operator,
    );
    const pending = await cardShows(id, /Waiting for approval/);
    // The card escapes the typed text once, for mrkdwn: Slack shows `R&D: old <tmp> data`.
    expect(pending).toContain('R&amp;D: old &lt;tmp&gt; data');
    expect(pending).not.toContain('&amp;amp;');
    expect(pending).not.toContain('&amp;lt;');
    await h.slack.waitFor(
      () => h.auditMessages().some((m) => JSON.stringify(m.args).includes(id)),
      'the audit record of the request',
    );
    const audit = JSON.stringify(h.auditMessages().filter((m) => JSON.stringify(m.args).includes(id)));
    expect(audit).toContain('R&amp;D: old &lt;tmp&gt; data');
    expect(audit).not.toContain('&amp;amp;');
  });

  it('asks for the reason in a form when the command has none', async () => {
    await start();
    const { ack } = await h.command('snapshot schedule remove zpool-128310/data day-7', { user: USERS.operator });
    expect(ack.body).toBe('');
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > 0, 'the reason form');
    const view = h.slack.callsTo('views.open')[0]?.args['view'] as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('nasha_modal_reason');
    const empty = await h.interact(
      viewSubmission(USERS.operator, { ...view, state: { reason: { reason: textInput(' ') } } }),
    );
    expect(empty.json()).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.stringMatching(/reason/) },
    });
    const ok = await h.interact(
      viewSubmission(USERS.operator, {
        ...view,
        state: { reason: { reason: textInput('weekly is handled by the backup job') } },
      }),
    );
    expect(ok.json()).toMatchObject({ response_action: 'update' });
    await h.slack.waitFor(
      () => h.slack.callsTo('views.update').some((c) => JSON.stringify(c.args).includes('pending approval #')),
      'pending in the form',
    );
    const updated = JSON.stringify(h.slack.callsTo('views.update').at(-1)?.args);
    const id = /pending approval #([A-Z0-9]{6})/.exec(updated)?.[1] ?? '';
    const shown = await cardShows(id, /Waiting for approval/);
    // Removing day-7 from hour-1, day-1, day-7: restore points reach back 1 day instead of 7.
    expect(shown).toContain('Automatic restore points will reach back *1 day* (now 7 days)');
  });

  it('reject needs a reason and tells the requester; nothing reaches OVH', async () => {
    await start();
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason cleanup', USERS.operator);
    await click(USERS.approver, 'reject', id);
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > 0, 'the reject form');
    const form = h.slack.callsTo('views.open').at(-1)?.args['view'] as {
      callback_id: string;
      private_metadata: string;
    };
    expect(form.callback_id).toBe('nasha_modal_reject');
    const empty = await h.interact(
      viewSubmission(USERS.approver, { ...form, state: { reason: { reason: textInput('') } } }),
    );
    expect(empty.json()).toMatchObject({ response_action: 'errors' });
    const res = await h.interact(
      viewSubmission(USERS.approver, {
        ...form,
        state: { reason: { reason: textInput('we still need it for the audit') } },
      }),
    );
    expect(res.body).toBe('');
    expect(await cardShows(id, /Rejected/)).toMatch(/Rejected\* by <@U0APPROVER>: `we still need it for the audit`/);
    await h.slack.waitFor(() => dms(USERS.operator).length > 0, 'the DM');
    expect(ovhDeletes('snap-db-keep')).toHaveLength(0);
    expect(await click(USERS.approver2, 'approve', id)).toContain('already rejected');
  });

  it('only the requester can cancel', async () => {
    await start();
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason oops', USERS.operator);
    expect(await click(USERS.approver, 'cancel', id)).toContain('Only the requester can cancel');
    expect(await click(USERS.operator, 'cancel', id)).toContain(`Request #${id} cancelled`);
    await cardShows(id, /Cancelled/);
  });

  it('refuses self-approval and approvers without rights on the target, and audits both', async () => {
    await start();
    const id = await requestChange(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason mine',
      USERS.admin,
    );
    expect(await click(USERS.admin, 'approve', id)).toContain('You cannot approve your own request');
    // No grant of theirs touches the target: it is neither named nor confirmed (issue 13.2).
    const outside = await click(USERS.scopedApprover, 'approve', id);
    expect(outside).toContain(`Approval #${id} was not found, or is not yours to decide`);
    expect(outside).not.toContain('zpool-128310');
    expect(await click(USERS.operator, 'approve', id)).toMatch(/You need \*approver\*/);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .filter((m) => /Approval decision/.test(JSON.stringify(m.args)) && /Refused/.test(JSON.stringify(m.args)))
          .length >= 3,
      'three refused approval clicks audited',
    );
    expect(await cardShows(id, /Waiting for approval/)).toContain('0/1');
    expect(ovhDeletes('snap-data-pre-upgrade')).toHaveLength(0);
  });

  it('quorum of 2: each person counts once', async () => {
    await start({ config: QUORUM_2_CONFIG });
    const id = await requestChange(
      'snapshot schedule remove zpool-128310/data day-1 --reason fewer restore points',
      USERS.operator,
    );
    expect(await click(USERS.approver, 'approve', id)).toContain('it needs 1 more approval(s)');
    expect(await cardShows(id, /1\/2/)).toContain('<@U0APPROVER>');
    expect(await click(USERS.approver, 'approve', id)).toContain('You already approved');
    expect(await click(USERS.approver2, 'approve', id)).toContain('running it now');
    await cardShows(id, /Approved → done/);
    expect(h.sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/snapshot/day-1'))).toHaveLength(1);
  });

  it('a target deleted between request and approval: nothing is sent to OVH, the card says why', async () => {
    await start();
    const id = await requestChange(
      'snapshot delete zpool-204117/uploads/snap-uploads-2025-11-20 --reason tidy',
      USERS.operator,
    );
    // Someone deletes it meanwhile, outside the bot.
    const other = createNashaApi({ config: simulatorConfig(h.sim), clock: h.clock });
    const task = await other.client.deleteCustomSnapshot('zpool-204117', 'uploads', 'snap-uploads-2025-11-20');
    await other.tracker.track('zpool-204117', task);
    other.transport.close();
    const before = ovhDeletes('snap-uploads-2025-11-20').length;
    await click(USERS.approver, 'approve', id);
    const shown = await cardShows(id, /Not executed/);
    expect(shown).toMatch(/has no custom snapshot named|not found/);
    expect(shown).toContain('Nothing was sent to OVH');
    expect(ovhDeletes('snap-uploads-2025-11-20')).toHaveLength(before);
  });

  it('50 concurrent Approve clicks produce exactly one OVH call and one card', async () => {
    await start();
    const id = await requestChange(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason duplicates',
      USERS.operator,
    );
    await cardShows(id, /Waiting for approval/);
    const clicks = Array.from({ length: 50 }, (_, i) =>
      click(i % 2 === 0 ? USERS.approver : USERS.approver2, 'approve', id),
    );
    const answers = await Promise.all(clicks);
    expect(answers.filter((a) => a.includes('running it now'))).toHaveLength(1);
    await cardShows(id, /Approved → done/);
    expect(ovhDeletes('snap-data-pre-upgrade')).toHaveLength(1);
    const posts = h.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args['channel'] === APPROVALS_CHANNEL && String(c.args['text']).startsWith(`Approval #${id}`));
    expect(posts).toHaveLength(1);
  });

  it('expires on time with no one clicking, and an expired request cannot be approved', async () => {
    await start({ autoAdvance: false });
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason later', USERS.operator);
    await cardShows(id, /Waiting for approval/);
    h.clock.advance(4 * 3_600_000 - 1_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(card(id)).toMatch(/Waiting for approval/);
    h.clock.advance(2_000);
    await cardShows(id, /Expired/);
    await h.slack.waitFor(() => dms(USERS.operator).length > 0, 'the DM');
    expect(await click(USERS.approver, 'approve', id)).toContain('already expired');
  });

  it('survives a restart: a pending request can be approved by the next process, and expiry still fires', async () => {
    await start({ autoAdvance: false });
    const a = await requestChange(
      'snapshot delete zpool-204117/db/snap-db-keep --reason after restart',
      USERS.operator,
    );
    const b = await requestChange(
      'snapshot delete zpool-204117/db/snap-db-month-end --reason let it expire',
      USERS.operator,
    );
    await h.restart();
    expect(await click(USERS.approver, 'approve', a)).toContain('running it now');
    for (let i = 0; i < 20 && !/Approved → done/.test(card(a)); i++) {
      h.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(card(a)).toMatch(/Approved → done/);
    h.clock.advance(4 * 3_600_000);
    await cardShows(b, /Expired/);
  });

  it('survives a restart with the OVH task in flight: tracking resumes and the card ends done', async () => {
    await start({
      sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 120_000 } },
      overrides: { tracker: { initialIntervalMs: 600_000, maxIntervalMs: 600_000 } },
    });
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason in flight', USERS.operator);
    await click(USERS.approver, 'approve', id);
    await cardShows(id, /OVH task `\d+`/);
    await h.restart({ tracker: { initialIntervalMs: 1_000, maxIntervalMs: 10_000 } });
    await cardShows(id, /Approved → done/);
  });

  it('the delete form asks for a reason and files a request', async () => {
    await start();
    const form = await openForm('db', 'delete');
    expect(JSON.stringify(form)).toContain('Request approval');
    const state = { snapshot: { snapshot: { type: 'static_select', selected_option: { value: 'snap-db-keep' } } } };
    const missing = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: 'nasha_modal_delete',
        private_metadata: form.private_metadata,
        // Slack sends every input block of the form, an empty one as null.
        state: { ...state, ...reasonState(null) },
      }),
    );
    expect(missing.json()).toMatchObject({ response_action: 'errors', errors: { reason: expect.any(String) } });
    await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: 'nasha_modal_delete',
        private_metadata: form.private_metadata,
        state: { ...state, reason: { reason: textInput('from the form') } },
      }),
    );
    await h.slack.waitFor(
      () => h.slack.callsTo('views.update').some((c) => JSON.stringify(c.args).includes('pending approval #')),
      'pending approval in the form',
    );
    expect(ovhDeletes('snap-db-keep')).toHaveLength(0);
  });

  it('the frequencies form: additions run, removals become an approval request with the form’s reason', async () => {
    await start();
    const form = await openForm('uploads', 'schedule');
    expect(JSON.stringify(form)).toContain('Reason (for removals)');
    // Enabled now: hour-1, day-2. Wanted: hour-1, day-7 → add day-7 (runs), remove day-2 (needs approval).
    const frequencies = {
      frequencies: { type: 'checkboxes', selected_options: [{ value: 'hour-1' }, { value: 'day-7' }] },
    };
    const before = h.sim.requests.filter((r) => r.method !== 'GET').length;
    const missing = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: 'nasha_modal_schedule',
        private_metadata: form.private_metadata,
        state: { frequencies, reason: { reason: { type: 'plain_text_input', value: null } } },
      }),
    );
    expect(missing.json()).toMatchObject({ response_action: 'errors', errors: { reason: expect.any(String) } });
    await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: 'nasha_modal_schedule',
        private_metadata: form.private_metadata,
        state: { frequencies, reason: { reason: textInput('day-2 replaced by day-7') } },
      }),
    );
    await h.slack.waitFor(
      () =>
        h.slack
          .callsTo('views.update')
          .some((c) => /pending approval #/.test(JSON.stringify(c.args)) && /Done: /.test(JSON.stringify(c.args))),
      'the approval request and the addition in the form',
    );
    const writes = h.sim.requests.slice(0).filter((r) => r.method !== 'GET');
    expect(writes.length - before).toBe(1);
    expect(writes.at(-1)).toMatchObject({ method: 'POST' });
    expect(h.sim.requests.some((r) => r.method === 'DELETE' && r.path.endsWith('/snapshot/day-2'))).toBe(false);
  });

  it('the frequencies form: one submission, so the removal’s preview counts the additions made with it', async () => {
    await start();
    // zpool-128310/logs has only hour-1. Wanted: day-1 and day-7 → add both, remove hour-1 (needs approval).
    const form = await openForm('logs', 'schedule', { service: 'zpool-128310' });
    const shown = await submitForm(
      USERS.operator,
      form,
      { ...frequencies('day-1', 'day-7'), ...reasonState('hourly is too much for logs') },
      /^(?=.*pending approval #[A-Z0-9]{6})(?=(?:.*Done: ){2})/,
    );
    const id = /pending approval #([A-Z0-9]{6})/.exec(shown)?.[1] ?? '';
    const pending = await cardShows(id, /Waiting for approval/);
    // Not "Frequencies left: none": the two frequencies added by the same submission stay.
    expect(pending).toContain('Stops `hour-1` snapshots. Frequencies left: `day-1` `day-7`.');
    expect(pending).toContain('hourly is too much for logs');
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/logs/snapshot'))).toHaveLength(2);
    expect(h.sim.requests.some((r) => r.method === 'DELETE' && r.path.endsWith('/logs/snapshot/hour-1'))).toBe(false);
  });

  it('asking again for a removal already waiting files nothing new and names the open request', async () => {
    await start();
    const removeDay2 = { ...frequencies('hour-1'), ...reasonState('day-2 is not needed') };
    const first = await submitForm(
      USERS.operator,
      await openForm('uploads', 'schedule'),
      removeDay2,
      /pending approval #[A-Z0-9]{6}/,
    );
    const id = /pending approval #([A-Z0-9]{6})/.exec(first)?.[1] ?? '';
    await cardShows(id, /Waiting for approval/);
    // Someone else (an operator on zpool-204117) asks for the same removal: the open request is named instead.
    const again = await submitForm(
      USERS.scoped,
      await openForm('uploads', 'schedule', { user: USERS.scoped }),
      removeDay2,
      /already waiting for approval/,
    );
    expect(again).toContain(`is already waiting for approval as *#${id}* (asked by <@${USERS.operator}>)`);
    expect(again).not.toMatch(/pending approval #/);
    expect(cardPosts()).toHaveLength(1);
  });

  it('a refused Cancel is answered from the refusal data and audited', async () => {
    await start();
    const form = await openForm('db', 'delete');
    const shown = await submitForm(
      USERS.operator,
      form,
      {
        snapshot: { snapshot: { type: 'static_select', selected_option: { value: 'snap-db-keep' } } },
        ...reasonState('no longer needed'),
      },
      /pending approval #[A-Z0-9]{6}/,
    );
    const id = /pending approval #([A-Z0-9]{6})/.exec(shown)?.[1] ?? '';
    expect(await click(USERS.approver, 'cancel', id)).toContain('Only the requester can cancel this request.');
    await h.slack.waitFor(
      () =>
        h.auditMessages().some((m) => {
          const message = JSON.stringify(m.args);
          return (
            /Approval decision/.test(message) &&
            message.includes(id) &&
            message.includes(`<@${USERS.approver}>`) &&
            /Only the requester can cancel/.test(message)
          );
        }),
      'the refused cancel audited',
    );
    expect(await cardShows(id, /Waiting for approval/)).toContain('0/1');
    expect(await click(USERS.operator, 'cancel', id)).toContain(`Request #${id} cancelled.`);
  });

  it('the create form asks for a reason and files a request when creations need approval', async () => {
    await start({
      config: TEST_CONFIG.replace(
        `  channel: ${APPROVALS_CHANNEL}\n`,
        `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    snapshot.create: { required: true }\n`,
      ),
    });
    const form = await openForm('logs', 'create', { service: 'zpool-128310' });
    expect(form.callback_id).toBe('nasha_modal_create');
    const json = JSON.stringify(form);
    expect(json).toContain('"block_id":"reason"');
    expect(json).toContain('Request approval');
    const name = { name: { name: textInput('before-upgrade') } };
    const missing = await h.interact(
      viewSubmission(USERS.operator, { ...form, state: { ...name, ...reasonState(null) } }),
    );
    expect(missing.json()).toEqual({
      response_action: 'errors',
      errors: { reason: 'A reason is required (a few words the approvers will read).' },
    });
    const shown = await submitForm(
      USERS.operator,
      form,
      { ...name, ...reasonState('before the kernel upgrade') },
      /pending approval #[A-Z0-9]{6}/,
    );
    const id = /pending approval #([A-Z0-9]{6})/.exec(shown)?.[1] ?? '';
    expect(await cardShows(id, /Waiting for approval/)).toContain('before the kernel upgrade');
    expect(h.sim.requests.some((r) => r.method === 'POST' && r.path.endsWith('/customSnapshot'))).toBe(false);
    expect(await click(USERS.approver, 'approve', id)).toContain(`You approved #${id}; running it now.`);
    await cardShows(id, /Approved → done/);
    expect(h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/logs/customSnapshot'))).toHaveLength(
      1,
    );
  });

  it('a form built for a direct change cannot run it once it needs approval: the desk checks again', async () => {
    // Approvals off: the admin's delete form has no reason box and would delete at once.
    await start({ config: TEST_CONFIG_NO_APPROVALS });
    const form = await openForm('db', 'delete', { user: USERS.admin });
    expect(JSON.stringify(form)).not.toContain('"block_id":"reason"');
    // Approvals on (same signing secret, so the form's metadata is still valid).
    writeFileSync(h.env.configPath, TEST_CONFIG);
    await h.restart();
    const res = await h.interact(
      viewSubmission(USERS.admin, {
        ...form,
        state: { snapshot: { snapshot: { type: 'static_select', selected_option: { value: 'snap-db-keep' } } } },
      }),
    );
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: { snapshot: 'A reason is required (a few words the approvers will read).' },
    });
    expect(ovhDeletes('snap-db-keep')).toHaveLength(0);
  });
});
