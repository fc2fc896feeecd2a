import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/ovh/budget.js';
import { ManualClock } from '../../src/shared/clock.js';
import { type BudgetScope, BudgetWaits, type RequestClass } from '../../src/shared/request-context.js';
import { settle, tick } from '../support/ticks.js';

const as = (requestClass: RequestClass, actor: string, watch?: BudgetWaits): BudgetScope => ({
  requestClass,
  actor,
  watch,
});

/** Takes one token per label, recording the order (and time) they are granted. */
function recorder(budget: RequestBudget, clock: ManualClock) {
  const order: string[] = [];
  const times: number[] = [];
  const take = (label: string, scope?: BudgetScope) =>
    budget.take(scope).then(() => {
      order.push(label);
      times.push(clock.now());
    });
  return { order, times, take };
}

describe('RequestBudget', () => {
  it('lets a burst through at once, then one request per 60000/rate ms', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 3, clock });
    const { times, take } = recorder(budget, clock);
    const takes = Array.from({ length: 6 }, (_, i) => take(String(i), as('interactive', 'U1')));
    await settle();
    expect(times).toEqual([0, 0, 0]);
    expect(budget.queued).toBe(3);
    await tick(clock, 1_000, 3);
    await Promise.all(takes);
    expect(times).toEqual([0, 0, 0, 1_000, 2_000, 3_000]);
  });

  it('serves one person’s requests in order', async () => {
    const clock = new ManualClock(0, { autoAdvance: true });
    const budget = new RequestBudget({ requestsPerMinute: 120, burst: 1, clock });
    const { order, take } = recorder(budget, clock);
    await Promise.all(['a', 'b', 'c', 'd'].map((name) => take(name, as('interactive', 'U1'))));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(clock.now()).toBe(1_500);
  });

  it('refills up to the burst size only', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 5, clock });
    await budget.take(as('interactive', 'U1'));
    clock.advance(3_600_000);
    expect(budget.available()).toBe(5);
  });

  it('rejects a nonsensical configuration', () => {
    const clock = new ManualClock(0);
    expect(() => new RequestBudget({ requestsPerMinute: 0, burst: 1, clock })).toThrow(RangeError);
    expect(() => new RequestBudget({ requestsPerMinute: 60, burst: 0, clock })).toThrow(RangeError);
    expect(() => new RequestBudget({ requestsPerMinute: 60, burst: 5, clock, reserve: -1 })).toThrow(RangeError);
    expect(() => new RequestBudget({ requestsPerMinute: 60, burst: 5, clock, shareEvery: { bulk: 0 } })).toThrow(
      RangeError,
    );
  });

  it('serves a person’s single requests before bulk work, and bulk before background', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 1, clock, reserve: 0 });
    await budget.take(as('interactive', 'U0')); // empties the bucket
    const { order, take } = recorder(budget, clock);
    const all = [
      take('poll', undefined),
      take('list-1', as('bulk', 'U1')),
      take('list-2', as('bulk', 'U1')),
      take('show', as('interactive', 'U2')),
    ];
    await settle();
    await tick(clock, 1_000, 4);
    await Promise.all(all);
    expect(order).toEqual(['show', 'list-1', 'list-2', 'poll']);
  });

  it('is fair between people within a class: round-robin, not first come first served', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 1, clock, reserve: 0 });
    await budget.take(as('bulk', 'U0'));
    const { order, take } = recorder(budget, clock);
    const all = [
      ...Array.from({ length: 4 }, (_, i) => take(`alice-${i}`, as('bulk', 'UALICE'))),
      take('bob-0', as('bulk', 'UBOB')),
      take('bob-1', as('bulk', 'UBOB')),
      take('carol-0', as('bulk', 'UCAROL')),
    ];
    await settle();
    await tick(clock, 1_000, 7);
    await Promise.all(all);
    expect(order).toEqual(['alice-0', 'bob-0', 'carol-0', 'alice-1', 'bob-1', 'alice-2', 'alice-3']);
  });

  it('keeps a reserve for people: bulk and background stop short of it, a person’s request goes at once', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 10, clock, reserve: 2 });
    const { order, times, take } = recorder(budget, clock);
    const bulk = Array.from({ length: 20 }, (_, i) => take(`bulk-${i}`, as('bulk', 'UALICE')));
    const background = take('poll', undefined);
    await settle();
    // 10 tokens, 2 kept: 8 bulk requests go at once, the rest wait for refills above the reserve.
    expect(order).toHaveLength(8);
    expect(budget.available()).toBe(2);
    await take('show', as('interactive', 'UBOB'));
    await take('schedule-show', as('interactive', 'UBOB'));
    expect(order.slice(-2)).toEqual(['show', 'schedule-show']);
    expect(times.slice(-2)).toEqual([0, 0]);
    // The reserve refills first (3 s: back to 2, then one above it), then bulk resumes at the refill rate.
    await tick(clock, 1_000, 2);
    expect(order).toHaveLength(10);
    await tick(clock, 1_000, 1);
    expect(order.at(-1)).toBe('bulk-8');
    expect(budget.available()).toBe(2);
    await tick(clock, 1_000, 30);
    await Promise.all([...bulk, background]);
    expect(order.indexOf('poll')).toBeGreaterThan(order.indexOf('bulk-8'));
  });

  it('starves no class: bulk gets one token in four and background one in ten while people flood it', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 1, clock, reserve: 0 });
    await budget.take(as('interactive', 'U0'));
    const { order, take } = recorder(budget, clock);
    const all = [
      ...Array.from({ length: 40 }, (_, i) => take(`person-${i}`, as('interactive', `U${i % 5}`))),
      ...Array.from({ length: 5 }, (_, i) => take(`bulk-${i}`, as('bulk', 'UBULK'))),
      ...Array.from({ length: 2 }, (_, i) => take(`poll-${i}`, undefined)),
    ];
    await settle();
    await tick(clock, 1_000, 20);
    const first20 = order.slice(0, 20);
    expect(first20.filter((l) => l.startsWith('bulk-')).length).toBeGreaterThanOrEqual(4);
    expect(first20.filter((l) => l.startsWith('poll-')).length).toBeGreaterThanOrEqual(1);
    // Bulk is served every 4th grant at the latest, background every 10th.
    expect(order.indexOf('bulk-0')).toBeLessThanOrEqual(3);
    expect(order.indexOf('poll-0')).toBeLessThanOrEqual(9);
    await tick(clock, 1_000, 40);
    await Promise.all(all);
    expect(order).toHaveLength(47);
  });

  it('a lower class served for its share may take a reserved token (or a person flood would starve it)', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 4, clock, reserve: 2, shareEvery: { bulk: 2 } });
    await Promise.all(Array.from({ length: 4 }, () => budget.take(as('interactive', 'U0'))));
    const { order, take } = recorder(budget, clock);
    const all = [
      take('bulk', as('bulk', 'U2')),
      ...Array.from({ length: 6 }, (_, i) => take(`person-${i}`, as('interactive', 'U1'))),
    ];
    await settle();
    await tick(clock, 1_000, 7);
    await Promise.all(all);
    // The bucket never holds more than one token, yet bulk goes second.
    expect(order.indexOf('bulk')).toBe(1);
  });

  it('says where a waiting request stands: requests of others ahead, and about when it goes', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 1, clock, reserve: 0 });
    await budget.take(as('interactive', 'U0'));
    const waits = new BudgetWaits();
    const others = Array.from({ length: 3 }, () => budget.take(as('interactive', 'UALICE')));
    const mine = [budget.take(as('interactive', 'UBOB', waits)), budget.take(as('interactive', 'UBOB', waits))];
    await settle();
    expect(waits.count).toBe(2);
    // Round-robin: alice, bob, alice, bob — bob's last request has 2 of alice's ahead and goes in 4 s.
    expect(waits.outlook()).toEqual({ ahead: 2, etaMs: 4_000 });
    await tick(clock, 1_000, 2);
    expect(waits.count).toBe(1);
    expect(waits.outlook()).toEqual({ ahead: 1, etaMs: 2_000 });
    await tick(clock, 1_000, 3);
    await Promise.all([...others, ...mine]);
    expect(waits.count).toBe(0);
    expect(waits.outlook()).toBeUndefined();
  });

  it('reports every grant with its class and how long it waited', async () => {
    const clock = new ManualClock(0);
    const grants: Array<[RequestClass, number]> = [];
    const budget = new RequestBudget({
      requestsPerMinute: 60,
      burst: 1,
      clock,
      reserve: 0,
      onGrant: (requestClass, waitedMs) => grants.push([requestClass, waitedMs]),
    });
    await budget.take(as('interactive', 'U1'));
    const later = budget.take(as('bulk', 'U1'));
    await tick(clock, 1_000, 1);
    await later;
    expect(grants).toEqual([
      ['interactive', 0],
      ['bulk', 1_000],
    ]);
  });

  it('holds a lower-class request for the reserve, but wakes at once for a person arriving meanwhile', async () => {
    const clock = new ManualClock(0);
    const budget = new RequestBudget({ requestsPerMinute: 60, burst: 3, clock, reserve: 2 });
    await budget.take(as('interactive', 'U1'));
    await budget.take(as('interactive', 'U1'));
    await budget.take(as('interactive', 'U1'));
    const { order, take } = recorder(budget, clock);
    const bulk = take('bulk', as('bulk', 'U2'));
    await tick(clock, 1_000, 1);
    // One token: a person's request takes it; bulk needs three (its one and the reserve).
    await take('show', as('interactive', 'U3'));
    expect(order).toEqual(['show']);
    await tick(clock, 1_000, 3);
    await bulk;
    expect(order).toEqual(['show', 'bulk']);
    expect(clock.now()).toBe(4_000);
  });
});
