/**
 * What an audit record says beyond who/what/where, as data: the reason a person typed (shown literally), the
 * people who decided (mentions built from IDs), the problem that stopped it, OVH's own words. Stored as JSON
 * in the record's `detail` text, so the hash chain and SIEM exports carry the same structure; read back with
 * zod (older records hold plain text, kept as `text`).
 */
import { z } from 'zod';
import type { ActionId, ApprovableAction } from './actions.js';
import type { Role, Target } from './model.js';
import type { Decision, Denial } from './policy.js';
import type { Problem, Refusal, TaskFailure } from './problems.js';
import type { ProtectionProblem } from './protection/model.js';
import type { Settlement } from './reconcile.js';

/**
 * A refusal as the audit trail keeps it: the role check's outcome, not every grant. `target`: what it is about,
 * kept only where the user may be shown it (a target their grants cover, or the one they typed themselves).
 */
export type AuditRefusal =
  | {
      kind: 'policy';
      action: ActionId;
      via: 'run' | 'request';
      required: Role;
      has: Role | undefined;
      denial: Denial | undefined;
      target?: Target | undefined;
    }
  | { kind: 'not_visible'; action: ActionId; target?: Target | undefined }
  | { kind: 'approval_required'; action: ApprovableAction }
  | { kind: 'others_permissions' }
  | {
      kind: 'break_glass';
      action: ActionId;
      why: 'not_allowed' | 'not_member' | 'not_needed';
      group?: string | undefined;
    }
  /** A click on an approval card that was refused (self-approval, not an approver, not the requester…). */
  | { kind: 'click'; why: ClickRefusalKind; required?: Role | undefined; has?: Role | undefined };

export type ClickRefusalKind =
  | 'self_approval'
  | 'self_rejection'
  | 'not_requester'
  | 'not_approver'
  | 'not_in_approver_group'
  | 'already_voted'
  | 'closed'
  | 'expired'
  /** An Acknowledge click on a break-glass review by the person who ran the change. */
  | 'self_review';

export type AuditProblem = Exclude<Problem, { kind: 'refused' }> | { kind: 'refused'; refusal: AuditRefusal };

export interface QuickAuditSummary {
  label: string;
  expiration: string | null;
  taken: readonly string[];
  failed: readonly string[];
  full: readonly string[];
  denied: readonly string[];
  /** Partitions not reached yet (a run in progress). */
  pending: number;
}

/** What a protection record is about: a plan snapshot the policy took, or an alert and its fixes. */
export interface ProtectionAuditDetail {
  policy: string;
  /** A plan snapshot: its class and slot, how late it ran, and whether the bot was down at its time. */
  plan?: { label: string; slotAt: number; lateMs: number; missed: boolean } | undefined;
  /** An alert: the problem as it stands. */
  problem?: ProtectionProblem | undefined;
  /** People who pressed the alert's Fix button. */
  fixedBy?: readonly string[] | undefined;
  /** How the alert ended. */
  resolution?: 'cleared' | 'uncovered' | undefined;
}

/** A break-glass change as the audit trail keeps it (the reason is the record's `reason`). */
export interface BreakGlassAuditDetail {
  group: string;
  /** The review: the id of its card, and who acknowledged it (when). */
  reviewId?: string | undefined;
  acknowledgedBy?: string | undefined;
  acknowledgedAt?: number | undefined;
}

export interface AuditDetail {
  /** Words a person typed: a request's reason, a rejection's reason, a quick run's reason. Shown literally. */
  reason?: string | undefined;
  /** The approval request the record belongs to. */
  approvalId?: string | undefined;
  /** Who approved, rejected or cancelled (Slack user IDs, shown as mentions). */
  decidedBy?: readonly string[] | undefined;
  /** Why it was refused, failed or did nothing. */
  problem?: AuditProblem | undefined;
  /** How OVH's task ended badly (its status, OVH's own words). */
  task?: TaskFailure | undefined;
  /** How a change whose answer was lost (or that was never sent) was settled on OVH. */
  settlement?: Settlement | undefined;
  /** Written by older versions: a failed task in the bot's words around OVH's. */
  ovh?: string | undefined;
  /** Written by older versions: what the bot found on OVH after a lost answer, in its own words. */
  note?: string | undefined;
  /** A quick snapshot run's partitions by state. */
  quick?: QuickAuditSummary | undefined;
  /** Protection: a plan snapshot, or an alert. */
  protection?: ProtectionAuditDetail | undefined;
  /** Run at once by break-glass, without approval: the group that allowed it, and its review once acknowledged. */
  breakGlass?: BreakGlassAuditDetail | undefined;
  /** Text of a record written before details were structured. */
  text?: string | undefined;
}

export function auditRefusal(refusal: Refusal): AuditRefusal {
  switch (refusal.kind) {
    case 'policy':
      return {
        kind: 'policy',
        action: refusal.action,
        via: refusal.via,
        required: refusal.decision.required,
        has: refusal.decision.effectiveRole,
        denial: refusal.decision.denial,
        ...(mayName(refusal.decision) && { target: refusal.decision.target }),
      };
    case 'not_visible':
      // The target as the user asked for it: "not found, or not yours" confirms nothing.
      return { kind: 'not_visible', action: refusal.action, target: refusal.target };
    case 'approval_required':
      return { kind: 'approval_required', action: refusal.action };
    case 'others_permissions':
      return { kind: 'others_permissions' };
    case 'break_glass':
      return { kind: 'break_glass', action: refusal.action, why: refusal.why, group: refusal.group };
  }
}

/**
 * Whether a role check's target may be named to the user: one their grants cover (on a service, some of its
 * partitions). A responder stopped by a channel cap, or a group that could not be resolved, names none.
 */
function mayName(decision: Decision): boolean {
  return decision.userRole !== undefined || (decision.denial?.kind === 'no_grant' && decision.denial.partial);
}

export function auditProblem(problem: Problem): AuditProblem {
  return problem.kind === 'refused' ? { kind: 'refused', refusal: auditRefusal(problem.refusal) } : problem;
}

const MAX_TEXT = 2_000;

/** Serialized as stored (bounded: a reason is cut to 1,000 characters, the whole to 9,000). */
export function serializeAuditDetail(detail: AuditDetail): string {
  const bounded: AuditDetail = {
    ...detail,
    ...(detail.reason !== undefined && { reason: detail.reason.slice(0, 1_000) }),
    ...(detail.ovh !== undefined && { ovh: detail.ovh.slice(0, MAX_TEXT) }),
    ...(detail.task?.details !== undefined && {
      task: { ...detail.task, details: detail.task.details.slice(0, MAX_TEXT) },
    }),
  };
  let json = JSON.stringify(bounded);
  if (json.length > 9_000 && bounded.quick !== undefined) {
    const q = bounded.quick;
    json = JSON.stringify({ ...bounded, quick: { ...q, taken: q.taken.slice(0, 50), failed: q.failed.slice(0, 50) } });
  }
  return json;
}

const looseObject = z.record(z.string(), z.unknown());
const AuditDetailSchema = z.object({
  reason: z.string().optional(),
  approvalId: z.string().optional(),
  decidedBy: z.array(z.string()).optional(),
  problem: looseObject.and(z.object({ kind: z.string() })).optional(),
  task: looseObject.and(z.object({ outcome: z.string() })).optional(),
  settlement: looseObject.and(z.object({ kind: z.string() })).optional(),
  ovh: z.string().optional(),
  note: z.string().optional(),
  quick: z
    .object({
      label: z.string(),
      expiration: z.string().nullable(),
      taken: z.array(z.string()),
      failed: z.array(z.string()),
      full: z.array(z.string()),
      denied: z.array(z.string()),
      pending: z.number().int().nonnegative(),
    })
    .optional(),
  protection: looseObject.and(z.object({ policy: z.string() })).optional(),
  breakGlass: z
    .object({
      group: z.string(),
      reviewId: z.string().optional(),
      acknowledgedBy: z.string().optional(),
      acknowledgedAt: z.number().optional(),
    })
    .optional(),
  text: z.string().optional(),
});

/**
 * The stored text back as data. Anything that is not a detail object (older plain-text records) becomes
 * `text`. The problem, the task's end and the settlement are passed through by kind: the renderer words only the kinds it knows.
 */
export function parseAuditDetail(stored: string | null): AuditDetail | undefined {
  if (stored === null || stored === '') return undefined;
  if (!stored.startsWith('{')) return { text: stored };
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch {
    return { text: stored };
  }
  const parsed = AuditDetailSchema.safeParse(json);
  if (!parsed.success) return { text: stored };
  const { problem, task, settlement, protection, ...rest } = parsed.data;
  return {
    ...rest,
    ...(problem !== undefined && { problem: problem as unknown as AuditProblem }),
    ...(task !== undefined && { task: task as unknown as TaskFailure }),
    ...(settlement !== undefined && { settlement: settlement as unknown as Settlement }),
    // Passed through as written by core: the renderer words only the kinds it knows.
    ...(protection !== undefined && { protection: protection as unknown as ProtectionAuditDetail }),
  };
}
