import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { type Database, openDatabase, SQLITE_WAL_BACKSTOP_PAGES } from '../../src/store/database.js';
import { startWalCheckpoints } from '../../src/store/wal-checkpoints.js';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);

describe('WAL checkpoints when Slack is quiet', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  async function sqliteWithRows(count: number): Promise<Database> {
    const opened = await openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'nasha-wal-')) });
    for (let i = 0; i < count; i++) {
      await opened.db
        .insertInto('slack_deliveries')
        .values({ key: `k${i}`, kind: 'command', received_at: T0, expires_at: T0 + 1_000 })
        .execute();
    }
    return opened;
  }

  it('SQLite checkpoints by itself only when the log is large; the bot copies it over when told', async () => {
    database = await sqliteWithRows(20);
    const level = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
    expect(level.rows[0]?.wal_autocheckpoint).toBe(SQLITE_WAL_BACKSTOP_PAGES);
    const first = database.sqliteCheckpoint?.();
    expect(first?.walFrames).toBeGreaterThan(0);
    expect(first?.checkpointed).toBe(first?.walFrames);
  });

  it('runs at a tick only while Slack is quiet, never inside a transaction, and a failure is a warning', async () => {
    database = await sqliteWithRows(5);
    const db = database;
    const ticks: (() => void)[] = [];
    let quiet = false;
    let checkpoints = 0;
    let fail = false;
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const stop = startWalCheckpoints({
      database: {
        sqliteCheckpoint: () => {
          checkpoints += 1;
          if (fail) throw new Error('disk I/O error');
          return db.sqliteCheckpoint?.();
        },
      },
      quiet: () => quiet,
      logger,
      every: (ms, tick) => {
        expect(ms).toBe(2_000);
        ticks.push(tick);
        return () => ticks.splice(0);
      },
    });
    const tick = () => ticks[0]?.();
    tick();
    expect(checkpoints).toBe(0);
    quiet = true;
    tick();
    expect(checkpoints).toBe(1);
    // Inside a transaction the checkpoint is not attempted (it would be refused): undefined, nothing copied.
    await db.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('slack_deliveries')
        .values({ key: 'x', kind: 'command', received_at: T0, expires_at: T0 })
        .execute();
      expect(db.sqliteCheckpoint?.()).toBeUndefined();
    });
    fail = true;
    expect(tick).not.toThrow();
    expect(lines.join('')).toContain('could not checkpoint the SQLite write-ahead log');
    stop();
    expect(ticks).toEqual([]);
  });

  it('does nothing on PostgreSQL (no checkpoint to run)', () => {
    const stop = startWalCheckpoints({
      database: {},
      quiet: () => true,
      logger: createLogger({ level: 'silent' }),
      every: () => {
        throw new Error('no timer on PostgreSQL');
      },
    });
    expect(stop).not.toThrow();
  });
});
