import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/audit.js';
import { AuditExportStore } from '../../src/store/audit-export-store.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { openDatabase } from '../../src/store/database.js';
import { forEachBackend } from './test-database.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const record = (id: string): Omit<AuditRecord, 'hash'> => ({
  id,
  version: 1,
  createdAt: T0,
  updatedAt: T0,
  actorUserId: 'U0ADMIN',
  channelId: 'C0OPS',
  action: 'snapshot.create',
  target: { service: 'zpool-1', partition: 'data' },
  subject: 'snap',
  outcome: 'started',
  taskId: null,
  detail: null,
  auditChannel: 'C0AUDIT',
});

describe('AuditExportStore: one cursor per SIEM sink over the audit chain', () => {
  forEachBackend((backend) => {
    it('hands out every history row in seq order, once per sink, under a lease; failures keep the row', async () => {
      const database = await openDatabase(await backend.open());
      try {
        const audit = new AuditStore(database.db);
        const exports = new AuditExportStore(database.db, ['file', 'siem']);
        await exports.ensureCursors();
        await exports.ensureCursors(); // idempotent (every replica runs it at startup)
        expect(await exports.dueChannels(T0)).toEqual([]);
        await audit.insert(record('a'));
        await audit.update('a', { outcome: 'succeeded' }, T0 + 1);
        await audit.insert(record('b'));
        expect((await exports.dueChannels(T0 + 2)).sort()).toEqual(['file', 'siem']);
        expect(await exports.pending()).toEqual({ count: 6, oldestUpdatedAt: T0 });

        const first = await exports.claim('siem', 'me', T0 + 2, T0 + 60_000);
        expect(first?.record).toMatchObject({
          id: 'a',
          version: 1,
          outcome: 'started',
          chain: { seq: expect.any(Number) },
        });
        expect(first?.record.hash).toMatch(/^[0-9a-f]{64}$/);
        // Leased: nobody else takes it, and the other sink is independent.
        expect(await exports.claim('siem', 'other', T0 + 3, T0 + 60_000)).toBeUndefined();
        expect((await exports.claim('file', 'other', T0 + 3, T0 + 60_000))?.record.version).toBe(1);

        await exports.markFailed('siem', 'other', { error: 'not mine', nextAttemptAt: T0 }); // no-op: not its lease
        await exports.markFailed('siem', 'me', { error: 'HTTP 500', nextAttemptAt: T0 + 5_000, postedNothing: true });
        expect(await exports.claim('siem', 'me', T0 + 4, T0 + 60_000)).toBeUndefined(); // not due yet
        const again = await exports.claim('siem', 'me', T0 + 5_000, T0 + 60_000);
        expect(again).toMatchObject({ attempts: 1, lastError: 'HTTP 500', record: { id: 'a', version: 1 } });
        await exports.markDelivered('siem', 'me');
        const second = await exports.claim('siem', 'me', T0 + 5_001, T0 + 60_000);
        expect(second?.record).toMatchObject({ id: 'a', version: 2, outcome: 'succeeded', createdAt: T0 });
        expect(second?.record.chain?.prevHash).toBe(first?.record.hash);
        await exports.markDelivered('siem', 'me');
        const third = await exports.claim('siem', 'me', T0 + 5_002, T0 + 60_000);
        expect(third?.record).toMatchObject({ id: 'b', version: 1 });
        await exports.markDelivered('siem', 'me');
        expect(await exports.dueChannels(T0 + 6_000)).toEqual(['file']);
        expect((await exports.pending()).count).toBe(3);
        // A sink configured later starts at the beginning of the chain.
        const later = new AuditExportStore(database.db, ['new-sink']);
        await later.ensureCursors();
        expect((await later.claim('new-sink', 'me', T0 + 6_000, T0 + 60_000))?.record).toMatchObject({
          id: 'a',
          version: 1,
        });
      } finally {
        await database.close();
      }
    });
  });
});
