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

  /** True the first time; false for a copy. Throws if the ledger cannot be reached (the caller must not run it). */
  async isFirstDelivery(kind: string, triggerId: string | undefined, body: unknown): Promise<boolean> {
    const at = this.options.clock.now();
    const first = await this.options.ledger.record({
      key: deliveryKey(kind, triggerId, body),
      kind,
      at,
      keepUntil: at + DELIVERY_RETENTION_MS,
    });
    if (at - this.lastPrune >= PRUNE_INTERVAL_MS) {
      this.lastPrune = at;
      // Not awaited: the request neither waits for the delete nor fails with it. Unref'd: never holds up an exit.
      this.pruning = new Promise<void>((resolve) => {
        setTimeout(resolve, this.options.pruneDelayMs ?? PRUNE_DELAY_MS).unref();
      }).then(() => this.prune(at));
    }
    return first;
  }

  /** A delete of a few minutes' rows (PostgreSQL: by index; SQLite: a scan of them); never fails the request that triggered it. */
  private async prune(at: number): Promise<void> {
    try {
      const deleted = await this.options.ledger.prune(at);
      if (deleted > 0) this.options.logger.debug({ deleted }, 'forgot Slack deliveries past their replay window');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not delete old Slack delivery records');
    }
  }
}
