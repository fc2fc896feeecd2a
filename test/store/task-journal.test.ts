import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { TaskJournal } from '../../src/store/task-journal.js';
import { openTestDatabase, resetTestDatabase } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nasha-journal-'));
  await resetTestDatabase();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TaskJournal', () => {
  it('add, finish and unfinished survive a reopen', async () => {
    const clock = new ManualClock(T0);
    const first = await openTestDatabase(dir);
    const journal = new TaskJournal({ db: first.db, clock });
    const reply = { responseUrl: 'https://hooks.slack.com/actions/T/1/x', channel: 'C0OPS0001', ts: '1.2' };
    const a = await journal.add({
      service: 'zpool-1',
      taskId: 101,
      auditId: 'audit-a',
      kind: 'snapshot.create',
      reply,
      deadlineAt: T0 + 600_000,
    });
    expect(a).toEqual({
      service: 'zpool-1',
      taskId: 101,
      auditId: 'audit-a',
      kind: 'snapshot.create',
      reply,
      createdAt: T0,
      deadlineAt: T0 + 600_000,
      finishedAt: null,
      outcome: null,
    });
    clock.advance(1_000);
    await journal.add({
      service: 'zpool-1',
      taskId: 102,
      auditId: null,
      kind: 'schedule.add',
      deadlineAt: T0 + 601_000,
    });
    clock.advance(1_000);
    await journal.add({
      service: 'zpool-2',
      taskId: 101,
      kind: 'snapshot.delete',
      reply: [1, 'two'],
      deadlineAt: T0 + 602_000,
    });
    clock.advance(1_000);
    expect(await journal.finish('zpool-1', 102, 'done')).toBe(true);
    await first.close();

    const second = await openTestDatabase(dir);
    try {
      const reopened = new TaskJournal({ db: second.db, clock });
      const open = await reopened.unfinished();
      expect(open.map((t) => [t.service, t.taskId, t.auditId, t.reply])).toEqual([
        ['zpool-1', 101, 'audit-a', reply],
        ['zpool-2', 101, null, [1, 'two']],
      ]);
      expect(await reopened.get('zpool-1', 102)).toMatchObject({
        finishedAt: T0 + 3_000,
        outcome: 'done',
        reply: null,
      });

      expect(await reopened.finish('zpool-1', 101, 'failed')).toBe(true);
      // The first outcome wins; unknown tasks report false.
      expect(await reopened.finish('zpool-1', 101, 'done')).toBe(false);
      expect(await reopened.finish('zpool-9', 1, 'lost')).toBe(false);
      expect((await reopened.unfinished()).map((t) => t.service)).toEqual(['zpool-2']);
    } finally {
      await second.close();
    }
  });

  it('adding the same task twice keeps the first entry', async () => {
    const clock = new ManualClock(T0);
    const database = await openTestDatabase(dir);
    try {
      const journal = new TaskJournal({ db: database.db, clock });
      await journal.add({ service: 's', taskId: 1, kind: 'first', deadlineAt: T0 + 1 });
      clock.advance(5);
      const again = await journal.add({ service: 's', taskId: 1, kind: 'second', deadlineAt: T0 + 2 });
      expect(again).toMatchObject({ kind: 'first', createdAt: T0, deadlineAt: T0 + 1 });
      expect(await journal.unfinished()).toHaveLength(1);
    } finally {
      await database.close();
    }
  });

  it('a damaged reply does not stop the other tasks from resuming', async () => {
    const clock = new ManualClock(T0);
    const database = await openTestDatabase(dir);
    try {
      const journal = new TaskJournal({ db: database.db, clock });
      await journal.add({ service: 's', taskId: 1, kind: 'k', reply: { ok: true }, deadlineAt: T0 });
      await journal.add({ service: 's', taskId: 2, kind: 'k', reply: { ok: true }, deadlineAt: T0 });
      await database.db.updateTable('tracked_tasks').set({ reply: '{broken' }).where('task_id', '=', 1).execute();
      expect((await journal.unfinished()).map((t) => t.reply)).toEqual([null, { ok: true }]);
    } finally {
      await database.close();
    }
  });
});
