import { describe, expect, it } from 'vitest';
import { DURATION_FORMS, durationProblemWords, rangeWords } from '../../src/config/duration-words.js';
import { DAY_MS, MINUTE_MS, parseDuration } from '../../src/shared/duration.js';

/** The duration grammar's problems in English, as configuration errors say them (operators read the logs). */
describe('durationProblemWords', () => {
  it.each([
    ['', 'is empty'],
    ['7', 'has no unit after 7'],
    ['1h5', 'has no unit after 5'],
    ['d7', 'does not start with a number'],
    ['1.5h', 'has a fraction: use whole numbers, like 1h30m'],
    ['1h-30m', 'has "-30m" where a number and a unit belong'],
    ['7 days', 'has an unknown unit "days"'],
    ['12h1d', 'puts d after h: write the larger unit first, like 1d12h'],
    ['12h1j', 'puts j after h: write the larger unit first, like 1d12h'],
    ['1m30min', 'has two min parts'],
    ['1234567m', 'has a number longer than 6 digits'],
  ])('%j %s', (text, words) => {
    const parsed = parseDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(durationProblemWords(parsed.problem)).toBe(words);
  });

  it('quotes what the file says as JSON, so a stray quote cannot garble the line', () => {
    expect(durationProblemWords({ code: 'unknown_unit', unit: 'x"y' })).toBe('has an unknown unit "x\\"y"');
  });

  it('names the grammar and a range', () => {
    expect(DURATION_FORMS).toBe('a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks)');
    expect(rangeWords({ minMs: 5 * MINUTE_MS, maxMs: 7 * DAY_MS })).toBe('from 5m to 7d');
  });
});
