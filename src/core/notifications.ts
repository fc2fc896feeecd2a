/**
 * Notifications: every message the bot owes Slack besides audit records (approval cards and their rewrites,
 * the requester's DM, quick-run summaries), delivered by the same durable outbox. A notification is one Slack
 * message under a stable key (`approval:K7Q2XM:card`): posted once, then edited to its newest version. No Slack
 * or database imports: the message is opaque data the Slack layer wrote, and the store implements
 * `NotificationRepository`.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import {
  Outbox,
  type OutboxDelivery,
  type OutboxItem,
  type OutboxPublisher,
  type OutboxRepository,
  type OutboxTuning,
} from './outbox.js';
import type { JsonValue } from './ports.js';

/** A notification at its current version. */
export interface Notification extends OutboxItem {
  /** Its stable key: one Slack message per key, e.g. `approval:K7Q2XM:card`, `quick:<run id>:summary`. */
  readonly id: string;
  readonly version: number;
  /** What the message shows at this version, as the Slack layer wrote it. */
  readonly message: JsonValue;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** A reply in the thread of another notification's message: where that message is (it is posted first). */
  readonly thread?: PostedNotification | undefined;
}

export type NotificationDelivery = OutboxDelivery<Notification> & {
  /** When it was given up (a dead letter); null while it is owed or delivered. */
  deadAt: number | null;
};

/** A message owed to Slack, to post or to bring up to date. */
export interface NotificationInput {
  key: string;
  /** A channel id, or a user id for a DM with the app. Ignored once the key exists. */
  channel: string;
  message: JsonValue;
  /**
   * This message's version. Given: it supersedes an older one only (a repeated or late write changes nothing,
   * so version n never overwrites n+1). Not given: the next version (the newest write wins).
   */
  version?: number | undefined;
  /** Where to post instead if Slack refuses `channel` itself (the bot is not in it). */
  fallbackChannel?: string | undefined;
  /** The message already exists (posted before this outbox): it is edited, never posted. */
  existingTs?: string | undefined;
  /**
   * The key of another notification: this one is a reply in the thread of its message, posted only once that
   * message is (to the conversation it is in). `channel` should be the parent's channel (its lane).
   */
  threadOf?: string | undefined;
}

/** Persistence of notifications; `src/store/notification-store.ts` implements it over Kysely. */
export interface NotificationRepository extends OutboxRepository<Notification> {
  /**
   * Writes the notification: inserted if its key is new (due at once), else its message replaced by this newer
   * version (a pending older version is never sent; a dead letter is owed again). Atomic per statement, so
   * replicas writing the same key end with the newest version.
   */
  enqueue(notice: NotificationInput, now: number): Promise<void>;
  get(key: string): Promise<NotificationDelivery | undefined>;
  markDead(id: string, owner: string, failure: { error: string; at: number }): Promise<void>;
  reroute(id: string, owner: string, channel: string, at: number): Promise<void>;
  /** Notifications given up, kept in the table. */
  deadLetters(): Promise<number>;
  /**
   * No longer owed: the notifications whose key starts with `keyPrefix` not posted yet are never posted (one
   * being posted right now may still land). Returns how many were withdrawn.
   */
  withdraw(keyPrefix: string, now: number): Promise<number>;
}

const slackId = z.string().trim().min(1).max(64);
const NotificationInputSchema = z.object({
  key: z.string().min(1).max(200),
  channel: slackId,
  message: z.json(),
  version: z.number().int().positive().optional(),
  fallbackChannel: slackId.optional(),
  existingTs: z
    .string()
    .regex(/^\d{1,12}\.\d{1,9}$/)
    .optional(),
  threadOf: z.string().min(1).max(200).optional(),
});

/** A notification undelivered for this long, retried all along, is given up with an error log line. */
export const NOTIFICATION_GIVE_UP_MS = 24 * 60 * 60_000;

export interface NotificationOutboxOptions extends OutboxTuning {
  repo: NotificationRepository;
  publisher: OutboxPublisher<Notification>;
  clock: Clock;
  logger?: Logger | undefined;
  /** Default 24 h. */
  giveUpAfterMs?: number;
}

/** Where a notification was posted: the channel it went to (its fallback, if used) and its ts. */
export interface PostedNotification {
  channel: string;
  ts: string;
}

type PostedWaiter = (where: PostedNotification | undefined) => void;

/**
 * The notifications outbox: `send` writes a notification durably (idempotent on its key and version), the
 * `Outbox` loop delivers it, in creation order per channel, retrying with back-off and Retry-After until Slack
 * takes it, for at most `giveUpAfterMs`; then it is a dead letter (logged, counted, kept), never dropped
 * silently.
 */
export class NotificationOutbox extends Outbox<Notification> {
  private readonly notifications: NotificationRepository;
  private readonly waiters = new Map<string, PostedWaiter[]>();

  constructor(options: NotificationOutboxOptions) {
    super({
      ...options,
      giveUpAfterMs: options.giveUpAfterMs ?? NOTIFICATION_GIVE_UP_MS,
      names: { outbox: 'notification outbox', message: 'notification', idField: 'notification' },
    });
    this.notifications = options.repo;
  }

  /** Owes Slack this message: durable when this resolves, delivered soon after. */
  async send(notice: NotificationInput): Promise<void> {
    const parsed = NotificationInputSchema.parse(notice);
    await this.notifications.enqueue(parsed, this.clock.now());
    this.poke();
  }

  /**
   * Where the notification was posted, once it is: resolved when this process delivers it, or sees (after a
   * pass of its loop) that another did. Undefined if it is given up, or when the outbox stops first.
   */
  posted(key: string): Promise<PostedNotification | undefined> {
    return new Promise((resolve) => {
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]);
      this.poke();
    });
  }

  /** Withdraws what is not posted yet of the notifications under `keyPrefix` (see the repository's `withdraw`). */
  withdraw(keyPrefix: string): Promise<number> {
    return this.notifications.withdraw(keyPrefix, this.clock.now());
  }

  /** Notifications given up (dead letters). */
  deadLetters(): Promise<number> {
    return this.notifications.deadLetters();
  }

  override async stop(): Promise<void> {
    await super.stop();
    for (const key of [...this.waiters.keys()]) this.settle(key, undefined);
  }

  protected override delivered(delivery: OutboxDelivery<Notification>, where: { ts: string }): void {
    this.settle(delivery.record.id, { channel: delivery.channel, ts: where.ts });
  }

  protected override gaveUp(delivery: OutboxDelivery<Notification>): void {
    this.settle(delivery.record.id, undefined);
  }

  /** Posts made by another replica (or before the wait began) are read from the table. */
  protected override async passDone(): Promise<void> {
    for (const key of [...this.waiters.keys()]) {
      const row = await this.notifications.get(key);
      if (row === undefined || row.deadAt !== null) this.settle(key, undefined);
      else if (row.slackTs !== null) this.settle(key, { channel: row.channel, ts: row.slackTs });
    }
  }

  private settle(key: string, where: PostedNotification | undefined): void {
    const waiting = this.waiters.get(key);
    if (waiting === undefined) return;
    this.waiters.delete(key);
    for (const resolve of waiting) resolve(where);
  }
}
