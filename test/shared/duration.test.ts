import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  DURATION_UNITS,
  formatDuration,
  HOUR_MS,
  isWithin,
  MINUTE_MS,
  parseDuration,
  WEEK_MS,
} from '../../src/shared/duration.js';

describe('the duration grammar', () => {
  it.each([
    ['30m', 30 * MINUTE_MS],
    ['12h', 12 * HOUR_MS],
    ['7d', 7 * DAY_MS],
    ['2w', 2 * WEEK_MS],
    ['7D', 7 * DAY_MS],
    ['12 h', 12 * HOUR_MS],
    [' 12h ', 12 * HOUR_MS],
    ['90min', 90 * MINUTE_MS],
    ['90 MIN', 90 * MINUTE_MS],
    ['1d12h', 36 * HOUR_MS],
    ['1d 12h', 36 * HOUR_MS],
    ['2w3d4h5m', 2 * WEEK_MS + 3 * DAY_MS + 4 * HOUR_MS + 5 * MINUTE_MS],
    ['0m', 0],
    ['007d', 7 * DAY_MS],
    ['999999w', 999_999 * WEEK_MS],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['', { code: 'empty' }],
    ['   ', { code: 'empty' }],
    ['7', { code: 'no_unit', number: '7' }],
    ['1h5', { code: 'no_unit', number: '5' }],
    ['d7', { code: 'no_number' }],
    ['-1d', { code: 'no_number' }],
    ['1.5h', { code: 'fraction' }],
    ['1,5d', { code: 'fraction' }],
    ['1h-30m', { code: 'unexpected', text: '-30m' }],
    ['7 days', { code: 'unknown_unit', unit: 'days' }],
    ['7q', { code: 'unknown_unit', unit: 'q' }],
    ['12h1d', { code: 'unit_order', unit: 'd', after: 'h' }],
    ['30m1h', { code: 'unit_order', unit: 'h', after: 'm' }],
    ['1d1d', { code: 'repeated_unit', unit: 'd' }],
    ['1m30min', { code: 'repeated_unit', unit: 'min' }],
    ['1234567m', { code: 'too_many_digits', max: 6 }],
  ] as const)('refuses %j, saying why as data: %j', (text, problem) => {
    expect(parseDuration(text)).toEqual({ ok: false, problem });
  });

  it('every unit word of the table is understood, in any case', () => {
    for (const [unit, ms] of Object.entries(DURATION_UNITS)) {
      expect(parseDuration(`3${unit}`)).toEqual({ ok: true, ms: 3 * ms });
      expect(parseDuration(`3 ${unit.toUpperCase()}`)).toEqual({ ok: true, ms: 3 * ms });
    }
  });

  it('formats durations with days, hours and minutes, in a form it reads back', () => {
    expect(formatDuration(7 * DAY_MS)).toBe('7d');
    expect(formatDuration(36 * HOUR_MS)).toBe('1d12h');
    expect(formatDuration(5 * MINUTE_MS)).toBe('5m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_825 * DAY_MS)).toBe('1825d');
    expect(formatDuration(0)).toBe('0m');
    expect(formatDuration(999)).toBe('0m');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (minutes) => {
        const ms = minutes * MINUTE_MS;
        expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, ms });
      }),
    );
  });

  it('reads French durations where they are natural: 7j, 12 h, 2sem, 1j12h, 30 min', () => {
    expect(parseDuration('7j')).toEqual({ ok: true, ms: 7 * DAY_MS });
    expect(parseDuration('12 h')).toEqual({ ok: true, ms: 12 * HOUR_MS });
    expect(parseDuration('2sem')).toEqual({ ok: true, ms: 14 * DAY_MS });
    expect(parseDuration('1j12h')).toEqual({ ok: true, ms: 36 * HOUR_MS });
    expect(parseDuration('1\u00a0j 12\u00a0h')).toEqual({ ok: true, ms: 36 * HOUR_MS });
    expect(parseDuration('30 min')).toEqual({ ok: true, ms: 30 * MINUTE_MS });
    expect(parseDuration('12h1j')).toEqual({ ok: false, problem: { code: 'unit_order', unit: 'j', after: 'h' } });
  });

  it('formats durations in French with no-break spaces, in a form it reads back', () => {
    expect(formatDuration(7 * DAY_MS, 'fr')).toBe('7\u00a0j');
    expect(formatDuration(36 * HOUR_MS, 'fr')).toBe('1\u00a0j 12\u00a0h');
    expect(formatDuration(5 * MINUTE_MS, 'fr')).toBe('5\u00a0min');
    expect(formatDuration(0, 'fr')).toBe('0\u00a0min');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (minutes) => {
        const ms = minutes * MINUTE_MS;
        expect(parseDuration(formatDuration(ms, 'fr'))).toEqual({ ok: true, ms });
      }),
    );
  });

  it('checks a range, bounds included', () => {
    const range = { minMs: 5 * MINUTE_MS, maxMs: 7 * DAY_MS };
    expect(isWithin(5 * MINUTE_MS, range)).toBe(true);
    expect(isWithin(7 * DAY_MS, range)).toBe(true);
    expect(isWithin(5 * MINUTE_MS - 1, range)).toBe(false);
    expect(isWithin(7 * DAY_MS + 1, range)).toBe(false);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const parsed = parseDuration(text);
        if (parsed.ok) expect(Number.isSafeInteger(parsed.ms)).toBe(true);
        else expect(parsed.problem.code).toMatch(/^[a-z_]+$/);
      }),
    );
  });
});
