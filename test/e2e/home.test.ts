import { afterEach, describe, expect, it } from 'vitest';
import { requestApproval } from '../support/approval-requests.js';
import { expectBlocksWithinLimits } from '../support/block-limits.js';
import {
  APPROVALS_CHANNEL,
  BOT_TOKEN,
  type BotHarness,
  type BotHarnessOptions,
  messageText,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { controlCall } from '../support/ovh-signing.js';
import { homeClick, homeOpened } from '../support/slack-payloads.js';
import { postSigned } from '../support/slack-requests.js';

/**
 * The App Home tab (issue 17.1) and `/nasha approvals` (17.5) through the real Bolt app: signed `app_home_opened`
 * events and Home button clicks, `views.publish` to the local Web API.
 */

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

async function start(options: BotHarnessOptions = {}): Promise<BotHarness> {
  const outbox =
    options.autoAdvance === false
      ? { outbox: { idlePollMs: Number.POSITIVE_INFINITY, minIntervalPerChannelMs: 0 } }
      : {};
  h = await startBotHarness({ config: TEST_CONFIG, ...options, overrides: { ...outbox, ...options.overrides } });
  return h;
}

type View = { type: string; blocks: Array<Record<string, unknown>> };

const publishes = (user: string) => h.slack.callsTo('views.publish').filter((c) => c.args['user_id'] === user);

/** The last Home tab published for `user`. */
function lastHome(user: string): View {
  const view = publishes(user).at(-1)?.args['view'] as View | undefined;
  if (view === undefined) throw new Error(`no Home tab published for ${user}`);
  return view;
}

/** `user` opens the Home tab: waits for its publish. */
async function openHome(user: string): Promise<View> {
  const before = publishes(user).length;
  const res = await postSigned(h.url, SIGNING_SECRET, homeOpened(user), { contentType: 'application/json' });
  expect(res.status).toBe(200);
  await h.slack.waitFor(() => publishes(user).length > before, `the Home tab of ${user}`);
  return lastHome(user);
}

/** Buttons of a view (or message) with this action id, by value. */
function buttons(blocks: ReadonlyArray<Record<string, unknown>>, actionId: string): string[] {
  return blocks
    .flatMap((b) => (b['type'] === 'actions' ? (b['elements'] as Array<Record<string, unknown>>) : []))
    .filter((e) => e['action_id'] === actionId)
    .map((e) => String(e['value']));
}

const requestChange = (text: string, user: string) => requestApproval(h, text, user);

async function clickHome(user: string, actionId: string, value: string): Promise<View> {
  const before = publishes(user).length;
  const res = await h.interact(homeClick(user, actionId, value));
  expect(res.status).toBe(200);
  await h.slack.waitFor(() => publishes(user).length > before, `the Home tab after ${actionId}`);
  return lastHome(user);
}

const ovhDeletes = (name: string) => h.sim.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/${name}`));

describe('App Home', () => {
  it('shows each role only what it may decide or see, with the approval card’s own buttons', async () => {
    await start();
    const near = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason home', USERS.operator);
    const far = await requestChange(
      'snapshot delete zpool-128310/data/snap-data-pre-upgrade --reason far',
      USERS.operator,
    );

    const approver = await openHome(USERS.approver);
    expect(approver.type).toBe('home');
    expect(publishes(USERS.approver)[0]?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(buttons(approver.blocks, 'nasha_approval_approve').sort()).toEqual([near, far].sort());
    expect(buttons(approver.blocks, 'nasha_approval_reject').sort()).toEqual([near, far].sort());
    expectBlocksWithinLimits(approver.blocks, 100);

    const admin = await openHome(USERS.admin);
    expect(buttons(admin.blocks, 'nasha_approval_approve').sort()).toEqual([near, far].sort());

    // Approver on zpool-204117 only: the other request is not named, nor its service.
    const scoped = await openHome(USERS.scopedApprover);
    expect(buttons(scoped.blocks, 'nasha_approval_approve')).toEqual([near]);
    expect(JSON.stringify(scoped)).not.toContain(far);
    expect(JSON.stringify(scoped)).not.toContain('zpool-128310');

    // The requester: their own requests with Cancel, nothing to approve (no self-approval).
    const operator = await openHome(USERS.operator);
    expect(buttons(operator.blocks, 'nasha_approval_approve')).toEqual([]);
    expect(buttons(operator.blocks, 'nasha_approval_cancel').sort()).toEqual([near, far].sort());

    // A viewer decides nothing and sees no request.
    const viewer = await openHome(USERS.viewer);
    expect(buttons(viewer.blocks, 'nasha_approval_approve')).toEqual([]);
    const viewerText = JSON.stringify(viewer);
    expect(viewerText).not.toContain(near);
    expect(viewerText).not.toContain(far);
    expect(viewerText).toContain('No request is waiting for your decision.');

    // Someone with no grant: nothing at all, not even the shortcuts.
    const nobody = await openHome(USERS.nobody);
    expect(JSON.stringify(nobody)).not.toMatch(/zpool-|nasha_home_open_form/);
  });

  it('lists snapshots the bot knows to expire within 24 h, only on partitions the person may read', async () => {
    await start();
    for (const target of ['zpool-204117/db', 'zpool-128310/data']) {
      const created = await h.command(`snapshot create ${target} soon-gone --expires 12h`, { user: USERS.admin });
      await h.replies(created.id, (t) => t.some((x) => x.startsWith('Done: create snapshot')));
      // A listing reads each snapshot's details: the OVH client remembers them (no request of its own later).
      const listed = await h.command(`snapshot list ${target}`, { user: USERS.admin });
      await h.slack.waitFor(() => JSON.stringify(h.slack.replies(listed.id)).includes('soon-gone'), 'the listing');
    }
    const requests = h.sim.requests.length;
    const viewer = JSON.stringify(await openHome(USERS.viewer));
    expect(viewer).toContain('`zpool-204117/db/soon-gone` expires');
    expect(viewer).toContain('`zpool-128310/data/soon-gone` expires');
    const scoped = JSON.stringify(await openHome(USERS.scoped));
    expect(scoped).toContain('`zpool-204117/db/soon-gone` expires');
    expect(scoped).not.toContain('zpool-128310');
    expect(JSON.stringify(await openHome(USERS.nobody))).not.toContain('soon-gone');
    // Drawing the tabs asked OVH nothing.
    expect(h.sim.requests.length).toBe(requests);
  });

  it('shows the protection of the partitions the person may see: problems first, then the summary', async () => {
    await start({
      config: `${TEST_CONFIG}
protection:
  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-128310/data", "zpool-204117/db"]
      frequencies: [hour-1, day-1, day-7]
      snapshot_space: 25
`,
    });
    await h.bot.protection?.scanNow();
    expect(JSON.stringify(await openHome(USERS.viewer))).not.toContain('a required frequency is off');
    const drift = await controlCall(h.sim, 'POST', '/partitions/zpool-128310/data', { scheduled: ['hour-1', 'day-1'] });
    expect(drift.status).toBe(200);
    await h.bot.protection?.scanNow();
    // The alert opened: the viewer's open Home tab is redrawn (after the debounce) with the problem.
    await h.slack.waitFor(() => publishes(USERS.viewer).length === 2, 'the Home tab redrawn');
    const viewer = JSON.stringify(lastHome(USERS.viewer));
    expect(viewer).toContain('`zpool-128310/data`: a required frequency is off');
    expect(viewer).toMatch(/2 partitions covered by a policy: \d fine, 1 with a problem/);
    expect(viewer.indexOf('zpool-128310/data')).toBeLessThan(viewer.indexOf('partitions covered by a policy'));
    // Operator on zpool-204117 only: the other partition is neither listed nor counted.
    const scoped = JSON.stringify(await openHome(USERS.scoped));
    expect(scoped).not.toContain('zpool-128310');
    expect(scoped).toContain('1 partition covered by a policy');
  });

  it('a forged Approve from a viewer’s Home tab is refused and audited; an approver’s runs the change', async () => {
    await start();
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason forged', USERS.operator);
    await openHome(USERS.viewer);
    const refused = await clickHome(USERS.viewer, 'nasha_approval_approve', id);
    expect(JSON.stringify(refused)).toMatch(/You need \*approver\*|not found, or is not yours to decide/);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some((m) => /Approval decision/.test(JSON.stringify(m.args)) && /Refused/.test(JSON.stringify(m.args))),
      'the refused Home click audited',
    );
    expect(ovhDeletes('snap-db-keep')).toHaveLength(0);

    // The requester's own Approve from Home: the same no-self-approval rule.
    const own = await clickHome(USERS.operator, 'nasha_approval_approve', id);
    expect(JSON.stringify(own)).toContain('You cannot approve your own request');

    await openHome(USERS.approver);
    const approved = await clickHome(USERS.approver, 'nasha_approval_approve', id);
    expect(JSON.stringify(approved)).toContain('running it now');
    await h.slack.waitFor(() => ovhDeletes('snap-db-keep').length === 1, 'the delete on OVH');
  });

  it('Reject from Home opens the same reason form; Cancel from Home cancels one’s own request', async () => {
    await start();
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason cancel', USERS.operator);
    const opened = h.slack.callsTo('views.open').length;
    await h.interact(homeClick(USERS.approver, 'nasha_approval_reject', id));
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opened, 'the reject form');
    expect(h.slack.callsTo('views.open').at(-1)?.args['view']).toMatchObject({ callback_id: 'nasha_modal_reject' });

    await openHome(USERS.operator);
    const cancelled = await clickHome(USERS.operator, 'nasha_approval_cancel', id);
    expect(JSON.stringify(cancelled)).toMatch(/cancelled/i);
    const after = await openHome(USERS.operator);
    expect(buttons(after.blocks, 'nasha_approval_cancel')).toEqual([]);
    // Now among the recent outcomes.
    expect(JSON.stringify(after)).toMatch(new RegExp(`Your recent requests.*#${id}`));
  });

  it('follows changes for those who opened it, once per debounce window', async () => {
    await start({ autoAdvance: false });
    await openHome(USERS.approver);
    expect(publishes(USERS.approver)).toHaveLength(1);
    const a = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason one', USERS.operator);
    const b = await requestChange('snapshot delete zpool-204117/db/snap-db-month-end --reason two', USERS.operator);
    await new Promise((r) => setTimeout(r, 50));
    // Not yet: the debounce holds the changes back.
    expect(publishes(USERS.approver)).toHaveLength(1);
    h.clock.advance(10_000);
    await h.slack.waitFor(() => publishes(USERS.approver).length === 2, 'one refresh');
    expect(buttons(lastHome(USERS.approver).blocks, 'nasha_approval_approve').sort()).toEqual([a, b].sort());
    h.clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(publishes(USERS.approver)).toHaveLength(2);
    // Someone who never opened it gets no publish.
    expect(publishes(USERS.admin)).toHaveLength(0);
  });

  it('pages beyond one view: within 100 blocks, with a More button', async () => {
    const config = TEST_CONFIG.replace(
      `  channel: ${APPROVALS_CHANNEL}\n`,
      `  channel: ${APPROVALS_CHANNEL}\n  rules:\n    snapshot.create: { required: true }\n`,
    );
    await start({ config });
    const ids: string[] = [];
    for (let i = 0; i < 45; i++) {
      ids.push(await requestChange(`snapshot create zpool-204117/db home-page-${i} --reason page`, USERS.operator));
    }
    const first = await openHome(USERS.approver);
    expect(first.blocks.length).toBeLessThanOrEqual(100);
    expectBlocksWithinLimits(first.blocks, 100);
    const page1 = buttons(first.blocks, 'nasha_approval_approve');
    expect(page1.length).toBe(20);
    expect(buttons(first.blocks, 'nasha_home_page')).toEqual(['2']);
    const second = await clickHome(USERS.approver, 'nasha_home_page', '2');
    const third = await clickHome(USERS.approver, 'nasha_home_page', '3');
    const all = [
      ...page1,
      ...buttons(second.blocks, 'nasha_approval_approve'),
      ...buttons(third.blocks, 'nasha_approval_approve'),
    ];
    expect(all.sort()).toEqual([...ids].sort());
    expect(buttons(third.blocks, 'nasha_home_page')).toEqual(['1']);
    // A forged page number is only a page number: the clicker's own lists, clamped.
    const forged = await clickHome(USERS.viewer, 'nasha_home_page', '3');
    expect(JSON.stringify(forged)).not.toContain(ids[0]);
  });
});

describe('/nasha approvals', () => {
  it('lists what the caller can decide and their own open requests, with the same buttons', async () => {
    await start();
    const id = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason list', USERS.operator);
    const asApprover = await h.command('approvals', { user: USERS.approver });
    const [approverReply] = await h.replies(asApprover.id, (t) => t.some((x) => x.startsWith('Approval requests')));
    expect(approverReply).toBeDefined();
    const reply = h.slack.replies(asApprover.id).at(-1) as { blocks: Array<Record<string, unknown>> };
    expect(buttons(reply.blocks, 'nasha_approval_approve')).toEqual([id]);
    expectBlocksWithinLimits(reply.blocks, 50);

    const asOperator = await h.command('approvals', { user: USERS.operator });
    await h.replies(asOperator.id, (t) => t.some((x) => x.startsWith('Approval requests')));
    const own = h.slack.replies(asOperator.id).at(-1) as { blocks: Array<Record<string, unknown>> };
    expect(buttons(own.blocks, 'nasha_approval_approve')).toEqual([]);
    expect(buttons(own.blocks, 'nasha_approval_cancel')).toEqual([id]);

    const asViewer = await h.command('approvals', { user: USERS.viewer });
    await h.replies(asViewer.id, (t) => t.some((x) => x.startsWith('Approval requests')));
    expect(messageText(h.slack.replies(asViewer.id).at(-1) ?? {})).not.toContain(id);

    // help is derived from the action table: it lists the command, with an example.
    const help = await h.command('help', { user: USERS.viewer });
    await h.replies(help.id, (t) => t.length > 0);
    const helpText = messageText(h.slack.replies(help.id).at(-1) ?? {});
    expect(helpText).toContain('• `approvals`');
    expect(helpText).toContain('`/nasha snapshot approvals`');
    // Someone with no role gets neither the command in help nor anything from it.
    const asNobody = await h.command('approvals', { user: USERS.nobody });
    await h.replies(asNobody.id, (t) => t.some((x) => x.startsWith('Approval requests')));
    expect(JSON.stringify(h.slack.replies(asNobody.id))).not.toContain(id);
  });
});
