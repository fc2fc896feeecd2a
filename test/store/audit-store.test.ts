import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditDeliveryError, AuditOutbox, type AuditRecord } from '../../src/core/audit.js';
import { ManualClock } from '../../src/shared/clock.js';
import { AuditStore } from '../../src/store/audit-store.js';
import type { Database } from '../../src/store/database.js';
import { FakePublisher } from '../core/audit/harness.js';
import { openTestDatabase, resetTestDatabase } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
let dir: string;
let database: Database;
let store: AuditStore;

function record(id: string, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    actorUserId: 'U0ALICE01',
    channelId: null,
    action: 'schedule.add',
    target: { service: 'zpool-1' },
    subject: 'day-1',
    outcome: 'started',
    taskId: null,
    detail: null,
    auditChannel: 'CAUDIT0001',
    hash: null,
    ...overrides,
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nasha-audit-store-'));
  await resetTestDatabase();
  database = await openTestDatabase(dir);
  store = new AuditStore(database.db);
});

afterEach(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AuditStore', () => {
  it('claim is a compare-and-set lease: one winner until delivered or expired', async () => {
    await store.insert(record('a'));
    expect(await store.claim('a', 'one', T0, T0 + 30_000)).toBeDefined();
    expect(await store.claim('a', 'two', T0 + 29_999, T0 + 60_000)).toBeUndefined();
    // Expired: someone else may take it.
    expect(await store.claim('a', 'two', T0 + 30_000, T0 + 60_000)).toBeDefined();
    // The old owner's failure report no longer touches the row.
    await store.markFailed('a', 'one', { error: 'late', nextAttemptAt: T0 + 99_999 });
    expect(await store.get('a')).toMatchObject({ attempts: 0, lastError: null, nextAttemptAt: T0 });
  });

  it('a delivered row is not claimable until its next version, and keeps its first ts', async () => {
    await store.insert(record('a'));
    const claimed = await store.claim('a', 'one', T0, T0 + 30_000);
    expect(claimed?.record.version).toBe(1);
    await store.markDelivered('a', 'one', 1, '111.1');
    expect(await store.claim('a', 'one', T0, T0 + 30_000)).toBeUndefined();
    expect(await store.dueChannels(T0)).toEqual([]);

    await store.update('a', { outcome: 'succeeded' }, T0 + 5);
    expect(await store.dueChannels(T0 + 5)).toEqual(['CAUDIT0001']);
    expect((await store.claim('a', 'one', T0 + 5, T0 + 30_005))?.slackTs).toBe('111.1');
    await store.markDelivered('a', 'one', 2, '999.9');
    expect(await store.get('a')).toMatchObject({ slackTs: '111.1', deliveredVersion: 2 });
  });

  it('a version delivered late never lowers delivered_version', async () => {
    await store.insert(record('a'));
    await store.markDelivered('a', 'x', 3, '1.1');
    await store.markDelivered('a', 'x', 1, '1.1');
    expect((await store.get('a'))?.deliveredVersion).toBe(3);
  });

  it('failures back the row off; nextWakeAt sees retries and leases', async () => {
    await store.insert(record('a'));
    await store.insert(record('b', { auditChannel: 'COTHER001' }));
    expect(await store.nextWakeAt(T0, 'me')).toBeUndefined(); // both due now: nothing to wait for
    await store.claim('a', 'one', T0, T0 + 30_000);
    await store.markFailed('a', 'one', { error: 'slack down', nextAttemptAt: T0 + 8_000 });
    await store.claim('b', 'two', T0, T0 + 30_000);
    expect(await store.get('a')).toMatchObject({ attempts: 1, lastError: 'slack down', nextAttemptAt: T0 + 8_000 });
    expect(await store.nextWakeAt(T0, 'me')).toBe(T0 + 8_000);
    expect(await store.nextWakeAt(T0 + 8_000, 'me')).toBe(T0 + 30_000);
    // Our own lease is not a reason to wake: we hear when our delivery ends.
    expect(await store.nextWakeAt(T0 + 8_000, 'two')).toBeUndefined();
    expect(await store.dueChannels(T0)).toEqual(['COTHER001']);
    expect(await store.channelHeads('COTHER001')).toEqual([{ id: 'b', nextAttemptAt: T0, leaseUntil: T0 + 30_000 }]);
    expect(await store.pending()).toEqual({ count: 2, oldestUpdatedAt: T0 });
  });

  it('posts go in creation order: an unposted head in its retry delay holds back the newer ones', async () => {
    for (const id of ['a', 'b', 'c']) await store.insert(record(id));
    await store.insert(record('old', { createdAt: T0 - 10, updatedAt: T0 - 10 }));
    await store.claim('old', 'one', T0, T0 + 30_000);
    await store.markDelivered('old', 'one', 1, '1700000000.000100');
    await store.update('old', { outcome: 'succeeded' }, T0 + 1);

    await store.claim('a', 'one', T0, T0 + 30_000);
    await store.markFailed('a', 'one', { error: 'slack down', nextAttemptAt: T0 + 8_000 });
    // b and c are due, but the channel's next post is a's; old's edit does not wait for it.
    expect(await store.channelHeads('CAUDIT0001')).toEqual([
      { id: 'old', nextAttemptAt: T0 - 10, leaseUntil: null },
      { id: 'a', nextAttemptAt: T0 + 8_000, leaseUntil: null },
    ]);
    expect(await store.nextWakeAt(T0 + 1, 'me')).toBe(T0 + 8_000);
  });

  it('counts claims to post that Slack never confirmed; a refused post is not counted', async () => {
    await store.insert(record('a'));
    expect((await store.claim('a', 'one', T0, T0 + 30_000))?.postClaims).toBe(1);
    await store.markFailed('a', 'one', { error: 'timeout', nextAttemptAt: T0 + 1 });
    expect((await store.claim('a', 'one', T0 + 1, T0 + 30_000))?.postClaims).toBe(2);
    await store.markFailed('a', 'one', { error: 'ratelimited', nextAttemptAt: T0 + 2, postedNothing: true });
    expect((await store.get('a'))?.postClaims).toBe(1);
    expect((await store.claim('a', 'one', T0 + 2, T0 + 30_000))?.postClaims).toBe(2);
    await store.markDelivered('a', 'one', 1, '1700000000.000200');
    await store.update('a', { outcome: 'succeeded' }, T0 + 3);
    // An edit is no post claim.
    expect((await store.claim('a', 'one', T0 + 3, T0 + 30_000))?.postClaims).toBe(0);
  });

  it('latestTsBefore: the newest message among the channel’s earlier records', async () => {
    await store.insert(record('a'));
    await store.insert(record('b')); // same millisecond: after a by insertion
    await store.insert(record('c', { createdAt: T0 + 5, updatedAt: T0 + 5 }));
    await store.insert(record('x', { auditChannel: 'COTHER001', createdAt: T0 - 1, updatedAt: T0 - 1 }));
    expect(await store.latestTsBefore('CAUDIT0001', 'c')).toBeUndefined();
    await store.markDelivered('x', 'o', 1, '1800000000.000000');
    await store.markDelivered('a', 'o', 1, '1700000000.000100');
    expect(await store.latestTsBefore('CAUDIT0001', 'a')).toBeUndefined();
    expect(await store.latestTsBefore('CAUDIT0001', 'b')).toBe('1700000000.000100');
    await store.markDelivered('b', 'o', 1, '1700000000.000900');
    expect(await store.latestTsBefore('CAUDIT0001', 'c')).toBe('1700000000.000900');
  });

  it('two replicas keep creation order: the second never posts past a head the first left in back-off', async () => {
    const clock = new ManualClock(T0);
    const publisher = new FakePublisher(clock);
    const other = await openTestDatabase(dir); // a second connection (pool) to the same store
    const outboxes = [store, new AuditStore(other.db)].map(
      (repo, i) =>
        new AuditOutbox({ repo, publisher, clock, owner: `replica-${i}`, idlePollMs: 5_000, random: () => 0 }),
    );
    try {
      for (let i = 0; i < 6; i++) await store.insert(record(`r${i}`, { subject: `#${i}` }));
      publisher.failWith = (call) => (call.id === 'r0' ? new AuditDeliveryError('Slack answered HTTP 503') : undefined);
      outboxes[0]?.start();
      await vi.waitFor(async () => expect((await store.get('r0'))?.attempts).toBe(1));
      // The second replica starts (or the first restarts): it sees only the table.
      outboxes[1]?.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(publisher.delivered).toEqual([]);
      publisher.failWith = undefined;
      for (let step = 0; step < 40 && publisher.delivered.length < 6; step++) {
        clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(publisher.delivered.map((c) => c.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    } finally {
      await Promise.all(outboxes.map((outbox) => outbox.stop()));
      await other.close();
    }
  });

  it('the head of a channel is its oldest record, in insertion order within a millisecond', async () => {
    for (const id of ['z', 'm', 'a']) await store.insert(record(id));
    expect((await store.channelHeads('CAUDIT0001')).map((head) => head.id)).toEqual(['z']);
  });
});

describe('changeCounts (the daily digest)', () => {
  it('counts the changes made per action in [from, to), nothing else', async () => {
    await store.insert(record('a', { action: 'snapshot.create', outcome: 'succeeded' }));
    await store.insert(record('b', { action: 'snapshot.create', outcome: 'partial' }));
    await store.insert(record('c', { action: 'snapshot.delete', outcome: 'succeeded' }));
    await store.insert(record('d', { action: 'snapshot.delete', outcome: 'denied' }));
    await store.insert(
      record('e', { action: 'schedule.add', outcome: 'succeeded', createdAt: T0 + 10, updatedAt: T0 + 10 }),
    );
    await store.insert(
      record('f', { action: 'schedule.add', outcome: 'succeeded', createdAt: T0 - 1, updatedAt: T0 - 1 }),
    );
    const counts = await store.changeCounts(T0, T0 + 10);
    expect([...counts].sort((x, y) => x.action.localeCompare(y.action))).toEqual([
      { action: 'snapshot.create', count: 2 },
      { action: 'snapshot.delete', count: 1 },
    ]);
  });
});
