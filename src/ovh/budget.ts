import type { Clock } from '../shared/clock.js';

export interface RequestBudgetOptions {
  /** Sustained rate (OVH's fair use is about 60 requests/min per consumer key). */
  requestsPerMinute: number;
  /** Requests that may go out at once after a quiet period. */
  burst: number;
  clock: Clock;
}

/**
 * A token bucket shared by every OVH call of one consumer key. Waiters are served first come,
 * first served, so a burst of incident snapshots cannot starve a user's `list`.
 */
export class RequestBudget {
  private tokens: number;
  private lastRefill: number;
  private readonly waiters: Array<() => void> = [];
  private draining = false;
  private readonly msPerToken: number;
  private readonly capacity: number;
  private readonly clock: Clock;

  constructor(options: RequestBudgetOptions) {
    if (!(options.requestsPerMinute > 0) || !(options.burst >= 1)) {
      throw new RangeError('requestsPerMinute must be > 0 and burst >= 1');
    }
    this.msPerToken = 60_000 / options.requestsPerMinute;
    this.capacity = options.burst;
    this.tokens = options.burst;
    this.clock = options.clock;
    this.lastRefill = options.clock.now();
  }

  /** Tokens available right now (for metrics). */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Requests waiting for a token. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      void this.drain();
    });
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed / this.msPerToken);
      this.lastRefill = now;
    }
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waiters.length > 0) {
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          this.waiters.shift()?.();
        } else {
          await this.clock.sleep(Math.ceil((1 - this.tokens) * this.msPerToken));
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
