import { createHash, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApprovalOperation as ApprovableAction, ApprovalRule } from '../config/bot-config.js';
import type { SnapshotType } from '../ovh/models.js';
import type { Clock } from '../shared/clock.js';
import { NashaError } from './errors.js';
import type { Actor, Target } from './model.js';
import type { AuditSink, JsonValue } from './ports.js';
import type { ChangeRequest, ChangeResult, SnapshotService } from './snapshot-service.js';

/** The changes that can be put to a second person, and their rules, as the configuration defines them. */
export type { ApprovalOperation as ApprovableAction, ApprovalRule } from '../config/bot-config.js';

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
  outcomeDetail: string | null;
  auditId: string | null;
  reply: JsonValue;
  card: { channel: string; ts: string | null; version: number };
}

/** Fields a transition may change. */
export interface ApprovalPatch {
  state?: ApprovalState;
  approvals?: readonly ApprovalVote[];
  decidedBy?: string | null;
  decisionReason?: string | null;
  taskId?: number | null;
  outcomeDetail?: string | null;
  auditId?: string | null;
}

/** Persistence with compare-and-set: every transition names the version it starts from. */
export interface ApprovalRepository {
  insert(request: ApprovalRequest): Promise<void>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Applies `patch` as version+1 only if the stored version is still `expectedVersion`. */
  update(id: string, expectedVersion: number, patch: ApprovalPatch, now: number): Promise<ApprovalRequest | undefined>;
  /** Requests in pending, approved or executing state. */
  open(): Promise<ApprovalRequest[]>;
  /** Requests whose card shows an older version than the request (or was never posted). */
  staleCards(): Promise<ApprovalRequest[]>;
  /** Lease for the first post of a card: true for exactly one caller until `leaseUntil`. */
  claimCardPost(id: string, now: number, leaseUntil: number): Promise<boolean>;
  /** Records the posted card (ts set once) and the version it shows (never lowered). */
  cardDelivered(id: string, ts: string, version: number): Promise<void>;
}

/** Posts and rewrites approval cards; DMs the requester. The Slack layer implements it. */
export interface ApprovalCards {
  post(channel: string, request: ApprovalRequest): Promise<{ ts: string }>;
  update(channel: string, ts: string, request: ApprovalRequest): Promise<void>;
  notifyRequester(request: ApprovalRequest): Promise<void>;
}

export interface ApprovalPolicy {
  decide(
    actor: Actor,
    action: ApprovableAction,
    target: Target,
    options: { via: 'approval' },
  ): Promise<{ allowed: boolean; summary: string }>;
  canApprove(
    actor: Actor,
    target: Target,
    approverGroups: readonly string[],
  ): Promise<{ allowed: boolean; summary: string }>;
}

export type ClickResult = { ok: true; request: ApprovalRequest; message: string } | { ok: false; message: string };

export interface ApprovalServiceDeps {
  repo: ApprovalRepository;
  service: SnapshotService;
  policy: ApprovalPolicy;
  audit: AuditSink;
  cards: ApprovalCards;
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
const CARD_LEASE_MS = 30_000;

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

  /** The rule for an action when it needs approval, else undefined. */
  ruleFor(action: ApprovableAction): ApprovalRule | undefined {
    const rule = this.deps.rules[action];
    return rule.required ? rule : undefined;
  }

  /** Files a request: permission to ask, live preview, durable row, audit, then the card. */
  async request(
    actor: Actor,
    change: ChangeRequest,
    reason: string,
    reply: JsonValue = null,
  ): Promise<ApprovalRequest> {
    const rule = this.ruleFor(change.action);
    const channel = this.deps.approvalsChannel;
    if (rule === undefined || channel === undefined) throw new Error(`${change.action} does not need approval`);
    const trimmed = reason.trim();
    if (trimmed.length < 3)
      throw new NashaError('invalid_input', 'A reason is required (a few words the approvers will read).');
    const decision = await this.deps.policy.decide(actor, change.action, change.target, { via: 'approval' });
    const subject = subjectOf(change);
    if (!decision.allowed) {
      await this.deps.audit.record({
        actor,
        action: change.action,
        target: change.target,
        subject,
        outcome: 'denied',
        detail: plainText(decision.summary),
      });
      throw new NashaError('denied', capitalize(decision.summary));
    }
    const preview = toPreview(change, await this.deps.service.inspect(change));
    const now = this.deps.clock.now();
    const request: ApprovalRequest = {
      id: newRequestId(),
      version: 1,
      state: 'pending',
      change,
      requester: { userId: actor.userId, channelId: actor.channelId ?? null },
      reason: trimmed.slice(0, 1_000),
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
    };
    await this.deps.repo.insert(request);
    const audit = await this.deps.audit.record({
      actor,
      action: change.action,
      target: change.target,
      subject,
      outcome: 'requested',
      detail: `approval #${request.id}: ${request.reason}`,
    });
    const stored = (await this.transition(request.id, () => ({ auditId: audit.id }))) ?? request;
    this.kick();
    return stored;
  }

  /** An Approve click. Every rule is checked again, now, for this user. */
  async approve(actor: Actor, id: string): Promise<ClickResult> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const request = await this.deps.repo.get(id);
      if (request === undefined) return { ok: false, message: `There is no approval request #${id}.` };
      const closed = this.closedMessage(request);
      if (closed !== undefined) return { ok: false, message: closed };
      if (this.deps.clock.now() >= request.expiresAt) {
        await this.expire(request);
        return { ok: false, message: `Approval #${id} has expired; it can no longer be approved.` };
      }
      if (actor.userId === request.requester.userId) {
        await this.auditDenied(actor, request, 'tried to approve their own request');
        return { ok: false, message: 'You cannot approve your own request: a second person has to.' };
      }
      if (request.approvals.some((v) => v.userId === actor.userId)) {
        return {
          ok: false,
          message: `You already approved #${id}; it needs ${request.quorum - request.approvals.length} more approval(s).`,
        };
      }
      const decision = await this.deps.policy.canApprove(actor, request.change.target, request.approverGroups);
      if (!decision.allowed) {
        await this.auditDenied(actor, request, plainText(decision.summary));
        return { ok: false, message: capitalize(decision.summary) };
      }
      const approvals = [...request.approvals, { userId: actor.userId, at: this.deps.clock.now() }];
      const reached = approvals.length >= request.quorum;
      const updated = await this.deps.repo.update(
        id,
        request.version,
        { approvals, ...(reached && { state: 'approved' as const, decidedBy: actor.userId }) },
        this.deps.clock.now(),
      );
      if (updated === undefined) continue; // someone else moved it first: look again
      if (reached) {
        await this.updateAudit(updated, 'approved', `approved by ${approvals.map((v) => `<@${v.userId}>`).join(', ')}`);
        this.kick();
        void this.execute(id).catch((error: unknown) =>
          this.deps.logger?.error({ err: error, approval: id }, 'approval execution failed'),
        );
        return { ok: true, request: updated, message: `You approved #${id}; running it now.` };
      }
      await this.syncCard(id);
      return {
        ok: true,
        request: updated,
        message: `You approved #${id}; it needs ${request.quorum - approvals.length} more approval(s).`,
      };
    }
    return { ok: false, message: `Approval #${id} is busy; try again.` };
  }

  async reject(actor: Actor, id: string, reason: string): Promise<ClickResult> {
    const trimmed = reason.trim();
    if (trimmed.length < 3) return { ok: false, message: 'A reason is required to reject.' };
    return this.close(
      actor,
      id,
      'rejected',
      async (request) => {
        if (actor.userId === request.requester.userId) return 'You cannot reject your own request; cancel it instead.';
        const decision = await this.deps.policy.canApprove(actor, request.change.target, request.approverGroups);
        if (!decision.allowed) {
          await this.auditDenied(actor, request, plainText(decision.summary));
          return capitalize(decision.summary);
        }
        return undefined;
      },
      trimmed,
    );
  }

  async cancel(actor: Actor, id: string): Promise<ClickResult> {
    return this.close(actor, id, 'cancelled', async (request) =>
      actor.userId === request.requester.userId ? undefined : 'Only the requester can cancel this request.',
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

  /** One pass: expire what is due, finish approved requests, deliver stale cards. */
  async sweep(): Promise<number | undefined> {
    const now = this.deps.clock.now();
    let next: number | undefined;
    for (const request of await this.deps.repo.open()) {
      if (request.state === 'pending') {
        if (now >= request.expiresAt) await this.expire(request);
        else next = next === undefined ? request.expiresAt : Math.min(next, request.expiresAt);
      } else if (request.state === 'approved') {
        await this.execute(request.id);
      }
    }
    for (const request of await this.deps.repo.staleCards()) await this.syncCard(request.id);
    return next;
  }

  /** After a restart: requests left executing with a task are followed through the task journal. */
  async onResumedResult(approvalId: string, result: ChangeResult): Promise<void> {
    await this.finishExecution(approvalId, result);
  }

  /** Executing requests that never got a task id (the process died mid-call): reported, not retried. */
  async recoverInterrupted(): Promise<void> {
    for (const request of await this.deps.repo.open()) {
      if (request.state === 'executing' && request.taskId === null) {
        await this.transition(request.id, (r) =>
          r.state === 'executing' && r.taskId === null
            ? {
                state: 'failed',
                outcomeDetail:
                  'the bot stopped while sending the change to OVH; check the partition before asking again',
              }
            : undefined,
        );
        await this.syncCard(request.id);
      }
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
      await this.transition(id, () => ({ state: 'invalidated', outcomeDetail: why }));
      await this.updateAudit(claimed, 'invalidated', why);
      await this.finished(id);
      return;
    }
    const requester = { userId: claimed.requester.userId, channelId: claimed.requester.channelId ?? undefined };
    try {
      const started = await this.deps.service.change(
        requester,
        claimed.change,
        { approvalId: id },
        {
          ...(claimed.auditId !== null && { approvedAuditId: claimed.auditId }),
        },
      );
      await this.transition(id, () => ({ taskId: started.task.taskId }));
      await this.syncCard(id);
      await this.finishExecution(id, await started.done);
    } catch (error) {
      const message = error instanceof NashaError ? error.message : 'unexpected error while sending the change to OVH';
      const gone = error instanceof NashaError && (error.code === 'not_found' || error.code === 'conflict');
      await this.transition(id, () => ({ state: gone ? 'invalidated' : 'failed', outcomeDetail: plainText(message) }));
      if (gone) await this.updateAudit(claimed, 'invalidated', plainText(message));
      await this.finished(id);
      if (!(error instanceof NashaError)) throw error;
    }
  }

  private async finishExecution(id: string, result: ChangeResult): Promise<void> {
    await this.transition(id, (r) =>
      r.state === 'executing'
        ? {
            state: result.outcome === 'succeeded' ? 'succeeded' : 'failed',
            taskId: result.taskId,
            outcomeDetail: result.outcome === 'failed' ? result.detail : null,
          }
        : undefined,
    );
    await this.finished(id);
  }

  /** The request as it stands must still be exactly what was approved, against the live API. */
  private async revalidate(request: ApprovalRequest): Promise<string | undefined> {
    if (request.configVersion !== this.deps.configVersion) {
      return 'the bot configuration changed since the request; ask again';
    }
    if (contentHash(request.change, request.requester.userId, this.deps.configVersion) !== request.contentHash) {
      return 'the request does not match what was approved';
    }
    let preview: ImpactPreview;
    try {
      preview = toPreview(request.change, await this.deps.service.inspect(request.change));
    } catch (error) {
      if (error instanceof NashaError && error.code === 'not_found')
        return `the target is gone: ${plainText(error.message)}`;
      throw error;
    }
    if (
      preview.kind === 'snapshot' &&
      request.preview.kind === 'snapshot' &&
      preview.expiration !== request.preview.expiration
    ) {
      return `the snapshot changed since the request (expiration ${preview.expiration ?? 'none'}, was ${request.preview.expiration ?? 'none'})`;
    }
    return undefined;
  }

  private async close(
    actor: Actor,
    id: string,
    state: 'rejected' | 'cancelled',
    check: (request: ApprovalRequest) => Promise<string | undefined>,
    reason?: string,
  ): Promise<ClickResult> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const request = await this.deps.repo.get(id);
      if (request === undefined) return { ok: false, message: `There is no approval request #${id}.` };
      const closed = this.closedMessage(request);
      if (closed !== undefined) return { ok: false, message: closed };
      const refusal = await check(request);
      if (refusal !== undefined) return { ok: false, message: refusal };
      const updated = await this.deps.repo.update(
        id,
        request.version,
        { state, decidedBy: actor.userId, decisionReason: reason ?? null },
        this.deps.clock.now(),
      );
      if (updated === undefined) continue;
      await this.updateAudit(updated, state, `${state} by <@${actor.userId}>${reason ? `: ${reason}` : ''}`);
      await this.finished(id);
      return { ok: true, request: updated, message: `Request #${id} ${state}.` };
    }
    return { ok: false, message: `Approval #${id} is busy; try again.` };
  }

  private async expire(request: ApprovalRequest): Promise<void> {
    const updated = await this.deps.repo.update(
      request.id,
      request.version,
      { state: 'expired' },
      this.deps.clock.now(),
    );
    if (updated === undefined) return; // decided meanwhile, or another replica expired it
    await this.updateAudit(updated, 'expired', 'nobody approved it in time');
    await this.finished(request.id);
  }

  /** Terminal state reached: rewrite the card and tell the requester. */
  private async finished(id: string): Promise<void> {
    await this.syncCard(id);
    const request = await this.deps.repo.get(id);
    if (request === undefined) return;
    await this.deps.cards
      .notifyRequester(request)
      .catch((error: unknown) => this.deps.logger?.warn({ err: error, approval: id }, 'could not tell the requester'));
  }

  /** Applies a patch computed from the latest row, retrying on concurrent changes. */
  private async transition(
    id: string,
    patch: (request: ApprovalRequest) => ApprovalPatch | undefined,
  ): Promise<ApprovalRequest | undefined> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const request = await this.deps.repo.get(id);
      if (request === undefined) return undefined;
      const change = patch(request);
      if (change === undefined) return request;
      const updated = await this.deps.repo.update(id, request.version, change, this.deps.clock.now());
      if (updated !== undefined) return updated;
    }
    throw new Error(`approval ${id}: too many concurrent updates`);
  }

  /**
   * Brings the card up to the request's latest version: the first post is leased so two replicas
   * never post twice; rewrites are idempotent and repeat until nothing newer exists.
   */
  async syncCard(id: string): Promise<void> {
    try {
      for (let round = 0; round < 5; round++) {
        const request = await this.deps.repo.get(id);
        if (request === undefined || request.card.version >= request.version) return;
        let ts = request.card.ts;
        if (ts === null) {
          const now = this.deps.clock.now();
          if (!(await this.deps.repo.claimCardPost(id, now, now + CARD_LEASE_MS))) return;
          ts = (await this.deps.cards.post(request.card.channel, request)).ts;
        } else {
          await this.deps.cards.update(request.card.channel, ts, request);
        }
        await this.deps.repo.cardDelivered(id, ts, request.version);
      }
    } catch (error) {
      // The sweeper retries stale cards; the request itself is safe in the database.
      this.deps.logger?.warn({ err: error, approval: id }, 'approval card not delivered yet');
    }
  }

  private closedMessage(request: ApprovalRequest): string | undefined {
    switch (request.state) {
      case 'pending':
        return undefined;
      case 'approved':
      case 'executing':
        return `Approval #${request.id} is already approved and running.`;
      default:
        return `Approval #${request.id} is already ${request.state}.`;
    }
  }

  private async updateAudit(
    request: ApprovalRequest,
    outcome: 'approved' | 'rejected' | 'expired' | 'cancelled' | 'invalidated',
    detail: string,
  ): Promise<void> {
    if (request.auditId === null) return;
    await this.deps.audit
      .update(request.auditId, { outcome, detail: `approval #${request.id}: ${plainText(detail)}` })
      .catch((error: unknown) => this.deps.logger?.error({ err: error, approval: request.id }, 'audit update failed'));
  }

  private async auditDenied(actor: Actor, request: ApprovalRequest, why: string): Promise<void> {
    await this.deps.audit
      .record({
        actor,
        action: 'approval.decide',
        target: request.change.target,
        subject: `#${request.id}`,
        outcome: 'denied',
        detail: why,
      })
      .catch((error: unknown) => this.deps.logger?.error({ err: error }, 'audit record failed'));
  }
}

export function subjectOf(change: ChangeRequest): string {
  return change.action === 'schedule.add' || change.action === 'schedule.remove' ? change.type : change.name;
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

function toPreview(change: ChangeRequest, facts: Awaited<ReturnType<SnapshotService['inspect']>>): ImpactPreview {
  if (change.action === 'schedule.remove' || change.action === 'schedule.add') {
    const remaining = facts.enabled.filter((t) => t !== change.type);
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

/** Short, unambiguous ids people can read aloud: 6 characters without 0/O/1/I. */
function newRequestId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let id = '';
  for (let i = 0; i < 6; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function plainText(text: string): string {
  return text.replace(/[`*]/g, '').slice(0, 1_000);
}
