/**
 * Everything that can stop a request, as data. Core throws or returns these; the Slack layer words them
 * (src/slack/blocks/problems.ts), and the audit record stores them as they are.
 */
import type { InstantProblem } from '../shared/calendar.js';
import type { DurationProblem } from '../shared/duration.js';
import type { ActionId, ApprovableAction } from './actions.js';
import type { AuditRefusal } from './audit-detail.js';
import type { Target } from './model.js';
import type { Decision } from './policy.js';

/** What the bot was asking OVH when it failed. */
export type OvhStep =
  | 'list services'
  | 'read service'
  | 'list partitions'
  | 'read partition'
  | 'read frequencies'
  | 'list snapshots'
  | 'read snapshot'
  | 'create snapshot'
  | 'delete snapshot'
  | 'add frequency'
  | 'remove frequency'
  | 'read task';

export type OvhFailure =
  | 'not_found'
  | 'unavailable'
  | 'refused'
  | 'invalid'
  | 'timeout'
  | 'clock'
  | 'network'
  | 'parse'
  | 'unexpected';

/** Why the gate refused an action. */
export type Refusal =
  /** The user's roles (after the channel cap) are not enough; `via`: what they tried (run it, or request it). */
  | { kind: 'policy'; action: ActionId; via: 'run' | 'request'; decision: Decision }
  /** Nothing the user may see is there: never confirms that the target exists. */
  | { kind: 'not_visible'; action: ActionId; target: Target }
  /** A change that needs approval reached the executor without one (a surface routed it wrongly). */
  | { kind: 'approval_required'; action: ApprovableAction }
  /** `can-i` about someone else, asked by someone who is not an approver or admin. */
  | { kind: 'others_permissions' }
  /**
   * Break-glass asked for and not allowed: the rule has none (`not_allowed`), the person is not in its group
   * (`not_member`, naming it), or the change needs no approval anyway (`not_needed`).
   */
  | {
      kind: 'break_glass';
      action: ActionId;
      why: 'not_allowed' | 'not_member' | 'not_needed';
      group: string | undefined;
    };

export type InvalidExpiration = 'empty' | 'syntax' | 'not_a_date' | 'duration' | 'too_soon' | 'past' | 'too_far';

export type Problem =
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'invalid_name'; name: string }
  | {
      kind: 'invalid_expiration';
      text: string;
      why: InvalidExpiration;
      /**
       * Why the date (`not_a_date`) or the duration (`duration`) is wrong, as the calendar or the duration grammar
       * says it (e.g. February 2027 has 28 days). Records written by older versions hold their English words.
       */
      detail?: InstantProblem | DurationProblem | string | undefined;
      /** The moment it named (past), or the latest allowed (too_far). */
      at?: number | undefined;
      now?: number | undefined;
      /** The shortest (too_soon) or longest (too_far) allowed. */
      limitMs?: number | undefined;
    }
  | { kind: 'reason_required'; action: ApprovableAction }
  | { kind: 'reason_too_short'; purpose: 'request' | 'reject' | 'break_glass' }
  | { kind: 'frequency_enabled'; target: Target; type: string }
  | { kind: 'frequency_not_enabled'; target: Target; type: string; enabled: readonly string[] }
  | { kind: 'snapshot_exists'; target: Target; name: string }
  | { kind: 'snapshot_missing'; target: Target; name: string; suggestions: readonly string[] }
  | { kind: 'partition_full'; target: Target; count: number; max: number }
  | { kind: 'partition_missing'; service: string; partition: string; suggestions: readonly string[] }
  | { kind: 'service_missing'; service: string; suggestions: readonly string[] }
  | { kind: 'quick_target_missing' }
  | { kind: 'quick_target_invalid'; spec: string }
  | { kind: 'quick_target_unknown'; spec: string; suggestions: readonly string[] }
  | { kind: 'service_empty'; service: string }
  /**
   * Nothing in a quick run may be taken by this user: the first partition's refusal (naming its partition only
   * if the user may see it), and the target as they typed it.
   */
  | { kind: 'quick_refused'; refusal: AuditRefusal; spec: string }
  /** An approved request that no longer matches: the configuration changed since it was made. */
  | { kind: 'config_changed' }
  /** An approved request whose stored content does not match what was approved. */
  | { kind: 'approval_mismatch' }
  /** The snapshot to delete changed since the request (its expiration). */
  | { kind: 'snapshot_changed'; name: string; expiration: string | null; was: string | null }
  /** `restore --at`: a moment that is not one, or in the future. */
  | {
      kind: 'invalid_restore_time';
      text: string;
      why: 'missing' | 'syntax' | 'not_a_date' | 'duration' | 'future';
      /** The calendar's or the duration grammar's reason, as data. */
      detail?: InstantProblem | DurationProblem | undefined;
      now: number;
    }
  /** `status <name>`: neither a policy nor a service the user may see. */
  | { kind: 'status_target_unknown'; text: string; policies: readonly string[] }
  /** Protection is not configured (no `protection:` section). */
  | { kind: 'protection_off' }
  /** An alert's Fix: the alert is gone, resolved, or has no fix. */
  | { kind: 'alert_not_fixable'; why: 'unknown' | 'resolved' | 'no_fix' }
  | {
      kind: 'ovh';
      failure: OvhFailure;
      step: OvhStep;
      target: Target | undefined;
      name: string | undefined;
      httpStatus: number | undefined;
      ovhMessage: string | undefined;
    };

/** OVH failing a call: what the bot was doing, how OVH failed, OVH's own words. */
export type OvhProblem = Extract<Problem, { kind: 'ovh' }>;

/**
 * How OVH's task for a change ended badly: failed (its status), still running at the deadline (its last status),
 * or no longer known to OVH. `details`: OVH's own words, or the error text the tracking ended on, never the bot's.
 */
export interface TaskFailure {
  outcome: 'failed' | 'timeout' | 'lost';
  status: string | undefined;
  details: string | undefined;
}

/** The coarse category of a problem (how it is shown: icon, log level). */
export type ProblemCode =
  | 'denied'
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'limit_reached'
  | 'ovh_refused'
  | 'ovh_unavailable';

export function problemCode(problem: Problem): ProblemCode {
  switch (problem.kind) {
    case 'refused':
    case 'quick_refused':
      return problem.refusal.kind === 'not_visible' ? 'not_found' : 'denied';
    case 'invalid_name':
    case 'invalid_expiration':
    case 'reason_required':
    case 'reason_too_short':
    case 'quick_target_missing':
    case 'quick_target_invalid':
    case 'invalid_restore_time':
      return 'invalid_input';
    case 'status_target_unknown':
    case 'protection_off':
    case 'alert_not_fixable':
      return 'not_found';
    case 'frequency_enabled':
    case 'snapshot_exists':
      return 'conflict';
    case 'frequency_not_enabled':
    case 'snapshot_missing':
    case 'partition_missing':
    case 'service_missing':
    case 'quick_target_unknown':
    case 'service_empty':
      return 'not_found';
    case 'partition_full':
      return 'limit_reached';
    case 'config_changed':
    case 'approval_mismatch':
    case 'snapshot_changed':
      return 'conflict';
    case 'ovh':
      return problem.failure === 'not_found'
        ? 'not_found'
        : problem.failure === 'refused'
          ? 'ovh_refused'
          : problem.failure === 'invalid'
            ? 'invalid_input'
            : 'ovh_unavailable';
  }
}

/** A problem whose change would have no effect: the state asked for is already there. */
export function isNoop(problem: Problem, action: ActionId): boolean {
  return (
    (action === 'schedule.add' && problem.kind === 'frequency_enabled') ||
    (action === 'schedule.remove' && problem.kind === 'frequency_not_enabled')
  );
}

/** Problems that are about the target, not about the user's input or OVH's health. */
export function suggestionsOf(problem: Problem): readonly string[] {
  return 'suggestions' in problem ? problem.suggestions : [];
}
