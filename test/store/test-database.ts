/**
 * Where tests keep their data.
 *
 * `NASHA_TEST_DATABASE_URL=postgres://user:password@host:port/postgres` is an *admin* URL: a role allowed to
 * CREATE DATABASE (`eval "$(bash .ci/postgres.sh start)"` starts a throwaway server and sets it). The tests never
 * write to that database: each one gets a database of its own (`nasha_t_…`), dropped when its test file ends, so
 * test files running in parallel never meet.
 *
 * - `openTestDatabase(dir)` opens one store per directory: SQLite in `dir`, or, with the URL set, a fresh
 *   PostgreSQL database bound to `dir` (opening the same `dir` again reaches the same data, as with SQLite).
 *   `NASHA_TEST_STORE=sqlite` keeps it on SQLite even with the URL set (CI runs the store suites both ways).
 * - `forEachBackend(…)` runs a suite once per available backend: SQLite always, PostgreSQL when the URL is set.
 *   With `CI` set, a missing URL is an error, so a broken CI setup cannot silently skip PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { type Database, type DatabaseOptions, openDatabase } from '../../src/store/database.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../support/postgres.js';

export type BackendName = Database['dialect'];

const ADMIN_URL = nonEmpty(process.env['NASHA_TEST_DATABASE_URL']);
const STORE = nonEmpty(process.env['NASHA_TEST_STORE']);

if (STORE !== undefined && STORE !== 'sqlite' && STORE !== 'postgres') {
  throw new Error(`NASHA_TEST_STORE=${STORE}: expected sqlite or postgres`);
}
if (STORE === 'postgres' && ADMIN_URL === undefined) {
  throw new Error('NASHA_TEST_STORE=postgres needs NASHA_TEST_DATABASE_URL (see README, "Tests")');
}

/** The backend `openTestDatabase` uses in this run. */
export const testDialect: BackendName = ADMIN_URL === undefined || STORE === 'sqlite' ? 'sqlite' : 'postgres';

/** PostgreSQL databases made for directories in this test file; dropped when the file ends. */
const databasesByDir = new Map<string, Promise<TestPostgresDatabase>>();

if (testDialect === 'postgres') {
  // Registered while the importing test file is being collected: runs once that file's tests are over.
  afterAll(() => {
    const made = [...databasesByDir.values()];
    databasesByDir.clear();
    return dropAll(made.map((database) => database.then(({ drop }) => drop)));
  });
}

/** The store for `dir`: SQLite in it, or the PostgreSQL database made for it (see the top of this file). */
export async function openTestDatabase(dir: string): Promise<Database> {
  if (testDialect === 'sqlite' || ADMIN_URL === undefined) return openDatabase({ dataDir: dir });
  let made = databasesByDir.get(dir);
  if (made === undefined) {
    made = createTestPostgresDatabase(ADMIN_URL);
    databasesByDir.set(dir, made);
  }
  return openDatabase({ databaseUrl: (await made).url });
}

/**
 * Nothing to do any more: every directory has a database of its own, there is no shared one to empty. Kept for
 * the suites that still call it.
 */
export async function resetTestDatabase(): Promise<void> {}

export interface TestBackend {
  readonly name: BackendName;
  /**
   * A new, empty store: a fresh temp directory (SQLite) or a fresh database (PostgreSQL), removed after the suite.
   * Open the same options twice for two processes sharing one store; call `open()` again for an unrelated one.
   */
  open(): Promise<DatabaseOptions>;
}

/** The backends this run tests: SQLite, plus PostgreSQL when NASHA_TEST_DATABASE_URL is set (required in CI). */
export function availableBackends(): BackendName[] {
  if (ADMIN_URL !== undefined) return ['sqlite', 'postgres'];
  if (inCi()) {
    throw new Error(
      'CI is set but NASHA_TEST_DATABASE_URL is not: the PostgreSQL tests would be skipped. .ci/run starts a server with .ci/postgres.sh; check its output.',
    );
  }
  return ['sqlite'];
}

/**
 * `describe(name, …)` once per available backend:
 *
 * ```ts
 * forEachBackend((backend) => {
 *   it('two bot processes share one store', async () => {
 *     const options = await backend.open();
 *     const [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
 *     …
 *   });
 * });
 * ```
 */
export function forEachBackend(suite: (backend: TestBackend) => void): void {
  for (const name of availableBackends()) {
    describe(name, () => {
      const cleanups: Array<Promise<() => Promise<void>>> = [];
      afterAll(() => dropAll(cleanups.splice(0)));
      suite({
        name,
        open: async () => {
          if (name === 'sqlite') {
            const made = mkdtemp(join(tmpdir(), 'nasha-store-'));
            cleanups.push(made.then((dir) => () => rm(dir, { recursive: true, force: true })));
            return { dataDir: await made };
          }
          const made = createTestPostgresDatabase(requireAdminUrl());
          cleanups.push(made.then((database) => database.drop));
          return { databaseUrl: (await made).url };
        },
      });
    });
  }
}

/** Runs every cleanup whose resource was made (one that failed to be made has nothing to undo); throws the first error. */
async function dropAll(made: Array<Promise<() => Promise<void>>>): Promise<void> {
  const results = await Promise.allSettled(
    made.map((cleanup) =>
      cleanup.then(
        (run) => run(),
        () => undefined,
      ),
    ),
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

function requireAdminUrl(): string {
  if (ADMIN_URL === undefined) throw new Error('NASHA_TEST_DATABASE_URL is not set');
  return ADMIN_URL;
}

function inCi(): boolean {
  const ci = process.env['CI']?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
