import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import {
  APPROVAL_STATES,
  type ApprovalNudgeState,
  type ApprovalPatch,
  type ApprovalRepository,
  type ApprovalRequest,
  type ImpactPreview,
  OPEN_STATES,
} from '../core/approvals.js';
import { parseAuditDetail, serializeAuditDetail } from '../core/audit-detail.js';
import type { ChangeRequest } from '../core/snapshot-service.js';
import { SNAPSHOT_TYPES } from '../ovh/models.js';
import { sql } from './kysely.js';
import type { ApprovalRequestsTable, DatabaseSchema } from './schema.js';

type Row = Selectable<ApprovalRequestsTable>;

const SnapshotTypeSchema = z.enum(SNAPSHOT_TYPES);
const PreviewSchema: z.ZodType<ImpactPreview> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('snapshot'),
    name: z.string(),
    expiration: z.string().nullable(),
    customLeft: z.number(),
    enabled: z.array(SnapshotTypeSchema),
  }),
  z.object({
    kind: z.literal('frequency'),
    type: SnapshotTypeSchema,
    remaining: z.array(SnapshotTypeSchema),
    reachBeforeMs: z.number().nullable(),
    reachAfterMs: z.number().nullable(),
    customCount: z.number(),
  }),
]);
const VotesSchema = z.array(z.object({ userId: z.string(), at: z.number() }));
const GroupsSchema = z.array(z.string());
const JsonSchema = z.json();

/** Approval requests over Kysely (SQLite or PostgreSQL); every state change is a conditional UPDATE. */
export class ApprovalStore implements ApprovalRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async insert(request: ApprovalRequest): Promise<void> {
    await this.db
      .insertInto('approval_requests')
      .values({
        id: request.id,
        version: request.version,
        state: request.state,
        action: request.change.action,
        target_service: request.change.target.service,
        target_partition: request.change.target.partition,
        subject: subjectOf(request.change),
        requester_user_id: request.requester.userId,
        requester_channel_id: request.requester.channelId,
        reason: request.reason,
        preview: JSON.stringify(request.preview),
        content_hash: request.contentHash,
        config_version: request.configVersion,
        quorum: request.quorum,
        approver_groups: JSON.stringify(request.approverGroups),
        approvals: JSON.stringify(request.approvals),
        created_at: request.createdAt,
        updated_at: request.updatedAt,
        expires_at: request.expiresAt,
        decided_by: request.decidedBy,
        decision_reason: request.decisionReason,
        task_id: request.taskId,
        outcome_detail: storedDetail(request.outcomeDetail),
        audit_id: request.auditId,
        reply: JSON.stringify(request.reply),
        card_channel: request.card.channel,
        card_ts: request.card.ts,
        card_version: request.card.version,
        card_lease_until: null,
        reminders_sent: request.nudges?.reminders ?? 0,
        escalated: request.nudges?.escalated === true ? 1 : 0,
      })
      .execute();
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const row = await this.db.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRequest(row);
  }

  async update(
    id: string,
    expectedVersion: number,
    patch: ApprovalPatch,
    now: number,
  ): Promise<ApprovalRequest | undefined> {
    const result = await this.db
      .updateTable('approval_requests')
      .set({
        version: expectedVersion + 1,
        updated_at: now,
        ...(patch.state !== undefined && { state: patch.state }),
        ...(patch.approvals !== undefined && { approvals: JSON.stringify(patch.approvals) }),
        ...(patch.decidedBy !== undefined && { decided_by: patch.decidedBy }),
        ...(patch.decisionReason !== undefined && { decision_reason: patch.decisionReason }),
        ...(patch.taskId !== undefined && { task_id: patch.taskId }),
        ...(patch.outcomeDetail !== undefined && { outcome_detail: storedDetail(patch.outcomeDetail) }),
        ...(patch.auditId !== undefined && { audit_id: patch.auditId }),
      })
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return this.get(id);
  }

  async open(): Promise<ApprovalRequest[]> {
    const rows = await this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('state', 'in', [...OPEN_STATES])
      .orderBy('expires_at')
      .execute();
    return rows.map(toRequest);
  }

  /** One requester's requests that ended since `since`, newest first (the Home tab's recent outcomes). */
  async closedOf(userId: string, since: number, limit: number): Promise<ApprovalRequest[]> {
    const rows = await this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('requester_user_id', '=', userId)
      .where('state', 'not in', [...OPEN_STATES])
      .where('updated_at', '>=', since)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRequest);
  }

  async staleCards(): Promise<ApprovalRequest[]> {
    const rows = await this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where(sql<boolean>`card_version < version`)
      .orderBy('updated_at')
      .limit(100)
      .execute();
    return rows.map(toRequest);
  }

  async claimNudge(id: string, from: ApprovalNudgeState, to: ApprovalNudgeState): Promise<boolean> {
    const result = await this.db
      .updateTable('approval_requests')
      .set({ reminders_sent: to.reminders, escalated: to.escalated ? 1 : 0 })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('reminders_sent', '=', from.reminders)
      .where('escalated', '=', from.escalated ? 1 : 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async cardQueued(id: string, version: number): Promise<void> {
    await this.db
      .updateTable('approval_requests')
      .set({ card_version: sql<number>`case when card_version < ${version} then ${version} else card_version end` })
      .where('id', '=', id)
      .execute();
  }
}

export function subjectOf(change: ChangeRequest): string {
  return change.action === 'schedule.add' || change.action === 'schedule.remove' ? change.type : change.name;
}

/** A stored change back as data (approval requests and break-glass reviews keep it in these columns). */
export function toChange(
  row: Pick<Row, 'id' | 'action' | 'target_service' | 'target_partition' | 'subject'>,
): ChangeRequest {
  const target = { service: row.target_service, partition: row.target_partition };
  switch (row.action) {
    case 'snapshot.delete':
      return { action: 'snapshot.delete', target, name: row.subject };
    case 'snapshot.create':
      return { action: 'snapshot.create', target, name: row.subject };
    case 'schedule.remove':
      return { action: 'schedule.remove', target, type: SnapshotTypeSchema.parse(row.subject) };
    case 'schedule.add':
      return { action: 'schedule.add', target, type: SnapshotTypeSchema.parse(row.subject) };
    default:
      throw new Error(`${row.id}: unknown action ${row.action}`);
  }
}

/** The outcome detail as stored: the audit detail's JSON (bounded like it). */
function storedDetail(detail: ApprovalRequest['outcomeDetail']): string | null {
  return detail === null ? null : serializeAuditDetail(detail);
}

function toRequest(row: Row): ApprovalRequest {
  return {
    id: row.id,
    version: row.version,
    state: z.enum(APPROVAL_STATES).parse(row.state),
    change: toChange(row),
    requester: { userId: row.requester_user_id, channelId: row.requester_channel_id },
    reason: row.reason,
    preview: PreviewSchema.parse(JSON.parse(row.preview)),
    contentHash: row.content_hash,
    configVersion: row.config_version,
    quorum: row.quorum,
    approverGroups: GroupsSchema.parse(JSON.parse(row.approver_groups)),
    approvals: VotesSchema.parse(JSON.parse(row.approvals)),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: Number(row.expires_at),
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
    taskId: row.task_id === null ? null : Number(row.task_id),
    // Older rows hold plain text: read back as `text`.
    outcomeDetail: parseAuditDetail(row.outcome_detail) ?? null,
    auditId: row.audit_id,
    reply: JsonSchema.parse(JSON.parse(row.reply)),
    card: { channel: row.card_channel, ts: row.card_ts, version: row.card_version },
    nudges: { reminders: Number(row.reminders_sent), escalated: Number(row.escalated) === 1 },
  };
}
