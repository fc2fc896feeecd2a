import { describe, expect, it } from 'vitest';
import type { NotificationInput } from '../../src/core/notifications.js';
import { openDatabase } from '../../src/store/database.js';
import { NotificationStore } from '../../src/store/notification-store.js';
import { forEachBackend } from './test-database.js';

/**
 * The notification store on SQLite and PostgreSQL: idempotent writes by key and version, the shared outbox
 * transitions (claim, delivered, failed), fallback, dead letters, and two connections writing one key.
 */
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const card = (version: number, text = `v${version}`): NotificationInput => ({
  key: 'approval:K7Q2XM:card',
  channel: 'C0APPROVALS',
  message: { text, blocks: [] },
  version,
});

forEachBackend((backend) => {
  async function open(): Promise<{ store: NotificationStore; close: () => Promise<void> }> {
    const database = await openDatabase(await backend.open());
    return { store: new NotificationStore(database.db), close: () => database.close() };
  }

  describe('NotificationStore', () => {
    it('writes a key once; a newer version replaces the pending one, an older or equal one changes nothing', async () => {
      const { store, close } = await open();
      await store.enqueue(card(2), T0);
      await store.enqueue(card(2, 'replayed'), T0 + 1);
      expect(await store.get('approval:K7Q2XM:card')).toMatchObject({
        record: { id: 'approval:K7Q2XM:card', version: 2, message: { text: 'v2' }, createdAt: T0 },
        channel: 'C0APPROVALS',
        slackTs: null,
        deliveredVersion: 0,
        nextAttemptAt: T0,
        deadAt: null,
      });
      await store.enqueue(card(4), T0 + 2);
      await store.enqueue(card(3), T0 + 3); // late: version 3 never overwrites 4
      expect((await store.get('approval:K7Q2XM:card'))?.record).toMatchObject({ version: 4, message: { text: 'v4' } });
      // Without a version: the next one (the newest write wins).
      await store.enqueue({ key: 'quick:r1:summary', channel: 'C0INCIDENT', message: 'a' }, T0);
      await store.enqueue({ key: 'quick:r1:summary', channel: 'C0INCIDENT', message: 'b' }, T0 + 1);
      expect((await store.get('quick:r1:summary'))?.record).toMatchObject({ version: 2, message: 'b' });
      expect(await store.pending()).toEqual({ count: 2, oldestUpdatedAt: T0 + 1 });
      await close();
    });

    it('a thread reply waits for its parent to be posted, then carries where the parent is; withdraw by prefix', async () => {
      const { store, close } = await open();
      const reply = (key: string): NotificationInput => ({
        key,
        channel: 'C0APPROVALS',
        message: { text: key, blocks: [] },
        version: 1,
        threadOf: 'approval:K7Q2XM:card',
      });
      await store.enqueue(reply('approval:K7Q2XM:nudge:reminder:1'), T0);
      // No parent yet: not owed, not claimable.
      expect(await store.dueChannels(T0)).toEqual([]);
      expect(await store.claim('approval:K7Q2XM:nudge:reminder:1', 'one', T0, T0 + 30_000)).toBeUndefined();
      await store.enqueue(card(1), T0 + 1);
      expect(await store.channelHeads('C0APPROVALS')).toEqual([
        { id: 'approval:K7Q2XM:card', nextAttemptAt: T0 + 1, leaseUntil: null },
      ]);
      await store.claim('approval:K7Q2XM:card', 'one', T0 + 1, T0 + 30_000);
      await store.markDelivered('approval:K7Q2XM:card', 'one', 1, '1700000000.000100', 'C0APPROVALS');
      const claimed = await store.claim('approval:K7Q2XM:nudge:reminder:1', 'one', T0 + 2, T0 + 30_000);
      expect(claimed?.record.thread).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000100' });
      await store.markDelivered('approval:K7Q2XM:nudge:reminder:1', 'one', 1, '1700000000.000200', 'C0APPROVALS');
      // Withdrawn: what is not posted yet under the prefix, nothing posted, nothing of another request.
      await store.enqueue(reply('approval:K7Q2XM:nudge:reminder:2'), T0 + 3);
      await store.enqueue(reply('approval:K7Q2XM:thread:end'), T0 + 3);
      await store.enqueue({ ...reply('approval:OTHER1:nudge:reminder:1'), threadOf: 'approval:OTHER1:card' }, T0 + 3);
      expect(await store.withdraw('approval:K7Q2XM:nudge:', T0 + 4)).toBe(1);
      expect(await store.get('approval:K7Q2XM:nudge:reminder:2')).toMatchObject({ deliveredVersion: 1, slackTs: null });
      expect(await store.get('approval:K7Q2XM:nudge:reminder:1')).toMatchObject({ slackTs: '1700000000.000200' });
      expect(await store.channelHeads('C0APPROVALS')).toEqual([
        { id: 'approval:K7Q2XM:thread:end', nextAttemptAt: T0 + 3, leaseUntil: null },
      ]);
      await close();
    });

    it('delivers with the shared transitions: a post counts as a claim, the ts and the DM channel are kept', async () => {
      const { store, close } = await open();
      await store.enqueue({ key: 'approval:K7Q2XM:outcome:dm', channel: 'U0OPER', message: 'x', version: 1 }, T0);
      expect(await store.dueChannels(T0)).toEqual(['U0OPER']);
      expect(await store.channelHeads('U0OPER')).toEqual([
        { id: 'approval:K7Q2XM:outcome:dm', nextAttemptAt: T0, leaseUntil: null },
      ]);
      const claimed = await store.claim('approval:K7Q2XM:outcome:dm', 'one', T0, T0 + 30_000);
      expect(claimed).toMatchObject({ postClaims: 1, slackTs: null });
      expect(await store.claim('approval:K7Q2XM:outcome:dm', 'two', T0 + 1, T0 + 30_001)).toBeUndefined();
      await store.markFailed('approval:K7Q2XM:outcome:dm', 'one', {
        error: 'Slack answered HTTP 500',
        nextAttemptAt: T0 + 2_000,
        at: T0 + 10,
      });
      expect(await store.get('approval:K7Q2XM:outcome:dm')).toMatchObject({
        attempts: 1,
        postClaims: 1, // a 500 may have posted: the next attempt looks first
        failingSince: T0 + 10,
        nextAttemptAt: T0 + 2_000,
      });
      expect(await store.nextWakeAt(T0, 'one')).toBe(T0 + 2_000);
      await store.claim('approval:K7Q2XM:outcome:dm', 'two', T0 + 2_000, T0 + 32_000);
      await store.markDelivered('approval:K7Q2XM:outcome:dm', 'two', 1, '1700000000.000200', 'DU0OPER');
      expect(await store.get('approval:K7Q2XM:outcome:dm')).toMatchObject({
        slackTs: '1700000000.000200',
        slackChannel: 'DU0OPER',
        deliveredVersion: 1,
        attempts: 0,
        failingSince: null,
        channel: 'U0OPER',
      });
      expect(await store.latestTsBefore('U0OPER', 'later')).toBeUndefined();
      expect(await store.pending()).toEqual({ count: 0, oldestUpdatedAt: undefined });
      await close();
    });

    it('a message posted before the outbox is edited, never posted: its ts is known from the start', async () => {
      const { store, close } = await open();
      await store.enqueue({ ...card(5), existingTs: '1700000000.000100' }, T0);
      expect(await store.channelHeads('C0APPROVALS')).toHaveLength(1);
      const claimed = await store.claim('approval:K7Q2XM:card', 'one', T0, T0 + 30_000);
      expect(claimed).toMatchObject({ slackTs: '1700000000.000100', postClaims: 0 });
      await close();
    });

    it('reroutes an unposted row to its fallback, behind what that channel already owes', async () => {
      const { store, close } = await open();
      const summary = { key: 'quick:r1:summary', channel: 'C0INCIDENT', message: 's', fallbackChannel: 'U0OPER' };
      await store.enqueue(summary, T0);
      await store.enqueue({ key: 'approval:X:outcome:dm', channel: 'U0OPER', message: 'dm', version: 1 }, T0 + 5);
      await store.claim('quick:r1:summary', 'one', T0 + 10, T0 + 40_000);
      await store.reroute('quick:r1:summary', 'two', 'U0OPER', T0 + 11); // not the lease holder: nothing
      expect((await store.get('quick:r1:summary'))?.channel).toBe('C0INCIDENT');
      await store.reroute('quick:r1:summary', 'one', 'U0OPER', T0 + 12);
      expect(await store.get('quick:r1:summary')).toMatchObject({
        channel: 'U0OPER',
        fallbackChannel: null,
        postClaims: 0,
        nextAttemptAt: T0 + 12,
      });
      expect((await store.channelHeads('U0OPER')).map((head) => head.id)).toEqual(['approval:X:outcome:dm']);
      await close();
    });

    it('a dead letter is kept and counted, owes nothing, and is owed again by a newer version', async () => {
      const { store, close } = await open();
      await store.enqueue(card(2), T0);
      await store.claim('approval:K7Q2XM:card', 'one', T0, T0 + 30_000);
      await store.markFailed('approval:K7Q2XM:card', 'one', { error: 'down', nextAttemptAt: T0 + 1, at: T0 });
      await store.claim('approval:K7Q2XM:card', 'one', T0 + 1, T0 + 30_001);
      await store.markDead('approval:K7Q2XM:card', 'one', { error: 'still down', at: T0 + 86_400_000 });
      expect(await store.get('approval:K7Q2XM:card')).toMatchObject({
        deadAt: T0 + 86_400_000,
        lastError: 'still down',
        attempts: 2,
        failingSince: T0,
      });
      expect(await store.deadLetters()).toBe(1);
      expect(await store.dueChannels(T0 + 86_400_001)).toEqual([]);
      expect(await store.pending()).toEqual({ count: 0, oldestUpdatedAt: undefined });
      await store.enqueue(card(2, 'again'), T0 + 86_400_002); // the same version: still given up
      expect(await store.deadLetters()).toBe(1);
      await store.enqueue(card(3), T0 + 86_400_003);
      expect(await store.get('approval:K7Q2XM:card')).toMatchObject({ deadAt: null, failingSince: null });
      expect(await store.dueChannels(T0 + 86_400_003)).toEqual(['C0APPROVALS']);
      await close();
    });

    it('two connections writing one key end with one row at the newest version', async () => {
      const options = await backend.open();
      const [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
      const stores = [new NotificationStore(a.db), new NotificationStore(b.db)];
      await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]?.enqueue(card(20 - i), T0 + i)));
      const row = await stores[0]?.get('approval:K7Q2XM:card');
      expect(row?.record).toMatchObject({ version: 20, message: { text: 'v20' } });
      const count = await a.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
      await Promise.all([a.close(), b.close()]);
    });
  });
});
