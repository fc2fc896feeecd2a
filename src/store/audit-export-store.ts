/**
 * The SIEM export's side of the audit outbox (`AuditDeliveryRepository`): one cursor per sink over the audit
 * history, so every version of every record (every chain row) is delivered to every sink, in seq order, once. A
 * "channel" of the outbox is a sink, and its one head is the sink's cursor: the next history row. Leases and
 * retries work as for Slack (compare-and-set UPDATEs), so replicas share the export safely and an outage of a
 * sink only delays its rows. A sink added to the configuration starts from the first row of the chain.
 */
import type { Kysely } from 'kysely';
import type { AuditDelivery, AuditDeliveryRepository } from '../core/audit.js';
import { historyToRecord } from './audit-store.js';
import { sql } from './kysely.js';
import type { DatabaseSchema } from './schema.js';

type Db = Kysely<DatabaseSchema>;

export class AuditExportStore implements AuditDeliveryRepository {
  constructor(
    private readonly db: Db,
    private readonly sinks: readonly string[],
  ) {}

  /** Creates the cursors of sinks seen for the first time (at the start of the chain); idempotent across replicas. */
  async ensureCursors(): Promise<void> {
    for (const sink of this.sinks) {
      await this.db
        .insertInto('audit_export_cursors')
        .values({ sink, claimed_seq: null, last_error: null, lease_owner: null, lease_until: null })
        .onConflict((oc) => oc.column('sink').doNothing())
        .execute();
    }
  }

  /** Cursors of the configured sinks that have a history row beyond them. */
  private behind() {
    return this.db
      .selectFrom('audit_export_cursors as c')
      .where('c.sink', 'in', this.sinks.length > 0 ? [...this.sinks] : [''])
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('audit_history as h').select('h.seq').whereRef('h.seq', '>', 'c.delivered_seq')),
      );
  }

  async dueChannels(now: number): Promise<string[]> {
    const rows = await this.behind().select('c.sink').where('c.next_attempt_at', '<=', now).execute();
    return rows.map((row) => row.sink);
  }

  async channelHeads(
    channel: string,
  ): Promise<Array<{ id: string; nextAttemptAt: number; leaseUntil: number | null }>> {
    const row = await this.behind()
      .select(['c.sink', 'c.next_attempt_at', 'c.lease_until'])
      .where('c.sink', '=', channel)
      .executeTakeFirst();
    return row === undefined ? [] : [{ id: row.sink, nextAttemptAt: row.next_attempt_at, leaseUntil: row.lease_until }];
  }

  async claim(id: string, owner: string, now: number, leaseUntil: number): Promise<AuditDelivery | undefined> {
    const cursor = await this.db
      .selectFrom('audit_export_cursors')
      .selectAll()
      .where('sink', '=', id)
      .executeTakeFirst();
    if (cursor === undefined) return undefined;
    const next = await this.db
      .selectFrom('audit_history')
      .selectAll()
      .where('seq', '>', cursor.delivered_seq)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    if (next === undefined) return undefined;
    // The lease first (guarded by the cursor as read, so two outboxes never take the same row), then the row.
    const claimed = await this.db
      .updateTable('audit_export_cursors')
      .set((eb) => ({
        lease_owner: owner,
        lease_until: leaseUntil,
        claimed_seq: next.seq,
        post_claims: eb('post_claims', '+', 1),
      }))
      .where('sink', '=', id)
      .where('delivered_seq', '=', cursor.delivered_seq)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    if (claimed === undefined) return undefined;
    const first = await this.db
      .selectFrom('audit_history')
      .select('recorded_at')
      .where('audit_id', '=', next.audit_id)
      .where('version', '=', 1)
      .executeTakeFirst();
    return {
      record: historyToRecord(next, first?.recorded_at ?? next.recorded_at),
      // The sink is the lane: one sink's rows go out in chain order, one at a time.
      channel: id,
      slackTs: null,
      deliveredVersion: 0,
      attempts: claimed.attempts,
      nextAttemptAt: claimed.next_attempt_at,
      lastError: claimed.last_error,
      postClaims: claimed.post_claims,
    };
  }

  async markDelivered(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('audit_export_cursors')
      .set((eb) => ({
        delivered_seq: eb.fn.coalesce('claimed_seq', eb.ref('delivered_seq')),
        claimed_seq: null,
        attempts: 0,
        last_error: null,
        post_claims: 0,
        lease_owner: null,
        lease_until: null,
      }))
      .where('sink', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async markFailed(
    id: string,
    owner: string,
    failure: { error: string; nextAttemptAt: number; postedNothing?: boolean },
  ): Promise<void> {
    await this.db
      .updateTable('audit_export_cursors')
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
      .where('sink', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Exports keep no message ids: a lost delivery is looked for by its idempotency key (the sink's `find`). */
  async latestTsBefore(): Promise<string | undefined> {
    return undefined;
  }

  async nextWakeAt(now: number, owner: string): Promise<number | undefined> {
    const at = sql<number>`case when c.lease_until > c.next_attempt_at and c.lease_owner <> ${owner} then c.lease_until else c.next_attempt_at end`;
    const row = await this.behind()
      .select((eb) => eb.fn.min<number | null>(at).as('at'))
      .where(at, '>', now)
      .executeTakeFirst();
    return row?.at ?? undefined;
  }

  /** History rows not yet delivered, summed over the sinks, and the oldest of them. */
  async pending(): Promise<{ count: number; oldestUpdatedAt: number | undefined }> {
    const row = await this.db
      .selectFrom('audit_export_cursors as c')
      .innerJoin('audit_history as h', (join) => join.onRef('h.seq', '>', 'c.delivered_seq'))
      .where('c.sink', 'in', this.sinks.length > 0 ? [...this.sinks] : [''])
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min<number | null>('h.recorded_at').as('oldest')])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), oldestUpdatedAt: row.oldest ?? undefined };
  }
}
