import { sql } from 'kysely';
import { type Database, openDatabase } from '../../src/store/database.js';

/**
 * Tests run on SQLite in a temp dir. With NASHA_TEST_DATABASE_URL=postgres://… they run on that PostgreSQL
 * instead (one shared database: add --no-file-parallelism, and use a database you can wipe).
 */
const PG_URL = process.env['NASHA_TEST_DATABASE_URL'];

export const testDialect: Database['dialect'] = PG_URL === undefined ? 'sqlite' : 'postgres';

export function openTestDatabase(dir: string): Promise<Database> {
  return PG_URL === undefined ? openDatabase({ dataDir: dir }) : openDatabase({ databaseUrl: PG_URL });
}

/** Empties the shared PostgreSQL database before a test (a fresh SQLite dir needs nothing). */
export async function resetTestDatabase(): Promise<void> {
  if (PG_URL === undefined) return;
  const database = await openDatabase({ databaseUrl: PG_URL });
  try {
    await sql`truncate audit_records, audit_history, tracked_tasks restart identity`.execute(database.db);
  } finally {
    await database.close();
  }
}
