import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/shared/config-error.js';
import { openDatabase, SQLITE_FILE_NAME } from '../../src/store/database.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nasha-db-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openDatabase (SQLite)', () => {
  it('creates the data directory and nasha.db in WAL mode with a busy timeout', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const database = await openDatabase({ dataDir });
    try {
      expect(database.dialect).toBe('sqlite');
      expect(existsSync(join(dataDir, SQLITE_FILE_NAME))).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(database.db);
      expect(busy.rows[0]?.timeout).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });

  it('applies the migrations once: opening again is a no-op, and the data stays', async () => {
    const first = await openDatabase({ dataDir: dir });
    const tables = await first.db.introspection.getTables();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['audit_records', 'audit_history', 'tracked_tasks']),
    );
    await first.db
      .insertInto('tracked_tasks')
      .values({
        service: 's',
        task_id: 1,
        audit_id: null,
        kind: 'k',
        reply: 'null',
        created_at: 1,
        deadline_at: 2,
        finished_at: null,
        outcome: null,
      })
      .execute();
    await first.close();
    await first.close(); // idempotent

    const second = await openDatabase({ dataDir: dir });
    try {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(second.db);
      expect(applied.rows.map((r) => r.name)).toEqual([
        '0001_audit_outbox_and_task_journal',
        '0002_approval_requests',
        '0003_quick_snapshots',
        '0004_audit_chain',
        '0005_quick_runs',
        '0006_audit_post_order',
        '0008_change_intents',
        '0009_slack_deliveries',
        '0010_notifications',
        '0011_protection',
        '0013_audit_export_cursors',
        '0014_approval_reminders',
        '0017_break_glass_reviews',
        '0018_protection_inventory',
        '0019_slack_deliveries_without_rowid',
      ]);
      const rows = await second.db.selectFrom('tracked_tasks').selectAll().execute();
      expect(rows).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('stores bigint epoch milliseconds and task ids as exact numbers', async () => {
    const database = await openDatabase({ dataDir: dir });
    try {
      const big = Date.UTC(2999, 11, 31, 23, 59, 59, 999);
      await database.db
        .insertInto('tracked_tasks')
        .values({
          service: 's',
          task_id: 2 ** 40 + 7,
          audit_id: null,
          kind: 'k',
          reply: '{}',
          created_at: big,
          deadline_at: big,
          finished_at: null,
          outcome: null,
        })
        .execute();
      const row = await database.db.selectFrom('tracked_tasks').selectAll().executeTakeFirstOrThrow();
      expect(row.task_id).toBe(2 ** 40 + 7);
      expect(row.created_at).toBe(big);
    } finally {
      await database.close();
    }
  });

  it('keeps the history append-order in seq, never reusing one', async () => {
    const database = await openDatabase({ dataDir: dir });
    try {
      const columns = await database.db.introspection.getTables();
      const history = columns.find((t) => t.name === 'audit_history');
      expect(history?.columns.find((c) => c.name === 'seq')?.isAutoIncrementing).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('reports an unusable data directory as a configuration error', async () => {
    const file = join(dir, 'a-file');
    await (await import('node:fs/promises')).writeFile(file, 'x');
    await expect(openDatabase({ dataDir: join(file, 'sub') })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('openDatabase (PostgreSQL selection)', () => {
  it('refuses a DATABASE_URL that is not postgres://', async () => {
    await expect(openDatabase({ databaseUrl: 'mysql://localhost/db' })).rejects.toBeInstanceOf(ConfigError);
    await expect(openDatabase({ databaseUrl: 'not a url' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('takes the PostgreSQL path for a postgres:// URL (no server here: the connection is refused)', async () => {
    const error = await openDatabase({ databaseUrl: 'postgres://nasha:secret@127.0.0.1:1/nasha' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(
      /PostgreSQL at 127\.0\.0\.1:1\/nasha \(DATABASE_URL\): .*ECONNREFUSED/,
    );
    expect(String((error as Error).message)).not.toContain('secret');
  });
});
