/**
 * Strict ISO 8601 dates and date-times typed by people. `Date.parse` rolls impossible dates over
 * (`2027-02-30` becomes 2 March, `T24:00` the next day); here every field is checked against the calendar
 * instead, so a typo is refused with its reason rather than sent to OVH as some other day. The reason is data
 * (what is wrong and the facts), worded by whoever shows it: the Slack layer in the reader's language.
 */

/** Why a text is not an instant. Field values are as written (a month of 13, an offset of `+15:00`). */
export type InstantProblem =
  /** A date and a time without `Z` or an offset. */
  | { code: 'no_zone' }
  /** None of the accepted forms ({@link ISO_FORM_EXAMPLES}). */
  | { code: 'not_iso' }
  /** An offset beyond -12:00..+14:00 (or with more than 59 minutes). */
  | { code: 'offset'; offset: string }
  | { code: 'month'; month: number }
  /** A day the month does not have: `days` is how many it has in that year. */
  | { code: 'day'; year: number; month: number; days: number }
  | { code: 'hour'; hour: number }
  | { code: 'minute'; minute: number }
  | { code: 'second'; second: number };

export type InstantParse = { ok: true; ms: number } | { ok: false; problem: InstantProblem };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(z|[+-]\d{2}(?::?\d{2})?)$/i;
/** Offsets in use on Earth run from -12:00 to +14:00. */
const MAX_OFFSET_MINUTES = { negative: 12 * 60, positive: 14 * 60 };

/** The accepted forms, by example (a date at midnight UTC, a date-time with `Z`, one with an offset). */
export const ISO_FORM_EXAMPLES = ['2026-12-31', '2026-12-31T18:00Z', '2026-12-31T18:00+01:00'] as const;

/** True when `text` is meant as a date (four digits and a dash), whether or not it is a valid one. */
export function looksLikeDate(text: string): boolean {
  return /^\d{4}-/.test(text.trim());
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` (1..12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `2026-12-31` (midnight UTC), `2026-12-31T18:00Z`, `2026-12-31T18:00:30.5+01:00`, `2026-12-31 18:00-0430`:
 * the instant in ms. A date-time needs its zone (`Z` or an offset); `T` may be a space and is case-insensitive.
 */
export function parseIsoInstant(input: string): InstantParse {
  const text = input.trim();
  const date = DATE.exec(text);
  if (date !== null) {
    const [, y = '', mo = '', d = ''] = date;
    return checked(Number(y), Number(mo), Number(d), 0, 0, 0, 0, 0);
  }
  const dateTime = DATE_TIME.exec(text);
  if (dateTime === null) {
    if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/i.test(text)) {
      return { ok: false, problem: { code: 'no_zone' } };
    }
    return { ok: false, problem: { code: 'not_iso' } };
  }
  const [, y = '', mo = '', d = '', h = '', mi = '', s = '0', fraction = '', zone = ''] = dateTime;
  let offsetMinutes = 0;
  if (zone.toLowerCase() !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    const limit = sign < 0 ? MAX_OFFSET_MINUTES.negative : MAX_OFFSET_MINUTES.positive;
    if (minutes > 59 || hours * 60 + minutes > limit) {
      return { ok: false, problem: { code: 'offset', offset: zone } };
    }
    offsetMinutes = sign * (hours * 60 + minutes);
  }
  const millis = Number(fraction.padEnd(3, '0'));
  return checked(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), millis, offsetMinutes);
}

function checked(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): InstantParse {
  if (month < 1 || month > 12) return { ok: false, problem: { code: 'month', month } };
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return { ok: false, problem: { code: 'day', year, month, days } };
  if (hour > 23) return { ok: false, problem: { code: 'hour', hour } };
  if (minute > 59) return { ok: false, problem: { code: 'minute', minute } };
  if (second > 59) return { ok: false, problem: { code: 'second', second } };
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear takes the year as written.
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, millis);
  return { ok: true, ms: at.getTime() - offsetMinutes * 60_000 };
}

/** `2026-11-28 09:30 UTC`: how the bot writes an instant in plain text. */
export function formatUtcMinute(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
