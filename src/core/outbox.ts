/**
 * The durable Slack outbox: whatever the bot owes Slack (audit messages, notifications) is a row first, then a
 * message an `Outbox` posts once and keeps at the row's latest version. No Slack or database imports: a store
 * implements `OutboxRepository`, the Slack layer implements `OutboxPublisher`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type BackoffPolicy, backoffDelay } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';

/** What an outbox row delivers: one Slack message per id, showing its latest version. */
export interface OutboxItem {
  readonly id: string;
  /** Grows with each change; the outbox delivers until the message shows it. */
  readonly version: number;
}

/** A row together with its delivery state. */
export interface OutboxDelivery<Item extends OutboxItem> {
  record: Item;
  /** Where it is posted; also its lane: a channel's posts go out in creation order, one send at a time. */
  channel: string;
  /** Where Slack says the posted message is, when that is not `channel` (a post to a user id lands in a DM). */
  slackChannel?: string | null | undefined;
  slackTs: string | null;
  deliveredVersion: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  /**
   * Claims of the row to post it that Slack never confirmed (counting the current one). Above 1, an earlier
   * post may have reached Slack without its answer reaching us (a timeout, a crash): look before posting.
   */
  postClaims: number;
  /** Since when attempts have failed with no delivery in between (null: the last one did not fail). */
  failingSince?: number | null | undefined;
  /** Where to post instead when Slack refuses `channel` itself (the bot is not in it, it is gone). */
  fallbackChannel?: string | null | undefined;
}

export interface OutboxFailure {
  error: string;
  nextAttemptAt: number;
  /** This claim certainly posted nothing (Slack refused, or no post was sent): it no longer counts in `postClaims`. */
  postedNothing?: boolean;
  /** When the attempt failed. */
  at?: number;
}

/** Persistence an outbox needs. Every transition names the lease owner, so a lost lease cannot be overwritten. */
export interface OutboxRepository<Item extends OutboxItem> {
  /** Channels that have at least one undelivered row due at `now` (leased or not). */
  dueChannels(now: number): Promise<string[]>;
  /**
   * The rows a channel may deliver next, oldest first: its oldest row not yet posted (posts go out in creation
   * order, so the newer ones wait behind it, due or not), and its oldest posted row with an edit pending.
   * With when each is due and its lease; due or not.
   */
  channelHeads(channel: string): Promise<Array<{ id: string; nextAttemptAt: number; leaseUntil: number | null }>>;
  /**
   * Compare-and-set lease: succeeds only if the row is still undelivered, due, and not leased by anyone
   * (or the lease expired); a row not yet posted counts the claim in `postClaims`. Throws
   * `OutboxRecordInvalidError` if the claimed row cannot be read.
   */
  claim(id: string, owner: string, now: number, leaseUntil: number): Promise<OutboxDelivery<Item> | undefined>;
  /**
   * Saves the Slack ts (and the channel Slack named, if none yet) and raises the delivered version to `version`;
   * releases our lease.
   */
  markDelivered(id: string, owner: string, version: number, slackTs: string, slackChannel?: string): Promise<void>;
  /** attempts+1, last error, next attempt; releases our lease. No-op if the lease is someone else's. */
  markFailed(id: string, owner: string, failure: OutboxFailure): Promise<void>;
  /**
   * The Slack ts of the latest message of `channel` among the rows created before row `id`. Posts go out in
   * creation order, so a message posted for `id` comes after it (undefined: none posted yet).
   */
  latestTsBefore(channel: string, id: string): Promise<string | undefined>;
  /**
   * The earliest instant after `now` when an undelivered row becomes due or another owner's lease on it
   * expires (the caller hears about its own deliveries directly).
   */
  nextWakeAt(now: number, owner: string): Promise<number | undefined>;
  pending(): Promise<{ count: number; oldestUpdatedAt: number | undefined }>;
  /** Gives the row up (a dead letter, kept for inspection, no longer attempted); releases our lease. */
  markDead?(id: string, owner: string, failure: { error: string; at: number }): Promise<void>;
  /** From now on the row is posted to `channel` (its fallback), due at `at`; releases our lease. */
  reroute?(id: string, owner: string, channel: string, at: number): Promise<void>;
}

/** A stored row this code cannot read (e.g. a value written by a newer release). */
export class OutboxRecordInvalidError extends Error {
  override readonly name: string = 'OutboxRecordInvalidError';
  readonly recordId: string;
  constructor(recordId: string, message: string) {
    super(message);
    this.recordId = recordId;
  }
}

/**
 * Thrown by publishers. `permanent` for errors a retry cannot fix soon (channel_not_found, not_in_channel);
 * `refused` when Slack answered and did nothing (a refusal, a rate limit): a refused post posted nothing.
 * `retryAfterMs` is Slack's Retry-After, waited exactly; `minRetryMs` only a floor under the back-off (a post
 * left unanswered is given that long to land before the outbox looks for it). `channelRefused`: Slack refused
 * the channel itself (not a member, not found, archived), so another channel may take the message.
 */
export class DeliveryError extends Error {
  override readonly name: string = 'DeliveryError';
  readonly retryAfterMs: number | undefined;
  readonly minRetryMs: number | undefined;
  readonly permanent: boolean;
  readonly refused: boolean;
  readonly channelRefused: boolean;
  constructor(
    message: string,
    options: {
      retryAfterMs?: number | undefined;
      minRetryMs?: number | undefined;
      permanent?: boolean | undefined;
      refused?: boolean | undefined;
      channelRefused?: boolean | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.minRetryMs = options.minRetryMs;
    this.permanent = options.permanent ?? false;
    this.refused = options.refused ?? false;
    this.channelRefused = options.channelRefused ?? false;
  }
}

/** Where a posted message is: Slack's ts, and the channel Slack answered with when it is not the one asked. */
export interface PostedMessage {
  ts: string;
  channel?: string | undefined;
}

/**
 * Sends the messages of an outbox; the Slack layer implements it. Throws `DeliveryError` on failure. Never
 * retries a post by itself: a post whose answer is lost may have been made, and only the outbox, which looks
 * first (`find`), may post again.
 */
export interface OutboxPublisher<Item extends OutboxItem> {
  post(channel: string, record: Item): Promise<PostedMessage>;
  update(channel: string, ts: string, record: Item): Promise<void>;
  /**
   * The message an earlier post of `record` left in `channel`, if any, and the version it shows; `after`: a ts
   * it must be newer than. Throws `DeliveryError` (permanent: it cannot look at all). A publisher without it
   * cannot look: a post whose answer was lost is then posted again.
   */
  find?(
    channel: string,
    record: Item,
    after: string | undefined,
  ): Promise<(PostedMessage & { version: number }) | undefined>;
  /** The longest one delivery attempt (a look-up, then a post or an edit) can take; leases must be longer. */
  readonly maxAttemptMs?: number;
}

/** How an outbox is tuned; the defaults suit Slack. */
export interface OutboxTuning {
  /** Slack allows about one message per second per channel. */
  minIntervalPerChannelMs?: number;
  /** Back-off (src/shared/backoff.ts) when Slack gave no Retry-After. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** In [0, 1); the back-off's jitter source. */
  random?: () => number;
  /** Back-off after a permanent error: the row is kept, retried rarely, and an operator can fix the cause. */
  permanentRetryMs?: number;
  /**
   * How long a claim holds a row. Must exceed the publisher's longest attempt (`maxAttemptMs`), or another
   * replica could take the row while a post is still on its way; by default twice that, at least 30 s.
   */
  leaseMs?: number;
  /** Identifies this process in leases; unique per outbox. */
  owner?: string;
  /**
   * With nothing due, look at the table again this often anyway: rows another replica wrote and could not
   * deliver (it crashed) are not announced to us. `Infinity` turns it off (one process, or tests).
   */
  idlePollMs?: number;
}

/** How log lines name the outbox, its messages and their ids (`auditId`, `notification`). */
export interface OutboxNames {
  outbox: string;
  message: string;
  idField: string;
}

export interface OutboxOptions<Item extends OutboxItem> extends OutboxTuning {
  repo: OutboxRepository<Item>;
  publisher: OutboxPublisher<Item>;
  clock: Clock;
  logger?: Logger | undefined;
  names: OutboxNames;
  /**
   * After failing this long with no delivery in between, a row is given up (`markDead`, an error logged).
   * Undefined: never (the row is retried until Slack takes it).
   */
  giveUpAfterMs?: number | undefined;
}

type IdleWaiter = (wakeAt: number | undefined) => void;

/**
 * Delivers an outbox's rows to Slack: posts each once, edits the message for later versions, retries with
 * back-off (or exactly Slack's Retry-After), paces each channel, and never drops a row silently. Leases make it
 * safe to run one outbox per replica over a shared database.
 *
 * Order: per channel, rows are posted in creation order, across restarts and replicas (the store offers only a
 * channel's oldest unposted row; edits of posted ones do not wait). A message only ever shows a newer version
 * than before: one row is one message, sent by one lease holder at a time, at the row's current version.
 * One message per row: every claim to post is counted in the row before the post goes out, so after a post
 * whose answer was lost (a timeout, a crash, a failed save) the next attempt, in this process or another, first
 * looks for the message in the channel (`OutboxPublisher.find`) and edits it if found. Within one process the
 * ts is also kept in memory, so a failed save leads to an edit at once.
 */
export class Outbox<Item extends OutboxItem> {
  readonly owner: string;
  protected readonly repo: OutboxRepository<Item>;
  protected readonly clock: Clock;
  protected readonly logger: Logger | undefined;
  private readonly publisher: OutboxPublisher<Item>;
  private readonly names: OutboxNames;
  private readonly minIntervalMs: number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly permanentRetryMs: number;
  private readonly leaseMs: number;
  private readonly idlePollMs: number;
  private readonly giveUpAfterMs: number | undefined;

  private running = false;
  private generation = 0;
  private loop: Promise<void> | undefined;
  private poked = false;
  private wakeUp: (() => void) | undefined;
  private timerAt: number | undefined;
  /** One delivery in flight per channel, keyed by channel. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Earliest next send per channel (pacing, or a pause after a transient failure). */
  private readonly channelNotBefore = new Map<string, number>();
  /** Where messages posted but not yet saved are, so a failed save never causes a second post. */
  private readonly unsaved = new Map<string, PostedMessage>();
  /** Rows whose permanent failure was already logged as an error. */
  private readonly reported = new Set<string>();
  /** Whether "cannot look for a lost post" was logged already. */
  private lookupWarned = false;
  private readonly idleWaiters = new Set<IdleWaiter>();
  /** Ends of our own leases left behind when a delivery's result could not be written: wake then. */
  private strandedLeases: number[] = [];
  /** Flushes in progress, and whether the loop runs only for them. */
  private flushes = 0;
  private startedForFlush = false;

  constructor(options: OutboxOptions<Item>) {
    this.repo = options.repo;
    this.publisher = options.publisher;
    this.clock = options.clock;
    this.logger = options.logger;
    this.names = options.names;
    this.minIntervalMs = options.minIntervalPerChannelMs ?? 1_000;
    this.retryPolicy = {
      baseMs: options.retryBaseMs ?? 2_000,
      maxMs: options.retryMaxMs ?? 5 * 60_000,
      random: options.random ?? Math.random,
    };
    this.permanentRetryMs = options.permanentRetryMs ?? 60 * 60_000;
    const worstAttemptMs = options.publisher.maxAttemptMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? Math.max(30_000, 2 * worstAttemptMs);
    if (this.leaseMs <= worstAttemptMs) {
      throw new Error(
        `${this.names.outbox}: a lease of ${this.leaseMs} ms does not outlast the publisher's longest attempt (${worstAttemptMs} ms)`,
      );
    }
    this.owner = options.owner ?? randomUUID();
    this.idlePollMs = options.idlePollMs ?? 30_000;
    this.giveUpAfterMs = options.giveUpAfterMs;
    if (this.giveUpAfterMs !== undefined && this.repo.markDead === undefined) {
      throw new Error(`${this.names.outbox}: giving up needs a repository that keeps dead letters`);
    }
  }

  start(): void {
    this.startedForFlush = false; // the caller owns the loop now; a flush must not stop it
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      await this.run(generation);
    })();
  }

  /** Stops the loop and waits for deliveries in flight (they finish and release their lease). */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Wakes the loop now (after a write). */
  poke(): void {
    this.poked = true;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /**
   * Delivers everything that can be delivered within `timeoutMs` (runs the loop meanwhile if it is
   * stopped), returning early once the next attempt would fall after the deadline. True if nothing is left
   * undelivered.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (!this.running) {
      this.start();
      this.startedForFlush = true;
    }
    this.flushes += 1;
    const deadline = this.clock.now() + timeoutMs;
    try {
      await new Promise<void>((resolve) => {
        // The deadline is clock time, checked whenever the loop goes idle. Not a clock sleep: an
        // auto-advancing test clock would jump to it while a query waits on the network. The wall-clock
        // timer only backs that up for a delivery that never returns, and never holds the process open.
        const backstop = setTimeout(() => settle(), Math.max(0, timeoutMs));
        backstop.unref();
        const waiter: IdleWaiter = (wakeAt) => {
          if (wakeAt === undefined || wakeAt > deadline || this.clock.now() >= deadline) settle();
        };
        const settle = () => {
          clearTimeout(backstop);
          this.idleWaiters.delete(waiter);
          resolve();
        };
        this.idleWaiters.add(waiter);
        this.poke();
      });
      return (await this.repo.pending()).count === 0;
    } catch (error) {
      this.logger?.error({ err: error }, `${this.names.outbox}: flush could not read the outbox`);
      return false;
    } finally {
      this.flushes -= 1;
      if (this.flushes === 0 && this.startedForFlush) {
        this.startedForFlush = false;
        await this.stop();
      }
    }
  }

  /** Rows with an undelivered version. */
  async depth(): Promise<number> {
    return (await this.repo.pending()).count;
  }

  /** How long the oldest undelivered change has waited (0 when none). */
  async oldestPendingAgeMs(): Promise<number> {
    const { oldestUpdatedAt } = await this.repo.pending();
    return oldestUpdatedAt === undefined ? 0 : Math.max(0, this.clock.now() - oldestUpdatedAt);
  }

  /** A row's current version reached Slack (posted there, or edited in `where`). */
  protected delivered(_delivery: OutboxDelivery<Item>, _where: { channel: string; ts: string }): void {}

  /** A row was given up (dead-lettered). */
  protected gaveUp(_delivery: OutboxDelivery<Item>): void {}

  /** Each pass of the loop ends here (before it sleeps). */
  protected async passDone(): Promise<void> {}

  private async run(generation: number): Promise<void> {
    const active = () => this.running && this.generation === generation;
    while (active()) {
      this.poked = false;
      let wakeAt: number | undefined;
      try {
        wakeAt = await this.tick(active);
        await this.passDone();
      } catch (error) {
        this.logger?.error({ err: error }, `${this.names.outbox}: database error, retrying`);
        wakeAt = this.clock.now() + this.retryPolicy.baseMs;
      }
      if (!active()) break;
      if (this.poked) continue;
      if (this.inFlight.size === 0) for (const waiter of [...this.idleWaiters]) waiter(wakeAt);
      const poll = Number.isFinite(this.idlePollMs) ? this.clock.now() + this.idlePollMs : undefined;
      await this.sleepUntil(earliest(wakeAt, poll));
    }
  }

  /** Starts what can be sent now; returns when to look again (undefined: only when poked). */
  private async tick(active: () => boolean): Promise<number | undefined> {
    const now = this.clock.now();
    for (const [channel, at] of this.channelNotBefore) if (at <= now) this.channelNotBefore.delete(channel);

    let wakeAt: number | undefined;
    for (const channel of await this.repo.dueChannels(now)) {
      if (!active()) break;
      if (this.inFlight.has(channel)) continue; // its completion pokes the loop
      const notBefore = this.channelNotBefore.get(channel);
      if (notBefore !== undefined) {
        wakeAt = earliest(wakeAt, notBefore);
        continue;
      }
      const heads = await this.repo.channelHeads(channel);
      // Someone holds one of them: leave the channel to it (keeps order and pacing); nextWakeAt covers
      // another owner's lease expiry, strandedLeases our own. A head not due yet holds back the rows behind
      // it: nextWakeAt brings the loop back when it is due.
      if (heads.some((head) => head.leaseUntil !== null && head.leaseUntil > now)) continue;
      const next = heads.find((head) => head.nextAttemptAt <= now);
      if (next !== undefined) await this.claimAndSend(next.id, channel);
    }
    this.strandedLeases = this.strandedLeases.filter((until) => until > now);
    for (const until of this.strandedLeases) wakeAt = earliest(wakeAt, until);
    return earliest(wakeAt, await this.repo.nextWakeAt(now, this.owner));
  }

  private async claimAndSend(id: string, channel: string): Promise<void> {
    const claimedAt = this.clock.now();
    let delivery: OutboxDelivery<Item> | undefined;
    try {
      delivery = await this.repo.claim(id, this.owner, claimedAt, claimedAt + this.leaseMs);
    } catch (error) {
      if (!(error instanceof OutboxRecordInvalidError)) throw error;
      this.reportPermanent(id, error.message);
      try {
        await this.repo.markFailed(id, this.owner, {
          error: error.message,
          nextAttemptAt: claimedAt + this.permanentRetryMs,
          at: claimedAt,
        });
      } catch (writeError) {
        this.strandedLeases.push(claimedAt + this.leaseMs);
        throw writeError;
      }
      return;
    }
    if (delivery === undefined) return; // lost the race to another outbox
    this.channelNotBefore.set(channel, claimedAt + this.minIntervalMs);
    const sending = this.deliver(delivery, claimedAt + this.leaseMs, id)
      .catch((error: unknown) => {
        // The row keeps our lease; it comes back when the lease expires.
        this.strandedLeases.push(claimedAt + this.leaseMs);
        this.logger?.error(
          { err: error, [this.names.idField]: id },
          `${this.names.outbox}: could not record a delivery attempt`,
        );
      })
      .finally(() => {
        this.inFlight.delete(channel);
        this.poke();
      });
    this.inFlight.set(channel, sending);
  }

  /**
   * `rowId`: the row as claimed, which the outcome is written back to. For Slack it is the record's own id; a
   * store whose rows deliver many records (the SIEM export's cursor per sink) claims one row for each.
   */
  private async deliver(delivery: OutboxDelivery<Item>, leaseUntil: number, rowId: string): Promise<void> {
    const { record, channel } = delivery;
    const memo = rowId === record.id ? rowId : `${rowId}\u0000${record.id}`;
    const saved =
      delivery.slackTs === null ? undefined : { ts: delivery.slackTs, channel: delivery.slackChannel ?? undefined };
    let posted: PostedMessage | undefined = saved ?? this.unsaved.get(memo);
    let postSent = false;
    try {
      let shown: number | undefined;
      if (posted === undefined && delivery.postClaims > 1) {
        const found = await this.findLostPost(delivery);
        if (found !== undefined) {
          posted = { ts: found.ts, channel: found.channel };
          shown = found.version;
          this.unsaved.set(memo, posted);
        }
      }
      if (posted === undefined && this.clock.now() > leaseUntil) {
        // Paused past our lease before posting (a long GC or VM pause, a stopped process): another replica may
        // hold the row now and be posting it. Posting too would show it twice, so the row goes back, due now.
        this.logger?.warn(
          { [this.names.idField]: record.id, leaseUntil },
          `${this.names.outbox}: the lease ran out before the post; left to the next claim`,
        );
        await this.repo.markFailed(rowId, this.owner, {
          error: 'lease expired before the post',
          nextAttemptAt: this.clock.now(),
          postedNothing: true,
        });
        return;
      }
      if (posted === undefined) {
        postSent = true;
        const answer = await this.publisher.post(channel, record);
        posted = { ts: answer.ts, channel: answer.channel };
        // Remembered before anything else can fail, so the next attempt edits this message.
        this.unsaved.set(memo, posted);
      } else if (shown !== record.version) {
        await this.publisher.update(posted.channel ?? channel, posted.ts, record);
      }
    } catch (error) {
      const refused = error instanceof DeliveryError && error.refused;
      await this.failed(delivery, error, { postedNothing: posted === undefined && (!postSent || refused) }, rowId);
      return;
    }
    if (this.clock.now() > leaseUntil) {
      // The lease is meant to outlast any attempt (leaseMs > publisher.maxAttemptMs): another replica may
      // have taken the row meanwhile.
      this.logger?.error(
        { [this.names.idField]: record.id, leaseUntil },
        `${this.names.outbox}: a delivery outlived its lease`,
      );
    }
    try {
      await this.repo.markDelivered(rowId, this.owner, record.version, posted.ts, posted.channel);
    } catch (error) {
      this.logger?.error(
        { err: error, [this.names.idField]: record.id },
        `${this.names.outbox}: delivered but could not save it`,
      );
      // Retried like a transient Slack failure (if this write fails too, the lease expiry brings it back).
      const retry = this.scheduleRetry(delivery, error);
      await this.repo.markFailed(rowId, this.owner, {
        error: retry.reason,
        nextAttemptAt: retry.at,
        at: this.clock.now(),
      });
      return;
    }
    this.unsaved.delete(memo);
    this.reported.delete(record.id);
    this.logger?.debug(
      { [this.names.idField]: record.id, version: record.version, ts: posted.ts },
      `${this.names.message} delivered`,
    );
    this.delivered(delivery, { channel: posted.channel ?? channel, ts: posted.ts });
  }

  /**
   * An earlier claim to post this row got no confirmation: its post may be in the channel. Looks for it
   * among the messages after the previous row's. A publisher that cannot look at all (a permanent error,
   * e.g. the app lacks the history scope) gets the post: a possible duplicate rather than a message never
   * delivered. A transient failure throws, and the attempt is retried.
   */
  private async findLostPost(
    delivery: OutboxDelivery<Item>,
  ): Promise<(PostedMessage & { version: number }) | undefined> {
    const { record, channel } = delivery;
    if (this.publisher.find === undefined) return undefined;
    try {
      const after = await this.repo.latestTsBefore(channel, record.id);
      const found = await this.publisher.find(channel, record, after);
      this.logger?.info(
        { [this.names.idField]: record.id, found: found !== undefined },
        `${this.names.outbox}: looked for the message of an unconfirmed post before posting again`,
      );
      return found;
    } catch (error) {
      if (!(error instanceof DeliveryError && error.permanent)) throw error;
      if (!this.lookupWarned) {
        this.lookupWarned = true;
        this.logger?.warn(
          { err: error, [this.names.idField]: record.id },
          `${this.names.outbox}: cannot look for the message of an unconfirmed post; posting again (it may show twice)`,
        );
      }
      return undefined;
    }
  }

  private async failed(
    delivery: OutboxDelivery<Item>,
    error: unknown,
    post: { postedNothing: boolean },
    rowId: string,
  ): Promise<void> {
    const { record } = delivery;
    const id = { [this.names.idField]: record.id };
    const now = this.clock.now();
    const fallback = delivery.fallbackChannel ?? undefined;
    if (
      fallback !== undefined &&
      post.postedNothing &&
      error instanceof DeliveryError &&
      error.channelRefused &&
      this.repo.reroute !== undefined
    ) {
      this.logger?.info(
        { err: error, ...id, channel: delivery.channel, fallback },
        `${this.names.message}: cannot post in the channel; using its fallback`,
      );
      await this.repo.reroute(rowId, this.owner, fallback, now);
      return;
    }
    const retry = this.scheduleRetry(delivery, error);
    const failingFor = now - (delivery.failingSince ?? now);
    if (this.giveUpAfterMs !== undefined && failingFor >= this.giveUpAfterMs && this.repo.markDead !== undefined) {
      this.logger?.error(
        { err: error, ...id, attempts: delivery.attempts + 1, failingForMs: failingFor },
        `${this.names.message} given up: not delivered after retrying for the whole bound (kept as a dead letter)`,
      );
      await this.repo.markDead(rowId, this.owner, { error: retry.reason, at: now });
      this.reported.delete(record.id);
      this.gaveUp(delivery);
      return;
    }
    if (retry.permanent) {
      this.reportPermanent(record.id, retry.reason);
    } else {
      const log = { err: error, ...id, attempts: delivery.attempts + 1, retryInMs: retry.inMs };
      if (!(error instanceof DeliveryError))
        this.logger?.error(log, `${this.names.outbox}: unexpected publisher error`);
      else if (delivery.attempts === 0) this.logger?.warn(log, `${this.names.message} not delivered yet, will retry`);
      else this.logger?.debug(log, `${this.names.message} still not delivered`);
    }
    await this.repo.markFailed(rowId, this.owner, {
      error: retry.reason,
      nextAttemptAt: retry.at,
      postedNothing: post.postedNothing,
      at: now,
    });
  }

  /** When to try again: long after a permanent error, else Slack's Retry-After, else the back-off. */
  private scheduleRetry(
    delivery: OutboxDelivery<Item>,
    error: unknown,
  ): { at: number; inMs: number; permanent: boolean; reason: string } {
    const now = this.clock.now();
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
    if (error instanceof DeliveryError && error.permanent) {
      return { at: now + this.permanentRetryMs, inMs: this.permanentRetryMs, permanent: true, reason };
    }
    const retry = Math.min(delivery.attempts, 60);
    const known = error instanceof DeliveryError ? error : undefined;
    const inMs =
      known?.retryAfterMs !== undefined
        ? Math.max(0, known.retryAfterMs)
        : Math.max(known?.minRetryMs ?? 0, backoffDelay(this.retryPolicy, retry));
    // Slack is rate limiting or down for this channel: its other rows wait too (and keep their order).
    const { channel } = delivery;
    this.channelNotBefore.set(channel, Math.max(this.channelNotBefore.get(channel) ?? 0, now + inMs));
    return { at: now + inMs, inMs, permanent: false, reason };
  }

  private reportPermanent(id: string, reason: string): void {
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.logger?.error(
      { [this.names.idField]: id, error: reason, retryInMs: this.permanentRetryMs },
      `${this.names.message} cannot be delivered; kept and retried rarely until the cause is fixed`,
    );
  }

  private sleepUntil(wakeAt: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (this.poked || !this.running) {
        resolve();
        return;
      }
      this.wakeUp = resolve;
      if (wakeAt !== undefined) this.armTimer(wakeAt);
    });
  }

  /** At most one clock sleep per wake-up time: Clock.sleep cannot be cancelled, so do not pile them up. */
  private armTimer(at: number): void {
    if (this.timerAt !== undefined && this.timerAt <= at) return;
    this.timerAt = at;
    void this.clock.sleep(at - this.clock.now()).then(() => {
      if (this.timerAt === at) this.timerAt = undefined;
      this.poke();
    });
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
