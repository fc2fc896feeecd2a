import { describe, expect, it } from 'vitest';
import type { BreakGlassReview } from '../../src/core/break-glass.js';
import { BreakGlassStore } from '../../src/store/break-glass-store.js';
import { openDatabase } from '../../src/store/database.js';
import { forEachBackend } from './test-database.js';

function review(id: string, createdAt: number): BreakGlassReview {
  return {
    id,
    status: 'pending',
    change: { action: 'snapshot.delete', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
    actor: { userId: 'U0ONCALL', channelId: 'C0OPS' },
    reason: 'the disk is full and payments are down',
    group: 'S0ONCALL',
    approverGroups: ['S0STORAGE'],
    auditId: `audit-${id}`,
    channel: 'C0APPROVALS',
    createdAt,
    acknowledgedBy: null,
    acknowledgedAt: null,
  };
}

describe('break-glass reviews in the database', () => {
  forEachBackend((backend) => {
    it('round-trips a review, lists the unacknowledged ones, and records one acknowledgement of two', async () => {
      const database = await openDatabase(await backend.open());
      const store = new BreakGlassStore(database.db);
      await store.insert(review('BBBBBB', 2_000));
      await store.insert(review('AAAAAA', 1_000));
      expect(await store.get('AAAAAA')).toEqual(review('AAAAAA', 1_000));
      expect((await store.unacknowledged()).map((r) => r.id)).toEqual(['AAAAAA', 'BBBBBB']);

      // Two clicks (or two replicas) at once: exactly one records it.
      const [first, second] = await Promise.all([
        store.acknowledge('AAAAAA', 'U0APPROVER', 5_000),
        store.acknowledge('AAAAAA', 'U0APPROVER2', 5_001),
      ]);
      const written = [first, second].filter((r) => r !== undefined);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject({ status: 'acknowledged' });
      const stored = await store.get('AAAAAA');
      expect(stored?.acknowledgedBy).toBe(written[0]?.acknowledgedBy);
      expect(stored?.acknowledgedAt).toBe(written[0]?.acknowledgedAt);
      expect(await store.acknowledge('AAAAAA', 'U0ADMIN', 6_000)).toBeUndefined();

      expect((await store.unacknowledged()).map((r) => r.id)).toEqual(['BBBBBB']);
      expect((await store.since(1_500)).map((r) => r.id)).toEqual(['BBBBBB']);
      expect(await store.get('ZZZZZZ')).toBeUndefined();
      await database.close();
    });
  });
});
