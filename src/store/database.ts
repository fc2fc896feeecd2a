/**
 * Opens the bot's database: an embedded SQLite file (no setup) or PostgreSQL (replicas sharing state), behind
 * one Kysely code path. Migrations are applied before the handle is returned.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { CustomTypesConfig } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError } from '../shared/config-error.js';
import { diagnoseConnection, errorCode, innermostMessage, problemLine, StartupError } from '../shared/startup-error.js';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from './kysely.js';
import { type DialectName, migrationProvider } from './migrations.js';
import type { DatabaseSchema } from './schema.js';

export type { DialectName } from './migrations.js';

export type DatabaseOptions = { dataDir: string } | { databaseUrl: string };

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DialectName;
  /**
   * SQLite only: withoutPowerLossDurability on the file's connection itself, with the pragmas prepared once, at
   * once when no transaction is open on it, otherwise once Kysely's connection is free (after that transaction).
   * For the one write on every Slack request's path (src/store/delivery-store.ts), whose insert is prepared once
   * too: through Kysely, compiling and preparing the insert and the two pragmas around it cost more than running
   * them, and waiting for Kysely's connection lock about as much again.
   */
  readonly sqliteWithoutPowerLossDurability?:
    | (<T>(work: (connection: BetterSqlite3.Database) => T) => Promise<T>)
    | undefined;
  /**
   * SQLite only: copies the write-ahead log into the database file (a PASSIVE checkpoint: it waits for no one)
   * when no transaction is open on the connection; the frames then in the log, and how many were copied.
   * SQLite's own checkpoint runs in the commit that fills the log to SQLITE_WAL_BACKSTOP_PAGES; the bot runs
   * this one when Slack is quiet (src/store/wal-checkpoints.ts) so that a commit on a request's path (the
   * delivery ledger's) does not stop the event loop for the milliseconds a checkpoint and its fsyncs take.
   */
  readonly sqliteCheckpoint?: (() => { walFrames: number; checkpointed: number } | undefined) | undefined;
  /** Closes the file or drains the pool. Idempotent. */
  close(): Promise<void>;
}

/** The SQLite file inside the data directory. */
export const SQLITE_FILE_NAME = 'nasha.db';

/** How long a SQLite statement waits for another connection's write lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** FULL: a committed audit record survives a power loss, not only a process crash. Our write rate is tiny. */
const SQLITE_SYNCHRONOUS = 'FULL';

/**
 * The log size (pages of 4 KiB: about 31 MiB) at which a commit checkpoints by itself: a backstop for when the bot's
 * own checkpoints (`sqliteCheckpoint`) do not run, like SQLite's default of 1,000 pages but rarer.
 */
export const SQLITE_WAL_BACKSTOP_PAGES = 8_000;

/** The row `pragma wal_checkpoint` answers. */
const CheckpointSchema = z.object({ busy: z.number(), log: z.number(), checkpointed: z.number() });

export async function openDatabase(options: DatabaseOptions, logger?: Logger): Promise<Database> {
  return 'databaseUrl' in options ? openPostgres(options.databaseUrl, logger) : openSqlite(options.dataDir, logger);
}

async function openSqlite(dataDir: string, logger: Logger | undefined): Promise<Database> {
  const file = join(dataDir, SQLITE_FILE_NAME);
  let sqlite: BetterSqlite3.Database;
  try {
    await mkdir(dataDir, { recursive: true });
    // Loaded lazily so a PostgreSQL deployment never needs the native module.
    const { default: SQLite } = await import('better-sqlite3');
    sqlite = new SQLite(file);
  } catch (error) {
    throw new ConfigError([`NASHA_DATA_DIR: cannot open ${file} (${message(error)}); use a writable directory`]);
  }
  try {
    // busy_timeout first, so switching to WAL waits for another process instead of failing.
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') logger?.warn({ file, mode }, 'SQLite could not switch to WAL mode (network filesystem?)');
    sqlite.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
    sqlite.pragma(`wal_autocheckpoint = ${SQLITE_WAL_BACKSTOP_PAGES}`);
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw sqliteStartupError(error, file);
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Kysely runs SQLite migrations outside a transaction; one IMMEDIATE transaction around the whole run
  // makes them atomic and serialises two processes starting on the same file.
  try {
    await migrate(db, 'sqlite', logger, {
      begin: () => sqlite.exec('BEGIN IMMEDIATE'),
      commit: () => sqlite.exec('COMMIT'),
      rollback: () => {
        if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      },
    });
  } catch (error) {
    throw sqliteStartupError(error, file);
  }
  logger?.info({ file }, 'SQLite database ready');
  const unsynced = sqlite.prepare('pragma synchronous = normal');
  const usual = sqlite.prepare(`pragma synchronous = ${SQLITE_SYNCHRONOUS}`);
  const unsyncedRun = <T>(work: (connection: BetterSqlite3.Database) => T): T => {
    unsynced.run();
    try {
      return work(sqlite);
    } finally {
      usual.run();
    }
  };
  const checkpoint = sqlite.prepare('pragma wal_checkpoint(PASSIVE)');
  return {
    ...handle(db, 'sqlite'),
    sqliteCheckpoint: () => {
      if (!sqlite.open || sqlite.inTransaction) return undefined;
      const result = CheckpointSchema.parse(checkpoint.get());
      return { walFrames: result.log, checkpointed: result.checkpointed };
    },
    // better-sqlite3 runs each statement to its end synchronously, so outside a transaction nothing of Kysely's
    // is half done on the connection: a write now commits on its own. Inside one (Kysely's, open across awaits),
    // it would join that transaction, so it waits for the connection like any Kysely query.
    sqliteWithoutPowerLossDurability: (work) => {
      if (sqlite.inTransaction) return db.connection().execute(async () => unsyncedRun(work));
      try {
        return Promise.resolve(unsyncedRun(work));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

async function openPostgres(databaseUrl: string, logger: Logger | undefined): Promise<Database> {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new ConfigError(['DATABASE_URL: not a URL; expected postgres://user:password@host:5432/database']);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError([`DATABASE_URL: unsupported scheme ${url.protocol}; expected postgres:// or postgresql://`]);
  }
  const { Pool, types } = await import('pg');
  const int8 = types.builtins.INT8;
  // Per pool, not pg's global parser registry: epoch-ms and task-id columns are bigint and must read back
  // as numbers, like SQLite's, without changing other pg users in the process.
  const typeParsers: CustomTypesConfig = {
    getTypeParser: (id, format) => (id === int8 ? parseInt8 : types.getTypeParser(id, format)),
  };
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 10,
    types: typeParsers,
    application_name: 'nasha-bot',
    // pg waits forever for a connection by default; fail startup (and queries) visibly instead.
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener, an idle client's network error would crash the process.
  pool.on('error', (error) => logger?.error({ err: error }, 'idle PostgreSQL connection failed'));
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  // Kysely wraps PostgreSQL migrations in a transaction under an advisory lock, so replicas can start together.
  try {
    await migrate(db, 'postgres', logger);
  } catch (error) {
    throw postgresStartupError(error, url);
  }
  logger?.info({ host: url.host, database: url.pathname.slice(1) }, 'PostgreSQL database ready');
  return handle(db, 'postgres');
}

/** What a startup failure of SQLite means for the operator: one line, never a stack. */
function sqliteStartupError(error: unknown, file: string): StartupError {
  const code = errorCode(error);
  const [cause, fix] =
    code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      ? [
          'the file is not a SQLite database, or it is damaged',
          `restore ${file} from a backup, or point NASHA_DATA_DIR elsewhere`,
        ]
      : code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
        ? [
            `another process holds a lock on it for more than ${SQLITE_BUSY_TIMEOUT_MS / 1_000} s`,
            'stop the other process using it',
          ]
        : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM'
          ? ['the file or its directory is not writable by this process', 'make NASHA_DATA_DIR writable']
          : code === 'SQLITE_FULL' || code === 'SQLITE_IOERR'
            ? ['the disk is full or failing', 'free space on the disk of NASHA_DATA_DIR']
            : [
                'a migration could not be applied (the file was changed by hand, or by a newer nasha-bot)',
                'run the nasha-bot version that last used this file, or restore it from a backup; nothing was changed (the migration was rolled back)',
              ];
  return new StartupError(
    [
      problemLine(`SQLite database ${file} (NASHA_DATA_DIR)`, {
        what: innermostMessage(error),
        cause,
        fix,
        transient: false,
      }),
    ],
    { cause: error },
  );
}

/** What a startup failure of PostgreSQL means for the operator: one line naming the server, never the password. */
function postgresStartupError(error: unknown, url: URL): StartupError {
  const dependency = `PostgreSQL at ${url.host}${url.pathname} (DATABASE_URL)`;
  const code = errorCode(error);
  const what = innermostMessage(error);
  const timedOut = /timeout/i.test(what) && code === undefined;
  const connection = diagnoseConnection(
    error,
    {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 5432 : Number(url.port),
      variable: 'DATABASE_URL',
      proxy: undefined,
      proxyable: false,
      trustCa: 'sslrootcert=<CA file> in DATABASE_URL',
    },
    timedOut ? 'ETIMEDOUT' : code,
  );
  const postgres: Record<string, [string, string]> = {
    '28P01': [
      'PostgreSQL refused the user name or password',
      'check the user and password in DATABASE_URL (or DATABASE_URL_FILE)',
    ],
    '28000': [
      'PostgreSQL does not let this user in from this host (pg_hba.conf)',
      'allow this host and user in pg_hba.conf',
    ],
    '3D000': ['the database does not exist', 'create it (CREATE DATABASE …) or correct its name in DATABASE_URL'],
    '57P03': ['PostgreSQL is starting up or recovering', 'wait for it to accept connections, then start again'],
    '53300': ['PostgreSQL has no free connection slot', 'raise max_connections or stop idle clients'],
  };
  const known = code === undefined ? undefined : postgres[code];
  const diagnosis = connection ??
    (known && { what, cause: known[0], fix: known[1], transient: false }) ?? {
      what,
      cause: 'a migration could not be applied (the schema was changed by hand, or by a newer nasha-bot)',
      fix: 'run the nasha-bot version that last migrated this database, or restore it; nothing was changed (the migration ran in a transaction)',
      transient: false,
    };
  return new StartupError([problemLine(dependency, diagnosis)], { cause: error });
}

function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`bigint ${value} does not fit a JavaScript number`);
  return parsed;
}

interface OuterTransaction {
  begin(): void;
  commit(): void;
  rollback(): void;
}

async function migrate(
  db: Kysely<DatabaseSchema>,
  dialect: DialectName,
  logger: Logger | undefined,
  transaction?: OuterTransaction,
): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  try {
    transaction?.begin();
    const { error, results } = await migrator.migrateToLatest();
    for (const result of results ?? []) {
      if (result.status === 'Success') logger?.info({ migration: result.migrationName }, 'applied migration');
      else if (result.status === 'Error') logger?.error({ migration: result.migrationName }, 'migration failed');
    }
    if (error !== undefined) throw new Error(`database migration failed: ${message(error)}`, { cause: error });
    transaction?.commit();
  } catch (error) {
    transaction?.rollback();
    await db.destroy();
    throw error;
  }
}

/**
 * Runs `work` with commits that survive a crash of the process but not always a power loss or a crash of the OS:
 * on SQLite, the connection is ours for `work` and commits with synchronous=NORMAL (no fsync of the WAL per
 * commit, which blocks the event loop for 0.2 ms to tens of ms on a busy disk), then FULL again. Only for rows
 * whose loss on power failure is harmless and that are written on a request's path (the Slack delivery ledger).
 * In WAL mode the WAL is appended in order, so the next FULL commit (or checkpoint) makes these rows durable
 * too: a power loss can only drop the ones written after the last of those. PostgreSQL: `work` as it is (the
 * commit is asynchronous there; nothing waits on the event loop).
 */
export function withoutPowerLossDurability<T>(
  database: Pick<Database, 'db' | 'dialect'>,
  work: (db: Kysely<DatabaseSchema>) => Promise<T>,
): Promise<T> {
  if (database.dialect === 'postgres') return work(database.db);
  return database.db.connection().execute(async (connection) => {
    await sql`pragma synchronous = normal`.execute(connection);
    try {
      return await work(connection);
    } finally {
      await sql.raw(`pragma synchronous = ${SQLITE_SYNCHRONOUS}`).execute(connection);
    }
  });
}

function handle(db: Kysely<DatabaseSchema>, dialect: DialectName): Database {
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect,
    close: () => {
      closing ??= db.destroy();
      return closing;
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
