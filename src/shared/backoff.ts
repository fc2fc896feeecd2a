/**
 * The one retry back-off of the bot (OVH transport, audit outbox): exponential with a cap and "equal jitter"
 * (half the delay fixed, half random), so retries of many callers spread out but never come early, and a
 * server's Retry-After, when it gave one, is waited exactly instead.
 */
export interface BackoffPolicy {
  /** The ceiling of the first retry's delay; it doubles with each retry. */
  baseMs: number;
  /** No delay exceeds this (Retry-After aside). */
  maxMs: number;
  /** In [0, 1); the jitter source. */
  random?: () => number;
}

/** The delay before retry number `retry` (0 for the first): in [ceiling / 2, ceiling], ceiling = min(max, base · 2^retry). */
export function backoffDelay(policy: BackoffPolicy, retry: number): number {
  const exponent = Number.isNaN(retry) ? 0 : Math.min(Math.max(0, Math.floor(retry)), 52);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const drawn = (policy.random ?? Math.random)();
  const random = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}

/**
 * The delay before retry number `retry`: what the server asked for (Retry-After, in ms) when it asked, else
 * the back-off. A server knows better than our formula when it will take requests again.
 */
export function retryDelay(policy: BackoffPolicy, retry: number, retryAfterMs?: number): number {
  return retryAfterMs === undefined ? backoffDelay(policy, retry) : Math.max(0, Math.ceil(retryAfterMs));
}

/**
 * An HTTP `Retry-After` header (RFC 9110 §10.2.3: delay-seconds, or an HTTP-date compared with `nowMs`) in
 * milliseconds; undefined when absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1_000;
  // Only the date forms HTTP allows (they all name a weekday and GMT), not whatever Date.parse guesses at.
  if (!/^[A-Za-z]{3,9}, .*GMT$|^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
