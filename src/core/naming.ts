import { looksLikeDate, parseIsoInstant } from '../shared/calendar.js';
import { DAY_MS, type DurationRange, MINUTE_MS, parseDuration } from '../shared/duration.js';
import { excerpt } from '../shared/excerpt.js';
import { NashaError } from './errors.js';
import type { Problem } from './problems.js';

/**
 * Custom snapshot names: OVH's control panel allows letters, digits, '.', ':' and '-'; we also
 * allow '_' (OVH partitions use it). The name travels in URL paths later, so keep it plain.
 */
export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export function checkSnapshotName(name: string): string {
  if (!SNAPSHOT_NAME_PATTERN.test(name) || name.includes('..')) {
    throw new NashaError({ kind: 'invalid_name', name: excerpt(name, 100) });
  }
  return name;
}

/** `snap-<partition>-<UTC yyyymmdd-hhmmss>`: sorts by time and is easy to type back. */
export function defaultSnapshotName(partition: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `snap-${partition}-${stamp}`;
}

/**
 * Longest expiration accepted. OVH documents no maximum (the API takes any ISO 8601 date-time); beyond five
 * years, keeping the snapshot until it is deleted is what people mean.
 */
export const MAX_EXPIRATION_MS = 5 * 365 * DAY_MS;
/** A relative expiration (`--expires 12h`, `quick_snapshot.default_expiration`): at least a minute away. */
export const EXPIRATION_RANGE: DurationRange = { minMs: MINUTE_MS, maxMs: MAX_EXPIRATION_MS };

/**
 * Parses a duration from `now` (the shared grammar: `7d`, `12h`, `30m`, `2w`, `1d12h`), an ISO 8601 date
 * (`2026-12-01`, midnight UTC) or a date-time with its zone, into the ISO 8601 UTC string OVH is sent
 * (`2026-12-01T00:00:00Z`). Impossible dates are refused, not rolled over; it must be in the future and at
 * most {@link MAX_EXPIRATION_MS} away. Messages are the same for the command and the create form.
 */
export function parseExpiration(input: string, now: number): string {
  const text = input.trim();
  if (text === '') throw invalid({ text, why: 'empty' });
  let at: number;
  if (looksLikeDate(text)) {
    const parsed = parseIsoInstant(text);
    if (!parsed.ok) throw invalid({ text, why: 'not_a_date', detail: parsed.problem });
    at = parsed.ms;
  } else if (/^\d/.test(text)) {
    const parsed = parseDuration(text);
    if (!parsed.ok) throw invalid({ text, why: 'duration', detail: parsed.problem });
    if (parsed.ms < EXPIRATION_RANGE.minMs) throw invalid({ text, why: 'too_soon', limitMs: EXPIRATION_RANGE.minMs });
    at = now + parsed.ms;
  } else {
    throw invalid({ text, why: 'syntax' });
  }
  if (at <= now) throw invalid({ text, why: 'past', at, now });
  if (at - now > MAX_EXPIRATION_MS)
    throw invalid({ text, why: 'too_far', at: now + MAX_EXPIRATION_MS, limitMs: MAX_EXPIRATION_MS });
  return new Date(at).toISOString().replace('.000Z', 'Z');
}

function invalid(problem: Omit<Extract<Problem, { kind: 'invalid_expiration' }>, 'kind'>): NashaError {
  return new NashaError({ kind: 'invalid_expiration', ...problem, text: problem.text.slice(0, 60) });
}
