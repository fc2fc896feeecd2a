import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../src/shared/backoff.js';

const NOW = Date.UTC(2026, 10, 28, 9, 0, 0);

describe('backoffDelay: exponential, capped, equal jitter', () => {
  it('doubles from the base up to the cap; half of each delay is fixed, half random', () => {
    const low = { baseMs: 1_000, maxMs: 10_000, random: () => 0 };
    const high = { baseMs: 1_000, maxMs: 10_000, random: () => 0.999_999 };
    expect([0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(low, retry))).toEqual([
      500, 1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
    expect([0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(high, retry))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('stays within bounds for any retry count and any jitter source', () => {
    for (const retry of [-3, 0, 7, 60, 1e9, Number.POSITIVE_INFINITY]) {
      for (const random of [() => -1, () => 0.5, () => 2, () => Number.NaN]) {
        const delay = backoffDelay({ baseMs: 500, maxMs: 8_000, random }, retry);
        expect(delay).toBeGreaterThanOrEqual(250);
        expect(delay).toBeLessThanOrEqual(8_000);
      }
    }
  });
});

describe('retryDelay: Retry-After wins when given', () => {
  const policy = { baseMs: 2_000, maxMs: 300_000, random: () => 0 };
  it('waits what the server asked, shorter or longer than the back-off', () => {
    expect(retryDelay(policy, 5, 7_000)).toBe(7_000); // back-off alone would be 32 s
    expect(retryDelay(policy, 0, 30_000)).toBe(30_000);
    expect(retryDelay(policy, 0, 0)).toBe(0);
  });
  it('backs off when the server said nothing', () => {
    expect(retryDelay(policy, 2, undefined)).toBe(4_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('10', NOW)).toBe(10_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(['7', '9'], NOW)).toBe(7_000);
  });
  it('reads an HTTP-date against now; a past date means now', () => {
    expect(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW)).toBe(30_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 08:00:00 GMT', NOW)).toBe(0);
  });
  it('ignores what is absent or unreadable', () => {
    for (const value of [undefined, '', '-5', '1.5', 'soon', '10 seconds', '2026-11-28T09:00:30Z', []]) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});
