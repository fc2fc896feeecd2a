import type BetterSqlite3 from 'better-sqlite3';
import { type Database, withoutPowerLossDurability } from './database.js';

/**
 * The Slack deliveries the bot has accepted, over Kysely (SQLite or PostgreSQL). Recording is one insert whose
 * primary key decides: of any number of processes recording the same key at once, exactly one is told it is
 * the first.
 *
 * Written for every request that may change something (a slash command's just after its ack, an interaction's
 * before it), so without an fsync per row on SQLite
 * (`withoutPowerLossDurability`; there through an insert prepared once, on the file's connection): a crash or
 * restart of the process loses nothing; a power loss (or an OS crash) at most the rows written since the last
 * durable commit. That cannot re-open a change: before anything is sent to OVH, the change desk commits its
 * write-ahead intent (an approval, its request) with an fsync, which makes the row, earlier in the same
 * write-ahead log, durable too. What a power loss can drop is the row of a request received in its last moments
 * that had sent nothing to OVH yet: a copy of that request, sent within its signature's 5 minutes once the
 * machine is back up, would be run, and its change made once (a read shown twice).
 */
export class DeliveryStore {
  /** SQLite: the insert of `record`, prepared once on the file's connection. */
  private sqliteInsert: BetterSqlite3.Statement<[string, string, number, number]> | undefined;

  constructor(private readonly database: Pick<Database, 'db' | 'dialect' | 'sqliteWithoutPowerLossDurability'>) {}

  /** Records a delivery; false if that key was recorded before (here, before a restart, or by another replica). */
  record(delivery: { key: string; kind: string; at: number; keepUntil: number }): Promise<boolean> {
    const sqlite = this.database.sqliteWithoutPowerLossDurability;
    if (sqlite !== undefined) {
      return sqlite((connection) => {
        this.sqliteInsert ??= connection.prepare(
          'insert into slack_deliveries (key, kind, received_at, expires_at) values (?, ?, ?, ?) on conflict (key) do nothing',
        );
        return this.sqliteInsert.run(delivery.key, delivery.kind, delivery.at, delivery.keepUntil).changes > 0;
      });
    }
    return withoutPowerLossDurability(this.database, async (db) => {
      const result = await db
        .insertInto('slack_deliveries')
        .values({ key: delivery.key, kind: delivery.kind, received_at: delivery.at, expires_at: delivery.keepUntil })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  /** The keys kept until `now` or later, oldest first (read once, when a process starts). */
  async keptKeys(now: number): Promise<{ key: string; keepUntil: number }[]> {
    const rows = await this.database.db
      .selectFrom('slack_deliveries')
      .select(['key', 'expires_at'])
      .where('expires_at', '>=', now)
      .orderBy('expires_at')
      .execute();
    return rows.map((row) => ({ key: row.key, keepUntil: Number(row.expires_at) }));
  }

  /** Deletes the records kept until before `now`; returns how many. */
  prune(now: number): Promise<number> {
    return withoutPowerLossDurability(this.database, async (db) => {
      const result = await db.deleteFrom('slack_deliveries').where('expires_at', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
