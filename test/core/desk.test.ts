import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import { type ApprovalNotices, type ApprovalRequest, ApprovalService } from '../../src/core/approvals.js';
import { type AuditRecord, AuditTrail } from '../../src/core/audit.js';
import { type AuditDetail, parseAuditDetail } from '../../src/core/audit-detail.js';
import { ChangeDesk, type ChangeDraft, type SubmitOutcome } from '../../src/core/desk.js';
import { ActionGate } from '../../src/core/gate.js';
import type { GroupDirectory } from '../../src/core/groups.js';
import type { AccessConfig, Actor } from '../../src/core/model.js';
import { Policy } from '../../src/core/policy.js';
import { SnapshotService } from '../../src/core/snapshot-service.js';
import { ApprovalStore } from '../../src/store/approval-store.js';
import { AuditStore } from '../../src/store/audit-store.js';
import type { Database } from '../../src/store/database.js';
import { TaskJournal } from '../../src/store/task-journal.js';
import { openTestDatabase } from '../store/test-database.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

/**
 * ChangeDesk.submit, outcome by outcome, each with the audit record it leaves: the real gate and policy, the real
 * SnapshotService over the real NashaClient (HTTPS, signed) against the simulator, the real ApprovalService, and
 * the real AuditTrail over the AuditStore on a test database (SQLite, or PostgreSQL with NASHA_TEST_DATABASE_URL).
 * Only the approval notices (the cards and DMs handed to Slack's outbox) are a recording fake.
 */

const SVC = 'zpool-128310';
/** hour-1, day-1 and day-7 enabled; two custom snapshots. */
const DATA = { service: SVC, partition: 'data' };
/** At OVH's limit of 10 custom snapshots. */
const BACKUPS = { service: SVC, partition: 'backups' };
const DAY = 86_400_000;

const OPERATOR: Actor = { userId: 'U0OPER', channelId: 'C0OPS' };
const OTHER_OPERATOR: Actor = { userId: 'U0OPER2', channelId: 'C0OPS' };
const VIEWER: Actor = { userId: 'U0VIEW', channelId: 'C0OPS' };
const NOBODY: Actor = { userId: 'U0NOBODY', channelId: 'C0OPS' };

const ACCESS: AccessConfig = {
  grants: [
    { role: 'operator', users: [OPERATOR.userId, OTHER_OPERATOR.userId], groups: [], scope: [`${SVC}/*`] },
    { role: 'viewer', users: [VIEWER.userId], groups: [], scope: [SVC] },
  ],
  channels: [],
  unlistedChannels: 'admin',
};
const GROUPS: GroupDirectory = { membersOf: async () => new Set<string>() };

/** The cards handed to the notification outbox: one message per request. */
class RecordingCards implements ApprovalNotices {
  readonly posted: string[] = [];
  async card(request: ApprovalRequest): Promise<void> {
    if (!this.posted.includes(request.id)) this.posted.push(request.id);
  }
  async outcome(): Promise<void> {}
}

let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;
afterEach(async () => {
  await ovh?.close();
  ovh = undefined;
  await database?.close();
  database = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function harness() {
  ovh = await startOvhHarness();
  dir = await mkdtemp(join(tmpdir(), 'nasha-desk-'));
  database = await openTestDatabase(dir);
  const db = database.db;
  const { clock } = ovh;
  const auditStore = new AuditStore(db);
  const audit = new AuditTrail({ repo: auditStore, clock, auditChannel: 'C0AUDIT01' });
  const policy = new Policy(ACCESS, GROUPS);
  const gate = new ActionGate({ policy, groups: GROUPS, rules: DEFAULT_APPROVAL_RULES, responderGroups: [] });
  const service = new SnapshotService({
    client: ovh.api.client,
    tracker: ovh.api.tracker,
    gate,
    policy,
    audit,
    journal: new TaskJournal({ db, clock }),
    clock,
  });
  const approvalStore = new ApprovalStore(db);
  const cards = new RecordingCards();
  const approvals = new ApprovalService({
    repo: approvalStore,
    service,
    policy,
    audit,
    notices: cards,
    rules: DEFAULT_APPROVAL_RULES,
    configVersion: '1:aaaaaaaaaaaa',
    approvalsChannel: 'C0APPROVALS',
    clock,
    sweepIntervalMs: Number.POSITIVE_INFINITY,
  });
  const desk = new ChangeDesk({ gate, service, approvals, audit, clock });
  const sim = ovh.sim;

  /** Every audit record in the store, oldest first. */
  const records = async (): Promise<AuditRecord[]> => {
    const rows = await db.selectFrom('audit_records').select('id').execute();
    const stored = await Promise.all(rows.map(async (row) => (await auditStore.get(row.id))?.record));
    return stored
      .filter((r): r is AuditRecord => r !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  };
  const detailOf = (record: AuditRecord | undefined): AuditDetail | undefined =>
    parseAuditDetail(record?.detail ?? null);
  /** OVH writes the simulator received. */
  const writes = () => sim.requests.filter((r) => r.method === 'POST' || r.method === 'DELETE');
  return { ovh, clock, desk, approvals, approvalStore, cards, client: ovh.api.client, records, detailOf, writes };
}

function expectKind<K extends SubmitOutcome['kind']>(
  outcome: SubmitOutcome,
  kind: K,
): Extract<SubmitOutcome, { kind: K }> {
  expect(outcome.kind, JSON.stringify(outcome)).toBe(kind);
  return outcome as Extract<SubmitOutcome, { kind: K }>;
}

describe('ChangeDesk.submit: refused by the gate', () => {
  it('a role too low is refused before anything is sent, and audited once as denied', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.create', target: DATA, name: 'before-upgrade' };
    const outcome = expectKind(await h.desk.submit(VIEWER, draft), 'refused');
    expect(outcome).toMatchObject({
      draft,
      problem: {
        kind: 'refused',
        refusal: {
          kind: 'policy',
          action: 'snapshot.create',
          via: 'run',
          decision: { required: 'operator', denial: { kind: 'role_too_low', has: 'viewer' } },
        },
      },
    });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actorUserId: VIEWER.userId,
      channelId: 'C0OPS',
      action: 'snapshot.create',
      target: DATA,
      subject: 'before-upgrade',
      outcome: 'denied',
      version: 1,
    });
    expect(h.detailOf(records[0])).toEqual({
      problem: {
        kind: 'refused',
        refusal: {
          kind: 'policy',
          action: 'snapshot.create',
          via: 'run',
          required: 'operator',
          has: 'viewer',
          denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
          // The viewer's grant covers it: the refusal may name it.
          target: DATA,
        },
      },
    });
    expect(h.writes()).toEqual([]);
  });

  it('a change that needs approval, from someone who may not request it, is refused as a request', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.delete', target: DATA, name: 'snap-data-pre-upgrade' };
    const outcome = expectKind(await h.desk.submit(VIEWER, draft, { reason: 'cleanup please' }), 'refused');
    expect(outcome.problem).toMatchObject({ kind: 'refused', refusal: { kind: 'policy', via: 'request' } });
    const records = await h.records();
    expect(records.map((r) => [r.action, r.subject, r.outcome])).toEqual([
      ['snapshot.delete', 'snap-data-pre-upgrade', 'denied'],
    ]);
    expect(h.detailOf(records[0])?.problem).toMatchObject({
      kind: 'refused',
      refusal: { kind: 'policy', via: 'request', required: 'operator', has: 'viewer' },
    });
    expect(await h.approvalStore.open()).toEqual([]);
  });

  it('no grant on the target: refused as not visible, audited once as denied', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'schedule.add', target: DATA, type: 'day-2' };
    const outcome = expectKind(await h.desk.submit(NOBODY, draft), 'refused');
    expect(outcome.problem).toEqual({
      kind: 'refused',
      refusal: { kind: 'not_visible', action: 'schedule.add', target: DATA },
    });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'schedule.add', subject: 'day-2', outcome: 'denied' });
    expect(h.detailOf(records[0])).toEqual({
      // The target as the user typed it ("not found, or not yours" confirms nothing).
      problem: { kind: 'refused', refusal: { kind: 'not_visible', action: 'schedule.add', target: DATA } },
    });
    expect(h.writes()).toEqual([]);
  });
});

describe('ChangeDesk.submit: refused for its input', () => {
  it('an invalid name is refused and audited once as invalid', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.create', target: DATA, name: 'bad name!' };
    const outcome = expectKind(await h.desk.submit(OPERATOR, draft), 'refused');
    expect(outcome).toEqual({ kind: 'refused', draft, problem: { kind: 'invalid_name', name: 'bad name!' } });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      actorUserId: OPERATOR.userId,
      action: 'snapshot.create',
      subject: 'bad name!',
      outcome: 'invalid',
    });
    expect(h.detailOf(records[0])).toEqual({ problem: { kind: 'invalid_name', name: 'bad name!' } });
    expect(h.writes()).toEqual([]);
  });

  it('an invalid expiry is refused and audited once as invalid, like an invalid name', async () => {
    const h = await harness();
    const cases = [
      { expires: 'next tuesday', why: 'syntax' },
      { expires: '2027-02-30', why: 'not_a_date' },
      { expires: '2020-01-01', why: 'past' },
    ] as const;
    for (const { expires, why } of cases) {
      const draft: ChangeDraft = { action: 'snapshot.create', target: DATA, name: 'before-upgrade', expires };
      const outcome = expectKind(await h.desk.submit(OPERATOR, draft), 'refused');
      expect(outcome.problem, expires).toMatchObject({ kind: 'invalid_expiration', text: expires, why });
      h.clock.advance(1_000); // one record per second: they read back in order
    }
    const records = await h.records();
    expect(records.map((r) => [r.action, r.subject, r.outcome])).toEqual(
      cases.map(() => ['snapshot.create', 'before-upgrade', 'invalid']),
    );
    expect(records.map((r) => h.detailOf(r)?.problem)).toEqual(
      cases.map(({ expires, why }) => expect.objectContaining({ kind: 'invalid_expiration', text: expires, why })),
    );
    expect(h.writes()).toEqual([]);
  });

  it('a change that needs approval and came without a reason asks for one, recording nothing', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.delete', target: DATA, name: 'snap-data-pre-upgrade' };
    for (const reason of [undefined, '', '   ']) {
      const outcome = expectKind(await h.desk.submit(OPERATOR, draft, { reason }), 'needs_reason');
      expect(outcome).toEqual({
        kind: 'needs_reason',
        request: draft,
        rule: DEFAULT_APPROVAL_RULES['snapshot.delete'],
      });
    }
    expect(await h.records()).toEqual([]);
    expect(await h.approvalStore.open()).toEqual([]);
    expect(h.writes()).toEqual([]);
  });

  it('a reason too short is refused, recording nothing (a form slip)', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'schedule.remove', target: DATA, type: 'hour-1' };
    const outcome = expectKind(await h.desk.submit(OPERATOR, draft, { reason: ' ok ' }), 'refused');
    expect(outcome).toEqual({ kind: 'refused', draft, problem: { kind: 'reason_too_short', purpose: 'request' } });
    expect(await h.records()).toEqual([]);
    expect(await h.approvalStore.open()).toEqual([]);
  });
});

describe('ChangeDesk.submit: filed for approval', () => {
  it('pending: filed with the live preview, audited once as requested; the same change again is already pending', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.delete', target: DATA, name: 'snap-data-pre-upgrade' };
    const reply = { channel: 'C0OPS', ts: '1700000000.000100' };
    const pending = expectKind(await h.desk.submit(OPERATOR, draft, { reason: ' upgrade done ', reply }), 'pending');
    expect(pending.request).toEqual(draft);
    expect(pending.approval).toMatchObject({
      state: 'pending',
      change: draft,
      reason: 'upgrade done',
      requester: { userId: OPERATOR.userId, channelId: 'C0OPS' },
      reply,
      preview: {
        kind: 'snapshot',
        name: 'snap-data-pre-upgrade',
        customLeft: 1,
        enabled: ['hour-1', 'day-1', 'day-7'],
      },
    });
    const [requested, ...others] = await h.records();
    expect(others).toEqual([]);
    expect(requested).toMatchObject({
      id: pending.approval.auditId,
      action: 'snapshot.delete',
      subject: 'snap-data-pre-upgrade',
      outcome: 'requested',
    });
    expect(h.detailOf(requested)).toEqual({ approvalId: pending.approval.id, reason: 'upgrade done' });

    // Asked again, by someone else: the open request is returned, nothing new is filed or audited.
    const again = expectKind(
      await h.desk.submit(OTHER_OPERATOR, draft, { reason: 'also needed for the upgrade' }),
      'already_pending',
    );
    expect(again.approval.id).toBe(pending.approval.id);
    expect(await h.records()).toHaveLength(1);
    expect((await h.approvalStore.open()).map((r) => r.id)).toEqual([pending.approval.id]);
    // Nothing went to OVH: the change waits for its approver.
    expect(h.writes()).toEqual([]);
    await h.approvals.sweep();
    expect(h.cards.posted).toEqual([pending.approval.id]);
  });

  it('the preview counts the other changes of the same submission', async () => {
    const h = await harness();
    const remove: ChangeDraft = { action: 'schedule.remove', target: DATA, type: 'day-1' };
    const add: ChangeDraft = { action: 'schedule.add', target: DATA, type: 'day-2' };
    const pending = expectKind(
      await h.desk.submit(OPERATOR, remove, { reason: 'day-2 replaces day-1', together: [remove, add] }),
      'pending',
    );
    expect(pending.approval.preview).toMatchObject({
      kind: 'frequency',
      type: 'day-1',
      remaining: ['hour-1', 'day-7', 'day-2'],
    });
  });

  it('a removal of a frequency that is not enabled is a no-op: audited once as noop, nothing filed', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'schedule.remove', target: DATA, type: 'day-2' };
    const outcome = expectKind(await h.desk.submit(OPERATOR, draft, { reason: 'not needed' }), 'noop');
    expect(outcome.problem).toMatchObject({ kind: 'frequency_not_enabled', type: 'day-2' });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'schedule.remove', subject: 'day-2', outcome: 'noop' });
    expect(h.detailOf(records[0])).toMatchObject({
      reason: 'not needed',
      problem: { kind: 'frequency_not_enabled', type: 'day-2', enabled: ['hour-1', 'day-1', 'day-7'] },
    });
    expect(await h.approvalStore.open()).toEqual([]);
  });
});

describe('ChangeDesk.submit: run at once', () => {
  it('started: sent to OVH with the expiry as OVH wants it, audited once, succeeded when the task ends', async () => {
    const h = await harness();
    const now = h.clock.now();
    const draft: ChangeDraft = { action: 'snapshot.create', target: DATA, name: ' before-upgrade ', expires: '7d' };
    const started = expectKind(await h.desk.submit(OPERATOR, draft, { reply: { channel: 'C0OPS' } }), 'started');
    const expiration = new Date(now + 7 * DAY).toISOString().replace('.000Z', 'Z');
    expect(started.request).toEqual({ action: 'snapshot.create', target: DATA, name: 'before-upgrade', expiration });
    expect(started.task).toMatchObject({ taskId: expect.any(Number) });
    expect(await started.done).toEqual({ outcome: 'succeeded', taskId: started.task?.taskId });

    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      id: started.auditId,
      actorUserId: OPERATOR.userId,
      action: 'snapshot.create',
      target: DATA,
      subject: 'before-upgrade',
      outcome: 'succeeded',
      taskId: started.task?.taskId,
    });
    expect(await h.client.getCustomSnapshot(SVC, 'data', 'before-upgrade')).toEqual({
      name: 'before-upgrade',
      expiration,
    });
    expect(h.writes()).toHaveLength(1);
  });

  it('an unnamed snapshot gets the default name', async () => {
    const h = await harness();
    const started = expectKind(await h.desk.submit(OPERATOR, { action: 'snapshot.create', target: DATA }), 'started');
    expect(started.request).toMatchObject({ name: 'snap-data-20261128-090000', expiration: undefined });
    await started.done;
    expect((await h.records()).map((r) => [r.subject, r.outcome])).toEqual([
      ['snap-data-20261128-090000', 'succeeded'],
    ]);
  });

  it('adding a frequency that is already enabled is a no-op, audited once as noop, not failed', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'schedule.add', target: DATA, type: 'hour-1' };
    const outcome = expectKind(await h.desk.submit(OPERATOR, draft), 'noop');
    expect(outcome).toEqual({
      kind: 'noop',
      request: draft,
      problem: { kind: 'frequency_enabled', target: DATA, type: 'hour-1' },
    });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'schedule.add', subject: 'hour-1', outcome: 'noop', taskId: null });
    expect(h.detailOf(records[0])).toEqual({
      problem: { kind: 'frequency_enabled', target: DATA, type: 'hour-1' },
    });
    expect(h.writes()).toEqual([]);
  });

  it('a change OVH cannot take fails: audited once as failed', async () => {
    const h = await harness();
    const draft: ChangeDraft = { action: 'snapshot.create', target: BACKUPS, name: 'one-too-many' };
    const outcome = expectKind(await h.desk.submit(OPERATOR, draft), 'failed');
    expect(outcome.problem).toEqual({ kind: 'partition_full', target: BACKUPS, count: 10, max: 10 });
    const records = await h.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ subject: 'one-too-many', outcome: 'failed' });
    expect(h.detailOf(records[0])).toEqual({
      problem: { kind: 'partition_full', target: BACKUPS, count: 10, max: 10 },
    });
    expect(h.writes()).toEqual([]);
  });
});
