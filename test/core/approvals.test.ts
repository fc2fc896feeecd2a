import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import type { ApprovalRules } from '../../src/core/actions.js';
import {
  type ApprovalNotices,
  type ApprovalOutcomeDetail,
  type ApprovalRequest,
  ApprovalService,
  type ApprovalState,
  type ClickResult,
} from '../../src/core/approvals.js';
import type { AuditProblem } from '../../src/core/audit-detail.js';
import { NashaError } from '../../src/core/errors.js';
import { ActionGate, type ApprovalVerdict } from '../../src/core/gate.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import type { AccessConfig, Actor } from '../../src/core/model.js';
import { Policy } from '../../src/core/policy.js';
import type { AuditInput, JsonValue } from '../../src/core/ports.js';
import type { Problem, TaskFailure } from '../../src/core/problems.js';
import type {
  ChangeAuthorization,
  ChangeRequest,
  ChangeResult,
  ChangeStarted,
  Inspection,
  SnapshotService,
} from '../../src/core/snapshot-service.js';
import type { SnapshotType } from '../../src/ovh/models.js';
import { ManualClock } from '../../src/shared/clock.js';
import { ApprovalStore } from '../../src/store/approval-store.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { expectNoProse } from '../support/no-prose.js';
import { RecordingAudit } from '../support/recording-audit.js';

/**
 * The approval state machine of ApprovalService, transition by transition, on the real store (SQLite, real
 * compare-and-set) with a virtual clock. Who may ask and who may approve are the real gate and policy; the audit
 * sink, the cards and the snapshot service are small fakes of the ports it drives. The whole flow through Slack
 * and OVH is in test/e2e/approvals.test.ts.
 */

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const APPROVALS_CHANNEL = 'C0APPROVALS';
const TARGET = { service: 'zpool-1', partition: 'data' };

const REQUESTER: Actor = { userId: 'U0REQ', channelId: 'C0OPS' };
const APPROVER_A: Actor = { userId: 'U0APPA', channelId: APPROVALS_CHANNEL };
const APPROVER_B: Actor = { userId: 'U0APPB', channelId: APPROVALS_CHANNEL };
const VIEWER: Actor = { userId: 'U0VIEW', channelId: APPROVALS_CHANNEL };
const approver = (n: number): Actor => ({ userId: `U0APP${n}`, channelId: APPROVALS_CHANNEL });

const DELETE: ChangeRequest = { action: 'snapshot.delete', target: TARGET, name: 'snap-old' };
const REMOVE_DAY_1: ChangeRequest = { action: 'schedule.remove', target: TARGET, type: 'day-1' };
const ADD_DAY_7: ChangeRequest = { action: 'schedule.add', target: TARGET, type: 'day-7' };
const REMOVE_HOUR_1: ChangeRequest = { action: 'schedule.remove', target: TARGET, type: 'hour-1' };
/** How the fake's failing task ends: OVH's status and its own words. */
const QUOTA_FAILURE: TaskFailure = { outcome: 'failed', status: 'customerError', details: 'quota exceeded' };

/**
 * Deletes need one approver (the default); removing a frequency needs two, for the quorum tests; adding one is
 * approved only by members of S0STORAGE, for the approver-group tests.
 */
const RULES: ApprovalRules = {
  ...DEFAULT_APPROVAL_RULES,
  'schedule.remove': { required: true, quorum: 2, approverGroups: [], ttlMs: 30 * 60_000 },
  'schedule.add': { required: true, quorum: 1, approverGroups: ['S0STORAGE'], ttlMs: 4 * HOUR },
};

/** The requester is an operator; every U0APP… user an approver; the viewer only reads. */
const ACCESS: AccessConfig = {
  grants: [
    { role: 'operator', users: [REQUESTER.userId], groups: [], scope: ['zpool-1/*'] },
    {
      role: 'approver',
      users: ['U0APPA', 'U0APPB', ...Array.from({ length: 20 }, (_, n) => `U0APP${n}`)],
      groups: [],
      scope: ['zpool-1'],
    },
    { role: 'viewer', users: [VIEWER.userId], groups: [], scope: ['zpool-1'] },
  ],
  channels: [],
  unlistedChannels: 'admin',
};
const GROUPS: GroupDirectory = {
  membersOf: async (groupId) => new Set(groupId === 'S0STORAGE' ? [APPROVER_B.userId] : []),
};

// ---- fakes of the ports -----------------------------------------------------------------------------------------

/** The recording audit port, with the refused clicks on approval cards picked out. */
class ClickAudit extends RecordingAudit {
  refusedClicks(): AuditInput[] {
    return this.records.filter((r) => r.action === 'approval.decide');
  }
}

/**
 * The notices port as the notification outbox treats it: every card version handed over is recorded; a key
 * makes one Slack message (the first hand-over posts it, later ones rewrite it, an older version never wins),
 * and the requester gets one DM per request however often it is handed over.
 */
class FakeNotices implements ApprovalNotices {
  readonly handed: Array<{ id: string; version: number; state: ApprovalState }> = [];
  readonly notified: ApprovalRequest[] = [];
  /** Calls to `outcome`, repeats included. */
  outcomeCalls = 0;
  /** Throws instead of handing over (the database is down) while set. */
  failing = false;
  private readonly waiting = new Map<string, Array<(request: ApprovalRequest) => void>>();

  async card(request: ApprovalRequest): Promise<void> {
    if (this.failing) throw new Error('database is locked');
    expect(request.card.channel).toBe(APPROVALS_CHANNEL);
    this.handed.push({ id: request.id, version: request.version, state: request.state });
  }
  async outcome(request: ApprovalRequest): Promise<void> {
    if (this.failing) throw new Error('database is locked');
    this.outcomeCalls += 1;
    if (this.notified.some((r) => r.id === request.id)) return;
    this.notified.push(request);
    for (const resolve of this.waiting.get(request.id) ?? []) resolve(request);
    this.waiting.delete(request.id);
  }
  /** The card messages posted: one per request, showing the first version handed over. */
  get posts(): Array<{ id: string; state: ApprovalState }> {
    const first = new Map<string, ApprovalState>();
    for (const card of this.handed) if (!first.has(card.id)) first.set(card.id, card.state);
    return [...first].map(([id, state]) => ({ id, state }));
  }
  /** The request as the requester's DM shows it: settles once it reached a final state. */
  finished(id: string): Promise<ApprovalRequest> {
    const done = this.notified.find((r) => r.id === id);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => this.waiting.set(id, [...(this.waiting.get(id) ?? []), resolve]));
  }
  /** The state the card shows: its newest version handed over. */
  shown(id: string): ApprovalState | undefined {
    const mine = this.handed.filter((c) => c.id === id);
    return mine.reduce<(typeof mine)[number] | undefined>(
      (a, c) => (a === undefined || c.version > a.version ? c : a),
      undefined,
    )?.state;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The live NAS-HA as the approvals see it (inspect) and the change they run once approved. */
class FakeSnapshots implements Pick<SnapshotService, 'inspect' | 'change' | 'changeIntentOf'> {
  /** No write-ahead intents here: every change gets its task at once. */
  async changeIntentOf(): Promise<undefined> {
    return undefined;
  }

  enabled: SnapshotType[] = ['hour-1', 'day-1'];
  readonly custom = new Map<string, string | null>([
    ['snap-old', '2026-12-01T00:00:00Z'],
    ['snap-keep', null],
  ]);
  readonly changes: Array<{
    actor: Actor;
    change: ChangeRequest;
    reply: JsonValue;
    authorization: ChangeAuthorization;
  }> = [];
  /** How OVH's task ends; a pending deferred holds the change in executing. */
  result: Deferred<'succeeded' | 'failed'> | 'succeeded' | 'failed' = 'succeeded';
  /** Thrown by change() instead of starting a task. */
  failWith: Error | undefined;
  private taskId = 4_000_000;

  async inspect(request: ChangeRequest): Promise<Inspection> {
    const custom = [...this.custom.keys()];
    const target = request.target;
    if (request.action === 'snapshot.delete') {
      if (!this.custom.has(request.name)) {
        throw new NashaError({ kind: 'snapshot_missing', target, name: request.name, suggestions: [] });
      }
      return {
        enabled: this.enabled,
        custom,
        snapshot: { name: request.name, expiration: this.custom.get(request.name) ?? null },
      };
    }
    if (request.action === 'schedule.remove' && !this.enabled.includes(request.type)) {
      throw new NashaError({ kind: 'frequency_not_enabled', target, type: request.type, enabled: this.enabled });
    }
    if (request.action === 'schedule.add' && this.enabled.includes(request.type)) {
      throw new NashaError({ kind: 'frequency_enabled', target, type: request.type });
    }
    return { enabled: this.enabled, custom, snapshot: undefined };
  }

  async change(
    actor: Actor,
    change: ChangeRequest,
    reply: JsonValue,
    authorization: ChangeAuthorization,
  ): Promise<ChangeStarted> {
    this.changes.push({ actor, change, reply, authorization });
    if (this.failWith !== undefined) throw this.failWith;
    const taskId = ++this.taskId;
    const outcome = typeof this.result === 'string' ? Promise.resolve(this.result) : this.result.promise;
    const done = outcome.then(
      (how): ChangeResult =>
        how === 'succeeded' ? { outcome: 'succeeded', taskId } : { outcome: 'failed', taskId, failure: QUOTA_FAILURE },
    );
    return {
      auditId: 'approvedAuditId' in authorization ? authorization.approvedAuditId : 'none',
      task: { taskId, operation: 'clusterLeclercCustomSnapDelete', status: 'todo' },
      done,
    };
  }
}

// ---- harness ----------------------------------------------------------------------------------------------------

let database: Database | undefined;
let dir: string | undefined;
/** Every request and audit write of the test, read at its end: data only, never a sentence of core's. */
let handedOn: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  const seen = await handedOn?.();
  handedOn = undefined;
  await database?.close();
  database = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expectNoProse(seen);
});

async function harness() {
  dir = await mkdtemp(join(tmpdir(), 'nasha-approvals-'));
  database = await openDatabase({ dataDir: dir });
  const repo = new ApprovalStore(database.db);
  // Nothing here waits on the clock except the compare-and-set back-off, which auto-advance runs in virtual time.
  const clock = new ManualClock(T0, { autoAdvance: true });
  const policy = new Policy(ACCESS, GROUPS);
  const gate = new ActionGate({ policy, groups: GROUPS, rules: RULES, responderGroups: [] });
  const audit = new ClickAudit();
  const cards = new FakeNotices();
  const snapshots = new FakeSnapshots();
  /** An ApprovalService on the shared store: another one is another replica, or the next process. */
  const service = (configVersion = '1:aaaaaaaaaaaa') =>
    new ApprovalService({
      repo,
      service: snapshots,
      policy,
      audit,
      notices: cards,
      rules: RULES,
      configVersion,
      approvalsChannel: APPROVALS_CHANNEL,
      clock,
      sweepIntervalMs: Number.POSITIVE_INFINITY,
    });
  const approvals = service();
  /** The gate's verdict that the change needs approval, as the desk gets it. */
  const verdict = async (actor: Actor, change: ChangeRequest): Promise<ApprovalVerdict> => {
    const v = await gate.evaluate(actor, change.action, change.target);
    if (v.kind !== 'approval') throw new Error(`${change.action}: expected an approval verdict, got ${v.kind}`);
    return v;
  };
  /** Files a request as the desk does, and returns the stored request. */
  const file = async (actor: Actor, change: ChangeRequest, reason: string, together: readonly ChangeRequest[] = []) =>
    (await approvals.request(actor, change, reason, await verdict(actor, change), null, together)).request;
  const state = async (id: string) => (await repo.get(id))?.state;
  const db = database.db;
  handedOn = async () => {
    const ids = await db.selectFrom('approval_requests').select('id').execute();
    const requests = await Promise.all(ids.map((row) => repo.get(row.id)));
    return { requests, records: audit.records, patches: audit.patches };
  };
  return { repo, clock, policy, gate, audit, cards, snapshots, service, approvals, verdict, file, state };
}

/** Lets the service's background work (the execution after the deciding click) run until `done` holds. */
async function eventually(done: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (await done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

const auditPatches = (audit: ClickAudit, id: string) => audit.patches.filter((p) => p.id === id).map((p) => p.patch);

/** The audit record of one refused click, as ApprovalService writes it. */
function refusedClick(
  actor: Actor,
  id: string,
  refusal: Extract<AuditProblem, { kind: 'refused' }>['refusal'],
): AuditInput {
  return {
    actor,
    action: 'approval.decide',
    target: TARGET,
    subject: id,
    outcome: 'refused',
    detail: { approvalId: id, problem: { kind: 'refused', refusal } },
  };
}

/** A request's outcome detail, read back from the store as the card reads it. */
const outcomeOf = (request: ApprovalRequest | undefined): ApprovalOutcomeDetail | null | undefined =>
  request?.outcomeDetail;

const refusalOf = (click: ClickResult) => (click.ok ? undefined : click.refusal);

// ---- tests ------------------------------------------------------------------------------------------------------

describe('approval requests', () => {
  it('a request is pending, with the live preview, its rule, an audit record and a card', async () => {
    const h = await harness();
    const filed = await h.approvals.request(
      REQUESTER,
      DELETE,
      '  free space before the upgrade ',
      await h.verdict(REQUESTER, DELETE),
      { channel: 'C0OPS', ts: '1.1' },
    );
    expect(filed.existing).toBe(false);
    const request = filed.request;
    expect(request).toMatchObject({
      state: 'pending',
      change: DELETE,
      requester: { userId: 'U0REQ', channelId: 'C0OPS' },
      reason: 'free space before the upgrade',
      preview: {
        kind: 'snapshot',
        name: 'snap-old',
        expiration: '2026-12-01T00:00:00Z',
        customLeft: 1,
        enabled: ['hour-1', 'day-1'],
      },
      configVersion: '1:aaaaaaaaaaaa',
      quorum: 1,
      approverGroups: [],
      approvals: [],
      createdAt: T0,
      expiresAt: T0 + 4 * HOUR,
      auditId: 'audit-1',
      reply: { channel: 'C0OPS', ts: '1.1' },
      card: { channel: APPROVALS_CHANNEL, ts: null },
    });
    expect(request.id).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(await h.repo.get(request.id)).toMatchObject({ state: 'pending', auditId: 'audit-1' });
    expect(h.audit.records).toEqual([
      {
        actor: REQUESTER,
        action: 'snapshot.delete',
        target: TARGET,
        subject: 'snap-old',
        outcome: 'requested',
        detail: { approvalId: request.id, reason: 'free space before the upgrade' },
      },
    ]);
    await h.approvals.sweep();
    expect(h.cards.posts).toEqual([{ id: request.id, state: 'pending' }]);
    await h.approvals.sweep();
    expect(h.cards.posts).toHaveLength(1);
  });

  it('a second request for the same pending change returns the open one and files nothing, whoever asks', async () => {
    const h = await harness();
    const first = await h.file(REQUESTER, DELETE, 'free space');
    for (const asker of [REQUESTER, APPROVER_A]) {
      const again = await h.approvals.request(asker, DELETE, 'free space, again', await h.verdict(asker, DELETE));
      expect(again, asker.userId).toEqual({ request: first, existing: true });
    }
    expect(h.audit.records).toHaveLength(1);
    expect((await h.repo.open()).map((r) => r.id)).toEqual([first.id]);
    await h.approvals.sweep();
    expect(h.cards.posts).toEqual([{ id: first.id, state: 'pending' }]);

    // Another snapshot, or the same one once the first request is closed, is a new request.
    const other = await h.file(REQUESTER, { ...DELETE, name: 'snap-keep' }, 'free space');
    expect(other.id).not.toBe(first.id);
    await h.approvals.cancel(REQUESTER, first.id);
    const renewed = await h.approvals.request(REQUESTER, DELETE, 'free space', await h.verdict(REQUESTER, DELETE));
    expect(renewed.existing).toBe(false);
    expect(renewed.request.id).not.toBe(first.id);
  });

  it('who may ask is the gate’s; a verdict for another change files nothing', async () => {
    const h = await harness();
    // A viewer gets no approval verdict at all, so there is nothing to file a request with.
    expect(await h.gate.evaluate(VIEWER, 'snapshot.delete', TARGET)).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'policy', via: 'request', decision: { denial: { kind: 'role_too_low', has: 'viewer' } } },
    });
    // A change that needs no approval has no approval verdict either; one for another action does not do.
    expect((await h.gate.evaluate(REQUESTER, 'snapshot.create', TARGET)).kind).toBe('run');
    const create: ChangeRequest = { action: 'snapshot.create', target: TARGET, name: 'new' };
    await expect(
      h.approvals.request(REQUESTER, create, 'a good reason', await h.verdict(REQUESTER, DELETE)),
    ).rejects.toThrow('snapshot.create was not found to need approval');
    expect(await h.repo.open()).toEqual([]);
    expect(h.audit.records).toEqual([]);
  });

  // The verdict is the request's only authorization: one for zpool-1/data cannot file a request on zpool-1/logs.
  it('a verdict for another target files nothing', async () => {
    const h = await harness();
    const elsewhere: ChangeRequest = { ...DELETE, target: { service: 'zpool-1', partition: 'logs' } };
    await expect(
      h.approvals.request(REQUESTER, elsewhere, 'a good reason', await h.verdict(REQUESTER, DELETE)),
    ).rejects.toThrow();
    expect(await h.repo.open()).toEqual([]);
  });

  it('the preview of a frequency removal lists the frequencies really left, counting the same submission', async () => {
    const h = await harness();
    const alone = await h.file(REQUESTER, REMOVE_DAY_1, 'day-1 is redundant');
    expect(alone.preview).toEqual({
      kind: 'frequency',
      type: 'day-1',
      remaining: ['hour-1'],
      reachBeforeMs: DAY,
      reachAfterMs: HOUR,
      customCount: 2,
    });
    await h.approvals.cancel(REQUESTER, alone.id);

    // Filed in one form with day-7 added: day-7 will be there too.
    const withAddition = await h.file(REQUESTER, REMOVE_DAY_1, 'day-7 replaces day-1', [ADD_DAY_7]);
    expect(withAddition.preview).toMatchObject({ remaining: ['hour-1', 'day-7'], reachAfterMs: 7 * DAY });
    await h.approvals.cancel(REQUESTER, withAddition.id);

    // …and with hour-1 removed in the same form: only day-7 is left.
    const both = await h.file(REQUESTER, REMOVE_DAY_1, 'weekly only', [ADD_DAY_7, REMOVE_HOUR_1]);
    expect(both.preview).toEqual({
      kind: 'frequency',
      type: 'day-1',
      remaining: ['day-7'],
      reachBeforeMs: DAY,
      reachAfterMs: 7 * DAY,
      customCount: 2,
    });
    const everything = await h.file(REQUESTER, REMOVE_HOUR_1, 'nothing automatic', [REMOVE_DAY_1]);
    expect(everything.preview).toMatchObject({ remaining: [], reachAfterMs: null });
  });

  it('a change that would do nothing is not filed: the live check fails first', async () => {
    const h = await harness();
    const removeDay7: ChangeRequest = { action: 'schedule.remove', target: TARGET, type: 'day-7' };
    await expect(h.file(REQUESTER, removeDay7, 'not enabled anyway')).rejects.toMatchObject({
      problem: { kind: 'frequency_not_enabled', type: 'day-7', enabled: ['hour-1', 'day-1'] },
    });
    await expect(h.file(REQUESTER, { ...DELETE, name: 'snap-gone' }, 'gone already')).rejects.toMatchObject({
      problem: { kind: 'snapshot_missing', name: 'snap-gone' },
    });
    expect(await h.repo.open()).toEqual([]);
    expect(h.audit.records).toEqual([]);
  });
});

describe('pending → approved → executing → succeeded | failed | invalidated', () => {
  it('one approval reaches the quorum: approved, then executing with its OVH task, then succeeded', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;

    const click = await h.approvals.approve(APPROVER_A, id);
    expect(click).toMatchObject({ ok: true, effect: { kind: 'running' } });
    expect(click.ok && click.request).toMatchObject({
      state: 'approved',
      approvals: [{ userId: 'U0APPA', at: T0 }],
      decidedBy: 'U0APPA',
    });
    expect(auditPatches(h.audit, 'audit-1')).toContainEqual({
      outcome: 'approved',
      detail: { approvalId: id, decidedBy: ['U0APPA'] },
    });

    await eventually(async () => (await h.repo.get(id))?.taskId === 4_000_001, 'the OVH task recorded');
    expect(await h.repo.get(id)).toMatchObject({ state: 'executing', taskId: 4_000_001 });
    // The change runs as the requester, under the approval's audit record.
    expect(h.snapshots.changes).toEqual([
      {
        actor: REQUESTER,
        change: DELETE,
        reply: { approvalId: id },
        authorization: { approvedAuditId: 'audit-1' },
      },
    ]);

    task.resolve('succeeded');
    const finished = await h.cards.finished(id);
    expect(finished).toMatchObject({ state: 'succeeded', taskId: 4_000_001, outcomeDetail: null });
    expect(h.cards.shown(id)).toBe('succeeded');
    expect(h.cards.posts.filter((p) => p.id === id)).toHaveLength(1);
    expect(h.cards.notified.filter((r) => r.id === id)).toHaveLength(1);
    expect(h.snapshots.changes).toHaveLength(1);
    expect(h.audit.refusedClicks()).toEqual([]);
  });

  it("an OVH task that fails ends failed with OVH's detail; an OVH refusal too", async () => {
    const h = await harness();
    h.snapshots.result = 'failed';
    const first = await h.file(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, first.id);
    const failed = await h.cards.finished(first.id);
    expect(failed).toMatchObject({ state: 'failed', taskId: 4_000_001 });
    expect(outcomeOf(failed)).toEqual({ task: QUOTA_FAILURE });

    const refusal: Problem = {
      kind: 'ovh',
      failure: 'refused',
      step: 'delete snapshot',
      target: TARGET,
      name: 'snap-old',
      httpStatus: 403,
      ovhMessage: 'This call has not been granted',
    };
    h.snapshots.failWith = new NashaError(refusal);
    const second = await h.file(REQUESTER, DELETE, 'free space again');
    await h.approvals.approve(APPROVER_A, second.id);
    const refused = await h.cards.finished(second.id);
    expect(refused).toMatchObject({ state: 'failed', taskId: null });
    expect(outcomeOf(refused)).toEqual({ problem: refusal });
  });

  it('invalidated when the target is gone before it runs: nothing is sent', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    h.snapshots.custom.delete('snap-old');
    await h.approvals.approve(APPROVER_A, id);
    const finished = await h.cards.finished(id);
    const gone = { kind: 'snapshot_missing', target: TARGET, name: 'snap-old', suggestions: [] };
    expect(finished.state).toBe('invalidated');
    expect(outcomeOf(finished)).toEqual({ problem: gone });
    expect(h.snapshots.changes).toEqual([]);
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'invalidated',
      detail: { approvalId: id, problem: gone },
    });
  });

  it('invalidated when the snapshot changed since the request (its expiration)', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    h.snapshots.custom.set('snap-old', '2027-01-01T00:00:00Z');
    await h.approvals.approve(APPROVER_A, id);
    const finished = await h.cards.finished(id);
    expect(finished.state).toBe('invalidated');
    expect(outcomeOf(finished)).toEqual({
      problem: {
        kind: 'snapshot_changed',
        name: 'snap-old',
        expiration: '2027-01-01T00:00:00Z',
        was: '2026-12-01T00:00:00Z',
      },
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('invalidated when the configuration changed since the request: approved under the new one, never run', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const restarted = h.service('2:bbbbbbbbbbbb');
    expect(await restarted.approve(APPROVER_A, id)).toMatchObject({ ok: true, effect: { kind: 'running' } });
    const finished = await h.cards.finished(id);
    expect(finished.state).toBe('invalidated');
    expect(outcomeOf(finished)).toEqual({ problem: { kind: 'config_changed' } });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'invalidated',
      detail: { approvalId: id, problem: { kind: 'config_changed' } },
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('invalidated when OVH says the target is gone or conflicts as the change is sent', async () => {
    const h = await harness();
    const notFound: Problem = {
      kind: 'ovh',
      failure: 'not_found',
      step: 'delete snapshot',
      target: TARGET,
      name: 'snap-old',
      httpStatus: 404,
      ovhMessage: 'The requested object (snap-old) does not exist',
    };
    h.snapshots.failWith = new NashaError(notFound);
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, id);
    const gone = await h.cards.finished(id);
    expect(gone.state).toBe('invalidated');
    expect(outcomeOf(gone)).toEqual({ problem: notFound });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'invalidated',
      detail: { approvalId: id, problem: notFound },
    });

    // Someone added day-7 meanwhile: the add conflicts as it is sent.
    const enabled: Problem = { kind: 'frequency_enabled', target: TARGET, type: 'day-7' };
    h.snapshots.failWith = new NashaError(enabled);
    const add = await h.file(REQUESTER, ADD_DAY_7, 'weekly restore points');
    await h.approvals.approve(APPROVER_B, add.id);
    const conflict = await h.cards.finished(add.id);
    expect(conflict.state).toBe('invalidated');
    expect(outcomeOf(conflict)).toEqual({ problem: enabled });
    expect(h.snapshots.changes).toHaveLength(2);
  });

  it('a request left approved (the process stopped before running it) is run by the sweeper, once', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const pending = await h.repo.get(id);
    await h.repo.update(
      id,
      pending?.version ?? 0,
      { state: 'approved', approvals: [{ userId: 'U0APPA', at: T0 }] },
      T0,
    );
    await Promise.all([h.approvals.sweep(), h.service().sweep()]);
    expect(await h.cards.finished(id)).toMatchObject({ state: 'succeeded' });
    expect(h.snapshots.changes).toHaveLength(1);
  });

  it('a request left executing without a task (the process stopped mid-call) ends failed, not retried', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const pending = await h.repo.get(id);
    await h.repo.update(id, pending?.version ?? 0, { state: 'executing' }, T0);
    // Within ten minutes it may be another replica's call still under way: left alone.
    h.clock.advance(10 * 60_000 - 1);
    await h.service().recoverInterrupted();
    expect(await h.state(id)).toBe('executing');
    h.clock.advance(1);
    await h.service().recoverInterrupted();
    expect(await h.repo.get(id)).toMatchObject({
      state: 'failed',
      outcomeDetail: { settlement: { kind: 'not_sent' } },
    });
    expect(await h.cards.finished(id)).toMatchObject({ state: 'failed' });
    expect(h.snapshots.changes).toEqual([]);
  });
});

describe('who may approve', () => {
  it('the requester cannot approve their own request; the refusal is audited once', async () => {
    const h = await harness();
    const { id } = await h.file(APPROVER_A, DELETE, 'my own cleanup');
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({ ok: false, refusal: { kind: 'self_approval', id } });
    expect(h.audit.refusedClicks()).toEqual([refusedClick(APPROVER_A, id, { kind: 'click', why: 'self_approval' })]);
    expect(await h.repo.get(id)).toMatchObject({ state: 'pending', approvals: [] });
    expect(await h.approvals.approve(APPROVER_B, id)).toMatchObject({ ok: true, effect: { kind: 'running' } });
    expect(h.audit.refusedClicks()).toHaveLength(1);
  });

  it('someone without the approver role is refused with the role check, and audited once', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const click = await h.approvals.approve(VIEWER, id);
    expect(click).toMatchObject({
      ok: false,
      refusal: {
        kind: 'not_approver',
        id,
        decision: {
          allowed: false,
          required: 'approver',
          denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
        },
      },
    });
    // The requester is an operator, not an approver, either.
    expect(refusalOf(await h.approvals.approve(REQUESTER, id))).toMatchObject({ kind: 'self_approval' });
    expect(h.audit.refusedClicks()).toEqual([
      refusedClick(VIEWER, id, { kind: 'click', why: 'not_approver', required: 'approver', has: 'viewer' }),
      refusedClick(REQUESTER, id, { kind: 'click', why: 'self_approval' }),
    ]);
    expect(await h.state(id)).toBe('pending');
  });

  it('an approver outside the rule’s approver groups is refused (audited as such); a member approves', async () => {
    const h = await harness();
    const { id, approverGroups } = await h.file(REQUESTER, ADD_DAY_7, 'weekly restore points');
    expect(approverGroups).toEqual(['S0STORAGE']);
    const outsider = await h.approvals.approve(APPROVER_A, id);
    expect(outsider).toMatchObject({
      ok: false,
      refusal: {
        kind: 'not_approver',
        id,
        decision: {
          allowed: false,
          effectiveRole: 'approver',
          approverGroups: { groups: ['S0STORAGE'], memberOf: undefined, notIn: ['S0STORAGE'] },
        },
      },
    });
    expect(h.audit.refusedClicks()).toEqual([
      refusedClick(APPROVER_A, id, {
        kind: 'click',
        why: 'not_in_approver_group',
        required: 'approver',
        has: 'approver',
      }),
    ]);
    expect(await h.approvals.approve(APPROVER_B, id)).toMatchObject({ ok: true, effect: { kind: 'running' } });
    expect(await h.cards.finished(id)).toMatchObject({ state: 'succeeded', decidedBy: 'U0APPB' });
  });

  it("quorum 2: one vote per person; the second person's vote approves and runs it", async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, REMOVE_DAY_1, 'day-1 is redundant');
    expect((await h.repo.get(id))?.quorum).toBe(2);
    expect((await h.repo.get(id))?.expiresAt).toBe(T0 + 30 * 60_000);

    const first = await h.approvals.approve(APPROVER_A, id);
    expect(first).toMatchObject({ ok: true, effect: { kind: 'approved', remaining: 1 } });
    expect(await h.repo.get(id)).toMatchObject({
      state: 'pending',
      approvals: [{ userId: 'U0APPA' }],
      decidedBy: null,
    });
    expect(h.cards.shown(id)).toBe('pending');

    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      refusal: { kind: 'already_voted', id, remaining: 1 },
    });
    expect((await h.repo.get(id))?.approvals).toHaveLength(1);
    expect(h.audit.refusedClicks()).toEqual([refusedClick(APPROVER_A, id, { kind: 'click', why: 'already_voted' })]);

    expect(await h.approvals.approve(APPROVER_B, id)).toMatchObject({ ok: true, effect: { kind: 'running' } });
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'succeeded',
      approvals: [{ userId: 'U0APPA' }, { userId: 'U0APPB' }],
      decidedBy: 'U0APPB',
    });
    expect(auditPatches(h.audit, 'audit-1')).toContainEqual({
      outcome: 'approved',
      detail: { approvalId: id, decidedBy: ['U0APPA', 'U0APPB'] },
    });
    expect(h.snapshots.changes.map((c) => c.change)).toEqual([REMOVE_DAY_1]);
  });

  it('a finished request cannot be approved, rejected or cancelled again; each try is audited once', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, id);
    await h.cards.finished(id);
    const closed = { ok: false, refusal: { kind: 'closed', id, state: 'succeeded' } };
    expect(await h.approvals.approve(APPROVER_B, id)).toEqual(closed);
    expect(await h.approvals.reject(APPROVER_B, id, 'too late')).toEqual(closed);
    expect(await h.approvals.cancel(REQUESTER, id)).toEqual(closed);
    const why = { kind: 'click', why: 'closed' } as const;
    expect(h.audit.refusedClicks()).toEqual([
      refusedClick(APPROVER_B, id, why),
      refusedClick(APPROVER_B, id, why),
      refusedClick(REQUESTER, id, why),
    ]);
    // An unknown request has nothing to audit the click on.
    expect(await h.approvals.approve(APPROVER_B, 'NOSUCH')).toEqual({
      ok: false,
      refusal: { kind: 'unknown_request', id: 'NOSUCH' },
    });
    expect(h.audit.refusedClicks()).toHaveLength(3);
    expect(h.snapshots.changes).toHaveLength(1);
  });
});

describe('pending → expired', () => {
  it('expires at its time with no one clicking; then it cannot be approved', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    h.clock.advance(4 * HOUR - 1);
    expect(await h.approvals.sweep()).toBe(T0 + 4 * HOUR);
    expect(await h.state(id)).toBe('pending');
    h.clock.advance(1);
    await h.approvals.sweep();
    expect(await h.cards.finished(id)).toMatchObject({ state: 'expired' });
    expect(h.cards.shown(id)).toBe('expired');
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({ outcome: 'expired', detail: { approvalId: id } });
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      refusal: { kind: 'closed', id, state: 'expired' },
    });
    expect(h.audit.refusedClicks()).toEqual([refusedClick(APPROVER_A, id, { kind: 'click', why: 'closed' })]);
    expect(h.snapshots.changes).toEqual([]);
  });

  it('an approval clicked after the expiry (before the sweeper saw it) expires the request instead', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    h.clock.advance(4 * HOUR);
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({ ok: false, refusal: { kind: 'expired', id } });
    expect(await h.repo.get(id)).toMatchObject({ state: 'expired', approvals: [] });
    expect(h.audit.refusedClicks()).toEqual([refusedClick(APPROVER_A, id, { kind: 'click', why: 'expired' })]);
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({ outcome: 'expired', detail: { approvalId: id } });
    expect(await h.cards.finished(id)).toMatchObject({ state: 'expired' });
    expect(h.snapshots.changes).toEqual([]);
  });
});

describe('pending → rejected | cancelled', () => {
  it('reject needs a reason and an approver who is not the requester; then it is closed', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    // A reason too short is a form slip: answered, not audited.
    expect(await h.approvals.reject(APPROVER_B, id, ' no ')).toEqual({
      ok: false,
      refusal: { kind: 'reason_too_short', id },
    });
    expect(h.audit.refusedClicks()).toEqual([]);
    expect(await h.approvals.reject(REQUESTER, id, 'changed my mind')).toEqual({
      ok: false,
      refusal: { kind: 'self_rejection', id },
    });
    expect(refusalOf(await h.approvals.reject(VIEWER, id, 'I do not like it'))).toMatchObject({
      kind: 'not_approver',
      id,
      decision: { allowed: false, denial: { kind: 'role_too_low', has: 'viewer' } },
    });
    expect(h.audit.refusedClicks()).toEqual([
      refusedClick(REQUESTER, id, { kind: 'click', why: 'self_rejection' }),
      refusedClick(VIEWER, id, { kind: 'click', why: 'not_approver', required: 'approver', has: 'viewer' }),
    ]);
    expect(await h.state(id)).toBe('pending');

    const rejected = await h.approvals.reject(APPROVER_B, id, '  keep it for the audit  ');
    expect(rejected).toMatchObject({ ok: true, effect: { kind: 'rejected' }, request: { state: 'rejected' } });
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'rejected',
      decidedBy: 'U0APPB',
      decisionReason: 'keep it for the audit',
    });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'rejected',
      detail: { approvalId: id, decidedBy: ['U0APPB'], reason: 'keep it for the audit' },
    });
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      refusal: { kind: 'closed', id, state: 'rejected' },
    });
    expect(h.audit.refusedClicks()).toHaveLength(3);
    expect(h.snapshots.changes).toEqual([]);
  });

  it('only the requester may cancel, and only while it is pending', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    expect(await h.approvals.cancel(APPROVER_A, id)).toEqual({ ok: false, refusal: { kind: 'not_requester', id } });
    expect(h.audit.refusedClicks()).toEqual([refusedClick(APPROVER_A, id, { kind: 'click', why: 'not_requester' })]);
    expect(await h.approvals.cancel(REQUESTER, id)).toMatchObject({ ok: true, effect: { kind: 'cancelled' } });
    expect(await h.cards.finished(id)).toMatchObject({ state: 'cancelled', decidedBy: 'U0REQ', decisionReason: null });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'cancelled',
      detail: { approvalId: id, decidedBy: ['U0REQ'] },
    });

    const running = await h.file(REQUESTER, DELETE, 'free space, again');
    h.snapshots.result = deferred();
    await h.approvals.approve(APPROVER_A, running.id);
    for (const click of [
      await h.approvals.cancel(REQUESTER, running.id),
      await h.approvals.reject(APPROVER_B, running.id, 'stop it'),
    ]) {
      const refusal = refusalOf(click);
      expect(refusal).toMatchObject({ kind: 'closed', id: running.id });
      expect(['approved', 'executing']).toContain(refusal?.kind === 'closed' ? refusal.state : undefined);
    }
    expect(h.audit.refusedClicks().filter((r) => r.subject === running.id)).toHaveLength(2);
  });
});

describe('what a request owes Slack: the card and the DM, handed to the notification outbox', () => {
  it('a decision made while nothing can be handed over: the sweep hands over the final card and the DM, once', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    await h.approvals.sweep();
    expect(h.cards.shown(id)).toBe('pending');
    h.cards.failing = true; // the outbox's table cannot be written (the database is briefly unavailable)
    expect((await h.service().reject(APPROVER_A, id, 'not today')).ok).toBe(true);
    expect(h.cards.shown(id)).toBe('pending');
    expect(h.cards.notified).toEqual([]);
    h.cards.failing = false;
    await h.approvals.sweep();
    expect(h.cards.shown(id)).toBe('rejected');
    expect(h.cards.notified.map((r) => [r.id, r.state, r.decisionReason])).toEqual([[id, 'rejected', 'not today']]);
    // Handed over: nothing is owed any more, a later sweep hands nothing again.
    const handed = h.cards.handed.length;
    await h.approvals.sweep();
    expect(h.cards.handed).toHaveLength(handed);
    expect(h.cards.outcomeCalls).toBe(1);
  });

  it('hands over every version in order on one card, and the DM only at the end (expiry on the clock)', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    await h.approvals.sweep();
    h.clock.advance(4 * HOUR);
    await h.approvals.sweep();
    const versions = h.cards.handed.filter((c) => c.id === id).map((c) => c.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(h.cards.posts).toEqual([{ id, state: 'pending' }]);
    expect(h.cards.shown(id)).toBe('expired');
    expect(h.cards.notified.map((r) => r.state)).toEqual(['expired']);
    expect(h.cards.outcomeCalls).toBe(1);
  });
});

describe('concurrent decisions', () => {
  it('40 simultaneous approvals of a quorum-1 request: one wins, the change runs exactly once', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const other = h.service(); // a second replica on the same store
    // OVH's task is held until every click is answered, so late clicks all find it running.
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;
    const clicks = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? h.approvals : other).approve(approver(i % 20), id)),
    );
    expect(clicks.filter((c) => c.ok && c.effect.kind === 'running')).toHaveLength(1);
    const refusals = clicks.map(refusalOf).filter((r) => r !== undefined);
    expect(refusals).toHaveLength(39);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ kind: 'closed', id });
      expect(['approved', 'executing']).toContain(refusal.kind === 'closed' ? refusal.state : undefined);
    }
    // Each refused click audited exactly once, on the request.
    expect(h.audit.refusedClicks()).toHaveLength(39);
    expect(h.audit.refusedClicks().every((r) => r.subject === id && r.outcome === 'refused')).toBe(true);
    task.resolve('succeeded');
    const finished = await h.cards.finished(id);
    expect(finished).toMatchObject({ state: 'succeeded' });
    expect(finished.approvals).toHaveLength(1);
    expect(h.snapshots.changes).toHaveLength(1);
    expect(h.cards.posts.filter((p) => p.id === id)).toHaveLength(1);
    expect(h.audit.patches.filter((p) => p.patch.outcome === 'approved')).toHaveLength(1);
  });

  it('20 approvers at once on a quorum-2 request: two distinct votes, one execution', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, REMOVE_DAY_1, 'day-1 is redundant');
    const other = h.service();
    // OVH's task is held until every click is answered, so late clicks all find it running.
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;
    const clicks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? h.approvals : other).approve(approver(i), id)),
    );
    const effects = clicks.flatMap((c) => (c.ok ? [c.effect] : []));
    expect(effects).toHaveLength(2);
    expect(effects).toContainEqual({ kind: 'approved', remaining: 1 });
    expect(effects).toContainEqual({ kind: 'running' });
    expect(clicks.map(refusalOf).filter((r) => r?.kind === 'closed')).toHaveLength(18);
    expect(h.audit.refusedClicks()).toHaveLength(18);
    task.resolve('succeeded');
    const finished = await h.cards.finished(id);
    expect(finished.state).toBe('succeeded');
    expect(new Set(finished.approvals.map((v) => v.userId)).size).toBe(2);
    expect(h.snapshots.changes).toHaveLength(1);
  });

  it('approve, reject and cancel racing: exactly one decision lands, and the others are told', async () => {
    const h = await harness();
    const { id } = await h.file(REQUESTER, DELETE, 'free space');
    const [approved, rejected, cancelled] = await Promise.all([
      h.approvals.approve(APPROVER_A, id),
      h.service().reject(APPROVER_B, id, 'not today'),
      h.service().cancel(REQUESTER, id),
    ]);
    const all = [approved, rejected, cancelled];
    expect(all.filter((r) => r.ok)).toHaveLength(1);
    for (const loser of all.filter((r) => !r.ok)) expect(refusalOf(loser)).toMatchObject({ kind: 'closed', id });
    expect(h.audit.refusedClicks()).toHaveLength(2);
    const finished = await h.cards.finished(id);
    const winner = { succeeded: approved, rejected, cancelled }[
      finished.state as 'succeeded' | 'rejected' | 'cancelled'
    ];
    expect(winner?.ok).toBe(true);
    expect(h.snapshots.changes).toHaveLength(finished.state === 'succeeded' ? 1 : 0);
    expect(h.cards.notified.filter((r) => r.id === id)).toHaveLength(1);
  });
});
