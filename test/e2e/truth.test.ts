import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARENA_CONFIG, ONE_PARTITION_USER } from '../support/attack-arena.js';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  CHANNELS,
  messageText,
  startBotHarness,
  USERS,
} from '../support/bot-harness.js';

/**
 * Issue 12 from outside: what `help` and `can-i` say is what the bot then does, and the audit channel tells
 * no-ops, invalid input and refusals apart. Real bot, signed slash commands, simulator behind node-ovh.
 */
let h: BotHarness;
beforeAll(async () => {
  // The test configuration plus an operator on one partition (zpool-204117/db) and a `zpool-*/db` viewer.
  h = await startBotHarness({ config: ARENA_CONFIG });
});
afterAll(async () => {
  await h?.close();
});

/** The final answer to a command (after "Working on…" and "Submitted…"). */
async function answer(text: string, user: string, channel: string = CHANNELS.ops): Promise<string> {
  const { ack, id } = await h.command(text, { user, channel });
  const fromAck = ack.body === '' ? '' : messageText(ack.json() as Record<string, unknown>);
  if (!fromAck.includes('Working on')) return fromAck;
  await h.replies(id, (t) => t.length > 0 && !t.every((x) => x.startsWith('Submitted')));
  return messageText(h.slack.replies(id).at(-1) ?? {});
}

function auditTexts(): string[] {
  return h.auditMessages().map((m) => `${String(m.args['text'])}\n${JSON.stringify(m.args['blocks'])}`);
}

async function auditWith(pattern: RegExp): Promise<string> {
  await h.slack.waitFor(() => auditTexts().some((t) => pattern.test(t)), `an audit message matching ${pattern}`);
  return auditTexts().find((t) => pattern.test(t)) ?? '';
}

const writes = () => h.sim.requests.filter((r) => r.method !== 'GET').length;
const creations = () =>
  h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/customSnapshot')).map((r) => r.path);

describe('can-i is what the bot does', () => {
  it('an operator asking about delete (approval required) is told "only by request", and the request is accepted', async () => {
    const said = await answer(`can-i delete zpool-204117/db <@${USERS.scoped}>`, USERS.admin);
    expect(said).toMatch(/^Only by request/);
    expect(said).toContain(`<@${USERS.scoped}> can request`);
    expect(said).not.toMatch(/you have|you are not listed/);
    const done = await answer('delete zpool-204117/db/snap-db-month-end --reason cleanup', USERS.scoped);
    expect(done).toMatch(/pending approval #/);
  });

  it('an admin asking about schedule remove is told it needs approval, and it does go to approval', async () => {
    const said = await answer('can-i schedule-remove zpool-128310/data', USERS.admin);
    expect(said).toMatch(/^Yes, with approval/);
    const before = writes();
    const done = await answer('schedule remove zpool-128310/data day-7 --reason moving to day-1', USERS.admin);
    expect(done).toMatch(/pending approval #/);
    expect(writes()).toBe(before);
  });

  it('can-i knows quick, and a responder with no grant is told yes (and quick works for them)', async () => {
    const said = await answer('can-i quick zpool-128310/data', USERS.responder);
    expect(said).toMatch(/^Yes/);
    expect(said).toContain('S0RESP');
    expect(await answer('can-i quick zpool-128310/data', USERS.nobody)).toMatch(/^No/);
  });

  it('can-i quick on a whole service answers for the partitions the run takes, and the run takes exactly those', async () => {
    const said = await answer('can-i quick zpool-204117', ONE_PARTITION_USER);
    expect(said).toMatch(/^Yes/);
    expect(said).toContain('1 partition out of 1 visible to you');
    expect(said).toContain('zpool-204117/db');
    for (const hidden of ['uploads', 'media', 'scratch']) expect(said).not.toContain(hidden);
    const before = creations().length;
    await h.command('quick zpool-204117 inc-12', { user: ONE_PARTITION_USER, channel: CHANNELS.ops });
    await h.slack.waitFor(
      () =>
        h.slack.calls.some(
          (c) =>
            (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
            c.args['channel'] === CHANNELS.ops &&
            /^Quick snapshots /.test(String(c.args['text'])) &&
            /done/.test(messageText(c.args)),
        ),
      'the quick run summary',
    );
    expect(creations().slice(before)).toEqual(['/1.0/dedicated/nasha/zpool-204117/partition/db/customSnapshot']);
  });

  it('can-i quick on a target group says No, partition by partition, when the run would take none', async () => {
    const said = await answer('can-i quick payments', USERS.viewer);
    expect(said).toMatch(/^No/);
    expect(said).toContain('0 partitions out of 2 visible to you');
    expect(said).toContain('zpool-128310/data');
    expect(said).toContain('zpool-204117/db');
    const before = writes();
    expect(await answer('quick payments inc-13', USERS.viewer)).not.toMatch(/^Yes/);
    expect(writes()).toBe(before);
  });

  it('a refusal about a target the user cannot see never confirms it exists', async () => {
    const said = await answer('can-i create zpool-204117/db', USERS.nobody);
    expect(said).toMatch(/not found, or is not yours/);
    expect(said).not.toContain('grants[');
  });
});

describe('help lists what the reader can do, and how', () => {
  it('a responder whose only right is quick snapshots is shown quick, not "no access"', async () => {
    const help = await answer('help', USERS.responder);
    expect(help).not.toContain('You have no access');
    expect(help).toContain('quick &lt;service&gt;');
    expect(help).not.toContain('create &lt;service&gt;');
  });

  it('operators see delete and schedule remove as requests, with --reason', async () => {
    const help = await answer('help', USERS.operator);
    expect(help).toContain('delete &lt;service&gt;/&lt;partition&gt;/&lt;name&gt;');
    expect(help).toContain('schedule remove');
    expect(help).toMatch(/needs a second person/);
    expect(help).toContain('--reason');
  });

  it('examples only name services the reader may see', async () => {
    const help = await answer('help', USERS.scoped);
    expect(help).not.toContain('zpool-128310');
    expect(await answer('help', USERS.nobody)).toContain('You have no access to nasha-bot here');
  });
});

describe('the audit channel tells outcomes apart', () => {
  it('a harmless no-op is audited as a no-op, not as Failed', async () => {
    const said = await answer('schedule add zpool-204117/db hour-6', USERS.admin);
    expect(said).toMatch(/Nothing to do/);
    const record = await auditWith(/hour-6[\s\S]*No-op|No-op[\s\S]*hour-6/i);
    expect(record).not.toMatch(/:x:|Failed/);
  });

  it('a bad name and a bad expiry are both audited, the same way', async () => {
    await answer('create zpool-128310/logs bad..name', USERS.operator);
    await answer('create zpool-128310/logs good-name --expires 2027-02-30', USERS.operator);
    const name = await auditWith(/bad\.\.name/);
    const expiry = await auditWith(/2027-02-30/);
    for (const record of [name, expiry]) expect(record).toMatch(/invalid input/i);
  });

  it('a channel-cap denial names the channels to try as live channel links, escaped once', async () => {
    await answer('create zpool-128310/logs capped', USERS.admin, CHANNELS.general);
    const record = await auditWith(/channel cap/);
    expect(record).not.toContain('&amp;lt;');
    expect(record).not.toContain('&lt;#');
  });

  it('a refused Cancel click is audited like a refused Approve click', async () => {
    const pending = await answer('delete zpool-128310/data/snap-data-pre-upgrade --reason tidy up', USERS.operator);
    const id = /#([A-Z0-9]{6})/.exec(pending)?.[1] ?? '';
    expect(id).not.toBe('');
    await h.interact({
      type: 'block_actions',
      user: { id: USERS.viewer },
      channel: { id: APPROVALS_CHANNEL },
      trigger_id: 'trigger-cancel',
      actions: [{ action_id: 'nasha_approval_cancel', value: id, type: 'button' }],
    });
    const record = await auditWith(new RegExp(`${id}[\\s\\S]*(Refused|refused)|(Refused|refused)[\\s\\S]*${id}`));
    expect(record).toContain(USERS.viewer);
  });
});
