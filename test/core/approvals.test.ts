import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalRule, DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import {
  type ApprovalCards,
  type ApprovalPolicy,
  type ApprovalRequest,
  ApprovalService,
  type ApprovalState,
} from '../../src/core/approvals.js';
import { NashaError } from '../../src/core/errors.js';
import type { Actor, Target } from '../../src/core/model.js';
import type { AuditInput, AuditPatch, AuditSink, JsonValue } from '../../src/core/ports.js';
import type {
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

/**
 * The approval state machine of ApprovalService, transition by transition, on the real store (SQLite, real
 * compare-and-set) with a virtual clock and small fakes of the ports it drives: the policy, the audit sink, the
 * cards and the snapshot service. The whole flow through Slack and OVH is in test/e2e/approvals.test.ts.
 */

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const HOUR = 3_600_000;
const APPROVALS_CHANNEL = 'C0APPROVALS';
const TARGET = { service: 'zpool-1', partition: 'data' };

const REQUESTER: Actor = { userId: 'U0REQ', channelId: 'C0OPS' };
const APPROVER_A: Actor = { userId: 'U0APPA', channelId: APPROVALS_CHANNEL };
const APPROVER_B: Actor = { userId: 'U0APPB', channelId: APPROVALS_CHANNEL };
const VIEWER: Actor = { userId: 'U0VIEW', channelId: APPROVALS_CHANNEL };
const approver = (n: number): Actor => ({ userId: `U0APP${n}`, channelId: APPROVALS_CHANNEL });

const DELETE: ChangeRequest = { action: 'snapshot.delete', target: TARGET, name: 'snap-old' };
const REMOVE_DAY_1: ChangeRequest = { action: 'schedule.remove', target: TARGET, type: 'day-1' };

/** Deletes need one approver (the default); removing a frequency needs two, for the quorum tests. */
const RULES: Readonly<Record<keyof typeof DEFAULT_APPROVAL_RULES, ApprovalRule>> = {
  ...DEFAULT_APPROVAL_RULES,
  'schedule.remove': { required: true, quorum: 2, approverGroups: [], ttlMs: 30 * 60_000 },
};

// ---- fakes of the ports -----------------------------------------------------------------------------------------

/** Requesters may ask; every `U0APP…` user may approve; nobody else may do either. */
class FakePolicy implements ApprovalPolicy {
  readonly requesters = new Set([REQUESTER.userId, APPROVER_A.userId]);
  async decide(actor: Actor): Promise<{ allowed: boolean; summary: string }> {
    return this.requesters.has(actor.userId)
      ? { allowed: true, summary: `<@${actor.userId}> is an operator` }
      : { allowed: false, summary: `<@${actor.userId}> is only a \`viewer\` on zpool-1/data` };
  }
  async canApprove(actor: Actor, _target: Target, groups: readonly string[]) {
    expect(groups).toEqual([]);
    return actor.userId.startsWith('U0APP')
      ? { allowed: true, summary: `<@${actor.userId}> is an approver` }
      : { allowed: false, summary: `<@${actor.userId}> needs the \`approver\` role on zpool-1/data` };
  }
}

class RecordingAudit implements AuditSink {
  readonly records: AuditInput[] = [];
  readonly patches: Array<{ id: string; patch: AuditPatch }> = [];
  async record(input: AuditInput): Promise<{ id: string }> {
    this.records.push(input);
    return { id: `audit-${this.records.length}` };
  }
  async update(id: string, patch: AuditPatch): Promise<unknown> {
    this.patches.push({ id, patch });
    return undefined;
  }
}

/** Cards and DMs as they would reach Slack: each post/update records the state shown. */
class FakeCards implements ApprovalCards {
  readonly posts: Array<{ id: string; state: ApprovalState }> = [];
  readonly updates: Array<{ id: string; ts: string; state: ApprovalState }> = [];
  readonly notified: ApprovalRequest[] = [];
  private readonly waiting = new Map<string, Array<(request: ApprovalRequest) => void>>();

  async post(channel: string, request: ApprovalRequest): Promise<{ ts: string }> {
    expect(channel).toBe(APPROVALS_CHANNEL);
    this.posts.push({ id: request.id, state: request.state });
    return { ts: `ts-${request.id}` };
  }
  async update(_channel: string, ts: string, request: ApprovalRequest): Promise<void> {
    this.updates.push({ id: request.id, ts, state: request.state });
  }
  async notifyRequester(request: ApprovalRequest): Promise<void> {
    this.notified.push(request);
    for (const resolve of this.waiting.get(request.id) ?? []) resolve(request);
    this.waiting.delete(request.id);
  }
  /** The request as the requester's DM shows it: settles once it reached a final state. */
  finished(id: string): Promise<ApprovalRequest> {
    const done = this.notified.find((r) => r.id === id);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => this.waiting.set(id, [...(this.waiting.get(id) ?? []), resolve]));
  }
  /** The last state the card shows. */
  shown(id: string): ApprovalState | undefined {
    return [...this.posts, ...this.updates].filter((c) => c.id === id).at(-1)?.state;
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
class FakeSnapshots implements Pick<SnapshotService, 'inspect' | 'change'> {
  enabled: SnapshotType[] = ['hour-1', 'day-1'];
  readonly custom = new Map<string, string | null>([
    ['snap-old', '2026-12-01T00:00:00Z'],
    ['snap-keep', null],
  ]);
  readonly changes: Array<{ actor: Actor; change: ChangeRequest; reply: JsonValue; approvedAuditId?: string }> = [];
  /** How OVH's task ends; a pending deferred holds the change in executing. */
  result: Deferred<'succeeded' | 'failed'> | 'succeeded' | 'failed' = 'succeeded';
  /** Thrown by change() instead of starting a task. */
  failWith: Error | undefined;
  private taskId = 4_000_000;

  async inspect(request: ChangeRequest): Promise<Inspection> {
    const custom = [...this.custom.keys()];
    if (request.action === 'snapshot.delete') {
      if (!this.custom.has(request.name)) {
        throw new NashaError('not_found', `\`zpool-1/data\` has no custom snapshot named \`${request.name}\`.`);
      }
      return {
        enabled: this.enabled,
        custom,
        snapshot: { name: request.name, expiration: this.custom.get(request.name) ?? null },
      };
    }
    if (request.action === 'schedule.remove' && !this.enabled.includes(request.type)) {
      throw new NashaError('not_found', `\`${request.type}\` is not enabled on \`zpool-1/data\`.`);
    }
    return { enabled: this.enabled, custom, snapshot: undefined };
  }

  async change(
    actor: Actor,
    change: ChangeRequest,
    reply: JsonValue = null,
    options: { approvedAuditId?: string } = {},
  ): Promise<ChangeStarted> {
    this.changes.push({ actor, change, reply, ...options });
    if (this.failWith !== undefined) throw this.failWith;
    const taskId = ++this.taskId;
    const outcome = typeof this.result === 'string' ? Promise.resolve(this.result) : this.result.promise;
    const done = outcome.then(
      (how): ChangeResult =>
        how === 'succeeded'
          ? { outcome: 'succeeded', taskId }
          : { outcome: 'failed', taskId, detail: 'OVH: quota exceeded' },
    );
    return {
      auditId: options.approvedAuditId ?? 'none',
      task: { taskId, operation: 'clusterLeclercCustomSnapDelete', status: 'todo' },
      done,
    };
  }
}

// ---- harness ----------------------------------------------------------------------------------------------------

let database: Database | undefined;
let dir: string | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function harness() {
  dir = await mkdtemp(join(tmpdir(), 'nasha-approvals-'));
  database = await openDatabase({ dataDir: dir });
  const repo = new ApprovalStore(database.db);
  // Nothing here waits on the clock except the compare-and-set back-off, which auto-advance runs in virtual time.
  const clock = new ManualClock(T0, { autoAdvance: true });
  const policy = new FakePolicy();
  const audit = new RecordingAudit();
  const cards = new FakeCards();
  const snapshots = new FakeSnapshots();
  /** An ApprovalService on the shared store: another one is another replica, or the next process. */
  const service = (configVersion = '1:aaaaaaaaaaaa') =>
    new ApprovalService({
      repo,
      service: snapshots,
      policy,
      audit,
      cards,
      rules: RULES,
      configVersion,
      approvalsChannel: APPROVALS_CHANNEL,
      clock,
      sweepIntervalMs: Number.POSITIVE_INFINITY,
    });
  const approvals = service();
  const state = async (id: string) => (await repo.get(id))?.state;
  return { repo, clock, policy, audit, cards, snapshots, service, approvals, state };
}

/** Lets the service's background work (the execution after the deciding click) run until `done` holds. */
async function eventually(done: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (await done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

const auditPatches = (audit: RecordingAudit, id: string) =>
  audit.patches.filter((p) => p.id === id).map((p) => p.patch);

// ---- tests ------------------------------------------------------------------------------------------------------

describe('approval requests', () => {
  it('a request is pending, with the live preview, its rule, an audit record and a card', async () => {
    const h = await harness();
    const request = await h.approvals.request(REQUESTER, DELETE, '  free space before the upgrade ');
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
      approvals: [],
      createdAt: T0,
      expiresAt: T0 + 4 * HOUR,
      auditId: 'audit-1',
      card: { channel: APPROVALS_CHANNEL, ts: null },
    });
    expect(request.id).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(h.audit.records).toEqual([
      {
        actor: REQUESTER,
        action: 'snapshot.delete',
        target: TARGET,
        subject: 'snap-old',
        outcome: 'requested',
        detail: `approval #${request.id}: free space before the upgrade`,
      },
    ]);
    await h.approvals.sweep();
    expect(h.cards.posts).toEqual([{ id: request.id, state: 'pending' }]);
    await h.approvals.sweep();
    expect(h.cards.posts).toHaveLength(1);
  });

  it('refuses a request without a reason, from someone who may not ask, or for a change that needs no approval', async () => {
    const h = await harness();
    await expect(h.approvals.request(REQUESTER, DELETE, ' ok ')).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'A reason is required (a few words the approvers will read).',
    });
    await expect(h.approvals.request(VIEWER, DELETE, 'cleanup please')).rejects.toMatchObject({
      code: 'denied',
      message: '<@U0VIEW> is only a `viewer` on zpool-1/data',
    });
    expect(h.audit.records).toEqual([
      {
        actor: VIEWER,
        action: 'snapshot.delete',
        target: TARGET,
        subject: 'snap-old',
        outcome: 'denied',
        detail: '<@U0VIEW> is only a viewer on zpool-1/data',
      },
    ]);
    const create: ChangeRequest = { action: 'snapshot.create', target: TARGET, name: 'new' };
    await expect(h.approvals.request(REQUESTER, create, 'a good reason')).rejects.toThrow(
      'snapshot.create does not need approval',
    );
    expect(await h.repo.open()).toEqual([]);
  });
});

describe('pending → approved → executing → succeeded | failed | invalidated', () => {
  it('one approval reaches the quorum: approved, then executing with its OVH task, then succeeded', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;

    const click = await h.approvals.approve(APPROVER_A, id);
    expect(click).toMatchObject({ ok: true, message: `You approved #${id}; running it now.` });
    expect(click.ok && click.request).toMatchObject({
      state: 'approved',
      approvals: [{ userId: 'U0APPA', at: T0 }],
      decidedBy: 'U0APPA',
    });
    expect(auditPatches(h.audit, 'audit-1')).toContainEqual({
      outcome: 'approved',
      detail: `approval #${id}: approved by <@U0APPA>`,
    });

    await eventually(async () => (await h.repo.get(id))?.taskId === 4_000_001, 'the OVH task recorded');
    expect(await h.repo.get(id)).toMatchObject({ state: 'executing', taskId: 4_000_001 });
    // The change runs as the requester, under the approval's audit record.
    expect(h.snapshots.changes).toEqual([
      { actor: REQUESTER, change: DELETE, reply: { approvalId: id }, approvedAuditId: 'audit-1' },
    ]);

    task.resolve('succeeded');
    const finished = await h.cards.finished(id);
    expect(finished).toMatchObject({ state: 'succeeded', taskId: 4_000_001, outcomeDetail: null });
    expect(h.cards.shown(id)).toBe('succeeded');
    expect(h.cards.posts.filter((p) => p.id === id)).toHaveLength(1);
    expect(h.cards.notified.filter((r) => r.id === id)).toHaveLength(1);
    expect(h.snapshots.changes).toHaveLength(1);
  });

  it("an OVH task that fails ends failed with OVH's detail; an OVH refusal too", async () => {
    const h = await harness();
    h.snapshots.result = 'failed';
    const first = await h.approvals.request(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, first.id);
    expect(await h.cards.finished(first.id)).toMatchObject({
      state: 'failed',
      taskId: 4_000_001,
      outcomeDetail: 'OVH: quota exceeded',
    });

    h.snapshots.failWith = new NashaError('ovh_refused', 'OVH refused the change: `*quota*`.');
    const second = await h.approvals.request(REQUESTER, DELETE, 'free space again');
    await h.approvals.approve(APPROVER_A, second.id);
    expect(await h.cards.finished(second.id)).toMatchObject({
      state: 'failed',
      taskId: null,
      outcomeDetail: 'OVH refused the change: quota.',
    });
  });

  it('invalidated when the target is gone before it runs: nothing is sent', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    h.snapshots.custom.delete('snap-old');
    await h.approvals.approve(APPROVER_A, id);
    const finished = await h.cards.finished(id);
    expect(finished).toMatchObject({
      state: 'invalidated',
      outcomeDetail: 'the target is gone: zpool-1/data has no custom snapshot named snap-old.',
    });
    expect(h.snapshots.changes).toEqual([]);
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'invalidated',
      detail: `approval #${id}: the target is gone: zpool-1/data has no custom snapshot named snap-old.`,
    });
  });

  it('invalidated when the snapshot changed since the request (its expiration)', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    h.snapshots.custom.set('snap-old', '2027-01-01T00:00:00Z');
    await h.approvals.approve(APPROVER_A, id);
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'invalidated',
      outcomeDetail:
        'the snapshot changed since the request (expiration 2027-01-01T00:00:00Z, was 2026-12-01T00:00:00Z)',
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('invalidated when the configuration changed since the request: approved under the new one, never run', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    const restarted = h.service('2:bbbbbbbbbbbb');
    expect(await restarted.approve(APPROVER_A, id)).toMatchObject({ ok: true });
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'invalidated',
      outcomeDetail: 'the bot configuration changed since the request; ask again',
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('invalidated when OVH says the target is gone or conflicts as the change is sent', async () => {
    const h = await harness();
    h.snapshots.failWith = new NashaError('conflict', 'The snapshot `snap-old` is being deleted already.');
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, id);
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'invalidated',
      outcomeDetail: 'The snapshot snap-old is being deleted already.',
    });
    expect(h.snapshots.changes).toHaveLength(1);
  });

  it('a request left approved (the process stopped before running it) is run by the sweeper, once', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
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
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    const pending = await h.repo.get(id);
    await h.repo.update(id, pending?.version ?? 0, { state: 'executing' }, T0);
    await h.service().recoverInterrupted();
    expect(await h.repo.get(id)).toMatchObject({
      state: 'failed',
      outcomeDetail: 'the bot stopped while sending the change to OVH; check the partition before asking again',
    });
    expect(h.snapshots.changes).toEqual([]);
  });
});

describe('who may approve', () => {
  it('the requester cannot approve their own request; the refusal is audited', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(APPROVER_A, DELETE, 'my own cleanup');
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      message: 'You cannot approve your own request: a second person has to.',
    });
    expect(h.audit.records.at(-1)).toEqual({
      actor: APPROVER_A,
      action: 'approval.decide',
      target: TARGET,
      subject: `#${id}`,
      outcome: 'denied',
      detail: 'tried to approve their own request',
    });
    expect(await h.repo.get(id)).toMatchObject({ state: 'pending', approvals: [] });
    expect(await h.approvals.approve(APPROVER_B, id)).toMatchObject({ ok: true });
  });

  it("someone without the approver role is refused with the policy's reason, and audited", async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    expect(await h.approvals.approve(VIEWER, id)).toEqual({
      ok: false,
      message: '<@U0VIEW> needs the `approver` role on zpool-1/data',
    });
    expect(h.audit.records.at(-1)).toMatchObject({
      actor: VIEWER,
      action: 'approval.decide',
      outcome: 'denied',
      detail: '<@U0VIEW> needs the approver role on zpool-1/data',
    });
    expect(await h.state(id)).toBe('pending');
  });

  it("quorum 2: one vote per person; the second person's vote approves and runs it", async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, REMOVE_DAY_1, 'day-1 is redundant');
    expect((await h.repo.get(id))?.quorum).toBe(2);
    expect((await h.repo.get(id))?.expiresAt).toBe(T0 + 30 * 60_000);

    const first = await h.approvals.approve(APPROVER_A, id);
    expect(first).toMatchObject({ ok: true, message: `You approved #${id}; it needs 1 more approval(s).` });
    expect(await h.repo.get(id)).toMatchObject({
      state: 'pending',
      approvals: [{ userId: 'U0APPA' }],
      decidedBy: null,
    });
    expect(h.cards.shown(id)).toBe('pending');

    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      message: `You already approved #${id}; it needs 1 more approval(s).`,
    });
    expect((await h.repo.get(id))?.approvals).toHaveLength(1);

    expect(await h.approvals.approve(APPROVER_B, id)).toMatchObject({
      ok: true,
      message: `You approved #${id}; running it now.`,
    });
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'succeeded',
      approvals: [{ userId: 'U0APPA' }, { userId: 'U0APPB' }],
      decidedBy: 'U0APPB',
    });
    expect(auditPatches(h.audit, 'audit-1')).toContainEqual({
      outcome: 'approved',
      detail: `approval #${id}: approved by <@U0APPA>, <@U0APPB>`,
    });
    expect(h.snapshots.changes.map((c) => c.change)).toEqual([REMOVE_DAY_1]);
  });

  it('a finished request cannot be approved, rejected or cancelled again', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    await h.approvals.approve(APPROVER_A, id);
    await h.cards.finished(id);
    const already = { ok: false, message: `Approval #${id} is already succeeded.` };
    expect(await h.approvals.approve(APPROVER_B, id)).toEqual(already);
    expect(await h.approvals.reject(APPROVER_B, id, 'too late')).toEqual(already);
    expect(await h.approvals.cancel(REQUESTER, id)).toEqual(already);
    expect(await h.approvals.approve(APPROVER_B, 'NOSUCH')).toEqual({
      ok: false,
      message: 'There is no approval request #NOSUCH.',
    });
    expect(h.snapshots.changes).toHaveLength(1);
  });
});

describe('pending → expired', () => {
  it('expires at its time with no one clicking; then it cannot be approved', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    h.clock.advance(4 * HOUR - 1);
    expect(await h.approvals.sweep()).toBe(T0 + 4 * HOUR);
    expect(await h.state(id)).toBe('pending');
    h.clock.advance(1);
    await h.approvals.sweep();
    expect(await h.cards.finished(id)).toMatchObject({ state: 'expired' });
    expect(h.cards.shown(id)).toBe('expired');
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'expired',
      detail: `approval #${id}: nobody approved it in time`,
    });
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      message: `Approval #${id} is already expired.`,
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('an approval clicked after the expiry (before the sweeper saw it) expires the request instead', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    h.clock.advance(4 * HOUR);
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      message: `Approval #${id} has expired; it can no longer be approved.`,
    });
    expect(await h.repo.get(id)).toMatchObject({ state: 'expired', approvals: [] });
    expect(h.snapshots.changes).toEqual([]);
  });
});

describe('pending → rejected | cancelled', () => {
  it('reject needs a reason and an approver who is not the requester; then it is closed', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    expect(await h.approvals.reject(APPROVER_B, id, ' no ')).toEqual({
      ok: false,
      message: 'A reason is required to reject.',
    });
    expect(await h.approvals.reject(REQUESTER, id, 'changed my mind')).toEqual({
      ok: false,
      message: 'You cannot reject your own request; cancel it instead.',
    });
    expect(await h.approvals.reject(VIEWER, id, 'I do not like it')).toEqual({
      ok: false,
      message: '<@U0VIEW> needs the `approver` role on zpool-1/data',
    });
    expect(h.audit.records.at(-1)).toMatchObject({ actor: VIEWER, action: 'approval.decide', outcome: 'denied' });
    expect(await h.state(id)).toBe('pending');

    expect(await h.approvals.reject(APPROVER_B, id, '  keep it for the audit  ')).toMatchObject({
      ok: true,
      message: `Request #${id} rejected.`,
    });
    expect(await h.cards.finished(id)).toMatchObject({
      state: 'rejected',
      decidedBy: 'U0APPB',
      decisionReason: 'keep it for the audit',
    });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'rejected',
      detail: `approval #${id}: rejected by <@U0APPB>: keep it for the audit`,
    });
    expect(await h.approvals.approve(APPROVER_A, id)).toEqual({
      ok: false,
      message: `Approval #${id} is already rejected.`,
    });
    expect(h.snapshots.changes).toEqual([]);
  });

  it('only the requester may cancel, and only while it is pending', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    expect(await h.approvals.cancel(APPROVER_A, id)).toEqual({
      ok: false,
      message: 'Only the requester can cancel this request.',
    });
    expect(await h.approvals.cancel(REQUESTER, id)).toMatchObject({ ok: true, message: `Request #${id} cancelled.` });
    expect(await h.cards.finished(id)).toMatchObject({ state: 'cancelled', decidedBy: 'U0REQ', decisionReason: null });
    expect(auditPatches(h.audit, 'audit-1').at(-1)).toEqual({
      outcome: 'cancelled',
      detail: `approval #${id}: cancelled by <@U0REQ>`,
    });

    const running = await h.approvals.request(REQUESTER, DELETE, 'free space, again');
    h.snapshots.result = deferred();
    await h.approvals.approve(APPROVER_A, running.id);
    expect(await h.approvals.cancel(REQUESTER, running.id)).toEqual({
      ok: false,
      message: `Approval #${running.id} is already approved and running.`,
    });
    expect(await h.approvals.reject(APPROVER_B, running.id, 'stop it')).toEqual({
      ok: false,
      message: `Approval #${running.id} is already approved and running.`,
    });
  });
});

describe('concurrent decisions', () => {
  it('40 simultaneous approvals of a quorum-1 request: one wins, the change runs exactly once', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    const other = h.service(); // a second replica on the same store
    // OVH's task is held until every click is answered, so late clicks all find it running.
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;
    const clicks = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? h.approvals : other).approve(approver(i % 20), id)),
    );
    const messages = clicks.map((c) => c.message);
    expect(messages.filter((m) => m === `You approved #${id}; running it now.`)).toHaveLength(1);
    expect(messages.filter((m) => m === `Approval #${id} is already approved and running.`)).toHaveLength(39);
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
    const { id } = await h.approvals.request(REQUESTER, REMOVE_DAY_1, 'day-1 is redundant');
    const other = h.service();
    // OVH's task is held until every click is answered, so late clicks all find it running.
    const task = deferred<'succeeded' | 'failed'>();
    h.snapshots.result = task;
    const clicks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? h.approvals : other).approve(approver(i), id)),
    );
    const messages = clicks.map((c) => c.message);
    expect(messages.filter((m) => m === `You approved #${id}; it needs 1 more approval(s).`)).toHaveLength(1);
    expect(messages.filter((m) => m === `You approved #${id}; running it now.`)).toHaveLength(1);
    expect(messages.filter((m) => m === `Approval #${id} is already approved and running.`)).toHaveLength(18);
    task.resolve('succeeded');
    const finished = await h.cards.finished(id);
    expect(finished.state).toBe('succeeded');
    expect(new Set(finished.approvals.map((v) => v.userId)).size).toBe(2);
    expect(h.snapshots.changes).toHaveLength(1);
  });

  it('approve, reject and cancel racing: exactly one decision lands, and the others are told', async () => {
    const h = await harness();
    const { id } = await h.approvals.request(REQUESTER, DELETE, 'free space');
    const [approved, rejected, cancelled] = await Promise.all([
      h.approvals.approve(APPROVER_A, id),
      h.service().reject(APPROVER_B, id, 'not today'),
      h.service().cancel(REQUESTER, id),
    ]);
    expect([approved, rejected, cancelled].filter((r) => r.ok)).toHaveLength(1);
    const finished = await h.cards.finished(id);
    const winner = { succeeded: approved, rejected, cancelled }[
      finished.state as 'succeeded' | 'rejected' | 'cancelled'
    ];
    expect(winner?.ok).toBe(true);
    expect(h.snapshots.changes).toHaveLength(finished.state === 'succeeded' ? 1 : 0);
    expect(h.cards.notified.filter((r) => r.id === id)).toHaveLength(1);
  });
});
