import { NashaError } from './errors.js';
import type { InvalidExpiration } from './problems.js';

/**
 * Custom snapshot names: OVH's control panel allows letters, digits, '.', ':' and '-'; we also
 * allow '_' (OVH partitions use it). The name travels in URL paths later, so keep it plain.
 */
export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export function checkSnapshotName(name: string): string {
  if (!SNAPSHOT_NAME_PATTERN.test(name) || name.includes('..')) {
    throw new NashaError({ kind: 'invalid_name', name: name.slice(0, 100) });
  }
  return name;
}

/** `snap-<partition>-<UTC yyyymmdd-hhmmss>`: sorts by time and is easy to type back. */
export function defaultSnapshotName(partition: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `snap-${partition}-${stamp}`;
}

const RELATIVE = /^(\d{1,4})\s*(m|min|h|d|w)$/i;
const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Longest expiration accepted (beyond that, keeping the snapshot forever is what the user means). */
export const MAX_EXPIRATION_MS = 5 * 365 * 86_400_000;

/**
 * Parses `7d`, `12h`, `30m`, `2w`, an ISO 8601 date (`2026-12-01`, midnight UTC) or date-time with
 * offset, into the ISO 8601 UTC string OVH expects. It must be in the future.
 */
export function parseExpiration(input: string, now: number): string {
  const text = input.trim();
  let at: number;
  const relative = RELATIVE.exec(text);
  if (relative) {
    at = now + Number(relative[1]) * (UNIT_MS[(relative[2] ?? 'd').toLowerCase()] ?? 0);
  } else if (ISO_DATE.test(text)) {
    at = Date.parse(`${text}T00:00:00Z`);
  } else if (ISO_DATE_TIME.test(text)) {
    at = Date.parse(text);
  } else {
    throw expirationProblem(text, 'syntax');
  }
  if (Number.isNaN(at)) throw expirationProblem(text, 'not_a_date');
  if (at <= now) throw expirationProblem(text, 'past');
  if (at - now > MAX_EXPIRATION_MS) throw expirationProblem(text, 'too_far');
  return new Date(at).toISOString().replace('.000Z', 'Z');
}

function expirationProblem(text: string, why: InvalidExpiration): NashaError {
  return new NashaError({
    kind: 'invalid_expiration',
    text: text.slice(0, 60),
    why,
    maxDays: Math.round(MAX_EXPIRATION_MS / 86_400_000),
  });
}
