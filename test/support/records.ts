import type { ApprovalRequest } from '../../src/core/approvals.js';
import type { AuditRecord } from '../../src/core/audit.js';
import type { BreakGlassReview } from '../../src/core/break-glass.js';

/** What the builders' tests show, one per kind of record: change what a test is about with `overrides`. */
const TARGET = { service: 'zpool-128310', partition: 'data' };

/** A pending request to delete a snapshot, one approver needed (created 2026-11-28 09:00 UTC, a day to decide). */
export function approvalRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const t0 = Date.UTC(2026, 10, 28, 9, 0, 0);
  return {
    id: '7RLM5K',
    version: 1,
    state: 'pending',
    change: { action: 'snapshot.delete', target: TARGET, name: 'snap-data-pre-upgrade' },
    requester: { userId: 'U0OPER', channelId: 'C0OPS' },
    reason: 'free space before the upgrade',
    preview: { kind: 'snapshot', name: 'snap-data-pre-upgrade', expiration: null, customLeft: 1, enabled: ['day-1'] },
    contentHash: 'h',
    configVersion: 'v1',
    quorum: 1,
    approverGroups: [],
    approvals: [],
    createdAt: t0,
    updatedAt: t0,
    expiresAt: t0 + 86_400_000,
    decidedBy: null,
    decisionReason: null,
    taskId: null,
    outcomeDetail: null,
    auditId: 'a1',
    reply: null,
    card: { channel: 'C0APPROVALS', ts: null, version: 0 },
    ...overrides,
  };
}

/** A snapshot created on `zpool-123456/backups`, version 2 of its record (updated 65 s later). */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  const t0 = Date.UTC(2026, 10, 28, 9, 30, 15, 123);
  return {
    id: '9b2f6c1e-1111-4c1e-9a51-0123456789ab',
    version: 2,
    createdAt: t0,
    updatedAt: t0 + 65_000,
    actorUserId: 'U0ALICE01',
    channelId: 'C0OPS0001',
    action: 'snapshot.create',
    target: { service: 'zpool-123456', partition: 'backups' },
    subject: 'before-upgrade',
    outcome: 'started',
    taskId: 4242,
    detail: null,
    auditChannel: 'CAUDIT0001',
    hash: 'a3f09c1d2e7b44c1e0ffa9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8',
    ...overrides,
  };
}

/** An unacknowledged break-glass change (a delete), with a reason that tries to ping and format. */
export function breakGlassReview(i: number, at = Date.UTC(2026, 10, 29, 7, 30)): BreakGlassReview {
  return {
    id: `G${String(i).padStart(5, '0')}`,
    status: 'pending',
    change: { action: 'snapshot.delete', target: { service: 'zpool-1', partition: 'db' }, name: `snap-${i}` },
    actor: { userId: 'U0CAROL', channelId: 'C0OPS' },
    reason: 'prod down, disk full <!channel> *now*',
    group: 'S0BREAKGLASS',
    approverGroups: [],
    auditId: `audit-${i}`,
    channel: 'C0APPROVALS',
    createdAt: at,
    acknowledgedBy: null,
    acknowledgedAt: null,
  };
}
