import { describe, expect, it } from 'vitest';
import { auditDelivery } from '../../bench/audit-delivery.js';
import { floorMs, quickSnapshots } from '../../bench/quick-snapshot.js';

/**
 * Keeps `npm run bench` from rotting: its in-process scenarios, tiny, checked for correctness only (the
 * timings are the bench's business). Scenarios 1 and 4 spawn processes and are left to `npm run bench -- --quick`.
 */
describe('bench smoke', () => {
  it('the quick-snapshot floor follows the token bucket', () => {
    // 10 creations + 2 setup requests: the last creation gets token 12 at 2 s; +2 s task, +80 ms answer.
    expect(floorMs({ n: 10, requestsPerMinute: 60, burst: 10, repeats: 1 })).toBe(4_080);
    expect(floorMs({ n: 200, requestsPerMinute: 600, burst: 10, repeats: 1 })).toBe(21_280);
  });

  it('audit delivery: two outboxes deliver every record once, paced per channel', async () => {
    const result = await auditDelivery({ records: 24, channels: 2, replicas: 2 });
    expect(result).toMatchObject({ delivered: 24, duplicates: 0, stale: 0 });
    expect(result.rate.slowest).toBeGreaterThan(0.5);
    expect(result.rate.slowest).toBeLessThanOrEqual(1);
  });

  it('quick snapshots: every variant takes every snapshot through the same client', async () => {
    const [result] = await quickSnapshots([{ n: 3, requestsPerMinute: 600, burst: 10, repeats: 1 }]);
    expect(result?.runs.map((run) => run.variant)).toEqual(['bot', 'service', 'per-task']);
    for (const run of result?.runs ?? []) expect(run.requests.creations).toBe(3);
  }, 20_000);
});
