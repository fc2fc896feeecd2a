import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/audit.js';
import { AuditStore } from '../../src/store/audit-store.js';
import type { Database } from '../../src/store/database.js';
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
    expect(await store.headOfChannel('COTHER001', T0)).toEqual({ id: 'b', leaseUntil: T0 + 30_000 });
    expect(await store.pending()).toEqual({ count: 2, oldestUpdatedAt: T0 });
  });

  it('the head of a channel is its oldest record, in insertion order within a millisecond', async () => {
    for (const id of ['z', 'm', 'a']) await store.insert(record(id));
    expect((await store.headOfChannel('CAUDIT0001', T0))?.id).toBe('z');
  });
});
