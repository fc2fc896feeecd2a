import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import { type ApprovalNotices, type ApprovalRequest, ApprovalService } from '../../src/core/approvals.js';
import { ActionGate } from '../../src/core/gate.js';
import { Policy } from '../../src/core/policy.js';
import type { AuditSink } from '../../src/core/ports.js';
import { SnapshotService } from '../../src/core/snapshot-service.js';
import { ApprovalStore } from '../../src/store/approval-store.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { TaskJournal } from '../../src/store/task-journal.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

/**
 * ApprovalService.recoverInterrupted with the real stores: an execution a dead process left is the
 * reconciliation sweep's when its change intent was written, and "failed, nothing changed" when it never was.
 */
let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;

afterEach(async () => {
  await ovh?.close();
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  ovh = database = dir = undefined;
});

const audit: AuditSink = { record: async () => ({ id: 'unused' }), update: async () => undefined };

class RecordingNotices implements ApprovalNotices {
  readonly notified: ApprovalRequest[] = [];
  async card(): Promise<void> {}
  async outcome(request: ApprovalRequest): Promise<void> {
    this.notified.push(request);
  }
}

function executing(id: string, auditId: string, at: number): ApprovalRequest {
  return {
    id,
    version: 3,
    state: 'executing',
    change: { action: 'snapshot.delete', target: { service: 'zpool-128310', partition: 'data' }, name: 'snap-x' },
    requester: { userId: 'U0OPER', channelId: 'C0OPS' },
    reason: 'cleanup',
    preview: { kind: 'snapshot', name: 'snap-x', expiration: null, customLeft: 1, enabled: ['hour-1'] },
    contentHash: 'hash',
    configVersion: 'v1',
    quorum: 1,
    approverGroups: [],
    approvals: [{ userId: 'U0APPROVER', at }],
    createdAt: at,
    updatedAt: at,
    expiresAt: at + 3_600_000,
    decidedBy: 'U0APPROVER',
    decisionReason: null,
    taskId: null,
    outcomeDetail: null,
    auditId,
    reply: { approvalId: id },
    card: { channel: 'C0APPROVALS', ts: '1.1', version: 3 },
  };
}

const noGroups = { membersOf: async () => new Set<string>() };
/** Everyone is admin everywhere: the test is about recovery, not permissions. */
const openPolicy = new Policy(
  { grants: [{ role: 'admin', users: [], groups: ['S0ALL'], scope: ['*'] }], channels: [], unlistedChannels: 'admin' },
  { membersOf: async () => new Set(['U0OPER', 'U0APPROVER', 'U0ADMIN']) },
);

describe('ApprovalService.recoverInterrupted', () => {
  it('leaves executions with an intent to the sweep, settles closed ones, fails only those that never reached OVH', async () => {
    ovh = await startOvhHarness({ autoAdvance: false });
    dir = await mkdtemp(join(tmpdir(), 'nasha-recover-'));
    database = await openDatabase({ dataDir: dir });
    const clock = ovh.clock;
    const journal = new TaskJournal({ db: database.db, clock });
    const repo = new ApprovalStore(database.db);
    const cards = new RecordingNotices();
    const service = new SnapshotService({
      client: ovh.api.client,
      tracker: ovh.api.tracker,
      gate: new ActionGate({
        policy: openPolicy,
        groups: noGroups,
        rules: DEFAULT_APPROVAL_RULES,
        responderGroups: [],
      }),
      policy: openPolicy,
      audit,
      journal,
      clock,
    });
    const approvals = new ApprovalService({
      repo,
      service,
      policy: openPolicy,
      audit,
      notices: cards,
      rules: DEFAULT_APPROVAL_RULES,
      configVersion: 'v1',
      approvalsChannel: 'C0APPROVALS',
      clock,
    });
    const now = clock.now();
    const intent = (id: string, auditId: string) => ({
      id,
      service: 'zpool-128310',
      partition: 'data',
      kind: 'snapshot.delete' as const,
      subject: 'snap-x',
      auditId,
      reply: null,
      createdAt: now,
    });
    await repo.insert(executing('OPEN01', 'audit-open', now));
    await journal.addIntent(intent('i-open', 'audit-open'), { owner: 'dead', until: now + 20_000 });
    await repo.insert(executing('DONE01', 'audit-done', now));
    await journal.addIntent(intent('i-done', 'audit-done'), { owner: 'dead', until: now + 20_000 });
    await journal.closeIntent('i-done', 'not_applied');
    await repo.insert(executing('NONE01', 'audit-none', now));

    await approvals.recoverInterrupted();
    expect((await repo.get('OPEN01'))?.state).toBe('executing');
    expect(await repo.get('DONE01')).toMatchObject({
      state: 'failed',
      outcomeDetail: { settlement: { kind: 'settled_by_sweep' } },
    });
    // Too recent: it could still be re-validating in a live replica.
    expect((await repo.get('NONE01'))?.state).toBe('executing');

    clock.advance(10 * 60_000);
    await approvals.recoverInterrupted();
    expect(await repo.get('NONE01')).toMatchObject({
      state: 'failed',
      outcomeDetail: { settlement: { kind: 'not_sent' } },
    });
    expect((await repo.get('OPEN01'))?.state).toBe('executing');
    expect(cards.notified.map((r) => r.id)).toEqual(['DONE01', 'NONE01']);
  });
});
