import { createHash, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { SnapshotType } from '../ovh/models.js';
import type { Clock } from '../shared/clock.js';
import { type CompareAndSetResult, compareAndSet, type Modification } from '../shared/compare-and-set.js';
import type { ApprovableAction, ApprovalRule } from './actions.js';
import type { AuditDetail, AuditProblem, ClickRefusalKind } from './audit-detail.js';
import { auditProblem } from './audit-detail.js';
import { NashaError } from './errors.js';
import type { ApprovalVerdict } from './gate.js';
import type { Actor, Role, Target } from './model.js';
import type { Decision } from './policy.js';
import type { AuditSink, JsonValue, StoredIntent } from './ports.js';
import { type ChangeRequest, type ChangeResult, type SnapshotService, stepOf, subjectOf } from './snapshot-service.js';

export type { ApprovableAction, ApprovalRule } from './actions.js';

export const APPROVAL_STATES = [
  'pending',
  'approved',
  'executing',
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'cancelled',
  'invalidated',
] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];
export const OPEN_STATES: readonly ApprovalState[] = ['pending', 'approved', 'executing'];

/** What the approver is shown, computed from the live API when the request is made. */
export type ImpactPreview =
  | { kind: 'snapshot'; name: string; expiration: string | null; customLeft: number; enabled: SnapshotType[] }
  | {
      kind: 'frequency';
      type: SnapshotType;
      remaining: SnapshotType[];
      /** How far back automatic restore points reach, before and after (ms; null = none). */
      reachBeforeMs: number | null;
      reachAfterMs: number | null;
      customCount: number;
    };

export interface ApprovalVote {
  userId: string;
  at: number;
}

export interface ApprovalRequest {
  id: string;
  version: number;
  state: ApprovalState;
  change: ChangeRequest;
  requester: { userId: string; channelId: string | null };
  reason: string;
  preview: ImpactPreview;
  contentHash: string;
  configVersion: string;
  quorum: number;
  approverGroups: readonly string[];
  approvals: readonly ApprovalVote[];
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decisionReason: string | null;
  taskId: number | null;
  /** Why it failed or was not executed, as data (the store keeps it as the audit detail's JSON). */
  outcomeDetail: ApprovalOutcomeDetail | null;
  auditId: string | null;
  reply: JsonValue;
  /** Where the card goes; `ts` of a card posted before the notification outbox; `version` handed to the outbox. */
  card: { channel: string; ts: string | null; version: number };
  /** Reminders claimed so far and whether it was escalated (each claimed once, across replicas); none if absent. */
  nudges?: ApprovalNudgeState | undefined;
}

export interface ApprovalNudgeState {
  reminders: number;
  escalated: boolean;
}

const NO_NUDGES: ApprovalNudgeState = { reminders: 0, escalated: false };

/** Who a reminder names: user groups (`approverGroups`, else the approver grants' groups) and approver users. */
export interface ApproverMentions {
  groups: readonly string[];
  users: readonly string[];
}

/** A reminder in the card's thread, as data: the Slack layer renders and delivers it. */
export interface ApprovalNudge {
  kind: 'reminder' | 'escalation';
  /** Which reminder this is (1, 2…); an escalation carries the reminders claimed with it. */
  number: number;
  approvers: ApproverMentions;
  /** The rule's escalate_to groups, named from the escalation on. */
  escalatedTo: readonly string[];
}

/** Fields a transition may change. */
export interface ApprovalPatch {
  state?: ApprovalState;
  approvals?: readonly ApprovalVote[];
  decidedBy?: string | null;
  decisionReason?: string | null;
  taskId?: number | null;
  outcomeDetail?: ApprovalOutcomeDetail | null;
  auditId?: string | null;
}

/**
 * How an executed or invalidated request ended, when not plainly done: the problem that stopped it, how OVH's
 * task ended, or how the change was settled on OVH. Rows written by older versions hold text (`text`, `ovh`).
 */
export type ApprovalOutcomeDetail = Pick<AuditDetail, 'problem' | 'task' | 'settlement' | 'ovh' | 'note' | 'text'>;

/** Persistence with compare-and-set: every transition names the version it starts from. */
export interface ApprovalRepository {
  insert(request: ApprovalRequest): Promise<void>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Applies `patch` as version+1 only if the stored version is still `expectedVersion`. */
  update(id: string, expectedVersion: number, patch: ApprovalPatch, now: number): Promise<ApprovalRequest | undefined>;
  /** Requests in pending, approved or executing state. */
  open(): Promise<ApprovalRequest[]>;
  /** Requests whose card was handed to the notification outbox at an older version than the request. */
  staleCards(): Promise<ApprovalRequest[]>;
  /** Records the version handed to the notification outbox (never lowered). */
  cardQueued(id: string, version: number): Promise<void>;
  /**
   * Moves a pending request's reminder state from `from` to `to`, only if it is still pending and still at
   * `from` (compare-and-set: one replica wins each reminder). The request's version does not change.
   */
  claimNudge(id: string, from: ApprovalNudgeState, to: ApprovalNudgeState): Promise<boolean>;
}

/**
 * What a request owes Slack, as data: the Slack layer renders it and writes it to the durable notification
 * outbox, which delivers it (retried until Slack takes it, once per message). Both are idempotent.
 */
export interface ApprovalNotices {
  /** The card is to show this version of the request: posted once, then rewritten, never to an older version. */
  card(request: ApprovalRequest): Promise<void>;
  /** The requester is to be told how the request ended (one DM per request). */
  outcome(request: ApprovalRequest): Promise<void>;
  /** The card's thread is to show its decisions so far (each vote, the end): one reply each. */
  history?(request: ApprovalRequest): Promise<void>;
  /** A reminder (or the escalation) in the card's thread; an escalation also tells the requester. Idempotent. */
  nudge?(request: ApprovalRequest, nudge: ApprovalNudge): Promise<void>;
  /** The request is decided: reminders not posted yet are withdrawn. */
  withdrawNudges?(request: ApprovalRequest): Promise<void>;
}

/** Who may decide: checked again at every click. */
export interface ApprovalPolicy {
  canApprove(actor: Actor, target: Target, approverGroups: readonly string[]): Promise<Decision>;
  /** The user groups and users whose grants make them approvers (or admins) on `target` (for reminders). */
  approversOf?(target: Target): ApproverMentions;
}

/** Why a click on a card did nothing, as data. */
export type ClickRefusal =
  | { kind: 'unknown_request'; id: string }
  | { kind: 'closed'; id: string; state: ApprovalState }
  | { kind: 'expired'; id: string }
  | { kind: 'self_approval'; id: string }
  | { kind: 'self_rejection'; id: string }
  | { kind: 'already_voted'; id: string; remaining: number }
  | { kind: 'not_approver'; id: string; decision: Decision }
  | { kind: 'not_requester'; id: string }
  | { kind: 'reason_too_short'; id: string }
  | { kind: 'busy'; id: string };

/** What a click did. */
export type ClickEffect =
  | { kind: 'approved'; remaining: number }
  | { kind: 'running' }
  | { kind: 'rejected' }
  | { kind: 'cancelled' };

export type ClickResult =
  | { ok: true; request: ApprovalRequest; effect: ClickEffect }
  | { ok: false; refusal: ClickRefusal };

/** A filed request, or the open one that already asks for the same change. */
export interface FiledRequest {
  request: ApprovalRequest;
  existing: boolean;
}

export interface ApprovalServiceDeps {
  repo: ApprovalRepository;
  /** Only what approvals use of the snapshot service: the live preview and the change itself. */
  service: Pick<SnapshotService, 'inspect' | 'change' | 'changeIntentOf'>;
  policy: ApprovalPolicy;
  audit: AuditSink;
  notices: ApprovalNotices;
  rules: Readonly<Record<ApprovableAction, ApprovalRule>>;
  configVersion: string;
  approvalsChannel: string | undefined;
  clock: Clock;
  logger?: Logger;
  /**
   * How often the sweeper looks even with nothing due (other replicas' requests). Infinity: no timed
   * wake-ups at all, only after local changes (for tests that fast-forward a shared virtual clock).
   */
  sweepIntervalMs?: number;
}

/** How long each automatic frequency keeps its (single, latest) restore point. */
const PERIOD_MS: Readonly<Record<SnapshotType, number>> = {
  'hour-1': 3_600_000,
  'hour-6': 6 * 3_600_000,
  'day-1': 86_400_000,
  'day-2': 2 * 86_400_000,
  'day-3': 3 * 86_400_000,
  'day-7': 7 * 86_400_000,
};

const CAS_ATTEMPTS = 20;
/** An execution with no change intent this long after it was claimed is not running anywhere any more. */
const INTERRUPTED_AFTER_MS = 10 * 60_000;
/** Where a request ends: its card shows the end and the requester is told. */
const FINAL_STATES = APPROVAL_STATES.filter((state) => !OPEN_STATES.includes(state));

/**
 * The two-person rule, in the manner of Teleport's access requests: rules on the server, no
 * self-review, every decision a compare-and-set transition in the database, execution exactly once
 * after re-validating the request against the live API.
 *
 * pending → approved → executing → succeeded | failed | invalidated
 * pending → rejected | expired | cancelled
 */
export class ApprovalService {
  private readonly deps: ApprovalServiceDeps;
  private running = false;
  private wake: (() => void) | undefined;
  /** A wake-up arrived since the current pass began: make another pass before sleeping. */
  private kicked = false;
  private loop: Promise<void> | undefined;

  constructor(deps: ApprovalServiceDeps) {
    this.deps = deps;
  }

  /**
   * Files a request the gate said needs approval: a live preview, the durable row, its audit record, then the
   * card. An open request for the same change (whoever asked) is returned instead of a second one.
   * `together`: the other changes of the same submission (a form), so the preview shows what will be left.
   */
  async request(
    actor: Actor,
    change: ChangeRequest,
    reason: string,
    verdict: ApprovalVerdict,
    reply: JsonValue = null,
    together: readonly ChangeRequest[] = [],
  ): Promise<FiledRequest> {
    const channel = this.deps.approvalsChannel;
    const sameTarget =
      verdict.target.service === change.target.service && verdict.target.partition === change.target.partition;
    if (verdict.action !== change.action || !sameTarget || channel === undefined) {
      throw new Error(`${change.action} was not found to need approval`);
    }
    const rule = verdict.rule;
    const existing = (await this.deps.repo.open()).find((r) => r.state === 'pending' && sameChange(r.change, change));
    if (existing !== undefined) return { request: existing, existing: true };
    const preview = toPreview(change, await this.deps.service.inspect(change), together);
    const now = this.deps.clock.now();
    const trimmed = reason.trim().slice(0, 1_000);
    const request: ApprovalRequest = {
      id: newRequestId(),
      version: 1,
      state: 'pending',
      change,
      requester: { userId: actor.userId, channelId: actor.channelId ?? null },
      reason: trimmed,
      preview,
      contentHash: contentHash(change, actor.userId, this.deps.configVersion),
      configVersion: this.deps.configVersion,
      quorum: rule.quorum,
      approverGroups: rule.approverGroups,
      approvals: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + rule.ttlMs,
      decidedBy: null,
      decisionReason: null,
      taskId: null,
      outcomeDetail: null,
      auditId: null,
      reply,
      card: { channel, ts: null, version: 0 },
      nudges: { reminders: 0, escalated: false },
    };
    await this.deps.repo.insert(request);
    const audit = await this.deps.audit.record({
      actor,
      action: change.action,
      target: change.target,
      subject: subjectOf(change),
      outcome: 'requested',
      detail: { approvalId: request.id, reason: request.reason },
    });
    const stored = (await this.transition(request.id, () => ({ auditId: audit.id }))) ?? request;
    this.kick();
    return { request: stored, existing: false };
  }

  /** An Approve click. Every rule is checked again, now, for this user. */
  async approve(actor: Actor, id: string): Promise<ClickResult> {
    const result = await this.updateRequest<ClickResult>(id, async (request) => {
      const refusal = await voteRefusal(this.deps.policy, actor, request, this.deps.clock.now());
      if (refusal !== undefined) {
        if (refusal.kind === 'expired') await this.expire(request);
        return { decline: await this.refuseClick(actor, request, refusal) };
      }
      const approvals = [...request.approvals, { userId: actor.userId, at: this.deps.clock.now() }];
      const reached = approvals.length >= request.quorum;
      return { write: { approvals, ...(reached && { state: 'approved' as const, decidedBy: actor.userId }) } };
    });
    if (result.outcome === 'missing') return { ok: false, refusal: { kind: 'unknown_request', id } };
    if (result.outcome === 'exhausted') return { ok: false, refusal: { kind: 'busy', id } };
    if (result.outcome === 'declined') return result.value;
    // What this click wrote (the stored row may have moved on since): the votes, and approved if the quorum is met.
    const { value: updated, change } = result;
    const approvals = change.approvals ?? [];
    if (change.state === 'approved') {
      await this.updateAudit(updated, 'approved', { decidedBy: approvals.map((v) => v.userId) });
      this.kick();
      void this.execute(id).catch((error: unknown) =>
        this.deps.logger?.error({ err: error, approval: id }, 'approval execution failed'),
      );
      return { ok: true, request: updated, effect: { kind: 'running' } };
    }
    await this.syncCard(id);
    return { ok: true, request: updated, effect: { kind: 'approved', remaining: updated.quorum - approvals.length } };
  }

  async reject(actor: Actor, id: string, reason: string): Promise<ClickResult> {
    const trimmed = reason.trim();
    if (trimmed.length < 3) return { ok: false, refusal: { kind: 'reason_too_short', id } };
    return this.close(
      actor,
      id,
      'rejected',
      async (request) => {
        if (actor.userId === request.requester.userId) return { kind: 'self_rejection', id };
        const decision = await this.deps.policy.canApprove(actor, request.change.target, request.approverGroups);
        return decision.allowed ? undefined : { kind: 'not_approver', id, decision };
      },
      trimmed,
    );
  }

  async cancel(actor: Actor, id: string): Promise<ClickResult> {
    return this.close(actor, id, 'cancelled', async (request) =>
      actor.userId === request.requester.userId ? undefined : { kind: 'not_requester', id },
    );
  }

  get(id: string): Promise<ApprovalRequest | undefined> {
    return this.deps.repo.get(id);
  }

  /** Expiry, card delivery and resumption on a timer, so they happen with no one clicking. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  /** One pass: expire what is due, remind, finish approved requests, deliver stale cards. */
  async sweep(): Promise<number | undefined> {
    const now = this.deps.clock.now();
    let next: number | undefined;
    for (const request of await this.deps.repo.open()) {
      if (request.state === 'pending') {
        if (now >= request.expiresAt) await this.expire(request);
        else {
          const nudgeAt = await this.nudge(request, now);
          next = Math.min(next ?? Number.POSITIVE_INFINITY, request.expiresAt, nudgeAt ?? Number.POSITIVE_INFINITY);
        }
      } else if (request.state === 'approved') {
        await this.execute(request.id);
      }
    }
    for (const request of await this.deps.repo.staleCards()) await this.syncCard(request.id);
    return next;
  }

  /**
   * Reminders of a pending request: claims the ones due (compare-and-set on its reminder state, so one replica
   * sends each), then hands the latest claimed reminder and escalation to the outbox (idempotent on their keys,
   * so a claim whose sending was cut short by a crash is sent by the next pass). Returns when the next is due.
   */
  private async nudge(request: ApprovalRequest, now: number): Promise<number | undefined> {
    const rule = this.deps.rules[request.change.action];
    const plan = nudgePlan(request, rule, now);
    let state = request.nudges ?? NO_NUDGES;
    if (plan.due !== undefined && (await this.deps.repo.claimNudge(request.id, state, plan.due))) state = plan.due;
    if (state.reminders > 0 || state.escalated) {
      const approvers = this.approversOf(request);
      const escalatedTo = state.escalated ? (rule.escalateTo ?? []) : [];
      const current = { ...request, nudges: state };
      if (state.escalated) {
        await this.deps.notices.nudge?.(current, { kind: 'escalation', number: 0, approvers, escalatedTo });
      }
      if (state.reminders > 0) {
        await this.deps.notices.nudge?.(current, {
          kind: 'reminder',
          number: state.reminders,
          approvers,
          escalatedTo,
        });
      }
      // Decided meanwhile: what was just handed over is withdrawn (the decision withdraws what came before).
      const after = await this.deps.repo.get(request.id);
      if (after === undefined || after.state !== 'pending') await this.deps.notices.withdrawNudges?.(current);
    }
    return plan.nextAt !== undefined && plan.nextAt < request.expiresAt ? plan.nextAt : undefined;
  }

  /** Who a reminder names: the rule's approver groups, else the groups and users of the approver grants. */
  private approversOf(request: ApprovalRequest): ApproverMentions {
    if (request.approverGroups.length > 0) return { groups: request.approverGroups, users: [] };
    const all = this.deps.policy.approversOf?.(request.change.target) ?? { groups: [], users: [] };
    return { groups: all.groups, users: all.users.filter((u) => u !== request.requester.userId) };
  }

  /** After a restart: requests left executing with a task are followed through the task journal. */
  async onResumedResult(approvalId: string, result: ChangeResult): Promise<void> {
    await this.finishExecution(approvalId, result);
  }

  /**
   * Executing requests that never got a task id (a process died mid-execution). Those whose change intent was
   * written are the reconciliation sweep's: it asks OVH and reports through `onResumedResult`. One without an
   * intent never reached OVH (the process died while re-validating it): failed, saying nothing was changed,
   * once it is older than any live execution could be.
   */
  async recoverInterrupted(): Promise<void> {
    const now = this.deps.clock.now();
    for (const request of await this.deps.repo.open()) {
      if (request.state !== 'executing' || request.taskId !== null) continue;
      const intent = request.auditId === null ? undefined : await this.deps.service.changeIntentOf(request.auditId);
      if (intent !== undefined) {
        // Settled by a sweep whose report to this request was cut short: report it now.
        const result = intentResult(intent);
        if (result !== undefined) await this.finishExecution(request.id, result);
        continue;
      }
      if (now - request.updatedAt < INTERRUPTED_AFTER_MS) continue;
      await this.transition(request.id, (r) =>
        r.state === 'executing' && r.taskId === null
          ? { state: 'failed', outcomeDetail: { settlement: { kind: 'not_sent' } } }
          : undefined,
      );
      await this.finished(request.id);
    }
  }

  // ---------------------------------------------------------------- internals

  private async run(): Promise<void> {
    const interval = this.deps.sweepIntervalMs ?? 30_000;
    await this.recoverInterrupted().catch((error: unknown) =>
      this.deps.logger?.error({ err: error }, 'approval recovery failed'),
    );
    while (this.running) {
      this.kicked = false;
      let next: number | undefined;
      try {
        next = await this.sweep();
      } catch (error) {
        this.deps.logger?.error({ err: error }, 'approval sweep failed');
      }
      if (!this.running) break;
      // A kick during the pass may concern a row the pass had already read past (a new request's card).
      if (this.kicked) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // An infinite interval means "only when kicked" (tests that fast-forward a shared clock).
        if (Number.isFinite(interval)) {
          const now = this.deps.clock.now();
          const wakeAt = Math.min(next ?? Number.POSITIVE_INFINITY, now + interval);
          void this.deps.clock.sleep(Math.max(0, wakeAt - now)).then(resolve);
        }
      });
      this.wake = undefined;
    }
  }

  private kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Exactly once: only the caller whose approved → executing CAS succeeds sends anything to OVH. */
  private async execute(id: string): Promise<void> {
    const current = await this.deps.repo.get(id);
    if (current === undefined || current.state !== 'approved') return;
    const claimed = await this.deps.repo.update(id, current.version, { state: 'executing' }, this.deps.clock.now());
    if (claimed === undefined) return;
    await this.syncCard(id);
    const why = await this.revalidate(claimed);
    if (why !== undefined) {
      await this.transition(id, () => ({
        state: 'invalidated',
        outcomeDetail: { problem: why },
      }));
      await this.updateAudit(claimed, 'invalidated', { problem: why });
      await this.finished(id);
      return;
    }
    const requester = { userId: claimed.requester.userId, channelId: claimed.requester.channelId ?? undefined };
    try {
      if (claimed.auditId === null) throw new Error(`approval ${id} has no audit record`);
      const started = await this.deps.service.change(
        requester,
        claimed.change,
        { approvalId: id },
        { approvedAuditId: claimed.auditId },
      );
      const task = started.task;
      if (task !== undefined) {
        await this.transition(id, () => ({ taskId: task.taskId }));
        await this.syncCard(id);
      }
      await this.finishExecution(id, await started.done);
    } catch (error) {
      const problem: AuditDetail['problem'] =
        error instanceof NashaError
          ? auditProblem(error.problem)
          : {
              kind: 'ovh',
              failure: 'unexpected',
              step: stepOf(claimed.change),
              target: claimed.change.target,
              name: undefined,
              httpStatus: undefined,
              ovhMessage: undefined,
            };
      const gone = error instanceof NashaError && (error.code === 'not_found' || error.code === 'conflict');
      await this.transition(id, () => ({
        state: gone ? 'invalidated' : 'failed',
        outcomeDetail: { problem },
      }));
      if (gone) await this.updateAudit(claimed, 'invalidated', { problem });
      await this.finished(id);
      if (!(error instanceof NashaError)) throw error;
    }
  }

  private async finishExecution(id: string, result: ChangeResult): Promise<void> {
    // Not known yet (OVH's answer was lost and OVH cannot be asked): it stays executing until the sweep knows.
    if (result.outcome === 'unknown') return;
    const succeeded = result.outcome === 'succeeded' || result.outcome === 'applied';
    await this.transition(id, (r) =>
      r.state === 'executing'
        ? {
            state: succeeded ? 'succeeded' : 'failed',
            taskId: result.taskId,
            outcomeDetail: outcomeDetailOf(result),
          }
        : undefined,
    );
    await this.finished(id);
  }

  /** The request as it stands must still be exactly what was approved, against the live API. */
  private async revalidate(request: ApprovalRequest): Promise<AuditProblem | undefined> {
    if (request.configVersion !== this.deps.configVersion) return { kind: 'config_changed' };
    if (contentHash(request.change, request.requester.userId, this.deps.configVersion) !== request.contentHash) {
      return { kind: 'approval_mismatch' };
    }
    let preview: ImpactPreview;
    try {
      preview = toPreview(request.change, await this.deps.service.inspect(request.change));
    } catch (error) {
      if (error instanceof NashaError && error.code === 'not_found') return auditProblem(error.problem);
      throw error;
    }
    if (
      preview.kind === 'snapshot' &&
      request.preview.kind === 'snapshot' &&
      preview.expiration !== request.preview.expiration
    ) {
      return {
        kind: 'snapshot_changed',
        name: preview.name,
        expiration: preview.expiration,
        was: request.preview.expiration,
      };
    }
    return undefined;
  }

  private async close(
    actor: Actor,
    id: string,
    state: 'rejected' | 'cancelled',
    check: (request: ApprovalRequest) => Promise<ClickRefusal | undefined>,
    reason?: string,
  ): Promise<ClickResult> {
    const result = await this.updateRequest<ClickResult>(id, async (request) => {
      if (request.state !== 'pending') {
        return { decline: await this.refuseClick(actor, request, { kind: 'closed', id, state: request.state }) };
      }
      const refusal = await check(request);
      if (refusal !== undefined) return { decline: await this.refuseClick(actor, request, refusal) };
      return { write: { state, decidedBy: actor.userId, decisionReason: reason ?? null } };
    });
    if (result.outcome === 'missing') return { ok: false, refusal: { kind: 'unknown_request', id } };
    if (result.outcome === 'exhausted') return { ok: false, refusal: { kind: 'busy', id } };
    if (result.outcome === 'declined') return result.value;
    const updated = result.value;
    await this.updateAudit(updated, state, {
      decidedBy: [actor.userId],
      ...(reason !== undefined && { decisionReason: reason }),
    });
    await this.finished(id);
    return { ok: true, request: updated, effect: { kind: state } };
  }

  /** Every refused click is audited once (as `refused`, on the request it was about), then answered. */
  private async refuseClick(actor: Actor, request: ApprovalRequest, refusal: ClickRefusal): Promise<ClickResult> {
    const why = clickRefusalKind(refusal);
    if (why !== undefined) {
      const decision = refusal.kind === 'not_approver' ? refusal.decision : undefined;
      const groups = decision?.approverGroups;
      await this.deps.audit
        .record({
          actor,
          action: 'approval.decide',
          target: request.change.target,
          subject: request.id,
          outcome: 'refused',
          detail: {
            approvalId: request.id,
            problem: {
              kind: 'refused',
              refusal: {
                kind: 'click',
                why:
                  why === 'not_approver' &&
                  decision?.allowed !== true &&
                  groups !== undefined &&
                  decision?.effectiveRole !== undefined &&
                  roleAtLeastApprover(decision.effectiveRole)
                    ? 'not_in_approver_group'
                    : why,
                ...(decision !== undefined && { required: decision.required, has: decision.effectiveRole }),
              },
            },
          },
        })
        .catch((error: unknown) => this.deps.logger?.error({ err: error }, 'audit record failed'));
    }
    return { ok: false, refusal };
  }

  private async expire(request: ApprovalRequest): Promise<void> {
    const updated = await this.deps.repo.update(
      request.id,
      request.version,
      { state: 'expired' },
      this.deps.clock.now(),
    );
    if (updated === undefined) return; // decided meanwhile, or another replica expired it
    await this.updateAudit(updated, 'expired', {});
    await this.finished(request.id);
  }

  /** Terminal state reached: the card's rewrite and the requester's DM are owed (`syncCard` writes both). */
  private async finished(id: string): Promise<void> {
    await this.syncCard(id);
  }

  /** Applies a patch computed from the latest row, retrying on concurrent changes. */
  private async transition(
    id: string,
    patch: (request: ApprovalRequest) => ApprovalPatch | undefined,
  ): Promise<ApprovalRequest | undefined> {
    const result = await this.updateRequest<ApprovalRequest>(id, (request) => {
      const change = patch(request);
      return change === undefined ? { decline: request } : { write: change };
    });
    if (result.outcome === 'missing') return undefined;
    if (result.outcome === 'exhausted') throw new Error(`approval ${id}: too many concurrent updates`);
    return result.value;
  }

  /** One request's compare-and-set on its version: read, decide, conditional write, again on conflict. */
  private updateRequest<Declined>(
    id: string,
    modify: (
      request: ApprovalRequest,
    ) => Modification<ApprovalPatch, Declined> | Promise<Modification<ApprovalPatch, Declined>>,
  ): Promise<CompareAndSetResult<ApprovalRequest, ApprovalPatch, Declined>> {
    return compareAndSet(
      {
        read: () => this.deps.repo.get(id),
        write: (current, patch) => this.deps.repo.update(id, current.version, patch, this.deps.clock.now()),
      },
      modify,
      { clock: this.deps.clock, attempts: CAS_ATTEMPTS },
    );
  }

  /**
   * Hands the request's latest version to the notification outbox: the card, and at the end the requester's
   * DM, then notes the version handed over. A failure (the database) leaves the card stale, and the sweeper
   * hands it over again: writes are idempotent, so a repeat sends nothing twice.
   */
  async syncCard(id: string): Promise<void> {
    try {
      // Again while a newer version was written meanwhile (the sweeper catches what is left).
      for (let round = 0; round < 5; round++) {
        const request = await this.deps.repo.get(id);
        if (request === undefined || request.card.version >= request.version) return;
        await this.deps.notices.card(request);
        await this.deps.notices.history?.(request);
        if (request.state !== 'pending') await this.deps.notices.withdrawNudges?.(request);
        if (FINAL_STATES.includes(request.state)) await this.deps.notices.outcome(request);
        await this.deps.repo.cardQueued(id, request.version);
      }
    } catch (error) {
      this.deps.logger?.warn({ err: error, approval: id }, 'approval card not handed to the outbox yet');
    }
  }

  private async updateAudit(
    request: ApprovalRequest,
    outcome: 'approved' | 'rejected' | 'expired' | 'cancelled' | 'invalidated',
    detail: AuditDetail & { decisionReason?: string },
  ): Promise<void> {
    if (request.auditId === null) return;
    const { decisionReason, ...rest } = detail;
    // The request's own reason stays; a rejection's reason is what the decider typed.
    const patch: AuditDetail = {
      approvalId: request.id,
      ...rest,
      ...(decisionReason !== undefined && { reason: decisionReason }),
    };
    await this.deps.audit
      .update(request.auditId, { outcome, detail: patch })
      .catch((error: unknown) => this.deps.logger?.error({ err: error, approval: request.id }, 'audit update failed'));
  }
}

/**
 * What a pending request's reminders are at `now`: the state to claim if one is due (reminder k is due
 * `remindAfter × (2^k − 1)` after the request was made: 30 min, then 60 later, 120…; several overdue after a
 * downtime make one reminder), and when the next one is due.
 */
export function nudgePlan(
  request: Pick<ApprovalRequest, 'createdAt' | 'nudges'>,
  rule: Pick<ApprovalRule, 'remindAfterMs' | 'escalateAfterMs' | 'escalateTo'>,
  now: number,
): { due: ApprovalNudgeState | undefined; nextAt: number | undefined } {
  const remind = rule.remindAfterMs;
  const reminderAt = (k: number) =>
    remind === undefined ? Number.POSITIVE_INFINITY : request.createdAt + remind * (2 ** k - 1);
  const from = request.nudges ?? NO_NUDGES;
  let reminders = from.reminders;
  while (reminderAt(reminders + 1) <= now) reminders += 1;
  const canEscalate = (rule.escalateTo ?? []).length > 0 && rule.escalateAfterMs !== undefined;
  const escalateAt = canEscalate ? request.createdAt + (rule.escalateAfterMs ?? 0) : Number.POSITIVE_INFINITY;
  const escalated = from.escalated || escalateAt <= now;
  const moved = reminders !== from.reminders || escalated !== from.escalated;
  const nextAt = Math.min(reminderAt(reminders + 1), escalated ? Number.POSITIVE_INFINITY : escalateAt);
  return { due: moved ? { reminders, escalated } : undefined, nextAt: Number.isFinite(nextAt) ? nextAt : undefined };
}

/** Which refusals are about the clicker's rights (audited as `refused`); an unknown id or a busy row are not. */
function clickRefusalKind(refusal: ClickRefusal): ClickRefusalKind | undefined {
  switch (refusal.kind) {
    case 'unknown_request':
    case 'busy':
    case 'reason_too_short':
      return undefined;
    default:
      return refusal.kind;
  }
}

function roleAtLeastApprover(role: Role): boolean {
  return role === 'approver' || role === 'admin';
}

/** The same change: action, target and subject (whoever asked for it). */
function sameChange(a: ChangeRequest, b: ChangeRequest): boolean {
  return (
    a.action === b.action &&
    a.target.service === b.target.service &&
    a.target.partition === b.target.partition &&
    subjectOf(a) === subjectOf(b)
  );
}

/** The result a closed intent stands for, if it was closed without a task to follow (or stays unknown). */
function intentResult(intent: StoredIntent): ChangeResult | undefined {
  switch (intent.outcome) {
    case 'applied':
    case 'not_applied':
      return { outcome: intent.outcome, taskId: null, settlement: { kind: 'settled_by_sweep' } };
    case 'failed':
      return { outcome: 'not_applied', taskId: null, settlement: { kind: 'failed_before_made' } };
    default:
      return undefined;
  }
}

/** What an execution's end leaves on the request: nothing when done, else how it ended. */
function outcomeDetailOf(result: Exclude<ChangeResult, { outcome: 'unknown' }>): ApprovalOutcomeDetail | null {
  switch (result.outcome) {
    case 'succeeded':
      return null;
    case 'failed':
      return { task: result.failure };
    case 'applied':
    case 'not_applied':
      return { settlement: result.settlement };
  }
}

/** Binds an approval to exactly what was asked, by whom, under which configuration. */
export function contentHash(change: ChangeRequest, requester: string, configVersion: string): string {
  const content = [
    change.action,
    change.target.service,
    change.target.partition,
    subjectOf(change),
    requester,
    configVersion,
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/**
 * What the approver is shown. `together`: the other changes of the same submission, so "frequencies left"
 * counts the ones being added and removed with it.
 */
function toPreview(
  change: ChangeRequest,
  facts: Awaited<ReturnType<SnapshotService['inspect']>>,
  together: readonly ChangeRequest[] = [],
): ImpactPreview {
  if (change.action === 'schedule.remove' || change.action === 'schedule.add') {
    const all = [change, ...together];
    const added = all.flatMap((c) => (c.action === 'schedule.add' ? [c.type] : []));
    const removed = new Set(all.flatMap((c) => (c.action === 'schedule.remove' ? [c.type] : [])));
    const remaining = [...new Set([...facts.enabled, ...added])].filter((t) => !removed.has(t));
    return {
      kind: 'frequency',
      type: change.type,
      remaining,
      reachBeforeMs: reach(facts.enabled),
      reachAfterMs: reach(remaining),
      customCount: facts.custom.length,
    };
  }
  return {
    kind: 'snapshot',
    name: change.name,
    expiration: facts.snapshot?.expiration ?? null,
    customLeft: Math.max(0, facts.custom.length - 1),
    enabled: facts.enabled,
  };
}

/** Each frequency keeps only its latest snapshot, so the oldest automatic restore point is the longest period. */
export function reach(types: readonly SnapshotType[]): number | null {
  return types.length === 0 ? null : Math.max(...types.map((t) => PERIOD_MS[t]));
}

/**
 * Why `actor` may not vote on `request` now (undefined: they may): the one check behind an Approve click, and
 * behind the lists of requests someone "can decide now" (App Home, `/nasha approvals`).
 */
export async function voteRefusal(
  policy: Pick<ApprovalPolicy, 'canApprove'>,
  actor: Actor,
  request: ApprovalRequest,
  now: number,
): Promise<ClickRefusal | undefined> {
  const id = request.id;
  if (request.state !== 'pending') return { kind: 'closed', id, state: request.state };
  if (now >= request.expiresAt) return { kind: 'expired', id };
  if (actor.userId === request.requester.userId) return { kind: 'self_approval', id };
  if (request.approvals.some((v) => v.userId === actor.userId)) {
    return { kind: 'already_voted', id, remaining: request.quorum - request.approvals.length };
  }
  const decision = await policy.canApprove(actor, request.change.target, request.approverGroups);
  return decision.allowed ? undefined : { kind: 'not_approver', id, decision };
}

/** Short, unambiguous ids people can read aloud (approval requests, break-glass reviews): 6 characters without 0/O/1/I. */
export function newRequestId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let id = '';
  for (let i = 0; i < 6; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}
