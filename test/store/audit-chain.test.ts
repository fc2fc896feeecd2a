import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  AuditOutbox,
  type AuditPublisher,
  type AuditRecord,
  AuditTrail,
  shortAuditHash,
} from '../../src/core/audit.js';
import { ManualClock } from '../../src/shared/clock.js';
import { auditMessage } from '../../src/slack/blocks/audit-message.js';
import {
  appendToChain,
  auditChainHash,
  chainTransaction,
  GENESIS_HASH,
  verifyAuditChain,
} from '../../src/store/audit-chain.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { type Database, type DatabaseOptions, openDatabase, SQLITE_FILE_NAME } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations.js';
import type { DatabaseSchema } from '../../src/store/schema.js';
import { runAuditVerify } from '../../src/tools/audit-verify.js';
import { forEachBackend } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

function record(id: string, overrides: Partial<AuditRecord> = {}): Omit<AuditRecord, 'hash'> {
  return {
    id,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    actorUserId: 'U0ALICE01',
    channelId: 'C0OPS0001',
    action: 'snapshot.create',
    target: { service: 'zpool-128310', partition: 'data' },
    subject: `snap-${id}`,
    outcome: 'started',
    taskId: null,
    detail: null,
    auditChannel: 'CAUDIT0001',
    ...overrides,
  };
}

/** `count` records, each written as v1…v3 (v3 only for every other one). */
async function fill(store: AuditStore, count: number, prefix = 'r'): Promise<number> {
  let rows = 0;
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${i}`;
    await store.insert(record(id, { createdAt: T0 + i, updatedAt: T0 + i }));
    await store.update(id, { taskId: 1000 + i }, T0 + i + 1);
    rows += 2;
    if (i % 2 === 0) {
      await store.update(id, { outcome: 'succeeded', detail: `done ${i}` }, T0 + i + 2);
      rows += 1;
    }
  }
  return rows;
}

async function seqs(database: Database): Promise<number[]> {
  const rows = await database.db.selectFrom('audit_history').select('seq').orderBy('seq').execute();
  return rows.map((row) => row.seq);
}

function at<T>(list: readonly T[], index: number): T {
  const value = list.at(index);
  if (value === undefined) throw new Error(`no element ${index}`);
  return value;
}

/** A Kysely of our own on the store, without migrating to the latest (to build a pre-chain database). */
function rawKysely(options: DatabaseOptions): { db: Kysely<DatabaseSchema>; dialect: 'sqlite' | 'postgres' } {
  if ('databaseUrl' in options) {
    return {
      db: new Kysely<DatabaseSchema>({
        dialect: new PostgresDialect({
          pool: async () => {
            const { Pool } = await import('pg');
            return new Pool({ connectionString: options.databaseUrl, max: 2 });
          },
        }),
      }),
      dialect: 'postgres',
    };
  }
  mkdirSync(options.dataDir, { recursive: true });
  return {
    db: new Kysely<DatabaseSchema>({
      dialect: new SqliteDialect({
        database: async () => {
          const { default: SQLite } = await import('better-sqlite3');
          return new SQLite(join(options.dataDir, SQLITE_FILE_NAME));
        },
      }),
    }),
    dialect: 'sqlite',
  };
}

interface Writer {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWriter(options: DatabaseOptions, count: number, name: string): Writer {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/store/audit-chain-writer.ts', JSON.stringify(options), String(count), name],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  return { child, output: () => output, exited: new Promise((resolve) => child.on('exit', resolve)) };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function runTool(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/tools/audit-verify.ts', ...args], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NASHA_DATA_DIR: '', DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The tool's entry point in this process (fast); `runTool` checks the real script once. */
async function runInProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAuditVerify(args, env, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

const toolEnv = (options: DatabaseOptions): Record<string, string> =>
  'databaseUrl' in options ? { DATABASE_URL: options.databaseUrl } : { NASHA_DATA_DIR: options.dataDir };

describe('the audit hash chain', () => {
  forEachBackend((backend) => {
    it('links every version of every record into one chain; each record carries its current hash', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new AuditStore(database.db);
        const first = await store.insert(record('first'));
        expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
        let rows = 1 + (await fill(store, 20));
        // Writes in flight together (several pool connections on PostgreSQL) still make one chain.
        await Promise.all(Array.from({ length: 12 }, (_, i) => store.insert(record(`burst${i}`))));
        const updated = await Promise.all(
          Array.from({ length: 12 }, (_, i) => store.update(`burst${i}`, { outcome: 'failed' }, T0 + 99)),
        );
        rows += 24;

        const report = await verifyAuditChain(database.db, { batchSize: 7 });
        expect(report).toMatchObject({ ok: true, rows, records: 33, problems: [], problemsOmitted: 0, notes: [] });

        const history = await database.db.selectFrom('audit_history').selectAll().orderBy('seq').execute();
        expect(at(history, 0).prev_hash).toBe(GENESIS_HASH);
        expect(at(history, 0).hash).toBe(first.hash);
        for (let i = 1; i < history.length; i++) expect(at(history, i).prev_hash).toBe(at(history, i - 1).hash);
        expect(report.head).toEqual({
          seq: at(history, -1).seq,
          auditId: at(history, -1).audit_id,
          version: at(history, -1).version,
          hash: at(history, -1).hash,
        });

        // What the outbox hands to Slack (get, claim) and what writes return is the hash of the current version.
        const latest = (id: string) => history.filter((row) => row.audit_id === id).at(-1)?.hash;
        for (const result of updated) expect(result?.hash).toBe(latest(result?.id ?? ''));
        expect((await store.get('r4'))?.record).toMatchObject({ version: 3, hash: latest('r4') });
        const claimed = await store.claim('r5', 'me', T0 + 10_000, T0 + 40_000);
        expect(claimed?.record).toMatchObject({ version: 2, hash: latest('r5') });
        expect((await store.history('r4')).map((entry) => entry.record.hash)).toEqual(
          history.filter((row) => row.audit_id === 'r4').map((row) => row.hash),
        );
      } finally {
        await database.close();
      }
    });

    it('the audit message Slack shows carries the short hash of its version; the newest one is the head', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const repo = new AuditStore(database.db);
        const clock = new ManualClock(T0, { autoAdvance: true });
        // The channel as a reader sees it: each message's latest rendering, by Slack ts.
        const channel = new Map<string, string>();
        const render = (record: AuditRecord) => JSON.stringify(auditMessage(record).blocks.at(-1));
        const publisher: AuditPublisher = {
          post: async (_channel, record) => {
            const ts = String(channel.size + 1);
            channel.set(ts, render(record));
            return { ts };
          },
          update: async (_channel, ts, record) => {
            channel.set(ts, render(record));
          },
        };
        const outbox = new AuditOutbox({ repo, publisher, clock, idlePollMs: Number.POSITIVE_INFINITY });
        const trail = new AuditTrail({ repo, clock, auditChannel: 'CAUDIT0001', outbox });
        const a = await trail.record({
          actor: { userId: 'U0ALICE01', channelId: undefined },
          action: 'snapshot.create',
          target: { service: 's' },
          outcome: 'started',
        });
        await trail.record({
          actor: { userId: 'U0BOB0001', channelId: undefined },
          action: 'schedule.add',
          target: { service: 's' },
          outcome: 'succeeded',
        });
        const last = await trail.update(a.id, { outcome: 'succeeded', taskId: 7 });
        expect(await outbox.flush(60_000)).toBe(true);
        await outbox.stop();

        const head = (await verifyAuditChain(database.db)).head;
        expect(head).toMatchObject({ auditId: a.id, version: 2, hash: last.hash });
        // Message 1 was edited to v2 last: it shows the head's short hash.
        expect(channel.get('1')).toContain(`v2 · hash \`${shortAuditHash(head?.hash ?? '')}\``);
        expect(await verifyAuditChain(database.db, { anchor: shortAuditHash(head?.hash ?? '') })).toMatchObject({
          ok: true,
          anchor: { found: { rowsAfter: 0 } },
        });
      } finally {
        await database.close();
      }
    });

    it('hostile text (NUL, lone surrogates, emoji, 10 000 characters) is stored alike and verifies', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new AuditStore(database.db);
        const nasty = `nul \u0000 lone \ud800 \udfff pair 🙂 combining e\u0301 rtl \u202e ${'x'.repeat(10_000)}`;
        const inserted = await store.insert(record('nasty', { detail: nasty, subject: '\u0000\ud83d' }));
        const updated = await store.update('nasty', { detail: `${nasty}!` }, T0 + 1);
        // NUL and lone halves are replaced (PostgreSQL refuses NUL); everything else is kept as written.
        expect(inserted.detail).toBe(
          nasty.replace('\u0000', '\ufffd').replace('\ud800', '\ufffd').replace('\udfff', '\ufffd'),
        );
        expect(inserted.subject).toBe('\ufffd\ufffd');
        expect((await store.get('nasty'))?.record).toEqual(updated);
        expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, rows: 2, problems: [] });
      } finally {
        await database.close();
      }
    });

    it('appends from two processes at once (two replicas) stay one valid chain', { timeout: 60_000 }, async () => {
      const options = await backend.open();
      const database = await openDatabase(options); // migrated before the writers race
      try {
        const writers = [startWriter(options, 25, 'alpha'), startWriter(options, 25, 'beta')];
        await waitFor(() => writers.every((w) => w.output().includes('ready')), 'both writers to be ready');
        for (const writer of writers) writer.child.stdin?.end('go\n');
        const codes = await Promise.all(writers.map((w) => w.exited));
        expect(codes, writers.map((w) => w.output()).join('\n')).toEqual([0, 0]);

        const report = await verifyAuditChain(database.db);
        expect(report).toMatchObject({ ok: true, rows: 150, records: 50, problems: [] });
        // They really interleaved: the chain switches between writers many times.
        const order = await database.db.selectFrom('audit_history').select('target_partition').orderBy('seq').execute();
        const switches = order.filter((row, i) => i > 0 && row.target_partition !== order[i - 1]?.target_partition);
        expect(switches.length).toBeGreaterThan(2);
      } finally {
        await database.close();
      }
    });

    it('reports an edited row, a row edited and re-hashed, an edited record and an unhashed row', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new AuditStore(database.db);
        await fill(store, 5);
        const [, second, , , fifth] = await seqs(database);
        if (second === undefined || fifth === undefined) throw new Error('too few rows');

        await database.db
          .updateTable('audit_history')
          .set({ detail: 'nothing to see' })
          .where('seq', '=', second)
          .execute();
        // A careful forger recomputes the row's hash: then the next row no longer links to it.
        const forged = await database.db
          .selectFrom('audit_history')
          .selectAll()
          .where('seq', '=', fifth)
          .executeTakeFirstOrThrow();
        const { seq: _seq, prev_hash: prevHash, hash: _hash, ...content } = forged;
        const rehashed = auditChainHash({ ...content, outcome: 'denied' }, prevHash ?? GENESIS_HASH);
        await database.db
          .updateTable('audit_history')
          .set({ outcome: 'denied', hash: rehashed })
          .where('seq', '=', fifth)
          .execute();
        // The current record (what the Slack message shows) edited without touching the history.
        await database.db
          .updateTable('audit_records')
          .set({ actor_user_id: 'U0MALLORY' })
          .where('id', '=', 'r3')
          .execute();

        const report = await verifyAuditChain(database.db);
        expect(report.ok).toBe(false);
        expect(report.problems.map((p) => [p.kind, p.seq, p.auditId])).toEqual([
          ['edited', second, 'r0'],
          ['broken-link', fifth + 1, 'r2'],
          // The forged history row no longer matches the record it is a version of.
          ['record-mismatch', fifth, 'r1'],
          ['record-mismatch', expect.any(Number), 'r3'],
        ]);
        expect(report.problems[2]?.message).toContain('in outcome');
        expect(report.problems[3]?.message).toContain('in actor_user_id');

        // A version written outside the chain (an older replica during an upgrade) is reported; appends go on.
        await database.db
          .updateTable('audit_records')
          .set({ version: 4, outcome: 'failed' })
          .where('id', '=', 'r4')
          .execute();
        const r4 = await database.db
          .selectFrom('audit_history')
          .selectAll()
          .where('audit_id', '=', 'r4')
          .where('version', '=', 3)
          .executeTakeFirstOrThrow();
        const { seq: _r4seq, prev_hash: _r4prev, hash: _r4hash, ...r4content } = r4;
        await database.db
          .insertInto('audit_history')
          .values({ ...r4content, version: 4, outcome: 'failed' })
          .execute();
        const after = await store.insert(record('after'));
        const again = await verifyAuditChain(database.db);
        expect(again.problems.map((p) => [p.kind, p.auditId])).toEqual([
          ['edited', 'r0'],
          ['broken-link', 'r2'],
          ['unhashed', 'r4'],
          ['record-mismatch', 'r1'],
          ['record-mismatch', 'r3'],
        ]);
        expect(again.head).toMatchObject({ auditId: 'after', hash: after.hash });
      } finally {
        await database.close();
      }
    });

    it('reports a deleted row as a gap (middle or first); a deleted tail only against an anchor', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new AuditStore(database.db);
        await fill(store, 4);
        const all = await seqs(database);
        const middle = at(all, 3);
        await database.db.deleteFrom('audit_history').where('seq', '=', middle).execute();
        const report = await verifyAuditChain(database.db);
        expect(report.ok).toBe(false);
        expect(report.problems).toEqual([
          {
            kind: 'gap',
            seq: middle + 1,
            auditId: expect.any(String),
            version: expect.any(Number),
            message: expect.stringMatching(
              new RegExp(
                `^1 row missing before seq ${middle + 1} .*does not link to seq ${middle - 1}: rows were deleted$`,
              ),
            ),
          },
        ]);

        await database.db.deleteFrom('audit_history').where('seq', '=', at(all, 0)).execute();
        expect((await verifyAuditChain(database.db)).problems.map((p) => [p.kind, p.seq])).toEqual([
          ['gap', at(all, 1)],
          ['gap', middle + 1],
        ]);

        // The newest rows gone: the rest still verifies, but not against the short hash Slack showed.
        const fresh = await openDatabase(await backend.open());
        try {
          const clean = new AuditStore(fresh.db);
          await fill(clean, 3);
          const head = (await verifyAuditChain(fresh.db)).head;
          if (head === undefined) throw new Error('no head');
          const anchor = shortAuditHash(head.hash);
          expect((await verifyAuditChain(fresh.db, { anchor })).anchor).toEqual({
            prefix: anchor,
            found: { ...head, rowsAfter: 0 },
          });
          // Every trace of the newest record: its versions are the end of the chain.
          await fresh.db.deleteFrom('audit_history').where('audit_id', '=', head.auditId).execute();
          await fresh.db.deleteFrom('audit_records').where('id', '=', head.auditId).execute();
          expect((await verifyAuditChain(fresh.db)).ok).toBe(true);
          const anchored = await verifyAuditChain(fresh.db, { anchor });
          expect(anchored.ok).toBe(false);
          expect(anchored.problems.map((p) => p.kind)).toEqual(['anchor-missing']);
        } finally {
          await fresh.close();
        }
      } finally {
        await database.close();
      }
    });

    it('a sequence number lost to a rolled-back append is a note, not tampering', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new AuditStore(database.db);
        await fill(store, 2);
        const row = {
          audit_id: 'ghost',
          version: 1,
          recorded_at: T0,
          actor_user_id: 'U0X',
          channel_id: null,
          action: 'snapshot.create',
          target_service: 's',
          target_partition: null,
          subject: null,
          outcome: 'started',
          task_id: null,
          detail: null,
          audit_channel: 'CAUDIT0001',
        };
        await expect(
          chainTransaction(database.db, database.dialect, async (trx) => {
            await appendToChain(trx, row);
            throw new Error('crash before commit');
          }),
        ).rejects.toThrow('crash before commit');
        await fill(store, 1, 'later');
        const report = await verifyAuditChain(database.db);
        expect(report.ok).toBe(true);
        // PostgreSQL's identity keeps the number it handed out; SQLite's AUTOINCREMENT rolls back with it.
        expect(report.notes).toHaveLength(database.dialect === 'postgres' ? 1 : 0);
      } finally {
        await database.close();
      }
    });

    it('migration 0004 links the rows written before the chain existed', async () => {
      const options = await backend.open();
      const raw = rawKysely(options);
      try {
        const migrated = await new Migrator({
          db: raw.db,
          provider: migrationProvider(raw.dialect),
        }).migrateTo('0003_quick_snapshots');
        expect(migrated.error).toBeUndefined();
        for (let i = 0; i < 7; i++) {
          const content = {
            actor_user_id: 'U0OLD',
            channel_id: null,
            action: 'schedule.add',
            target_service: 'zpool-1',
            target_partition: 'data',
            subject: 'day-1',
            outcome: 'succeeded',
            task_id: i,
            detail: i === 3 ? 'unicode 🙂 and "quotes"' : null,
            audit_channel: 'CAUDIT0001',
          };
          await raw.db
            .insertInto('audit_records')
            .values({
              ...content,
              id: `old${i}`,
              created_at: T0,
              updated_at: T0 + 1,
              version: 2,
              slack_ts: null,
              delivered_version: 2,
              attempts: 0,
              next_attempt_at: T0,
            })
            .execute();
          for (const version of [1, 2]) {
            await raw.db
              .insertInto('audit_history')
              .values({ ...content, audit_id: `old${i}`, version, recorded_at: T0 + version - 1 })
              .execute();
          }
        }
      } finally {
        await raw.db.destroy();
      }

      const database = await openDatabase(options);
      try {
        const before = await verifyAuditChain(database.db);
        expect(before).toMatchObject({ ok: true, rows: 14, records: 7 });
        const store = new AuditStore(database.db);
        const next = await store.update('old6', { detail: 'after the upgrade' }, T0 + 5);
        const after = await verifyAuditChain(database.db);
        expect(after).toMatchObject({ ok: true, rows: 15, head: { auditId: 'old6', version: 3, hash: next?.hash } });
      } finally {
        await database.close();
      }
    });

    it('audit:verify prints OK with the head hash (exit 0), each problem (exit 1), checks an anchor', async () => {
      const options = await backend.open();
      const database = await openDatabase(options);
      try {
        await fill(new AuditStore(database.db), 3);
        const head = (await verifyAuditChain(database.db)).head;
        if (head === undefined) throw new Error('no head');
        const anchor = shortAuditHash(head.hash);
        const ok = await runInProcess(['--anchor', anchor.toUpperCase()], toolEnv(options));
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(/^Audit chain OK: 8 history rows \(seq 1–8\), 3 audit records/);
        expect(ok.stdout).toContain(`hash ${head.hash}`);
        expect(ok.stdout).toContain(`short hash ${anchor}: the newest audit message in Slack should show it.`);
        expect(ok.stdout).toContain(`Anchor ${anchor}: found at seq 8 (audit r2 v3), 0 row(s) after it.`);
        expect(ok.stdout).toContain('npm run audit:verify -- --anchor <short hash>');
        if ('databaseUrl' in options) {
          expect(ok.stdout).not.toContain(`:${new URL(options.databaseUrl).password}@`); // no credentials
        }

        await database.db.updateTable('audit_history').set({ subject: 'other' }).where('seq', '=', 2).execute();
        await database.db.deleteFrom('audit_history').where('seq', '=', 4).execute();
        const broken = await runInProcess(['--anchor', 'ffffffffff'], toolEnv(options));
        expect(broken.code, broken.stderr).toBe(1);
        expect(broken.stdout.split('\n').slice(0, 4)).toEqual([
          expect.stringMatching(/^Audit chain BROKEN: 3 problems in 7 history rows \(seq 1–8\), 3 audit records \(/),
          '  - edited: seq 2 (audit r0 v2) was edited: its content does not match its hash',
          '  - gap: 1 row missing before seq 5 (audit r1 v2), and it does not link to seq 3: rows were deleted',
          '  - anchor-missing: no row has the hash ffffffffff: the rows up to the message that showed it were deleted or rewritten',
        ]);
        expect(broken.stdout).toContain('Anchor ffffffffff: NOT in the chain.');
      } finally {
        await database.close();
      }
    });
  });

  it('audit:verify reads DATABASE_URL_FILE as the bot does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nasha-verify-'));
    try {
      const file = join(dir, 'database-url');
      await writeFile(file, 'mysql://localhost/nasha\n');
      const fromFile = await runInProcess([], { DATABASE_URL_FILE: file });
      expect(fromFile.code).toBe(2);
      expect(fromFile.stderr).toContain('DATABASE_URL must be a postgres:// URL');
      const missing = await runInProcess([], { DATABASE_URL_FILE: join(dir, 'absent') });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('DATABASE_URL_FILE cannot be read (ENOENT)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('audit:verify exits 2 when it cannot check: bad arguments, bad DATABASE_URL, no database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nasha-verify-'));
    try {
      const badAnchor = await runInProcess(['--anchor', 'xyz'], { NASHA_DATA_DIR: dir });
      expect(badAnchor).toMatchObject({ code: 2, stdout: '' });
      expect(badAnchor.stderr).toContain('--anchor takes the short hash');
      const unknown = await runInProcess(['--verbose'], { NASHA_DATA_DIR: dir });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('usage: npm run audit:verify');
      const badUrl = await runInProcess([], { DATABASE_URL: 'mysql://localhost/nasha' });
      expect(badUrl.code).toBe(2);
      expect(badUrl.stderr).toContain('DATABASE_URL must be a postgres:// URL');
      const noDatabase = await runInProcess([], { NASHA_DATA_DIR: join(dir, 'nowhere') });
      expect(noDatabase.code).toBe(2);
      expect(noDatabase.stderr).toContain(`no database at ${join(dir, 'nowhere', SQLITE_FILE_NAME)}`);
      expect(existsSync(join(dir, 'nowhere'))).toBe(false); // and it did not create one
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`npx tsx src/tools/audit-verify.ts` as a process (SQLite): exit status 0, 1, 2', {
    timeout: 60_000,
  }, async () => {
    const [intact, tampered] = await Promise.all([
      mkdtemp(join(tmpdir(), 'nasha-verify-')),
      mkdtemp(join(tmpdir(), 'nasha-verify-')),
    ]);
    try {
      for (const dir of [intact, tampered]) {
        const database = await openDatabase({ dataDir: dir });
        await fill(new AuditStore(database.db), 2);
        if (dir === tampered) {
          await database.db
            .updateTable('audit_history')
            .set({ detail: 'nothing happened' })
            .where('seq', '=', 1)
            .execute();
        }
        await database.close();
      }
      const [ok, broken, unusable] = await Promise.all([
        runTool([], { NASHA_DATA_DIR: intact }),
        runTool([], { NASHA_DATA_DIR: tampered }),
        runTool([], { DATABASE_URL: 'mysql://localhost/nasha' }),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^Audit chain OK: 5 history rows/);
      expect(broken.code, broken.stderr).toBe(1);
      expect(broken.stdout).toContain('  - edited: seq 1 (audit r0 v1) was edited');
      expect(unusable.code).toBe(2);
      expect(unusable.stderr).toContain('DATABASE_URL');
    } finally {
      await Promise.all([intact, tampered].map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });
});
