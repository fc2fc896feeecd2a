import { describe, expect, it, vi } from 'vitest';
import {
  AuditDeliveryError,
  AuditOutbox,
  type AuditPublisher,
  type AuditRecord,
  type AuditRepository,
} from '../../../src/core/audit.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import { openDatabase } from '../../../src/store/database.js';
import {
  AUDIT_CHANNEL,
  type AuditHarness,
  auditHarness,
  captureLogger,
  FakePublisher,
  input,
  perTestDirectory,
  T0,
} from './harness.js';

const HOUR = 60 * 60_000;

const stores = perTestDirectory<AuditHarness>();

async function harness(options: Parameters<typeof auditHarness>[1] = {}): Promise<AuditHarness> {
  return stores.track(await auditHarness(stores.dir(), options));
}

describe('AuditOutbox', () => {
  it('posts a new record to the audit channel and saves the ts', async () => {
    const { trail, outbox, publisher, repo } = await harness();
    outbox.start();
    const record = await trail.record(input());

    expect(await outbox.flush(60_000)).toBe(true);
    expect(publisher.calls).toEqual([
      { kind: 'post', channel: AUDIT_CHANNEL, id: record.id, version: 1, ts: '1700000000.000001', at: T0, ok: true },
    ]);
    const stored = await repo.get(record.id);
    expect(stored).toMatchObject({ slackTs: '1700000000.000001', deliveredVersion: 1, attempts: 0, lastError: null });
    expect(await outbox.depth()).toBe(0);
  });

  it('edits the same message when the record changes after delivery', async () => {
    const { trail, outbox, publisher, clock } = await harness();
    outbox.start();
    const record = await trail.record(input());
    await outbox.flush(60_000);

    clock.advance(5_000);
    await trail.update(record.id, { taskId: 4242 });
    clock.advance(20_000);
    await trail.update(record.id, { outcome: 'succeeded' });
    expect(await outbox.flush(60_000)).toBe(true);

    // Version 2 may or may not get its own edit, depending on timing; the last edit shows version 3.
    const [post, ...edits] = publisher.calls;
    expect(post).toMatchObject({ kind: 'post', version: 1 });
    expect(edits.length).toBeGreaterThanOrEqual(1);
    for (const edit of edits) expect(edit).toMatchObject({ kind: 'update', ts: post?.ts, ok: true });
    expect(edits.at(-1)?.version).toBe(3);
  });

  it('loses nothing during a Slack outage and delivers everything once Slack is back', async () => {
    // Jitter 0: each delay is the lower bound of its equal-jitter range (half the doubling ceiling).
    const { trail, outbox, publisher, repo, clock } = await harness({ outbox: { random: () => 0 } });
    const outageEnds = T0 + 10 * 60_000;
    publisher.failWith = (call) =>
      call.at < outageEnds ? new AuditDeliveryError('slack is down (503)', {}) : undefined;
    outbox.start();
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await trail.record(input({ subject: `snap-${i}` })));

    expect(await outbox.flush(60 * 60_000)).toBe(true);
    const delivered = publisher.delivered;
    expect(delivered.map((c) => c.id)).toEqual(records.map((r) => r.id));
    expect(delivered.every((c) => c.kind === 'post' && c.at >= outageEnds)).toBe(true);
    // The channel waits as a whole during the outage, so only the oldest record was retried meanwhile.
    const failed = publisher.calls.filter((c) => !c.ok);
    expect(failed.length).toBeGreaterThan(2);
    expect(new Set(failed.map((c) => c.id))).toEqual(new Set([records[0]?.id]));
    // Back-off doubles from retryBaseMs (2 s) up to retryMaxMs: 1–2 s, 2–4 s, 4–8 s, …
    const gaps = failed.slice(1).map((c, i) => c.at - (failed[i]?.at ?? 0));
    expect(gaps.slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
    // Each retry first looked for a message the unanswered post might have left (the look failed too).
    expect(failed.slice(1).every((c) => c.kind === 'find')).toBe(true);
    for (const record of records) expect((await repo.get(record.id))?.deliveredVersion).toBe(1);
    expect(clock.now()).toBeGreaterThanOrEqual(outageEnds);
  });

  it("honours Slack's Retry-After (in clock time)", async () => {
    const { trail, outbox, publisher } = await harness();
    let limited = false;
    publisher.failWith = () => {
      if (limited) return undefined;
      limited = true;
      return new AuditDeliveryError('ratelimited', { retryAfterMs: 30_000, refused: true });
    };
    outbox.start();
    const record = await trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);

    expect(publisher.calls.map((c) => [c.ok, c.at])).toEqual([
      [false, T0],
      [true, T0 + 30_000],
    ]);
    expect(publisher.delivered[0]?.id).toBe(record.id);
  });

  it('honours a Retry-After shorter or longer than the back-off: what Slack asks, no more', async () => {
    const { trail, outbox, publisher } = await harness({ outbox: { random: () => 0.5 } });
    const asked = [1_200, 7_000, 7_000, 7_000];
    publisher.failWith = (call) =>
      call.kind === 'post' && asked.length > 0
        ? new AuditDeliveryError('ratelimited', { retryAfterMs: asked.shift(), refused: true })
        : undefined;
    outbox.start();
    await trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);
    // The back-off alone would have waited 1.5 s, 3 s, 6 s, 12 s; a refused post needs no look-up.
    expect(publisher.calls.map((c) => [c.kind, c.at - T0])).toEqual([
      ['post', 0],
      ['post', 1_200],
      ['post', 8_200],
      ['post', 15_200],
      ['post', 22_200],
    ]);
  });

  it('paces one channel to one send per second, while other channels do not wait', async () => {
    const { trail, outbox, publisher } = await harness();
    const a1 = await trail.record(input({ auditChannel: 'CAAAA0001', subject: 'a1' }));
    const a2 = await trail.record(input({ auditChannel: 'CAAAA0001', subject: 'a2' }));
    const a3 = await trail.record(input({ auditChannel: 'CAAAA0001', subject: 'a3' }));
    const b1 = await trail.record(input({ auditChannel: 'CBBBB0001', subject: 'b1' }));
    const b2 = await trail.record(input({ auditChannel: 'CBBBB0001', subject: 'b2' }));
    outbox.start();
    expect(await outbox.flush(60_000)).toBe(true);

    const at = (id: string) => publisher.calls.find((c) => c.id === id)?.at;
    expect([at(a1.id), at(a2.id), at(a3.id)]).toEqual([T0, T0 + 1_000, T0 + 2_000]);
    expect([at(b1.id), at(b2.id)]).toEqual([T0, T0 + 1_000]);
  });

  it('delivers after a restart what a stopped outbox left behind', async () => {
    const first = await harness();
    first.publisher.failWith = () => new AuditDeliveryError('slack is down', {});
    first.outbox.start();
    const a = await first.trail.record(input({ subject: 'a' }));
    const b = await first.trail.record(input({ subject: 'b' }));
    await first.trail.update(b.id, { outcome: 'succeeded', taskId: 77 });
    await first.outbox.flush(1_000);
    await first.outbox.stop();
    await first.database.close();
    expect(first.publisher.delivered).toEqual([]);

    const second = await harness({ clock: new ManualClock(first.clock.now(), { autoAdvance: true }) });
    expect(await second.outbox.depth()).toBe(2);
    second.outbox.start();
    expect(await second.outbox.flush(HOUR)).toBe(true);
    // Creation order holds across the restart: `b`, due at once, waits for `a`, which was in back-off.
    expect(second.publisher.delivered.map((c) => [c.kind, c.id, c.version])).toEqual([
      ['post', a.id, 1],
      ['post', b.id, 2],
    ]);
  });

  it('after a restart, records never attempted wait for the oldest one, still in its retry delay', async () => {
    const clock = new ManualClock(T0);
    const first = await harness({ clock });
    first.publisher.failWith = () => new AuditDeliveryError('Slack answered HTTP 503', {});
    const records: AuditRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(await first.trail.record(input({ subject: `#${i}` })));
    first.outbox.start();
    await vi.waitFor(async () => expect((await first.repo.get(records[0]?.id ?? ''))?.attempts).toBe(1));
    await first.outbox.stop();
    await first.database.close();

    // The next process knows nothing of the first one's pause: only the table.
    const second = await harness({ clock });
    second.outbox.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.publisher.calls).toEqual([]); // #1…#9 are due, but #0 is not yet
    // Past #0's retry delay (at most 2 s), then on at Slack's pace of one message a second.
    for (let step = 0; step < 30 && second.publisher.delivered.length < 10; step++) {
      clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(second.publisher.delivered.map((c) => c.id)).toEqual(records.map((r) => r.id));
  });

  it('waits for the lease of a crashed process before delivering its row again', async () => {
    const first = await harness();
    const record = await first.trail.record(input());
    // The process claims the row, then dies before posting.
    expect(await first.repo.claim(record.id, 'crashed-replica', T0, T0 + 30_000)).toBeDefined();
    await first.database.close();

    const second = await harness({ clock: new ManualClock(T0, { autoAdvance: true }) });
    second.outbox.start();
    expect(await second.outbox.flush(HOUR)).toBe(true);
    // Its claim counted a post that may have been made: look first, then post (none was found).
    expect(second.publisher.calls.map((c) => [c.kind, c.at])).toEqual([
      ['find', T0 + 30_000],
      ['post', T0 + 30_000],
    ]);
  });

  it('never posts twice when the ts could not be saved: the retry edits the posted message', async () => {
    const h = await harness();
    let failSave = true;
    const flaky: AuditRepository = Object.assign(Object.create(h.repo) as AuditStore, {
      markDelivered: async (...args: Parameters<AuditStore['markDelivered']>) => {
        if (failSave) {
          failSave = false;
          throw new Error('disk I/O error');
        }
        return h.repo.markDelivered(...args);
      },
    });
    const outbox = new AuditOutbox({
      repo: flaky,
      publisher: h.publisher,
      clock: h.clock,
      idlePollMs: Number.POSITIVE_INFINITY,
    });
    const record = await h.trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);

    const ts = h.publisher.calls[0]?.ts;
    expect(h.publisher.calls.map((c) => [c.kind, c.ts])).toEqual([
      ['post', ts],
      ['update', ts],
    ]);
    expect((await h.repo.get(record.id))?.slackTs).toBe(ts);
  });

  it('when even the failure cannot be written, the row comes back after its lease, as an edit', async () => {
    const h = await harness();
    let failWrites = true;
    const broken = Object.assign(Object.create(h.repo) as AuditStore, {
      markDelivered: async (...args: Parameters<AuditStore['markDelivered']>) => {
        if (failWrites) throw new Error('database is locked');
        return h.repo.markDelivered(...args);
      },
      markFailed: async (...args: Parameters<AuditStore['markFailed']>) => {
        if (failWrites) {
          failWrites = false;
          throw new Error('database is locked');
        }
        return h.repo.markFailed(...args);
      },
    });
    const outbox = new AuditOutbox({
      repo: broken,
      publisher: h.publisher,
      clock: h.clock,
      idlePollMs: Number.POSITIVE_INFINITY,
    });
    const record = await h.trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);
    const ts = h.publisher.calls[0]?.ts;
    expect(h.publisher.calls.map((c) => [c.kind, c.ts, c.at])).toEqual([
      ['post', ts, T0],
      ['update', ts, T0 + 30_000],
    ]);
    expect((await h.repo.get(record.id))?.slackTs).toBe(ts);
  });

  it('keeps a record Slack refuses for good, backs off for long, and logs the error once', async () => {
    const { logger, lines } = captureLogger();
    const { trail, outbox, publisher, repo, clock } = await harness({ outbox: { logger } });
    publisher.failWith = (call) =>
      call.channel === 'CGONE0001'
        ? new AuditDeliveryError('channel_not_found', { permanent: true, refused: true })
        : undefined;
    outbox.start();
    const lost = await trail.record(input({ auditChannel: 'CGONE0001' }));
    const fine = await trail.record(input());
    expect(await outbox.flush(60_000)).toBe(false);

    expect(publisher.delivered.map((c) => c.id)).toEqual([fine.id]);
    expect(await repo.get(lost.id)).toMatchObject({
      deliveredVersion: 0,
      attempts: 1,
      lastError: 'channel_not_found',
      nextAttemptAt: T0 + HOUR,
    });
    // Retried hourly; still one error in the log.
    expect(await outbox.flush(3 * HOUR + 1)).toBe(false);
    const within = (at: number) => at <= T0 + 3 * HOUR + 1;
    expect(publisher.calls.filter((c) => c.id === lost.id && within(c.at)).map((c) => c.at)).toEqual([
      T0,
      T0 + HOUR,
      T0 + 2 * HOUR,
      T0 + 3 * HOUR,
    ]);
    expect(lines.filter((l) => l['level'] === 50 && l['auditId'] === lost.id)).toHaveLength(1);
    expect(await outbox.depth()).toBe(1);
    expect(await outbox.oldestPendingAgeMs()).toBe(clock.now() - T0);

    // Once the channel exists again, the record goes out.
    publisher.failWith = undefined;
    expect(await outbox.flush(2 * HOUR)).toBe(true);
    expect(publisher.delivered.map((c) => c.id)).toEqual([fine.id, lost.id]);
  });

  it('keeps a row it cannot read (written by a newer release) instead of dropping it', async () => {
    const { logger, lines } = captureLogger();
    const { trail, outbox, publisher, repo, database } = await harness({ outbox: { logger } });
    const record = await trail.record(input());
    await database.db.updateTable('audit_records').set({ outcome: 'teleported' }).execute();
    expect(await outbox.flush(60_000)).toBe(false);
    expect(publisher.calls).toEqual([]);
    const row = await database.db.selectFrom('audit_records').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ id: record.id, delivered_version: 0, attempts: 1, lease_owner: null });
    expect(row.last_error).toMatch(/unknown outcome "teleported"/);
    expect(lines.filter((l) => l['level'] === 50)).toHaveLength(1);
    await expect(repo.get(record.id)).rejects.toThrow(/cannot be read/);
  });

  it('two outboxes on one database (replicas) deliver each version exactly once', async () => {
    const h = await harness();
    let sentByOther = 0;
    const other = new AuditOutbox({
      repo: new AuditStore(h.database.db),
      publisher: {
        post: (channel, record) => {
          sentByOther += 1;
          return h.publisher.post(channel, record);
        },
        update: (channel, ts, record) => {
          sentByOther += 1;
          return h.publisher.update(channel, ts, record);
        },
      },
      clock: h.clock,
      owner: 'replica-b',
      idlePollMs: Number.POSITIVE_INFINITY,
    });
    const channels = ['CAAAA0001', 'CBBBB0001', 'CCCCC0001'];
    h.outbox.start();
    other.start();
    const records = [];
    for (let i = 0; i < 12; i++) {
      records.push(await h.trail.record(input({ auditChannel: channels[i % 3], subject: `s${i}` })));
    }
    // Changes race with both loops.
    for (const [i, record] of records.entries()) {
      await h.trail.update(record.id, { taskId: 1000 + i });
      if (i % 2 === 0) await h.trail.update(record.id, { outcome: 'succeeded' });
      h.clock.advance(150);
    }
    const [a, b] = await Promise.all([h.outbox.flush(HOUR), other.flush(HOUR)]);
    await other.stop();
    expect(a && b).toBe(true);
    // Both really took part.
    expect(sentByOther).toBeGreaterThan(0);
    expect(sentByOther).toBeLessThan(h.publisher.delivered.length);

    const seen = new Set<string>();
    for (const call of h.publisher.delivered) {
      const key = `${call.id}@${call.version}`;
      expect(seen.has(key), `version delivered twice: ${key}`).toBe(false);
      seen.add(key);
    }
    for (const [i, record] of records.entries()) {
      const calls = h.publisher.delivered.filter((c) => c.id === record.id);
      expect(calls.filter((c) => c.kind === 'post')).toHaveLength(1);
      const finalVersion = i % 2 === 0 ? 3 : 2;
      expect(calls.at(-1)?.version).toBe(finalVersion);
      expect((await h.repo.get(record.id))?.deliveredVersion).toBe(finalVersion);
    }
  });

  it('two processes (separate connections to one file) never deliver the same row twice', async () => {
    const clock = new ManualClock(T0, { autoAdvance: true });
    const publisher = new FakePublisher(clock);
    const a = await harness({ clock, publisher });
    const records = [];
    for (let i = 0; i < 10; i++) {
      records.push(await a.trail.record(input({ auditChannel: i % 2 ? 'CAAAA0001' : 'CBBBB0001' })));
    }
    const b = await harness({ clock, publisher, outbox: { owner: 'process-b' } });
    a.outbox.start();
    b.outbox.start();
    const [doneA, doneB] = await Promise.all([a.outbox.flush(HOUR), b.outbox.flush(HOUR)]);
    expect(doneA && doneB).toBe(true);
    expect(publisher.delivered.map((c) => c.id).sort()).toEqual(records.map((r) => r.id).sort());
  });

  it('a post whose answer was lost is looked for, found and kept: one message, later versions edit it', async () => {
    const { trail, outbox, publisher, repo } = await harness();
    publisher.loseAnswer = (call) => call.kind === 'post' && publisher.calls.length === 1;
    outbox.start();
    const record = await trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);
    const posted = publisher.calls[0]?.ts;
    expect(publisher.calls.map((c) => [c.kind, c.ok])).toEqual([
      ['post', true],
      ['find', true],
    ]);
    expect(publisher.messagesOf(record.id)).toBe(1);
    expect(await repo.get(record.id)).toMatchObject({ slackTs: posted, deliveredVersion: 1 });

    await trail.update(record.id, { outcome: 'succeeded' });
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.calls.at(-1)).toMatchObject({ kind: 'update', ts: posted, version: 2, ok: true });
    expect(publisher.messagesOf(record.id)).toBe(1);
  });

  it('a lost post found showing an older version is edited to the current one', async () => {
    const clock = new ManualClock(T0);
    const { trail, outbox, publisher, repo } = await harness({ clock });
    let lost = false;
    publisher.loseAnswer = (call) => {
      if (lost || call.kind !== 'post') return false;
      lost = true;
      return true;
    };
    const record = await trail.record(input());
    outbox.start();
    await vi.waitFor(async () => expect((await repo.get(record.id))?.attempts).toBe(1));
    await trail.update(record.id, { outcome: 'succeeded', taskId: 42 });
    clock.advance(10_000); // past the retry delay
    await vi.waitFor(async () => expect(await outbox.depth()).toBe(0));
    expect(publisher.calls.map((c) => [c.kind, c.version])).toEqual([
      ['post', 1],
      ['find', 2],
      ['update', 2],
    ]);
    expect(publisher.messagesOf(record.id)).toBe(1);
  });

  it('looks only after the previous record’s message (posts are in creation order)', async () => {
    const { trail, outbox, publisher } = await harness();
    const first = await trail.record(input({ subject: 'first' }));
    const second = await trail.record(input({ subject: 'second' }));
    publisher.loseAnswer = (call) => call.kind === 'post' && call.id === second.id && publisher.finds.length === 0;
    expect(await outbox.flush(HOUR)).toBe(true);
    const firstTs = publisher.calls.find((c) => c.id === first.id)?.ts;
    expect(publisher.finds).toEqual([{ id: second.id, after: firstTs }]);
    expect(publisher.messagesOf(second.id)).toBe(1);
  });

  it('a publisher that cannot look (no history scope) gets the post again, with a warning', async () => {
    const { logger, lines } = captureLogger();
    const { trail, outbox, publisher } = await harness({ outbox: { logger } });
    publisher.loseAnswer = (call) => call.kind === 'post' && publisher.calls.length === 1;
    publisher.failWith = (call) =>
      call.kind === 'find' ? new AuditDeliveryError('Slack refused: missing_scope', { permanent: true }) : undefined;
    const record = await trail.record(input());
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.calls.map((c) => [c.kind, c.ok])).toEqual([
      ['post', true],
      ['find', false],
      ['post', true],
    ]);
    expect(publisher.messagesOf(record.id)).toBe(2);
    expect(lines.filter((l) => l['level'] === 40 && /cannot look/.test(String(l['msg'])))).toHaveLength(1);
  });

  it('a claim lasts longer than the publisher’s longest attempt', async () => {
    const h = await harness({ clock: new ManualClock(T0) });
    const slow: AuditPublisher = {
      maxAttemptMs: 40_000,
      post: () => new Promise(() => {}), // never answers: the lease is what matters here
      update: async () => {},
    };
    const outbox = new AuditOutbox({ repo: h.repo, publisher: slow, clock: h.clock, idlePollMs: Infinity });
    const record = await h.trail.record(input());
    outbox.start();
    await vi.waitFor(async () => {
      const row = await h.database.db.selectFrom('audit_records').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ id: record.id, lease_until: T0 + 80_000, post_claims: 1 });
    });
    void outbox.stop();
    expect(() => new AuditOutbox({ repo: h.repo, publisher: slow, clock: h.clock, leaseMs: 30_000 })).toThrow(
      /does not outlast/,
    );
  });

  it('flush without start runs the loop only for the flush', async () => {
    const { trail, outbox, publisher } = await harness();
    await trail.record(input());
    expect(await outbox.depth()).toBe(1);
    expect(await outbox.flush(60_000)).toBe(true);
    expect(publisher.delivered).toHaveLength(1);
    await trail.record(input());
    await new Promise((resolve) => setImmediate(resolve));
    expect(publisher.calls).toHaveLength(1);
  });

  it('reports depth and the age of the oldest undelivered change', async () => {
    const { trail, outbox, clock } = await harness({ clock: new ManualClock(T0) });
    expect(await outbox.depth()).toBe(0);
    expect(await outbox.oldestPendingAgeMs()).toBe(0);
    await trail.record(input());
    clock.advance(4_000);
    await trail.record(input());
    clock.advance(1_000);
    expect(await outbox.depth()).toBe(2);
    expect(await outbox.oldestPendingAgeMs()).toBe(5_000);
  });

  it('a second database opened on the same directory sees the same rows', async () => {
    const h = await harness();
    const record = await h.trail.record(input());
    const again = await openDatabase({ dataDir: stores.dir() });
    try {
      expect((await new AuditStore(again.db).get(record.id))?.record).toEqual(record);
    } finally {
      await again.close();
    }
  });
});
