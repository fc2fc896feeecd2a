import { describe, expect, it } from 'vitest';
import { NashaError } from '../../src/core/errors.js';
import { checkSnapshotName, defaultSnapshotName, parseExpiration } from '../../src/core/naming.js';
import { didYouMean, editDistance, suggest } from '../../src/core/suggest.js';

const NOW = Date.UTC(2026, 10, 28, 9, 30, 15);

describe('expiration parsing', () => {
  it.each([
    ['7d', '2026-12-05T09:30:15Z'],
    ['12h', '2026-11-28T21:30:15Z'],
    ['30m', '2026-11-28T10:00:15Z'],
    ['2w', '2026-12-12T09:30:15Z'],
    ['2026-12-31', '2026-12-31T00:00:00Z'],
    ['2026-12-31T18:00Z', '2026-12-31T18:00:00Z'],
    ['2026-12-31T18:00:00+01:00', '2026-12-31T17:00:00Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseExpiration(input, NOW)).toBe(expected);
  });

  it.each(['soon', '7', '-1d', '2026-13-01', '2026-11-27', '2020-01-01T00:00Z', '9999d', ''])(
    'refuses %j with a clear error',
    (input) => {
      expect(() => parseExpiration(input, NOW)).toThrow(NashaError);
    },
  );
});

describe('snapshot names', () => {
  it('default names sort by time and are easy to type back', () => {
    expect(defaultSnapshotName('data', NOW)).toBe('snap-data-20261128-093015');
  });

  it.each(['ok', 'snap-data-2025-12-01T09:30:00.000Z', 'a_b.c:d-e'])('accepts %s', (name) => {
    expect(checkSnapshotName(name)).toBe(name);
  });

  it.each(['', '-lead', 'has space', 'a/b', 'a..b', 'x'.repeat(101), 'é'])('refuses %j', (name) => {
    expect(() => checkSnapshotName(name)).toThrow(/not a valid snapshot name/);
  });
});

describe('did you mean', () => {
  it('measures edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('DATA', 'data')).toBe(0);
  });

  it('suggests close names first, and nothing when nothing is close', () => {
    expect(suggest('dat', ['data', 'backups', 'logs'])).toEqual(['data']);
    expect(suggest('zpool-12831', ['zpool-128310', 'zpool-204117'])).toEqual(['zpool-128310']);
    expect(suggest('qqqqqq', ['data', 'backups'])).toEqual([]);
    expect(didYouMean(['a', 'b', 'c'])).toBe(' Did you mean `a`, `b` or `c`?');
    expect(didYouMean([])).toBe('');
  });
});
