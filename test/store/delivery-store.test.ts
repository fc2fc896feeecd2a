import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase, withoutPowerLossDurability } from '../../src/store/database.js';
import { DeliveryStore } from '../../src/store/delivery-store.js';
import { forEachBackend } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const delivery = (key: string, at = T0) => ({ key, kind: 'command', at, keepUntil: at + 660_000 });
const row = (key: string) => ({ key, received_at: T0, expires_at: T0 + 660_000 });

describe('DeliveryStore on SQLite: the ledger table keyed by the delivery alone', () => {
  it('is WITHOUT ROWID with no other index, and an upgrade keeps what was recorded before it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nasha-deliveries-'));
    try {
      const database = await openDatabase({ dataDir });
      // The layout of 0009 with two deliveries in it, as a bot not yet upgraded left it.
      await sql`drop table slack_deliveries`.execute(database.db);
      await sql`create table slack_deliveries (key text primary key not null, kind text not null,
        received_at bigint not null, expires_at bigint not null)`.execute(database.db);
      await sql`create index slack_deliveries_expires on slack_deliveries (expires_at)`.execute(database.db);
      await sql`insert into slack_deliveries values ('a', 'command', ${T0}, ${T0 + 660_000}),
        ('b', 'action', ${T0}, ${T0 + 1_000})`.execute(database.db);
      await sql`delete from kysely_migration where name = '0019_slack_deliveries_without_rowid'`.execute(database.db);
      await database.close();

      const upgraded = await openDatabase({ dataDir });
      try {
        const layout = await sql<{
          sql: string;
        }>`select sql from sqlite_master where name = 'slack_deliveries'`.execute(upgraded.db);
        expect(layout.rows[0]?.sql.toLowerCase()).toContain('without rowid');
        const indexes = await sql<{ name: string }>`select name from sqlite_master
          where type = 'index' and tbl_name = 'slack_deliveries' and sql is not null`.execute(upgraded.db);
        expect(indexes.rows).toEqual([]);
        const store = new DeliveryStore(upgraded);
        expect(await store.record(delivery('a'))).toBe(false);
        expect(await store.record(delivery('c'))).toBe(true);
        expect(await store.prune(T0 + 2_000)).toBe(1);
        const keys = await upgraded.db.selectFrom('slack_deliveries').select('key').orderBy('key').execute();
        expect(keys.map((r) => r.key)).toEqual(['a', 'c']);
      } finally {
        await upgraded.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('DeliveryStore: Slack deliveries already accepted', () => {
  forEachBackend((backend) => {
    it('records a key once: the first record is the first delivery, every later one a copy', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new DeliveryStore(database);
        expect(await store.record(delivery('a'))).toBe(true);
        expect(await store.record(delivery('a', T0 + 1_000))).toBe(false);
        expect(await store.record(delivery('b'))).toBe(true);
        const rows = await database.db.selectFrom('slack_deliveries').selectAll().orderBy('key').execute();
        expect(rows).toEqual([
          { key: 'a', kind: 'command', received_at: T0, expires_at: T0 + 660_000 },
          { key: 'b', kind: 'command', received_at: T0, expires_at: T0 + 660_000 },
        ]);
      } finally {
        await database.close();
      }
    });

    it('records without an fsync per row on SQLite, and leaves the connection as durable as before', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new DeliveryStore(database);
        expect(await store.record(delivery('a'))).toBe(true);
        if (database.dialect === 'sqlite') {
          const level = async () =>
            (await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db)).rows[0]?.synchronous;
          // 2 = FULL (audit records survive a power loss); the ledger's own commits ran with 1 = NORMAL.
          expect(await level()).toBe(2);
          expect(
            await withoutPowerLossDurability(
              database,
              async (db) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous,
            ),
          ).toBe(1);
          expect(await level()).toBe(2);
          // The path `record` takes on SQLite: the file's connection itself, its statements prepared once.
          expect(
            await database.sqliteWithoutPowerLossDurability?.((connection) =>
              connection.pragma('synchronous', { simple: true }),
            ),
          ).toBe(1);
          expect(await level()).toBe(2);
          expect(await store.record(delivery('a'))).toBe(false);
          expect(await level()).toBe(2);
        } else {
          expect(database.sqliteWithoutPowerLossDurability).toBeUndefined();
        }
      } finally {
        await database.close();
      }
    });

    it('a record made while a transaction is open on the connection is not part of it: its rollback keeps the record', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new DeliveryStore(database);
        let recorded: Promise<boolean> | undefined;
        let done = false;
        await database.db
          .transaction()
          .execute(async (trx) => {
            await trx
              .insertInto('slack_deliveries')
              .values({ ...row('inside'), kind: 'command' })
              .execute();
            recorded = store.record(delivery('outside'));
            void recorded.then(() => {
              done = true;
            });
            await new Promise<void>((resolve) => setImmediate(resolve));
            // SQLite: it waits for the connection (the transaction's); PostgreSQL: another pooled connection.
            if (database.dialect === 'sqlite') expect(done).toBe(false);
            throw new Error('roll back');
          })
          .catch((error: unknown) => {
            if (!(error instanceof Error) || error.message !== 'roll back') throw error;
          });
        expect(await recorded).toBe(true);
        const keys = await database.db.selectFrom('slack_deliveries').select('key').execute();
        expect(keys.map((r) => r.key)).toEqual(['outside']);
      } finally {
        await database.close();
      }
    });

    it('two processes recording the same key at once: exactly one is first', async () => {
      const options = await backend.open();
      const [one, two] = await Promise.all([openDatabase(options), openDatabase(options)]);
      try {
        const stores = [new DeliveryStore(one), new DeliveryStore(two)];
        for (let round = 0; round < 10; round++) {
          const results = await Promise.all(
            Array.from({ length: 6 }, (_, i) => stores[i % 2]?.record(delivery(`race-${round}`))),
          );
          expect(results.filter((first) => first === true)).toHaveLength(1);
        }
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it('prune deletes only what is kept until before now, and survives reopening otherwise', async () => {
      const options = await backend.open();
      const database = await openDatabase(options);
      const store = new DeliveryStore(database);
      await store.record({ key: 'old', kind: 'action', at: T0, keepUntil: T0 + 1_000 });
      await store.record({ key: 'edge', kind: 'action', at: T0, keepUntil: T0 + 2_000 });
      await store.record({ key: 'new', kind: 'view', at: T0, keepUntil: T0 + 60_000 });
      expect(await store.prune(T0 + 2_000)).toBe(1);
      expect(await store.prune(T0 + 2_000)).toBe(0);
      await database.close();

      const reopened = await openDatabase(options);
      try {
        const keys = await reopened.db.selectFrom('slack_deliveries').select('key').orderBy('key').execute();
        expect(keys.map((r) => r.key)).toEqual(['edge', 'new']);
        expect(await new DeliveryStore(reopened).record(delivery('new'))).toBe(false);
      } finally {
        await reopened.close();
      }
    });
  });
});
