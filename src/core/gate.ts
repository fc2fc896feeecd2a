/**
 * The one decision of what happens when someone asks for an action: it runs now, it runs once approved, or it
 * is refused (and why). Every surface asks here; `can-i` and `help` ask the same functions, so what the bot
 * says about permissions is by construction what it does.
 */
import {
  ACTION_LIST,
  ACTIONS,
  type ActionId,
  type ActionSpec,
  APPROVABLE_ACTIONS,
  type ApprovableAction,
  type ApprovalRule,
  type ApprovalRules,
  isApprovable,
} from './actions.js';
import type { GroupDirectory } from './groups.js';
import type { Actor, Role, Target } from './model.js';
import { roleRank } from './model.js';
import type { Decision, Policy } from './policy.js';
import type { Refusal } from './problems.js';

/** Why an allowed action is allowed. */
export type Basis =
  | { kind: 'grant'; decision: Decision }
  /** A member of a `quick_snapshot.responder_groups` group (quick snapshots on every target). */
  | { kind: 'responder'; groupId: string; decision: Decision }
  /** The bot itself, taking a plan snapshot for the protection policy that covers the target. */
  | { kind: 'protection'; policy: string }
  /**
   * Break-glass: a change that needs approval, run at once by a member of its rule's `break_glass` group (who
   * holds the role to request it); audited as such and reviewed by an approver afterwards.
   */
  | { kind: 'break_glass'; groupId: string; decision: Decision };

declare const verdictBrand: unique symbol;
/** Only the gate makes verdicts: a `run` verdict is what lets the executor send a change. */
interface Branded {
  readonly [verdictBrand]: true;
}

export type RunVerdict = { kind: 'run'; action: ActionId; target: Target; basis: Basis } & Branded;
export type ApprovalVerdict = {
  kind: 'approval';
  action: ApprovableAction;
  target: Target;
  rule: ApprovalRule;
  basis: Basis;
  /** The subject is a member of the rule's break-glass group: they may also run it at once (reviewed after). */
  breakGlass?: { group: string } | undefined;
} & Branded;
export type RefusedVerdict = { kind: 'refused'; action: ActionId; target: Target; refusal: Refusal } & Branded;
export type Verdict = RunVerdict | ApprovalVerdict | RefusedVerdict;

/** `can-i`: the verdict for someone, with everything that led to it. */
export interface Explanation {
  subjectId: string;
  /** True when the asker asked about themselves. */
  self: boolean;
  action: ActionSpec;
  target: Target;
  verdict: Verdict;
  /** The role check behind the verdict (for refusals that are not `not_visible`, and for every yes). */
  decision: Decision;
  /** The approval rule, for approvable actions (whether or not it is required). */
  rule: ApprovalRule | undefined;
  /** Responder groups, for actions they grant: the one the subject is in, if any. */
  responders: { groups: readonly string[]; memberOf: string | undefined } | undefined;
  /**
   * `approval.decide`: for each change that needs approval, whether the subject could approve a request for it
   * on this target (its rule may limit approvers to user groups). Self-approval is refused whatever this says.
   */
  approvals: readonly { action: ApprovableAction; allowed: boolean; groups: readonly string[] }[] | undefined;
}

/** What `help` offers: an action the reader can use here, and how. */
export interface Offer {
  action: ActionSpec;
  mode: 'run' | 'approval';
  /** By request, and the reader may also run it at once by break-glass (a member of its rule's group). */
  breakGlass?: boolean | undefined;
}

/** What a break-glass submission asks the gate: run it now, if the rule allows it and the person may. */
export interface EvaluateOptions {
  breakGlass?: boolean | undefined;
}

/**
 * No grant touches the target at all (and no group lookup failed): the target is not the user's to know of, so a
 * refusal says "not found, or not yours" and never names or confirms it.
 */
export function seesNothingOf(decision: Decision): boolean {
  return decision.denial?.kind === 'no_grant' && !decision.denial.partial && decision.retryGroups.length === 0;
}

export interface ActionGateDeps {
  policy: Policy;
  groups: GroupDirectory;
  rules: ApprovalRules;
  /** `quick_snapshot.responder_groups`. */
  responderGroups: readonly string[];
  /** Which partitions each protection policy covers (from the configuration): what its system actor may touch. */
  protection?: { covers(policy: string, target: Target): boolean } | undefined;
}

/** What a policy's system actor may do: take its plan snapshots. Nothing destructive, nothing else. */
const SYSTEM_ACTIONS: readonly ActionId[] = ['snapshot.create'];

function brand<V extends Verdict>(verdict: Omit<V, typeof verdictBrand>): V {
  return verdict as V;
}

export class ActionGate {
  constructor(private readonly deps: ActionGateDeps) {}

  /** The approval rule when the action needs approval (known without I/O, so a form can be chosen in 3 s). */
  approvalRule(action: ActionId): ApprovalRule | undefined {
    if (!isApprovable(action)) return undefined;
    const rule = this.deps.rules[action];
    return rule.required ? rule : undefined;
  }

  /** What would happen if `actor` asked for `action` on `target` now. */
  async evaluate(actor: Actor, action: ActionId, target: Target, options: EvaluateOptions = {}): Promise<Verdict> {
    const verdict = (await this.judge(actor, action, target)).verdict;
    return options.breakGlass === true ? this.breakGlass(verdict) : verdict;
  }

  /**
   * Break-glass asked for: a run verdict exactly when the ordinary verdict is "by approval" and the person is a
   * member of the rule's break-glass group (looked up now); anything else is refused, saying why.
   */
  private breakGlass(verdict: Verdict): Verdict {
    if (verdict.kind === 'refused') return verdict;
    const { action, target } = verdict;
    if (verdict.kind === 'approval' && verdict.breakGlass !== undefined && verdict.basis.kind === 'grant') {
      const basis: Basis = { kind: 'break_glass', groupId: verdict.breakGlass.group, decision: verdict.basis.decision };
      return brand<RunVerdict>({ kind: 'run', action, target, basis });
    }
    const group = verdict.kind === 'approval' ? verdict.rule.breakGlass?.group : undefined;
    const refusal: Refusal = {
      kind: 'break_glass',
      action,
      why: verdict.kind === 'run' ? 'not_needed' : group === undefined ? 'not_allowed' : 'not_member',
      group,
    };
    return brand<RefusedVerdict>({ kind: 'refused', action, target, refusal });
  }

  /**
   * `can-i`: the same verdict for `subjectId`, in the asker's channel. Someone else's permissions are only
   * explained to approvers and admins; others are refused.
   */
  async explain(
    asker: Actor,
    subjectId: string,
    action: ActionId,
    target: Target,
  ): Promise<Explanation | RefusedVerdict> {
    if (subjectId !== asker.userId) {
      const own = await this.deps.policy.bestRoleAnywhere(asker);
      if (own === undefined || roleRank(own) < roleRank('approver')) {
        return brand<RefusedVerdict>({ kind: 'refused', action, target, refusal: { kind: 'others_permissions' } });
      }
    }
    const subject = { ...asker, userId: subjectId };
    const judged = await this.judge(subject, action, target);
    const spec = ACTIONS[action];
    return {
      subjectId,
      self: subjectId === asker.userId,
      action: spec,
      target,
      verdict: judged.verdict,
      decision: judged.decision,
      rule: isApprovable(action) ? this.deps.rules[action] : undefined,
      responders: spec.responders
        ? { groups: this.deps.responderGroups, memberOf: await this.responderGroupOf(subjectId) }
        : undefined,
      approvals: action === 'approval.decide' ? await this.approvalRights(subject, target) : undefined,
    };
  }

  private async approvalRights(subject: Actor, target: Target): Promise<NonNullable<Explanation['approvals']>> {
    const required = APPROVABLE_ACTIONS.filter((a) => this.deps.rules[a].required);
    return Promise.all(
      required.map(async (action) => {
        const groups = this.deps.rules[action].approverGroups;
        const decision = await this.deps.policy.canApprove(subject, target, groups);
        return { action, allowed: decision.allowed, groups };
      }),
    );
  }

  /**
   * `help`: every action the reader could use somewhere from this channel, and whether it runs at once or by
   * request — exactly those the gate would not refuse on some target their grants cover.
   */
  async offers(actor: Actor): Promise<Offer[]> {
    const [best, responder] = await Promise.all([
      this.deps.policy.bestRoleAnywhere(actor),
      this.responderGroupOf(actor.userId),
    ]);
    const limit = this.deps.policy.channelLimit(actor.channelId);
    const holds = (role: Role | undefined) =>
      role !== undefined && best !== undefined && roleRank(best) >= roleRank(role);
    const offers: Offer[] = [];
    for (const spec of ACTION_LIST) {
      if (spec.kind === 'system') continue; // the bot's own work: nobody asks for it
      const rule = this.approvalRule(spec.id);
      if (rule !== undefined) {
        if (holds(spec.requestRole)) {
          const breakGlass = await this.breakGlassMember(rule, actor.userId);
          offers.push({ action: spec, mode: 'approval', ...(breakGlass !== undefined && { breakGlass: true }) });
        }
      } else if (holds(spec.role)) {
        offers.push({ action: spec, mode: 'run' });
      } else if (
        spec.responders &&
        responder !== undefined &&
        limit !== undefined &&
        roleRank(limit) >= roleRank(spec.role)
      ) {
        offers.push({ action: spec, mode: 'run' });
      }
    }
    return offers;
  }

  /** Scope patterns the reader holds here (for examples that name only what they may see). */
  heldPatterns(actor: Actor): Promise<string[]> {
    return this.deps.policy.heldPatterns(actor);
  }

  private async judge(
    actor: Actor,
    action: ActionId,
    target: Target,
  ): Promise<{ verdict: Verdict; decision: Decision }> {
    if (actor.system !== undefined) return this.judgeSystem(actor.system.policy, action, target);
    const spec = ACTIONS[action];
    // What the bot does by itself (alerts) is nobody's to ask for.
    if (spec.kind === 'system') return this.judgeSystem('', action, target);
    const rule = this.approvalRule(action);
    if (rule !== undefined && isApprovable(action)) {
      const decision = await this.deps.policy.check(actor, target, spec.requestRole ?? spec.role);
      if (decision.allowed) {
        const breakGlass = await this.breakGlassMember(rule, actor.userId);
        return {
          decision,
          verdict: brand<ApprovalVerdict>({
            kind: 'approval',
            action,
            target,
            rule,
            basis: { kind: 'grant', decision },
            ...(breakGlass !== undefined && { breakGlass }),
          }),
        };
      }
      return { decision, verdict: this.refuse(action, target, 'request', decision) };
    }
    const decision = await this.deps.policy.check(actor, target, spec.role);
    if (decision.allowed) {
      return {
        decision,
        verdict: brand<RunVerdict>({ kind: 'run', action, target, basis: { kind: 'grant', decision } }),
      };
    }
    const groupId = spec.responders ? await this.responderGroupOf(actor.userId) : undefined;
    if (groupId !== undefined) {
      const limit = this.deps.policy.channelLimit(actor.channelId);
      // Responders act anywhere, but a channel cap still bounds what may be done from that channel.
      if (limit !== undefined && roleRank(limit) >= roleRank(spec.role)) {
        return {
          decision,
          verdict: brand<RunVerdict>({ kind: 'run', action, target, basis: { kind: 'responder', groupId, decision } }),
        };
      }
      // A responder stopped only by the channel cap is told so: "not found" would hide the real reason.
      const capped: Decision = {
        ...decision,
        denial: { kind: 'channel_cap', channelId: actor.channelId, limit, elsewhere: [] },
      };
      return { decision: capped, verdict: this.refuse(action, target, 'run', capped) };
    }
    return { decision, verdict: this.refuse(action, target, 'run', decision) };
  }

  /**
   * The bot acting for a protection policy: its plan snapshots run on what the policy covers (the policy is the
   * authorization an admin wrote in the configuration; no approval rule applies to it). Anything else is refused.
   */
  private judgeSystem(policy: string, action: ActionId, target: Target): { verdict: Verdict; decision: Decision } {
    const covered = target.partition !== undefined && this.deps.protection?.covers(policy, target) === true;
    const allowed = covered && SYSTEM_ACTIONS.includes(action);
    const decision: Decision = {
      allowed,
      required: ACTIONS[action].role,
      target,
      userRole: undefined,
      grant: undefined,
      cap: undefined,
      effectiveRole: undefined,
      denial: allowed ? undefined : { kind: 'no_grant', partial: false },
      retryGroups: [],
      groupErrors: [],
      grants: [],
      grantCount: 0,
    };
    if (!allowed) {
      return {
        decision,
        verdict: brand<RefusedVerdict>({
          kind: 'refused',
          action,
          target,
          refusal: { kind: 'not_visible', action, target },
        }),
      };
    }
    return {
      decision,
      verdict: brand<RunVerdict>({ kind: 'run', action, target, basis: { kind: 'protection', policy } }),
    };
  }

  private refuse(action: ActionId, target: Target, via: 'run' | 'request', decision: Decision): RefusedVerdict {
    const refusal: Refusal = seesNothingOf(decision)
      ? { kind: 'not_visible', action, target }
      : { kind: 'policy', action, via, decision };
    return brand<RefusedVerdict>({ kind: 'refused', action, target, refusal });
  }

  /** The rule's break-glass group if the user is in it now (a failed lookup counts as not a member). */
  private async breakGlassMember(rule: ApprovalRule, userId: string): Promise<{ group: string } | undefined> {
    const group = rule.breakGlass?.group;
    if (group === undefined) return undefined;
    const members = await this.deps.groups.membersOf(group).catch(() => new Set<string>());
    return members.has(userId) ? { group } : undefined;
  }

  /** The first responder group the user is in; lookups in parallel, a failed one counts as not a member. */
  private async responderGroupOf(userId: string): Promise<string | undefined> {
    const groups = this.deps.responderGroups;
    if (groups.length === 0) return undefined;
    const memberships = await Promise.all(
      groups.map((group) => this.deps.groups.membersOf(group).catch(() => new Set<string>())),
    );
    return groups.find((_group, i) => memberships[i]?.has(userId) === true);
  }
}
