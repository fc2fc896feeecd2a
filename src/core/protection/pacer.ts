import type { Clock } from '../../shared/clock.js';
import type { Pacer, RequestClass } from './ports.js';

export interface HeadroomPacerOptions {
  /** The shared OVH request budget: tokens available now. */
  budget: { available(): number };
  requestsPerMinute: number;
  /** The budget's burst: more than this is never available at once. */
  burst: number;
  /** Tokens left for people: background work starts only when this many stay after it. */
  headroom: number;
  clock: Clock;
}

/**
 * Background work (scans, plan runs) waits until the request budget holds its requests plus a headroom, so a
 * person's command arriving meanwhile finds tokens at once instead of queueing behind a 200-partition scan.
 * Interactive requests never wait here (the budget itself still paces them). Background waiters go one at a
 * time, so they cannot all see the same free tokens.
 */
export class HeadroomPacer implements Pacer {
  private queue: Promise<void> = Promise.resolve();
  private readonly msPerToken: number;

  constructor(private readonly options: HeadroomPacerOptions) {
    this.msPerToken = 60_000 / options.requestsPerMinute;
  }

  wait(requestClass: RequestClass, requests: number): Promise<void> {
    if (requestClass === 'interactive') return Promise.resolve();
    const turn = this.queue.then(() => this.room(requests));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async room(requests: number): Promise<void> {
    const needed = Math.min(requests + this.options.headroom, this.options.burst);
    for (;;) {
      const available = this.options.budget.available();
      if (available >= needed) return;
      await this.options.clock.sleep(Math.ceil((needed - available) * this.msPerToken));
    }
  }
}
