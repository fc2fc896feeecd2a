import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { BREAK_GLASS_STATUSES, type BreakGlassRepository, type BreakGlassReview } from '../core/break-glass.js';
import { subjectOf, toChange } from './approval-store.js';
import type { BreakGlassReviewsTable, DatabaseSchema } from './schema.js';

type Row = Selectable<BreakGlassReviewsTable>;

const GroupsSchema = z.array(z.string());

/** Break-glass reviews over Kysely (SQLite or PostgreSQL); the acknowledgement is a conditional UPDATE. */
export class BreakGlassStore implements BreakGlassRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async insert(review: BreakGlassReview): Promise<void> {
    await this.db
      .insertInto('break_glass_reviews')
      .values({
        id: review.id,
        status: review.status,
        action: review.change.action,
        target_service: review.change.target.service,
        target_partition: review.change.target.partition,
        subject: subjectOf(review.change),
        actor_user_id: review.actor.userId,
        actor_channel_id: review.actor.channelId,
        reason: review.reason,
        group_id: review.group,
        approver_groups: JSON.stringify(review.approverGroups),
        audit_id: review.auditId,
        channel: review.channel,
        created_at: review.createdAt,
        acknowledged_by: review.acknowledgedBy,
        acknowledged_at: review.acknowledgedAt,
      })
      .execute();
  }

  async get(id: string): Promise<BreakGlassReview | undefined> {
    const row = await this.db.selectFrom('break_glass_reviews').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toReview(row);
  }

  async acknowledge(id: string, userId: string, at: number): Promise<BreakGlassReview | undefined> {
    const result = await this.db
      .updateTable('break_glass_reviews')
      .set({ status: 'acknowledged', acknowledged_by: userId, acknowledged_at: at })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return this.get(id);
  }

  async unacknowledged(): Promise<BreakGlassReview[]> {
    const rows = await this.db
      .selectFrom('break_glass_reviews')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toReview);
  }

  async since(since: number): Promise<BreakGlassReview[]> {
    const rows = await this.db
      .selectFrom('break_glass_reviews')
      .selectAll()
      .where('created_at', '>=', since)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toReview);
  }
}

function toReview(row: Row): BreakGlassReview {
  return {
    id: row.id,
    status: z.enum(BREAK_GLASS_STATUSES).parse(row.status),
    change: toChange(row),
    actor: { userId: row.actor_user_id, channelId: row.actor_channel_id },
    reason: row.reason,
    group: row.group_id,
    approverGroups: GroupsSchema.parse(JSON.parse(row.approver_groups)),
    auditId: row.audit_id,
    channel: row.channel,
    createdAt: Number(row.created_at),
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at === null ? null : Number(row.acknowledged_at),
  };
}
