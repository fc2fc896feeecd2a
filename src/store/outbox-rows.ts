/**
 * The delivery half of an outbox table (audit_records, notifications): the columns both share, under the same
 * names, and the queries of `OutboxRepository` over them. Every transition is a single UPDATE guarded by its
 * WHERE clause, so concurrent outboxes (replicas) need no locks beyond the row's own.
 *
 * A table adds what is its own: its lane column (the channel it posts to), what "undelivered" means for it, how
 * it orders rows created within one millisecond, and how it reads a row back (`read`).
 */
import type { Kysely, RawBuilder, Selectable } from 'kysely';
import type { OutboxDelivery, OutboxFailure, OutboxItem } from '../core/outbox.js';
import { sql } from './kysely.js';
import type { DatabaseSchema, OutboxColumns } from './schema.js';

export type OutboxTableName = 'audit_records' | 'notifications';

type OutboxSchema = Record<OutboxTableName, OutboxColumns>;

export interface OutboxTableSpec {
  table: OutboxTableName;
  /** The column naming the channel a row is posted to: its lane. */
  lane: string;
  /** True for a row that still owes Slack a version. */
  undelivered: RawBuilder<boolean>;
  /** Orders rows created within the same millisecond (a sequence number). */
  creationSeq: RawBuilder<number>;
}

/** The delivery state of a row, from its shared columns. */
export function deliveryState(row: Selectable<OutboxColumns>) {
  return {
    slackTs: row.slack_ts,
    deliveredVersion: row.delivered_version,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    postClaims: row.post_claims,
  };
}

/** When a row can next be claimed: its retry time, or later if another owner holds a lease on it. */
function claimableAt(owner: string) {
  return sql<number>`case when lease_until > next_attempt_at and lease_owner <> ${owner} then lease_until else next_attempt_at end`;
}

/** Releases the lease if it is `owner`'s (every right-hand side sees the row as it was before the UPDATE). */
function releasedBy(owner: string) {
  return {
    lease_owner: sql<string | null>`case when lease_owner = ${owner} then null else lease_owner end`,
    lease_until: sql<number | null>`case when lease_owner = ${owner} then null else lease_until end`,
  };
}

/** The `OutboxRepository` queries of one outbox table; the table's store adds its content and reads rows back. */
export abstract class OutboxRows<Item extends OutboxItem> {
  private readonly rows: Kysely<OutboxSchema>;
  private readonly spec: OutboxTableSpec;
  private readonly lane: RawBuilder<string>;

  constructor(db: Kysely<DatabaseSchema>, spec: OutboxTableSpec) {
    // Only the shared columns are touched here; each store's own queries keep their full row types.
    this.rows = db as unknown as Kysely<OutboxSchema>;
    this.spec = spec;
    this.lane = sql.ref<string>(spec.lane) as RawBuilder<string>;
  }

  /** The row with its delivery state; throws `OutboxRecordInvalidError` if it cannot be read. */
  abstract get(id: string): Promise<OutboxDelivery<Item> | undefined>;

  async dueChannels(now: number): Promise<string[]> {
    const rows = await this.rows
      .selectFrom(this.spec.table)
      .select(this.lane.as('lane'))
      .distinct()
      .where(this.spec.undelivered)
      .where('next_attempt_at', '<=', now)
      .execute();
    return rows.map((row) => row.lane);
  }

  async channelHeads(
    channel: string,
  ): Promise<Array<{ id: string; nextAttemptAt: number; leaseUntil: number | null }>> {
    const head = (posted: boolean) =>
      this.rows
        .selectFrom(this.spec.table)
        .select(['id', 'next_attempt_at', 'lease_until', 'created_at'])
        .select(this.spec.creationSeq.as('seq'))
        .where(this.lane, '=', channel)
        .where(this.spec.undelivered)
        .where('slack_ts', posted ? 'is not' : 'is', null)
        .orderBy('created_at')
        .orderBy(this.spec.creationSeq)
        .limit(1)
        .executeTakeFirst();
    const rows = (await Promise.all([head(false), head(true)])).filter((row) => row !== undefined);
    rows.sort((a, b) => a.created_at - b.created_at || Number(a.seq ?? 0) - Number(b.seq ?? 0));
    return rows.map((row) => ({ id: row.id, nextAttemptAt: row.next_attempt_at, leaseUntil: row.lease_until }));
  }

  async claim(id: string, owner: string, now: number, leaseUntil: number): Promise<OutboxDelivery<Item> | undefined> {
    const result = await this.rows
      .updateTable(this.spec.table)
      .set({
        lease_owner: owner,
        lease_until: leaseUntil,
        // Counted before the post goes out, so a post whose answer is lost (even with the process) is known.
        post_claims: sql<number>`case when slack_ts is null then post_claims + 1 else 0 end`,
      })
      .where('id', '=', id)
      .where(this.spec.undelivered)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    // Read under our lease: a version written since is the one this claim delivers.
    return this.get(id);
  }

  /** What `markDelivered` writes to the shared columns (a store may add its own). */
  deliveredChanges(owner: string, version: number, slackTs: string) {
    return {
      delivered_version: sql<number>`case when delivered_version < ${version} then ${version} else delivered_version end`,
      slack_ts: sql<string>`coalesce(slack_ts, ${slackTs})`,
      attempts: 0,
      last_error: null,
      ...releasedBy(owner),
    };
  }

  async markDelivered(id: string, owner: string, version: number, slackTs: string): Promise<void> {
    await this.rows
      .updateTable(this.spec.table)
      .set(this.deliveredChanges(owner, version, slackTs))
      .where('id', '=', id)
      .execute();
  }

  /** What `markFailed` writes to the shared columns (a store may add its own). */
  failedChanges(failure: OutboxFailure) {
    return {
      attempts: sql<number>`attempts + 1`,
      ...(failure.postedNothing === true && {
        post_claims: sql<number>`case when post_claims > 0 then post_claims - 1 else 0 end`,
      }),
      last_error: failure.error,
      next_attempt_at: failure.nextAttemptAt,
      lease_owner: null,
      lease_until: null,
    };
  }

  async markFailed(id: string, owner: string, failure: OutboxFailure): Promise<void> {
    await this.rows
      .updateTable(this.spec.table)
      .set(this.failedChanges(failure))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async nextWakeAt(now: number, owner: string): Promise<number | undefined> {
    const at = claimableAt(owner);
    const row = await this.rows
      .selectFrom(this.spec.table)
      .select((eb) => eb.fn.min<number | null>(at).as('at'))
      .where(this.spec.undelivered)
      .where(at, '>', now)
      .executeTakeFirst();
    return row?.at ?? undefined;
  }

  async latestTsBefore(channel: string, id: string): Promise<string | undefined> {
    const own = await this.rows
      .selectFrom(this.spec.table)
      .select('created_at')
      .select(this.spec.creationSeq.as('seq'))
      .where('id', '=', id)
      .executeTakeFirst();
    if (own === undefined) return undefined;
    const seq = Number(own.seq ?? 0);
    const row = await this.rows
      .selectFrom(this.spec.table)
      .select((eb) => eb.fn.max<string | null>('slack_ts').as('ts'))
      .where(this.lane, '=', channel)
      .where('slack_ts', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('created_at', '<', own.created_at),
          eb.and([eb('created_at', '=', own.created_at), eb(this.spec.creationSeq, '<', seq)]),
        ]),
      )
      .executeTakeFirst();
    // Slack ts are "seconds.micros" with ten digits of seconds (until 2286): text order is time order.
    return row?.ts ?? undefined;
  }

  async pending(): Promise<{ count: number; oldestUpdatedAt: number | undefined }> {
    const row = await this.rows
      .selectFrom(this.spec.table)
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min<number | null>('updated_at').as('oldest')])
      .where(this.spec.undelivered)
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), oldestUpdatedAt: row.oldest ?? undefined };
  }
}
