import { describe, expect, it } from 'vitest';
import { nudgePlan } from '../../src/core/approvals.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const rule = { remindAfterMs: 30 * MINUTE, escalateTo: ['S0LEADS'], escalateAfterMs: 60 * MINUTE };
const at = (reminders: number, escalated = false) => ({ createdAt: T0, nudges: { reminders, escalated } });

describe('nudgePlan: when a waiting request is reminded and escalated', () => {
  it('reminds at remind_after, then each reminder twice as long after the previous one', () => {
    expect(nudgePlan(at(0), rule, T0 + 30 * MINUTE - 1)).toEqual({ due: undefined, nextAt: T0 + 30 * MINUTE });
    expect(nudgePlan(at(0), rule, T0 + 30 * MINUTE).due).toEqual({ reminders: 1, escalated: false });
    expect(nudgePlan(at(1, true), rule, T0 + 61 * MINUTE)).toEqual({ due: undefined, nextAt: T0 + 90 * MINUTE });
    expect(nudgePlan(at(2, true), rule, T0 + 91 * MINUTE).nextAt).toBe(T0 + 210 * MINUTE);
    expect(nudgePlan(at(3, true), rule, T0 + 211 * MINUTE).nextAt).toBe(T0 + 450 * MINUTE);
  });

  it('escalates once at escalate_after, and only with escalate_to', () => {
    expect(nudgePlan(at(1), rule, T0 + 60 * MINUTE).due).toEqual({ reminders: 1, escalated: true });
    expect(nudgePlan(at(1), rule, T0 + 59 * MINUTE).nextAt).toBe(T0 + 60 * MINUTE);
    expect(nudgePlan(at(1, true), rule, T0 + 70 * MINUTE).due).toBeUndefined();
    const noEscalation = { remindAfterMs: 30 * MINUTE, escalateTo: [], escalateAfterMs: 60 * MINUTE };
    expect(nudgePlan(at(1), noEscalation, T0 + 70 * MINUTE)).toEqual({ due: undefined, nextAt: T0 + 90 * MINUTE });
  });

  it('after a long downtime, the overdue reminders make one (numbered as the latest), not a burst', () => {
    expect(nudgePlan(at(0), rule, T0 + 300 * MINUTE).due).toEqual({ reminders: 3, escalated: true });
  });

  it('never reminds without remind_after', () => {
    expect(nudgePlan(at(0), { escalateTo: [] }, T0 + 1_000 * MINUTE)).toEqual({ due: undefined, nextAt: undefined });
  });
});
