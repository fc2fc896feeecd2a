import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { daysInMonth, formatUtcMinute, isLeapYear, looksLikeDate, parseIsoInstant } from '../../src/shared/calendar.js';

describe('strict ISO 8601 dates', () => {
  it.each([
    ['2026-12-31', Date.UTC(2026, 11, 31)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
    ['2000-02-29', Date.UTC(2000, 1, 29)],
    ['2026-12-31T18:00Z', Date.UTC(2026, 11, 31, 18)],
    ['2026-12-31t18:00:05z', Date.UTC(2026, 11, 31, 18, 0, 5)],
    ['2026-12-31 18:00Z', Date.UTC(2026, 11, 31, 18)],
    ['2026-12-31T18:00:05.5Z', Date.UTC(2026, 11, 31, 18, 0, 5, 500)],
    ['2026-12-31T18:00:05.123Z', Date.UTC(2026, 11, 31, 18, 0, 5, 123)],
    ['2026-12-31T18:00+01:00', Date.UTC(2026, 11, 31, 17)],
    ['2026-12-31T18:00+0100', Date.UTC(2026, 11, 31, 17)],
    ['2026-12-31T18:00+01', Date.UTC(2026, 11, 31, 17)],
    ['2026-12-31T18:00-04:30', Date.UTC(2026, 11, 31, 22, 30)],
    ['2026-12-31T23:30-12:00', Date.UTC(2027, 0, 1, 11, 30)],
    ['2026-01-01T00:30+14:00', Date.UTC(2025, 11, 31, 10, 30)],
  ])('%s', (text, ms) => {
    expect(parseIsoInstant(text)).toEqual({ ok: true, ms });
  });

  it('keeps years below 100 as written (Date.UTC would read 0050 as 1950)', () => {
    const parsed = parseIsoInstant('0050-06-01');
    expect(parsed.ok && new Date(parsed.ms).toISOString()).toBe('0050-06-01T00:00:00.000Z');
  });

  it.each([
    ['2027-02-29', { code: 'day', year: 2027, month: 2, days: 28 }],
    ['1900-02-29', { code: 'day', year: 1900, month: 2, days: 28 }],
    ['2027-02-30T10:00Z', { code: 'day', year: 2027, month: 2, days: 28 }],
    ['2027-06-31', { code: 'day', year: 2027, month: 6, days: 30 }],
    ['2027-12-32', { code: 'day', year: 2027, month: 12, days: 31 }],
    ['2027-12-00', { code: 'day', year: 2027, month: 12, days: 31 }],
    ['2027-13-01', { code: 'month', month: 13 }],
    ['2027-00-01', { code: 'month', month: 0 }],
    ['2027-01-01T24:00Z', { code: 'hour', hour: 24 }],
    ['2027-01-01T12:60Z', { code: 'minute', minute: 60 }],
    ['2027-01-01T12:00:60Z', { code: 'second', second: 60 }],
    ['2027-01-01T12:00+15:00', { code: 'offset', offset: '+15:00' }],
    ['2027-01-01T12:00-12:30', { code: 'offset', offset: '-12:30' }],
    ['2027-01-01T12:00+05:60', { code: 'offset', offset: '+05:60' }],
    ['2027-01-01T12:00', { code: 'no_zone' }],
    ['2027-01-01T12:00:00.5', { code: 'no_zone' }],
  ] as const)('refuses %s, saying why as data: %j', (text, problem) => {
    expect(parseIsoInstant(text)).toEqual({ ok: false, problem });
  });

  it.each(['2027-1-01', '2027-01-01T1:00Z', '2027-01-01T10:00:00.1234Z', '27-01-01', '2027/01/01', 'soon', ''])(
    'refuses the malformed %j as none of the accepted forms',
    (text) => {
      expect(parseIsoInstant(text)).toEqual({ ok: false, problem: { code: 'not_iso' } });
    },
  );

  it('agrees with the calendar on every day of four centuries', () => {
    expect([isLeapYear(2024), isLeapYear(2100), isLeapYear(2000), isLeapYear(2027)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2400 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day) => {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const real = new Date(Date.UTC(year, month - 1, day));
          const exists = real.getUTCMonth() === month - 1 && real.getUTCDate() === day;
          expect(parseIsoInstant(text).ok).toBe(exists);
          expect(day <= daysInMonth(year, month)).toBe(exists);
          if (exists) expect(parseIsoInstant(text)).toEqual({ ok: true, ms: real.getTime() });
        },
      ),
    );
  });

  it('tells dates from other text, and writes instants in UTC to the minute', () => {
    expect(looksLikeDate('2027-02-30')).toBe(true);
    expect(looksLikeDate(' 2027-')).toBe(true);
    expect(looksLikeDate('7d')).toBe(false);
    expect(looksLikeDate('2027')).toBe(false);
    expect(formatUtcMinute(Date.UTC(2026, 10, 28, 9, 30, 59))).toBe('2026-11-28 09:30 UTC');
  });
});
