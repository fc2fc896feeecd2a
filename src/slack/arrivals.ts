import type { RequestListener, Server } from 'node:http';
import type { Clock } from '../shared/clock.js';

/**
 * Acks first, work after: what a Slack request does once it is acknowledged waits until the HTTP server has
 * caught up with the requests arriving.
 *
 * Why: Node accepts one new connection per event-loop turn (libuv ≥ 1.45 accepts once per poll), and after a
 * quiet period every request of a burst comes on a new connection. When each turn also runs the work of the
 * commands already acknowledged (an OVH request over a new TLS connection, a reply: milliseconds each), the 32nd
 * connection of a burst is accepted only after 31 turns of that work, and its ack comes 4–7× later than a bare
 * Bolt app's (bench/RESULTS.md, scenario 6). Holding the work while connections are still being accepted, or
 * requests received before it are still unanswered, keeps each turn short until the burst is acknowledged.
 */
export interface ArrivalOptions {
  clock: Clock;
  /**
   * Work never waits longer than this after it asked, and a request unanswered for longer no longer holds
   * anything (default 100 ms): a steady stream of requests, or one slow to send its body, cannot starve the work.
   */
  maxHoldMs?: number;
  /** Runs `check` at the next event-loop turn, after its I/O (setImmediate; tests turn it by hand). */
  nextTurn?: (check: () => void) => void;
}

export class SlackArrivals {
  /** Requests received and not answered yet: in which order and when they arrived. */
  private readonly unanswered = new Set<{ order: number; at: number }>();
  /** Requests received so far, and when the last one came. */
  private received = 0;
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** Whether a connection was accepted since the last check. */
  private accepted = false;
  /** Work waiting: since when, and how many requests had arrived when it asked (those are the ones it waits for). */
  private readonly waiters: { since: number; arrivedBefore: number; resolve: () => void }[] = [];
  private checkPending = false;
  private readonly maxHoldMs: number;
  private readonly nextTurn: (check: () => void) => void;

  constructor(private readonly options: ArrivalOptions) {
    this.maxHoldMs = options.maxHoldMs ?? 100;
    this.nextTurn = options.nextTurn ?? ((check) => setImmediate(check));
  }

  /** A connection was accepted: others may be queued behind it (one accept per turn). */
  connectionAccepted(): void {
    this.accepted = true;
  }

  /** A request arrived; call the function returned once it is answered (more calls do nothing). */
  requestReceived(): () => void {
    this.received++;
    const request = { order: this.received, at: this.options.clock.now() };
    this.lastArrival = request.at;
    this.unanswered.add(request);
    return () => {
      this.unanswered.delete(request);
    };
  }

  /** No request unanswered, and none received for `ms`. */
  quietFor(ms: number): boolean {
    return this.unanswered.size === 0 && this.options.clock.now() - this.lastArrival >= ms;
  }

  /**
   * Resolves at the first turn in which no connection was accepted and every request that had arrived when this
   * was called is answered (one unanswered for maxHoldMs aside), or once it has waited maxHoldMs. Requests that
   * arrive later on open connections do not hold it: under a steady stream, work waits for the acks before it.
   */
  settled(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push({ since: this.options.clock.now(), arrivedBefore: this.received, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.checkPending) return;
    this.checkPending = true;
    this.nextTurn(() => this.check());
  }

  private check(): void {
    this.checkPending = false;
    const now = this.options.clock.now();
    const accepting = this.accepted;
    this.accepted = false;
    const firstUnanswered = this.firstRecentUnanswered(now);
    const due: (() => void)[] = [];
    const kept = this.waiters.filter((waiter) => {
      const caughtUp = !accepting && firstUnanswered > waiter.arrivedBefore;
      const release = caughtUp || now - waiter.since >= this.maxHoldMs;
      if (release) due.push(waiter.resolve);
      return !release;
    });
    this.waiters.splice(0, this.waiters.length, ...kept);
    for (const resolve of due) resolve();
    if (this.waiters.length > 0) this.schedule();
  }

  /** The order of the first request unanswered for less than maxHoldMs (Infinity: none). */
  private firstRecentUnanswered(now: number): number {
    let first = Number.POSITIVE_INFINITY;
    for (const request of this.unanswered) {
      if (now - request.at < this.maxHoldMs) first = Math.min(first, request.order);
    }
    return first;
  }
}

/** `listener` with each of its requests counted in `arrivals` until its response is finished or abandoned. */
export function countingRequests(arrivals: SlackArrivals, listener: RequestListener): RequestListener {
  return (req, res) => {
    const answered = arrivals.requestReceived();
    res.once('finish', answered);
    res.once('close', answered);
    listener(req, res);
  };
}

/** Counts the connections `server` accepts in `arrivals`. */
export function countingConnections(arrivals: SlackArrivals, server: Server): void {
  server.on('connection', () => arrivals.connectionAccepted());
}
