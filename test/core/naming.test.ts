import { describe, expect, it } from 'vitest';
import { NashaError } from '../../src/core/errors.js';
import { checkSnapshotName, defaultSnapshotName, parseExpiration } from '../../src/core/naming.js';
import { editDistance, suggest } from '../../src/core/suggest.js';
import { problemText } from '../../src/slack/blocks/problems.js';
import { ENGLISH_TRANSLATOR } from '../../src/slack/i18n/translate.js';
import { plain } from '../../src/slack/text.js';

const NOW = Date.UTC(2026, 10, 28, 9, 30, 15);

describe('expiration parsing', () => {
  it.each([
    ['7d', '2026-12-05T09:30:15Z'],
    ['12h', '2026-11-28T21:30:15Z'],
    ['30m', '2026-11-28T10:00:15Z'],
    ['2w', '2026-12-12T09:30:15Z'],
    ['12 H', '2026-11-28T21:30:15Z'],
    ['1d12h', '2026-11-29T21:30:15Z'],
    ['1m', '2026-11-28T09:31:15Z'],
    ['2026-12-31', '2026-12-31T00:00:00Z'],
    ['2026-12-31T18:00Z', '2026-12-31T18:00:00Z'],
    ['2026-12-31t18:00z', '2026-12-31T18:00:00Z'],
    ['2026-12-31 18:00Z', '2026-12-31T18:00:00Z'],
    ['2026-12-31T18:00:00+01:00', '2026-12-31T17:00:00Z'],
    ['2026-12-31T18:00-0430', '2026-12-31T22:30:00Z'],
    ['2026-12-31T18:00:00.250+14:00', '2026-12-31T04:00:00.250Z'],
    ['2028-02-29', '2028-02-29T00:00:00Z'],
    ['  7d  ', '2026-12-05T09:30:15Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseExpiration(input, NOW)).toBe(expected);
  });

  const refusal = (input: string) => {
    try {
      parseExpiration(input, NOW);
    } catch (error) {
      expect(error).toBeInstanceOf(NashaError);
      expect((error as NashaError).code).toBe('invalid_input');
      return plain(problemText((error as NashaError).problem)).replace(/[“”]/g, '`');
    }
    throw new Error(`${input} was accepted`);
  };

  it.each([
    ['2027-02-30', 'The expiration `2027-02-30` is not a real date: February 2027 has 28 days.'],
    ['2027-02-29', 'The expiration `2027-02-29` is not a real date: February 2027 has 28 days.'],
    ['2100-02-29', 'The expiration `2100-02-29` is not a real date: February 2100 has 28 days.'],
    ['2027-04-31T10:00Z', 'The expiration `2027-04-31T10:00Z` is not a real date: April 2027 has 30 days.'],
    ['2027-01-00', 'The expiration `2027-01-00` is not a real date: January 2027 has 31 days.'],
    ['2026-13-01', 'The expiration `2026-13-01` has month 13, and months run from 01 to 12.'],
    ['2027-00-10', 'The expiration `2027-00-10` has month 0, and months run from 01 to 12.'],
    ['2027-01-01T24:00Z', 'The expiration `2027-01-01T24:00Z` has hour 24, and hours run from 00 to 23.'],
    ['2027-01-01T23:60Z', 'The expiration `2027-01-01T23:60Z` has minute 60, and minutes run from 00 to 59.'],
    ['2027-01-01T23:59:60Z', 'The expiration `2027-01-01T23:59:60Z` has second 60, and seconds run from 00 to 59.'],
    [
      '2027-01-01T10:00+14:30',
      'The expiration `2027-01-01T10:00+14:30` has the offset +14:30, and offsets run from -12:00 to +14:00.',
    ],
    [
      '2027-01-01T10:00-13:00',
      'The expiration `2027-01-01T10:00-13:00` has the offset -13:00, and offsets run from -12:00 to +14:00.',
    ],
    [
      '2027-01-01T10:00+01:75',
      'The expiration `2027-01-01T10:00+01:75` has the offset +01:75, and offsets run from -12:00 to +14:00.',
    ],
    ['2027-01-01T10:00', 'The expiration `2027-01-01T10:00` has no time zone: add Z for UTC or an offset like +01:00.'],
  ])('refuses the impossible date %s, saying why', (input, message) => {
    expect(refusal(input)).toBe(message);
  });

  it('refuses a date in the past, saying when it was and what time it is now (UTC)', () => {
    expect(refusal('2026-11-27')).toBe(
      'The expiration `2026-11-27` (2026-11-27 00:00 UTC) is in the past: it is now 2026-11-28 09:30 UTC.',
    );
    // Today means today at midnight UTC, which has passed.
    expect(refusal('2026-11-28')).toBe(
      'The expiration `2026-11-28` (2026-11-28 00:00 UTC) is in the past: it is now 2026-11-28 09:30 UTC.',
    );
    expect(refusal('2026-11-28T10:30+02:00')).toBe(
      'The expiration `2026-11-28T10:30+02:00` (2026-11-28 08:30 UTC) is in the past: it is now 2026-11-28 09:30 UTC.',
    );
    expect(refusal('2026-11-28T09:30:15Z')).toMatch(/is in the past/);
    expect(parseExpiration('2026-11-28T09:30:16Z', NOW)).toBe('2026-11-28T09:30:16Z');
  });

  it('refuses an expiration more than five years away, and one less than a minute away', () => {
    const tooFar =
      'is too far: expirations are limited to 5 years (until 2031-11-27 09:30 UTC); leave it out to keep the snapshot until deleted.';
    expect(refusal('1826d')).toBe(`The expiration \`1826d\` ${tooFar}`);
    expect(refusal('2031-11-28')).toBe(`The expiration \`2031-11-28\` ${tooFar}`);
    expect(parseExpiration('1825d', NOW)).toBe('2031-11-27T09:30:15Z');
    expect(parseExpiration('2031-11-27', NOW)).toBe('2031-11-27T00:00:00Z');
    expect(refusal('0m')).toBe('The expiration `0m` is too soon: it must be at least 1m away.');
  });

  it.each([
    ['7', 'has no unit after 7'],
    // The unit as typed is the person's words: a code span, never the bot's own.
    ['7 days', 'has an unknown unit `days`'],
    ['7q', 'has an unknown unit `q`'],
    ['12h1d', 'puts d after h: write the larger unit first, like 1d12h'],
    ['1d1d', 'has two d parts'],
    ['9999999d', 'has a number longer than 6 digits'],
  ])('refuses the duration %j, saying why and what a duration is', (input, problem) => {
    expect(refusal(input)).toBe(
      `The expiration \`${input}\` ${problem}. A duration is a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), like \`30m\`, \`12h\`, \`7d\`, \`2w\` or \`1d12h\`.`,
    );
  });

  it.each(['soon', '-1d', 'tomorrow', '+7d'])('refuses %j, listing what is accepted', (input) => {
    expect(refusal(input)).toBe(
      `\`${input}\` is not an expiration: use a duration from now (\`30m\`, \`12h\`, \`7d\`, \`2w\` or \`1d12h\`), a date \`2026-12-31\` (midnight UTC) or a date-time with its zone, \`2026-12-31T18:00Z\` or \`2026-12-31T18:00+01:00\`.`,
    );
  });

  it('refuses an empty expiration and a malformed date', () => {
    expect(refusal('  ')).toMatch(/^The expiration is empty: use a duration from now/);
    expect(refusal('2026-1-5')).toMatch(/^The expiration `2026-1-5` is not written as a date `2026-12-31`/);
  });
});

describe('snapshot names', () => {
  it('default names sort by time and are easy to type back', () => {
    expect(defaultSnapshotName('data', NOW)).toBe('snap-data-20261128-093015');
  });

  it.each(['ok', 'snap-data-2025-12-01T09:30:00.000Z', 'a_b.c:d-e'])('accepts %s', (name) => {
    expect(checkSnapshotName(name)).toBe(name);
  });

  it.each(['', '-lead', 'has space', 'a/b', 'a..b', 'x'.repeat(101), 'é'])('refuses %j', (name) => {
    expect(() => checkSnapshotName(name)).toThrow(
      expect.objectContaining({
        problem: { kind: 'invalid_name', name: name.length > 100 ? `${name.slice(0, 99)}…` : name },
      }),
    );
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
    expect(plain(ENGLISH_TRANSLATOR.didYouMean(['a', 'b', 'c']))).toBe(' Did you mean “a”, “b” or “c”?');
    expect(plain(ENGLISH_TRANSLATOR.didYouMean([]))).toBe('');
  });
});
