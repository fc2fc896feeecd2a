import { describe, expect, it } from 'vitest';
import { Readiness } from '../../src/ops/health.js';
import { ManualClock } from '../../src/shared/clock.js';

/** An OVH check that answers only when told to, counting its calls. */
function controlledOvh() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    get calls() {
      return pending.length;
    },
    check: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    answer: (index: number, error?: Error) => {
      const call = pending[index];
      if (error === undefined) call?.resolve();
      else call?.reject(error);
    },
  };
}

function readiness(ovh: () => Promise<void>, clock: ManualClock) {
  return new Readiness({ database: async () => {}, ovh, slack: () => ({ ok: true, detail: 'ok' }) }, clock, 30_000);
}

describe('Readiness', () => {
  it('probes that arrive together share one OVH check in flight', async () => {
    const clock = new ManualClock();
    const ovh = controlledOvh();
    const ready = readiness(ovh.check, clock);
    const probes = Promise.all([ready.check(), ready.check(), ready.check()]);
    await Promise.resolve();
    expect(ovh.calls).toBe(1);
    ovh.answer(0);
    const results = await probes;
    expect(results.map((r) => r.ready)).toEqual([true, true, true]);
    // Cached afterwards; a new check only once the cache is stale.
    await ready.check();
    expect(ovh.calls).toBe(1);
    clock.advance(30_000);
    const later = ready.check();
    await Promise.resolve();
    expect(ovh.calls).toBe(2);
    ovh.answer(1, new Error('OVH refused: This credential is not valid'));
    expect((await later).checks.ovh).toEqual({ ok: false, detail: 'OVH refused: This credential is not valid' });
  });
});
