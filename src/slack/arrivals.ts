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
 * requests received are still unanswered, keeps each turn short until the burst is acknowledged.
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
  /** When each request received and not answered yet arrived. */
  private readonly unanswered = new Set<{ at: number }>();
  /** Connections accepted since the last check. */
  private accepted = 0;
  private readonly waiters: { since: number; resolve: () => void }[] = [];
  private checkPending = false;
  private readonly maxHoldMs: number;
  private readonly nextTurn: (check: () => void) => void;

  constructor(private readonly options: ArrivalOptions) {
    this.maxHoldMs = options.maxHoldMs ?? 100;
    this.nextTurn = options.nextTurn ?? ((check) => setImmediate(check));
  }

  /** A connection was accepted: others may be queued behind it (one accept per turn). */
  connectionAccepted(): void {
    this.accepted++;
  }

  /** A request arrived; call the function returned once it is answered (more calls do nothing). */
  requestReceived(): () => void {
    const request = { at: this.options.clock.now() };
    this.unanswered.add(request);
    return () => {
      this.unanswered.delete(request);
    };
  }

  /**
   * Resolves at the first turn after which nothing arrived and every recent request is answered, or once it
   * has waited maxHoldMs.
   */
  settled(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push({ since: this.options.clock.now(), resolve });
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
    const quiet = this.accepted === 0 && !this.hasRecentUnanswered(now);
    this.accepted = 0;
    const due: (() => void)[] = [];
    const kept = this.waiters.filter((waiter) => {
      const release = quiet || now - waiter.since >= this.maxHoldMs;
      if (release) due.push(waiter.resolve);
      return !release;
    });
    this.waiters.splice(0, this.waiters.length, ...kept);
    for (const resolve of due) resolve();
    if (this.waiters.length > 0) this.schedule();
  }

  private hasRecentUnanswered(now: number): boolean {
    for (const request of this.unanswered) if (now - request.at < this.maxHoldMs) return true;
    return false;
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
