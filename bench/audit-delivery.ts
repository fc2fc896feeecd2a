import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditDeliveryError,
  AuditOutbox,
  type AuditPublisher,
  type AuditRecord,
  AuditTrail,
} from '../src/core/audit.js';
import { ManualClock } from '../src/shared/clock.js';
import { AuditStore } from '../src/store/audit-store.js';
import { openDatabase } from '../src/store/database.js';

/** Slack's pace for one channel: one message (post or edit) per second. */
export const ALLOWED_INTERVAL_MS = 1_000;

export interface AuditCase {
  records: number;
  channels: number;
  /** Outboxes (replicas) sharing the database, each pacing itself. */
  replicas: number;
}

export interface AuditResult extends AuditCase {
  /** Messages Slack accepted: posts, and edits of records updated after they were posted. */
  messages: number;
  delivered: number;
  /** Records posted more than once (must be 0). */
  duplicates: number;
  /** Records whose latest version Slack does not show at the end (must be 0). */
  stale: number;
  /** 429s the fake Slack answered, each with a Retry-After. */
  rateLimited: number;
  /** Messages per virtual second per channel; the slowest channel and the mean. */
  rate: { slowest: number; mean: number };
  virtualSeconds: number;
  realMs: number;
  /** CPU per record: the outbox run, and the bare store work of one delivery (insert, claim, mark). */
  cpuMsPerRecord: { outbox: number; store: number };
}

/**
 * A Slack stand-in for the outbox, in the outbox's own (virtual) time: at most one message per
 * ALLOWED_INTERVAL_MS per channel, otherwise 429 with Retry-After in whole seconds, as Slack does.
 */
class RateLimitedSlack implements AuditPublisher {
  readonly posts = new Map<string, number>();
  readonly shown = new Map<string, number>();
  readonly accepted = new Map<string, number[]>();
  rateLimited = 0;
  private ts = 0;

  constructor(private readonly clock: ManualClock) {}

  async post(channel: string, record: AuditRecord): Promise<{ ts: string }> {
    this.admit(channel);
    this.posts.set(record.id, (this.posts.get(record.id) ?? 0) + 1);
    this.shown.set(record.id, record.version);
    this.ts += 1;
    return { ts: `1700000000.${String(this.ts).padStart(6, '0')}` };
  }

  async update(channel: string, _ts: string, record: AuditRecord): Promise<void> {
    this.admit(channel);
    this.shown.set(record.id, Math.max(this.shown.get(record.id) ?? 0, record.version));
  }

  private admit(channel: string): void {
    const now = this.clock.now();
    const times = this.accepted.get(channel) ?? [];
    const last = times.at(-1);
    if (last !== undefined && now - last < ALLOWED_INTERVAL_MS) {
      this.rateLimited++;
      const retryAfterMs = Math.ceil((ALLOWED_INTERVAL_MS - (now - last)) / 1_000) * 1_000;
      throw new AuditDeliveryError('Slack rate limit', { retryAfterMs });
    }
    times.push(now);
    this.accepted.set(channel, times);
  }
}

/** Scenario 3: records written in a burst, then delivered through the outbox(es) in virtual time. */
export async function auditDelivery(c: AuditCase): Promise<AuditResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nasha-bench-audit-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1), { autoAdvance: true });
  const slack = new RateLimitedSlack(clock);
  // One after the other: migrations take the file's write lock, and better-sqlite3 waits for it synchronously.
  const databases = [];
  for (let i = 0; i < c.replicas; i++) databases.push(await openDatabase({ dataDir: dir }));
  const outboxes = databases.map(
    (database) => new AuditOutbox({ repo: new AuditStore(database.db), publisher: slack, clock }),
  );
  const first = databases[0];
  if (first === undefined) throw new Error('no replica');
  const trail = new AuditTrail({
    repo: new AuditStore(first.db),
    clock,
    auditChannel: 'C0AUDIT0',
    outbox: outboxes[0],
  });
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const startedAt = clock.now();
    for (const outbox of outboxes) outbox.start();
    const ids: string[] = [];
    for (let i = 0; i < c.records; i++) {
      const record = await trail.record({
        actor: { userId: 'U0OPER', channelId: 'C0OPS' },
        action: 'snapshot.create',
        target: { service: 'zpool-128310', partition: `p${i % 40}` },
        subject: `snap-${i}`,
        outcome: 'started',
        auditChannel: `C0AUDIT${i % c.channels}`,
      });
      ids.push(record.id);
    }
    // A third of the way through the backlog every 5th change ends: posted ones become edits, the others
    // go out at version 2. Each channel stays busy throughout, so its rate is the outbox's pace.
    await clock.sleep(Math.round((c.records / c.channels / 3) * ALLOWED_INTERVAL_MS));
    for (let i = 0; i < ids.length; i += 5)
      await trail.update(ids[i] ?? '', { outcome: 'succeeded', taskId: 4_000_000 + i });
    const latest = (index: number) => (index % 5 === 0 ? 2 : 1);
    while (!ids.every((id, index) => slack.shown.get(id) === latest(index))) {
      await clock.sleep(1_000);
    }
    const realMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    await Promise.all(outboxes.map((outbox) => outbox.stop()));
    const rates = [...slack.accepted.values()].map((times) => {
      const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
      return span > 0 ? ((times.length - 1) * 1_000) / span : Number.NaN;
    });
    const lastAccept = Math.max(...[...slack.accepted.values()].map((times) => times.at(-1) ?? 0));
    return {
      ...c,
      messages: [...slack.accepted.values()].reduce((sum, times) => sum + times.length, 0),
      delivered: [...slack.shown.keys()].length,
      duplicates: [...slack.posts.values()].filter((count) => count > 1).length,
      stale: ids.filter((id, index) => slack.shown.get(id) !== latest(index)).length,
      rateLimited: slack.rateLimited,
      rate: { slowest: Math.min(...rates), mean: rates.reduce((a, b) => a + b, 0) / rates.length },
      virtualSeconds: (lastAccept - startedAt) / 1_000,
      realMs,
      cpuMsPerRecord: {
        outbox: (used.user + used.system) / 1_000 / c.records,
        store: await storeCpuPerRecord(c.records),
      },
    };
  } finally {
    await Promise.all(outboxes.map((outbox) => outbox.stop()));
    await Promise.all(databases.map((database) => database.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The baseline: the least store work per delivered record (write it, claim it, mark it delivered), no outbox. */
async function storeCpuPerRecord(records: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nasha-bench-store-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    const store = new AuditStore(database.db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const trail = new AuditTrail({ repo: store, clock, auditChannel: 'C0AUDIT0' });
    const cpu = process.cpuUsage();
    for (let i = 0; i < records; i++) {
      const record = await trail.record({
        actor: { userId: 'U0OPER', channelId: 'C0OPS' },
        action: 'snapshot.create',
        target: { service: 'zpool-128310', partition: `p${i % 40}` },
        subject: `snap-${i}`,
        outcome: 'started',
      });
      await store.claim(record.id, 'owner', clock.now(), clock.now() + 30_000);
      await store.markDelivered(record.id, 'owner', 1, `1700000000.${i}`);
    }
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1_000 / records;
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
