/**
 * What an alert's Fix button does, as ordinary changes by the person who presses it: they go through the desk
 * like any other (their role decides; adding a frequency or taking a snapshot runs at once for an operator,
 * deleting goes to approval by default). Some problems have no fix the bot can make (snapshot space).
 */

import type { SnapshotType } from '../../ovh/models.js';
import { DAY_MS } from '../../shared/duration.js';
import type { ChangeDraft } from '../desk.js';
import type { ProtectionPolicy, ProtectionProblem } from './model.js';
import { expiresAt, ownerOf, retentionMs } from './schedule.js';

export type AlertFixPlan =
  | { kind: 'add_frequencies'; types: readonly SnapshotType[] }
  /** Take a snapshot now: the missing plan snapshot itself when it can still be, else a fresh one. */
  | { kind: 'take_snapshot'; name: string | undefined; expires: string }
  /** Make room: delete the oldest custom snapshot whose age is known (through approval, by default). */
  | { kind: 'delete_oldest'; name: string };

const FALLBACK_RETENTION_MS = 7 * DAY_MS;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The fix for a problem, if the bot has one. */
export function fixFor(policy: ProtectionPolicy, problem: ProtectionProblem, now: number): AlertFixPlan | undefined {
  const keepFor = Math.max(FALLBACK_RETENTION_MS, ...policy.plan.map(retentionMs));
  switch (problem.kind) {
    case 'frequency_missing':
      return { kind: 'add_frequencies', types: problem.missing };
    case 'stale':
      return { kind: 'take_snapshot', name: undefined, expires: iso(now + keepFor) };
    case 'plan_missing': {
      const latest = problem.missing[problem.missing.length - 1];
      const cls = policy.plan.find((c) => c.label === latest?.label);
      if (latest === undefined || cls === undefined)
        return { kind: 'take_snapshot', name: undefined, expires: iso(now + keepFor) };
      const until = expiresAt(ownerOf(policy.plan, cls, policy.timezone, latest.slotAt), latest.slotAt);
      // Taken under the plan's own name, it fills the slot (and a scheduler retry then finds it there).
      return until - now > 60_000
        ? { kind: 'take_snapshot', name: latest.name, expires: iso(until) }
        : { kind: 'take_snapshot', name: undefined, expires: iso(now + keepFor) };
    }
    case 'slots':
      return problem.oldest === undefined ? undefined : { kind: 'delete_oldest', name: problem.oldest.name };
    case 'snapshot_space':
      return undefined;
  }
}

/** The changes a fix submits, one draft each. */
export function fixDrafts(fix: AlertFixPlan, target: { service: string; partition: string }): ChangeDraft[] {
  switch (fix.kind) {
    case 'add_frequencies':
      return fix.types.map((type) => ({ action: 'schedule.add', target, type }));
    case 'take_snapshot':
      return [{ action: 'snapshot.create', target, name: fix.name, expires: fix.expires }];
    case 'delete_oldest':
      return [{ action: 'snapshot.delete', target, name: fix.name }];
  }
}
