import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { DELIVERY_RETENTION_MS, deliveryKey, REPLAY_WINDOW_MS, ReplayGuard } from '../../src/slack/replay-guard.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { DeliveryStore } from '../../src/store/delivery-store.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

let database: Database;
let clock: ManualClock;
let guard: ReplayGuard;

beforeEach(async () => {
  database = await openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'nasha-replay-')) });
  clock = new ManualClock(T0);
  guard = new ReplayGuard({
    ledger: new DeliveryStore(database),
    clock,
    logger: createLogger({ level: 'silent' }),
    pruneDelayMs: 0,
  });
});
afterEach(async () => {
  await database.close();
});

const rows = () => database.db.selectFrom('slack_deliveries').selectAll().execute();

describe('ReplayGuard: at most once per delivery', () => {
  it('a trigger_id runs once; another trigger_id, even with the same body, is another delivery', async () => {
    const body = { command: '/nasha', text: 'snapshot create zpool-128310/logs' };
    expect(await guard.isFirstDelivery('command', '1.1.a', body)).toBe(true);
    expect(await guard.isFirstDelivery('command', '1.1.a', body)).toBe(false);
    expect(await guard.isFirstDelivery('command', '1.1.a', { ...body, text: 'other' })).toBe(false);
    expect(await guard.isFirstDelivery('command', '1.2.b', body)).toBe(true);
  });

  it('without a trigger_id, identical bodies are one delivery and different ones are not', async () => {
    const body = { type: 'block_actions', actions: [{ action_id: 'x', value: '1' }] };
    expect(await guard.isFirstDelivery('action', undefined, body)).toBe(true);
    expect(await guard.isFirstDelivery('action', undefined, structuredClone(body))).toBe(false);
    expect(
      await guard.isFirstDelivery('action', undefined, { ...body, actions: [{ action_id: 'x', value: '2' }] }),
    ).toBe(true);
  });

  it('stores a hash, never the trigger_id or what the user typed', async () => {
    await guard.isFirstDelivery('command', '1337.42.secret', { text: 'snapshot delete zpool-1/db/s --reason payroll' });
    const stored = JSON.stringify(await rows());
    expect(stored).not.toMatch(/1337|payroll|zpool/);
    expect(deliveryKey('command', '1337.42.secret', {})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps a record for two replay windows and a minute, then forgets it on a later request', async () => {
    expect(DELIVERY_RETENTION_MS).toBe(2 * REPLAY_WINDOW_MS + 60_000);
    await guard.isFirstDelivery('command', 'old', {});
    expect((await rows())[0]).toMatchObject({ received_at: T0, expires_at: T0 + DELIVERY_RETENTION_MS });

    // Still remembered at the last moment a copy could be accepted.
    clock.advance(DELIVERY_RETENTION_MS);
    expect(await guard.isFirstDelivery('command', 'old', {})).toBe(false);

    clock.advance(60_000);
    await guard.isFirstDelivery('command', 'new', {});
    await guard.pruned();
    expect((await rows()).map((r) => r.key)).toEqual([deliveryKey('command', 'new', {})]);
  });

  it('prunes at most once a minute', async () => {
    await guard.isFirstDelivery('command', 'a', {});
    clock.advance(DELIVERY_RETENTION_MS + 1);
    await guard.isFirstDelivery('command', 'b', {}); // prunes 'a'
    await guard.pruned();
    await database.db
      .insertInto('slack_deliveries')
      .values({ key: 'expired', kind: 'command', received_at: T0, expires_at: T0 })
      .execute();
    clock.advance(59_999);
    await guard.isFirstDelivery('command', 'c', {});
    await guard.pruned();
    expect((await rows()).map((r) => r.key)).toContain('expired');
    clock.advance(1);
    await guard.isFirstDelivery('command', 'd', {});
    await guard.pruned();
    expect((await rows()).map((r) => r.key)).not.toContain('expired');
  });

  it('does not wait for the prune: a request is answered while the delete is still to come', async () => {
    let pruneCalls = 0;
    const stuck = new ReplayGuard({
      ledger: {
        record: async () => true,
        keptKeys: async () => [],
        prune: () => {
          pruneCalls++;
          return new Promise<number>(() => undefined);
        },
      },
      clock,
      logger: createLogger({ level: 'silent' }),
      pruneDelayMs: 0,
    });
    expect(await stuck.isFirstDelivery('command', 'a', {})).toBe(true);
    expect(pruneCalls).toBe(0); // scheduled, not started: the request did not wait for it
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(pruneCalls).toBe(1);
  });

  it('throws when the ledger cannot be reached, so the caller runs nothing', async () => {
    await database.close();
    await expect(guard.isFirstDelivery('command', 'x', {})).rejects.toThrow();
  });

  it('knows a copy it has claimed at once, before the ledger has recorded the first', async () => {
    const claim = guard.claim('command', '5.5.e', {});
    expect(claim).toBeDefined();
    expect(guard.claim('command', '5.5.e', {})).toBeUndefined();
    expect(await rows()).toEqual([]);
    if (claim !== undefined) expect(await guard.record(claim)).toBe(true);
    expect((await rows()).map((r) => r.key)).toEqual([deliveryKey('command', '5.5.e', {})]);
  });

  it('a claim the ledger refuses is a copy recorded elsewhere: another replica on the same store', async () => {
    const replica = new ReplayGuard({
      ledger: new DeliveryStore(database),
      clock,
      logger: createLogger({ level: 'silent' }),
      pruneDelayMs: 0,
    });
    expect(await replica.isFirstDelivery('command', '6.6.f', {})).toBe(true);
    const claim = guard.claim('command', '6.6.f', {});
    expect(claim).toBeDefined(); // this process has not seen it…
    if (claim !== undefined) expect(await guard.record(claim)).toBe(false); // …the ledger has
    expect(guard.claim('command', '6.6.f', {})).toBeUndefined();
  });

  it('a process starting up knows at once the deliveries recorded before, until they are forgotten', async () => {
    await guard.isFirstDelivery('command', '7.7.g', {});
    clock.advance(DELIVERY_RETENTION_MS - 1);
    await guard.isFirstDelivery('command', '7.7.h', {});
    const restarted = new ReplayGuard({
      ledger: new DeliveryStore(database),
      clock,
      logger: createLogger({ level: 'silent' }),
      pruneDelayMs: 0,
    });
    expect(await restarted.loadRecorded()).toBe(2);
    expect(restarted.claim('command', '7.7.g', {})).toBeUndefined();
    expect(restarted.claim('command', '7.7.h', {})).toBeUndefined();
    clock.advance(2); // 7.7.g is past its retention: a copy now would be refused by Slack's signature check
    expect(await restarted.loadRecorded()).toBe(1);
  });

  it('gives up its claim when the ledger cannot be reached: a later copy is checked again', async () => {
    const failing = new ReplayGuard({
      ledger: {
        record: async () => {
          throw new Error('database down');
        },
        keptKeys: async () => [],
        prune: async () => 0,
      },
      clock,
      logger: createLogger({ level: 'silent' }),
      pruneDelayMs: 0,
    });
    const claim = failing.claim('command', '8.8.i', {});
    if (claim !== undefined) await expect(failing.record(claim)).rejects.toThrow(/database down/);
    expect(failing.claim('command', '8.8.i', {})).toBeDefined();
  });
});
