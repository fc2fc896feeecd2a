import { describe, expect, it } from 'vitest';
import { type Clock, ManualClock } from '../../src/shared/clock.js';
import { type CompareAndSetStore, compareAndSet, DEFAULT_CAS_ATTEMPTS } from '../../src/shared/compare-and-set.js';

interface Versioned {
  version: number;
  count: number;
}

/** One versioned value in memory; `write` succeeds only from the version it was read at. */
class Cell implements CompareAndSetStore<Versioned, number> {
  value: Versioned | undefined = { version: 1, count: 0 };
  reads = 0;
  writes = 0;
  /** Runs before each write: lets a test slip a concurrent change in between read and write. */
  beforeWrite: (() => void) | undefined;

  async read(): Promise<Versioned | undefined> {
    this.reads++;
    await Promise.resolve();
    return this.value === undefined ? undefined : { ...this.value };
  }

  async write(current: Versioned, add: number): Promise<Versioned | undefined> {
    this.writes++;
    await Promise.resolve();
    this.beforeWrite?.();
    if (this.value === undefined || this.value.version !== current.version) return undefined;
    this.value = { version: current.version + 1, count: current.count + add };
    return { ...this.value };
  }

  /** Another writer's change. */
  bump(): void {
    if (this.value !== undefined) this.value = { version: this.value.version + 1, count: this.value.count + 100 };
  }
}

/** A clock that records every sleep and returns at once. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
}

describe('compare-and-set', () => {
  it('reads, lets modify decide, writes: the written value and the change come back', async () => {
    const cell = new Cell();
    const clock = recordingClock();
    const result = await compareAndSet(cell, (current) => ({ write: current.count + 5 }), { clock });
    expect(result).toEqual({ outcome: 'written', value: { version: 2, count: 5 }, change: 5 });
    expect([cell.reads, cell.writes, clock.sleeps]).toEqual([1, 1, []]);
  });

  it('modify may decline with a value; nothing is written', async () => {
    const cell = new Cell();
    const result = await compareAndSet(cell, async (current) => ({ decline: `at ${current.version}` }), {
      clock: recordingClock(),
    });
    expect(result).toEqual({ outcome: 'declined', value: 'at 1' });
    expect(cell.writes).toBe(0);
  });

  it('nothing to read is "missing", also when the value disappears between attempts', async () => {
    const cell = new Cell();
    cell.value = undefined;
    expect(await compareAndSet(cell, () => ({ write: 1 }), { clock: recordingClock() })).toEqual({
      outcome: 'missing',
    });
    const vanishing = new Cell();
    vanishing.beforeWrite = () => {
      vanishing.value = undefined;
    };
    expect(await compareAndSet(vanishing, () => ({ write: 1 }), { clock: recordingClock() })).toEqual({
      outcome: 'missing',
    });
    expect([vanishing.reads, vanishing.writes]).toEqual([2, 1]);
  });

  it('on a conflict it reads again and modify decides again, on the latest value', async () => {
    const cell = new Cell();
    let conflicts = 2;
    cell.beforeWrite = () => {
      if (conflicts-- > 0) cell.bump();
    };
    const seen: number[] = [];
    const result = await compareAndSet(
      cell,
      (current) => {
        seen.push(current.count);
        return current.count >= 300 ? { decline: 'enough' } : { write: 1 };
      },
      { clock: recordingClock() },
    );
    expect(seen).toEqual([0, 100, 200]);
    expect(result).toEqual({ outcome: 'written', value: { version: 4, count: 201 }, change: 1 });
  });

  it('gives up after the attempts it was given, saying so', async () => {
    const cell = new Cell();
    cell.beforeWrite = () => cell.bump();
    const clock = recordingClock();
    expect(await compareAndSet(cell, () => ({ write: 1 }), { clock, attempts: 4 })).toEqual({
      outcome: 'exhausted',
      attempts: 4,
    });
    expect([cell.reads, cell.writes]).toEqual([4, 4]);
    const always = new Cell();
    always.beforeWrite = () => always.bump();
    expect(await compareAndSet(always, () => ({ write: 1 }), { clock: recordingClock() })).toMatchObject({
      outcome: 'exhausted',
      attempts: DEFAULT_CAS_ATTEMPTS,
    });
    expect(always.writes).toBe(DEFAULT_CAS_ATTEMPTS);
  });

  it('retries once at once, then backs off with jitter under a doubling ceiling, on the injected clock', async () => {
    const cell = new Cell();
    cell.beforeWrite = () => cell.bump();
    const clock = recordingClock();
    await compareAndSet(cell, () => ({ write: 1 }), {
      clock,
      attempts: 8,
      backoff: { baseMs: 4, maxMs: 20 },
      random: () => 0.99,
    });
    // Attempts 3..8 pause under ceilings 4, 8, 16, 20, 20, 20 (jitter 0.99 of each).
    expect(clock.sleeps).toEqual([3, 7, 15, 19, 19, 19]);
    const none = recordingClock();
    const quiet = new Cell();
    quiet.beforeWrite = () => quiet.bump();
    await compareAndSet(quiet, () => ({ write: 1 }), { clock: none, attempts: 5, random: () => 0 });
    expect(none.sleeps).toEqual([]);
  });

  it('concurrent writers on one value: every change lands once, none is lost', async () => {
    const cell = new Cell();
    const clock = new ManualClock(0, { autoAdvance: true });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => compareAndSet(cell, () => ({ write: 1 }), { clock, attempts: 200 })),
    );
    expect(results.every((r) => r.outcome === 'written')).toBe(true);
    expect(cell.value).toEqual({ version: 31, count: 30 });
    expect(cell.writes).toBeGreaterThan(30);
  });
});
