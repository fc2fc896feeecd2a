import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { ProtectionStore } from '../../src/store/protection-store.js';
import { forEachBackend } from './test-database.js';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);

describe('ProtectionStore: the inventory of covered partitions', () => {
  forEachBackend((backend) => {
    it('knows whether an inventory was ever taken, even one that found nothing covered, and when the last was', async () => {
      const options = await backend.open();
      const database = await openDatabase(options);
      try {
        const store = new ProtectionStore(database.db);
        expect(await store.inventoryTakenAt()).toBeUndefined();
        await store.syncCovered([], { listed: ['zpool-1'], existing: ['zpool-1'] }, T0);
        expect(await store.covered()).toEqual([]);
        expect(await store.inventoryTakenAt()).toBe(T0);
        await store.syncCovered(
          [{ service: 'zpool-1', partition: 'data', policy: 'production' }],
          { listed: ['zpool-1'], existing: ['zpool-1'] },
          T0 + 60_000,
        );
        expect(await store.inventoryTakenAt()).toBe(T0 + 60_000);
        expect((await store.covered()).map((p) => p.partition)).toEqual(['data']);
      } finally {
        await database.close();
      }
      // Another process (a replica, the next start) reads the same.
      const reopened = await openDatabase(options);
      try {
        expect(await new ProtectionStore(reopened.db).inventoryTakenAt()).toBe(T0 + 60_000);
      } finally {
        await reopened.close();
      }
    });
  });
});
