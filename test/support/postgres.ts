/**
 * Throwaway PostgreSQL databases for tests: given an admin URL (a role allowed to CREATE DATABASE, e.g. the
 * cluster from `bash .ci/postgres.sh start`), each call makes a new, empty database with a unique name, so test
 * files running in parallel never share tables.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Every database made here starts with this, then base-36 creation time in ms, then random hex. */
export const TEST_DATABASE_PREFIX = 'nasha_t_';

/** Leftovers of a crashed run older than this are dropped when the next run creates a database. */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

export interface TestPostgresDatabase {
  readonly name: string;
  /** The admin URL with this database instead (same role, host and query parameters). */
  readonly url: string;
  /** Ends every connection to it and drops it. Idempotent; never throws for a database already gone. */
  drop(): Promise<void>;
}

export async function createTestPostgresDatabase(adminUrl: string): Promise<TestPostgresDatabase> {
  const url = parseAdminUrl(adminUrl);
  const name = `${TEST_DATABASE_PREFIX}${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, async (admin) => {
    await sweepStale(admin);
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop: () => {
      dropping ??= withAdmin(adminUrl, (admin) => dropDatabase(admin, name));
      return dropping;
    },
  };
}

function parseAdminUrl(adminUrl: string): URL {
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    throw new Error('NASHA_TEST_DATABASE_URL: not a URL; expected postgres://user:password@127.0.0.1:5432/postgres');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`NASHA_TEST_DATABASE_URL: unsupported scheme ${url.protocol}; expected postgres://`);
  }
  return url;
}

async function withAdmin<T>(adminUrl: string, use: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: 10_000,
    application_name: 'nasha-tests',
  });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw new Error(
      `NASHA_TEST_DATABASE_URL: cannot connect to ${redact(adminUrl)} (${error instanceof Error ? error.message : String(error)}); start a test server with: eval "$(bash .ci/postgres.sh start)"`,
      { cause: error },
    );
  }
  try {
    return await use(admin);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(admin: Client, name: string): Promise<void> {
  const { rows } = await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  if (Number(rows[0]?.v) >= 130_000) {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    return;
  }
  // Before PostgreSQL 13: forbid new connections, end the current ones, then drop.
  await admin.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS false`).catch(() => undefined);
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
}

/** Drops test databases a killed run left behind; ones still in use (a long watch session) are kept. */
async function sweepStale(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE left(datname, length($1::text)) = $1',
    [TEST_DATABASE_PREFIX],
  );
  const now = Date.now();
  for (const { datname } of rows) {
    const createdAt = Number.parseInt(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0] ?? '', 36);
    if (!Number.isFinite(createdAt) || now - createdAt < STALE_AFTER_MS) continue;
    // No FORCE: a database someone is connected to fails here and is left alone.
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)}`).catch(() => undefined);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL without its password, for messages. */
export function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '<unparsable URL>';
  }
}
