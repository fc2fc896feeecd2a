import { OvhApiError } from './errors.js';

/** Longest path segment the client will send (OVH names are far shorter; this bounds hostile input). */
export const MAX_SEGMENT_LENGTH = 128;

// Whitespace, C0/C1 controls, DEL, lone surrogates and Unicode separators/format characters (bidi
// overrides, zero-width…).
const FORBIDDEN = /[\s\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Why a value cannot be used as a path segment, or undefined when it can. */
export function segmentProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a string, got ${value === null ? 'null' : typeof value}`;
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_SEGMENT_LENGTH) return `is longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (value === '.' || value === '..' || value.includes('..')) return "contains '..'";
  if (value.includes('/') || value.includes('\\')) return "contains '/' or '\\'";
  if (FORBIDDEN.test(value)) return 'contains whitespace or control characters';
  return undefined;
}

/**
 * Builds an API path from a template such as `/dedicated/nasha/{serviceName}/partition` and
 * segment values. Every value is validated, then percent-encoded, so nothing the bot passes can
 * change the route or reach node-ovh's unescaped-path crash.
 */
export function buildPath(template: string, segments: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = segments[key];
    const problem = segmentProblem(value);
    if (problem !== undefined) {
      throw new OvhApiError({
        kind: 'input',
        operation: template,
        ovhMessage: `${key} ${problem}`,
      });
    }
    // ':' stays literal, as OVH's own control panel sends it in default snapshot names.
    return encodeURIComponent(value as string).replaceAll('%3A', ':');
  });
}
