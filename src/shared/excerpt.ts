/**
 * `value` cut to at most `max` characters, ending with "…" when it was cut: text a person typed is shown as it
 * was, so a shortened copy must say it is one. Never splits a surrogate pair.
 */
export function excerpt(value: string, max: number): string {
  if (value.length <= max) return value;
  let kept = value.slice(0, Math.max(0, max - 1));
  const last = kept.charCodeAt(kept.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept = kept.slice(0, -1);
  return `${kept}…`;
}
