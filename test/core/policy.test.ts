import { describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/config/bot-config.js';
import { parseBotConfig } from '../../src/config/bot-config.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import { CachedGroupDirectory } from '../../src/core/groups.js';
import type { Actor } from '../../src/core/model.js';
import { ACTION_ROLE, REQUEST_ROLE } from '../../src/core/model.js';
import { Policy, scopeCovers } from '../../src/core/policy.js';
import { ManualClock } from '../../src/shared/clock.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const inChannel = (userId: string, channelId: string | undefined = 'C0OPS'): Actor => ({ userId, channelId });

/** A directory with fixed members; counts lookups per group. */
function staticGroups(members: Record<string, readonly string[]>) {
  const lookups: string[] = [];
  const directory: GroupDirectory = {
    membersOf: (groupId) => {
      lookups.push(groupId);
      return Promise.resolve(new Set(members[groupId] ?? []));
    },
  };
  return { directory, lookups };
}

function access(partial: Partial<AccessConfig>): AccessConfig {
  return { grants: [], channels: [], unlistedChannels: 'admin', ...partial };
}

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('scope patterns', () => {
  it('a service pattern covers every partition of exactly that service', () => {
    expect(scopeCovers('zpool-1', { service: 'zpool-1', partition: 'data' })).toBe(true);
    expect(scopeCovers('zpool-1', { service: 'zpool-12', partition: 'data' })).toBe(false);
    expect(scopeCovers('zpool-1', { service: 'zpool-1' })).toBe(true);
  });

  it('* matches any run of characters except /, and a lone * matches everything', () => {
    expect(scopeCovers('zpool-*/db', { service: 'zpool-9', partition: 'db' })).toBe(true);
    expect(scopeCovers('zpool-*/db', { service: 'zpool-9', partition: 'db2' })).toBe(false);
    expect(scopeCovers('zpool-*/db', { service: 'other', partition: 'db' })).toBe(false);
    expect(scopeCovers('zpool-1/data-*', { service: 'zpool-1', partition: 'data-eu' })).toBe(true);
    expect(scopeCovers('*', { service: 'anything', partition: 'at-all' })).toBe(true);
    expect(scopeCovers('*', { service: 'anything' })).toBe(true);
    expect(scopeCovers('*/db', { service: 'zpool-3', partition: 'db' })).toBe(true);
    expect(scopeCovers('zpool-*', { service: 'zpool-1/evil', partition: 'x' })).toBe(false);
  });

  it('treats regex characters literally', () => {
    expect(scopeCovers('zpool.1', { service: 'zpoolX1', partition: 'a' })).toBe(false);
    expect(scopeCovers('zpool.1', { service: 'zpool.1', partition: 'a' })).toBe(true);
  });

  it('a service-only target is covered only by patterns covering all of its partitions', () => {
    expect(scopeCovers('zpool-1/*', { service: 'zpool-1' })).toBe(true);
    expect(scopeCovers('zpool-*/*', { service: 'zpool-1' })).toBe(true);
    expect(scopeCovers('zpool-1/data', { service: 'zpool-1' })).toBe(false);
    expect(scopeCovers('zpool-1/d*', { service: 'zpool-1' })).toBe(false);
  });
});

describe('Policy.decide', () => {
  it('denies everything when there are no grants', async () => {
    const config = parseBotConfig(
      'audit: {channel: C0AUDIT01}\napprovals: {channel: C0APPROV01}\ngrants: []\n',
      'nasha.yml',
    );
    expect(config.warnings).toHaveLength(1);
    const policy = new Policy(config.access, staticGroups({}).directory);
    const decision = await policy.decide(inChannel(ALICE), 'read', { service: 'zpool-1', partition: 'data' });
    expect(decision).toMatchObject({ allowed: false, required: 'viewer', userRole: undefined, grant: undefined });
    expect(decision.summary).toBe(
      'you have no grant on `zpool-1/data` (you need *viewer*); ask a nasha admin to add one to the bot config',
    );
    expect(decision.explanation).toContain('no grants in the bot config: everything is denied');
    expect(await policy.bestRoleAnywhere(inChannel(ALICE))).toBeUndefined();
    expect(await policy.canSeeService(inChannel(ALICE), 'zpool-1')).toBe(false);
  });

  it('allows through a grant to the user ID, and only to that ID', async () => {
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [ALICE], groups: [], scope: ['zpool-1/*'] }] }),
      staticGroups({}).directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    const decision = await policy.decide(inChannel(ALICE), 'snapshot.create', target);
    expect(decision).toMatchObject({
      allowed: true,
      required: 'operator',
      userRole: 'operator',
      effectiveRole: 'operator',
      grant: { index: 0, role: 'operator', via: { kind: 'user' }, pattern: 'zpool-1/*' },
      cap: undefined,
      groupErrors: [],
    });
    expect(decision.summary).toBe('you have *operator* on `zpool-1/data` via a direct grant');
    expect(decision.explanation).toEqual([
      '`snapshot.create` on `zpool-1/data` needs *operator*',
      'grants[0] (*operator* on `zpool-1/*`): applies, you are listed in its users (matches `zpool-1/*`)',
      'channel <#C0OPS>: not listed in channels, no cap (unlisted_channels: admin)',
      'result: *allowed*: you have *operator* on `zpool-1/data` via a direct grant',
    ]);
    expect((await policy.decide(inChannel(BOB), 'read', target)).allowed).toBe(false);
  });

  it('allows group members and denies non-members, explaining which group', async () => {
    const { directory } = staticGroups({ S0SRE: [ALICE] });
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-*/db'] }] }),
      directory,
    );
    const target = { service: 'zpool-7', partition: 'db' };
    const member = await policy.decide(inChannel(ALICE), 'schedule.add', target);
    expect(member.allowed).toBe(true);
    expect(member.grant).toEqual({
      index: 0,
      role: 'operator',
      via: { kind: 'group', groupId: 'S0SRE' },
      pattern: 'zpool-*/db',
    });
    expect(member.summary).toBe('you have *operator* on `zpool-7/db` via <!subteam^S0SRE>');

    const outsider = await policy.decide(inChannel(BOB), 'schedule.add', target);
    expect(outsider.allowed).toBe(false);
    expect(outsider.summary).toContain('you have no grant on `zpool-7/db`');
    expect(outsider.explanation[1]).toBe(
      'grants[0] (*operator* on `zpool-*/db`): does not apply: you are not in <!subteam^S0SRE>',
    );
  });

  it('uses the strongest covering grant, the first one on a tie', async () => {
    const { directory } = staticGroups({ S0RO: [ALICE, BOB], S0SRE: [ALICE] });
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0RO'], scope: ['*'] },
          { role: 'admin', users: [ALICE], groups: [], scope: ['zpool-2'] },
          { role: 'operator', users: [BOB], groups: [], scope: ['zpool-1/*'] },
          { role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-1/data'] },
          { role: 'operator', users: [ALICE], groups: [], scope: ['zpool-1/data'] },
        ],
      }),
      directory,
    );
    const data = { service: 'zpool-1', partition: 'data' };
    const alice = await policy.decide(inChannel(ALICE), 'snapshot.create', data);
    expect(alice.grant).toEqual({
      index: 3,
      role: 'operator',
      via: { kind: 'group', groupId: 'S0SRE' },
      pattern: 'zpool-1/data',
    });
    const bob = await policy.decide(inChannel(BOB), 'read', data);
    expect(bob.grant?.index).toBe(2);
    const aliceLogs = await policy.decide(inChannel(ALICE), 'snapshot.create', {
      service: 'zpool-1',
      partition: 'logs',
    });
    expect(aliceLogs.userRole).toBe('viewer');
    expect(aliceLogs.summary).toBe('you need *operator* on `zpool-1/logs` (you have *viewer* via <!subteam^S0RO>)');
    expect(await policy.bestRoleAnywhere(inChannel(ALICE))).toBe('admin');
    expect(await policy.bestRoleAnywhere(inChannel(BOB))).toBe('operator');
  });

  it('explains non-matching scopes and the actionable need', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0RO'], scope: ['zpool-123/*'] },
          { role: 'admin', users: [BOB], groups: [], scope: ['zpool-9'] },
        ],
      }),
      staticGroups({ S0RO: [ALICE] }).directory,
    );
    const decision = await policy.decide(inChannel(ALICE), 'snapshot.create', {
      service: 'zpool-123',
      partition: 'data',
    });
    expect(decision.summary).toBe('you need *operator* on `zpool-123/data` (you have *viewer* via <!subteam^S0RO>)');
    expect(decision.explanation).toEqual([
      '`snapshot.create` on `zpool-123/data` needs *operator*',
      'grants[0] (*viewer* on `zpool-123/*`): applies, you are in <!subteam^S0RO> (matches `zpool-123/*`)',
      'grants[1] (*admin* on `zpool-9`): does not cover `zpool-123/data`',
      'channel <#C0OPS>: not listed in channels, no cap (unlisted_channels: admin)',
      'result: *denied*: you need *operator* on `zpool-123/data` (you have *viewer* via <!subteam^S0RO>)',
    ]);
  });

  it('needs a grant covering every partition for a service-only target', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'operator', users: [ALICE], groups: [], scope: ['zpool-1/data', 'zpool-2/*'] },
          { role: 'viewer', users: [ALICE], groups: [], scope: ['zpool-3'] },
        ],
      }),
      staticGroups({}).directory,
    );
    const whole1 = await policy.decide(inChannel(ALICE), 'read', { service: 'zpool-1' });
    expect(whole1.allowed).toBe(false);
    expect(whole1.summary).toBe(
      'you need *viewer* on every partition of `zpool-1`: your grants cover only some of them',
    );
    expect(whole1.explanation[1]).toContain('covers only some partitions of `zpool-1`');
    expect((await policy.decide(inChannel(ALICE), 'schedule.add', { service: 'zpool-2' })).allowed).toBe(true);
    expect((await policy.decide(inChannel(ALICE), 'read', { service: 'zpool-3' })).allowed).toBe(true);
    expect((await policy.decide(inChannel(ALICE), 'read', { service: 'zpool-4' })).summary).toContain(
      'you have no grant on `zpool-4`',
    );
  });

  it('caps what a listed channel allows, pointing to a channel that allows more', async () => {
    const policy = new Policy(
      access({
        grants: [{ role: 'admin', users: [ALICE], groups: [], scope: ['*'] }],
        channels: [
          { id: 'C0GENERAL', maxRole: 'viewer' },
          { id: 'C0INCIDENT', maxRole: 'operator' },
          { id: 'C0QUIET', maxRole: 'none' },
        ],
      }),
      staticGroups({}).directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    const general = await policy.decide(inChannel(ALICE, 'C0GENERAL'), 'snapshot.create', target);
    expect(general).toMatchObject({
      allowed: false,
      userRole: 'admin',
      effectiveRole: 'viewer',
      cap: { channelId: 'C0GENERAL', maxRole: 'viewer', listed: true },
    });
    expect(general.summary).toBe(
      'you need *operator* on `zpool-1/data`: this channel allows at most *viewer* (channel cap); try <#C0INCIDENT>',
    );
    expect(general.explanation).toContain('channel <#C0GENERAL>: capped to at most *viewer* (channels)');
    expect((await policy.decide(inChannel(ALICE, 'C0GENERAL'), 'read', target)).allowed).toBe(true);

    const quiet = await policy.decide(inChannel(ALICE, 'C0QUIET'), 'read', target);
    expect(quiet).toMatchObject({ allowed: false, effectiveRole: undefined });
    expect(quiet.summary).toBe(
      'you need *viewer* on `zpool-1/data`: this channel allows no nasha actions (channel cap); try <#C0GENERAL> or <#C0INCIDENT>',
    );
    expect(await policy.bestRoleAnywhere(inChannel(ALICE, 'C0QUIET'))).toBeUndefined();
    expect(await policy.bestRoleAnywhere(inChannel(ALICE, 'C0INCIDENT'))).toBe('operator');
  });

  it('effective role is the weaker of grant and cap', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'admin', users: [ALICE], groups: [], scope: ['*'] },
          { role: 'viewer', users: [BOB], groups: [], scope: ['*'] },
        ],
        channels: [{ id: 'C0INCIDENT', maxRole: 'operator' }],
      }),
      staticGroups({}).directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    const create = await policy.decide(inChannel(ALICE, 'C0INCIDENT'), 'snapshot.create', target);
    expect(create).toMatchObject({ allowed: true, userRole: 'admin', effectiveRole: 'operator' });
    expect(create.summary).toBe(
      'you have *operator* on `zpool-1/data` via a direct grant (your *admin* is capped to *operator* here)',
    );
    const remove = await policy.decide(inChannel(ALICE, 'C0INCIDENT'), 'snapshot.delete', target);
    expect(remove).toMatchObject({ allowed: false, required: 'admin', effectiveRole: 'operator' });
    expect(remove.summary).toBe(
      'you need *admin* on `zpool-1/data`: this channel allows at most *operator* (channel cap)',
    );
    // The grant is the limit, not the cap: the message asks for a grant.
    const bob = await policy.decide(inChannel(BOB, 'C0INCIDENT'), 'snapshot.create', target);
    expect(bob).toMatchObject({ allowed: false, userRole: 'viewer', effectiveRole: 'viewer' });
    expect(bob.summary).toBe('you need *operator* on `zpool-1/data` (you have *viewer* via a direct grant)');
  });

  it('applies unlisted_channels to unlisted channels and to requests without a channel', async () => {
    const grants = [{ role: 'admin' as const, users: [ALICE], groups: [], scope: ['*'] }];
    const target = { service: 'zpool-1', partition: 'data' };
    const open = new Policy(access({ grants }), staticGroups({}).directory);
    expect((await open.decide(inChannel(ALICE, 'C0ANY'), 'snapshot.delete', target)).cap).toBeUndefined();

    const capped = new Policy(access({ grants, unlistedChannels: 'viewer' }), staticGroups({}).directory);
    const decision = await capped.decide(inChannel(ALICE, 'C0ANY'), 'snapshot.create', target);
    expect(decision.cap).toEqual({ channelId: 'C0ANY', maxRole: 'viewer', listed: false });
    expect(decision.explanation).toContain(
      'channel <#C0ANY>: not listed in channels, capped to at most *viewer* (unlisted_channels)',
    );

    const closed = new Policy(
      access({ grants, unlistedChannels: 'none', channels: [{ id: 'C0OPS', maxRole: 'admin' }] }),
      staticGroups({}).directory,
    );
    const elsewhere = await closed.decide(inChannel(ALICE, 'C0RANDOM'), 'read', target);
    expect(elsewhere.allowed).toBe(false);
    expect(elsewhere.summary).toBe(
      'you need *viewer* on `zpool-1/data`: this channel allows no nasha actions (channel cap); try <#C0OPS>',
    );
    const noChannel = await closed.decide({ userId: ALICE, channelId: undefined }, 'read', target);
    expect(noChannel.allowed).toBe(false);
    expect(noChannel.cap).toEqual({ channelId: undefined, maxRole: 'none', listed: false });
    expect((await closed.decide(inChannel(ALICE, 'C0OPS'), 'snapshot.delete', target)).allowed).toBe(true);
    expect(await closed.canSeeService(inChannel(ALICE, 'C0RANDOM'), 'zpool-1')).toBe(false);
    expect(await closed.filterReadable(inChannel(ALICE, 'C0RANDOM'), 'zpool-1', ['data'])).toEqual([]);
  });

  it('treats a directory that rejects as an unresolved group (deny)', async () => {
    const directory: GroupDirectory = { membersOf: () => Promise.reject(new Error('ratelimited')) };
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['*'] }] }),
      directory,
    );
    const decision = await policy.decide(inChannel(ALICE), 'read', { service: 'zpool-1', partition: 'data' });
    expect(decision.allowed).toBe(false);
    expect(decision.groupErrors).toEqual([
      'could not resolve group <!subteam^S0SRE> (ratelimited), so its grants were not applied',
    ]);
    expect(decision.summary).toContain(
      'could not check your membership of <!subteam^S0SRE> right now, try again in a minute',
    );
  });

  it('resolves only the groups of relevant grants, in parallel, and none for grants listing the user', async () => {
    const calls: string[] = [];
    const pending = new Map<string, ReturnType<typeof deferred<string[]>>>();
    const directory = new CachedGroupDirectory(
      (groupId) => {
        calls.push(groupId);
        const d = deferred<string[]>();
        pending.set(groupId, d);
        return d.promise;
      },
      { clock: new ManualClock() },
    );
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0A', 'S0B'], scope: ['zpool-1/*'] },
          { role: 'operator', users: [], groups: ['S0C'], scope: ['zpool-1/data'] },
          { role: 'admin', users: [], groups: ['S0OTHER'], scope: ['zpool-2'] },
          { role: 'admin', users: [ALICE], groups: ['S0SKIPPED'], scope: ['zpool-1'] },
        ],
      }),
      directory,
    );
    const decision = policy.decide(inChannel(ALICE), 'read', { service: 'zpool-1', partition: 'data' });
    await flush();
    expect(calls.sort()).toEqual(['S0A', 'S0B', 'S0C']);
    for (const d of pending.values()) d.resolve([]);
    expect((await decision).grant).toMatchObject({ index: 3, via: { kind: 'user' } });
  });

  it('lists only the readable partitions and services', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0RO'], scope: ['zpool-1/data', 'zpool-1/logs-*'] },
          { role: 'operator', users: [ALICE], groups: [], scope: ['zpool-2'] },
        ],
      }),
      staticGroups({ S0RO: [ALICE] }).directory,
    );
    const alice = inChannel(ALICE);
    expect(await policy.filterReadable(alice, 'zpool-1', ['data', 'logs-eu', 'secrets'])).toEqual(['data', 'logs-eu']);
    expect(await policy.filterReadable(alice, 'zpool-2', ['a', 'b'])).toEqual(['a', 'b']);
    expect(await policy.filterReadable(inChannel(BOB), 'zpool-1', ['data'])).toEqual([]);
    expect(await policy.canSeeService(alice, 'zpool-1')).toBe(true);
    expect(await policy.canSeeService(alice, 'zpool-3')).toBe(false);
    expect(await policy.canSeeService(inChannel(BOB), 'zpool-1')).toBe(false);
  });
});

describe('Policy.decide via approval', () => {
  const target = { service: 'zpool-1', partition: 'data' };
  const policy = new Policy(
    access({
      grants: [
        { role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-1/*'] },
        { role: 'viewer', users: [BOB], groups: [], scope: ['*'] },
      ],
      channels: [{ id: 'C0GENERAL', maxRole: 'viewer' }],
    }),
    staticGroups({ S0SRE: [ALICE] }).directory,
  );

  it('lets an operator request a delete or a schedule removal that runs only once approved', async () => {
    for (const action of ['snapshot.delete', 'schedule.remove'] as const) {
      const request = await policy.decide(inChannel(ALICE), action, target, { via: 'approval' });
      expect(request).toMatchObject({ allowed: true, required: 'operator', effectiveRole: 'operator' });
      expect(request.summary).toBe('you have *operator* on `zpool-1/data` via <!subteam^S0SRE>');
      expect(request.explanation[0]).toBe(
        `\`${action}\` on \`zpool-1/data\` needs *operator* to request it, to run once approved (*admin* to run it directly)`,
      );

      const direct = await policy.decide(inChannel(ALICE), action, target);
      expect(direct).toMatchObject({ allowed: false, required: 'admin' });
      expect(direct.summary).toBe('you need *admin* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>)');
      expect(direct.explanation[0]).toBe(`\`${action}\` on \`zpool-1/data\` needs *admin*`);
    }
  });

  it('still needs operator and the channel cap to request', async () => {
    const viewer = await policy.decide(inChannel(BOB), 'snapshot.delete', target, { via: 'approval' });
    expect(viewer.allowed).toBe(false);
    expect(viewer.summary).toBe('you need *operator* on `zpool-1/data` (you have *viewer* via a direct grant)');
    const capped = await policy.decide(inChannel(ALICE, 'C0GENERAL'), 'schedule.remove', target, { via: 'approval' });
    expect(capped.allowed).toBe(false);
    expect(capped.summary).toBe(
      'you need *operator* on `zpool-1/data`: this channel allows at most *viewer* (channel cap)',
    );
    const elsewhere = await policy.decide(
      inChannel(ALICE),
      'snapshot.delete',
      { service: 'zpool-2', partition: 'x' },
      {
        via: 'approval',
      },
    );
    expect(elsewhere.allowed).toBe(false);
  });

  it('changes nothing for actions whose request role is their role', async () => {
    for (const action of ['snapshot.create', 'schedule.add', 'read', 'approval.decide'] as const) {
      const viaApproval = await policy.decide(inChannel(ALICE), action, target, { via: 'approval' });
      const direct = await policy.decide(inChannel(ALICE), action, target);
      expect(viaApproval, action).toEqual(direct);
    }
    expect(REQUEST_ROLE['approval.decide']).toBe(ACTION_ROLE['approval.decide']);
  });

  it('explainFor passes the option through for /nasha can-i', async () => {
    const explained = await policy.explainFor(inChannel(ALICE), 'snapshot.delete', target, { via: 'approval' });
    expect(explained.allowed).toBe(true);
    expect(explained.explanation.at(-1)).toBe(
      'result: *allowed*: you have *operator* on `zpool-1/data` via <!subteam^S0SRE>',
    );
  });

  it('canI explains the asker’s own permissions, and refuses someone else’s to a non-approver', async () => {
    expect((await policy.canI(inChannel(ALICE), ALICE, 'snapshot.create', target)).allowed).toBe(true);
    await expect(policy.canI(inChannel(ALICE), BOB, 'snapshot.create', target)).rejects.toMatchObject({
      code: 'denied',
      message: expect.stringMatching(/^Only approvers and admins/),
    });
  });
});

describe('Policy.canApprove', () => {
  const CAROL = 'U0CAROL';
  const DAVE = 'U0DAVE';
  const target = { service: 'zpool-1', partition: 'data' };
  const grants: AccessConfig['grants'] = [
    { role: 'approver', users: [ALICE], groups: [], scope: ['zpool-1/*'] },
    { role: 'approver', users: [], groups: ['S0LEADS'], scope: ['zpool-1'] },
    { role: 'admin', users: [DAVE], groups: [], scope: ['*'] },
    { role: 'operator', users: [], groups: ['S0SRE'], scope: ['*'] },
  ];
  const members = { S0LEADS: [CAROL], S0SRE: [ALICE, BOB, CAROL], S0STORAGE: [CAROL, DAVE], S0DBA: [ALICE] };

  function policyWith(partial: Partial<AccessConfig> = {}, directory = staticGroups(members).directory) {
    return new Policy(access({ grants, ...partial }), directory);
  }

  it('allows approver or admin on the target, through a user or a group grant', async () => {
    const policy = policyWith();
    const alice = await policy.canApprove(inChannel(ALICE), target, []);
    expect(alice).toMatchObject({ allowed: true, action: 'approval.decide', required: 'approver' });
    expect(alice.summary).toBe('you have *approver* on `zpool-1/data` via a direct grant');
    expect(alice.approverGroups).toBeUndefined();
    const carol = await policy.canApprove(inChannel(CAROL), target, []);
    expect(carol.summary).toBe('you have *approver* on `zpool-1/data` via <!subteam^S0LEADS>');
    expect((await policy.canApprove(inChannel(DAVE), target, [])).effectiveRole).toBe('admin');
  });

  it('denies an operator or someone without a grant on the target, saying what is missing', async () => {
    const policy = policyWith();
    const bob = await policy.canApprove(inChannel(BOB), target, []);
    expect(bob.allowed).toBe(false);
    expect(bob.summary).toBe('you need *approver* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>)');
    const aliceElsewhere = await policy.canApprove(inChannel(ALICE), { service: 'zpool-2', partition: 'data' }, []);
    expect(aliceElsewhere.summary).toBe(
      'you need *approver* on `zpool-2/data` (you have *operator* via <!subteam^S0SRE>)',
    );
  });

  it('with approver groups, allows only approvers who are members of one of them', async () => {
    const policy = policyWith();
    const carol = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(carol).toMatchObject({
      allowed: true,
      approverGroups: { groups: ['S0STORAGE'], memberOf: 'S0STORAGE' },
    });
    expect(carol.summary).toBe(
      'you have *approver* on `zpool-1/data` via <!subteam^S0LEADS>, and you are in <!subteam^S0STORAGE>',
    );
    expect(carol.explanation.slice(-2)).toEqual([
      'approver groups: approvals of this operation are limited to members of <!subteam^S0STORAGE>: you are in <!subteam^S0STORAGE>',
      'result: *allowed*: you have *approver* on `zpool-1/data` via <!subteam^S0LEADS>, and you are in <!subteam^S0STORAGE>',
    ]);

    const alice = await policy.canApprove(inChannel(ALICE), target, ['S0STORAGE']);
    expect(alice).toMatchObject({
      allowed: false,
      effectiveRole: 'approver',
      approverGroups: { groups: ['S0STORAGE'], memberOf: undefined },
    });
    expect(alice.summary).toBe('approvals of this operation are limited to members of <!subteam^S0STORAGE>');
    expect(alice.explanation.slice(-2)).toEqual([
      'approver groups: approvals of this operation are limited to members of <!subteam^S0STORAGE>: you are not in <!subteam^S0STORAGE>',
      'result: *denied*: approvals of this operation are limited to members of <!subteam^S0STORAGE>',
    ]);

    // Any one of the listed groups is enough; duplicates count once.
    const either = await policy.canApprove(inChannel(ALICE), target, ['S0STORAGE', 'S0DBA', 'S0STORAGE']);
    expect(either).toMatchObject({
      allowed: true,
      approverGroups: { groups: ['S0STORAGE', 'S0DBA'], memberOf: 'S0DBA' },
    });
    const neither = await policy.canApprove(inChannel(CAROL), target, ['S0DBA', 'S0OTHER', 'S0NONE']);
    expect(neither.summary).toBe(
      'approvals of this operation are limited to members of <!subteam^S0DBA>, <!subteam^S0OTHER> or <!subteam^S0NONE>',
    );
  });

  it('a group membership never replaces the approver role', async () => {
    const bob = await policyWith().canApprove(inChannel(BOB), target, ['S0SRE']);
    expect(bob).toMatchObject({ allowed: false, approverGroups: { groups: ['S0SRE'], memberOf: 'S0SRE' } });
    expect(bob.summary).toBe('you need *approver* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>)');
    const outsider = await policyWith().canApprove(inChannel(BOB), target, ['S0STORAGE']);
    expect(outsider.summary).toBe(
      'you need *approver* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>); ' +
        'also, approvals of this operation are limited to members of <!subteam^S0STORAGE>',
    );
  });

  it('applies the cap of the channel the click came from', async () => {
    const policy = policyWith({
      channels: [
        { id: 'C0APPROV01', maxRole: 'approver' },
        { id: 'C0INCIDENT', maxRole: 'operator' },
      ],
      unlistedChannels: 'none',
    });
    expect((await policy.canApprove(inChannel(DAVE, 'C0APPROV01'), target, ['S0STORAGE'])).allowed).toBe(true);
    const incident = await policy.canApprove(inChannel(DAVE, 'C0INCIDENT'), target, ['S0STORAGE']);
    expect(incident).toMatchObject({ allowed: false, userRole: 'admin', effectiveRole: 'operator' });
    expect(incident.summary).toBe(
      'you need *approver* on `zpool-1/data`: this channel allows at most *operator* (channel cap); try <#C0APPROV01>',
    );
    const noChannel = await policy.canApprove({ userId: DAVE, channelId: undefined }, target, []);
    expect(noChannel.allowed).toBe(false);
  });

  it('denies while an approver group cannot be resolved, and says to retry', async () => {
    const directory: GroupDirectory = {
      membersOf: (groupId) =>
        groupId === 'S0STORAGE' ? Promise.reject(new Error('ratelimited')) : Promise.resolve(new Set<string>()),
    };
    const decision = await policyWith({}, directory).canApprove(inChannel(ALICE), target, ['S0STORAGE']);
    expect(decision.allowed).toBe(false);
    expect(decision.summary).toBe(
      'approvals of this operation are limited to members of <!subteam^S0STORAGE>; ' +
        'could not check your membership of <!subteam^S0STORAGE> right now, try again in a minute',
    );
    expect(decision.groupErrors).toEqual([
      'could not resolve group <!subteam^S0STORAGE> (ratelimited), so its members cannot approve right now',
    ]);
    expect(decision.explanation.at(-2)).toBe(
      'approver groups: approvals of this operation are limited to members of <!subteam^S0STORAGE>: ' +
        'could not resolve group <!subteam^S0STORAGE> (ratelimited)',
    );
  });

  it('re-resolves grants and groups at every call: leaving a group takes effect once its cache expires', async () => {
    const clock = new ManualClock();
    const current: Record<string, string[]> = { S0LEADS: [CAROL], S0STORAGE: [CAROL], S0SRE: [CAROL] };
    const directory = new CachedGroupDirectory(async (groupId) => current[groupId] ?? [], { clock, ttlMs: 60_000 });
    const policy = policyWith({}, directory);
    expect((await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE'])).allowed).toBe(true);

    current['S0STORAGE'] = [];
    clock.advance(60_000);
    const left = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(left.summary).toBe('approvals of this operation are limited to members of <!subteam^S0STORAGE>');

    current['S0STORAGE'] = [CAROL];
    current['S0LEADS'] = [];
    clock.advance(60_000);
    const demoted = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(demoted.allowed).toBe(false);
    expect(demoted.summary).toBe('you need *approver* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>)');
  });
});

describe('CachedGroupDirectory', () => {
  function counting(fetch: (groupId: string) => Promise<string[]>) {
    const counter = { fetches: 0 };
    const fetchMembers = (groupId: string) => {
      counter.fetches++;
      return fetch(groupId);
    };
    return { counter, fetchMembers };
  }

  it('caches member lists for ttlMs', async () => {
    const clock = new ManualClock();
    const { counter, fetchMembers } = counting(async () => [ALICE]);
    const directory = new CachedGroupDirectory(fetchMembers, { clock, ttlMs: 60_000 });
    expect((await directory.membersOf('S0SRE')).has(ALICE)).toBe(true);
    clock.advance(59_999);
    await directory.membersOf('S0SRE');
    expect(counter.fetches).toBe(1);
    clock.advance(1);
    await directory.membersOf('S0SRE');
    expect(counter.fetches).toBe(2);
    await directory.membersOf('S0OTHER');
    expect(counter.fetches).toBe(3);
    directory.invalidate('S0SRE');
    await directory.membersOf('S0SRE');
    expect(counter.fetches).toBe(4);
  });

  it('makes one fetch for concurrent requests of the same group', async () => {
    const clock = new ManualClock();
    const gate = deferred<string[]>();
    const { counter, fetchMembers } = counting(() => gate.promise);
    const directory = new CachedGroupDirectory(fetchMembers, { clock });
    const answers = Promise.all(Array.from({ length: 5 }, () => directory.membersOf('S0SRE')));
    await flush();
    expect(counter.fetches).toBe(1);
    gate.resolve([ALICE]);
    expect((await answers).every((members) => members.has(ALICE))).toBe(true);
    expect(counter.fetches).toBe(1);
  });

  it('serves the stale list within maxStaleMs when refreshing fails, then denies', async () => {
    const clock = new ManualClock();
    let failing = false;
    const warnings: string[] = [];
    const { counter, fetchMembers } = counting(async () => {
      if (failing) throw new Error('slack_unavailable');
      return [ALICE];
    });
    const directory = new CachedGroupDirectory(fetchMembers, {
      clock,
      ttlMs: 60_000,
      maxStaleMs: 15 * 60_000,
      retryAfterFailureMs: 5_000,
      logger: { warn: (_details, message) => warnings.push(message) },
    });
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['*'] }] }),
      directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    expect((await policy.decide(inChannel(ALICE), 'snapshot.create', target)).allowed).toBe(true);

    failing = true;
    clock.advance(10 * 60_000);
    const stale = await policy.decide(inChannel(ALICE), 'snapshot.create', target);
    expect(stale.allowed).toBe(true);
    expect(stale.groupErrors).toEqual([]);
    expect(stale.explanation[1]).toBe(
      'grants[0] (*operator* on `*`): applies, you are in <!subteam^S0SRE> (matches `*`); membership from a copy 10 min old, refreshing it failed (slack_unavailable)',
    );
    expect(directory.resolutionProblem('S0SRE')).toMatchObject({ state: 'stale', error: 'slack_unavailable' });
    expect(warnings).toEqual(['cannot refresh user group; using its last known members']);

    // Within retryAfterFailureMs the failure is not retried.
    await directory.membersOf('S0SRE');
    expect(counter.fetches).toBe(2);

    clock.advance(5 * 60_000 + 1);
    const denied = await policy.decide(inChannel(ALICE), 'snapshot.create', target);
    expect(counter.fetches).toBe(3);
    expect(denied.allowed).toBe(false);
    expect(denied.groupErrors).toEqual([
      'could not resolve group <!subteam^S0SRE> (slack_unavailable), so its grants were not applied',
    ]);
    expect(denied.summary).toBe(
      'you have no grant on `zpool-1/data` (you need *operator*); ask a nasha admin to add one to the bot config; ' +
        'could not check your membership of <!subteam^S0SRE> right now, try again in a minute',
    );
    expect(denied.explanation[1]).toBe(
      'grants[0] (*operator* on `*`): does not apply: could not resolve group <!subteam^S0SRE> (slack_unavailable)',
    );

    failing = false;
    clock.advance(5_000);
    const recovered = await policy.decide(inChannel(ALICE), 'snapshot.create', target);
    expect(recovered.allowed).toBe(true);
    expect(directory.resolutionProblem('S0SRE')).toBeUndefined();
  });

  it('denies a group that never resolved', async () => {
    const directory = new CachedGroupDirectory(() => Promise.reject(new Error('missing_scope')), {
      clock: new ManualClock(),
    });
    expect((await directory.membersOf('S0SRE')).size).toBe(0);
    expect(directory.resolutionProblem('S0SRE')).toMatchObject({ state: 'unresolved', error: 'missing_scope' });
  });
});
