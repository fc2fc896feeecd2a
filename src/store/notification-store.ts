/**
 * `NotificationRepository` over Kysely (SQLite or PostgreSQL). The outbox's transitions are the shared ones of
 * every outbox table (outbox-rows.ts); this store adds what notifications have of their own: idempotent writes
 * by key and version, a fallback channel, the channel Slack names for a DM, and dead letters.
 */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type {
  Notification,
  NotificationDelivery,
  NotificationInput,
  NotificationRepository,
} from '../core/notifications.js';
import { type OutboxFailure, OutboxRecordInvalidError } from '../core/outbox.js';
import { sql } from './kysely.js';
import { deliveryState, OutboxRows } from './outbox-rows.js';
import type { DatabaseSchema, NotificationsTable } from './schema.js';

type Row = Selectable<NotificationsTable>;

/**
 * Still owed: a version newer than the one Slack shows, and not given up; a thread reply only once the message
 * whose thread it is in is posted.
 */
const undelivered = sql<boolean>`delivered_version < version and dead_at is null and (thread_of is null or exists (select 1 from notifications as parent where parent.id = notifications.thread_of and parent.slack_ts is not null))`;
const creationSeq = sql<number>`seq`;
const JsonSchema = z.json();

export class NotificationStore extends OutboxRows<Notification> implements NotificationRepository {
  constructor(private readonly db: Kysely<DatabaseSchema>) {
    super(db, { table: 'notifications', lane: 'channel', undelivered, creationSeq });
  }

  async enqueue(notice: NotificationInput, now: number): Promise<void> {
    const message = JSON.stringify(notice.message);
    const inserted = await this.db
      .insertInto('notifications')
      .values({
        id: notice.key,
        channel: notice.channel,
        fallback_channel: notice.fallbackChannel ?? null,
        slack_channel: null,
        message,
        version: notice.version ?? 1,
        created_at: now,
        updated_at: now,
        slack_ts: notice.existingTs ?? null,
        delivered_version: 0,
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        lease_owner: null,
        lease_until: null,
        post_claims: 0,
        failing_since: null,
        dead_at: null,
        thread_of: notice.threadOf ?? null,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return;
    // The key exists: this version replaces a pending older one (never a newer one). A retry delay in
    // progress stays (Slack is still failing); a dead letter is owed again, with a new bound.
    const version = notice.version;
    await this.db
      .updateTable('notifications')
      .set({
        version: version ?? sql<number>`version + 1`,
        message,
        updated_at: now,
        failing_since: sql<number | null>`case when dead_at is null then failing_since else null end`,
        dead_at: null,
      })
      .where('id', '=', notice.key)
      .$if(version !== undefined, (update) => update.where('version', '<', version ?? 0))
      .execute();
  }

  override async get(key: string): Promise<NotificationDelivery | undefined> {
    const row = await this.db.selectFrom('notifications').selectAll().where('id', '=', key).executeTakeFirst();
    if (row === undefined) return undefined;
    const parent =
      row.thread_of === null
        ? undefined
        : await this.db
            .selectFrom('notifications')
            .select(['channel', 'slack_channel', 'slack_ts'])
            .where('id', '=', row.thread_of)
            .executeTakeFirst();
    const thread =
      parent?.slack_ts === null || parent === undefined
        ? undefined
        : { channel: parent.slack_channel ?? parent.channel, ts: parent.slack_ts };
    return toDelivery(row, thread);
  }

  async withdraw(keyPrefix: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('notifications')
      .set({ delivered_version: sql<number>`version`, last_error: 'withdrawn', updated_at: now })
      .where(sql<boolean>`substr(id, 1, ${keyPrefix.length}) = ${keyPrefix}`)
      .where('slack_ts', 'is', null)
      .where(sql<boolean>`delivered_version < version and dead_at is null`)
      .where('lease_owner', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  override async markDelivered(
    id: string,
    owner: string,
    version: number,
    slackTs: string,
    slackChannel?: string,
  ): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({
        ...this.deliveredChanges(owner, version, slackTs),
        ...(slackChannel !== undefined && { slack_channel: sql<string>`coalesce(slack_channel, ${slackChannel})` }),
        failing_since: null,
      })
      .where('id', '=', id)
      .execute();
  }

  override async markFailed(id: string, owner: string, failure: OutboxFailure): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({
        ...this.failedChanges(failure),
        ...(failure.at !== undefined && { failing_since: sql<number>`coalesce(failing_since, ${failure.at})` }),
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async markDead(id: string, owner: string, failure: { error: string; at: number }): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({
        attempts: sql<number>`attempts + 1`,
        last_error: failure.error,
        dead_at: failure.at,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async reroute(id: string, owner: string, channel: string, at: number): Promise<void> {
    // It joins the other channel's lane now, behind what is already owed there (created_at), and nothing of
    // it was posted anywhere (the channel refused every post, or a look-up found none).
    await this.db
      .updateTable('notifications')
      .set({
        channel,
        fallback_channel: null,
        created_at: at,
        next_attempt_at: at,
        post_claims: 0,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('slack_ts', 'is', null)
      .execute();
  }

  async deadLetters(): Promise<number> {
    const row = await this.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('dead_at', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}

function toDelivery(row: Row, thread?: { channel: string; ts: string }): NotificationDelivery {
  let message: z.infer<typeof JsonSchema>;
  try {
    message = JsonSchema.parse(JSON.parse(row.message));
  } catch {
    throw new OutboxRecordInvalidError(row.id, `notification ${row.id} cannot be read: its message is not JSON`);
  }
  return {
    record: {
      id: row.id,
      version: row.version,
      message,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      ...(thread !== undefined && { thread }),
    },
    channel: row.channel,
    slackChannel: row.slack_channel,
    fallbackChannel: row.fallback_channel,
    failingSince: row.failing_since,
    deadAt: row.dead_at,
    ...deliveryState(row),
  };
}
