/**
 * `AuditRepository` over Kysely (SQLite or PostgreSQL). Every outbox transition is a single UPDATE guarded
 * by its WHERE clause, so concurrent outboxes (replicas) need no locks beyond the row's own. Writes of a
 * version also append to the audit hash chain (audit-chain.ts), under the chain lock.
 *
 * Creation order is `created_at`, then, within a millisecond, the global seq of the record's first history
 * row; a channel's posts follow it (see `channelHeads`).
 */
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import {
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
import type { DialectName } from './migrations.js';
import type { AuditHistoryTable, AuditRecordsTable, DatabaseSchema } from './schema.js';

type Row = Selectable<AuditRecordsTable>;

/** Row is undelivered: some version newer than the one Slack shows. */
const undelivered = sql<boolean>`delivered_version < version`;

/** The global seq of the record's first history row: creation order within one millisecond. */
function creationSeq(eb: ExpressionBuilder<DatabaseSchema, 'audit_records'>) {
  return eb
    .selectFrom('audit_history')
    .select('audit_history.seq')
    .whereRef('audit_history.audit_id', '=', 'audit_records.id')
    .where('audit_history.version', '=', 1);
}
/** When a row can next be claimed: its retry time, or later if another owner holds a lease on it. */
function claimableAt(owner: string) {
  return sql<number>`case when lease_until > next_attempt_at and lease_owner <> ${owner} then lease_until else next_attempt_at end`;
}

/** The chain hash of the record's current version (its history row). */
function currentHash(eb: ExpressionBuilder<DatabaseSchema, 'audit_records'>) {
  return eb
    .selectFrom('audit_history')
    .select('audit_history.hash')
    .whereRef('audit_history.audit_id', '=', 'audit_records.id')
    .whereRef('audit_history.version', '=', 'audit_records.version')
    .as('hash');
}

export class AuditStore implements AuditRepository {
  private readonly dialect: DialectName;

  /** `dialect` picks how appends to the chain are serialised; found from `db` when not given. */
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    dialect?: DialectName,
  ) {
    this.dialect = dialect ?? dialectOf(db);
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

  async get(id: string): Promise<AuditDelivery | undefined> {
    const row = await this.db
      .selectFrom('audit_records')
      .selectAll()
      .select(currentHash)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toDelivery(row);
  }

  async dueChannels(now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('audit_records')
      .select('audit_channel')
      .distinct()
      .where(undelivered)
      .where('next_attempt_at', '<=', now)
      .execute();
    return rows.map((row) => row.audit_channel);
  }

  async channelHeads(
    channel: string,
  ): Promise<Array<{ id: string; nextAttemptAt: number; leaseUntil: number | null }>> {
    const head = (posted: boolean) =>
      this.db
        .selectFrom('audit_records')
        .select(['id', 'next_attempt_at', 'lease_until', 'created_at'])
        .select((eb) => creationSeq(eb).as('seq'))
        .where('audit_channel', '=', channel)
        .where(undelivered)
        .where('slack_ts', posted ? 'is not' : 'is', null)
        .orderBy('created_at')
        .orderBy((eb) => creationSeq(eb))
        .limit(1)
        .executeTakeFirst();
    const rows = (await Promise.all([head(false), head(true)])).filter((row) => row !== undefined);
    rows.sort((a, b) => a.created_at - b.created_at || Number(a.seq ?? 0) - Number(b.seq ?? 0));
    return rows.map((row) => ({ id: row.id, nextAttemptAt: row.next_attempt_at, leaseUntil: row.lease_until }));
  }

  async claim(id: string, owner: string, now: number, leaseUntil: number): Promise<AuditDelivery | undefined> {
    const row = await this.db
      .updateTable('audit_records')
      .set((eb) => ({
        lease_owner: owner,
        lease_until: leaseUntil,
        // Counted before the post goes out, so a post whose answer is lost (even with the process) is known.
        post_claims: eb
          .case()
          .when('slack_ts', 'is', null)
          .then(eb('post_claims', '+', 1))
          .else(0)
          .end(),
      }))
      .where('id', '=', id)
      .where(undelivered)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .returning(currentHash)
      .executeTakeFirst();
    return row === undefined ? undefined : toDelivery(row);
  }

  async markDelivered(id: string, owner: string, version: number, slackTs: string): Promise<void> {
    // Every right-hand side sees the row as it was before this UPDATE, in both dialects.
    await this.db
      .updateTable('audit_records')
      .set((eb) => ({
        delivered_version: eb
          .case()
          .when('delivered_version', '<', version)
          .then(version)
          .else(eb.ref('delivered_version'))
          .end(),
        slack_ts: eb.fn.coalesce('slack_ts', eb.val(slackTs)),
        attempts: 0,
        last_error: null,
        lease_owner: eb.case().when('lease_owner', '=', owner).then(null).else(eb.ref('lease_owner')).end(),
        lease_until: eb.case().when('lease_owner', '=', owner).then(null).else(eb.ref('lease_until')).end(),
      }))
      .where('id', '=', id)
      .execute();
  }

  async markFailed(
    id: string,
    owner: string,
    failure: { error: string; nextAttemptAt: number; postedNothing?: boolean },
  ): Promise<void> {
    await this.db
      .updateTable('audit_records')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        ...(failure.postedNothing === true && {
          post_claims: eb
            .case()
            .when('post_claims', '>', 0)
            .then(eb('post_claims', '-', 1))
            .else(0)
            .end(),
        }),
        last_error: failure.error,
        next_attempt_at: failure.nextAttemptAt,
        lease_owner: null,
        lease_until: null,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async nextWakeAt(now: number, owner: string): Promise<number | undefined> {
    const at = claimableAt(owner);
    const row = await this.db
      .selectFrom('audit_records')
      .select((eb) => eb.fn.min<number | null>(at).as('at'))
      .where(undelivered)
      .where(at, '>', now)
      .executeTakeFirst();
    return row?.at ?? undefined;
  }

  async latestTsBefore(channel: string, id: string): Promise<string | undefined> {
    const own = await this.db
      .selectFrom('audit_records')
      .select('created_at')
      .select((eb) => creationSeq(eb).as('seq'))
      .where('id', '=', id)
      .executeTakeFirst();
    if (own === undefined) return undefined;
    const seq = Number(own.seq ?? 0);
    const row = await this.db
      .selectFrom('audit_records')
      .select((eb) => eb.fn.max<string | null>('slack_ts').as('ts'))
      .where('audit_channel', '=', channel)
      .where('slack_ts', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('created_at', '<', own.created_at),
          eb.and([eb('created_at', '=', own.created_at), eb(creationSeq(eb), '<', seq)]),
        ]),
      )
      .executeTakeFirst();
    // Slack ts are "seconds.micros" with ten digits of seconds (until 2286): text order is time order.
    return row?.ts ?? undefined;
  }

  async pending(): Promise<{ count: number; oldestUpdatedAt: number | undefined }> {
    const row = await this.db
      .selectFrom('audit_records')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min<number | null>('updated_at').as('oldest')])
      .where(undelivered)
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), oldestUpdatedAt: row.oldest ?? undefined };
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
  return {
    record: toRecord(row),
    slackTs: row.slack_ts,
    deliveredVersion: row.delivered_version,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    postClaims: row.post_claims,
  };
}
