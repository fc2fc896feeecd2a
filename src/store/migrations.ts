/**
 * Versioned schema migrations, applied at startup by Kysely's Migrator. They live in code (not files) so the
 * build needs no asset copying. Names sort in order: add `0002_…` after `0001_…`; never edit an applied one.
 * One migration serves both dialects through Kysely's schema builder; the branches: the identity column, and
 * 0019 (a SQLite-only table layout).
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { auditChainHash, type ChainContent, GENESIS_HASH } from './audit-chain.js';
import { sql } from './kysely.js';

export type DialectName = 'sqlite' | 'postgres';

function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001_audit_outbox_and_task_journal': {
      // `ifNotExists` everywhere: PostgreSQL runs this in a transaction, and SQLite does too (see database.ts),
      // but a re-run after a half-applied attempt must still succeed.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('audit_records')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('actor_user_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_service', 'text', (c) => c.notNull())
          .addColumn('target_partition', 'text')
          .addColumn('subject', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('task_id', 'bigint')
          .addColumn('detail', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('audit_channel', 'text', (c) => c.notNull())
          .addColumn('slack_ts', 'text')
          .addColumn('delivered_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .execute();
        // The outbox only ever scans undelivered rows; a partial index keeps that cheap however long the
        // history grows.
        await db.schema
          .createIndex('audit_records_pending')
          .ifNotExists()
          .on('audit_records')
          .columns(['next_attempt_at', 'created_at'])
          .where(sql<boolean>`delivered_version < version`)
          .execute();

        await db.schema
          .createTable('audit_history')
          .ifNotExists()
          .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
            // SQLite: AUTOINCREMENT never reuses a seq, which a hash chain relies on.
            dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
          )
          .addColumn('audit_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('recorded_at', 'bigint', (c) => c.notNull())
          .addColumn('actor_user_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_service', 'text', (c) => c.notNull())
          .addColumn('target_partition', 'text')
          .addColumn('subject', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('task_id', 'bigint')
          .addColumn('detail', 'text')
          .addColumn('audit_channel', 'text', (c) => c.notNull())
          .addUniqueConstraint('audit_history_audit_version', ['audit_id', 'version'])
          .execute();

        await db.schema
          .createTable('tracked_tasks')
          .ifNotExists()
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('task_id', 'bigint', (c) => c.notNull())
          .addColumn('audit_id', 'text')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('reply', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('deadline_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('outcome', 'text')
          .addPrimaryKeyConstraint('tracked_tasks_pk', ['service', 'task_id'])
          .execute();
        await db.schema
          .createIndex('tracked_tasks_unfinished')
          .ifNotExists()
          .on('tracked_tasks')
          .column('created_at')
          .where(sql<boolean>`finished_at is null`)
          .execute();
      },
    },
    '0002_approval_requests': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('approval_requests')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_service', 'text', (c) => c.notNull())
          .addColumn('target_partition', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('requester_user_id', 'text', (c) => c.notNull())
          .addColumn('requester_channel_id', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('preview', 'text', (c) => c.notNull())
          .addColumn('content_hash', 'text', (c) => c.notNull())
          .addColumn('config_version', 'text', (c) => c.notNull())
          .addColumn('quorum', 'integer', (c) => c.notNull())
          .addColumn('approver_groups', 'text', (c) => c.notNull())
          .addColumn('approvals', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decision_reason', 'text')
          .addColumn('task_id', 'bigint')
          .addColumn('outcome_detail', 'text')
          .addColumn('audit_id', 'text')
          .addColumn('reply', 'text', (c) => c.notNull())
          .addColumn('card_channel', 'text', (c) => c.notNull())
          .addColumn('card_ts', 'text')
          .addColumn('card_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('card_lease_until', 'bigint')
          .execute();
        // The sweeper looks only at open requests (pending expiry, executions to resume).
        await db.schema
          .createIndex('approval_requests_open')
          .ifNotExists()
          .on('approval_requests')
          .column('expires_at')
          .where(sql<boolean>`state in ('pending', 'approved', 'executing')`)
          .execute();
      },
    },
    '0003_quick_snapshots': {
      async up(db: Kysely<unknown>): Promise<void> {
        // OVH keeps only a name and an expiration per custom snapshot: the bot records when it made one,
        // to list a full partition's snapshots oldest first.
        await db.schema
          .createTable('snapshot_records')
          .ifNotExists()
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('partition', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('snapshot_records_pk', ['service', 'partition', 'name'])
          .execute();
        // The last quick-snapshot target per channel (or per user for the global shortcut).
        await db.schema
          .createTable('quick_targets')
          .ifNotExists()
          .addColumn('scope', 'text', (c) => c.primaryKey().notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0004_audit_chain': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Nullable: a release without the chain may still be writing during a rolling upgrade; its rows are
        // reported by `npm run audit:verify` instead of failing the audit write.
        await db.schema.alterTable('audit_history').addColumn('prev_hash', 'text').execute();
        await db.schema.alterTable('audit_history').addColumn('hash', 'text').execute();
        // The rows written before the chain existed are linked now, in seq order, so the chain starts complete.
        // This runs in the migration's transaction (see database.ts): no other writer appends meanwhile.
        type Row = ChainContent & { seq: number; prev_hash: string | null; hash: string | null };
        const history = db.withTables<{ audit_history: Row }>();
        let prevHash = GENESIS_HASH;
        let after = Number.MIN_SAFE_INTEGER;
        for (;;) {
          const batch = await history
            .selectFrom('audit_history')
            .selectAll()
            .where('seq', '>', after)
            .orderBy('seq')
            .limit(500)
            .execute();
          for (const { seq, prev_hash: _prev, hash: _hash, ...content } of batch) {
            const hash = auditChainHash(content, prevHash);
            await history
              .updateTable('audit_history')
              .set({ prev_hash: prevHash, hash })
              .where('seq', '=', seq)
              .execute();
            prevHash = hash;
            after = seq;
          }
          if (batch.length < 500) break;
        }
      },
    },
    '0005_quick_runs': {
      async up(db: Kysely<unknown>): Promise<void> {
        // A quick-snapshot run in progress, so that after a restart the bot follows its tasks again and
        // finishes its summary and audit record. `run` is the whole run as JSON (parsed with zod on read).
        await db.schema
          .createTable('quick_runs')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('run', 'text', (c) => c.notNull())
          .addColumn('audit_id', 'text', (c) => c.notNull())
          .addColumn('reply', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('quick_runs_unfinished')
          .ifNotExists()
          .on('quick_runs')
          .column('created_at')
          .where(sql<boolean>`finished_at is null`)
          .execute();
      },
    },
    '0006_audit_post_order': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Claims to post a record that Slack never confirmed: the outbox looks for a lost post before posting
        // again. Rows written before this migration count as never claimed.
        await db.schema
          .alterTable('audit_records')
          .addColumn('post_claims', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // Each channel's oldest undelivered rows, read on every outbox pass (posts go out in creation order).
        await db.schema
          .createIndex('audit_records_channel_pending')
          .ifNotExists()
          .on('audit_records')
          .columns(['audit_channel', 'created_at'])
          .where(sql<boolean>`delivered_version < version`)
          .execute();
      },
    },
    '0008_change_intents': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Write-ahead record of each change sent to OVH (see ChangeIntentsTable): a crash between the POST and
        // the task journal no longer leaves an audit record "Started" forever.
        await db.schema
          .createTable('change_intents')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('partition', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('audit_id', 'text')
          .addColumn('reply', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('sent_at', 'bigint')
          .addColumn('task_id', 'bigint')
          .addColumn('finished_at', 'bigint')
          .addColumn('outcome', 'text')
          .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .execute();
        // The sweep reads only open intents, by lease expiry.
        await db.schema
          .createIndex('change_intents_open')
          .ifNotExists()
          .on('change_intents')
          .column('lease_until')
          .where(sql<boolean>`finished_at is null`)
          .execute();
        await db.schema
          .createIndex('change_intents_audit')
          .ifNotExists()
          .on('change_intents')
          .column('audit_id')
          .execute();
      },
    },
    '0009_slack_deliveries': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Slack deliveries already run, so that a replayed or re-sent one is not run again (src/slack/replay-guard.ts).
        // The primary key is the lock: of two replicas inserting the same key, exactly one succeeds.
        await db.schema
          .createTable('slack_deliveries')
          .ifNotExists()
          .addColumn('key', 'text', (c) => c.primaryKey().notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('slack_deliveries_expires')
          .ifNotExists()
          .on('slack_deliveries')
          .column('expires_at')
          .execute();
      },
    },
    '0010_notifications': {
      async up(db: Kysely<unknown>): Promise<void> {
        // What the bot owes Slack besides audit records (NotificationsTable): approval cards, the requester's DM,
        // quick-run summaries, delivered by an outbox with the audit outbox's columns.
        await db.schema
          .createTable('notifications')
          .ifNotExists()
          .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
            dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
          )
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('fallback_channel', 'text')
          .addColumn('slack_channel', 'text')
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('slack_ts', 'text')
          .addColumn('delivered_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('post_claims', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('failing_since', 'bigint')
          .addColumn('dead_at', 'bigint')
          .execute();
        // The outbox reads only what is still owed, per channel in creation order.
        await db.schema
          .createIndex('notifications_pending')
          .ifNotExists()
          .on('notifications')
          .columns(['channel', 'created_at'])
          .where(sql<boolean>`delivered_version < version and dead_at is null`)
          .execute();
      },
    },
    '0011_protection': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Protection policies (src/core/protection): the partitions they cover and what the last scan saw, one row
        // per plan slot (its primary key is what makes a plan snapshot happen once across replicas), the alerts
        // with where their message is, and named leases (one scanner at a time).
        await db.schema
          .createTable('protection_partitions')
          .ifNotExists()
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('partition', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('scan', 'text')
          .addPrimaryKeyConstraint('protection_partitions_pk', ['service', 'partition'])
          .execute();
        await db.schema
          .createTable('protection_plan_runs')
          .ifNotExists()
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('partition', 'text', (c) => c.notNull())
          .addColumn('slot_at', 'bigint', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('audit_id', 'text')
          .addColumn('task_id', 'bigint')
          .addColumn('gap', 'text')
          .addColumn('existed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('late_ms', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('protection_plan_runs_pk', ['service', 'partition', 'slot_at'])
          .execute();
        await db.schema
          .createTable('protection_alerts')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('partition', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('problem', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('resolution', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('posted_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('message_ref', 'text')
          .addColumn('post_claims', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_error', 'text')
          .addColumn('audit_id', 'text')
          .addColumn('fixes', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('opened_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('resolved_at', 'bigint')
          .execute();
        // One open alert per partition and kind: of two replicas opening it at once, one insert wins.
        await db.schema
          .createIndex('protection_alerts_open')
          .ifNotExists()
          .on('protection_alerts')
          .columns(['service', 'partition', 'kind'])
          .unique()
          .where(sql<boolean>`state = 'open'`)
          .execute();
        await db.schema
          .createIndex('protection_alerts_undelivered')
          .ifNotExists()
          .on('protection_alerts')
          .column('updated_at')
          .where(sql<boolean>`posted_version < version`)
          .execute();
        await db.schema
          .createTable('protection_leases')
          .ifNotExists()
          .addColumn('name', 'text', (c) => c.primaryKey().notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('lease_until', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0013_audit_export_cursors': {
      async up(db: Kysely<unknown>): Promise<void> {
        // One row per SIEM export sink (audit.export): the audit history up to `delivered_seq` is delivered, in
        // seq order. The lease and retry columns are the audit outbox's, so the same outbox delivers exports.
        await db.schema
          .createTable('audit_export_cursors')
          .ifNotExists()
          .addColumn('sink', 'text', (c) => c.primaryKey().notNull())
          .addColumn('delivered_seq', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('claimed_seq', 'bigint')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('post_claims', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0014_approval_reminders': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Reminders and escalation of a waiting request, claimed with compare-and-set on these counters (one
        // replica sends each), and notifications posted in the thread of another notification's message.
        await db.schema
          .alterTable('approval_requests')
          .addColumn('reminders_sent', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable('approval_requests')
          .addColumn('escalated', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('notifications').addColumn('thread_of', 'text').execute();
      },
    },
    '0017_break_glass_reviews': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Break-glass changes awaiting an approver's acknowledgement: `status` moves pending → acknowledged with
        // a conditional UPDATE (one click, one replica records it).
        await db.schema
          .createTable('break_glass_reviews')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_service', 'text', (c) => c.notNull())
          .addColumn('target_partition', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('actor_user_id', 'text', (c) => c.notNull())
          .addColumn('actor_channel_id', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('approver_groups', 'text', (c) => c.notNull())
          .addColumn('audit_id', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('acknowledged_by', 'text')
          .addColumn('acknowledged_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('break_glass_reviews_pending')
          .ifNotExists()
          .on('break_glass_reviews')
          .column('created_at')
          .where(sql<boolean>`status = 'pending'`)
          .execute();
      },
    },
    '0018_protection_inventory': {
      async up(db: Kysely<unknown>): Promise<void> {
        // When protection last found which partitions its policies cover (one row, `covered`): before the first
        // time, "no covered partition" would be a guess, so `status` says the first look is not done yet.
        await db.schema
          .createTable('protection_inventory')
          .ifNotExists()
          .addColumn('name', 'text', (c) => c.primaryKey().notNull())
          .addColumn('taken_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0019_slack_deliveries_without_rowid': {
      async up(db: Kysely<unknown>): Promise<void> {
        // SQLite only: the ledger is written before every ack, and a rowid table with a text primary key and an
        // expiry index updates three B-trees per row. Keyed by the delivery alone (WITHOUT ROWID), one: about half
        // the insert (37 → 20 µs measured). The prune, once a minute, scans the few minutes of rows kept instead
        // of using the index (no slower: deleting the rows is its cost). PostgreSQL keeps its table.
        if (dialect !== 'sqlite') return;
        await db.schema
          .createTable('slack_deliveries_next')
          .addColumn('key', 'text', (c) => c.primaryKey().notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .modifyEnd(sql`without rowid`)
          .execute();
        await sql`insert into slack_deliveries_next (key, kind, received_at, expires_at)
          select key, kind, received_at, expires_at from slack_deliveries`.execute(db);
        await db.schema.dropTable('slack_deliveries').execute();
        await db.schema.alterTable('slack_deliveries_next').renameTo('slack_deliveries').execute();
      },
    },
  };
}

/** The in-code migration list for one dialect. */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
