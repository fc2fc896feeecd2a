import type { Kysely } from 'kysely';
import type { QuickSnapshotMemory } from '../core/quick-snapshots.js';
import type { DatabaseSchema } from './schema.js';

/** Snapshot creation times and last quick-snapshot targets, over Kysely (SQLite or PostgreSQL). */
export class QuickStore implements QuickSnapshotMemory {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async recordCreated(service: string, partition: string, name: string, at: number, by: string): Promise<void> {
    await this.db
      .insertInto('snapshot_records')
      .values({ service, partition, name, created_at: at, created_by: by })
      .onConflict((oc) => oc.columns(['service', 'partition', 'name']).doNothing())
      .execute();
  }

  async createdAt(service: string, partition: string, names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('snapshot_records')
      .select(['name', 'created_at'])
      .where('service', '=', service)
      .where('partition', '=', partition)
      .where('name', 'in', [...names])
      .execute();
    return new Map(rows.map((r) => [r.name, Number(r.created_at)]));
  }

  async lastTarget(scope: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('quick_targets')
      .select('target')
      .where('scope', '=', scope)
      .executeTakeFirst();
    return row?.target;
  }

  async rememberTarget(scope: string, target: string, at: number): Promise<void> {
    await this.db
      .insertInto('quick_targets')
      .values({ scope, target, updated_at: at })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ target, updated_at: at }))
      .execute();
  }
}
