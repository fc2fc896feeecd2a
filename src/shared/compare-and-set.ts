import type { Clock } from './clock.js';

/**
 * Optimistic concurrency in one place, in the manner of Teleport's `CompareAndSwap[T].Update(modify)`: read the
 * current value, let `modify` decide from it, write only if nothing changed meanwhile, and on a conflict read
 * again and decide again — a bounded number of times, with a small jittered back-off so racing writers spread out.
 */

/** What `modify` decided from the value it was shown: write this change, or stop with this answer. */
export type Modification<Change, Declined> = { write: Change } | { decline: Declined };

export type CompareAndSetResult<T, Change, Declined> =
  /** `change` was written; `value` is the stored value the write returned. */
  | { outcome: 'written'; value: T; change: Change }
  /** `modify` declined on the latest value. */
  | { outcome: 'declined'; value: Declined }
  /** There was nothing to read (on the first or a later attempt). */
  | { outcome: 'missing' }
  /** Every attempt met a concurrent write. */
  | { outcome: 'exhausted'; attempts: number };

/** How one value is read and conditionally written. */
export interface CompareAndSetStore<T, Change> {
  read(): Promise<T | undefined>;
  /** Applies `change` only if the stored value is still `current`; undefined when it is not (a conflict). */
  write(current: T, change: Change): Promise<T | undefined>;
}

export interface CompareAndSetOptions {
  /** Sleeps between attempts happen on this clock (virtual in tests). */
  clock: Clock;
  /** Attempts in all, the first included. Default 20. */
  attempts?: number;
  /** The first retry is at once; before attempt n ≥ 3, a pause random in [0, min(maxMs, baseMs · 2^(n-3))). */
  backoff?: { baseMs: number; maxMs: number };
  /** In [0, 1); Math.random by default. */
  random?: () => number;
}

export const DEFAULT_CAS_ATTEMPTS = 20;
const DEFAULT_BACKOFF = { baseMs: 2, maxMs: 50 };

/**
 * Reads, asks `modify`, writes conditionally; repeats on conflict. `modify` may have side effects (an audit
 * record of a refusal, say): it runs once per attempt, always on the latest value.
 */
export async function compareAndSet<T, Change, Declined>(
  store: CompareAndSetStore<T, Change>,
  modify: (current: T) => Modification<Change, Declined> | Promise<Modification<Change, Declined>>,
  options: CompareAndSetOptions,
): Promise<CompareAndSetResult<T, Change, Declined>> {
  const attempts = options.attempts ?? DEFAULT_CAS_ATTEMPTS;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 2) {
      const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 3));
      const delay = Math.floor(random() * ceiling);
      if (delay > 0) await options.clock.sleep(delay);
    }
    const current = await store.read();
    if (current === undefined) return { outcome: 'missing' };
    const decision = await modify(current);
    if ('decline' in decision) return { outcome: 'declined', value: decision.decline };
    const written = await store.write(current, decision.write);
    if (written !== undefined) return { outcome: 'written', value: written, change: decision.write };
  }
  return { outcome: 'exhausted', attempts };
}
