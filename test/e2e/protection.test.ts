/**
 * Protection end to end: the real bot (signed Slack requests in, the fake Slack Web API out, the simulator
 * behind). A frequency removed behind the bot's back (the simulator's control endpoint) opens one alert in the
 * alerts channel, which stays one message while it lasts; its Fix, pressed by an operator, runs through the
 * desk and closes it. `status` and `restore` show only what the caller may see.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BotHarness, CHANNELS, messageText, startBotHarness, TEST_CONFIG, USERS } from '../support/bot-harness.js';
import type { RecordedCall } from '../support/fake-slack.js';
import { controlCall } from '../support/ovh-signing.js';
import { buttonClick } from '../support/slack-payloads.js';

const ALERTS = 'C0ALERTS';
const CONFIG = `${TEST_CONFIG}
protection:
  alerts_channel: ${ALERTS}
  policies:
    - name: production
      targets: ["zpool-128310/data", "zpool-204117/db"]
      frequencies: [hour-1, day-1, day-7]
      plan:
        - { every: 1d, keep: 3, at: "02:00" }
      reserve: 2
      snapshot_space: 25
    - name: bulk
      targets: ["zpool-310442/*"]
      max_age: { warn: 8d, critical: 9d }
      snapshot_space: 50
`;

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function alertCalls(harness: BotHarness): RecordedCall[] {
  return harness.slack.calls.filter(
    (c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args['channel'] === ALERTS,
  );
}

async function reply(
  harness: BotHarness,
  text: string,
  user: string = USERS.admin,
  until: (texts: string[]) => boolean = (texts) => texts.length > 0,
): Promise<string> {
  const { id } = await harness.command(text, { user, channel: CHANNELS.ops });
  await harness.replies(id, until);
  return messageText(harness.slack.replies(id).at(-1) ?? {});
}

describe('protection end to end', () => {
  it('drift behind the bot’s back opens one alert; its Fix closes it', async () => {
    h = await startBotHarness({ config: CONFIG });
    const protection = h.bot.protection;
    if (protection === undefined) throw new Error('protection is not running');
    await protection.scanNow();
    expect(alertCalls(h)).toEqual([]);

    // Someone disables day-7 from OVH's control panel.
    const drift = await controlCall(h.sim, 'POST', '/partitions/zpool-128310/data', { scheduled: ['hour-1', 'day-1'] });
    expect(drift.status).toBe(200);
    await protection.scanNow();
    await protection.scanNow();
    const calls = alertCalls(h);
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    const posted = messageText(calls[0]?.args ?? {});
    expect(posted).toContain('Required frequencies are off');
    expect(posted).toContain('`zpool-128310/data`');
    expect(posted).toContain('`day-7` is not enabled');

    const button = /"action_id":"nasha_protection_fix".*?"value":"((?:[^"\\]|\\.)*)"/.exec(posted);
    expect(button).not.toBeNull();
    const value = JSON.parse(`"${button?.[1]}"`) as string;
    // A viewer may not fix it: the desk refuses, nothing is sent.
    const postsBefore = h.sim.requests.filter((r) => r.method === 'POST').length;
    await h.interact(
      buttonClick({
        user: USERS.viewer,
        channel: ALERTS,
        actionId: 'nasha_protection_fix',
        value,
        responseUrl: h.slack.responseUrl('viewer-fix'),
      }),
    );
    await h.slack.waitFor(() => h?.slack.replies('viewer-fix').length === 1, 'the viewer’s answer');
    expect(messageText(h.slack.replies('viewer-fix')[0] ?? {})).toMatch(/operator/);
    expect(h.sim.requests.filter((r) => r.method === 'POST').length).toBe(postsBefore);

    // An operator's Fix enables day-7 at once, and the alert is resolved in place.
    const res = await h.interact(
      buttonClick({
        user: USERS.operator,
        channel: ALERTS,
        actionId: 'nasha_protection_fix',
        value,
        responseUrl: h.slack.responseUrl('fix'),
      }),
    );
    expect(res.status).toBe(200);
    await h.slack.waitFor(
      () =>
        alertCalls(h as BotHarness).some((c) => c.method === 'chat.update' && messageText(c.args).includes('Resolved')),
      'the alert resolved',
    );
    expect(h.sim.state.listScheduledTypes('zpool-128310', 'data').sort()).toEqual(['day-1', 'day-7', 'hour-1']);
    const after = alertCalls(h);
    expect(after.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    const resolved = messageText(after.at(-1)?.args ?? {});
    expect(resolved).toContain('Resolved: required frequencies are off');
    expect(resolved).toContain(`Fix pressed by <@${USERS.operator}>`);
    expect(resolved).not.toContain('nasha_protection_fix');
    expect(messageText(h.slack.replies('fix').at(-1) ?? {})).toMatch(/Done/);

    // Audited: the alert (as the policy, then resolved), and the fix as the operator's own change.
    await h.bot.outbox.flush(5_000);
    const audit = h
      .auditMessages()
      .map((c) => messageText(c.args))
      .join('\n');
    expect(audit).toContain('Protection alert');
    expect(audit).toContain('nasha-bot, for protection policy `production`');
    expect(audit).toContain('Resolved');
    expect(audit).toMatch(new RegExp(`Add snapshot schedule on \`zpool-128310/data\` by <@${USERS.operator}>`));
  });

  it('status before the first inventory says coverage is not known yet, never that nothing is covered', async () => {
    h = await startBotHarness({ config: CONFIG });
    const before = await reply(h, 'snapshot status');
    expect(before).toContain('has not finished its first look at which partitions the policies cover');
    expect(before).not.toContain('No covered partition');
    await h.bot.protection?.scanNow();
    const after = await reply(h, 'snapshot status');
    expect(after).toContain('`zpool-128310/data`');
    expect(after).not.toContain('first look');
  });

  it('status and restore show what the caller may see, and nothing else', async () => {
    h = await startBotHarness({ config: CONFIG });
    await h.bot.protection?.scanNow();

    const all = await reply(h, 'snapshot status');
    expect(all).toContain('Protection status — all policies');
    expect(all).toContain('`zpool-128310/data`');
    expect(all).toContain('`zpool-204117/db`');

    const scoped = await reply(h, 'snapshot status production', USERS.scoped);
    expect(scoped).toContain('`zpool-204117/db`');
    expect(scoped).not.toContain('zpool-128310');
    const hidden = await reply(h, 'snapshot status zpool-128310/data', USERS.scoped);
    expect(hidden).toMatch(/not found, or not yours|not yours/);
    expect(hidden).not.toContain('Restore points');

    const created = await reply(h, 'snapshot create zpool-128310/data before-upgrade', USERS.admin, (texts) =>
      texts.some((t) => /^Done/.test(t)),
    );
    expect(created).toMatch(/Done/);
    h.clock.advance(2 * 3_600_000);
    const detail = await reply(h, 'snapshot status zpool-128310/data', USERS.viewer);
    expect(detail).toContain('Policy `production`: requires `hour-1`, `day-1` and `day-7`');
    expect(detail).toContain('`hour-1` — automatic, at most 1h old');
    expect(detail).toContain(`\`before-upgrade\` — taken <!date^`);
    expect(detail).toContain(`<@${USERS.admin}>`);
    expect(detail).toContain('*Problems*: none.');

    const restore = await reply(h, 'snapshot restore zpool-128310/data --at 1h ago', USERS.viewer);
    expect(restore).toContain('use* `before-upgrade`');
    expect(restore).toContain('1h before that moment');
    expect(restore).toContain('`.zfs/snapshot/before-upgrade/`');
    expect(restore).toContain('rsync -av --dry-run /mnt/data/.zfs/snapshot/before-upgrade/');
    expect(restore).toContain('the bot cannot reach the share');
    expect(restore).toContain('/nasha snapshot create zpool-128310/data before-restore');
    // A viewer may not take that snapshot: the help says so (an on-call viewer gets the quick snapshot instead).
    expect(restore).toContain('by someone who may create snapshots here (you may not)');
    const admin = await reply(h, 'snapshot restore zpool-128310/data --at 1h ago', USERS.admin);
    expect(admin).toContain(
      'First take a safety snapshot of what is there now: `/nasha snapshot create zpool-128310/data before-restore`',
    );
    const cifs = await reply(h, 'snapshot restore zpool-128310/logs --at 2026-11-28 08:00Z', USERS.viewer);
    expect(cifs).toContain('robocopy');
    expect(cifs).not.toContain('rsync');
    const future = await reply(h, 'snapshot restore zpool-128310/data --at 2030-01-01', USERS.viewer);
    expect(future).toContain('is in the future');
    const notMine = await reply(h, 'snapshot restore zpool-128310/data --at 1h', USERS.scoped);
    expect(notMine).not.toContain('.zfs');

    // A long summary is paginated; Next shows the following page, for the clicking user again.
    const { id: bulkId } = await h.command('snapshot status bulk', { user: USERS.viewer, channel: CHANNELS.ops });
    await h.replies(bulkId, (texts) => texts.length > 0);
    const bulk = messageText(h.slack.replies(bulkId).at(-1) ?? {});
    expect(bulk).toContain('120 protected partitions');
    expect(bulk).toContain('Page 1 of 5 (120 partitions)');
    expect(bulk).toContain('`zpool-310442/vol-001`');
    const next = /"action_id":"nasha_protection_page_next".*?"value":"((?:[^"\\]|\\.)*)"/.exec(bulk);
    expect(next).not.toBeNull();
    await h.interact(
      buttonClick({
        user: USERS.scoped,
        channel: CHANNELS.ops,
        actionId: 'nasha_protection_page_next',
        value: JSON.parse(`"${next?.[1]}"`) as string,
        responseUrl: h.slack.responseUrl('page-scoped'),
      }),
    );
    await h.interact(
      buttonClick({
        user: USERS.viewer,
        channel: CHANNELS.ops,
        actionId: 'nasha_protection_page_next',
        value: JSON.parse(`"${next?.[1]}"`) as string,
        responseUrl: h.slack.responseUrl('page'),
      }),
    );
    await h.slack.waitFor(
      () => h?.slack.replies('page').length === 1 && h.slack.replies('page-scoped').length === 1,
      'the pages',
    );
    const page2 = messageText(h.slack.replies('page')[0] ?? {});
    expect(page2).toContain('Page 2 of 5');
    expect(page2).toContain('`zpool-310442/vol-026`');
    // The scoped operator sees none of that service's partitions, whatever the button said.
    expect(messageText(h.slack.replies('page-scoped')[0] ?? {})).not.toContain('vol-0');

    const help = await reply(h, 'help', USERS.viewer);
    expect(help).toContain('status [&lt;service&gt;[/&lt;partition&gt;]|&lt;policy&gt;]');
    expect(help).toContain('restore &lt;service&gt;/&lt;partition&gt; --at');
    const canI = await reply(h, 'can-i restore zpool-204117/db', USERS.scoped);
    expect(canI).toContain('Yes');
  });
});
