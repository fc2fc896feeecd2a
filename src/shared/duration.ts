/**
 * The one duration grammar of the bot, shared by the YAML config (`ttl: 4h`, `default_expiration: 7d`) and by
 * commands and forms (`--expires 12h`): a whole number and a unit, case-insensitive, an optional space between
 * them (`12 h`), and parts may be combined largest unit first (`1d12h`, `2w 3d`). Each use checks its own range.
 */

import type { Lang } from './language.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/**
 * Unit words, lower case, and their length. One line per word: another language's unit (say `j` for jours) is
 * one more line here. Several words may share a length (`m` and `min`); combined forms put the longer units first.
 */
export const DURATION_UNITS: Readonly<Record<string, number>> = {
  w: WEEK_MS,
  d: DAY_MS,
  h: HOUR_MS,
  m: MINUTE_MS,
  min: MINUTE_MS,
  // French: `sem` (semaines), `j` (jours); `h` and `min` are the same words.
  sem: WEEK_MS,
  j: DAY_MS,
};

/** Longest number in one part: no range the bot uses goes beyond it, and sums stay exact (999999w is 6e14 ms). */
const MAX_DIGITS = 6;

/**
 * Why a text is not a duration, as data (worded by whoever shows it: the Slack layer in the reader's language,
 * the config's errors in English). `number`, `unit`, `text`: as written, lower case.
 */
export type DurationProblem =
  | { code: 'empty' }
  /** Digits with no unit after them (`7`, the `5` of `1h5`). */
  | { code: 'no_unit'; number: string }
  | { code: 'no_number' }
  /** `1.5h`, `1,5d`: whole numbers only. */
  | { code: 'fraction' }
  /** Something that is neither a number nor a unit, where one belongs. */
  | { code: 'unexpected'; text: string }
  | { code: 'unknown_unit'; unit: string }
  | { code: 'too_many_digits'; max: number }
  | { code: 'repeated_unit'; unit: string }
  /** A unit after a smaller one (`12h1d`): larger units come first. */
  | { code: 'unit_order'; unit: string; after: string };

export type DurationParse = { ok: true; ms: number } | { ok: false; problem: DurationProblem };

/** Milliseconds bounds of one use, both inclusive. */
export interface DurationRange {
  minMs: number;
  maxMs: number;
}

const PART = /(\d+)\s*([a-z]+)\s*/y;

/** `7d` → 604 800 000; on failure, what is wrong with `input` (callers word it, with the grammar). */
export function parseDuration(input: string): DurationParse {
  const text = input.trim().toLowerCase();
  if (text === '') return { ok: false, problem: { code: 'empty' } };
  if (/^\d+$/.test(text)) return { ok: false, problem: { code: 'no_unit', number: text } };
  if (!/^\d/.test(text)) return { ok: false, problem: { code: 'no_number' } };
  if (/\d[.,]\d/.test(text)) return { ok: false, problem: { code: 'fraction' } };
  let ms = 0;
  let previous: { unit: string; ms: number } | undefined;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const match = PART.exec(text);
    if (match === null) {
      const rest = text.slice(at);
      return {
        ok: false,
        problem: /^\d+$/.test(rest)
          ? { code: 'no_unit', number: rest }
          : { code: 'unexpected', text: rest.slice(0, 20) },
      };
    }
    const [, digits = '', unit = ''] = match;
    const unitMs = DURATION_UNITS[unit];
    if (unitMs === undefined) return { ok: false, problem: { code: 'unknown_unit', unit: unit.slice(0, 20) } };
    if (digits.length > MAX_DIGITS) return { ok: false, problem: { code: 'too_many_digits', max: MAX_DIGITS } };
    if (previous !== undefined && unitMs >= previous.ms) {
      return {
        ok: false,
        problem:
          unitMs === previous.ms ? { code: 'repeated_unit', unit } : { code: 'unit_order', unit, after: previous.unit },
      };
    }
    ms += Number(digits) * unitMs;
    previous = { unit, ms: unitMs };
    at = PART.lastIndex;
  }
  return { ok: true, ms };
}

/** Whether `ms` is within `range`, bounds included. */
export function isWithin(ms: number, range: DurationRange): boolean {
  return ms >= range.minMs && ms <= range.maxMs;
}

/**
 * 604 800 000 → `7d`, 129 600 000 → `1d12h`, 90 000 → `1m30s`: days, hours, minutes (seconds only when not whole
 * minutes; milliseconds dropped). Whole minutes read back with {@link parseDuration} to the same value.
 */
export function formatDuration(ms: number, lang: Lang = 'en'): string {
  if (!Number.isFinite(ms)) return String(ms);
  const units = FORMAT_UNITS[lang];
  let rest = Math.max(0, Math.floor(ms / 1_000)) * 1_000;
  if (rest === 0) return units.zero;
  const parts: string[] = [];
  for (const [unit, size] of units.parts) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${units.between}${unit}`);
    rest -= count * size;
  }
  return parts.join(units.separator);
}

/**
 * How each language writes a duration: English `1d12h`; French `1 j 12 h`, a no-break space between the number
 * and its unit, as French typography wants (and as {@link parseDuration} reads back).
 */
const FORMAT_UNITS: Readonly<
  Record<Lang, { zero: string; between: string; separator: string; parts: ReadonlyArray<readonly [string, number]> }>
> = {
  en: {
    zero: '0m',
    between: '',
    separator: '',
    parts: [
      ['d', DAY_MS],
      ['h', HOUR_MS],
      ['m', MINUTE_MS],
      ['s', 1_000],
    ],
  },
  fr: {
    zero: '0\u00a0min',
    between: '\u00a0',
    separator: ' ',
    parts: [
      ['j', DAY_MS],
      ['h', HOUR_MS],
      ['min', MINUTE_MS],
      ['s', 1_000],
    ],
  },
};
