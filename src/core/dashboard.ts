/**
 * What the bot shows a person who comes to it (the App Home tab, `/nasha approvals`), as data: the approval
 * requests they can decide now, their own open requests and recent outcomes, and the protection status of the
 * partitions they may see. Every list is filtered by the same checks as the action it leads to (the approval
 * service's rules for a vote, the gate for a status), so nothing outside the person's grants is named.
 */

import type { Clock } from '../shared/clock.js';
import {
  type ApprovalNotices,
  type ApprovalPolicy,
  type ApprovalRepository,
  type ApprovalRequest,
  voteRefusal,
} from './approvals.js';
import type { BreakGlassQueries, BreakGlassReview } from './break-glass.js';
import type { ActionGate, Offer } from './gate.js';
import type { Actor } from './model.js';
import type { AlertPublisher } from './protection/ports.js';
import type { ProtectionQueries, StatusLine } from './protection/queries.js';

/** How far back "recent outcomes" reach, and how many are shown. */
export const RECENT_OUTCOMES_MS = 7 * 86_400_000;
export const RECENT_OUTCOMES_LIMIT = 5;

export interface ApprovalsOverview {
  /** Pending requests this person may vote on now: not theirs, not voted yet, approver on the target (oldest first). */
  decidable: readonly ApprovalRequest[];
  /** Their own open requests (oldest first). */
  own: readonly ApprovalRequest[];
  /** Their own requests that ended lately (newest first). */
  recent: readonly ApprovalRequest[];
  now: number;
}

export interface ProtectionOverview {
  /** Partitions with an open problem (worst first: most problems). */
  problems: readonly StatusLine[];
  /** Partitions they may see that a policy covers. */
  total: number;
  /** Of those, the ones the last scan found fine. */
  healthy: number;
  /** Not scanned yet. */
  unscanned: number;
}

/** How far ahead "expiring soon" looks. */
export const EXPIRING_WINDOW_MS = 86_400_000;
/** At most this many expiring snapshots are listed. */
export const EXPIRING_LIMIT = 20;

/** A custom snapshot known to expire soon. */
export interface ExpiringSnapshot {
  service: string;
  partition: string;
  name: string;
  at: number;
}

/**
 * Snapshots known to expire in [from, to), without asking OVH: the OVH client's memory of the details it read
 * (people's listings, protection scans). Per process, so possibly incomplete; never an extra OVH request.
 */
export interface ExpiringSnapshots {
  knownExpiring(from: number, to: number): readonly ExpiringSnapshot[];
}

export interface HomeData {
  approvals: ApprovalsOverview;
  /** Undefined: protection is off, or no covered partition is theirs to see. */
  protection: ProtectionOverview | undefined;
  /** Snapshots on partitions they may read, known to expire within 24 h (soonest first). */
  expiring: readonly ExpiringSnapshot[];
  /** What they may start from the shortcuts (the gate's `help` offers). */
  offers: readonly Offer[];
  /**
   * Break-glass changes awaiting review that are theirs to acknowledge (an approver of the rule on the target,
   * the same check as the review card's Acknowledge) or that they ran themselves; oldest first.
   */
  reviews: readonly BreakGlassReview[];
}

/** The closed requests of one requester that ended since `since` (newest first, at most `limit`). */
export interface ClosedRequests {
  closedOf(userId: string, since: number, limit: number): Promise<ApprovalRequest[]>;
}

export interface DashboardDeps {
  repo: Pick<ApprovalRepository, 'open'> & ClosedRequests;
  /** The approval service's own check for a vote (the same call it makes at every click). */
  policy: ApprovalPolicy;
  gate: Pick<ActionGate, 'offers' | 'evaluate'>;
  expiring: ExpiringSnapshots;
  protection: Pick<ProtectionQueries, 'status'> | undefined;
  /** Whether protection is configured (the queries throw `protection_off` otherwise). */
  protectionOn: boolean;
  /** Break-glass changes not acknowledged yet (undefined: no break-glass in this bot). */
  breakGlass?: BreakGlassQueries | undefined;
  clock: Clock;
}

export class DashboardQueries {
  constructor(private readonly deps: DashboardDeps) {}

  /** The requests `actor` can decide now and their own open ones (and lately ended ones). */
  async approvals(actor: Actor): Promise<ApprovalsOverview> {
    const now = this.deps.clock.now();
    const [open, recent] = await Promise.all([
      this.deps.repo.open(),
      this.deps.repo.closedOf(actor.userId, now - RECENT_OUTCOMES_MS, RECENT_OUTCOMES_LIMIT),
    ]);
    // Exactly the requests an Approve click by them would not refuse now.
    const refusals = await Promise.all(open.map((r) => voteRefusal(this.deps.policy, actor, r, now)));
    const byAge = (a: ApprovalRequest, b: ApprovalRequest) => a.createdAt - b.createdAt;
    return {
      decidable: open.filter((_r, i) => refusals[i] === undefined).sort(byAge),
      own: open.filter((r) => r.requester.userId === actor.userId).sort(byAge),
      recent,
      now,
    };
  }

  /** Everything the Home tab shows `actor`. */
  async home(actor: Actor): Promise<HomeData> {
    const [approvals, protection, expiring, offers, reviews] = await Promise.all([
      this.approvals(actor),
      this.protection(actor),
      this.expiring(actor),
      this.deps.gate.offers(actor),
      this.reviews(actor),
    ]);
    return { approvals, protection, expiring, offers, reviews };
  }

  /** Unacknowledged break-glass changes: the ones `actor` may acknowledge, and their own. */
  private async reviews(actor: Actor): Promise<BreakGlassReview[]> {
    const pending = (await this.deps.breakGlass?.listUnacknowledgedBreakGlass()) ?? [];
    const shown = await Promise.all(
      pending.map(
        async (review) =>
          review.actor.userId === actor.userId ||
          (await this.deps.policy.canApprove(actor, review.change.target, review.approverGroups)).allowed,
      ),
    );
    return pending.filter((_review, i) => shown[i] === true);
  }

  /** Known to expire within 24 h, on partitions the gate lets `actor` read (the same check as `list`). */
  private async expiring(actor: Actor): Promise<ExpiringSnapshot[]> {
    const now = this.deps.clock.now();
    const known = this.deps.expiring.knownExpiring(now, now + EXPIRING_WINDOW_MS);
    const verdicts = await Promise.all(
      known.map((s) => this.deps.gate.evaluate(actor, 'read', { service: s.service, partition: s.partition })),
    );
    return known.filter((_s, i) => verdicts[i]?.kind !== 'refused').slice(0, EXPIRING_LIMIT);
  }

  /** From the last scans (the database: no OVH request), only partitions the gate lets `actor` see. */
  private async protection(actor: Actor): Promise<ProtectionOverview | undefined> {
    const queries = this.deps.protection;
    if (queries === undefined || !this.deps.protectionOn) return undefined;
    const lines: StatusLine[] = [];
    for (let page = 1; ; page++) {
      const answer = await queries.status(actor, undefined, page);
      if (answer.kind !== 'list') break;
      lines.push(...answer.page.items);
      if (page >= answer.page.pageCount) break;
    }
    if (lines.length === 0) return undefined;
    const problems = lines.filter((l) => l.problems.length > 0).sort((a, b) => b.problems.length - a.problems.length);
    const unscanned = lines.filter((l) => l.scannedAt === null).length;
    return { problems, total: lines.length, healthy: lines.length - problems.length - unscanned, unscanned };
  }
}

/**
 * Approval notices that also tell `changed` (the Home tabs showing requests refresh): every new version of a
 * request goes through `card`, so nothing that changes a request is missed.
 */
export function observedNotices(notices: ApprovalNotices, changed: () => void): ApprovalNotices {
  // Everything else the notices do (the thread's history, reminders, their withdrawal) is passed on as it is.
  return {
    ...notices,
    card: async (request) => {
      await notices.card(request);
      changed();
    },
    outcome: (request) => notices.outcome(request),
  };
}

/** Protection alerts that also tell `changed`: an alert is posted or rewritten when a problem opens, changes or clears. */
export function observedAlerts(publisher: AlertPublisher, changed: () => void): AlertPublisher {
  const find = publisher.find;
  return {
    post: async (view) => {
      const posted = await publisher.post(view);
      changed();
      return posted;
    },
    update: async (ref, view) => {
      await publisher.update(ref, view);
      changed();
    },
    ...(find !== undefined && { find: (alert) => find.call(publisher, alert) }),
  };
}
