import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import { NashaError } from '../../src/core/errors.js';
import { ActionGate } from '../../src/core/gate.js';
import { Policy } from '../../src/core/policy.js';
import type { ChangeOrigin } from '../../src/core/ports.js';
import { IntentSweeper, isAmbiguousWriteFailure } from '../../src/core/reconcile.js';
import {
  type ChangeAuthorization,
  type ChangeRequest,
  type ChangeResult,
  SnapshotService,
} from '../../src/core/snapshot-service.js';
import { OvhApiError } from '../../src/ovh/errors.js';
import type { FaultRule } from '../../src/ovh/simulator/index.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { TaskJournal } from '../../src/store/task-journal.js';
import { expectNoProse } from '../support/no-prose.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';
import { RecordingAudit } from '../support/recording-audit.js';

/**
 * The write path of SnapshotService over the real client, simulator and task journal: every change is written
 * down before it is sent; an answer lost on the way is checked on OVH before anything is said; the sweep
 * settles what a dead process left. (Real bot processes killed at each step: test/e2e/change-faults.test.ts.)
 */
const SVC = 'zpool-128310';
const CUSTOM = '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot';
const CUSTOM_ONE = `${CUSTOM}/{name}`;
const TYPES = '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot';
const TASKS = '/dedicated/nasha/{serviceName}/task';
const REPLY = { responseUrl: 'https://hooks.slack.com/actions/T0/1/abc', description: 'the change' };
const ACTOR = { userId: 'U0ADMIN', channelId: 'C0OPS' };

let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;
/** What core handed on in the test: results, reports and audit writes. Data only, never a sentence. */
let handedOn: Array<() => unknown> = [];

afterEach(async () => {
  const seen = handedOn.map((read) => read());
  handedOn = [];
  await ovh?.close();
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  ovh = database = dir = undefined;
  expectNoProse(seen);
});

async function setup(options: { timeoutMs?: number; faults?: FaultRule[] } = {}) {
  ovh = await startOvhHarness({
    sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: 3_000 }, faults: options.faults },
    tuning: { timeoutMs: options.timeoutMs ?? 5_000, maxRetries: 0 },
  });
  dir = await mkdtemp(join(tmpdir(), 'nasha-reconcile-'));
  database = await openDatabase({ dataDir: dir });
  const journal = new TaskJournal({ db: database.db, clock: ovh.clock });
  const audit = new RecordingAudit();
  const make = () =>
    new SnapshotService({
      client: (ovh as OvhHarness).api.client,
      tracker: (ovh as OvhHarness).api.tracker,
      gate: adminGate.gate,
      policy: adminGate.policy,
      audit,
      journal,
      clock: (ovh as OvhHarness).clock,
      intentLeaseMs: 20_000,
    });
  const reports: Array<{ origin: ChangeOrigin; result: ChangeResult }> = [];
  const report = async (origin: ChangeOrigin, result: ChangeResult) => {
    reports.push({ origin, result });
  };
  // The reply stored with a change is the Slack layer's own data: only the results are core's.
  handedOn.push(
    () => reports.map((r) => r.result),
    () => audit.records,
    () => audit.patches,
  );
  return { ovh, journal, audit, service: make(), other: make(), reports, report, db: database.db };
}

/** The actor is admin everywhere and no change needs approval: every change here is allowed by the real gate. */
const adminGate = (() => {
  const groups = { membersOf: async () => new Set<string>() };
  const policy = new Policy(
    {
      grants: [{ role: 'admin', users: ['U0ADMIN'], groups: [], scope: ['*'] }],
      channels: [],
      unlistedChannels: 'admin',
    },
    groups,
  );
  const rules = Object.fromEntries(
    Object.entries(DEFAULT_APPROVAL_RULES).map(([action, rule]) => [action, { ...rule, required: false }]),
  ) as typeof DEFAULT_APPROVAL_RULES;
  return { policy, gate: new ActionGate({ policy, groups, rules, responderGroups: [] }) };
})();

/** What the desk does once the gate said run: the gate's verdict authorizes the change. */
async function allowed(request: ChangeRequest): Promise<ChangeAuthorization> {
  const verdict = await adminGate.gate.evaluate(ACTOR, request.action, request.target);
  if (verdict.kind !== 'run') throw new Error(`the test actor may not ${request.action}`);
  return { verdict };
}

const create = (name: string, partition = 'logs'): ChangeRequest => ({
  action: 'snapshot.create',
  target: { service: SVC, partition },
  name,
});

function postsAndChecks(h: OvhHarness): string[] {
  return h.sim.requests
    .filter((r) => r.method !== 'GET' || !r.path.endsWith('/auth/time'))
    .map((r) => `${r.method} ${r.path.replace(`/1.0/dedicated/nasha/${SVC}`, '')} ${r.status}`);
}

describe('isAmbiguousWriteFailure', () => {
  const error = (init: Partial<ConstructorParameters<typeof OvhApiError>[0]>) =>
    new OvhApiError({ kind: 'http', operation: 'POST /x', ...init });
  it('only failures after which OVH may have made the change', () => {
    expect(isAmbiguousWriteFailure(error({ kind: 'timeout' }))).toBe(true);
    expect(isAmbiguousWriteFailure(error({ kind: 'parse' }))).toBe(true);
    expect(isAmbiguousWriteFailure(error({ httpStatus: 502 }))).toBe(true);
    expect(isAmbiguousWriteFailure(error({ kind: 'network', ovhMessage: 'ECONNRESET: socket hang up' }))).toBe(true);
    expect(isAmbiguousWriteFailure(error({ kind: 'network', ovhMessage: 'ECONNREFUSED' }))).toBe(false);
    expect(isAmbiguousWriteFailure(error({ httpStatus: 409 }))).toBe(false);
    expect(isAmbiguousWriteFailure(error({ httpStatus: 429 }))).toBe(false);
    expect(isAmbiguousWriteFailure(error({ kind: 'clock', httpStatus: 400 }))).toBe(false);
    expect(isAmbiguousWriteFailure(error({ kind: 'input' }))).toBe(false);
    expect(isAmbiguousWriteFailure(new Error('bug'))).toBe(false);
  });
});

describe('a lost answer is checked on OVH before anything is said', () => {
  it('502 after OVH made it: the task is found and followed; the record says how it was found', async () => {
    const t = await setup({
      faults: [{ method: 'POST', path: CUSTOM, fault: { type: 'html', status: 502, afterApply: true }, times: 1 }],
    });
    const started = await t.service.change(
      ACTOR,
      create('snap-after-502'),
      REPLY,
      await allowed(create('snap-after-502')),
    );
    expect(started.task).toBeUndefined();
    const result = await started.done;
    expect(result).toEqual({ outcome: 'succeeded', taskId: expect.any(Number) });
    const tasks = await t.ovh.api.client.listTasks(SVC, { operation: 'clusterLeclercCustomSnapCreate' });
    expect(tasks).toEqual([result.taskId]);
    expect(t.audit.final(started.auditId)).toEqual({
      outcome: 'succeeded',
      taskId: result.taskId,
      // A gateway's HTML page instead of OVH's answer.
      detail: { settlement: { kind: 'task_found', lost: { kind: 'parse' }, taskId: result.taskId }, note: undefined },
    });
    expect(await t.ovh.api.client.listCustomSnapshots(SVC, 'logs')).toContain('snap-after-502');
    expect(await t.journal.intentOfAudit(started.auditId)).toMatchObject({
      outcome: 'journaled',
      taskId: result.taskId,
    });
    // Sent once: the check never sends it again.
    expect(t.ovh.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a reset after OVH made a delete: followed to done', async () => {
    const t = await setup();
    const made = await t.ovh.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-old' });
    await t.ovh.api.tracker.track(SVC, made);
    t.ovh.sim.addFaults({ method: 'DELETE', path: CUSTOM_ONE, fault: { type: 'reset', afterApply: true }, times: 1 });
    const started = await t.service.change(
      ACTOR,
      { action: 'snapshot.delete', target: { service: SVC, partition: 'logs' }, name: 'snap-old' },
      REPLY,
      await allowed({ action: 'snapshot.delete', target: { service: SVC, partition: 'logs' }, name: 'snap-old' }),
    );
    const result = await started.done;
    expect(result.outcome).toBe('succeeded');
    expect(result.taskId).not.toBe(made.taskId);
    expect(await t.ovh.api.client.listCustomSnapshots(SVC, 'logs')).not.toContain('snap-old');
  });

  it('a 503 before OVH ran it: two agreeing checks, then "not applied" — never "could not create"', async () => {
    const t = await setup({
      faults: [{ method: 'POST', path: CUSTOM, fault: { type: 'status', status: 503 }, times: 1 }],
    });
    const started = await t.service.change(ACTOR, create('snap-503'), REPLY, await allowed(create('snap-503')));
    const result = await started.done;
    const settlement = {
      kind: 'shown_not_made',
      lost: { kind: 'http', httpStatus: 503 },
      action: 'snapshot.create',
      subject: 'snap-503',
    };
    expect(result).toEqual({ outcome: 'not_applied', taskId: null, settlement });
    expect(t.audit.final(started.auditId)).toEqual({
      outcome: 'not_applied',
      detail: { settlement, note: undefined },
    });
    expect(await t.journal.intentOfAudit(started.auditId)).toMatchObject({ outcome: 'not_applied' });
    const checks = postsAndChecks(t.ovh).filter((line) => line.startsWith('GET /partition/logs/customSnapshot'));
    // One for the pre-check, two after the failure.
    expect(checks).toHaveLength(3);
    expect(await t.ovh.api.client.listCustomSnapshots(SVC, 'logs')).not.toContain('snap-503');
  });

  it('a POST OVH never answers (timeout): checked, not applied', async () => {
    const t = await setup({
      timeoutMs: 300,
      faults: [{ method: 'POST', path: TYPES, fault: { type: 'stall' }, times: 1 }],
    });
    const started = await t.service.change(
      ACTOR,
      { action: 'schedule.add', target: { service: SVC, partition: 'logs' }, type: 'day-7' },
      REPLY,
      await allowed({ action: 'schedule.add', target: { service: SVC, partition: 'logs' }, type: 'day-7' }),
    );
    const result = await started.done;
    expect(result).toEqual({
      outcome: 'not_applied',
      taskId: null,
      settlement: { kind: 'shown_not_made', lost: { kind: 'timeout' }, action: 'schedule.add', subject: 'day-7' },
    });
    expect(await t.ovh.api.client.listSnapshotTypes(SVC, 'logs')).not.toContain('day-7');
  });

  it('a timeout after OVH enabled a frequency: the update task is found', async () => {
    const t = await setup({
      timeoutMs: 300,
      faults: [{ method: 'POST', path: TYPES, fault: { type: 'stall', afterApply: true }, times: 1 }],
    });
    const started = await t.service.change(
      ACTOR,
      { action: 'schedule.add', target: { service: SVC, partition: 'logs' }, type: 'day-3' },
      REPLY,
      await allowed({ action: 'schedule.add', target: { service: SVC, partition: 'logs' }, type: 'day-3' }),
    );
    expect(await started.done).toMatchObject({ outcome: 'succeeded' });
    expect(await t.ovh.api.client.listSnapshotTypes(SVC, 'logs')).toContain('day-3');
  });

  it('OVH cannot be asked: "unknown, being checked"; the sweep settles it later and reports to the stored reply', async () => {
    const t = await setup({
      faults: [
        { method: 'POST', path: CUSTOM, fault: { type: 'html', status: 502, afterApply: true }, times: 1 },
        // Every check of the live path fails (the pre-check does not read tasks); the sweep's works.
        { method: 'GET', path: TASKS, fault: { type: 'status', status: 503 }, times: 3 },
      ],
    });
    const started = await t.service.change(ACTOR, create('snap-unknown'), REPLY, await allowed(create('snap-unknown')));
    const result = await started.done;
    // How the last check failed is kept as the problem it is: which read, OVH's status.
    expect(result).toEqual({
      outcome: 'unknown',
      taskId: null,
      settlement: {
        kind: 'cannot_ask',
        lost: { kind: 'parse' },
        problem: expect.objectContaining({ kind: 'ovh', failure: 'unavailable', step: 'read task', httpStatus: 503 }),
        tries: 1,
        gaveUp: false,
      },
    });
    expect(t.audit.final(started.auditId)).toMatchObject({
      outcome: 'unknown',
      detail: { settlement: { kind: 'cannot_ask', tries: 1 } },
    });
    const open = await t.journal.intentOfAudit(started.auditId);
    expect(open).toMatchObject({ outcome: null, checks: 1, taskId: null });

    // Not due yet (back-off), then due: any replica's sweep settles it.
    expect(await t.other.reconcileDue(t.report)).toBeGreaterThan(t.ovh.clock.now());
    expect(t.reports).toEqual([]);
    t.ovh.clock.advance(30_000);
    await t.other.reconcileDue(t.report);
    await expect.poll(() => t.reports.length).toBe(1);
    expect(t.reports[0]?.origin).toMatchObject({ service: SVC, kind: 'snapshot.create', reply: REPLY });
    expect(t.reports[0]?.result).toMatchObject({ outcome: 'succeeded', taskId: expect.any(Number) });
    // The record says how the task was found (the "still checking" settlement is replaced).
    expect(t.audit.final(started.auditId)).toEqual({
      outcome: 'succeeded',
      taskId: t.reports[0]?.result.taskId,
      detail: {
        settlement: { kind: 'task_found', lost: { kind: 'not_heard' }, taskId: t.reports[0]?.result.taskId },
        note: undefined,
      },
    });
  });

  it('a refusal (4xx) is not ambiguous: failed at once, no check', async () => {
    const t = await setup({
      faults: [{ method: 'POST', path: CUSTOM, fault: { type: 'status', status: 403 }, times: 1 }],
    });
    await expect(
      t.service.change(ACTOR, create('snap-403'), REPLY, await allowed(create('snap-403'))),
    ).rejects.toBeInstanceOf(NashaError);
    expect(t.audit.final('audit-1')).toMatchObject({ outcome: 'failed' });
    expect(await t.journal.intentOfAudit('audit-1')).toMatchObject({ outcome: 'failed' });
    expect(postsAndChecks(t.ovh).filter((l) => l.startsWith('GET'))).toHaveLength(1);
  });
});

describe('the sweep settles what a dead process left', () => {
  /** As a process killed at that step leaves the store: its intent, leased until `T + 20 s`. */
  async function leftBehind(
    t: Awaited<ReturnType<typeof setup>>,
    id: string,
    request: ChangeRequest,
    sent: boolean,
  ): Promise<void> {
    const now = t.ovh.clock.now();
    const subject = request.action.startsWith('schedule.')
      ? (request as { type: string }).type
      : (request as { name: string }).name;
    await t.journal.addIntent(
      {
        id,
        service: request.target.service,
        partition: request.target.partition,
        kind: request.action,
        subject,
        auditId: `audit-${id}`,
        reply: REPLY,
        createdAt: now,
      },
      { owner: 'dead-process', until: now + 20_000 },
    );
    if (sent) await t.journal.markIntentSent(id, now);
  }

  it('killed during OVH answer: the task is adopted once its lease ran out, followed, and reported', async () => {
    const t = await setup();
    await leftBehind(t, 'i1', create('snap-killed'), true);
    await t.ovh.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-killed' });
    // The writer's lease is still running: a live replica's request is never reconciled under it.
    await t.service.reconcileDue(t.report);
    expect(await t.journal.intentOfAudit('audit-i1')).toMatchObject({ outcome: null });
    t.ovh.clock.advance(20_000);
    await t.service.reconcileDue(t.report);
    await expect.poll(() => t.reports.length).toBe(1);
    expect(t.reports[0]).toMatchObject({
      origin: { auditId: 'audit-i1', reply: REPLY },
      result: { outcome: 'succeeded', taskId: expect.any(Number) },
    });
    const taskId = t.reports[0]?.result.taskId;
    expect(t.audit.final('audit-i1')).toEqual({
      outcome: 'succeeded',
      taskId,
      detail: { settlement: { kind: 'task_found', lost: { kind: 'not_heard' }, taskId }, note: undefined },
    });
    expect(await t.journal.intentOfAudit('audit-i1')).toMatchObject({ outcome: 'journaled' });
    expect(await t.journal.unfinished()).toEqual([]);
  });

  it('killed before sending: "not applied" without asking OVH', async () => {
    const t = await setup();
    await leftBehind(t, 'i2', create('snap-unsent'), false);
    t.ovh.clock.advance(20_000);
    t.ovh.sim.clearRequests();
    await t.service.reconcileDue(t.report);
    expect(t.reports).toEqual([
      {
        origin: expect.objectContaining({ auditId: 'audit-i2' }),
        result: { outcome: 'not_applied', taskId: null, settlement: { kind: 'not_sent' } },
      },
    ]);
    expect(t.audit.final('audit-i2')).toMatchObject({ outcome: 'not_applied' });
    expect(t.ovh.sim.requests).toEqual([]);
  });

  it('sent but OVH has nothing: not applied; a task of another change is never taken for it', async () => {
    const t = await setup();
    // Another change's creation on the same partition, journaled by its own process.
    const theirs = await t.ovh.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-theirs' });
    await t.journal.add({ service: SVC, taskId: theirs.taskId, kind: 'snapshot.create', deadlineAt: 0 });
    await leftBehind(t, 'i3', create('snap-mine'), true);
    t.ovh.clock.advance(20_000);
    await t.service.reconcileDue(t.report);
    expect(t.reports.map((r) => r.result.outcome)).toEqual(['not_applied']);
  });

  it('OVH shows it done but no task can be named: "applied (confirmed on OVH)"', async () => {
    const t = await setup();
    await leftBehind(t, 'i4', create('snap-confirmed'), true);
    const made = await t.ovh.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-confirmed' });
    await t.ovh.api.tracker.track(SVC, made);
    // Its task is already journaled elsewhere (so it cannot be this intent's): the state alone decides.
    await t.journal.add({ service: SVC, taskId: made.taskId, kind: 'snapshot.create', deadlineAt: 0 });
    t.ovh.clock.advance(20_000);
    await t.service.reconcileDue(t.report);
    const settlement = {
      kind: 'shown_made',
      lost: { kind: 'not_heard' },
      action: 'snapshot.create',
      subject: 'snap-confirmed',
    };
    expect(t.reports.map((r) => r.result)).toEqual([{ outcome: 'applied', taskId: null, settlement }]);
    expect(t.audit.final('audit-i4')).toEqual({ outcome: 'succeeded', detail: { settlement, note: undefined } });
  });

  it('OVH down during the sweep: reported unknown once, retried with back-off, never claimed twice at once', async () => {
    const t = await setup();
    await leftBehind(t, 'i5', create('snap-later'), true);
    t.ovh.clock.advance(20_000);
    t.ovh.sim.addFaults({ method: 'GET', path: CUSTOM, fault: { type: 'status', status: 500 }, times: 2 });
    await t.service.reconcileDue(t.report);
    await t.service.reconcileDue(t.report); // not due again yet
    expect(t.reports.map((r) => r.result)).toEqual([
      {
        outcome: 'unknown',
        taskId: null,
        settlement: {
          kind: 'cannot_ask',
          lost: { kind: 'not_heard' },
          problem: expect.objectContaining({ failure: 'unavailable', step: 'list snapshots', httpStatus: 500 }),
          tries: 1,
          gaveUp: false,
        },
      },
    ]);
    expect(t.audit.final('audit-i5')).toMatchObject({ outcome: 'unknown' });
    t.ovh.clock.advance(30_000);
    await t.service.reconcileDue(t.report); // OVH still failing: no second "unknown" report
    expect(t.reports).toHaveLength(1);
    t.ovh.clock.advance(60_000);
    await t.service.reconcileDue(t.report);
    expect(t.reports.map((r) => r.result.outcome)).toEqual(['unknown', 'not_applied']);
    expect(await t.journal.intentOfAudit('audit-i5')).toMatchObject({ outcome: 'not_applied', checks: 2 });
  });
});

describe('IntentSweeper', () => {
  it('passes at start, when the next intent is due (at least a second apart), else every interval; stops', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 28, 9, 0, 0) });
    try {
      const at: number[] = [];
      const plan: Array<() => number | undefined> = [
        () => Date.now() + 3_000, // due in 3 s
        () => undefined, // nothing open: the interval
        () => Date.now() - 5_000, // overdue (another process's lease): not a spin
        () => {
          throw new Error('database gone');
        },
        () => undefined,
      ];
      const errors: unknown[] = [];
      const sweeper = new IntentSweeper({
        pass: async () => {
          at.push(Date.now());
          return (plan.shift() ?? (() => undefined))();
        },
        now: () => Date.now(),
        intervalMs: 60_000,
        logger: { error: (obj: unknown) => errors.push(obj) } as never,
      });
      const t0 = Date.now();
      sweeper.start();
      await vi.advanceTimersByTimeAsync(0);
      await vi.advanceTimersByTimeAsync(3_000);
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.advanceTimersByTimeAsync(1_000);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(at.map((t) => t - t0)).toEqual([0, 3_000, 63_000, 64_000, 124_000]);
      expect(errors).toHaveLength(1);
      await sweeper.stop();
      await vi.advanceTimersByTimeAsync(600_000);
      expect(at).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
