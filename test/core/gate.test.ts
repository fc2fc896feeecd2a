import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import {
  ACTION_LIST,
  ACTIONS,
  type ActionId,
  type ActionSpec,
  type ApprovalRules,
  isApprovable,
} from '../../src/core/actions.js';
import { ActionGate, type Verdict } from '../../src/core/gate.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import { type AccessConfig, type Actor, ROLES, type Role, roleRank, type Target } from '../../src/core/model.js';
import { Policy } from '../../src/core/policy.js';

/**
 * The gate: the one decision of run / approval / refused, for every row of the action table, over the real
 * policy. `can-i` (explain) and `help` (offers) must say exactly what evaluate does.
 */

const NOBODY = 'U0NOBODY';
const VIEWER = 'U0VIEWER';
const OPERATOR = 'U0OPER';
const APPROVER = 'U0APPR';
const ADMIN = 'U0ADMIN';
const RESPONDER = 'U0RESP';
const RESPONDER_VIEWER = 'U0RESPVIEW';
const PARTIAL = 'U0PARTIAL';
const FLAKY = 'U0FLAKY';

/** One user per role, each holding it on all of zpool-1 (the operator through a group). */
const BY_ROLE: Readonly<Record<Role, string>> = {
  viewer: VIEWER,
  operator: OPERATOR,
  approver: APPROVER,
  admin: ADMIN,
};

const DATA: Target = { service: 'zpool-1', partition: 'data' };
const LOGS: Target = { service: 'zpool-1', partition: 'logs' };
/** Every target the configuration below names, and one it does not. */
const TARGETS: readonly Target[] = [
  DATA,
  LOGS,
  { service: 'zpool-1' },
  { service: 'zpool-2', partition: 'db' },
  { service: 'zpool-2' },
  { service: 'zpool-3', partition: 'x' },
  { service: 'zpool-4', partition: 'data' },
];

const ACCESS: AccessConfig = {
  grants: [
    { role: 'viewer', users: [VIEWER, RESPONDER_VIEWER], groups: [], scope: ['zpool-1'] },
    { role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-1/*'] },
    { role: 'approver', users: [APPROVER], groups: [], scope: ['zpool-1'] },
    { role: 'admin', users: [ADMIN], groups: [], scope: ['zpool-1/*'] },
    { role: 'operator', users: [PARTIAL], groups: [], scope: ['zpool-2/db'] },
    // A group that never resolves, on a service of its own (it would make every refusal on zpool-1 "retry").
    { role: 'operator', users: [], groups: ['S0FLAKY'], scope: ['zpool-4'] },
  ],
  channels: [
    { id: 'C0GENERAL', maxRole: 'viewer' },
    { id: 'C0INCIDENT', maxRole: 'operator' },
    { id: 'C0QUIET', maxRole: 'none' },
    { id: 'C0APPROVERS', maxRole: 'approver' },
  ],
  unlistedChannels: 'admin',
};

const MEMBERS: Record<string, readonly string[]> = { S0SRE: [OPERATOR], S0RESPOND: [RESPONDER, RESPONDER_VIEWER] };
const GROUPS: GroupDirectory = {
  membersOf: (groupId) =>
    groupId === 'S0FLAKY' ? Promise.reject(new Error('ratelimited')) : Promise.resolve(new Set(MEMBERS[groupId] ?? [])),
};

const withRules = (required: (action: keyof ApprovalRules) => boolean): ApprovalRules => ({
  'snapshot.delete': { ...DEFAULT_APPROVAL_RULES['snapshot.delete'], required: required('snapshot.delete') },
  'schedule.remove': { ...DEFAULT_APPROVAL_RULES['schedule.remove'], required: required('schedule.remove') },
  'snapshot.create': { ...DEFAULT_APPROVAL_RULES['snapshot.create'], required: required('snapshot.create') },
  'schedule.add': { ...DEFAULT_APPROVAL_RULES['schedule.add'], required: required('schedule.add') },
});

/** The rule sets tried: the defaults (delete and remove need approval), none, and every change. */
const RULE_SETS: ReadonlyArray<{ name: string; rules: ApprovalRules }> = [
  { name: 'default rules', rules: DEFAULT_APPROVAL_RULES },
  { name: 'no approvals', rules: withRules(() => false) },
  { name: 'every change approved', rules: withRules(() => true) },
];

function gateWith(rules: ApprovalRules = DEFAULT_APPROVAL_RULES, responderGroups: readonly string[] = ['S0RESPOND']) {
  return new ActionGate({ policy: new Policy(ACCESS, GROUPS), groups: GROUPS, rules, responderGroups });
}

const actor = (userId: string, channelId: string | undefined = 'C0OPS'): Actor => ({ userId, channelId });

/** The role the gate checks for an action under these rules, and what it does when it is held. */
function expectation(spec: ActionSpec, rules: ApprovalRules): { need: Role; mode: 'run' | 'approval' } {
  const required = isApprovable(spec.id) && rules[spec.id].required;
  return required ? { need: spec.requestRole ?? spec.role, mode: 'approval' } : { need: spec.role, mode: 'run' };
}

describe('ActionGate.evaluate, for every action of the table', () => {
  for (const { name, rules } of RULE_SETS) {
    describe(name, () => {
      const gate = gateWith(rules);
      // System rows (protection alerts) are the bot's own; they are refused to everyone (below).
      for (const spec of ACTION_LIST.filter((row) => row.kind !== 'system')) {
        const { need, mode } = expectation(spec, rules);

        it(`${spec.id}: no grant on the target is refused as not visible`, async () => {
          const verdict = await gate.evaluate(actor(NOBODY), spec.id, DATA);
          expect(verdict).toEqual({
            kind: 'refused',
            action: spec.id,
            target: DATA,
            refusal: { kind: 'not_visible', action: spec.id, target: DATA },
          });
          // Someone with grants elsewhere is told the same about a service no grant of theirs touches.
          const other = { service: 'zpool-3', partition: 'x' };
          expect(await gate.evaluate(actor(ADMIN), spec.id, other)).toMatchObject({
            kind: 'refused',
            refusal: { kind: 'not_visible', action: spec.id, target: other },
          });
        });

        it(`${spec.id}: needs ${need}; weaker roles are refused by policy, ${need} and above get ${mode}`, async () => {
          for (const role of ROLES) {
            const verdict = await gate.evaluate(actor(BY_ROLE[role]), spec.id, DATA);
            if (roleRank(role) >= roleRank(need)) {
              expect(verdict, `${role} → ${mode}`).toMatchObject({
                kind: mode,
                action: spec.id,
                target: DATA,
                basis: { kind: 'grant', decision: { allowed: true, required: need, effectiveRole: role } },
              });
              if (verdict.kind === 'approval') expect(verdict.rule).toEqual(rules[verdict.action]);
            } else {
              expect(verdict, `${role} → refused`).toMatchObject({
                kind: 'refused',
                action: spec.id,
                refusal: {
                  kind: 'policy',
                  action: spec.id,
                  via: mode === 'approval' ? 'request' : 'run',
                  decision: { allowed: false, required: need, denial: { kind: 'role_too_low', has: role } },
                },
              });
            }
          }
          if (need === 'viewer') {
            // No role is weaker than viewer: a `none` channel cap is what refuses it, by policy.
            expect(await gate.evaluate(actor(VIEWER, 'C0QUIET'), spec.id, DATA)).toMatchObject({
              kind: 'refused',
              refusal: { kind: 'policy', decision: { denial: { kind: 'channel_cap', limit: undefined } } },
            });
          }
        });
      }
    });
  }

  it('approval: operators and admins alike go through it (admins included), never running directly', async () => {
    const gate = gateWith();
    for (const action of ['snapshot.delete', 'schedule.remove'] as const) {
      for (const userId of [OPERATOR, APPROVER, ADMIN]) {
        const verdict = await gate.evaluate(actor(userId), action, DATA);
        expect(verdict, `${userId} ${action}`).toMatchObject({
          kind: 'approval',
          action,
          rule: { required: true, quorum: 1, approverGroups: [] },
        });
      }
    }
    // The rule comes from the configuration, not the table: with it off, only an admin may delete, directly.
    const open = gateWith(withRules(() => false));
    expect((await open.evaluate(actor(ADMIN), 'snapshot.delete', DATA)).kind).toBe('run');
    expect((await open.evaluate(actor(OPERATOR), 'snapshot.delete', DATA)).kind).toBe('refused');
    expect(gate.approvalRule('snapshot.delete')).toEqual(DEFAULT_APPROVAL_RULES['snapshot.delete']);
    expect(open.approvalRule('snapshot.delete')).toBeUndefined();
    for (const action of ['read', 'snapshot.quick', 'approval.decide', 'snapshot.create'] as const) {
      expect(gate.approvalRule(action), action).toBeUndefined();
    }
  });

  it('the channel cap bounds requests too: an admin in an operator channel may request, in a viewer channel not', async () => {
    const gate = gateWith();
    expect((await gate.evaluate(actor(ADMIN, 'C0INCIDENT'), 'snapshot.delete', DATA)).kind).toBe('approval');
    expect(await gate.evaluate(actor(ADMIN, 'C0GENERAL'), 'snapshot.delete', DATA)).toMatchObject({
      kind: 'refused',
      refusal: {
        kind: 'policy',
        via: 'request',
        decision: {
          denial: {
            kind: 'channel_cap',
            channelId: 'C0GENERAL',
            limit: 'viewer',
            elsewhere: ['C0INCIDENT', 'C0APPROVERS'],
          },
        },
      },
    });
    expect(await gate.evaluate(actor(ADMIN, 'C0INCIDENT'), 'snapshot.create', DATA)).toMatchObject({
      kind: 'run',
      basis: { decision: { userRole: 'admin', effectiveRole: 'operator' } },
    });
  });

  it('refuses by policy, not as invisible, when the user can see part of the target or a group may resolve later', async () => {
    const gate = gateWith();
    // Operator on zpool-2/db only: zpool-2 as a whole is partly theirs, so its existence is no secret.
    expect(await gate.evaluate(actor(PARTIAL), 'read', { service: 'zpool-2' })).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'policy', via: 'run', decision: { denial: { kind: 'no_grant', partial: true } } },
    });
    expect((await gate.evaluate(actor(PARTIAL), 'snapshot.create', { service: 'zpool-2', partition: 'db' })).kind).toBe(
      'run',
    );
    // S0FLAKY cannot be resolved: its grant could have given the role, so the refusal says to retry.
    expect(
      await gate.evaluate(actor(FLAKY), 'snapshot.create', { service: 'zpool-4', partition: 'data' }),
    ).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'policy', decision: { retryGroups: ['S0FLAKY'], denial: { kind: 'no_grant', partial: false } } },
    });
  });
});

describe('ActionGate.evaluate: snapshot.quick through a responder group', () => {
  it('a responder may take quick snapshots anywhere, without any grant', async () => {
    const gate = gateWith();
    for (const target of [DATA, { service: 'zpool-2' }, { service: 'zpool-3', partition: 'x' }]) {
      const verdict = await gate.evaluate(actor(RESPONDER), 'snapshot.quick', target);
      expect(verdict).toMatchObject({
        kind: 'run',
        action: 'snapshot.quick',
        target,
        basis: { kind: 'responder', groupId: 'S0RESPOND', decision: { allowed: false } },
      });
    }
    // Only quick snapshots: nothing else comes with the responder group.
    expect((await gate.evaluate(actor(RESPONDER), 'snapshot.create', DATA)).kind).toBe('refused');
    expect((await gate.evaluate(actor(RESPONDER), 'read', DATA)).kind).toBe('refused');
    // Without responder groups configured, the same user is refused.
    expect((await gateWith(DEFAULT_APPROVAL_RULES, []).evaluate(actor(RESPONDER), 'snapshot.quick', DATA)).kind).toBe(
      'refused',
    );
  });

  it('a channel cap that allows operator lets responders act; one that forbids operator refuses them', async () => {
    const gate = gateWith();
    expect(await gate.evaluate(actor(RESPONDER, 'C0INCIDENT'), 'snapshot.quick', DATA)).toMatchObject({
      kind: 'run',
      basis: { kind: 'responder', groupId: 'S0RESPOND' },
    });
    for (const channel of ['C0GENERAL', 'C0QUIET']) {
      expect((await gate.evaluate(actor(RESPONDER, channel), 'snapshot.quick', DATA)).kind, channel).toBe('refused');
      expect((await gate.evaluate(actor(RESPONDER_VIEWER, channel), 'snapshot.quick', DATA)).kind, channel).toBe(
        'refused',
      );
    }
    // A responder who is also a viewer: as a responder they could act, so what stops them here is the cap.
    expect(await gate.evaluate(actor(RESPONDER_VIEWER, 'C0GENERAL'), 'snapshot.quick', DATA)).toMatchObject({
      refusal: { kind: 'policy', via: 'run', decision: { denial: { kind: 'channel_cap', limit: 'viewer' } } },
    });
    // The grant's viewer is not what lets them act: the responder group is.
    expect(await gate.evaluate(actor(RESPONDER_VIEWER, 'C0INCIDENT'), 'snapshot.quick', DATA)).toMatchObject({
      kind: 'run',
      basis: { kind: 'responder' },
    });
  });

  // A responder without a grant, refused only because the channel cap forbids operator, is told it is the cap.
  it('a responder refused by the channel cap is told it is the cap, not that the target is invisible', async () => {
    const verdict = await gateWith().evaluate(actor(RESPONDER, 'C0GENERAL'), 'snapshot.quick', DATA);
    expect(verdict).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'policy', decision: { denial: { kind: 'channel_cap' } } },
    });
  });

  it('a responder group that cannot be resolved counts as not joined', async () => {
    const failing: GroupDirectory = {
      membersOf: (groupId) =>
        groupId === 'S0RESPOND' ? Promise.reject(new Error('ratelimited')) : GROUPS.membersOf(groupId),
    };
    const gate = new ActionGate({
      policy: new Policy(ACCESS, failing),
      groups: failing,
      rules: DEFAULT_APPROVAL_RULES,
      responderGroups: ['S0RESPOND'],
    });
    expect((await gate.evaluate(actor(RESPONDER), 'snapshot.quick', DATA)).kind).toBe('refused');
  });
});

describe('ActionGate.explain (can-i)', () => {
  it('refuses to explain someone else’s permissions to a non-approver, or to an approver in a viewer channel', async () => {
    const gate = gateWith();
    for (const asker of [actor(NOBODY), actor(VIEWER), actor(OPERATOR), actor(APPROVER, 'C0GENERAL')]) {
      expect(await gate.explain(asker, ADMIN, 'snapshot.delete', DATA), asker.userId).toEqual({
        kind: 'refused',
        action: 'snapshot.delete',
        target: DATA,
        refusal: { kind: 'others_permissions' },
      });
    }
    // Their own permissions are always theirs to ask about, even with none.
    expect(await gate.explain(actor(NOBODY), NOBODY, 'read', DATA)).toMatchObject({
      subjectId: NOBODY,
      self: true,
      verdict: { kind: 'refused', refusal: { kind: 'not_visible' } },
    });
  });

  it('gives the verdict evaluate gives the subject, in the asker’s channel, for every action and person', async () => {
    for (const { name, rules } of RULE_SETS) {
      const gate = gateWith(rules);
      for (const asker of [actor(APPROVER), actor(ADMIN, 'C0APPROVERS')]) {
        for (const subject of [NOBODY, VIEWER, OPERATOR, APPROVER, ADMIN, RESPONDER, PARTIAL]) {
          for (const spec of ACTION_LIST) {
            for (const target of [DATA, { service: 'zpool-2' }]) {
              const explained = await gate.explain(asker, subject, spec.id, target);
              const evaluated = await gate.evaluate({ userId: subject, channelId: asker.channelId }, spec.id, target);
              const label = `${name}: ${asker.userId} in ${asker.channelId} asks about ${subject} ${spec.id}`;
              expect(explained, label).toMatchObject({
                subjectId: subject,
                self: subject === asker.userId,
                action: spec,
                target,
                rule: isApprovable(spec.id) ? rules[spec.id] : undefined,
              });
              if ('verdict' in explained) expect(explained.verdict, label).toEqual(evaluated);
            }
          }
        }
      }
    }
  });

  it('answers for the asker’s channel: an admin asked about from an approver channel cannot delete directly there', async () => {
    const gate = gateWith(withRules(() => false));
    const fromApprovers = await gate.explain(actor(APPROVER, 'C0APPROVERS'), ADMIN, 'snapshot.delete', DATA);
    expect(fromApprovers).toMatchObject({
      verdict: {
        kind: 'refused',
        refusal: { kind: 'policy', decision: { denial: { kind: 'channel_cap', channelId: 'C0APPROVERS' } } },
      },
      decision: { userRole: 'admin', effectiveRole: 'approver', cap: { channelId: 'C0APPROVERS' } },
    });
    // From an operator channel even an approver may not ask about someone else.
    expect(await gate.explain(actor(APPROVER, 'C0INCIDENT'), ADMIN, 'snapshot.delete', DATA)).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'others_permissions' },
    });
    expect(await gate.explain(actor(APPROVER), ADMIN, 'snapshot.delete', DATA)).toMatchObject({
      verdict: { kind: 'run' },
      decision: { allowed: true },
    });
  });

  it('for approvable actions, the rule and the role check behind a request', async () => {
    const gate = gateWith();
    const explained = await gate.explain(actor(OPERATOR), OPERATOR, 'snapshot.delete', DATA);
    expect(explained).toMatchObject({
      self: true,
      action: ACTIONS['snapshot.delete'],
      verdict: { kind: 'approval' },
      // The check is the request role's: operator, not admin.
      decision: { allowed: true, required: 'operator', grant: { via: { kind: 'group', groupId: 'S0SRE' } } },
      rule: DEFAULT_APPROVAL_RULES['snapshot.delete'],
      responders: undefined,
    });
    const create = await gate.explain(actor(OPERATOR), OPERATOR, 'snapshot.create', DATA);
    expect(create).toMatchObject({ verdict: { kind: 'run' }, rule: { required: false } });
    expect(await gate.explain(actor(OPERATOR), OPERATOR, 'read', DATA)).toMatchObject({ rule: undefined });
  });

  it('for quick snapshots, the responder groups and the one the subject is in', async () => {
    const gate = gateWith();
    expect(await gate.explain(actor(APPROVER), RESPONDER, 'snapshot.quick', DATA)).toMatchObject({
      verdict: { kind: 'run', basis: { kind: 'responder', groupId: 'S0RESPOND' } },
      responders: { groups: ['S0RESPOND'], memberOf: 'S0RESPOND' },
    });
    expect(await gate.explain(actor(APPROVER), OPERATOR, 'snapshot.quick', DATA)).toMatchObject({
      verdict: { kind: 'run', basis: { kind: 'grant' } },
      responders: { groups: ['S0RESPOND'], memberOf: undefined },
    });
  });
});

describe('ActionGate.offers (help)', () => {
  /** What evaluate allows on some target: the action, run or by request. */
  async function allowedSomewhere(gate: ActionGate, who: Actor): Promise<Array<{ id: ActionId; mode: string }>> {
    const allowed: Array<{ id: ActionId; mode: string }> = [];
    for (const spec of ACTION_LIST) {
      const verdicts: Verdict[] = [];
      for (const target of TARGETS) verdicts.push(await gate.evaluate(who, spec.id, target));
      const yes = verdicts.find((v) => v.kind !== 'refused');
      if (yes !== undefined) allowed.push({ id: spec.id, mode: yes.kind });
      // An action is run or requested, never both depending on the target.
      expect(new Set(verdicts.filter((v) => v.kind !== 'refused').map((v) => v.kind)).size).toBeLessThanOrEqual(1);
    }
    return allowed;
  }

  it('lists exactly the actions evaluate would not refuse on some covered target, and how', async () => {
    const people = [NOBODY, VIEWER, OPERATOR, APPROVER, ADMIN, RESPONDER, RESPONDER_VIEWER, PARTIAL, FLAKY];
    const channels = ['C0OPS', 'C0GENERAL', 'C0INCIDENT', 'C0APPROVERS', 'C0QUIET', undefined];
    for (const { name, rules } of RULE_SETS) {
      const gate = gateWith(rules);
      for (const userId of people) {
        for (const channelId of channels) {
          const who = actor(userId, channelId);
          const offers = (await gate.offers(who)).map((o) => ({ id: o.action.id, mode: o.mode }));
          expect(offers, `${name}: ${userId} in ${channelId}`).toEqual(await allowedSomewhere(gate, who));
        }
      }
    }
  });

  it('an operator is offered deletes by request; an admin too; a responder only quick snapshots', async () => {
    const gate = gateWith();
    const modes = async (who: Actor) => Object.fromEntries((await gate.offers(who)).map((o) => [o.action.id, o.mode]));
    expect(await modes(actor(OPERATOR))).toEqual({
      read: 'run',
      'snapshot.create': 'run',
      'schedule.add': 'run',
      'snapshot.delete': 'approval',
      'schedule.remove': 'approval',
      'snapshot.quick': 'run',
      'protection.status': 'run',
      'protection.restore': 'run',
    });
    expect(await modes(actor(ADMIN))).toEqual({
      read: 'run',
      'snapshot.create': 'run',
      'schedule.add': 'run',
      'snapshot.delete': 'approval',
      'schedule.remove': 'approval',
      'snapshot.quick': 'run',
      'approval.decide': 'run',
      'protection.status': 'run',
      'protection.restore': 'run',
    });
    expect(await modes(actor(RESPONDER))).toEqual({ 'snapshot.quick': 'run' });
    expect(await modes(actor(RESPONDER, 'C0GENERAL'))).toEqual({});
    expect(await modes(actor(VIEWER))).toEqual({
      read: 'run',
      'protection.status': 'run',
      'protection.restore': 'run',
    });
    expect(await modes(actor(ADMIN, 'C0QUIET'))).toEqual({});
  });
});

describe('ActionGate and the bot acting for a protection policy', () => {
  const covers = (policy: string, target: { service: string; partition?: string | undefined }) =>
    policy === 'production' && target.service === DATA.service && target.partition === DATA.partition;
  const gate = new ActionGate({
    policy: new Policy(ACCESS, GROUPS),
    groups: GROUPS,
    rules: {
      ...DEFAULT_APPROVAL_RULES,
      'snapshot.create': { ...DEFAULT_APPROVAL_RULES['snapshot.create'], required: true },
    },
    responderGroups: [],
    protection: { covers },
  });
  const system = { userId: 'protection:production', channelId: undefined, system: { policy: 'production' } };

  it('runs its plan snapshots on what it covers, even where people need approval, and nothing else', async () => {
    expect(await gate.evaluate(system, 'snapshot.create', DATA)).toMatchObject({
      kind: 'run',
      basis: { kind: 'protection', policy: 'production' },
    });
    for (const action of ['snapshot.delete', 'schedule.remove', 'schedule.add', 'snapshot.quick', 'read'] as const) {
      expect(await gate.evaluate(system, action, DATA), action).toMatchObject({ kind: 'refused' });
    }
    const elsewhere = { service: DATA.service, partition: 'other' };
    expect(await gate.evaluate(system, 'snapshot.create', elsewhere)).toMatchObject({ kind: 'refused' });
    const otherPolicy = { ...system, userId: 'protection:staging', system: { policy: 'staging' } };
    expect(await gate.evaluate(otherPolicy, 'snapshot.create', DATA)).toMatchObject({ kind: 'refused' });
    // The same user id without the core-made marker is a person with no grant.
    expect(
      await gate.evaluate({ userId: 'protection:production', channelId: 'C0OPS' }, 'snapshot.create', DATA),
    ).toMatchObject({
      kind: 'refused',
    });
  });

  it('refuses a system row to every person, admins included', async () => {
    expect(await gate.evaluate(actor(ADMIN), 'protection.alert', DATA)).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'not_visible' },
    });
  });
});
