import { describe, expect, it } from 'vitest';
import type { PlanClass } from '../../../src/core/protection/model.js';
import {
  expiresAt,
  latestSlot,
  localToUtc,
  maxLivePlanSnapshots,
  nextSlot,
  ownerOf,
  parsePlanName,
  planSnapshotName,
  slotsBetween,
} from '../../../src/core/protection/schedule.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/shared/duration.js';

const daily: PlanClass = { label: 'daily', everyMs: DAY_MS, keep: 7, minuteOfDay: 120, weekday: undefined };
const weeklySameTime: PlanClass = { label: 'weekly', everyMs: 7 * DAY_MS, keep: 4, minuteOfDay: 120, weekday: 0 };
const sixHourly: PlanClass = { label: '6h', everyMs: 6 * HOUR_MS, keep: 4, minuteOfDay: 30, weekday: undefined };
const iso = (ms: number) => new Date(ms).toISOString();

describe('plan slots', () => {
  it('daily at 02:00 UTC, six-hourly from 00:30, weekly on Sundays', () => {
    const from = Date.UTC(2026, 10, 28, 0, 0); // Saturday
    expect(slotsBetween(daily, 'UTC', from, from + 2 * DAY_MS).map(iso)).toEqual([
      '2026-11-28T02:00:00.000Z',
      '2026-11-29T02:00:00.000Z',
    ]);
    expect(slotsBetween(sixHourly, 'UTC', from, from + DAY_MS).map(iso)).toEqual([
      '2026-11-28T00:30:00.000Z',
      '2026-11-28T06:30:00.000Z',
      '2026-11-28T12:30:00.000Z',
      '2026-11-28T18:30:00.000Z',
    ]);
    expect(slotsBetween(weeklySameTime, 'UTC', from, from + 14 * DAY_MS).map(iso)).toEqual([
      '2026-11-29T02:00:00.000Z',
      '2026-12-06T02:00:00.000Z',
    ]);
    expect(iso(latestSlot(daily, 'UTC', Date.UTC(2026, 10, 28, 1, 59)))).toBe('2026-11-27T02:00:00.000Z');
    expect(iso(latestSlot(daily, 'UTC', Date.UTC(2026, 10, 28, 2, 0)))).toBe('2026-11-28T02:00:00.000Z');
    expect(iso(nextSlot(daily, 'UTC', Date.UTC(2026, 10, 28, 2, 0)))).toBe('2026-11-29T02:00:00.000Z');
  });

  it('follows local time across daylight saving changes', () => {
    // Paris: 29 March 2026 02:00 → 03:00 (02:30 does not exist), 25 October 2026 03:00 → 02:00 (02:30 twice).
    expect(iso(localToUtc({ year: 2026, month: 3, day: 28 }, 150, 'Europe/Paris'))).toBe('2026-03-28T01:30:00.000Z');
    expect(iso(localToUtc({ year: 2026, month: 3, day: 29 }, 150, 'Europe/Paris'))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(localToUtc({ year: 2026, month: 3, day: 30 }, 150, 'Europe/Paris'))).toBe('2026-03-30T00:30:00.000Z');
    expect(iso(localToUtc({ year: 2026, month: 10, day: 25 }, 150, 'Europe/Paris'))).toBe('2026-10-25T00:30:00.000Z');
    const paris = { ...daily, minuteOfDay: 150 };
    const slots = slotsBetween(paris, 'Europe/Paris', Date.UTC(2026, 2, 27), Date.UTC(2026, 2, 31));
    expect(slots.map(iso)).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('gives a slot shared by a longer class to that class, and expires each one keep periods on', () => {
    const sunday = Date.UTC(2026, 10, 29, 2, 0);
    const monday = sunday + DAY_MS;
    const plan = [daily, weeklySameTime];
    expect(ownerOf(plan, daily, 'UTC', sunday)).toBe(weeklySameTime);
    expect(ownerOf(plan, daily, 'UTC', monday)).toBe(daily);
    expect(iso(expiresAt(weeklySameTime, sunday))).toBe(iso(sunday + 28 * DAY_MS - 5 * MINUTE_MS));
    expect(maxLivePlanSnapshots(plan, 'UTC')).toBe(10);
    expect(maxLivePlanSnapshots([daily, { ...weeklySameTime, minuteOfDay: 180 }], 'UTC')).toBe(11);
    expect(maxLivePlanSnapshots([sixHourly], 'UTC')).toBe(4);
  });

  it('names plan snapshots by class, partition and UTC minute, and reads them back', () => {
    const at = Date.UTC(2026, 10, 29, 2, 0);
    expect(planSnapshotName('daily', 'data', at)).toBe('plan-daily-data-20261129T0200');
    expect(parsePlanName('plan-daily-data-20261129T0200')).toEqual({ label: 'daily', slotAt: at });
    expect(parsePlanName('plan-6h-my-long-part-20261129T0200')).toEqual({ label: '6h', slotAt: at });
    expect(parsePlanName('snap-data-20261129-020000')).toBeUndefined();
    const long = planSnapshotName('weekly', 'p'.repeat(200), at);
    expect(long.length).toBe(100);
    expect(parsePlanName(long)).toEqual({ label: 'weekly', slotAt: at });
  });
});
