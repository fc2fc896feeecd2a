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

describe('TaskJournal: change intents (write-ahead)', () => {
  const intent = (id: string, createdAt: number) => ({
    id,
    service: 'zpool-1',
    partition: 'data',
    kind: 'snapshot.create' as const,
    subject: `snap-${id}`,
    auditId: `audit-${id}`,
    reply: { responseUrl: 'https://hooks.slack.com/actions/T/1/x' },
    createdAt,
  });

  it('a lease is claimed by one reconciler only once it ran out, never by its own holder', async () => {
    const clock = new ManualClock(T0);
    const database = await openTestDatabase(dir);
    try {
      const journal = new TaskJournal({ db: database.db, clock });
      await journal.addIntent(intent('a', T0), { owner: 'writer', until: T0 + 20_000 });
      expect(await journal.nextIntentDueAt()).toBe(T0 + 20_000);
      expect(await journal.claimIntents({ owner: 'other', until: T0 + 40_000 }, T0 + 19_999, 10)).toEqual([]);
      // Expired, but the writer itself never takes its own work back through the sweep.
      expect(await journal.claimIntents({ owner: 'writer', until: T0 + 60_000 }, T0 + 20_000, 10)).toEqual([]);
      const [claims1, claims2] = await Promise.all([
        journal.claimIntents({ owner: 'r1', until: T0 + 50_000 }, T0 + 20_000, 10),
        journal.claimIntents({ owner: 'r2', until: T0 + 50_000 }, T0 + 20_000, 10),
      ]);
      expect([...claims1, ...claims2]).toEqual([
        { ...intent('a', T0), kind: 'snapshot.create', sentAt: null, checks: 0 },
      ]);
      const winner = claims1.length === 1 ? 'r1' : 'r2';
      // The loser's renewals fail; the winner's succeed.
      expect(await journal.renewIntent('a', { owner: winner === 'r1' ? 'r2' : 'r1', until: T0 + 90_000 })).toBe(false);
      expect(await journal.renewIntent('a', { owner: winner, until: T0 + 90_000 })).toBe(true);
      expect(await journal.nextIntentDueAt()).toBe(T0 + 90_000);

      await journal.releaseIntent('a', winner, { at: T0 + 120_000, checks: 3 });
      expect(await journal.claimIntents({ owner: 'r3', until: T0 + 200_000 }, T0 + 119_999, 10)).toEqual([]);
      const again = await journal.claimIntents({ owner: 'r3', until: T0 + 200_000 }, T0 + 120_000, 10);
      expect(again.map((i) => [i.id, i.checks])).toEqual([['a', 3]]);
    } finally {
      await database.close();
    }
  });

  it('attaching the task journals it and closes the intent in one step; a closed intent stays closed', async () => {
    const clock = new ManualClock(T0);
    const first = await openTestDatabase(dir);
    const journal = new TaskJournal({ db: first.db, clock });
    await journal.addIntent(intent('b', T0), { owner: 'w', until: T0 + 20_000 });
    await journal.addIntent(intent('c', T0 + 1), { owner: 'w', until: T0 + 20_000 });
    clock.advance(100);
    await journal.markIntentSent('b', T0 + 100);
    const entry = {
      service: 'zpool-1',
      taskId: 4_000_123,
      auditId: 'audit-b',
      kind: 'snapshot.create',
      reply: { responseUrl: 'https://hooks.slack.com/actions/T/1/x' },
      deadlineAt: T0 + 600_000,
    };
    expect(await journal.attachTask('b', entry)).toBe(true);
    expect(await journal.attachTask('b', { ...entry, taskId: 4_000_124 })).toBe(false);
    expect(await journal.closeIntent('b', 'not_applied')).toBe(false);
    expect(await journal.closeIntent('c', 'not_applied')).toBe(true);
    expect(await journal.renewIntent('c', { owner: 'w', until: T0 + 99_000 })).toBe(false);
    await first.close();

    const second = await openTestDatabase(dir);
    try {
      const reopened = new TaskJournal({ db: second.db, clock });
      expect((await reopened.unfinished()).map((t) => [t.taskId, t.auditId, t.reply])).toEqual([
        [4_000_123, 'audit-b', entry.reply],
      ]);
      expect(await reopened.intentOfAudit('audit-b')).toMatchObject({
        id: 'b',
        sentAt: T0 + 100,
        taskId: 4_000_123,
        outcome: 'journaled',
        finishedAt: T0 + 100,
      });
      expect(await reopened.intentOfAudit('audit-c')).toMatchObject({ outcome: 'not_applied', taskId: null });
      expect(await reopened.intentOfAudit('audit-none')).toBeUndefined();
      expect(await reopened.nextIntentDueAt()).toBeUndefined();
      expect(await reopened.claimIntents({ owner: 'r', until: T0 + 1e9 }, T0 + 1e8, 10)).toEqual([]);
      expect(await reopened.journaledTaskIds('zpool-1', T0)).toEqual([4_000_123]);
      expect(await reopened.journaledTaskIds('zpool-1', T0 + 101)).toEqual([]);
      expect(await reopened.journaledTaskIds('zpool-2', T0)).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('an intent of a kind this release does not know is left alone', async () => {
    const clock = new ManualClock(T0);
    const database = await openTestDatabase(dir);
    try {
      const journal = new TaskJournal({ db: database.db, clock });
      await journal.addIntent(intent('d', T0), { owner: 'w', until: T0 });
      await journal.addIntent(intent('e', T0 + 1), { owner: 'w', until: T0 });
      await database.db.updateTable('change_intents').set({ kind: 'partition.grow' }).where('id', '=', 'd').execute();
      const claimed = await journal.claimIntents({ owner: 'r', until: T0 + 10 }, T0 + 5, 10);
      expect(claimed.map((i) => i.id)).toEqual(['e']);
      await expect(
        journal.addIntent({ ...intent('f', T0), kind: 'partition.grow' as never }, { owner: 'w', until: T0 }),
      ).rejects.toThrow();
    } finally {
      await database.close();
    }
  });
});
