/**
 * Who may do what, where: grants (user or group → role on target globs) intersected with channel caps.
 * Deny by default: no covering grant, an unresolvable group or a `none` cap all mean no role.
 *
 * Identity is only `actor.userId`, the user ID from the verified Slack payload; names never reach this module.
 * Texts are Slack mrkdwn, ready for the Slack layer to post.
 */
import type { AccessConfig, CapRole } from '../config/bot-config.js';
import { NashaError } from './errors.js';
import type { GroupDirectory, GroupResolutionProblem } from './groups.js';
import type { Action, Actor, Role, Target } from './model.js';
import { ACTION_ROLE, formatTarget, maxRole, minRole, REQUEST_ROLE, roleRank } from './model.js';

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

export interface DecideOptions {
  /**
   * `'approval'`: may the actor *request* the action, to run only once approved (needs REQUEST_ROLE)?
   * Unset: may the actor run it directly (needs ACTION_ROLE)? The caller picks from the approval rules.
   */
  via?: 'approval' | undefined;
}

/** The approver group restriction of an operation, as checked by {@link Policy.canApprove}. */
export interface ApproverGroupCheck {
  /** The groups approvals are limited to (never empty). */
  groups: readonly string[];
  /** The first of them the actor is in; undefined when in none (or its members could not be resolved). */
  memberOf: string | undefined;
}

export interface Decision {
  allowed: boolean;
  action: Action;
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
  /** One actionable mrkdwn line (the reason for a denial, or what allowed it). */
  summary: string;
  /** mrkdwn lines for `/nasha can-i`: each grant and why it applied or not, the cap, the result. */
  explanation: readonly string[];
  /** Groups whose membership could not be resolved for this decision (their grants were not applied). */
  groupErrors: readonly string[];
  /** Set by `canApprove` when the operation limits its approvers to user groups. */
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

type GroupProblem = Pick<GroupResolutionProblem, 'groupId' | 'state' | 'error' | 'staleForMs'>;

interface GroupStatus {
  member: boolean;
  problem: GroupProblem | undefined;
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

/** Inline code for mrkdwn: Slack's three escapes, and no backtick that could end the span. */
function code(text: string): string {
  return `\`${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, "'")}\``;
}

const bold = (text: string) => `*${text}*`;
const groupMention = (groupId: string) => `<!subteam^${groupId}>`;
const channelMention = (channelId: string | undefined) => (channelId === undefined ? 'here' : `<#${channelId}>`);

function viaText(via: GrantVia): string {
  return via.kind === 'user' ? 'a direct grant' : groupMention(via.groupId);
}

/** `a`, `a or b`, `a, b or c`. */
function listOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? 'under a minute' : `${m} min`;
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

  async decide(actor: Actor, action: Action, target: Target, options: DecideOptions = {}): Promise<Decision> {
    const direct = ACTION_ROLE[action];
    const required = options.via === 'approval' ? REQUEST_ROLE[action] : direct;
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

    const coveringGroupProblems = this.problemsOf(
      holdings.filter(({ grant: g, via }) => via === undefined && g.patterns.some((p) => patternCovers(p, target))),
      statuses,
    );
    const groupErrors = coveringGroupProblems.map(
      (p) => `could not resolve group ${groupMention(p.groupId)} (${p.error}), so its grants were not applied`,
    );

    const where = code(formatTarget(target));
    let summary: string;
    if (allowed && effectiveRole !== undefined && userRole !== undefined && grant !== undefined) {
      summary =
        `you have ${bold(effectiveRole)} on ${where} via ${viaText(grant.via)}` +
        (effectiveRole === userRole ? '' : ` (your ${bold(userRole)} is capped to ${bold(effectiveRole)} here)`);
    } else {
      summary = this.denialSummary(required, target, where, userRole, grant, cap, holdings, actor.channelId);
      // Only worth retrying when an unresolved group's grant could have given the missing role.
      const blocking =
        userRole === undefined || roleRank(userRole) < roleRank(required)
          ? this.problemsOf(
              holdings.filter(
                ({ grant: g, via }) =>
                  via === undefined &&
                  roleRank(g.role) >= roleRank(required) &&
                  g.patterns.some((p) => patternCovers(p, target)),
              ),
              statuses,
            )
          : [];
      if (blocking.length > 0) {
        const mentions = blocking.map((p) => groupMention(p.groupId)).join(', ');
        summary += `; could not check your membership of ${mentions} right now, try again in a minute`;
      }
    }

    const explanation = [
      required === direct
        ? `${code(action)} on ${where} needs ${bold(required)}`
        : `${code(action)} on ${where} needs ${bold(required)} to request it, to run once approved (${bold(direct)} to run it directly)`,
      ...this.explainGrants(actor.userId, target, statuses),
      this.explainCap(cap, actor.channelId),
      `result: ${allowed ? '*allowed*' : '*denied*'}: ${summary}`,
    ];

    return {
      allowed,
      action,
      required,
      target,
      userRole,
      grant,
      cap: cap.match,
      effectiveRole,
      summary,
      explanation,
      groupErrors,
    };
  }

  /** What `/nasha can-i` renders: the same decision, with its `explanation`. */
  explainFor(actor: Actor, action: Action, target: Target, options: DecideOptions = {}): Promise<Decision> {
    return this.decide(actor, action, target, options);
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
      this.decide(actor, 'approval.decide', target),
      this.resolveGroupIds(actor.userId, groups),
    ]);
    if (groups.length === 0) return role;

    const memberOf = groups.find((id) => statuses.get(id)?.member === true);
    const allowed = role.allowed && memberOf !== undefined;
    const limited = `approvals of this operation are limited to members of ${listOr(groups.map(groupMention))}`;
    // A failed lookup only matters when it could have made the actor a member.
    const unresolved =
      memberOf === undefined ? groups.filter((id) => statuses.get(id)?.problem?.state === 'unresolved') : [];
    const retry =
      unresolved.length > 0
        ? `; could not check your membership of ${unresolved.map(groupMention).join(', ')} right now, try again in a minute`
        : '';

    let summary: string;
    let groupLine: string;
    if (memberOf !== undefined) {
      summary = allowed ? `${role.summary}, and you are in ${groupMention(memberOf)}` : role.summary;
      const problem = statuses.get(memberOf)?.problem;
      const stale =
        problem?.state === 'stale' && problem.staleForMs !== undefined
          ? `; membership from a copy ${minutes(problem.staleForMs)} old, refreshing it failed (${problem.error})`
          : '';
      groupLine = `approver groups: ${limited}: you are in ${groupMention(memberOf)}${stale}`;
    } else {
      summary = role.allowed ? `${limited}${retry}` : `${role.summary}; also, ${limited}${retry}`;
      const notIn = groups.filter((id) => !unresolved.includes(id));
      const parts = [
        ...(notIn.length > 0 ? [`you are not in ${notIn.map(groupMention).join(', ')}`] : []),
        ...unresolved.map(
          (id) =>
            `could not resolve group ${groupMention(id)} (${statuses.get(id)?.problem?.error ?? 'unknown error'})`,
        ),
      ];
      groupLine = `approver groups: ${limited}: ${parts.join('; ')}`;
    }

    return {
      ...role,
      allowed,
      summary,
      explanation: [
        ...role.explanation.slice(0, -1),
        groupLine,
        `result: ${allowed ? '*allowed*' : '*denied*'}: ${summary}`,
      ],
      groupErrors: [
        ...role.groupErrors,
        ...unresolved.map(
          (id) =>
            `could not resolve group ${groupMention(id)} (${statuses.get(id)?.problem?.error ?? 'unknown error'}), so its members cannot approve right now`,
        ),
      ],
      approverGroups: { groups, memberOf },
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

  /**
   * `can-i`: the decision for `subjectId` (the asker or someone else) on an action. Someone else's
   * permissions are only explained to approvers and admins.
   */
  async canI(asker: Actor, subjectId: string, action: Action, target: Target): Promise<Decision> {
    if (subjectId !== asker.userId) {
      const own = await this.bestRoleAnywhere(asker);
      if (own !== 'approver' && own !== 'admin') {
        throw new NashaError(
          'denied',
          'Only approvers and admins can check another user’s permissions; ask about yourself instead.',
        );
      }
    }
    return this.decide({ ...asker, userId: subjectId }, action, target);
  }

  /** Strongest role the user has on any scope, capped by the channel (to show only usable commands in help). */
  async bestRoleAnywhere(actor: Actor): Promise<Role | undefined> {
    const cap = this.capFor(actor.channelId);
    if (cap.limit === undefined) return undefined;
    const held = await this.heldGrants(actor.userId, () => true);
    let best: Role | undefined;
    for (const grant of held) best = maxRole(best, grant.role);
    return cap.match === undefined ? best : minRole(best, cap.limit);
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
          return [groupId, { member: members.has(userId), problem: this.groups.resolutionProblem?.(groupId) }];
        } catch (error) {
          // A directory that rejects is treated like one that cannot resolve the group: deny.
          const message = error instanceof Error ? error.message : String(error);
          return [
            groupId,
            {
              member: false,
              problem: { groupId, state: 'unresolved', error: message, staleForMs: undefined },
            },
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

  private problemsOf(holdings: readonly Holding[], statuses: ReadonlyMap<string, GroupStatus>) {
    const problems = new Map<string, GroupProblem>();
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

  private denialSummary(
    required: Role,
    target: Target,
    where: string,
    userRole: Role | undefined,
    grant: GrantMatch | undefined,
    cap: CapLimit,
    holdings: readonly Holding[],
    channelId: string | undefined,
  ): string {
    if (userRole === undefined || grant === undefined) {
      const partial =
        target.partition === undefined &&
        holdings.some(
          ({ via, grant: g }) => via !== undefined && g.patterns.some((p) => p.service.test(target.service)),
        );
      return partial
        ? `you need ${bold(required)} on every partition of ${where}: your grants cover only some of them`
        : `you have no grant on ${where} (you need ${bold(required)}); ask a nasha admin to add one to the bot config`;
    }
    if (roleRank(userRole) < roleRank(required)) {
      return `you need ${bold(required)} on ${where} (you have ${bold(userRole)} via ${viaText(grant.via)})`;
    }
    // The grant is enough: the channel cap is what blocks.
    const here = channelId === undefined ? 'outside a channel the bot allows' : 'this channel allows';
    const limit = `${here} ${cap.limit === undefined ? 'no nasha actions' : `at most ${bold(cap.limit)}`} (channel cap)`;
    const elsewhere = [...this.caps]
      .filter(([id, max]) => id !== channelId && max !== 'none' && roleRank(max) >= roleRank(required))
      .slice(0, 3)
      .map(([id]) => channelMention(id));
    return `you need ${bold(required)} on ${where}: ${limit}${elsewhere.length > 0 ? `; try ${elsewhere.join(' or ')}` : ''}`;
  }

  private explainGrants(userId: string, target: Target, statuses: ReadonlyMap<string, GroupStatus>): string[] {
    if (this.grants.length === 0) return ['no grants in the bot config: everything is denied'];
    const where = code(formatTarget(target));
    return this.grants.map((grant) => {
      const head = `grants[${grant.index}] (${bold(grant.role)} on ${grant.patterns.map((p) => code(p.source)).join(', ')})`;
      const pattern = grant.patterns.find((p) => patternCovers(p, target));
      if (pattern === undefined) {
        const some = target.partition === undefined && grant.patterns.some((p) => p.service.test(target.service));
        return `${head}: ${some ? `covers only some partitions of ${where}` : `does not cover ${where}`}`;
      }
      const via = this.viaFor(userId, grant, statuses);
      if (via?.kind === 'user')
        return `${head}: applies, you are listed in its users (matches ${code(pattern.source)})`;
      if (via?.kind === 'group') {
        const problem = statuses.get(via.groupId)?.problem;
        const stale =
          problem?.state === 'stale' && problem.staleForMs !== undefined
            ? `; membership from a copy ${minutes(problem.staleForMs)} old, refreshing it failed (${problem.error})`
            : '';
        return `${head}: applies, you are in ${groupMention(via.groupId)} (matches ${code(pattern.source)})${stale}`;
      }
      const unresolved = grant.groups.filter((id) => statuses.get(id)?.problem?.state === 'unresolved');
      const notIn = grant.groups.filter((id) => !unresolved.includes(id));
      const parts: string[] = [];
      if (notIn.length > 0) {
        const staleNote = notIn.some((id) => statuses.get(id)?.problem?.state === 'stale')
          ? ' (some member lists are from an old copy: refreshing them failed)'
          : '';
        parts.push(`you are not in ${notIn.map(groupMention).join(', ')}${staleNote}`);
      }
      for (const id of unresolved) {
        parts.push(
          `could not resolve group ${groupMention(id)} (${statuses.get(id)?.problem?.error ?? 'unknown error'})`,
        );
      }
      const listing = grant.users.size > 0 ? 'you are not listed in its users' : '';
      return `${head}: does not apply: ${[listing, ...parts].filter((s) => s !== '').join('; ')}`;
    });
  }

  private explainCap(cap: CapLimit, channelId: string | undefined): string {
    const place = channelId === undefined ? 'no channel' : `channel ${channelMention(channelId)}`;
    if (cap.match === undefined) return `${place}: not listed in channels, no cap (unlisted_channels: admin)`;
    const max = cap.match.maxRole === 'none' ? '*none* (nothing allowed)' : `at most ${bold(cap.match.maxRole)}`;
    return cap.match.listed
      ? `${place}: capped to ${max} (channels)`
      : `${place}: not listed in channels, capped to ${max} (unlisted_channels)`;
  }
}
