/** Time source injected everywhere time matters, so tests never need real sleeps. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

/**
 * A clock that only moves when told to. With `autoAdvance`, a sleep jumps the clock straight to
 * the earliest wake-up time once the event loop is otherwise idle for a turn, so code that polls
 * with back-off runs in virtual time.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly sleepers: Sleeper[] = [];
  private readonly autoAdvance: boolean;
  private tickScheduled = false;

  constructor(startMs = Date.UTC(2026, 0, 1), options: { autoAdvance?: boolean } = {}) {
    this.current = startMs;
    this.autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ wakeAt: this.current + Math.max(0, ms), resolve });
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt);
      if (this.autoAdvance) this.scheduleTick();
      else this.wakeDue();
    });
  }

  /** Moves time forward and wakes every sleeper that is due. */
  advance(ms: number): void {
    this.current += Math.max(0, ms);
    this.wakeDue();
  }

  /** Moves time to an absolute instant (never backwards). */
  set(ms: number): void {
    this.current = Math.max(this.current, ms);
    this.wakeDue();
  }

  get pendingSleepers(): number {
    return this.sleepers.length;
  }

  private wakeDue(): void {
    while (this.sleepers.length > 0 && (this.sleepers[0]?.wakeAt ?? Number.POSITIVE_INFINITY) <= this.current) {
      this.sleepers.shift()?.resolve();
    }
  }

  private scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      const next = this.sleepers[0];
      if (next === undefined) return;
      this.current = Math.max(this.current, next.wakeAt);
      this.wakeDue();
      if (this.sleepers.length > 0) this.scheduleTick();
    });
  }
}
