import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import {
  AuditDeliveryError,
  type AuditInput,
  AuditOutbox,
  type AuditOutboxOptions,
  type AuditRecord,
  AuditTrail,
} from '../../../src/core/audit.js';
import type { OutboxItem, OutboxPublisher } from '../../../src/core/outbox.js';
import { type Clock, ManualClock } from '../../../src/shared/clock.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import type { Database } from '../../../src/store/database.js';
import { openDatabase } from '../../../src/store/database.js';
import { resetTestDatabase } from '../../store/test-database.js';

export const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
export const AUDIT_CHANNEL = 'CAUDIT0001';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nasha-audit-'));
  await resetTestDatabase();
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temporary directory for each test (`dir()`), and the outboxes opened on it (`track`) stopped and their
 * databases closed after it.
 */
export function perTestDirectory<Opened extends { outbox: { stop(): Promise<void> }; database: Database }>() {
  let dir = '';
  let cleanup = async () => {};
  const opened: Opened[] = [];
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    for (const h of opened.splice(0)) {
      await h.outbox.stop();
      await h.database.close();
    }
    await cleanup();
  });
  return {
    dir: () => dir,
    track: (h: Opened): Opened => {
      opened.push(h);
      return h;
    },
  };
}

export interface PublisherCall {
  kind: 'post' | 'update' | 'find';
  channel: string;
  id: string;
  version: number;
  ts: string;
  at: number;
  ok: boolean;
}

/**
 * Records every call with its clock time; `failWith` decides per call whether Slack "fails" (nothing done),
 * `loseAnswer` whether Slack does it but the answer never arrives (the publisher throws as on a timeout).
 * `find` looks through the messages posted so far, as conversations.history would. Any outbox's rows (audit
 * records by default).
 */
export class FakePublisher<Item extends OutboxItem = AuditRecord> implements OutboxPublisher<Item> {
  readonly calls: PublisherCall[] = [];
  failWith: ((call: Omit<PublisherCall, 'ok' | 'ts'>) => Error | undefined) | undefined;
  loseAnswer: ((call: Omit<PublisherCall, 'ok' | 'ts'>) => boolean) | undefined;
  /** Calls to `find`, with the `after` each was given. */
  readonly finds: Array<{ id: string; after: string | undefined }> = [];
  private nextTs = 1;
  /** What each message shows: ts → record id and version. */
  private readonly shown = new Map<string, { id: string; version: number }>();

  constructor(private readonly clock: Clock) {}

  get delivered(): PublisherCall[] {
    return this.calls.filter((call) => call.ok && call.kind !== 'find');
  }

  /** Messages in Slack per record id (posts that were made, answered or not). */
  messagesOf(id: string): number {
    return [...this.shown.values()].filter((message) => message.id === id).length;
  }

  async post(channel: string, record: Item): Promise<{ ts: string }> {
    const ts = `1700000000.${String(this.nextTs).padStart(6, '0')}`;
    this.attempt('post', channel, ts, record);
    this.nextTs += 1;
    return { ts };
  }

  async update(channel: string, ts: string, record: Item): Promise<void> {
    this.attempt('update', channel, ts, record);
  }

  async find(
    channel: string,
    record: Item,
    after: string | undefined,
  ): Promise<{ ts: string; version: number } | undefined> {
    this.finds.push({ id: record.id, after });
    this.attempt('find', channel, '', record);
    for (const [ts, message] of this.shown) {
      if (message.id === record.id && (after === undefined || ts > after)) return { ts, version: message.version };
    }
    return undefined;
  }

  private attempt(kind: PublisherCall['kind'], channel: string, ts: string, record: Item): void {
    const call = { kind, channel, id: record.id, version: record.version, at: this.clock.now() };
    const error = this.failWith?.(call);
    this.calls.push({ ...call, ts, ok: error === undefined });
    if (error !== undefined) throw error;
    if (kind !== 'find') this.shown.set(ts, { id: record.id, version: record.version });
    if (kind !== 'find' && this.loseAnswer?.(call) === true) {
      this.nextTs += kind === 'post' ? 1 : 0;
      throw new AuditDeliveryError('Slack unreachable: timeout of 10000ms exceeded');
    }
  }
}

/** A pino logger whose lines land in `lines` (parsed). */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export interface AuditHarness {
  database: Database;
  repo: AuditStore;
  clock: ManualClock;
  publisher: FakePublisher;
  outbox: AuditOutbox;
  trail: AuditTrail;
}

/** Database + store + trail + outbox over one ManualClock (auto-advancing unless told otherwise). */
export async function auditHarness(
  dir: string,
  options: {
    clock?: ManualClock;
    publisher?: FakePublisher;
    outbox?: Partial<Omit<AuditOutboxOptions, 'repo' | 'publisher' | 'clock'>>;
  } = {},
): Promise<AuditHarness> {
  // Always SQLite here: these tests fast-forward an auto-advancing virtual clock, and with a networked
  // database the clock jumps while queries are in flight (leases "expire" mid-query). The same store
  // code runs on PostgreSQL in test/store (CAS, leases) and in the two-process replica test.
  const database = await openDatabase({ dataDir: dir });
  const repo = new AuditStore(database.db);
  const clock = options.clock ?? new ManualClock(T0, { autoAdvance: true });
  const publisher = options.publisher ?? new FakePublisher(clock);
  const outbox = new AuditOutbox({ repo, publisher, clock, idlePollMs: Number.POSITIVE_INFINITY, ...options.outbox });
  const trail = new AuditTrail({ repo, clock, auditChannel: AUDIT_CHANNEL, outbox });
  return { database, repo, clock, publisher, outbox, trail };
}

export function input(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    actor: { userId: 'U0ALICE01', channelId: 'C0OPS0001' },
    action: 'snapshot.create',
    target: { service: 'zpool-123456', partition: 'backups' },
    subject: 'before-upgrade',
    outcome: 'started',
    ...overrides,
  };
}
