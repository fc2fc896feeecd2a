import { NASHA_ROUTES } from './client.js';

/** One rule of an OVH consumer key: `*` in `path` matches anything (slashes included), as on OVH. */
export interface OvhAccessRule {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
}

/**
 * The least the bot's consumer key needs: read everything under /dedicated/nasha, and change only
 * what the bot changes — automatic snapshot frequencies and custom snapshots. The changes come from
 * the routes the client calls, so the two cannot drift apart.
 */
export const BOT_ACCESS_RULES: readonly OvhAccessRule[] = dedupe([
  { method: 'GET', path: '/dedicated/nasha' },
  { method: 'GET', path: '/dedicated/nasha/*' },
  ...Object.values(NASHA_ROUTES)
    .filter((route) => route.method !== 'GET')
    .map((route) => ({ method: route.method, path: route.path.replace(/\{[^}]+\}/g, '*') })),
]);

function dedupe(rules: readonly OvhAccessRule[]): OvhAccessRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = `${rule.method} ${rule.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
