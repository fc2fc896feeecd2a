import { expect } from 'vitest';

/**
 * Core returns data, never sentences: the only free text it may hand on is OVH's own words (or the error text a
 * tracking ended on), and what a person typed. Every other string in what core returns or audits is a kind, an
 * id, a name, a target or a date: none has a space in it. Keys older versions wrote prose under are never written.
 */
const FREE_TEXT_KEYS = new Set(['ovhMessage', 'details', 'reason', 'decisionReason', 'spec']);
/** Closed vocabularies whose members have spaces (`OvhStep`: 'list snapshots'); typed, worded in Slack. */
const VOCABULARY_KEYS = new Set(['step']);
/** A user-typed value under a key that elsewhere holds other things: allowed only in these problems. */
const TYPED_TEXT_IN: Readonly<Record<string, ReadonlySet<string>>> = { text: new Set(['invalid_expiration']) };
const RETIRED_KEYS = new Set(['note', 'ovh']);

/** Where `value` holds prose (paths like `$.settlement.problem.step`), with the text found. */
export function proseIn(value: unknown, path = '$', parent?: Record<string, unknown>, key?: string): string[] {
  if (typeof value === 'string') {
    if (key !== undefined && (FREE_TEXT_KEYS.has(key) || VOCABULARY_KEYS.has(key))) return [];
    const kind = parent?.['kind'];
    if (key !== undefined && typeof kind === 'string' && TYPED_TEXT_IN[key]?.has(kind) === true) return [];
    return /\s/.test(value) ? [`${path}: ${JSON.stringify(value)}`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => proseIn(item, `${path}[${i}]`, parent, key));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.entries(record).flatMap(([k, v]) =>
      RETIRED_KEYS.has(k) && v !== undefined
        ? [`${path}.${k}: written under a retired key`]
        : proseIn(v, `${path}.${k}`, record, k),
    );
  }
  return [];
}

export function expectNoProse(value: unknown): void {
  expect(proseIn(value)).toEqual([]);
}
