/**
 * Who holds which role where: grants (user or group → role on target globs) intersected with channel caps.
 * Deny by default: no covering grant, an unresolvable group or a `none` cap all mean no role.
 *
 * Identity is only `actor.userId`, the user ID from the verified Slack payload; names never reach this module.
 * It knows roles, not actions: the gate (src/core/gate.ts) asks for the role an action needs, from the action
 * table. Every answer is data (which grant, which cap, why not); the Slack layer words it.
 */

import type { GroupDirectory, GroupResolutionProblem } from './groups.js';
import type { AccessConfig, Actor, CapRole, Role, Target } from './model.js';
import { maxRole, minRole, roleRank } from './model.js';

/** How the user holds a grant: listed in `users`, or a member of one of its `groups`. */
export type GrantVia = { kind: 'user' } | { kind: 'group'; groupId: string };

export interface GrantMatch {
  /** Position in the config's `grants` list (shown as `grants[i]`). */
  index: number;
  role: Role;
  via: GrantVia;
  /** The first of the grant's scope patterns that covers the target. */
  pattern: string;
}

export interface CapMatch {
  /** Undefined for requests that come from no channel (they get the unlisted cap). */
  channelId: string | undefined;
  maxRole: CapRole;
  /** True when the channel is in `channels`, false when the `unlisted_channels` cap applies. */
  listed: boolean;
}

/** A group whose member list is not fresh: used from an old copy (`stale`) or not at all (`unresolved`). */
export interface GroupIssue {
  groupId: string;
  state: 'stale' | 'unresolved';
  error: string;
  /** Age of the copy in use, for `stale`. */
  staleForMs: number | undefined;
}

/** Why a role check failed, as data. */
export type Denial =
  /** No grant covers the target; `partial`: grants cover only some partitions of a service-wide target. */
  | { kind: 'no_grant'; partial: boolean }
  /** A grant covers it, with too weak a role. */
  | { kind: 'role_too_low'; has: Role; via: GrantVia }
  /** The grant is enough; the channel cap is what blocks. `elsewhere`: channels (listed) that allow it. */
  | { kind: 'channel_cap'; channelId: string | undefined; limit: Role | undefined; elsewhere: readonly string[] };

/** One grant as it relates to the target, for `can-i`. Only grants that touch the target's service are shown. */
export interface GrantCheck {
  index: number;
  role: Role;
  /** The grant's patterns that match the target's service (others would name services beyond the target). */
  patterns: readonly string[];
  coverage: 'covers' | 'some_partitions' | 'none';
  /** The pattern that covers the target. */
  matched: string | undefined;
  /** How the user holds it; undefined: they do not. */
  holder: GrantVia | undefined;
  /** For a group holder: its member list's issue, if stale. */
  holderIssue: GroupIssue | undefined;
  /** The grant's groups the user is not in (resolved). */
  notIn: readonly string[];
  /** The grant's groups that could not be resolved. */
  unresolved: readonly GroupIssue[];
  /** Whether the grant lists users (the user is not one of them when `holder` is not a user). */
  listsUsers: boolean;
  /** Some of the groups the user is not in were read from an old copy. */
  notInStale: boolean;
}

/** The approver-group restriction of a rule, as checked by {@link Policy.canApprove}. */
export interface ApproverGroupCheck {
  /** The groups approvals are limited to (never empty). */
  groups: readonly string[];
  /** The first of them the actor is in; undefined when in none (or its members could not be resolved). */
  memberOf: string | undefined;
  memberIssue: GroupIssue | undefined;
  notIn: readonly string[];
  unresolved: readonly GroupIssue[];
}

export interface Decision {
  allowed: boolean;
  required: Role;
  target: Target;
  /** Strongest role the user's grants give on the target, before the channel cap. */
  userRole: Role | undefined;
  /** The grant that gives `userRole`; the first one in config order on a tie. */
  grant: GrantMatch | undefined;
  /** The channel cap that applies; undefined when there is none (unlisted channel, `unlisted_channels: admin`). */
  cap: CapMatch | undefined;
  /** min(userRole, cap); `none` caps give undefined. */
  effectiveRole: Role | undefined;
  /** Why not, when not allowed. */
  denial: Denial | undefined;
  /** Unresolved groups whose grant could have given the missing role: worth retrying in a minute. */
  retryGroups: readonly string[];
  /** Groups covering the target whose membership could not be resolved (their grants were not applied). */
  groupErrors: readonly GroupIssue[];
  /** Grants that touch the target's service, in config order. */
  grants: readonly GrantCheck[];
  /** How many grants there are in all (the others do not touch this service and are not named). */
  grantCount: number;
  /** Set by `canApprove` when the rule limits its approvers to user groups. */
  approverGroups?: ApproverGroupCheck;
}

interface CompiledPattern {
  source: string;
  service: RegExp;
  /** Undefined: the pattern names a service, so it covers every partition of it. */
  partition: RegExp | undefined;
  everyPartition: boolean;
}

interface CompiledGrant {
  index: number;
  role: Role;
  users: ReadonlySet<string>;
  groups: readonly string[];
  patterns: readonly CompiledPattern[];
}

interface GroupStatus {
  member: boolean;
  problem: GroupIssue | undefined;
}

interface Holding {
  grant: CompiledGrant;
  via: GrantVia | undefined;
}

interface CapLimit {
  match: CapMatch | undefined;
  /** The strongest usable role here; undefined when the cap is `none`. */
  limit: Role | undefined;
}

const ALL_ROLES_CAP: Role = 'admin';

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}$`);
}

function compilePattern(source: string): CompiledPattern {
  const slash = source.indexOf('/');
  const service = slash === -1 ? source : source.slice(0, slash);
  const partition = slash === -1 ? undefined : source.slice(slash + 1);
  return {
    source,
    service: globToRegExp(service),
    partition: partition === undefined ? undefined : globToRegExp(partition),
    // `*` matches any partition name (they never contain `/`), so `svc/*` covers the whole service.
    everyPartition: partition === undefined || /^\*+$/.test(partition),
  };
}

function patternCovers(pattern: CompiledPattern, target: Target): boolean {
  if (!pattern.service.test(target.service)) return false;
  if (target.partition === undefined) return pattern.everyPartition;
  return pattern.partition === undefined || pattern.partition.test(target.partition);
}

/**
 * Whether a scope pattern covers a target. A pattern without `/` covers every partition of the services it
 * matches; a service-only target is covered only by a pattern that covers every partition of it.
 */
export function scopeCovers(pattern: string, target: Target): boolean {
  return patternCovers(compilePattern(pattern), target);
}

export class Policy {
  private readonly grants: readonly CompiledGrant[];
  private readonly caps: ReadonlyMap<string, CapRole>;
  private readonly unlisted: CapRole;
  private readonly groups: GroupDirectory;

  constructor(config: AccessConfig, groups: GroupDirectory) {
    this.grants = config.grants.map((grant, index) => ({
      index,
      role: grant.role,
      users: new Set(grant.users),
      groups: [...new Set(grant.groups)],
      patterns: grant.scope.map(compilePattern),
    }));
    this.caps = new Map(config.channels.map((channel) => [channel.id, channel.maxRole]));
    this.unlisted = config.unlistedChannels;
    this.groups = groups;
  }

  /** Does the actor hold `required` (or stronger) on `target`, after the channel cap? */
  async check(actor: Actor, target: Target, required: Role): Promise<Decision> {
    const touching = this.grants.filter((grant) => grant.patterns.some((p) => p.service.test(target.service)));
    const statuses = await this.resolveGroups(actor.userId, touching);
    const holdings = touching.map((grant) => ({ grant, via: this.viaFor(actor.userId, grant, statuses) }));

    let grant: GrantMatch | undefined;
    for (const { grant: g, via } of holdings) {
      const pattern = g.patterns.find((p) => patternCovers(p, target));
      if (via === undefined || pattern === undefined) continue;
      if (grant === undefined || roleRank(g.role) > roleRank(grant.role)) {
        grant = { index: g.index, role: g.role, via, pattern: pattern.source };
      }
    }
    const userRole = grant?.role;
    const cap = this.capFor(actor.channelId);
    const effectiveRole = cap.match === undefined ? userRole : minRole(userRole, cap.limit);
    const allowed = effectiveRole !== undefined && roleRank(effectiveRole) >= roleRank(required);

    const covering = (g: CompiledGrant) => g.patterns.some((p) => patternCovers(p, target));
    const groupErrors = this.problemsOf(
      holdings.filter(({ grant: g, via }) => via === undefined && covering(g)),
      statuses,
    );
    // Only worth retrying when an unresolved group's grant could have given the missing role.
    const retryGroups =
      !allowed && (userRole === undefined || roleRank(userRole) < roleRank(required))
        ? this.problemsOf(
            holdings.filter(
              ({ grant: g, via }) => via === undefined && roleRank(g.role) >= roleRank(required) && covering(g),
            ),
            statuses,
          ).map((p) => p.groupId)
        : [];

    return {
      allowed,
      required,
      target,
      userRole,
      grant,
      cap: cap.match,
      effectiveRole,
      denial: allowed ? undefined : this.denialOf(required, target, userRole, grant, cap, holdings, actor.channelId),
      retryGroups,
      groupErrors,
      grants: touching.map((g) => this.grantCheck(actor.userId, g, target, statuses)),
      grantCount: this.grants.length,
    };
  }

  /**
   * Whether the actor may approve a request on `target` now: *approver* (or admin) there after the cap of
   * `actor.channelId`, and, when `approverGroups` is not empty, membership of one of them, resolved like grant
   * groups (a group that cannot be resolved counts as not joined). Call it at every click: nothing is cached here.
   * Self-approval and counting each person once are the caller's to enforce.
   */
  async canApprove(actor: Actor, target: Target, approverGroups: readonly string[]): Promise<Decision> {
    const groups = [...new Set(approverGroups)];
    const [role, statuses] = await Promise.all([
      this.check(actor, target, 'approver'),
      this.resolveGroupIds(actor.userId, groups),
    ]);
    if (groups.length === 0) return role;
    const memberOf = groups.find((id) => statuses.get(id)?.member === true);
    const unresolved = groups
      .map((id) => statuses.get(id)?.problem)
      .filter((p): p is GroupIssue => p?.state === 'unresolved');
    return {
      ...role,
      allowed: role.allowed && memberOf !== undefined,
      approverGroups: {
        groups,
        memberOf,
        memberIssue: memberOf === undefined ? undefined : statuses.get(memberOf)?.problem,
        notIn: groups.filter((id) => statuses.get(id)?.member !== true && !unresolved.some((u) => u.groupId === id)),
        unresolved: memberOf === undefined ? unresolved : [],
      },
    };
  }

  /**
   * The user groups and users whose grants make them approvers (or admins) on `target`, before any channel cap:
   * whom a reminder names when the rule names no approver groups. Data from the config only (no look-up).
   */
  approversOf(target: Target): { groups: string[]; users: string[] } {
    const granting = this.grants.filter(
      (g) => roleRank(g.role) >= roleRank('approver') && g.patterns.some((p) => patternCovers(p, target)),
    );
    return {
      groups: [...new Set(granting.flatMap((g) => g.groups))],
      users: [...new Set(granting.flatMap((g) => [...g.users]))],
    };
  }

  /** Viewer on at least one partition of the service (some held grant's service glob matches), after the cap. */
  async canSeeService(actor: Actor, service: string): Promise<boolean> {
    if (this.capFor(actor.channelId).limit === undefined) return false;
    const held = await this.heldGrants(actor.userId, (p) => p.service.test(service));
    return held.length > 0;
  }

  /** The partitions of a service the user may read here, in the given order. */
  async filterReadable(actor: Actor, service: string, partitions: readonly string[]): Promise<string[]> {
    if (this.capFor(actor.channelId).limit === undefined) return [];
    const held = await this.heldGrants(actor.userId, (p) => p.service.test(service));
    return partitions.filter((partition) =>
      held.some((grant) => grant.patterns.some((p) => patternCovers(p, { service, partition }))),
    );
  }

  /** Strongest role the user has on any scope, after the channel cap (what `help` may offer here). */
  async bestRoleAnywhere(actor: Actor): Promise<Role | undefined> {
    const cap = this.capFor(actor.channelId);
    if (cap.limit === undefined) return undefined;
    const held = await this.heldGrants(actor.userId, () => true);
    let best: Role | undefined;
    for (const grant of held) best = maxRole(best, grant.role);
    return cap.match === undefined ? best : minRole(best, cap.limit);
  }

  /** The strongest role usable in this channel at all (undefined: `none`). */
  channelLimit(channelId: string | undefined): Role | undefined {
    return this.capFor(channelId).limit;
  }

  /** The channel cap as data, for `can-i`. */
  capOf(channelId: string | undefined): CapMatch | undefined {
    return this.capFor(channelId).match;
  }

  /** Scope patterns of the grants the user holds, after the cap (help picks its examples from them). */
  async heldPatterns(actor: Actor): Promise<string[]> {
    if (this.capFor(actor.channelId).limit === undefined) return [];
    const held = await this.heldGrants(actor.userId, () => true);
    return held.flatMap((grant) => grant.patterns.map((p) => p.source));
  }

  private async heldGrants(userId: string, relevant: (pattern: CompiledPattern) => boolean): Promise<CompiledGrant[]> {
    const candidates = this.grants.filter((grant) => grant.patterns.some(relevant));
    const statuses = await this.resolveGroups(userId, candidates);
    return candidates.filter((grant) => this.viaFor(userId, grant, statuses) !== undefined);
  }

  /** Membership of the groups of these grants, all fetched in parallel; grants listing the user need none. */
  private resolveGroups(userId: string, grants: readonly CompiledGrant[]): Promise<ReadonlyMap<string, GroupStatus>> {
    const ids = new Set<string>();
    for (const grant of grants) if (!grant.users.has(userId)) for (const id of grant.groups) ids.add(id);
    return this.resolveGroupIds(userId, ids);
  }

  /** Membership of these groups, all fetched in parallel; a directory that rejects means not a member. */
  private async resolveGroupIds(userId: string, ids: Iterable<string>): Promise<ReadonlyMap<string, GroupStatus>> {
    const entries = await Promise.all(
      [...ids].map(async (groupId): Promise<[string, GroupStatus]> => {
        try {
          const members = await this.groups.membersOf(groupId);
          return [groupId, { member: members.has(userId), problem: issueOf(this.groups.resolutionProblem?.(groupId)) }];
        } catch (error) {
          // A directory that rejects is treated like one that cannot resolve the group: deny.
          const message = error instanceof Error ? error.message : String(error);
          return [
            groupId,
            { member: false, problem: { groupId, state: 'unresolved', error: message, staleForMs: undefined } },
          ];
        }
      }),
    );
    return new Map(entries);
  }

  private viaFor(userId: string, grant: CompiledGrant, statuses: ReadonlyMap<string, GroupStatus>) {
    if (grant.users.has(userId)) return { kind: 'user' } as const;
    const groupId = grant.groups.find((id) => statuses.get(id)?.member === true);
    return groupId === undefined ? undefined : ({ kind: 'group', groupId } as const);
  }

  private problemsOf(holdings: readonly Holding[], statuses: ReadonlyMap<string, GroupStatus>): GroupIssue[] {
    const problems = new Map<string, GroupIssue>();
    for (const { grant } of holdings) {
      for (const id of grant.groups) {
        const problem = statuses.get(id)?.problem;
        if (problem?.state === 'unresolved') problems.set(id, problem);
      }
    }
    return [...problems.values()];
  }

  private capFor(channelId: string | undefined): CapLimit {
    const listed = channelId === undefined ? undefined : this.caps.get(channelId);
    const maxRole = listed ?? this.unlisted;
    if (listed === undefined && maxRole === ALL_ROLES_CAP) return { match: undefined, limit: ALL_ROLES_CAP };
    return {
      match: { channelId, maxRole, listed: listed !== undefined },
      limit: maxRole === 'none' ? undefined : maxRole,
    };
  }

  private denialOf(
    required: Role,
    target: Target,
    userRole: Role | undefined,
    grant: GrantMatch | undefined,
    cap: CapLimit,
    holdings: readonly Holding[],
    channelId: string | undefined,
  ): Denial {
    if (userRole === undefined || grant === undefined) {
      const partial =
        target.partition === undefined &&
        holdings.some(
          ({ via, grant: g }) => via !== undefined && g.patterns.some((p) => p.service.test(target.service)),
        );
      return { kind: 'no_grant', partial };
    }
    if (roleRank(userRole) < roleRank(required)) return { kind: 'role_too_low', has: userRole, via: grant.via };
    const elsewhere = [...this.caps]
      .filter(([id, max]) => id !== channelId && max !== 'none' && roleRank(max) >= roleRank(required))
      .slice(0, 3)
      .map(([id]) => id);
    return { kind: 'channel_cap', channelId, limit: cap.limit, elsewhere };
  }

  private grantCheck(
    userId: string,
    grant: CompiledGrant,
    target: Target,
    statuses: ReadonlyMap<string, GroupStatus>,
  ): GrantCheck {
    const pattern = grant.patterns.find((p) => patternCovers(p, target));
    const some = target.partition === undefined && grant.patterns.some((p) => p.service.test(target.service));
    const holder = this.viaFor(userId, grant, statuses);
    const unresolved = grant.groups
      .map((id) => statuses.get(id)?.problem)
      .filter((p): p is GroupIssue => p?.state === 'unresolved');
    const notIn = holder === undefined ? grant.groups.filter((id) => !unresolved.some((u) => u.groupId === id)) : [];
    return {
      index: grant.index,
      role: grant.role,
      patterns: grant.patterns.filter((p) => p.service.test(target.service)).map((p) => p.source),
      coverage: pattern !== undefined ? 'covers' : some ? 'some_partitions' : 'none',
      matched: pattern?.source,
      holder,
      holderIssue: holder?.kind === 'group' ? statuses.get(holder.groupId)?.problem : undefined,
      notIn,
      unresolved: holder === undefined ? unresolved : [],
      listsUsers: grant.users.size > 0,
      notInStale: notIn.some((id) => statuses.get(id)?.problem?.state === 'stale'),
    };
  }
}

function issueOf(problem: GroupResolutionProblem | undefined): GroupIssue | undefined {
  return problem === undefined
    ? undefined
    : { groupId: problem.groupId, state: problem.state, error: problem.error, staleForMs: problem.staleForMs };
}
