/**
 * Break-glass: a change that needs approval, run at once by a member of its rule's `break_glass` group, with a
 * reason. The gate decides it (a `break_glass` run verdict) and the desk runs it through the normal executor;
 * this service then owes the approvers what follows: every approver of that rule on the target told at once (a
 * DM each and a review card in the approvals channel, through the durable notification outbox), and a durable
 * review that one of them (not the person who ran it) acknowledges, recorded once (compare-and-set) and audited.
 * No Slack imports: the notices are rendered by the Slack layer.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { ApprovableAction, ApprovalRule } from './actions.js';
import { type ApprovalPolicy, newRequestId } from './approvals.js';
import type { BreakGlassAuditDetail } from './audit-detail.js';
import type { GroupDirectory } from './groups.js';
import type { Actor } from './model.js';
import type { Decision } from './policy.js';
import type { AuditSink } from './ports.js';
import type { ChangeRequest } from './snapshot-service.js';

export const BREAK_GLASS_STATUSES = ['pending', 'acknowledged'] as const;
export type BreakGlassStatus = (typeof BREAK_GLASS_STATUSES)[number];

/** One break-glass change and its review, as data (what the App Home and the digest list). */
export interface BreakGlassReview {
  /** Six characters, like an approval request's id. */
  id: string;
  status: BreakGlassStatus;
  change: ChangeRequest;
  /** Who ran it, and from where. */
  actor: { userId: string; channelId: string | null };
  /** Their reason, as typed (shown literally). */
  reason: string;
  /** The break-glass group that allowed it. */
  group: string;
  /** The rule's approver groups when it ran (empty: any approver on the target). */
  approverGroups: readonly string[];
  /** The change's audit record. */
  auditId: string;
  /** Where the review card is (the approvals channel). */
  channel: string;
  createdAt: number;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
}

export interface BreakGlassRepository {
  insert(review: BreakGlassReview): Promise<void>;
  get(id: string): Promise<BreakGlassReview | undefined>;
  /**
   * pending → acknowledged by `userId` at `at`, only if it is still pending (compare-and-set: of two clicks or
   * two replicas, one records it). The row as written, or undefined if it was not pending any more.
   */
  acknowledge(id: string, userId: string, at: number): Promise<BreakGlassReview | undefined>;
  /** Reviews still pending, oldest first. */
  unacknowledged(): Promise<BreakGlassReview[]>;
  /** Reviews created at or after `since` (to hand their notices to the outbox again after a restart). */
  since(since: number): Promise<BreakGlassReview[]>;
}

/** What a break-glass change owes Slack, as data; each idempotent on stable notification keys. */
export interface BreakGlassNotices {
  /** A DM to each approver and the review card in the approvals channel. */
  opened(review: BreakGlassReview, approvers: readonly string[]): Promise<void>;
  /** The card rewritten to "acknowledged by …", and a reply in its thread. */
  acknowledged(review: BreakGlassReview): Promise<void>;
}

export type AcknowledgeRefusal =
  | { kind: 'unknown_review'; id: string }
  | { kind: 'closed'; id: string; by: string | null }
  | { kind: 'self_review'; id: string }
  | { kind: 'not_approver'; id: string; decision: Decision };

export type AcknowledgeResult = { ok: true; review: BreakGlassReview } | { ok: false; refusal: AcknowledgeRefusal };

/** What the Home tab and the digest ask (no Slack, typed data). */
export interface BreakGlassQueries {
  listUnacknowledgedBreakGlass(): Promise<BreakGlassReview[]>;
}

export interface BreakGlassServiceDeps {
  repo: BreakGlassRepository;
  policy: Pick<ApprovalPolicy, 'canApprove' | 'approversOf'>;
  groups: GroupDirectory;
  audit: AuditSink;
  notices: BreakGlassNotices;
  rules: Readonly<Record<ApprovableAction, ApprovalRule>>;
  approvalsChannel: string | undefined;
  clock: Clock;
  logger?: Logger | undefined;
}

/** After a restart, notices of reviews this recent are handed to the outbox again (idempotent on their keys). */
const RESEND_WINDOW_MS = 24 * 3_600_000;

export class BreakGlassService implements BreakGlassQueries {
  constructor(private readonly deps: BreakGlassServiceDeps) {}

  /**
   * A break-glass change has started (its audit record is `auditId`): its review is recorded, then every approver
   * is told. Notices that fail to be written are logged and handed over again at the next start.
   */
  async opened(
    actor: Actor,
    change: ChangeRequest,
    reason: string,
    group: string,
    auditId: string,
  ): Promise<BreakGlassReview> {
    const channel = this.deps.approvalsChannel;
    if (channel === undefined) throw new Error('break-glass needs an approvals channel for its review');
    const review: BreakGlassReview = {
      id: newRequestId(),
      status: 'pending',
      change,
      actor: { userId: actor.userId, channelId: actor.channelId ?? null },
      reason: reason.trim().slice(0, 1_000),
      group,
      approverGroups: this.deps.rules[change.action].approverGroups,
      auditId,
      channel,
      createdAt: this.deps.clock.now(),
      acknowledgedBy: null,
      acknowledgedAt: null,
    };
    await this.deps.repo.insert(review);
    await this.deps.audit
      .update(auditId, { detail: { breakGlass: { group, reviewId: review.id } } })
      .catch((error: unknown) => this.deps.logger?.error({ err: error, review: review.id }, 'audit update failed'));
    await this.notifyOpened(review);
    return review;
  }

  /** An Acknowledge click: an approver of the rule on the target, not the person who ran it; recorded once. */
  async acknowledge(actor: Actor, id: string): Promise<AcknowledgeResult> {
    const review = await this.deps.repo.get(id);
    if (review === undefined) return { ok: false, refusal: { kind: 'unknown_review', id } };
    if (review.status !== 'pending') {
      return this.refuse(actor, review, { kind: 'closed', id, by: review.acknowledgedBy });
    }
    if (actor.userId === review.actor.userId) return this.refuse(actor, review, { kind: 'self_review', id });
    const decision = await this.deps.policy.canApprove(actor, review.change.target, review.approverGroups);
    if (!decision.allowed) return this.refuse(actor, review, { kind: 'not_approver', id, decision });
    const now = this.deps.clock.now();
    const written = await this.deps.repo.acknowledge(id, actor.userId, now);
    if (written === undefined) {
      // Another click (or replica) recorded it first.
      const latest = await this.deps.repo.get(id);
      return this.refuse(actor, review, { kind: 'closed', id, by: latest?.acknowledgedBy ?? null });
    }
    const detail: BreakGlassAuditDetail = {
      group: written.group,
      reviewId: written.id,
      acknowledgedBy: actor.userId,
      acknowledgedAt: now,
    };
    await this.deps.audit.record({
      actor,
      action: 'approval.decide',
      target: written.change.target,
      subject: written.id,
      outcome: 'acknowledged',
      detail: { breakGlass: detail },
    });
    // The change's own record says it was reviewed (its message is rewritten).
    await this.deps.audit
      .update(written.auditId, { detail: { breakGlass: detail } })
      .catch((error: unknown) => this.deps.logger?.error({ err: error, review: id }, 'audit update failed'));
    await this.deps.notices.acknowledged(written);
    return { ok: true, review: written };
  }

  /** Break-glass changes no approver has acknowledged yet, oldest first (for the App Home and the digest). */
  listUnacknowledgedBreakGlass(): Promise<BreakGlassReview[]> {
    return this.deps.repo.unacknowledged();
  }

  get(id: string): Promise<BreakGlassReview | undefined> {
    return this.deps.repo.get(id);
  }

  /** At start: the notices of recent reviews are handed to the outbox again (a crash may have cut them short). */
  async resend(): Promise<void> {
    const since = this.deps.clock.now() - RESEND_WINDOW_MS;
    for (const review of await this.deps.repo.since(since)) {
      await this.notifyOpened(review);
      if (review.status === 'acknowledged') {
        await this.deps.notices
          .acknowledged(review)
          .catch((error: unknown) => this.deps.logger?.warn({ err: error, review: review.id }, 'notice not queued'));
      }
    }
  }

  /**
   * Every approver of the rule on the target, by user id: the rule's approver groups' members (else the users and
   * groups of the approver grants), each checked as an approver there now; never the person who ran it.
   */
  async approversOf(review: BreakGlassReview): Promise<string[]> {
    const target = review.change.target;
    const fromGrants = this.deps.policy.approversOf?.(target) ?? { groups: [], users: [] };
    const groups = review.approverGroups.length > 0 ? review.approverGroups : fromGrants.groups;
    const users = new Set(review.approverGroups.length > 0 ? [] : fromGrants.users);
    // A group that cannot be resolved names nobody (the others are still told).
    const lookups = groups.map((g) => this.deps.groups.membersOf(g).catch(() => new Set<string>()));
    for (const members of await Promise.all(lookups)) for (const member of members) users.add(member);
    users.delete(review.actor.userId);
    const candidates = [...users].sort();
    const allowed = await Promise.all(
      candidates.map(async (userId) => {
        const decision = await this.deps.policy.canApprove(
          { userId, channelId: review.channel },
          target,
          review.approverGroups,
        );
        return decision.allowed;
      }),
    );
    return candidates.filter((_user, i) => allowed[i] === true);
  }

  private async notifyOpened(review: BreakGlassReview): Promise<void> {
    try {
      await this.deps.notices.opened(review, await this.approversOf(review));
    } catch (error) {
      this.deps.logger?.error({ err: error, review: review.id }, 'break-glass notices not queued yet');
    }
  }

  /** A refused click is audited once (as `refused`, on the review), then answered. */
  private async refuse(
    actor: Actor,
    review: BreakGlassReview,
    refusal: AcknowledgeRefusal,
  ): Promise<AcknowledgeResult> {
    const why = refusal.kind === 'unknown_review' ? undefined : refusal.kind;
    if (why !== undefined) {
      const decision = refusal.kind === 'not_approver' ? refusal.decision : undefined;
      await this.deps.audit
        .record({
          actor,
          action: 'approval.decide',
          target: review.change.target,
          subject: review.id,
          outcome: 'refused',
          detail: {
            breakGlass: { group: review.group, reviewId: review.id },
            problem: {
              kind: 'refused',
              refusal: {
                kind: 'click',
                why,
                ...(decision !== undefined && { required: decision.required, has: decision.effectiveRole }),
              },
            },
          },
        })
        .catch((error: unknown) => this.deps.logger?.error({ err: error }, 'audit record failed'));
    }
    return { ok: false, refusal };
  }
}
