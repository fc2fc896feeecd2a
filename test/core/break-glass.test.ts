import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import type { ApprovalRules } from '../../src/core/actions.js';
import { type BreakGlassNotices, type BreakGlassReview, BreakGlassService } from '../../src/core/break-glass.js';
import { BREAK_GLASS_MIN_REASON, ChangeDesk, type ChangeDraft } from '../../src/core/desk.js';
import { ActionGate } from '../../src/core/gate.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import type { AccessConfig, Actor } from '../../src/core/model.js';
import { Policy } from '../../src/core/policy.js';
import type { ChangeRequest } from '../../src/core/snapshot-service.js';
import { ManualClock } from '../../src/shared/clock.js';
import { canIMessage, helpMessage } from '../../src/slack/blocks/permissions.js';
import { BreakGlassStore } from '../../src/store/break-glass-store.js';
import type { Database } from '../../src/store/database.js';
import { openTestDatabase } from '../store/test-database.js';
import { RecordingAudit } from '../support/recording-audit.js';

/**
 * Break-glass in core: the gate's verdict (can-i and help say what it does), the desk's submission (membership
 * looked up again, the reason's length, refusals audited), and the review (acknowledged once, by an approver
 * other than the person who ran it, every refused click audited) over the real store.
 */
const ONCALL: Actor = { userId: 'U0ONCALL', channelId: 'C0OPS' };
const OPERATOR: Actor = { userId: 'U0OPER', channelId: 'C0OPS' };
const APPROVER: Actor = { userId: 'U0APPROVER', channelId: 'C0APPROVALS' };
const OTHER_APPROVER: Actor = { userId: 'U0APPROVER2', channelId: 'C0APPROVALS' };
const VIEWER: Actor = { userId: 'U0VIEW', channelId: 'C0APPROVALS' };
const TARGET = { service: 'zpool-1', partition: 'data' };
const DELETE: ChangeDraft = { action: 'snapshot.delete', target: TARGET, name: 'snap-a' };
const REASON = 'payments are down and the disk is full';

const ACCESS: AccessConfig = {
  grants: [
    { role: 'operator', users: [ONCALL.userId, OPERATOR.userId], groups: [], scope: ['*'] },
    { role: 'approver', users: [APPROVER.userId, OTHER_APPROVER.userId], groups: [], scope: ['*'] },
    { role: 'viewer', users: [VIEWER.userId], groups: [], scope: ['*'] },
  ],
  channels: [],
  unlistedChannels: 'admin',
};
const MEMBERS: Record<string, string[]> = { S0ONCALL: [ONCALL.userId] };
const GROUPS: GroupDirectory = { membersOf: async (id) => new Set(MEMBERS[id] ?? []) };
const RULES: ApprovalRules = {
  ...DEFAULT_APPROVAL_RULES,
  'snapshot.delete': { ...DEFAULT_APPROVAL_RULES['snapshot.delete'], breakGlass: { group: 'S0ONCALL' } },
};

let database: Database | undefined;
let dir: string | undefined;
afterEach(async () => {
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  database = undefined;
  dir = undefined;
});

async function world() {
  dir = await mkdtemp(join(tmpdir(), 'nasha-glass-'));
  database = await openTestDatabase(dir);
  const policy = new Policy(ACCESS, GROUPS);
  const gate = new ActionGate({ policy, groups: GROUPS, rules: RULES, responderGroups: [] });
  const audit = new RecordingAudit();
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 9));
  const opened: Array<{ id: string; approvers: readonly string[] }> = [];
  const acknowledged: BreakGlassReview[] = [];
  const notices: BreakGlassNotices = {
    opened: async (review, approvers) => {
      opened.push({ id: review.id, approvers });
    },
    acknowledged: async (review) => {
      acknowledged.push(review);
    },
  };
  const breakGlass = new BreakGlassService({
    repo: new BreakGlassStore(database.db),
    policy,
    groups: GROUPS,
    audit,
    notices,
    rules: RULES,
    approvalsChannel: 'C0APPROVALS',
    clock,
  });
  const executed: ChangeRequest[] = [];
  const filed: ChangeRequest[] = [];
  const desk = new ChangeDesk({
    gate,
    audit,
    clock,
    breakGlass,
    service: {
      change: async (actor, request, _reply, authorization) => {
        executed.push(request);
        // What the real executor records: the verdict's break-glass basis, as data.
        const glass = 'verdict' in authorization && authorization.verdict.basis.kind === 'break_glass';
        return audit
          .record({
            actor,
            action: request.action,
            target: request.target,
            outcome: 'started',
            ...(glass && { detail: { breakGlass: { group: 'S0ONCALL' }, reason: authorization.reason } }),
          })
          .then(({ id }) => ({
            auditId: id,
            task: undefined,
            done: Promise.resolve({ outcome: 'succeeded' as const, taskId: 1 }),
          }));
      },
    },
    approvals: {
      request: async (_actor, request) => {
        filed.push(request);
        return { request: { id: 'REQ123' } as never, existing: false };
      },
    },
  });
  return { gate, desk, breakGlass, audit, executed, filed, opened, acknowledged };
}

describe('break-glass: the gate', () => {
  it('a member of the group gets an approval verdict that says break-glass; can-i and help say so', async () => {
    const { gate } = await world();
    const verdict = await gate.evaluate(ONCALL, 'snapshot.delete', TARGET);
    expect(verdict).toMatchObject({ kind: 'approval', breakGlass: { group: 'S0ONCALL' } });
    expect(await gate.evaluate(ONCALL, 'snapshot.delete', TARGET, { breakGlass: true })).toMatchObject({
      kind: 'run',
      basis: { kind: 'break_glass', groupId: 'S0ONCALL' },
    });
    const explained = await gate.explain(ONCALL, ONCALL.userId, 'snapshot.delete', TARGET);
    if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
    const said = canIMessage(explained).text;
    expect(said).toMatch(
      /^Only by request: .*Or at once by break-glass with “--break-glass” \(you are a member of @S0ONCALL\): it runs without approval/,
    );
    const offers = await gate.offers(ONCALL);
    expect(offers.find((o) => o.action.id === 'snapshot.delete')).toMatchObject({ mode: 'approval', breakGlass: true });
    expect(JSON.stringify(helpMessage(offers, []).blocks)).toContain('--break-glass');
  });

  it('anyone else: no break-glass in can-i or help, and asking for it is refused saying why', async () => {
    const { gate } = await world();
    const verdict = await gate.evaluate(OPERATOR, 'snapshot.delete', TARGET);
    expect(verdict.kind === 'approval' && verdict.breakGlass).toBeFalsy();
    expect(await gate.evaluate(OPERATOR, 'snapshot.delete', TARGET, { breakGlass: true })).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'break_glass', why: 'not_member', group: 'S0ONCALL' },
    });
    // schedule.remove needs approval but has no break-glass rule; snapshot.create needs none.
    expect(await gate.evaluate(ONCALL, 'schedule.remove', TARGET, { breakGlass: true })).toMatchObject({
      refusal: { kind: 'break_glass', why: 'not_allowed' },
    });
    expect(await gate.evaluate(ONCALL, 'snapshot.create', TARGET, { breakGlass: true })).toMatchObject({
      refusal: { kind: 'break_glass', why: 'not_needed' },
    });
    // A viewer cannot even request it: the ordinary refusal.
    expect(await gate.evaluate(VIEWER, 'snapshot.delete', TARGET, { breakGlass: true })).toMatchObject({
      refusal: { kind: 'policy', via: 'request' },
    });
    const explained = await gate.explain(OPERATOR, OPERATOR.userId, 'snapshot.delete', TARGET);
    if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
    expect(canIMessage(explained).text).not.toContain('break-glass');
    expect(JSON.stringify(helpMessage(await gate.offers(OPERATOR), []).blocks)).not.toContain('--break-glass');
  });
});

describe('break-glass: the desk', () => {
  it('runs a member’s change at once, audited as break-glass, and opens its review for the approvers', async () => {
    const { desk, audit, executed, filed, opened, breakGlass } = await world();
    const outcome = await desk.submit(ONCALL, DELETE, { reason: REASON, breakGlass: true });
    expect(outcome.kind).toBe('started');
    expect(executed).toHaveLength(1);
    expect(filed).toHaveLength(0);
    expect(audit.records[0]).toMatchObject({
      outcome: 'started',
      detail: { breakGlass: { group: 'S0ONCALL' }, reason: REASON },
    });
    const [review] = await breakGlass.listUnacknowledgedBreakGlass();
    expect(review).toMatchObject({
      status: 'pending',
      actor: { userId: ONCALL.userId },
      reason: REASON,
      group: 'S0ONCALL',
    });
    // Every approver of the rule on the target, never the person who ran it.
    expect(opened).toEqual([{ id: review?.id, approvers: [APPROVER.userId, OTHER_APPROVER.userId] }]);
    expect(audit.patches.at(-1)).toMatchObject({ patch: { detail: { breakGlass: { reviewId: review?.id } } } });
  });

  it('refuses a reason under 20 characters and a non-member, each audited, nothing run', async () => {
    const { desk, audit, executed } = await world();
    const short = 'x'.repeat(BREAK_GLASS_MIN_REASON - 1);
    expect(await desk.submit(ONCALL, DELETE, { reason: short, breakGlass: true })).toMatchObject({
      kind: 'refused',
      problem: { kind: 'reason_too_short', purpose: 'break_glass' },
    });
    expect(audit.records.at(-1)).toMatchObject({ outcome: 'invalid', detail: { reason: short } });
    expect(await desk.submit(OPERATOR, DELETE, { reason: REASON, breakGlass: true })).toMatchObject({
      kind: 'refused',
      problem: { kind: 'refused', refusal: { kind: 'break_glass', why: 'not_member' } },
    });
    expect(audit.records.at(-1)).toMatchObject({
      outcome: 'denied',
      actor: OPERATOR,
      detail: { problem: { refusal: { kind: 'break_glass', why: 'not_member', group: 'S0ONCALL' } }, reason: REASON },
    });
    expect(audit.records).toHaveLength(2);
    expect(executed).toHaveLength(0);
  });
});

describe('break-glass: the review', () => {
  it('is acknowledged once by an approver, never by the person who ran it; refused clicks are audited', async () => {
    const { desk, breakGlass, audit, acknowledged } = await world();
    await desk.submit(ONCALL, DELETE, { reason: REASON, breakGlass: true });
    const [review] = await breakGlass.listUnacknowledgedBreakGlass();
    const id = review?.id ?? '';
    const before = audit.records.length;

    expect(await breakGlass.acknowledge(ONCALL, id)).toMatchObject({ ok: false, refusal: { kind: 'self_review' } });
    expect(await breakGlass.acknowledge(VIEWER, id)).toMatchObject({ ok: false, refusal: { kind: 'not_approver' } });
    expect(audit.records.slice(before).map((r) => [r.outcome, r.detail?.problem])).toEqual([
      ['refused', { kind: 'refused', refusal: { kind: 'click', why: 'self_review' } }],
      [
        'refused',
        { kind: 'refused', refusal: { kind: 'click', why: 'not_approver', required: 'approver', has: 'viewer' } },
      ],
    ]);

    const [first, second] = await Promise.all([
      breakGlass.acknowledge(APPROVER, id),
      breakGlass.acknowledge(OTHER_APPROVER, id),
    ]);
    const wins = [first, second].filter((r) => r.ok);
    expect(wins).toHaveLength(1);
    expect([first, second].filter((r) => !r.ok)).toMatchObject([{ refusal: { kind: 'closed' } }]);
    expect(acknowledged).toHaveLength(1);
    expect(await breakGlass.listUnacknowledgedBreakGlass()).toEqual([]);
    const acks = audit.records.filter((r) => r.outcome === 'acknowledged');
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ action: 'approval.decide', subject: id, detail: { breakGlass: { reviewId: id } } });
    // The change's own record says who acknowledged it.
    expect(audit.final(review?.auditId ?? '')).toMatchObject({
      detail: { breakGlass: { acknowledgedBy: acks[0]?.actor.userId } },
    });
  });
});
