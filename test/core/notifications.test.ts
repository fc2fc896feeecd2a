import { describe, expect, it } from 'vitest';
import { type Notification, NotificationOutbox, type NotificationOutboxOptions } from '../../src/core/notifications.js';
import { DeliveryError } from '../../src/core/outbox.js';
import { ManualClock } from '../../src/shared/clock.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { NotificationStore } from '../../src/store/notification-store.js';
import { captureLogger, FakePublisher, perTestDirectory, T0 } from './audit/harness.js';

/**
 * The notification outbox on the real store (SQLite) with a virtual clock and a fake publisher: what Slack
 * receives for each key under outages, rate limits, lost answers, refused channels and long outages. (Through
 * the real Slack client and two bot processes: test/e2e/notifications.test.ts.)
 */
const HOUR = 60 * 60_000;
const CARD = 'approval:K7Q2XM:card';
const DM = 'approval:K7Q2XM:outcome:dm';

const stores = perTestDirectory<{ database: Database; outbox: NotificationOutbox }>();

async function harness(
  options: Partial<Omit<NotificationOutboxOptions, 'repo' | 'publisher' | 'clock'>> & {
    clock?: ManualClock;
    publisher?: FakePublisher<Notification>;
  } = {},
) {
  const database = await openDatabase({ dataDir: stores.dir() });
  const repo = new NotificationStore(database.db);
  const clock = options.clock ?? new ManualClock(T0, { autoAdvance: true });
  const publisher = options.publisher ?? new FakePublisher<Notification>(clock);
  const outbox = new NotificationOutbox({
    idlePollMs: Number.POSITIVE_INFINITY,
    random: () => 0,
    ...options,
    repo,
    publisher,
    clock,
  });
  stores.track({ database, outbox });
  return { repo, clock, publisher, outbox };
}

const card = (version: number) => ({
  key: CARD,
  channel: 'C0APPROVALS',
  version,
  message: { text: `Approval #K7Q2XM v${version}`, blocks: [] },
});

describe('NotificationOutbox', () => {
  it('posts a key once, edits it for newer versions, and sends only the newest after an outage', async () => {
    const { outbox, publisher, clock } = await harness();
    outbox.start();
    await outbox.send(card(2));
    expect(await outbox.flush(HOUR)).toBe(true);
    const outageEnds = clock.now() + 10 * 60_000;
    publisher.failWith = (call) => (call.at < outageEnds ? new DeliveryError('Slack answered HTTP 500') : undefined);
    for (const version of [3, 4, 5]) await outbox.send(card(version));
    await outbox.send(card(4)); // late: never shown over 5
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.delivered.map((c) => [c.kind, c.version])).toEqual([
      ['post', 2],
      ['update', 5],
    ]);
    expect(publisher.messagesOf(CARD)).toBe(1);
    expect(publisher.calls.filter((c) => !c.ok).length).toBeGreaterThan(0);
    expect(publisher.calls.filter((c) => !c.ok).every((c) => c.version === 5 || c.version === 3)).toBe(true);
  });

  it('is idempotent on the key and version: the same DM written twice (two replicas, a sweep) is sent once', async () => {
    const { outbox, publisher } = await harness();
    const dm = { key: DM, channel: 'U0OPER', version: 1, message: { text: 'Approval #K7Q2XM: rejected', blocks: [] } };
    await outbox.send(dm);
    await outbox.send(dm);
    expect(await outbox.flush(HOUR)).toBe(true);
    await outbox.send(dm);
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.calls.map((c) => [c.kind, c.id, c.channel])).toEqual([['post', DM, 'U0OPER']]);
  });

  it("honours Slack's Retry-After exactly, and a post Slack answered with a 500 is looked for before posting again", async () => {
    const { outbox, publisher } = await harness();
    const failures = [
      new DeliveryError('Slack rate limit', { retryAfterMs: 7_000, refused: true }),
      new DeliveryError('Slack answered HTTP 500'),
    ];
    publisher.failWith = (call) => (call.kind === 'post' ? failures.shift() : undefined);
    await outbox.send(card(1));
    expect(await outbox.flush(HOUR)).toBe(true);
    const [limited, answered500, lookup, posted] = publisher.calls;
    expect(publisher.calls.map((c) => [c.kind, c.ok])).toEqual([
      ['post', false],
      ['post', false],
      ['find', true],
      ['post', true],
    ]);
    expect((answered500?.at ?? 0) - (limited?.at ?? 0)).toBe(7_000); // what Slack asked, no more
    expect(lookup?.at).toBeGreaterThan(answered500?.at ?? 0);
    expect(posted?.at).toBe(lookup?.at);
  });

  it('a post whose answer was lost is found in the channel and kept: one message', async () => {
    const { outbox, publisher } = await harness();
    let lost = false;
    publisher.loseAnswer = (call) => {
      if (lost || call.kind !== 'post') return false;
      lost = true;
      return true;
    };
    await outbox.send(card(1));
    expect(await outbox.flush(HOUR)).toBe(true);
    await outbox.send(card(2));
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.messagesOf(CARD)).toBe(1);
    expect(publisher.calls.map((c) => c.kind)).toEqual(['post', 'find', 'update']);
  });

  it('keeps creation order per channel: a newer DM waits behind an older one in back-off', async () => {
    const { outbox, publisher } = await harness({ minIntervalPerChannelMs: 0 });
    let limited = false;
    publisher.failWith = () => {
      if (limited) return undefined;
      limited = true;
      return new DeliveryError('Slack rate limit', { retryAfterMs: 30_000, refused: true });
    };
    for (const key of ['quick:r1:summary', 'approval:A:outcome:dm', 'approval:B:outcome:dm']) {
      await outbox.send({ key, channel: 'U0OPER', version: 1, message: { text: key, blocks: [] } });
    }
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.delivered.map((c) => c.id)).toEqual([
      'quick:r1:summary',
      'approval:A:outcome:dm',
      'approval:B:outcome:dm',
    ]);
  });

  it('a channel that refuses the bot gets its message in the fallback DM instead; posted() says where', async () => {
    const { outbox, publisher } = await harness();
    publisher.failWith = (call) =>
      call.channel === 'C0INCIDENT'
        ? new DeliveryError('Slack refused: not_in_channel', { permanent: true, refused: true, channelRefused: true })
        : undefined;
    outbox.start();
    await outbox.send({
      key: 'quick:r1:summary',
      channel: 'C0INCIDENT',
      fallbackChannel: 'U0OPER',
      version: 1,
      message: { text: 'Taking quick snapshots', blocks: [] },
    });
    expect(await outbox.posted('quick:r1:summary')).toEqual({ channel: 'U0OPER', ts: expect.any(String) });
    await outbox.send({ key: 'quick:r1:summary', channel: 'C0INCIDENT', message: { text: 'done', blocks: [] } });
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.calls.map((c) => [c.kind, c.channel, c.ok])).toEqual([
      ['post', 'C0INCIDENT', false],
      ['post', 'U0OPER', true],
      ['update', 'U0OPER', true],
    ]);
  });

  it('gives a notification up after 24 h of failures: an error line, a dead letter counted, nothing dropped silently', async () => {
    const { logger, lines } = captureLogger();
    const { outbox, publisher, repo, clock } = await harness({ logger });
    publisher.failWith = () => new DeliveryError('Slack answered HTTP 503');
    outbox.start();
    await outbox.send({ key: DM, channel: 'U0OPER', version: 1, message: { text: 'x', blocks: [] } });
    const posted = outbox.posted(DM);
    expect(await outbox.flush(48 * HOUR)).toBe(true);
    expect(await posted).toBeUndefined();
    const row = await repo.get(DM);
    expect(row?.deadAt).toBeGreaterThanOrEqual(T0 + 24 * HOUR);
    expect(row?.deadAt).toBeLessThan(T0 + 25 * HOUR);
    expect(row?.lastError).toBe('Slack answered HTTP 503');
    expect(await outbox.deadLetters()).toBe(1);
    expect(await outbox.depth()).toBe(0);
    const givenUp = lines.filter((l) => l['level'] === 50 && l['notification'] === DM);
    expect(givenUp).toHaveLength(1);
    expect(String(givenUp[0]?.['msg'])).toMatch(/given up/);
    // Retried all along, with back-off (each retry looks for the post the 503 may have made): none after.
    const attempts = publisher.calls;
    expect(attempts.slice(1).every((c) => c.kind === 'find')).toBe(true);
    expect(attempts.length).toBeGreaterThan(10);
    expect(attempts.every((c) => c.at <= (row?.deadAt ?? 0))).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(row?.deadAt ?? 0);
  });

  it('a claim that outlived its lease before posting does not post: the row goes back and is posted once', async () => {
    const { logger, lines } = captureLogger();
    const { outbox, publisher, repo, clock } = await harness({ logger, leaseMs: 30_000 });
    // The process stops for longer than its lease right after claiming (a long pause, SIGSTOP): by then
    // another replica may have taken the row and be posting it.
    const claim = repo.claim.bind(repo);
    const leases: number[] = [];
    repo.claim = async (id, owner, now, leaseUntil) => {
      const claimed = await claim(id, owner, now, leaseUntil);
      if (claimed !== undefined) leases.push(leaseUntil);
      if (claimed !== undefined && leases.length === 1) clock.advance(leaseUntil - now + 1);
      return claimed;
    };
    outbox.start();
    await outbox.send({ key: DM, channel: 'U0OPER', version: 1, message: 'Your request #K7Q2XM: approved' });
    expect(await outbox.flush(HOUR)).toBe(true);
    expect(publisher.messagesOf(DM)).toBe(1);
    expect(leases).toHaveLength(2);
    const post = publisher.calls.find((c) => c.kind === 'post');
    expect(post?.at).toBeLessThanOrEqual(leases[1] ?? 0); // posted under the second, live lease
    expect(lines.some((l) => String(l['msg']).includes('the lease ran out before the post'))).toBe(true);
  });

  it('two outboxes on one database (replicas) post each key exactly once', async () => {
    const clock = new ManualClock(T0, { autoAdvance: true });
    const publisher = new FakePublisher<Notification>(clock);
    const one = await harness({ clock, publisher });
    const two = await harness({ clock, publisher });
    const keys = Array.from({ length: 8 }, (_, i) => `approval:R${i}:outcome:dm`);
    await Promise.all(
      keys.map((key, i) =>
        (i % 2 === 0 ? one : two).outbox.send({ key, channel: `U0USER${i % 3}`, version: 1, message: key }),
      ),
    );
    const [a, b] = await Promise.all([one.outbox.flush(HOUR), two.outbox.flush(HOUR)]);
    expect(a && b).toBe(true);
    for (const key of keys) expect(publisher.messagesOf(key)).toBe(1);
    expect(publisher.calls).toHaveLength(keys.length);
  });
});
