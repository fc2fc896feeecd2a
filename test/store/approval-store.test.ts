import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../src/core/approvals.js';
import { ApprovalStore } from '../../src/store/approval-store.js';
import { openDatabase } from '../../src/store/database.js';
import { forEachBackend } from './test-database.js';

function request(id: string, now = 1_000): ApprovalRequest {
  return {
    id,
    version: 1,
    state: 'pending',
    change: { action: 'snapshot.delete', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
    requester: { userId: 'U0REQ', channelId: 'C0OPS' },
    reason: 'cleanup',
    preview: { kind: 'snapshot', name: 'snap-a', expiration: null, customLeft: 1, enabled: ['hour-1'] },
    contentHash: 'h',
    configVersion: '1:abc',
    quorum: 1,
    approverGroups: ['S0STORAGE'],
    approvals: [],
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 3_600_000,
    decidedBy: null,
    decisionReason: null,
    taskId: null,
    outcomeDetail: null,
    auditId: null,
    reply: { responseUrl: 'http://127.0.0.1/x' },
    card: { channel: 'C0APPROVALS', ts: null, version: 0 },
    nudges: { reminders: 0, escalated: false },
  };
}

describe('approval requests in the database', () => {
  forEachBackend((backend) => {
    it('round-trips a request and applies a transition only from the version it names', async () => {
      const database = await openDatabase(await backend.open());
      const store = new ApprovalStore(database.db);
      await store.insert(request('AAAAAA'));
      expect(await store.get('AAAAAA')).toEqual(request('AAAAAA'));
      const moved = await store.update(
        'AAAAAA',
        1,
        { approvals: [{ userId: 'U0A', at: 5 }], state: 'approved', decidedBy: 'U0A' },
        2_000,
      );
      expect(moved).toMatchObject({
        version: 2,
        state: 'approved',
        approvals: [{ userId: 'U0A', at: 5 }],
        updatedAt: 2_000,
      });
      expect(await store.update('AAAAAA', 1, { state: 'rejected' }, 3_000)).toBeUndefined();
      expect((await store.get('AAAAAA'))?.state).toBe('approved');
      expect((await store.open()).map((r) => r.id)).toEqual(['AAAAAA']);
      await database.close();
    });

    it('closedOf: one requester’s ended requests since a time, newest first, bounded', async () => {
      const database = await openDatabase(await backend.open());
      const store = new ApprovalStore(database.db);
      for (const [id, at] of [
        ['CLOSE1', 1_000],
        ['CLOSE2', 2_000],
        ['CLOSE3', 3_000],
        ['OPEN01', 4_000],
      ] as const) {
        await store.insert(request(id, at));
        if (id !== 'OPEN01') await store.update(id, 1, { state: 'cancelled' }, at + 10);
      }
      await store.insert({ ...request('OTHER1', 3_500), requester: { userId: 'U0ELSE', channelId: null } });
      await store.update('OTHER1', 1, { state: 'rejected' }, 3_600);
      expect((await store.closedOf('U0REQ', 1_500, 10)).map((r) => r.id)).toEqual(['CLOSE3', 'CLOSE2']);
      expect((await store.closedOf('U0REQ', 0, 1)).map((r) => r.id)).toEqual(['CLOSE3']);
      await database.close();
    });

    it('keeps the outcome detail as data (the audit detail JSON); a row written as plain text reads as text', async () => {
      const database = await openDatabase(await backend.open());
      const store = new ApprovalStore(database.db);
      await store.insert(request('DDDDDD'));
      const failure = { outcome: 'failed', status: 'customerError', details: 'Quota exceeded' } as const;
      await store.update('DDDDDD', 1, { state: 'failed', outcomeDetail: { task: failure } }, 2_000);
      expect((await store.get('DDDDDD'))?.outcomeDetail).toEqual({ task: failure });
      const row = await database.db
        .selectFrom('approval_requests')
        .select('outcome_detail')
        .where('id', '=', 'DDDDDD')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(row.outcome_detail ?? '')).toEqual({ task: failure });
      // As an older version wrote it.
      await database.db
        .updateTable('approval_requests')
        .set({ outcome_detail: 'the bot stopped before sending the change to OVH' })
        .where('id', '=', 'DDDDDD')
        .execute();
      expect((await store.get('DDDDDD'))?.outcomeDetail).toEqual({
        text: 'the bot stopped before sending the change to OVH',
      });
      await store.update('DDDDDD', 2, { outcomeDetail: null }, 3_000);
      expect((await store.get('DDDDDD'))?.outcomeDetail).toBeNull();
      await database.close();
    });

    it('50 concurrent transitions from one version: exactly one wins, across two connections (replicas)', async () => {
      const options = await backend.open();
      const [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
      const stores = [new ApprovalStore(a.db), new ApprovalStore(b.db)];
      await stores[0]?.insert(request('BBBBBB'));
      const attempts = Array.from({ length: 50 }, (_, i) =>
        stores[i % 2]?.update('BBBBBB', 1, { state: 'executing', decidedBy: `U${i}` }, 10 + i),
      );
      const winners = (await Promise.all(attempts)).filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect((await stores[1]?.get('BBBBBB'))?.version).toBe(2);
      await Promise.all([a.close(), b.close()]);
    });

    it('never lowers the card version handed to the outbox; a newer request version makes the card stale', async () => {
      const options = await backend.open();
      const [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
      const [one, two] = [new ApprovalStore(a.db), new ApprovalStore(b.db)];
      await one.insert(request('CCCCCC'));
      expect((await two.staleCards()).map((r) => r.id)).toEqual(['CCCCCC']);
      await one.update('CCCCCC', 1, { state: 'expired' }, 400);
      await one.update('CCCCCC', 2, { outcomeDetail: { text: 'x' } }, 401);
      await Promise.all([one.cardQueued('CCCCCC', 3), two.cardQueued('CCCCCC', 2)]);
      await two.cardQueued('CCCCCC', 1); // late: never lowers it
      expect((await one.get('CCCCCC'))?.card).toEqual({ channel: 'C0APPROVALS', ts: null, version: 3 });
      expect((await two.staleCards()).map((r) => r.id)).toEqual([]);
      await one.update('CCCCCC', 3, { outcomeDetail: { text: 'y' } }, 402);
      expect((await two.staleCards()).map((r) => r.id)).toEqual(['CCCCCC']);
      await Promise.all([a.close(), b.close()]);
    });
  });
});
