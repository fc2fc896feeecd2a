import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_LIST,
  type ActionId,
  APPROVABLE_ACTIONS,
  type ApprovableAction,
  type ApprovalRule,
  type ApprovalRules,
} from '../../src/core/actions.js';
import { ChangeDesk, type ChangeDraft } from '../../src/core/desk.js';
import { NashaError } from '../../src/core/errors.js';
import { ActionGate } from '../../src/core/gate.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import type { AccessConfig, Actor, CapRole, GrantConfig, Role, Target } from '../../src/core/model.js';
import { formatTarget, ROLES } from '../../src/core/model.js';
import { Policy } from '../../src/core/policy.js';

import { QuickSnapshotService } from '../../src/core/quick-snapshots.js';
import type { ChangeRequest } from '../../src/core/snapshot-service.js';
import { canIMessage, helpMessage, quickCanIMessage } from '../../src/slack/blocks/permissions.js';
import { usageOf } from '../../src/slack/commands/parse.js';
import { proseIn } from '../support/no-prose.js';
import { RecordingAudit } from '../support/recording-audit.js';

/**
 * What the bot says equals what it does: over generated configurations (users, groups, grants, scopes, channel
 * caps, responder groups, approval rules), for every user × channel × target × action, `can-i`'s answer is what
 * happens when that user tries it there, and `help` lists exactly the actions that would not be refused.
 * The executor is a recording stand-in: what is compared is the decision, made by the real gate, desk and policy.
 */
const USERS = ['U0AAA', 'U0BBB', 'U0CCC', 'U0DDD'] as const;
const GROUPS = ['S0ONE', 'S0TWO', 'S0THREE'] as const;
const CHANNELS = ['C0ONE', 'C0TWO', 'C0OTHER'] as const;
const PARTITIONS: readonly Target[] = [
  { service: 'svc-a', partition: 'p1' },
  { service: 'svc-a', partition: 'p2' },
  { service: 'svc-b', partition: 'p1' },
  { service: 'svc-b', partition: 'db' },
];
const SERVICES: readonly Target[] = [{ service: 'svc-a' }, { service: 'svc-b' }];
/** Every pattern covers at least one target above, so "somewhere" in help means one of these targets. */
const PATTERNS = ['svc-a', 'svc-b', 'svc-a/p1', 'svc-a/*', 'svc-*/db', '*', 'svc-b/p*', '*/p2'];

const roleArb = fc.constantFrom(...ROLES);
const capArb = fc.constantFrom<CapRole>(...ROLES, 'none');
const grantArb: fc.Arbitrary<GrantConfig> = fc
  .record({
    role: roleArb,
    users: fc.subarray([...USERS]),
    groups: fc.subarray([...GROUPS]),
    scope: fc.subarray(PATTERNS, { minLength: 1, maxLength: 2 }),
  })
  .filter((g) => g.users.length + g.groups.length > 0);
const ruleArb: fc.Arbitrary<ApprovalRule> = fc.record(
  {
    required: fc.boolean(),
    quorum: fc.integer({ min: 1, max: 2 }),
    approverGroups: fc.subarray([...GROUPS], { maxLength: 1 }),
    ttlMs: fc.constant(3_600_000),
    // Break-glass for a named group (or none).
    breakGlass: fc.option(fc.record({ group: fc.constantFrom(...GROUPS) }), { nil: undefined }),
  },
  { requiredKeys: ['required', 'quorum', 'approverGroups', 'ttlMs'] },
);
const worldArb = fc.record({
  grants: fc.array(grantArb, { maxLength: 4 }),
  caps: fc.record({ C0ONE: fc.option(capArb, { nil: undefined }), C0TWO: fc.option(capArb, { nil: undefined }) }),
  unlisted: capArb,
  members: fc.record({
    S0ONE: fc.subarray([...USERS]),
    S0TWO: fc.subarray([...USERS]),
    S0THREE: fc.subarray([...USERS]),
  }),
  responders: fc.subarray([...GROUPS], { maxLength: 1 }),
  rules: fc.tuple(ruleArb, ruleArb, ruleArb, ruleArb),
});
type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

function build(world: World) {
  const access: AccessConfig = {
    grants: world.grants,
    channels: (['C0ONE', 'C0TWO'] as const).flatMap((id) =>
      world.caps[id] === undefined ? [] : [{ id, maxRole: world.caps[id] }],
    ),
    unlistedChannels: world.unlisted,
  };
  const groups: GroupDirectory = {
    membersOf: async (id) => new Set((world.members as Record<string, readonly string[]>)[id] ?? []),
  };
  const rules = Object.fromEntries(APPROVABLE_ACTIONS.map((a, i) => [a, world.rules[i]])) as unknown as ApprovalRules;
  const policy = new Policy(access, groups);
  const gate = new ActionGate({ policy, groups, rules, responderGroups: world.responders });
  const executed: ChangeRequest[] = [];
  const filed: ChangeRequest[] = [];
  const reviewed: ChangeRequest[] = [];
  const audit = new RecordingAudit();
  const desk = new ChangeDesk({
    gate,
    audit,
    // Break-glass reviews: recorded here (the real service is tested in test/core/break-glass.test.ts).
    breakGlass: {
      opened: async (_actor, request) => {
        reviewed.push(request);
        return {} as never;
      },
    },
    clock: { now: () => Date.UTC(2026, 11, 2), sleep: async () => undefined },
    service: {
      change: async (_actor, request) => {
        executed.push(request);
        return {
          auditId: 'a',
          task: { taskId: 1, status: 'todo' } as never,
          done: Promise.resolve({ outcome: 'succeeded', taskId: 1 }),
        };
      },
    },
    approvals: {
      request: async (_actor, request) => {
        filed.push(request);
        return { request: { id: 'REQ123' } as never, existing: false };
      },
    },
  });
  const quick = new QuickSnapshotService({
    // Planning lists a service's partitions (the world's); nothing here is executed.
    client: {
      listPartitions: async (service: string) =>
        PARTITIONS.filter((t) => t.service === service).map((t) => t.partition ?? ''),
    } as never,
    tracker: {} as never,
    gate,
    policy,
    audit,
    memory: {} as never,
    settings: { targetGroups: new Map(), defaultExpirationMs: undefined },
    clock: { now: () => Date.UTC(2026, 11, 2), sleep: async () => undefined },
  });
  return { gate, desk, quick, executed, filed, reviewed, audit, rules };
}

function draftFor(action: ApprovableAction, target: Target): ChangeDraft {
  const partition = { service: target.service, partition: target.partition ?? 'p1' };
  switch (action) {
    case 'snapshot.create':
      return { action, target: partition, name: 'snap-1' };
    case 'snapshot.delete':
      return { action, target: partition, name: 'snap-1' };
    case 'schedule.add':
    case 'schedule.remove':
      return { action, target: partition, type: 'day-7' };
  }
}

const CAN_I_HEAD = { run: ['Yes'], approval: ['Yes, with approval', 'Only by request'], refused: ['No'] } as const;

/** What core returned in a run of the property (checked for prose at its end). */
const handedOn: unknown[] = [];

describe('can-i and help tell what the bot does', () => {
  it('for every user × channel × target × change: can-i’s verdict is what submitting it does', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const { gate, desk, quick, executed, filed, reviewed, audit } = build(world);
        for (const userId of USERS) {
          for (const channelId of CHANNELS) {
            const actor: Actor = { userId, channelId };
            for (const target of PARTITIONS) {
              // Quick snapshots: the planned partition is queued exactly when can-i says yes.
              const explained = await gate.explain(actor, userId, 'snapshot.quick', target);
              if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
              const spec = `${target.service}/${target.partition}`;
              const planned = await quick.plan(actor, spec, {}).then(
                (run) => {
                  handedOn.push(run.items);
                  return run.items[0]?.state.status;
                },
                (error: unknown) => {
                  if (error instanceof NashaError) handedOn.push(error.problem);
                  return error instanceof NashaError ? `refused:${error.code}` : 'crashed';
                },
              );
              const expected =
                explained.verdict.kind === 'run'
                  ? 'queued'
                  : explained.verdict.kind === 'refused' && explained.verdict.refusal.kind === 'not_visible'
                    ? 'refused:not_found'
                    : 'denied';
              expect([spec, planned]).toEqual([spec, expected]);
            }
            // Quick snapshots of a whole service: can-i names exactly the partitions the run would take.
            for (const { service } of SERVICES) {
              const explained = await quick.explain(actor, userId, service).then(
                (answer) => {
                  if (!('parts' in answer)) throw new Error('asking about yourself is always answered');
                  handedOn.push(answer.parts.map((part) => part.verdict));
                  // The headline counts what the lines list (and what the plan takes).
                  const taken = answer.parts.filter((part) => part.verdict.kind === 'run').length;
                  const head = quickCanIMessage(answer).text.split(':')[0];
                  expect(head).toBe(taken === answer.parts.length ? 'Yes' : taken > 0 ? 'Partly' : 'No');
                  return answer.parts.map((part) => [
                    formatTarget(part.target),
                    part.verdict.kind === 'run' ? 'queued' : 'denied',
                  ]);
                },
                (error: unknown) => (error instanceof NashaError ? `refused:${error.code}` : 'crashed'),
              );
              const planned = await quick.plan(actor, service, {}).then(
                (run) => run.items.map((item) => [formatTarget(item.target), item.state.status]),
                (error: unknown) => (error instanceof NashaError ? `refused:${error.code}` : 'crashed'),
              );
              expect([service, explained]).toEqual([service, planned]);
            }
            for (const action of APPROVABLE_ACTIONS) {
              for (const target of PARTITIONS) {
                const explained = await gate.explain(actor, userId, action, target);
                if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
                const head = canIMessage(explained).text.split(':')[0] ?? '';
                expect(CAN_I_HEAD[explained.verdict.kind] as readonly string[]).toContain(head);
                const before = { executed: executed.length, filed: filed.length, audited: audit.records.length };
                const draft = draftFor(action, target);
                const outcome = await desk.submit(actor, draft);
                handedOn.push(outcome);
                switch (explained.verdict.kind) {
                  case 'run':
                    expect(outcome.kind).toBe('started');
                    expect(executed.length).toBe(before.executed + 1);
                    break;
                  case 'approval': {
                    expect(outcome.kind).toBe('needs_reason');
                    expect(executed.length).toBe(before.executed);
                    const withReason = await desk.submit(actor, draft, { reason: 'because the property says so' });
                    expect(withReason.kind).toBe('pending');
                    expect(filed.length).toBe(before.filed + 1);
                    break;
                  }
                  case 'refused':
                    expect(outcome.kind).toBe('refused');
                    expect(executed.length).toBe(before.executed);
                    // Refused exactly once in the audit trail, as denied.
                    expect(audit.records.length).toBe(before.audited + 1);
                    expect(audit.records.at(-1)?.outcome).toBe('denied');
                    break;
                }
                // Break-glass: can-i offers it exactly when a break-glass submission runs the change at once
                // (and opens its review); otherwise that submission is refused and audited once, as denied.
                const glass = explained.verdict.kind === 'approval' && explained.verdict.breakGlass !== undefined;
                expect(canIMessage(explained).text.includes('--break-glass')).toBe(glass);
                const beforeGlass = {
                  executed: executed.length,
                  reviewed: reviewed.length,
                  audited: audit.records.length,
                };
                const broken = await desk.submit(actor, draft, {
                  reason: 'the disk is full and payments are down',
                  breakGlass: true,
                });
                handedOn.push(broken);
                if (glass) {
                  expect(broken.kind).toBe('started');
                  expect(executed.length).toBe(beforeGlass.executed + 1);
                  expect(reviewed.length).toBe(beforeGlass.reviewed + 1);
                } else {
                  expect(broken.kind).toBe('refused');
                  expect(executed.length).toBe(beforeGlass.executed);
                  expect(audit.records.length).toBe(beforeGlass.audited + 1);
                  expect(audit.records.at(-1)?.outcome).toBe('denied');
                }
              }
            }
          }
        }
        // Core handed on data only: outcomes, problems, plans and audit records hold no sentence of its own.
        expect(proseIn([handedOn, audit.records, audit.patches])).toEqual([]);
        handedOn.length = 0;
      }),
      { numRuns: 40 },
    );
  });

  it('help lists exactly the actions the gate would not refuse on some target, and how', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        const { gate } = build(world);
        for (const userId of USERS) {
          for (const channelId of CHANNELS) {
            const actor: Actor = { userId, channelId };
            const offers = await gate.offers(actor);
            const offered = new Map(offers.map((o) => [o.action.id, o.mode]));
            for (const spec of ACTION_LIST) {
              const targets = spec.id === 'read' ? [...PARTITIONS, ...SERVICES] : PARTITIONS;
              const verdicts = await Promise.all(targets.map((t) => gate.evaluate(actor, spec.id as ActionId, t)));
              const usable = verdicts.filter((v) => v.kind !== 'refused');
              if (spec.id === 'approval.decide') {
                expect(offered.has(spec.id)).toBe(usable.length > 0);
                continue;
              }
              expect([spec.id, offered.has(spec.id)]).toEqual([spec.id, usable.length > 0]);
              if (usable.length > 0) expect(offered.get(spec.id)).toBe(usable[0]?.kind);
            }
            // Help offers break-glass exactly to those for whom the gate's verdict carries it somewhere.
            for (const offer of offers) {
              if (offer.mode !== 'approval') continue;
              const verdicts = await Promise.all(PARTITIONS.map((t) => gate.evaluate(actor, offer.action.id, t)));
              const glass = verdicts.some((v) => v.kind === 'approval' && v.breakGlass !== undefined);
              expect([offer.action.id, offer.breakGlass === true]).toEqual([offer.action.id, glass]);
            }
            // The rendered help names the commands of exactly the offered actions.
            const help = JSON.stringify(helpMessage(offers, []).blocks);
            for (const spec of ACTION_LIST) {
              for (const command of spec.commands) {
                const breakGlass =
                  offered.has(spec.id) && offers.find((o) => o.action.id === spec.id)?.breakGlass === true;
                const usage = usageOf(command, undefined, {
                  breakGlass: breakGlass && command.options.includes('break_glass'),
                })
                  .replaceAll('<', '&lt;')
                  .replaceAll('>', '&gt;');
                expect([command.words.join(' '), help.includes(`\`${usage}\``)]).toEqual([
                  command.words.join(' '),
                  offered.has(spec.id),
                ]);
              }
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('roles are what the table says (a sanity anchor for the generated worlds)', () => {
    const roles: Record<string, Role> = Object.fromEntries(ACTION_LIST.map((a) => [a.id, a.role]));
    expect(roles).toMatchObject({ read: 'viewer', 'snapshot.create': 'operator', 'snapshot.delete': 'admin' });
  });
});
