import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BotHarness,
  CHANNELS,
  messageText,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
});
afterAll(async () => {
  await h?.close();
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
async function answer(text: string, user: string, channel: string = CHANNELS.ops): Promise<string> {
  const { ack, id } = await h.command(text, { user, channel });
  const fromAck = ack.body === '' ? '' : messageText(ack.json() as Record<string, unknown>);
  if (!fromAck.includes('Working on')) return fromAck;
  await h.replies(id, (t) => t.length > 0 && !t.every((x) => x.startsWith('Submitted')));
  return messageText(h.slack.replies(id).at(-1) ?? {});
}
const posts = () => h.sim.requests.filter((r) => r.method !== 'GET').length;

describe('role checks on every command', () => {
  it('help lists only what the caller may do', async () => {
    const admin = await answer('help', USERS.admin);
    expect(admin).toContain('delete &lt;service&gt;/&lt;partition&gt;/&lt;name&gt;');
    const viewer = await answer('help', USERS.viewer);
    expect(viewer).toContain('list &lt;service&gt;[/&lt;partition&gt;]');
    expect(viewer).not.toContain('create &lt;service&gt;');
    expect(viewer).not.toContain('delete &lt;service&gt;');
    const operator = await answer('help', USERS.operator);
    expect(operator).toContain('create &lt;service&gt;');
    expect(operator).not.toContain('delete &lt;service&gt;');
    expect(await answer('help', USERS.nobody)).toContain('You have no access to nasha-bot here');
    // Channel cap: an admin in a viewer-capped channel sees the viewer help.
    expect(await answer('help', USERS.admin, CHANNELS.general)).not.toContain('create &lt;service&gt;');
  });

  it('granted: an operator through a Slack user group creates a snapshot', async () => {
    const { id } = await h.command('snapshot create zpool-128310/logs via-group', { user: USERS.operator });
    expect((await h.replies(id, final)).at(-1)).toMatch(/^Done: create snapshot `via-group`/);
    expect(h.slack.callsTo('usergroups.users.list').map((c) => c.args['usergroup'])).toContain('S0SRE');
  });

  it('denied by role: a viewer cannot create, an operator cannot delete; nothing reaches OVH', async () => {
    const before = posts();
    expect(await answer('snapshot create zpool-128310/logs nope', USERS.viewer)).toContain(
      'You need *operator* on `zpool-128310/logs` (you have *viewer*',
    );
    expect(await answer('snapshot delete zpool-128310/data/snap-data-pre-upgrade', USERS.operator)).toMatch(
      /You need \*admin\* on `zpool-128310\/data` \(you have \*operator\* via <!subteam\^S0SRE>\)/,
    );
    expect(posts()).toBe(before);
  });

  it('denied by scope: an operator on zpool-204117 only', async () => {
    const before = posts();
    expect(await answer('snapshot create zpool-128310/logs out-of-scope', USERS.scoped)).toMatch(/no grant|You need/);
    expect(posts()).toBe(before);
    const { id } = await h.command('snapshot create zpool-204117/scratch in-scope', { user: USERS.scoped });
    expect((await h.replies(id, final)).at(-1)).toMatch(/^Done/);
    // Listings only show what the scope allows.
    expect(await answer('snapshot services', USERS.scoped)).not.toContain('zpool-128310');
  });

  it('denied by channel cap: an admin in a viewer-only channel can read but not change', async () => {
    const before = posts();
    expect(await answer('snapshot list zpool-128310/data', USERS.admin, CHANNELS.general)).toContain(
      'snap-data-pre-upgrade',
    );
    expect(await answer('snapshot create zpool-128310/logs capped', USERS.admin, CHANNELS.general)).toMatch(
      /this channel allows at most \*viewer\*/,
    );
    expect(posts()).toBe(before);
  });

  it('a user with no grant is denied everything, and it is audited for changes', async () => {
    expect(await answer('snapshot list zpool-128310/data', USERS.nobody)).toMatch(/no grant|no access/i);
    await answer('snapshot schedule add zpool-128310/data hour-6', USERS.nobody);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some((m) => String(m.args['text']).includes('<@U0NOBODY>') && /denied/i.test(String(m.args['text']))),
      'a denied audit message',
    );
  });

  it('can-i explains the decision: grant, group, channel cap and scope', async () => {
    const mine = await answer('can-i delete zpool-128310/data', USERS.operator);
    expect(mine).toMatch(/No\*/);
    expect(mine).toContain('S0SRE');
    // The channel it was asked in, which the decision used (unlisted, so no cap): never "no channel".
    expect(mine).toContain(`channel <#${CHANNELS.ops}>: not listed in channels, no cap`);
    expect(mine).not.toContain('no channel');
    const other = await answer(`can-i create zpool-204117/db <@${USERS.scoped}|scoped>`, USERS.admin);
    expect(other).toMatch(/Yes\*/);
    expect(await answer(`can-i create zpool-204117/db <@${USERS.admin}>`, USERS.viewer)).toContain(
      'Only approvers and admins can check another user',
    );
    expect(await answer('can-i create zpool-128310/data', USERS.admin, CHANNELS.general)).toMatch(/channel/i);
  });
});
