import { describe, expect, it } from 'vitest';
import type { QuickRun } from '../../src/core/quick-snapshots.js';
import { createLogger } from '../../src/shared/logger.js';
import { openDatabase } from '../../src/store/database.js';
import { QuickStore } from '../../src/store/quick-store.js';
import { forEachBackend } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

function run(id: string, startedAt = T0): QuickRun {
  return {
    id,
    spec: 'zpool-204117',
    label: 'inc',
    requester: 'U0OPER',
    reason: 'db is down',
    expiration: '2026-12-05T09:00:00Z',
    items: [
      {
        target: { service: 'zpool-204117', partition: 'db' },
        name: 'inc-db-20261128T0900',
        state: { status: 'queued' },
      },
      {
        target: { service: 'zpool-204117', partition: 'media' },
        name: 'inc-media-20261128T0900',
        state: {
          status: 'full',
          snapshots: [{ name: 'old', expiration: null, createdAt: null }],
        },
      },
    ],
    startedAt,
    finishedAt: null,
  };
}

describe('QuickStore: runs in progress', () => {
  forEachBackend((backend) => {
    it('keeps the latest state of each unfinished run, oldest first, until it is finished', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const store = new QuickStore(database.db);
        const reply = { channel: 'C0INC', ts: '1700000000.000100' };
        const a = run('run-a', T0 + 1_000);
        const b = run('run-b', T0);
        await store.saveRun(a, 'audit-a', reply, T0 + 1_000);
        await store.saveRun(b, 'audit-b', null, T0 + 1_000);
        const first = a.items[0];
        if (first === undefined) throw new Error('no item');
        first.state = { status: 'creating', taskId: 4_000_123 };
        await store.saveRun(a, 'audit-a', reply, T0 + 2_000);

        expect(await store.unfinishedRuns()).toEqual([
          { run: b, auditId: 'audit-b', reply: null },
          { run: a, auditId: 'audit-a', reply },
        ]);
        await store.finishRun('run-b', T0 + 3_000);
        expect((await store.unfinishedRuns()).map((r) => r.run.id)).toEqual(['run-a']);
      } finally {
        await database.close();
      }
    });

    it('skips a saved run it cannot read, and says so', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const lines: string[] = [];
        const logger = createLogger({
          level: 'info',
          destination: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream,
        });
        const store = new QuickStore(database.db, logger);
        await store.saveRun(run('good'), 'audit-good', null, T0);
        await database.db
          .insertInto('quick_runs')
          .values([
            {
              id: 'not-json',
              run: '{',
              audit_id: 'x',
              reply: 'null',
              created_at: T0,
              updated_at: T0,
              finished_at: null,
            },
            {
              id: 'bad-state',
              run: JSON.stringify({
                ...run('bad-state'),
                items: [{ target: {}, name: '', state: { status: 'exploded' } }],
              }),
              audit_id: 'x',
              reply: 'null',
              created_at: T0,
              updated_at: T0,
              finished_at: null,
            },
          ])
          .execute();
        expect((await store.unfinishedRuns()).map((r) => r.run.id)).toEqual(['good']);
        expect(lines.filter((l) => l.includes('unreadable'))).toHaveLength(2);
      } finally {
        await database.close();
      }
    });
  });
});
