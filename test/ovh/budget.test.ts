import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/ovh/budget.js';
import { ManualClock } from '../../src/shared/clock.js';

describe('RequestBudget', () => {
  it('lets a burst through at once, then one request per 60000/rate ms', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 3, clock });
    const granted: number[] = [];
    const takes = Array.from({ length: 6 }, () => budget.take().then(() => granted.push(clock.now())));
    await Promise.resolve();
    await Promise.resolve();
    expect(granted).toEqual([0, 0, 0]);
    expect(budget.queued).toBe(3);
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(takes);
    expect(granted).toEqual([0, 0, 0, 1_000, 2_000, 3_000]);
  });

  it('serves waiters first come, first served', async () => {
    const clock = new ManualClock(0, { autoAdvance: true });
    const budget = new RequestBudget({ requestsPerMinute: 120, burst: 1, clock });
    const order: string[] = [];
    await Promise.all(['a', 'b', 'c', 'd'].map((name) => budget.take().then(() => order.push(name))));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(clock.now()).toBe(1_500);
  });

  it('refills up to the burst size only', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 5, clock });
    await budget.take();
    clock.advance(3_600_000);
    expect(budget.available()).toBe(5);
  });

  it('rejects a nonsensical configuration', () => {
    const clock = new ManualClock(0);
    expect(() => new RequestBudget({ requestsPerMinute: 0, burst: 1, clock })).toThrow(RangeError);
    expect(() => new RequestBudget({ requestsPerMinute: 60, burst: 0, clock })).toThrow(RangeError);
  });
});
