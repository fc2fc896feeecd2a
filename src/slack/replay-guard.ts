import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';

/**
 * How far a request's signed timestamp may be from our clock: Bolt refuses one signed longer ago, the bot one
 * signed further ahead (src/slack/request-guard.ts).
 */
export const REPLAY_WINDOW_MS = 5 * 60_000;

/**
 * How long a delivery is remembered. A copy is accepted while its timestamp is within the window, and a request
 * may be signed up to one window ahead of our clock: a copy can come up to two windows after the original. One
 * more minute covers clocks of replicas that differ a little.
 */
export const DELIVERY_RETENTION_MS = 2 * REPLAY_WINDOW_MS + 60_000;

/** Records past their retention are deleted at most this often, after the request that finds them due. */
const PRUNE_INTERVAL_MS = 60_000;

/** How long after that request: off its path, and out of the way of the requests that came with it. */
const PRUNE_DELAY_MS = 1_000;

/** Where deliveries are recorded, shared by every replica (src/store/delivery-store.ts). */
export interface DeliveryLedger {
  /** False if the key was recorded before. */
  record(delivery: { key: string; kind: string; at: number; keepUntil: number }): Promise<boolean>;
  /** Deletes what is kept until before `now`. */
  prune(now: number): Promise<number>;
  /** The keys kept until `now` or later, oldest first: what a process starting up has not seen itself. */
  keptKeys(now: number): Promise<{ key: string; keepUntil: number }[]>;
}

/** The deliveries one process remembers in memory at most; past it the oldest are left to the ledger alone. */
const SEEN_HERE_LIMIT = 100_000;

/** A delivery this process has not seen before, claimed here until the ledger says whether it is the first. */
export interface DeliveryClaim {
  readonly key: string;
  readonly kind: string;
  readonly at: number;
}

/**
 * What identifies one Slack delivery: its trigger_id (Slack gives every command and interaction its own), or, for
 * a payload without one, the whole body. Hashed: the ledger never stores anything a user typed.
 */
export function deliveryKey(kind: string, triggerId: string | undefined, body: unknown): string {
  const identity = triggerId !== undefined ? `trigger:${triggerId}` : `body:${JSON.stringify(body)}`;
  return createHash('sha256').update(`${kind}\n${identity}`).digest('hex');
}

/**
 * At most once per delivery: the first time a delivery is seen it is recorded and may run; a copy — a captured
 * request replayed within its signature's lifetime, a delivery Slack or a proxy sends again, to this replica or
 * another — may not.
 */
export class ReplayGuard {
  /**
   * The deliveries recorded or claimed by this process, and those the ledger held when it started: key → kept
   * until, oldest first. A copy of one is known without waiting for the ledger.
   */
  private readonly seenHere = new Map<string, number>();
  private lastPrune = Number.NEGATIVE_INFINITY;
  private pruning: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      ledger: DeliveryLedger;
      /** The clock request timestamps are checked against (the system clock in production). */
      clock: Clock;
      logger: Logger;
      /** Real time between the request that finds a prune due and the prune (default 1 s; tests: 0). */
      pruneDelayMs?: number;
    },
  ) {}

  /** Resolves once the prune scheduled last (if any) is over. */
  pruned(): Promise<void> {
    return this.pruning;
  }

  /** At start, before the first request: the deliveries recorded before (by an earlier run, or by replicas). */
  async loadRecorded(): Promise<number> {
    const kept = await this.options.ledger.keptKeys(this.options.clock.now());
    for (const { key, keepUntil } of kept) this.remember(key, keepUntil);
    return kept.length;
  }

  /**
   * Without waiting: undefined for a copy of a delivery this process has seen (or loaded at start); otherwise a
   * claim on it, which a copy arriving before `record` finds too. Only the ledger knows about copies sent to
   * other replicas: `record` asks it.
   */
  claim(kind: string, triggerId: string | undefined, body: unknown): DeliveryClaim | undefined {
    const key = deliveryKey(kind, triggerId, body);
    const at = this.options.clock.now();
    const keptUntil = this.seenHere.get(key);
    if (keptUntil !== undefined && keptUntil >= at) return undefined;
    this.remember(key, at + DELIVERY_RETENTION_MS);
    return { key, kind, at };
  }

  /**
   * True if the claimed delivery is the first anywhere; false if the ledger recorded it before (another
   * replica). Throws if the ledger cannot be reached (the caller must not run it); the claim is then given up,
   * so a copy is not taken for a delivery that ran.
   */
  async record(claim: DeliveryClaim): Promise<boolean> {
    let first: boolean;
    try {
      first = await this.options.ledger.record({ ...claim, keepUntil: claim.at + DELIVERY_RETENTION_MS });
    } catch (error) {
      this.seenHere.delete(claim.key);
      throw error;
    }
    this.pruneIfDue(claim.at);
    return first;
  }

  /** True the first time; false for a copy. Throws if the ledger cannot be reached (the caller must not run it). */
  async isFirstDelivery(kind: string, triggerId: string | undefined, body: unknown): Promise<boolean> {
    const claim = this.claim(kind, triggerId, body);
    return claim === undefined ? false : this.record(claim);
  }

  private remember(key: string, keepUntil: number): void {
    // Re-inserted so that the map stays in the order of arrival (the oldest go first when it is full).
    this.seenHere.delete(key);
    this.seenHere.set(key, keepUntil);
    if (this.seenHere.size > SEEN_HERE_LIMIT) {
      const oldest = this.seenHere.keys().next();
      if (oldest.done !== true) this.seenHere.delete(oldest.value);
    }
  }

  private pruneIfDue(at: number): void {
    if (at - this.lastPrune >= PRUNE_INTERVAL_MS) {
      this.lastPrune = at;
      // Not awaited: the request neither waits for the delete nor fails with it. Unref'd: never holds up an exit.
      this.pruning = new Promise<void>((resolve) => {
        setTimeout(resolve, this.options.pruneDelayMs ?? PRUNE_DELAY_MS).unref();
      }).then(() => this.prune(at));
    }
  }

  /** A delete of a few minutes' rows (PostgreSQL: by index; SQLite: a scan of them); never fails the request that triggered it. */
  private async prune(at: number): Promise<void> {
    for (const [key, keepUntil] of this.seenHere) {
      if (keepUntil >= at) break; // in the order of arrival: the rest are younger
      this.seenHere.delete(key);
    }
    try {
      const deleted = await this.options.ledger.prune(at);
      if (deleted > 0) this.options.logger.debug({ deleted }, 'forgot Slack deliveries past their replay window');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not delete old Slack delivery records');
    }
  }
}
