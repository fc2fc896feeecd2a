/**
 * The one entry point for changes, whichever surface they come from (command, form, button, shortcut): ask the
 * gate, check the input, then run the change, file it for approval, or refuse it — every refusal audited once —
 * and return what happened as a typed outcome. Listeners only parse the payload, call `submit` and render.
 */
import type { Task } from '../ovh/models.js';
import type { Clock } from '../shared/clock.js';
import type { ApprovalRule } from './actions.js';
import type { ApprovalRequest, ApprovalService } from './approvals.js';
import { auditProblem } from './audit-detail.js';
import type { BreakGlassService } from './break-glass.js';
import { NashaError } from './errors.js';
import type { ActionGate } from './gate.js';
import type { Actor } from './model.js';
import { checkSnapshotName, defaultSnapshotName, parseExpiration } from './naming.js';
import type { AuditSink, JsonValue } from './ports.js';
import { isNoop, type Problem } from './problems.js';
import type { ChangeRequest, ChangeResult, PartitionTarget, SnapshotService } from './snapshot-service.js';
import { subjectOf } from './snapshot-service.js';

/** A change as a person asked for it, before the bot filled in defaults (a name, an expiration date). */
export type ChangeDraft =
  | Exclude<ChangeRequest, { action: 'snapshot.create' }>
  | {
      action: 'snapshot.create';
      target: PartitionTarget;
      name?: string | undefined;
      /** As typed: `12h`, `7d`, an ISO 8601 date or date-time. */
      expires?: string | undefined;
    };

export type SubmitOutcome =
  /** Sent to OVH; `done` settles when its task ends. */
  | { kind: 'started'; request: ChangeRequest; auditId: string; task: Task | undefined; done: Promise<ChangeResult> }
  /** Filed for approval. */
  | { kind: 'pending'; request: ChangeRequest; approval: ApprovalRequest }
  /** The same change is already waiting for approval: nothing new was filed. */
  | { kind: 'already_pending'; request: ChangeRequest; approval: ApprovalRequest }
  /** It needs approval and came without a reason: ask for one (nothing was recorded). */
  | { kind: 'needs_reason'; request: ChangeRequest; rule: ApprovalRule }
  /** Refused before anything was sent: not allowed, or the input is wrong (audited, except form slips). */
  | { kind: 'refused'; draft: ChangeDraft; problem: Problem }
  /** Nothing to do: the state asked for is already there (audited as a no-op). */
  | { kind: 'noop'; request: ChangeRequest; problem: Problem }
  /** Could not be sent (OVH refused or could not be reached; audited as failed). */
  | { kind: 'failed'; request: ChangeRequest; problem: Problem };

export interface SubmitOptions {
  /** Why, from the person (required for changes that need approval). */
  reason?: string | undefined;
  /** Where the result is reported (opaque to core), kept with the task or the approval request. */
  reply?: JsonValue;
  /** The other changes submitted with this one (a form): an approval's preview counts them. */
  together?: readonly ChangeDraft[];
  /**
   * Break-glass: run it now, without waiting for approval (only for a member of the rule's break-glass group,
   * looked up again here; the reason is required, at least {@link BREAK_GLASS_MIN_REASON} characters).
   */
  breakGlass?: boolean | undefined;
}

export interface ChangeDeskDeps {
  gate: ActionGate;
  service: Pick<SnapshotService, 'change'>;
  approvals: Pick<ApprovalService, 'request'>;
  /** Records the review of a break-glass change and tells the approvers (absent: break-glass is refused). */
  breakGlass?: Pick<BreakGlassService, 'opened'> | undefined;
  audit: AuditSink;
  clock: Clock;
}

/** Reasons shorter than this are refused: the approvers read them. */
export const MIN_REASON_LENGTH = 3;
/** A break-glass change runs without a second person: its reason is what the approvers review afterwards. */
export const BREAK_GLASS_MIN_REASON = 20;

export class ChangeDesk {
  constructor(private readonly deps: ChangeDeskDeps) {}

  async submit(actor: Actor, draft: ChangeDraft, options: SubmitOptions = {}): Promise<SubmitOutcome> {
    const breakGlass = options.breakGlass === true;
    // Break-glass is decided by the gate again, now (membership looked up), whatever the surface said.
    const verdict = await this.deps.gate.evaluate(actor, draft.action, draft.target, { breakGlass });
    const base = { actor, action: draft.action, target: draft.target, subject: draftSubject(draft) };
    const reasonGiven = options.reason?.trim() ?? '';
    if (verdict.kind === 'refused') {
      const problem: Problem = { kind: 'refused', refusal: verdict.refusal };
      await this.deps.audit.record({
        ...base,
        outcome: 'denied',
        detail: { problem: auditProblem(problem), ...(breakGlass && reasonGiven !== '' && { reason: reasonGiven }) },
      });
      return { kind: 'refused', draft, problem };
    }
    if (verdict.kind === 'run' && verdict.basis.kind === 'break_glass') {
      if (this.deps.breakGlass === undefined) {
        // Nobody could review it here: refused like a rule without break-glass (never silently run).
        const refusal = { kind: 'break_glass', action: draft.action, why: 'not_allowed', group: undefined } as const;
        const problem: Problem = { kind: 'refused', refusal };
        await this.deps.audit.record({ ...base, outcome: 'denied', detail: { problem: auditProblem(problem) } });
        return { kind: 'refused', draft, problem };
      }
      if (reasonGiven.length < BREAK_GLASS_MIN_REASON) {
        const problem: Problem = { kind: 'reason_too_short', purpose: 'break_glass' };
        await this.deps.audit.record({
          ...base,
          outcome: 'invalid',
          detail: { problem, ...(reasonGiven !== '' && { reason: reasonGiven }) },
        });
        return { kind: 'refused', draft, problem };
      }
    }
    let request: ChangeRequest;
    try {
      request = this.resolve(draft);
    } catch (error) {
      if (!(error instanceof NashaError)) throw error;
      await this.deps.audit.record({ ...base, outcome: 'invalid', detail: { problem: auditProblem(error.problem) } });
      return { kind: 'refused', draft, problem: error.problem };
    }
    if (verdict.kind === 'approval') {
      const reason = options.reason?.trim() ?? '';
      if (reason === '') return { kind: 'needs_reason', request, rule: verdict.rule };
      if (reason.length < MIN_REASON_LENGTH) {
        return { kind: 'refused', draft, problem: { kind: 'reason_too_short', purpose: 'request' } };
      }
      const together = (options.together ?? []).filter((d) => d !== draft).map((d) => this.resolveQuietly(d));
      return this.fileApproval(
        actor,
        request,
        reason,
        verdict,
        options.reply ?? null,
        together.filter((r) => r !== undefined),
      );
    }
    try {
      const glass = verdict.basis.kind === 'break_glass' ? verdict.basis : undefined;
      const started = await this.deps.service.change(actor, request, options.reply ?? null, {
        verdict,
        ...(glass !== undefined && { reason: reasonGiven }),
      });
      if (glass !== undefined)
        await this.deps.breakGlass?.opened(actor, request, reasonGiven, glass.groupId, started.auditId);
      return { kind: 'started', request, ...started };
    } catch (error) {
      if (!(error instanceof NashaError)) throw error;
      return isNoop(error.problem, request.action)
        ? { kind: 'noop', request, problem: error.problem }
        : { kind: 'failed', request, problem: error.problem };
    }
  }

  private async fileApproval(
    actor: Actor,
    request: ChangeRequest,
    reason: string,
    verdict: Parameters<ApprovalService['request']>[3],
    reply: JsonValue,
    together: readonly ChangeRequest[],
  ): Promise<SubmitOutcome> {
    try {
      const filed = await this.deps.approvals.request(actor, request, reason, verdict, reply, together);
      return filed.existing
        ? { kind: 'already_pending', request, approval: filed.request }
        : { kind: 'pending', request, approval: filed.request };
    } catch (error) {
      if (!(error instanceof NashaError)) throw error;
      const noop = isNoop(error.problem, request.action);
      await this.deps.audit.record({
        actor,
        action: request.action,
        target: request.target,
        subject: subjectOf(request),
        outcome: noop ? 'noop' : 'failed',
        detail: { problem: auditProblem(error.problem), reason },
      });
      return noop
        ? { kind: 'noop', request, problem: error.problem }
        : { kind: 'failed', request, problem: error.problem };
    }
  }

  private resolveQuietly(draft: ChangeDraft): ChangeRequest | undefined {
    try {
      return this.resolve(draft);
    } catch {
      return undefined;
    }
  }

  /** Defaults and input checks: a name for an unnamed snapshot, the expiration as OVH wants it. */
  private resolve(draft: ChangeDraft): ChangeRequest {
    if (draft.action !== 'snapshot.create') return draft;
    const now = this.deps.clock.now();
    const name = draft.name?.trim() || defaultSnapshotName(draft.target.partition, now);
    checkSnapshotName(name);
    const expiration = draft.expires === undefined ? undefined : parseExpiration(draft.expires, now);
    return { action: 'snapshot.create', target: draft.target, name, expiration };
  }
}

function draftSubject(draft: ChangeDraft): string | undefined {
  return draft.action === 'snapshot.create' ? draft.name : subjectOf(draft);
}
