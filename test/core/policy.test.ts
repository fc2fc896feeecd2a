import { describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/config/bot-config.js';
import { parseBotConfig } from '../../src/config/bot-config.js';
import { ACTION_LIST, ACTIONS } from '../../src/core/actions.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import { CachedGroupDirectory } from '../../src/core/groups.js';
import type { Actor } from '../../src/core/model.js';
import { roleRank } from '../../src/core/model.js';
import { type GrantCheck, type GroupIssue, Policy, scopeCovers } from '../../src/core/policy.js';
import { ManualClock } from '../../src/shared/clock.js';

/**
 * The policy knows roles, not actions: every check names the role the action table asks for, and every answer is
 * data (which grant, which cap, why not). The wording is the Slack layer's (test/slack).
 */

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

/** A grant as `can-i` sees it, with the fields that are the same for most grants filled in. */
function grantCheck(check: Partial<GrantCheck> & Pick<GrantCheck, 'index' | 'role' | 'patterns'>): GrantCheck {
  return {
    coverage: 'covers',
    matched: undefined,
    holder: undefined,
    holderIssue: undefined,
    notIn: [],
    unresolved: [],
    listsUsers: false,
    notInStale: false,
    ...check,
  };
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

const READ = ACTIONS.read.role;
const CREATE = ACTIONS['snapshot.create'].role;
const ADD = ACTIONS['schedule.add'].role;
const DELETE = ACTIONS['snapshot.delete'].role;

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

describe('the action table’s roles', () => {
  it('every action names the role it needs; a request role is never stronger than running it', () => {
    expect(Object.fromEntries(ACTION_LIST.map((a) => [a.id, [a.role, a.requestRole]]))).toEqual({
      read: ['viewer', undefined],
      'snapshot.create': ['operator', 'operator'],
      'schedule.add': ['operator', 'operator'],
      'snapshot.delete': ['admin', 'operator'],
      'schedule.remove': ['admin', 'operator'],
      'snapshot.quick': ['operator', undefined],
      'approval.decide': ['approver', undefined],
      'protection.status': ['viewer', undefined],
      'protection.restore': ['viewer', undefined],
      'protection.alert': ['admin', undefined],
    });
    for (const action of ACTION_LIST) {
      if (action.requestRole !== undefined) {
        expect(roleRank(action.requestRole), action.id).toBeLessThanOrEqual(roleRank(action.role));
      }
    }
  });
});

describe('Policy.check', () => {
  it('denies everything when there are no grants', async () => {
    const config = parseBotConfig(
      'audit: {channel: C0AUDIT01}\napprovals: {channel: C0APPROV01}\ngrants: []\n',
      'nasha.yml',
    );
    expect(config.warnings).toHaveLength(1);
    const policy = new Policy(config.access, staticGroups({}).directory);
    const target = { service: 'zpool-1', partition: 'data' };
    const decision = await policy.check(inChannel(ALICE), target, READ);
    expect(decision).toEqual({
      allowed: false,
      required: 'viewer',
      target,
      userRole: undefined,
      grant: undefined,
      cap: undefined,
      effectiveRole: undefined,
      denial: { kind: 'no_grant', partial: false },
      retryGroups: [],
      groupErrors: [],
      grants: [],
      // No grants at all in the configuration: everything is denied.
      grantCount: 0,
    });
    expect(await policy.bestRoleAnywhere(inChannel(ALICE))).toBeUndefined();
    expect(await policy.canSeeService(inChannel(ALICE), 'zpool-1')).toBe(false);
  });

  it('allows through a grant to the user ID, and only to that ID', async () => {
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [ALICE], groups: [], scope: ['zpool-1/*'] }] }),
      staticGroups({}).directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    const decision = await policy.check(inChannel(ALICE), target, CREATE);
    expect(decision).toEqual({
      allowed: true,
      required: 'operator',
      target,
      userRole: 'operator',
      grant: { index: 0, role: 'operator', via: { kind: 'user' }, pattern: 'zpool-1/*' },
      // C0OPS is not listed and unlisted_channels is admin: no cap at all.
      cap: undefined,
      effectiveRole: 'operator',
      denial: undefined,
      retryGroups: [],
      groupErrors: [],
      grants: [
        grantCheck({
          index: 0,
          role: 'operator',
          patterns: ['zpool-1/*'],
          matched: 'zpool-1/*',
          holder: { kind: 'user' },
          listsUsers: true,
        }),
      ],
      grantCount: 1,
    });

    const bob = await policy.check(inChannel(BOB), target, READ);
    expect(bob).toMatchObject({ allowed: false, userRole: undefined, denial: { kind: 'no_grant', partial: false } });
    // The grant lists users and Bob is not one of them.
    expect(bob.grants).toEqual([
      grantCheck({ index: 0, role: 'operator', patterns: ['zpool-1/*'], matched: 'zpool-1/*', listsUsers: true }),
    ]);
  });

  it('allows group members and denies non-members, saying which group', async () => {
    const { directory } = staticGroups({ S0SRE: [ALICE] });
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-*/db'] }] }),
      directory,
    );
    const target = { service: 'zpool-7', partition: 'db' };
    const member = await policy.check(inChannel(ALICE), target, ADD);
    expect(member.allowed).toBe(true);
    expect(member.grant).toEqual({
      index: 0,
      role: 'operator',
      via: { kind: 'group', groupId: 'S0SRE' },
      pattern: 'zpool-*/db',
    });
    expect(member.grants).toEqual([
      grantCheck({
        index: 0,
        role: 'operator',
        patterns: ['zpool-*/db'],
        matched: 'zpool-*/db',
        holder: { kind: 'group', groupId: 'S0SRE' },
      }),
    ]);

    const outsider = await policy.check(inChannel(BOB), target, ADD);
    expect(outsider).toMatchObject({ allowed: false, denial: { kind: 'no_grant', partial: false } });
    expect(outsider.grants).toEqual([
      grantCheck({ index: 0, role: 'operator', patterns: ['zpool-*/db'], matched: 'zpool-*/db', notIn: ['S0SRE'] }),
    ]);
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
    const alice = await policy.check(inChannel(ALICE), data, CREATE);
    expect(alice.grant).toEqual({
      index: 3,
      role: 'operator',
      via: { kind: 'group', groupId: 'S0SRE' },
      pattern: 'zpool-1/data',
    });
    const bob = await policy.check(inChannel(BOB), data, READ);
    expect(bob.grant?.index).toBe(2);
    const aliceLogs = await policy.check(inChannel(ALICE), { service: 'zpool-1', partition: 'logs' }, CREATE);
    expect(aliceLogs).toMatchObject({
      allowed: false,
      userRole: 'viewer',
      denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'group', groupId: 'S0RO' } },
    });
    // Alice's admin grant on zpool-2 does not touch zpool-1: it is not named (only counted).
    expect(aliceLogs.grants.map((g) => g.index)).toEqual([0, 2, 3, 4]);
    expect(aliceLogs.grantCount).toBe(5);
    expect(aliceLogs.grants.map((g) => g.coverage)).toEqual(['covers', 'covers', 'none', 'none']);
    expect(await policy.bestRoleAnywhere(inChannel(ALICE))).toBe('admin');
    expect(await policy.bestRoleAnywhere(inChannel(BOB))).toBe('operator');
  });

  it('says which grant applies and what is missing; grants on other services are not shown', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0RO'], scope: ['zpool-123/*'] },
          { role: 'admin', users: [BOB], groups: [], scope: ['zpool-9'] },
        ],
      }),
      staticGroups({ S0RO: [ALICE] }).directory,
    );
    const target = { service: 'zpool-123', partition: 'data' };
    const decision = await policy.check(inChannel(ALICE), target, CREATE);
    expect(decision).toMatchObject({
      allowed: false,
      required: 'operator',
      userRole: 'viewer',
      cap: undefined,
      denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'group', groupId: 'S0RO' } },
    });
    // grants[1] is on zpool-9: naming it (or its pattern) would tell Alice that service exists.
    expect(decision.grants).toEqual([
      grantCheck({
        index: 0,
        role: 'viewer',
        patterns: ['zpool-123/*'],
        matched: 'zpool-123/*',
        holder: { kind: 'group', groupId: 'S0RO' },
      }),
    ]);
    expect(decision.grantCount).toBe(2);
    expect(JSON.stringify(decision)).not.toContain('zpool-9');
  });

  it('names only the patterns of a grant that match the target’s service', async () => {
    const policy = new Policy(
      access({
        grants: [
          { role: 'operator', users: [ALICE], groups: [], scope: ['zpool-secret/*', 'zpool-1/data', 'zpool-hidden'] },
        ],
      }),
      staticGroups({}).directory,
    );
    const decision = await policy.check(inChannel(ALICE), { service: 'zpool-1', partition: 'data' }, CREATE);
    expect(decision.allowed).toBe(true);
    expect(decision.grants).toEqual([
      grantCheck({
        index: 0,
        role: 'operator',
        patterns: ['zpool-1/data'],
        matched: 'zpool-1/data',
        holder: { kind: 'user' },
        listsUsers: true,
      }),
    ]);
    expect(JSON.stringify(decision)).not.toMatch(/zpool-secret|zpool-hidden/);
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
    const whole1 = await policy.check(inChannel(ALICE), { service: 'zpool-1' }, READ);
    expect(whole1).toMatchObject({ allowed: false, denial: { kind: 'no_grant', partial: true } });
    expect(whole1.grants).toEqual([
      grantCheck({
        index: 0,
        role: 'operator',
        patterns: ['zpool-1/data'],
        coverage: 'some_partitions',
        holder: { kind: 'user' },
        listsUsers: true,
      }),
    ]);
    expect((await policy.check(inChannel(ALICE), { service: 'zpool-2' }, ADD)).allowed).toBe(true);
    expect((await policy.check(inChannel(ALICE), { service: 'zpool-3' }, READ)).allowed).toBe(true);
    const unknown = await policy.check(inChannel(ALICE), { service: 'zpool-4' }, READ);
    expect(unknown).toMatchObject({ allowed: false, denial: { kind: 'no_grant', partial: false }, grants: [] });
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
    const general = await policy.check(inChannel(ALICE, 'C0GENERAL'), target, CREATE);
    expect(general).toMatchObject({
      allowed: false,
      userRole: 'admin',
      effectiveRole: 'viewer',
      cap: { channelId: 'C0GENERAL', maxRole: 'viewer', listed: true },
      denial: { kind: 'channel_cap', channelId: 'C0GENERAL', limit: 'viewer', elsewhere: ['C0INCIDENT'] },
    });
    expect((await policy.check(inChannel(ALICE, 'C0GENERAL'), target, READ)).allowed).toBe(true);

    const quiet = await policy.check(inChannel(ALICE, 'C0QUIET'), target, READ);
    expect(quiet).toMatchObject({
      allowed: false,
      effectiveRole: undefined,
      cap: { channelId: 'C0QUIET', maxRole: 'none', listed: true },
      // `none`: no nasha actions here at all; both other channels allow reading.
      denial: { kind: 'channel_cap', channelId: 'C0QUIET', limit: undefined, elsewhere: ['C0GENERAL', 'C0INCIDENT'] },
    });
    expect(await policy.bestRoleAnywhere(inChannel(ALICE, 'C0QUIET'))).toBeUndefined();
    expect(await policy.bestRoleAnywhere(inChannel(ALICE, 'C0INCIDENT'))).toBe('operator');
    expect(policy.channelLimit('C0QUIET')).toBeUndefined();
    expect(policy.channelLimit('C0GENERAL')).toBe('viewer');
    expect(policy.capOf('C0INCIDENT')).toEqual({ channelId: 'C0INCIDENT', maxRole: 'operator', listed: true });
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
    const create = await policy.check(inChannel(ALICE, 'C0INCIDENT'), target, CREATE);
    // Allowed with operator: Alice's admin is capped to operator here.
    expect(create).toMatchObject({
      allowed: true,
      userRole: 'admin',
      effectiveRole: 'operator',
      cap: { channelId: 'C0INCIDENT', maxRole: 'operator', listed: true },
      denial: undefined,
    });
    const remove = await policy.check(inChannel(ALICE, 'C0INCIDENT'), target, DELETE);
    expect(remove).toMatchObject({
      allowed: false,
      required: 'admin',
      effectiveRole: 'operator',
      // No other listed channel allows admin.
      denial: { kind: 'channel_cap', channelId: 'C0INCIDENT', limit: 'operator', elsewhere: [] },
    });
    // The grant is the limit, not the cap: the denial is about the grant.
    const bob = await policy.check(inChannel(BOB, 'C0INCIDENT'), target, CREATE);
    expect(bob).toMatchObject({
      allowed: false,
      userRole: 'viewer',
      effectiveRole: 'viewer',
      denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
    });
  });

  it('applies unlisted_channels to unlisted channels and to requests without a channel', async () => {
    const grants = [{ role: 'admin' as const, users: [ALICE], groups: [], scope: ['*'] }];
    const target = { service: 'zpool-1', partition: 'data' };
    const open = new Policy(access({ grants }), staticGroups({}).directory);
    expect((await open.check(inChannel(ALICE, 'C0ANY'), target, DELETE)).cap).toBeUndefined();

    const capped = new Policy(access({ grants, unlistedChannels: 'viewer' }), staticGroups({}).directory);
    const decision = await capped.check(inChannel(ALICE, 'C0ANY'), target, CREATE);
    expect(decision.cap).toEqual({ channelId: 'C0ANY', maxRole: 'viewer', listed: false });
    expect(decision.denial).toEqual({ kind: 'channel_cap', channelId: 'C0ANY', limit: 'viewer', elsewhere: [] });

    const closed = new Policy(
      access({ grants, unlistedChannels: 'none', channels: [{ id: 'C0OPS', maxRole: 'admin' }] }),
      staticGroups({}).directory,
    );
    const elsewhere = await closed.check(inChannel(ALICE, 'C0RANDOM'), target, READ);
    expect(elsewhere).toMatchObject({
      allowed: false,
      cap: { channelId: 'C0RANDOM', maxRole: 'none', listed: false },
      denial: { kind: 'channel_cap', channelId: 'C0RANDOM', limit: undefined, elsewhere: ['C0OPS'] },
    });
    const noChannel = await closed.check({ userId: ALICE, channelId: undefined }, target, READ);
    expect(noChannel.allowed).toBe(false);
    expect(noChannel.cap).toEqual({ channelId: undefined, maxRole: 'none', listed: false });
    expect(noChannel.denial).toEqual({
      kind: 'channel_cap',
      channelId: undefined,
      limit: undefined,
      elsewhere: ['C0OPS'],
    });
    expect((await closed.check(inChannel(ALICE, 'C0OPS'), target, DELETE)).allowed).toBe(true);
    expect(await closed.canSeeService(inChannel(ALICE, 'C0RANDOM'), 'zpool-1')).toBe(false);
    expect(await closed.filterReadable(inChannel(ALICE, 'C0RANDOM'), 'zpool-1', ['data'])).toEqual([]);
    expect(await closed.heldPatterns(inChannel(ALICE, 'C0RANDOM'))).toEqual([]);
    expect(await closed.heldPatterns(inChannel(ALICE, 'C0OPS'))).toEqual(['*']);
  });

  it('treats a directory that rejects as an unresolved group (deny), worth retrying', async () => {
    const directory: GroupDirectory = { membersOf: () => Promise.reject(new Error('ratelimited')) };
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['*'] }] }),
      directory,
    );
    const issue: GroupIssue = { groupId: 'S0SRE', state: 'unresolved', error: 'ratelimited', staleForMs: undefined };
    const decision = await policy.check(inChannel(ALICE), { service: 'zpool-1', partition: 'data' }, READ);
    expect(decision).toMatchObject({
      allowed: false,
      denial: { kind: 'no_grant', partial: false },
      // Its grant was not applied, and it could have given the missing role: try again in a minute.
      groupErrors: [issue],
      retryGroups: ['S0SRE'],
    });
    expect(decision.grants).toEqual([
      grantCheck({ index: 0, role: 'operator', patterns: ['*'], matched: '*', unresolved: [issue] }),
    ]);
  });

  it('suggests a retry only when the unresolved group’s grant could have given the missing role', async () => {
    const directory: GroupDirectory = {
      membersOf: (groupId) =>
        groupId === 'S0RO' ? Promise.reject(new Error('ratelimited')) : Promise.resolve(new Set<string>()),
    };
    const policy = new Policy(
      access({
        grants: [
          { role: 'viewer', users: [], groups: ['S0RO'], scope: ['*'] },
          { role: 'viewer', users: [ALICE], groups: [], scope: ['zpool-1/*'] },
        ],
      }),
      directory,
    );
    const decision = await policy.check(inChannel(ALICE), { service: 'zpool-1', partition: 'data' }, CREATE);
    expect(decision).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
      groupErrors: [{ groupId: 'S0RO', state: 'unresolved' }],
      retryGroups: [],
    });
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
    const decision = policy.check(inChannel(ALICE), { service: 'zpool-1', partition: 'data' }, READ);
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
    expect(await policy.heldPatterns(alice)).toEqual(['zpool-1/data', 'zpool-1/logs-*', 'zpool-2']);
  });
});

describe('Policy.check with the request role (changes that run once approved)', () => {
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

  it('an operator holds the role to request a delete or a schedule removal, not to run it directly', async () => {
    for (const action of ['snapshot.delete', 'schedule.remove'] as const) {
      const requestRole = ACTIONS[action].requestRole;
      expect(requestRole, action).toBe('operator');
      if (requestRole === undefined) continue;
      const request = await policy.check(inChannel(ALICE), target, requestRole);
      expect(request, action).toMatchObject({
        allowed: true,
        required: 'operator',
        effectiveRole: 'operator',
        grant: { index: 0, via: { kind: 'group', groupId: 'S0SRE' } },
      });

      const direct = await policy.check(inChannel(ALICE), target, ACTIONS[action].role);
      expect(direct, action).toMatchObject({
        allowed: false,
        required: 'admin',
        denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
      });
    }
  });

  it('still needs operator and the channel cap to request', async () => {
    const viewer = await policy.check(inChannel(BOB), target, 'operator');
    expect(viewer).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
    });
    const capped = await policy.check(inChannel(ALICE, 'C0GENERAL'), target, 'operator');
    expect(capped).toMatchObject({
      allowed: false,
      denial: { kind: 'channel_cap', channelId: 'C0GENERAL', limit: 'viewer', elsewhere: [] },
    });
    const elsewhere = await policy.check(inChannel(ALICE), { service: 'zpool-2', partition: 'x' }, 'operator');
    expect(elsewhere).toMatchObject({ allowed: false, denial: { kind: 'no_grant', partial: false } });
    // Only Bob's `*` grant touches zpool-2; Alice's zpool-1 grant is not named there.
    expect(elsewhere.grants.map((g) => g.index)).toEqual([1]);
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
    expect(alice).toMatchObject({
      allowed: true,
      required: ACTIONS['approval.decide'].role,
      effectiveRole: 'approver',
      grant: { index: 0, role: 'approver', via: { kind: 'user' } },
    });
    expect(alice.required).toBe('approver');
    expect(alice.approverGroups).toBeUndefined();
    const carol = await policy.canApprove(inChannel(CAROL), target, []);
    expect(carol).toMatchObject({
      allowed: true,
      grant: { index: 1, role: 'approver', via: { kind: 'group', groupId: 'S0LEADS' } },
    });
    expect((await policy.canApprove(inChannel(DAVE), target, [])).effectiveRole).toBe('admin');
  });

  it('denies an operator or someone without a grant on the target, saying what is missing', async () => {
    const policy = policyWith();
    const bob = await policy.canApprove(inChannel(BOB), target, []);
    expect(bob).toMatchObject({
      allowed: false,
      required: 'approver',
      denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
    });
    const aliceElsewhere = await policy.canApprove(inChannel(ALICE), { service: 'zpool-2', partition: 'data' }, []);
    expect(aliceElsewhere).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
    });
  });

  it('with approver groups, allows only approvers who are members of one of them', async () => {
    const policy = policyWith();
    const carol = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(carol).toMatchObject({
      allowed: true,
      grant: { via: { kind: 'group', groupId: 'S0LEADS' } },
      approverGroups: {
        groups: ['S0STORAGE'],
        memberOf: 'S0STORAGE',
        memberIssue: undefined,
        notIn: [],
        unresolved: [],
      },
    });

    const alice = await policy.canApprove(inChannel(ALICE), target, ['S0STORAGE']);
    expect(alice).toMatchObject({
      allowed: false,
      // The role is there: what is missing is the group.
      effectiveRole: 'approver',
      approverGroups: { groups: ['S0STORAGE'], memberOf: undefined, notIn: ['S0STORAGE'], unresolved: [] },
    });

    // Any one of the listed groups is enough; duplicates count once.
    const either = await policy.canApprove(inChannel(ALICE), target, ['S0STORAGE', 'S0DBA', 'S0STORAGE']);
    expect(either).toMatchObject({
      allowed: true,
      approverGroups: { groups: ['S0STORAGE', 'S0DBA'], memberOf: 'S0DBA' },
    });
    const neither = await policy.canApprove(inChannel(CAROL), target, ['S0DBA', 'S0OTHER', 'S0NONE']);
    expect(neither).toMatchObject({
      allowed: false,
      effectiveRole: 'approver',
      approverGroups: {
        groups: ['S0DBA', 'S0OTHER', 'S0NONE'],
        memberOf: undefined,
        notIn: ['S0DBA', 'S0OTHER', 'S0NONE'],
        unresolved: [],
      },
    });
  });

  it('a group membership never replaces the approver role', async () => {
    const bob = await policyWith().canApprove(inChannel(BOB), target, ['S0SRE']);
    expect(bob).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
      approverGroups: { groups: ['S0SRE'], memberOf: 'S0SRE' },
    });
    // Both are missing: the role, and (also) the group.
    const outsider = await policyWith().canApprove(inChannel(BOB), target, ['S0STORAGE']);
    expect(outsider).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
      approverGroups: { groups: ['S0STORAGE'], memberOf: undefined, notIn: ['S0STORAGE'] },
    });
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
    expect(incident).toMatchObject({
      allowed: false,
      userRole: 'admin',
      effectiveRole: 'operator',
      denial: { kind: 'channel_cap', channelId: 'C0INCIDENT', limit: 'operator', elsewhere: ['C0APPROV01'] },
    });
    const noChannel = await policy.canApprove({ userId: DAVE, channelId: undefined }, target, []);
    expect(noChannel).toMatchObject({
      allowed: false,
      denial: { kind: 'channel_cap', channelId: undefined, limit: undefined, elsewhere: ['C0APPROV01'] },
    });
  });

  it('denies while an approver group cannot be resolved, and says which', async () => {
    const directory: GroupDirectory = {
      membersOf: (groupId) =>
        groupId === 'S0STORAGE' ? Promise.reject(new Error('ratelimited')) : Promise.resolve(new Set<string>()),
    };
    const decision = await policyWith({}, directory).canApprove(inChannel(ALICE), target, ['S0STORAGE']);
    expect(decision).toMatchObject({
      allowed: false,
      effectiveRole: 'approver',
      approverGroups: {
        groups: ['S0STORAGE'],
        memberOf: undefined,
        notIn: [],
        unresolved: [{ groupId: 'S0STORAGE', state: 'unresolved', error: 'ratelimited', staleForMs: undefined }],
      },
    });
  });

  it('says when the approver group membership came from an old copy', async () => {
    const clock = new ManualClock();
    let failing = false;
    const directory = new CachedGroupDirectory(
      async (groupId) => {
        if (failing) throw new Error('slack_unavailable');
        return members[groupId as keyof typeof members] ?? [];
      },
      { clock, ttlMs: 60_000, maxStaleMs: 15 * 60_000 },
    );
    const policy = policyWith({}, directory);
    expect(
      (await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE'])).approverGroups?.memberIssue,
    ).toBeUndefined();
    failing = true;
    clock.advance(2 * 60_000);
    const stale = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(stale).toMatchObject({
      allowed: true,
      approverGroups: {
        memberOf: 'S0STORAGE',
        memberIssue: { groupId: 'S0STORAGE', state: 'stale', error: 'slack_unavailable', staleForMs: 2 * 60_000 },
      },
    });
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
    expect(left).toMatchObject({
      allowed: false,
      effectiveRole: 'approver',
      approverGroups: { memberOf: undefined, notIn: ['S0STORAGE'] },
    });

    current['S0STORAGE'] = [CAROL];
    current['S0LEADS'] = [];
    clock.advance(60_000);
    const demoted = await policy.canApprove(inChannel(CAROL), target, ['S0STORAGE']);
    expect(demoted).toMatchObject({
      allowed: false,
      denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
      approverGroups: { memberOf: 'S0STORAGE' },
    });
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
    expect((await policy.check(inChannel(ALICE), target, CREATE)).allowed).toBe(true);

    failing = true;
    clock.advance(10 * 60_000);
    const stale = await policy.check(inChannel(ALICE), target, CREATE);
    expect(stale).toMatchObject({ allowed: true, groupErrors: [], retryGroups: [] });
    // Applied from a copy 10 minutes old, refreshing it failed.
    expect(stale.grants).toEqual([
      grantCheck({
        index: 0,
        role: 'operator',
        patterns: ['*'],
        matched: '*',
        holder: { kind: 'group', groupId: 'S0SRE' },
        holderIssue: { groupId: 'S0SRE', state: 'stale', error: 'slack_unavailable', staleForMs: 10 * 60_000 },
      }),
    ]);
    expect(directory.resolutionProblem('S0SRE')).toMatchObject({ state: 'stale', error: 'slack_unavailable' });
    expect(warnings).toEqual(['cannot refresh user group; using its last known members']);

    // Within retryAfterFailureMs the failure is not retried.
    await directory.membersOf('S0SRE');
    expect(counter.fetches).toBe(2);

    clock.advance(5 * 60_000 + 1);
    const denied = await policy.check(inChannel(ALICE), target, CREATE);
    expect(counter.fetches).toBe(3);
    const issue: GroupIssue = {
      groupId: 'S0SRE',
      state: 'unresolved',
      error: 'slack_unavailable',
      staleForMs: undefined,
    };
    expect(denied).toMatchObject({
      allowed: false,
      denial: { kind: 'no_grant', partial: false },
      groupErrors: [issue],
      retryGroups: ['S0SRE'],
    });
    expect(denied.grants).toEqual([
      grantCheck({ index: 0, role: 'operator', patterns: ['*'], matched: '*', unresolved: [issue] }),
    ]);

    failing = false;
    clock.advance(5_000);
    const recovered = await policy.check(inChannel(ALICE), target, CREATE);
    expect(recovered.allowed).toBe(true);
    expect(directory.resolutionProblem('S0SRE')).toBeUndefined();
  });

  it('says when a group the user is not in was read from an old copy', async () => {
    const clock = new ManualClock();
    let failing = false;
    const directory = new CachedGroupDirectory(
      async () => {
        if (failing) throw new Error('slack_unavailable');
        return [BOB];
      },
      { clock, ttlMs: 60_000, maxStaleMs: 15 * 60_000 },
    );
    const policy = new Policy(
      access({ grants: [{ role: 'operator', users: [], groups: ['S0SRE'], scope: ['*'] }] }),
      directory,
    );
    const target = { service: 'zpool-1', partition: 'data' };
    expect((await policy.check(inChannel(ALICE), target, CREATE)).grants[0]).toMatchObject({
      notIn: ['S0SRE'],
      notInStale: false,
    });
    failing = true;
    clock.advance(2 * 60_000);
    const stale = await policy.check(inChannel(ALICE), target, CREATE);
    // Alice may have joined since that copy: the answer says so.
    expect(stale.grants[0]).toMatchObject({ holder: undefined, notIn: ['S0SRE'], notInStale: true, unresolved: [] });
    expect(stale.groupErrors).toEqual([]);
  });

  it('denies a group that never resolved', async () => {
    const directory = new CachedGroupDirectory(() => Promise.reject(new Error('missing_scope')), {
      clock: new ManualClock(),
    });
    expect((await directory.membersOf('S0SRE')).size).toBe(0);
    expect(directory.resolutionProblem('S0SRE')).toMatchObject({ state: 'unresolved', error: 'missing_scope' });
  });
});
