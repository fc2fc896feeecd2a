import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';

/**
 * Kysely's values, from its CommonJS build: the bot's only way to them (types still come from 'kysely').
 * Its ESM build is ≈280 files, each resolved, read and linked on its own; the CommonJS one loads in about
 * half the time and ≈5 MiB less RSS (measured for issue 18: bench scenario 4, cold start and idle RSS).
 * One build for every module of the bot, so there is one `Kysely` class and one `sql`.
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export const { sql, Migrator, PostgresDialect, PostgresIntrospector, SqliteDialect } = kysely;
export const Kysely = kysely.Kysely;
export type Kysely<DB> = KyselyModule.Kysely<DB>;
