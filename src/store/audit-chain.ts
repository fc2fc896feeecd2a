/**
 * The audit hash chain. `audit_history` is append-only (one row per version of each audit record, ordered by
 * `seq`); each row stores `hash = sha256(canonical content + prev_hash)` and the previous row's hash, so
 * editing, deleting or reordering rows breaks the chain. One chain per installation (per database).
 *
 * Appends are serialised so two writers never link to the same predecessor: SQLite takes its write lock at
 * `BEGIN IMMEDIATE`, PostgreSQL an advisory transaction lock. Either is held until commit, so "read the head,
 * insert the next row" is atomic across connections, processes and replicas.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { PostgresIntrospector, sql } from './kysely.js';
import type { DialectName } from './migrations.js';
import type { AuditHistoryTable, DatabaseSchema } from './schema.js';

/** `prev_hash` of the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Names the serialisation below; a new one must get a new tag, never change this one. */
const FORMAT = 'nasha-audit-chain/1';

/** The content of a history row that the hash covers (everything but `seq` and the hashes themselves). */
export type ChainContent = Omit<Selectable<AuditHistoryTable>, 'seq' | 'prev_hash' | 'hash'>;

/**
 * PostgreSQL advisory lock key of the chain (any fixed int8; distinct from Kysely's migration lock). Advisory
 * locks are per database, like the chain.
 */
const CHAIN_LOCK_KEY = '7953757196787558497';

/**
 * sha256 (hex) of a row's content and its predecessor's hash. Canonical: a JSON array in a fixed order (JSON
 * strings and integers have one spelling each). Exactly the stored values: write them through `storableText`
 * first, so what is read back hashes the same.
 */
export function auditChainHash(row: ChainContent, prevHash: string): string {
  const canonical = JSON.stringify([
    FORMAT,
    prevHash,
    row.audit_id,
    row.version,
    row.recorded_at,
    row.actor_user_id,
    row.channel_id,
    row.action,
    row.target_service,
    row.target_partition,
    row.subject,
    row.outcome,
    row.task_id,
    row.detail,
    row.audit_channel,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * A text value as the audit store writes it: NUL and lone surrogates become U+FFFD. PostgreSQL refuses NUL
 * (the audit write would fail), and SQLite stores a lone surrogate as invalid UTF-8 that reads back as
 * different text (the row would then look edited). Same result on both databases.
 */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD').replace(/\p{Cs}/gu, '\uFFFD');
}

/** Which database a Kysely instance talks to (the store is handed a bare Kysely by the composition root). */
export function dialectOf(db: Kysely<DatabaseSchema>): DialectName {
  return db.introspection instanceof PostgresIntrospector ? 'postgres' : 'sqlite';
}

/**
 * Runs `work` in a transaction that holds the chain lock from its first statement to its commit, so every
 * `appendToChain` inside sees the true head. Appenders take no other lock before this one, so they cannot
 * deadlock with each other.
 */
export async function chainTransaction<T>(
  db: Kysely<DatabaseSchema>,
  dialect: DialectName,
  work: (trx: Kysely<DatabaseSchema>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx: Transaction<DatabaseSchema>) => {
      await sql`select pg_advisory_xact_lock(${sql.raw(CHAIN_LOCK_KEY)})`.execute(trx);
      return work(trx);
    });
  }
  // Kysely's SQLite transactions start DEFERRED; IMMEDIATE takes the write lock (waiting up to busy_timeout
  // for other connections) before anything is read. The connection is ours until the callback returns.
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Appends one history row linked to the current head; returns its hash. Call only inside `chainTransaction`.
 * The head is the last row that has a hash: rows written without one (a release before the chain, still
 * running during an upgrade) are reported by `verifyAuditChain` and skipped by the links.
 */
export async function appendToChain(trx: Kysely<DatabaseSchema>, row: ChainContent): Promise<string> {
  const head = await trx
    .selectFrom('audit_history')
    .select('hash')
    .where('hash', 'is not', null)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const prevHash = head?.hash ?? GENESIS_HASH;
  const hash = auditChainHash(row, prevHash);
  await trx
    .insertInto('audit_history')
    .values({ ...row, prev_hash: prevHash, hash })
    .execute();
  return hash;
}

export type AuditChainProblemKind =
  /** The row's content (or its prev_hash) does not match its hash: edited in place. */
  | 'edited'
  /** The row does not link to the row before it: rows deleted, inserted or reordered. */
  | 'broken-link'
  /** Sequence numbers are missing and the link across them is broken: rows were deleted. */
  | 'gap'
  /** The row has no hash: written outside the chain (an older release, or by hand). */
  | 'unhashed'
  /** The current audit record (what the message shows) does not match its latest history row. */
  | 'record-mismatch'
  /** History rows whose audit record is gone. */
  | 'record-missing'
  /** `--anchor`: no row has the hash a Slack message showed: the rows up to it are gone or rewritten. */
  | 'anchor-missing';

export interface AuditChainProblem {
  kind: AuditChainProblemKind;
  /** The history row concerned; undefined for problems about the records table or an anchor. */
  seq: number | undefined;
  auditId: string | undefined;
  version: number | undefined;
  message: string;
}

export interface AuditChainHead {
  seq: number;
  auditId: string;
  version: number;
  hash: string;
}

export interface AuditChainReport {
  /** No problem found. A deleted tail is invisible here: compare `head` with Slack (or pass an anchor). */
  ok: boolean;
  /** History rows walked. */
  rows: number;
  /** Distinct audit records in the history. */
  records: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** The last hashed row: its short hash is the one the newest audit message shows. */
  head: AuditChainHead | undefined;
  /** Problems in seq order (records-table and anchor problems last), at most `maxProblems`. */
  problems: AuditChainProblem[];
  /** Problems found beyond `maxProblems`. */
  problemsOmitted: number;
  /** Findings that are not tampering, e.g. a sequence number skipped with the links intact. */
  notes: string[];
  /** The anchor looked for, and the row carrying it (with how many rows follow it). */
  anchor: { prefix: string; found: (AuditChainHead & { rowsAfter: number }) | undefined } | undefined;
}

export interface VerifyAuditChainOptions {
  /** Rows read per query. */
  batchSize?: number;
  /** Problems kept in the report (the rest are only counted). */
  maxProblems?: number;
  /** A short hash seen in Slack (≥ 7 hex digits): it must be in the chain. */
  anchor?: string | undefined;
}

/** Hex digits needed for an anchor: fewer could match a row by chance. */
export const MIN_ANCHOR_LENGTH = 7;

/**
 * Walks the whole chain in seq order and checks every row's hash and link, then checks that each current
 * audit record matches its latest history row. Reads only.
 */
export async function verifyAuditChain(
  db: Kysely<DatabaseSchema>,
  options: VerifyAuditChainOptions = {},
): Promise<AuditChainReport> {
  const batchSize = options.batchSize ?? 1_000;
  const maxProblems = options.maxProblems ?? 1_000;
  const anchor = options.anchor?.trim().toLowerCase();
  if (anchor !== undefined && !new RegExp(`^[0-9a-f]{${MIN_ANCHOR_LENGTH},64}$`).test(anchor)) {
    throw new RangeError(`anchor must be ${MIN_ANCHOR_LENGTH} to 64 hex digits (the short hash of an audit message)`);
  }
  const problems: AuditChainProblem[] = [];
  let problemsOmitted = 0;
  const report = (problem: AuditChainProblem) => {
    if (problems.length < maxProblems) problems.push(problem);
    else problemsOmitted += 1;
  };
  const notes: string[] = [];

  let rows = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let head: AuditChainHead | undefined;
  let found: AuditChainHead | undefined;
  let rowsAfterFound = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const batch = await db
      .selectFrom('audit_history')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of batch) {
      rows += 1;
      if (found !== undefined) rowsAfterFound += 1;
      const at = { seq: row.seq, auditId: row.audit_id, version: row.version };
      const name = `seq ${row.seq} (audit ${row.audit_id} v${row.version})`;
      const skipped = lastSeq === undefined ? row.seq - 1 : row.seq - lastSeq - 1;
      firstSeq ??= row.seq;
      lastSeq = row.seq;
      if (row.hash === null || row.prev_hash === null) {
        report({ kind: 'unhashed', ...at, message: `${name} has no hash: it was written outside the chain` });
        continue;
      }
      const expectedPrev = head?.hash ?? GENESIS_HASH;
      const linked = row.prev_hash === expectedPrev;
      const before = head === undefined ? 'the start of the chain' : `seq ${head.seq}`;
      if (!linked && skipped > 0) {
        report({
          kind: 'gap',
          ...at,
          message: `${skipped === 1 ? '1 row' : `${skipped} rows`} missing before ${name}, and it does not link to ${before}: rows were deleted`,
        });
      } else if (!linked) {
        report({
          kind: 'broken-link',
          ...at,
          message: `${name} does not link to ${before}: rows were deleted, inserted or reordered`,
        });
      } else if (skipped > 0) {
        // PostgreSQL consumes an identity value even when the inserting transaction rolls back; the intact
        // link proves no row was removed.
        if (notes.length < maxProblems) {
          notes.push(
            `${name}: ${skipped} sequence number(s) skipped before it, but the link is intact (no row is missing)`,
          );
        }
      }
      const { seq: _seq, prev_hash: _prev, hash: _hash, ...content } = row;
      if (auditChainHash(content, row.prev_hash) !== row.hash) {
        report({ kind: 'edited', ...at, message: `${name} was edited: its content does not match its hash` });
      }
      head = { ...at, hash: row.hash };
      if (found === undefined && anchor !== undefined && row.hash.startsWith(anchor)) found = head;
    }
    const last = batch.at(-1);
    if (last === undefined || batch.length < batchSize) break;
    after = last.seq;
  }

  await checkRecords(db, batchSize, report);
  const records = await db
    .selectFrom('audit_history')
    .select((eb) => eb.fn.count<number>('audit_id').distinct().as('count'))
    .executeTakeFirstOrThrow();

  if (anchor !== undefined && found === undefined) {
    report({
      kind: 'anchor-missing',
      seq: undefined,
      auditId: undefined,
      version: undefined,
      message: `no row has the hash ${anchor}: the rows up to the message that showed it were deleted or rewritten`,
    });
  }
  return {
    ok: problems.length === 0 && problemsOmitted === 0,
    rows,
    records: Number(records.count),
    firstSeq,
    lastSeq,
    head,
    problems,
    problemsOmitted,
    notes,
    anchor:
      anchor === undefined ? undefined : { prefix: anchor, found: found && { ...found, rowsAfter: rowsAfterFound } },
  };
}

/** Each audit record (what Slack shows) against its latest history row, and history without a record. */
async function checkRecords(
  db: Kysely<DatabaseSchema>,
  batchSize: number,
  report: (problem: AuditChainProblem) => void,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const from = after;
    const batch = await db
      .selectFrom('audit_records as r')
      .leftJoin('audit_history as h', (join) =>
        join.onRef('h.audit_id', '=', 'r.id').onRef('h.version', '=', 'r.version'),
      )
      .select([
        'r.id',
        'r.version',
        'r.updated_at',
        'r.actor_user_id',
        'r.channel_id',
        'r.action',
        'r.target_service',
        'r.target_partition',
        'r.subject',
        'r.outcome',
        'r.task_id',
        'r.detail',
        'r.audit_channel',
        'h.seq as h_seq',
        'h.recorded_at as h_recorded_at',
        'h.actor_user_id as h_actor_user_id',
        'h.channel_id as h_channel_id',
        'h.action as h_action',
        'h.target_service as h_target_service',
        'h.target_partition as h_target_partition',
        'h.subject as h_subject',
        'h.outcome as h_outcome',
        'h.task_id as h_task_id',
        'h.detail as h_detail',
        'h.audit_channel as h_audit_channel',
      ])
      .$if(from !== undefined, (qb) => qb.where('r.id', '>', from ?? ''))
      .orderBy('r.id')
      .limit(batchSize)
      .execute();
    for (const r of batch) {
      const at = { seq: r.h_seq ?? undefined, auditId: r.id, version: r.version };
      if (r.h_seq === null) {
        report({
          kind: 'record-mismatch',
          ...at,
          message: `audit ${r.id} is at v${r.version}, which has no history row: the record was edited or that row deleted`,
        });
        continue;
      }
      const differs = (
        [
          ['updated_at', r.updated_at, r.h_recorded_at],
          ['actor_user_id', r.actor_user_id, r.h_actor_user_id],
          ['channel_id', r.channel_id, r.h_channel_id],
          ['action', r.action, r.h_action],
          ['target_service', r.target_service, r.h_target_service],
          ['target_partition', r.target_partition, r.h_target_partition],
          ['subject', r.subject, r.h_subject],
          ['outcome', r.outcome, r.h_outcome],
          ['task_id', r.task_id, r.h_task_id],
          ['detail', r.detail, r.h_detail],
          ['audit_channel', r.audit_channel, r.h_audit_channel],
        ] as const
      )
        .filter(([, current, recorded]) => current !== recorded)
        .map(([column]) => column);
      if (differs.length > 0) {
        report({
          kind: 'record-mismatch',
          ...at,
          message: `audit ${r.id} v${r.version} differs from its history row seq ${r.h_seq} in ${differs.join(', ')}: the record (what Slack shows) or that row was edited`,
        });
      }
    }
    const last = batch.at(-1);
    if (last === undefined || batch.length < batchSize) break;
    after = last.id;
  }

  const orphans = await db
    .selectFrom('audit_history as h')
    .select((eb) => ['h.audit_id', eb.fn.count<number>('h.seq').as('rows')])
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('audit_records as r').select('r.id').whereRef('r.id', '=', 'h.audit_id'))),
    )
    .groupBy('h.audit_id')
    .orderBy('h.audit_id')
    .execute();
  for (const orphan of orphans) {
    report({
      kind: 'record-missing',
      seq: undefined,
      auditId: orphan.audit_id,
      version: undefined,
      message: `audit ${orphan.audit_id} has ${Number(orphan.rows)} history row(s) but no record: the record was deleted`,
    });
  }
}
