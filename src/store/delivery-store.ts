import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

/**
 * The Slack deliveries the bot has accepted, over Kysely (SQLite or PostgreSQL). Recording is one insert whose
 * primary key decides: of any number of processes recording the same key at once, exactly one is told it is
 * the first.
 */
export class DeliveryStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  /** Records a delivery; false if that key was recorded before (here, before a restart, or by another replica). */
  async record(delivery: { key: string; kind: string; at: number; keepUntil: number }): Promise<boolean> {
    const result = await this.db
      .insertInto('slack_deliveries')
      .values({ key: delivery.key, kind: delivery.kind, received_at: delivery.at, expires_at: delivery.keepUntil })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Deletes the records kept until before `now`; returns how many. */
  async prune(now: number): Promise<number> {
    const result = await this.db.deleteFrom('slack_deliveries').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
