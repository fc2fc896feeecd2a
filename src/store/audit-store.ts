/**
 * `AuditRepository` over Kysely (SQLite or PostgreSQL). The outbox's transitions are the shared ones of every
 * outbox table (outbox-rows.ts). Writes of a version also append to the audit hash chain (audit-chain.ts),
 * under the chain lock.
 *
 * Creation order is `created_at`, then, within a millisecond, the global seq of the record's first history
 * row; a channel's posts follow it (see `channelHeads`).
 */
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import {
  type AuditAction,
  AuditActionSchema,
  type AuditDelivery,
  AuditOutcomeSchema,
  type AuditRecord,
  AuditRecordInvalidError,
  type AuditRepository,
  type StoredAuditPatch,
} from '../core/audit.js';
import { auditChainColumns } from '../core/audit-export.js';
import { appendToChain, type ChainContent, chainTransaction, dialectOf, storableText } from './audit-chain.js';
import { sql } from './kysely.js';
import type { DialectName } from './migrations.js';
import { deliveryState, OutboxRows } from './outbox-rows.js';
import type { AuditHistoryTable, AuditRecordsTable, DatabaseSchema } from './schema.js';

type Row = Selectable<AuditRecordsTable>;

/** Row is undelivered: some version newer than the one Slack shows. */
const undelivered = sql<boolean>`delivered_version < version`;

/** The global seq of the record's first history row: creation order within one millisecond. */
const creationSeq = sql<number>`(select audit_history.seq from audit_history where audit_history.audit_id = audit_records.id and audit_history.version = 1)`;

/** The chain hash of the record's current version (its history row). */
function currentHash(eb: ExpressionBuilder<DatabaseSchema, 'audit_records'>) {
  return eb
    .selectFrom('audit_history')
    .select('audit_history.hash')
    .whereRef('audit_history.audit_id', '=', 'audit_records.id')
    .whereRef('audit_history.version', '=', 'audit_records.version')
    .as('hash');
}

export class AuditStore extends OutboxRows<AuditRecord> implements AuditRepository {
  private readonly dialect: DialectName;

  /** `dialect` picks how appends to the chain are serialised; found from `db` when not given. */
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    dialect?: DialectName,
  ) {
    super(db, { table: 'audit_records', lane: 'audit_channel', undelivered, creationSeq });
    this.dialect = dialect ?? dialectOf(db);
  }

  /** Changes made (succeeded or partly) per action, recorded in [from, to): the daily digest's counts. */
  async changeCounts(from: number, to: number): Promise<Array<{ action: AuditAction; count: number }>> {
    const rows = await this.db
      .selectFrom('audit_records')
      .select(['action', (eb) => eb.fn.countAll<string | number>().as('count')])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .where('outcome', 'in', ['succeeded', 'partial'])
      .groupBy('action')
      .execute();
    return rows.flatMap((row) => {
      const action = AuditActionSchema.safeParse(row.action);
      return action.success ? [{ action: action.data, count: Number(row.count) }] : [];
    });
  }

  async insert(input: Omit<AuditRecord, 'hash'>): Promise<AuditRecord> {
    const record = storable(input);
    return chainTransaction(this.db, this.dialect, async (trx) => {
      await trx
        .insertInto('audit_records')
        .values({
          ...content(record),
          id: record.id,
          created_at: record.createdAt,
          updated_at: record.updatedAt,
          version: record.version,
          slack_ts: null,
          delivered_version: 0,
          attempts: 0,
          next_attempt_at: record.updatedAt,
          last_error: null,
          lease_owner: null,
          lease_until: null,
          post_claims: 0,
        })
        .execute();
      const hash = await appendToChain(trx, historyRow(record));
      return { ...record, hash };
    });
  }

  async update(id: string, patch: StoredAuditPatch, now: number): Promise<AuditRecord | undefined> {
    return chainTransaction(this.db, this.dialect, async (trx) => {
      // Write first (no read-then-write): takes the row lock at once, so concurrent updates serialise
      // and each gets its own version. (The chain lock is already held: it is always taken first.)
      const row = await trx
        .updateTable('audit_records')
        .set((eb) => ({
          version: eb('version', '+', 1),
          updated_at: now,
          ...(patch.outcome === undefined ? {} : { outcome: patch.outcome }),
          ...(patch.taskId === undefined ? {} : { task_id: patch.taskId }),
          ...(patch.detail === undefined ? {} : { detail: patch.detail === null ? null : storableText(patch.detail) }),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const record = toRecord({ ...row, hash: null });
      const hash = await appendToChain(trx, historyRow(record));
      return { ...record, hash };
    });
  }

  override async get(id: string): Promise<AuditDelivery | undefined> {
    const row = await this.db
      .selectFrom('audit_records')
      .selectAll()
      .select(currentHash)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toDelivery(row);
  }

  /** Every stored version of a record, oldest first, with its global sequence number. */
  async history(id: string): Promise<Array<{ seq: number; record: AuditRecord }>> {
    const rows = await this.db
      .selectFrom('audit_history')
      .selectAll()
      .where('audit_id', '=', id)
      .orderBy('seq')
      .execute();
    const createdAt = rows[0]?.recorded_at ?? 0;
    return rows.map((row) => {
      const { chain: _chain, ...record } = historyToRecord(row, createdAt);
      return { seq: row.seq, record };
    });
  }
}

/** One history row (one version) as the record it was, with its place in the chain; `createdAt`: its v1's time. */
export function historyToRecord(row: Selectable<AuditHistoryTable>, createdAt: number): AuditRecord {
  return {
    ...toRecord({ ...row, id: row.audit_id, created_at: createdAt, updated_at: row.recorded_at }),
    chain: { seq: row.seq, prevHash: row.prev_hash },
  };
}

/** The record with its text as the database will return it (see `storableText`). */
function storable(record: Omit<AuditRecord, 'hash'>): Omit<AuditRecord, 'hash'> {
  const nullable = (value: string | null) => (value === null ? null : storableText(value));
  return {
    ...record,
    id: storableText(record.id),
    actorUserId: storableText(record.actorUserId),
    channelId: nullable(record.channelId),
    target:
      record.target.partition === undefined
        ? { service: storableText(record.target.service) }
        : { service: storableText(record.target.service), partition: storableText(record.target.partition) },
    subject: nullable(record.subject),
    detail: nullable(record.detail),
    auditChannel: storableText(record.auditChannel),
  };
}

/** The columns an audit record's content maps to (shared by the record and its history rows). */
function content(record: Omit<AuditRecord, 'hash'>) {
  const { audit_id: _id, version: _version, recorded_at: _at, ...columns } = auditChainColumns(record);
  return columns;
}

function historyRow(record: Omit<AuditRecord, 'hash'>): ChainContent {
  return auditChainColumns(record);
}

type ContentRow = Pick<Row, 'id' | 'created_at' | 'updated_at' | 'version' | keyof ReturnType<typeof content>> & {
  hash: string | null;
};

function toRecord(row: ContentRow): AuditRecord {
  const action = AuditActionSchema.safeParse(row.action);
  if (!action.success) throw new AuditRecordInvalidError(row.id, `unknown action ${JSON.stringify(row.action)}`);
  const outcome = AuditOutcomeSchema.safeParse(row.outcome);
  if (!outcome.success) throw new AuditRecordInvalidError(row.id, `unknown outcome ${JSON.stringify(row.outcome)}`);
  return {
    id: row.id,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    actorUserId: row.actor_user_id,
    channelId: row.channel_id,
    action: action.data,
    target:
      row.target_partition === null
        ? { service: row.target_service }
        : { service: row.target_service, partition: row.target_partition },
    subject: row.subject,
    outcome: outcome.data,
    taskId: row.task_id,
    detail: row.detail,
    auditChannel: row.audit_channel,
    hash: row.hash,
  };
}

function toDelivery(row: Row & { hash: string | null }): AuditDelivery {
  return { record: toRecord(row), channel: row.audit_channel, ...deliveryState(row) };
}
