import { describe, expect, it } from 'vitest';
import { DailyDigest, type DailyDigestDeps, type DigestData, digestKey, localDate } from '../../src/core/digest.js';
import { ManualClock } from '../../src/shared/clock.js';
import { breakGlassReview } from '../support/records.js';

function digest(timezone: string, minuteOfDay: number, extra: Partial<DailyDigestDeps> = {}) {
  return new DailyDigest({
    config: { channel: 'C0DIGEST', minuteOfDay, timezone },
    auditChannel: 'C0AUDIT',
    approvals: { open: async () => [] },
    protection: undefined,
    audit: { changeCounts: async () => [] },
    expiring: { knownExpiring: () => [] },
    send: async () => undefined,
    clock: new ManualClock(0),
    ...extra,
  });
}

describe('daily digest timing', () => {
  it('is due at the local time of the local day, across daylight saving changes', () => {
    const paris = digest('Europe/Paris', 9 * 60);
    // Winter: 09:00 in Paris is 08:00 UTC; summer: 07:00 UTC.
    expect(paris.dueOf(Date.UTC(2026, 0, 15, 12))).toEqual({ date: '2026-01-15', at: Date.UTC(2026, 0, 15, 8) });
    expect(paris.dueOf(Date.UTC(2026, 6, 15, 12))).toEqual({ date: '2026-07-15', at: Date.UTC(2026, 6, 15, 7) });
    // 23:30 UTC on the 28th of March is already the 29th in Paris (the day clocks go forward).
    expect(paris.dueOf(Date.UTC(2026, 2, 28, 23, 30))).toEqual({ date: '2026-03-29', at: Date.UTC(2026, 2, 29, 7) });
  });

  it('names the day in the zone, and the key by that day', () => {
    expect(localDate(Date.UTC(2026, 11, 31, 23, 30), 'Asia/Tokyo')).toEqual({ year: 2027, month: 1, day: 1 });
    expect(localDate(Date.UTC(2026, 11, 31, 23, 30), 'UTC')).toEqual({ year: 2026, month: 12, day: 31 });
    expect(digestKey('2026-11-29')).toBe('digest:2026-11-29');
  });

  it('has nothing to say, and sends nothing, when every list is empty', async () => {
    expect(await digest('UTC', 0).runFor(Date.UTC(2026, 10, 29))).toBe(false);
  });

  it('a break-glass change awaiting review alone is something to say: the digest is sent with it', async () => {
    const sent: DigestData[] = [];
    const review = breakGlassReview(0);
    const withReview = digest('UTC', 0, {
      breakGlass: { listUnacknowledgedBreakGlass: async () => [review] },
      send: async (_key, data) => {
        sent.push(data);
      },
    });
    expect(await withReview.runFor(Date.UTC(2026, 10, 29))).toBe(true);
    expect(sent.map((d) => d.reviews)).toEqual([[review]]);
  });
});
