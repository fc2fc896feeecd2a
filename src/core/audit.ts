/**
 * The audit trail: every change (and every denied or failed one) becomes a durable record first, then a
 * Slack message delivered by an outbox that survives outages and restarts. No Slack or database imports:
 * the store implements `AuditRepository`, the Slack layer implements `AuditPublisher`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type BackoffPolicy, backoffDelay } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import { ACTION_IDS, type ActionId } from './actions.js';
import { type AuditDetail, parseAuditDetail, serializeAuditDetail } from './audit-detail.js';
import type { Actor, Target } from './model.js';

/**
 * Every outcome an audit record can show: `partial` (some of a run's partitions taken), `noop` (the state asked
 * for was already there), `invalid` (refused for its input), `refused` (a click on an approval card that the
 * clicker may not make), `denied` (not allowed by the roles).
 */
export const AUDIT_OUTCOMES = [
  'started',
  'succeeded',
  'partial',
  'failed',
  'denied',
  'noop',
  'invalid',
  'refused',
  'requested',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'invalidated',
  /** OVH did not make the change (checked on OVH after its answer was lost, or it was never sent). */
  'not_applied',
  /** OVH could not be asked yet whether the change was made; the record is updated when it is known. */
  'unknown',
] as const;
export const AuditOutcomeSchema = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/** Every audited action: the action table's rows that change something or decide on a change. */
export const AUDIT_ACTIONS = ACTION_IDS.filter((id) => id !== 'read') as Exclude<ActionId, 'read'>[];
export const AuditActionSchema = z.enum(AUDIT_ACTIONS as [Exclude<ActionId, 'read'>, ...Exclude<ActionId, 'read'>[]]);
export type AuditAction = z.infer<typeof AuditActionSchema>;

/** One audit message as it currently reads. `version` grows by one with each change. */
export interface AuditRecord {
  id: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  actorUserId: string;
  /** Where the request came from; null for surfaces without a channel. */
  channelId: string | null;
  action: AuditAction;
  target: Target;
  /** Snapshot name, frequency, quick-run label or approval request id: the action table says which. */
  subject: string | null;
  outcome: AuditOutcome;
  taskId: number | null;
  /** The {@link AuditDetail} as stored (JSON; plain text in records written before it): `parseAuditDetail`. */
  detail: string | null;
  /** The Slack channel the message goes to. */
  auditChannel: string;
  /**
   * Tamper evidence: the audit-chain hash of this version's history row (`npm run audit:verify` checks the
   * chain). The message shows its first digits so a reader can cross-check. Null if stored without one.
   */
  hash: string | null;
  /** The history row of this version in the audit chain, where the reader knows it (the SIEM export does). */
  chain?: { seq: number; prevHash: string | null } | undefined;
}

/** Hex digits of an audit hash shown to people: enough to cross-check, short enough to read aloud. */
export const AUDIT_SHORT_HASH_LENGTH = 10;

/** The short form of an audit-chain hash, as audit messages and `npm run audit:verify` show it. */
export function shortAuditHash(hash: string): string {
  return hash.slice(0, AUDIT_SHORT_HASH_LENGTH);
}

/** A record together with the outbox's delivery state. */
export interface AuditDelivery {
  record: AuditRecord;
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
}

export interface AuditInput {
  actor: Actor;
  action: AuditAction;
  target: Target;
  subject?: string | undefined;
  outcome: AuditOutcome;
  taskId?: number | undefined;
  detail?: AuditDetail | undefined;
  /** Overrides the trail's default audit channel. */
  auditChannel?: string | undefined;
}

/** Fields left undefined keep their value; null clears a nullable one. A detail is merged into the current one. */
export interface AuditPatch {
  outcome?: AuditOutcome | undefined;
  taskId?: number | null | undefined;
  detail?: AuditDetail | null | undefined;
}

/** A patch as the repository stores it (the detail serialized). */
export interface StoredAuditPatch {
  outcome?: AuditOutcome | undefined;
  taskId?: number | null | undefined;
  detail?: string | null | undefined;
}

const slackId = z.string().trim().min(1).max(64);

const AuditInputSchema = z.object({
  actor: z.object({ userId: slackId, channelId: slackId.optional() }),
  action: AuditActionSchema,
  target: z.object({ service: z.string().min(1).max(256), partition: z.string().min(1).max(256).optional() }),
  subject: z.string().min(1).max(1_000).optional(),
  outcome: AuditOutcomeSchema,
  taskId: z.number().int().nonnegative().optional(),
  auditChannel: slackId.optional(),
});

const AuditPatchSchema = z.object({
  outcome: AuditOutcomeSchema.optional(),
  taskId: z.number().int().nonnegative().nullable().optional(),
});

/** Persistence the trail and the outbox need; `src/store/audit-store.ts` implements it over Kysely. */
export interface AuditRepository {
  /**
   * Inserts version 1 and its history row (appended to the audit chain) atomically; due for delivery at once.
   * Returns the record as stored, with its hash.
   */
  insert(record: Omit<AuditRecord, 'hash'>): Promise<AuditRecord>;
  /**
   * Applies the patch as version+1 with its history row (appended to the chain) atomically; undefined if the
   * id is unknown.
   */
  update(id: string, patch: StoredAuditPatch, now: number): Promise<AuditRecord | undefined>;
  get(id: string): Promise<AuditDelivery | undefined>;
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
   * `AuditRecordInvalidError` if the claimed row cannot be read.
   */
  claim(id: string, owner: string, now: number, leaseUntil: number): Promise<AuditDelivery | undefined>;
  /** Saves the Slack ts (if none yet) and raises delivered_version to `version`; releases our lease. */
  markDelivered(id: string, owner: string, version: number, slackTs: string): Promise<void>;
  /**
   * attempts+1, last_error, next_attempt_at; releases our lease. No-op if the lease is someone else's.
   * `postedNothing`: this claim certainly posted nothing (Slack refused, or no post was sent), so it no longer
   * counts in `postClaims`.
   */
  markFailed(
    id: string,
    owner: string,
    failure: { error: string; nextAttemptAt: number; postedNothing?: boolean },
  ): Promise<void>;
  /**
   * The Slack ts of the latest message of `channel` among the records created before record `id`. Posts go out
   * in creation order, so a message posted for `id` comes after it (undefined: none posted yet).
   */
  latestTsBefore(channel: string, id: string): Promise<string | undefined>;
  /**
   * The earliest instant after `now` when an undelivered row becomes due or another owner's lease on it
   * expires (the caller hears about its own deliveries directly).
   */
  nextWakeAt(now: number, owner: string): Promise<number | undefined>;
  pending(): Promise<{ count: number; oldestUpdatedAt: number | undefined }>;
}

/**
 * What the outbox needs of a store: deliveries, leases and retries. The audit records (`AuditRepository`) are one;
 * the SIEM export cursors (one "channel" per sink, delivering every history row in order) are another.
 */
export type AuditDeliveryRepository = Pick<
  AuditRepository,
  | 'dueChannels'
  | 'channelHeads'
  | 'claim'
  | 'markDelivered'
  | 'markFailed'
  | 'latestTsBefore'
  | 'nextWakeAt'
  | 'pending'
>;

/** A stored row this code cannot read (e.g. an outcome written by a newer release). */
export class AuditRecordInvalidError extends Error {
  override readonly name = 'AuditRecordInvalidError';
  readonly auditId: string;
  constructor(auditId: string, problem: string) {
    super(`audit record ${auditId} cannot be read: ${problem}`);
    this.auditId = auditId;
  }
}

/**
 * Thrown by publishers. `permanent` for errors a retry cannot fix soon (channel_not_found, not_in_channel);
 * `refused` when Slack answered and did nothing (a refusal, a rate limit): a refused post posted nothing.
 * `retryAfterMs` is Slack's Retry-After, waited exactly; `minRetryMs` only a floor under the back-off (a post
 * left unanswered is given that long to land before the outbox looks for it).
 */
export class AuditDeliveryError extends Error {
  override readonly name = 'AuditDeliveryError';
  readonly retryAfterMs: number | undefined;
  readonly minRetryMs: number | undefined;
  readonly permanent: boolean;
  readonly refused: boolean;
  constructor(
    message: string,
    options: {
      retryAfterMs?: number | undefined;
      minRetryMs?: number | undefined;
      permanent?: boolean | undefined;
      refused?: boolean | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.minRetryMs = options.minRetryMs;
    this.permanent = options.permanent ?? false;
    this.refused = options.refused ?? false;
  }
}

/**
 * Sends audit messages; the Slack layer implements it. Throws `AuditDeliveryError` on failure. Never retries
 * a post by itself: a post whose answer is lost may have been made, and only the outbox, which looks first
 * (`find`), may post again.
 */
export interface AuditPublisher {
  post(channel: string, record: AuditRecord): Promise<{ ts: string }>;
  update(channel: string, ts: string, record: AuditRecord): Promise<void>;
  /**
   * The message an earlier post of `record` left in `channel`, if any, and the record version it shows;
   * `after`: a ts it must be newer than. Throws `AuditDeliveryError` (permanent: it cannot look at all).
   * A publisher without it cannot look: a post whose answer was lost is then posted again.
   */
  find?(
    channel: string,
    record: AuditRecord,
    after: string | undefined,
  ): Promise<{ ts: string; version: number } | undefined>;
  /** The longest one delivery attempt (a look-up, then a post or an edit) can take; leases must be longer. */
  readonly maxAttemptMs?: number;
}

export interface AuditTrailOptions {
  repo: AuditRepository;
  clock: Clock;
  /** The audit channel from the configuration. */
  auditChannel: string;
  /** Woken after each write so delivery starts at once (usually the AuditOutbox). */
  outbox?: { poke(): void } | undefined;
}

/** Writes audit records. A record is durable when `record`/`update` resolve; delivery follows. */
export class AuditTrail {
  private readonly repo: AuditRepository;
  private readonly clock: Clock;
  private readonly auditChannel: string;
  private readonly outbox: { poke(): void } | undefined;

  constructor(options: AuditTrailOptions) {
    this.repo = options.repo;
    this.clock = options.clock;
    this.auditChannel = slackId.parse(options.auditChannel);
    this.outbox = options.outbox;
  }

  async record(input: AuditInput): Promise<AuditRecord> {
    const parsed = AuditInputSchema.parse(input);
    const now = this.clock.now();
    const record: Omit<AuditRecord, 'hash'> = {
      id: randomUUID(),
      version: 1,
      createdAt: now,
      updatedAt: now,
      actorUserId: parsed.actor.userId,
      channelId: parsed.actor.channelId ?? null,
      action: parsed.action,
      target:
        parsed.target.partition === undefined
          ? { service: parsed.target.service }
          : { service: parsed.target.service, partition: parsed.target.partition },
      subject: parsed.subject ?? null,
      outcome: parsed.outcome,
      taskId: parsed.taskId ?? null,
      detail: input.detail === undefined ? null : serializeAuditDetail(input.detail),
      auditChannel: parsed.auditChannel ?? this.auditChannel,
    };
    const stored = await this.repo.insert(record);
    this.outbox?.poke();
    return stored;
  }

  async update(id: string, patch: AuditPatch): Promise<AuditRecord> {
    const parsed = AuditPatchSchema.parse(patch);
    const clean: StoredAuditPatch = {};
    if (parsed.outcome !== undefined) clean.outcome = parsed.outcome;
    if (parsed.taskId !== undefined) clean.taskId = parsed.taskId;
    if (patch.detail === null) clean.detail = null;
    else if (patch.detail !== undefined) {
      // Merged, so a later step (an approval, OVH's answer) adds to what the record already says.
      const current = await this.repo.get(id);
      const before = parseAuditDetail(current?.record.detail ?? null) ?? {};
      clean.detail = serializeAuditDetail({ ...before, ...patch.detail });
    }
    const record = await this.repo.update(id, clean, this.clock.now());
    if (record === undefined) throw new Error(`unknown audit record ${id}`);
    this.outbox?.poke();
    return record;
  }
}

export interface AuditOutboxOptions {
  repo: AuditDeliveryRepository;
  publisher: AuditPublisher;
  clock: Clock;
  logger?: Logger | undefined;
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

type IdleWaiter = (wakeAt: number | undefined) => void;

/**
 * Delivers audit records to Slack: posts version 1, edits the message for later versions, retries with
 * back-off (or exactly Slack's Retry-After), paces each channel, and never drops a row. Leases make it safe
 * to run one outbox per replica over a shared database.
 *
 * Order: per channel, records are posted in creation order, across restarts and replicas (the store offers
 * only a channel's oldest unposted row; edits of posted ones do not wait).
 * One message per record: every claim to post is counted in the row before the post goes out, so after a
 * post whose answer was lost (a timeout, a crash, a failed save) the next attempt, in this process or
 * another, first looks for the message in the channel (`AuditPublisher.find`) and edits it if found. Within
 * one process the ts is also kept in memory, so a failed save leads to an edit at once.
 */
export class AuditOutbox {
  readonly owner: string;
  private readonly repo: AuditDeliveryRepository;
  private readonly publisher: AuditPublisher;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly minIntervalMs: number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly permanentRetryMs: number;
  private readonly leaseMs: number;
  private readonly idlePollMs: number;

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
  /** Slack ts of messages posted but not yet saved, so a failed save never causes a second post. */
  private readonly unsavedTs = new Map<string, string>();
  /** Records whose permanent failure was already logged as an error. */
  private readonly reported = new Set<string>();
  /** Whether "cannot look for a lost post" was logged already. */
  private lookupWarned = false;
  private readonly idleWaiters = new Set<IdleWaiter>();
  /** Ends of our own leases left behind when a delivery's result could not be written: wake then. */
  private strandedLeases: number[] = [];
  /** Flushes in progress, and whether the loop runs only for them. */
  private flushes = 0;
  private startedForFlush = false;

  constructor(options: AuditOutboxOptions) {
    this.repo = options.repo;
    this.publisher = options.publisher;
    this.clock = options.clock;
    this.logger = options.logger;
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
        `audit outbox: a lease of ${this.leaseMs} ms does not outlast the publisher's longest attempt (${worstAttemptMs} ms)`,
      );
    }
    this.owner = options.owner ?? randomUUID();
    this.idlePollMs = options.idlePollMs ?? 30_000;
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
      this.logger?.error({ err: error }, 'audit outbox: flush could not read the outbox');
      return false;
    } finally {
      this.flushes -= 1;
      if (this.flushes === 0 && this.startedForFlush) {
        this.startedForFlush = false;
        await this.stop();
      }
    }
  }

  /** Records with an undelivered version. */
  async depth(): Promise<number> {
    return (await this.repo.pending()).count;
  }

  /** How long the oldest undelivered change has waited (0 when none). */
  async oldestPendingAgeMs(): Promise<number> {
    const { oldestUpdatedAt } = await this.repo.pending();
    return oldestUpdatedAt === undefined ? 0 : Math.max(0, this.clock.now() - oldestUpdatedAt);
  }

  private async run(generation: number): Promise<void> {
    const active = () => this.running && this.generation === generation;
    while (active()) {
      this.poked = false;
      let wakeAt: number | undefined;
      try {
        wakeAt = await this.tick(active);
      } catch (error) {
        this.logger?.error({ err: error }, 'audit outbox: database error, retrying');
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
    let delivery: AuditDelivery | undefined;
    try {
      delivery = await this.repo.claim(id, this.owner, claimedAt, claimedAt + this.leaseMs);
    } catch (error) {
      if (!(error instanceof AuditRecordInvalidError)) throw error;
      this.reportPermanent(id, error.message);
      try {
        await this.repo.markFailed(id, this.owner, {
          error: error.message,
          nextAttemptAt: claimedAt + this.permanentRetryMs,
        });
      } catch (writeError) {
        this.strandedLeases.push(claimedAt + this.leaseMs);
        throw writeError;
      }
      return;
    }
    if (delivery === undefined) return; // lost the race to another outbox
    this.channelNotBefore.set(channel, claimedAt + this.minIntervalMs);
    const sending = this.send(delivery, claimedAt + this.leaseMs, { id, channel })
      .catch((error: unknown) => {
        // The row keeps our lease; it comes back when the lease expires.
        this.strandedLeases.push(claimedAt + this.leaseMs);
        this.logger?.error({ err: error, auditId: id }, 'audit outbox: could not record a delivery attempt');
      })
      .finally(() => {
        this.inFlight.delete(channel);
        this.poke();
      });
    this.inFlight.set(channel, sending);
  }

  /**
   * `claimed`: the row and channel as claimed (for Slack, the record's id and audit channel; for exports, the
   * sink's cursor), which the delivery's outcome is written back to.
   */
  private async send(
    delivery: AuditDelivery,
    leaseUntil: number,
    claimed: { id: string; channel: string },
  ): Promise<void> {
    const { record } = delivery;
    const { id, channel } = claimed;
    let ts = delivery.slackTs ?? this.unsavedTs.get(record.id);
    let postSent = false;
    try {
      let shown: number | undefined;
      if (ts === undefined && delivery.postClaims > 1) {
        const found = await this.findLostPost(delivery, channel);
        if (found !== undefined) {
          ts = found.ts;
          shown = found.version;
          this.unsavedTs.set(record.id, ts);
        }
      }
      if (ts === undefined) {
        postSent = true;
        ts = (await this.publisher.post(channel, record)).ts;
        // Remembered before anything else can fail, so the next attempt edits this message.
        this.unsavedTs.set(record.id, ts);
      } else if (shown !== record.version) {
        await this.publisher.update(channel, ts, record);
      }
    } catch (error) {
      const refused = error instanceof AuditDeliveryError && error.refused;
      await this.failed(delivery, error, claimed, { postedNothing: ts === undefined && (!postSent || refused) });
      return;
    }
    if (this.clock.now() > leaseUntil) {
      // The lease is meant to outlast any attempt (leaseMs > publisher.maxAttemptMs): another replica may
      // have taken the row meanwhile.
      this.logger?.error({ auditId: record.id, leaseUntil }, 'audit outbox: a delivery outlived its lease');
    }
    try {
      await this.repo.markDelivered(id, this.owner, record.version, ts);
    } catch (error) {
      this.logger?.error({ err: error, auditId: record.id }, 'audit outbox: delivered but could not save it');
      // Retried like a transient Slack failure (if this write fails too, the lease expiry brings it back).
      const retry = this.scheduleRetry(delivery, error, channel);
      await this.repo.markFailed(id, this.owner, { error: retry.reason, nextAttemptAt: retry.at });
      return;
    }
    this.unsavedTs.delete(record.id);
    this.reported.delete(record.id);
    this.logger?.debug({ auditId: record.id, version: record.version, ts }, 'audit message delivered');
  }

  /**
   * An earlier claim to post this record got no confirmation: its post may be in the channel. Looks for it
   * among the messages after the previous record's. A publisher that cannot look at all (a permanent error,
   * e.g. the app lacks the history scope) gets the post: a possible duplicate rather than a record never
   * delivered. A transient failure throws, and the attempt is retried.
   */
  private async findLostPost(
    delivery: AuditDelivery,
    channel: string,
  ): Promise<{ ts: string; version: number } | undefined> {
    const { record } = delivery;
    if (this.publisher.find === undefined) return undefined;
    try {
      const after = await this.repo.latestTsBefore(channel, record.id);
      const found = await this.publisher.find(channel, record, after);
      this.logger?.info(
        { auditId: record.id, found: found !== undefined },
        'audit outbox: looked for the message of an unconfirmed post before posting again',
      );
      return found;
    } catch (error) {
      if (!(error instanceof AuditDeliveryError && error.permanent)) throw error;
      if (!this.lookupWarned) {
        this.lookupWarned = true;
        this.logger?.warn(
          { err: error, auditId: record.id },
          'audit outbox: cannot look for the message of an unconfirmed post; posting again (it may show twice)',
        );
      }
      return undefined;
    }
  }

  private async failed(
    delivery: AuditDelivery,
    error: unknown,
    claimed: { id: string; channel: string },
    post: { postedNothing: boolean },
  ): Promise<void> {
    const { record } = delivery;
    const retry = this.scheduleRetry(delivery, error, claimed.channel);
    if (retry.permanent) {
      this.reportPermanent(record.id, retry.reason);
    } else {
      const log = { err: error, auditId: record.id, attempts: delivery.attempts + 1, retryInMs: retry.inMs };
      if (!(error instanceof AuditDeliveryError)) this.logger?.error(log, 'audit outbox: unexpected publisher error');
      else if (delivery.attempts === 0) this.logger?.warn(log, 'audit message not delivered yet, will retry');
      else this.logger?.debug(log, 'audit message still not delivered');
    }
    await this.repo.markFailed(claimed.id, this.owner, {
      error: retry.reason,
      nextAttemptAt: retry.at,
      postedNothing: post.postedNothing,
    });
  }

  /** When to try again: long after a permanent error, else Slack's Retry-After, else the back-off. */
  private scheduleRetry(
    delivery: AuditDelivery,
    error: unknown,
    channel: string,
  ): { at: number; inMs: number; permanent: boolean; reason: string } {
    const now = this.clock.now();
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
    if (error instanceof AuditDeliveryError && error.permanent) {
      return { at: now + this.permanentRetryMs, inMs: this.permanentRetryMs, permanent: true, reason };
    }
    const retry = Math.min(delivery.attempts, 60);
    const known = error instanceof AuditDeliveryError ? error : undefined;
    const inMs =
      known?.retryAfterMs !== undefined
        ? Math.max(0, known.retryAfterMs)
        : Math.max(known?.minRetryMs ?? 0, backoffDelay(this.retryPolicy, retry));
    // Slack is rate limiting or down for this channel: its other rows wait too (and keep their order).
    this.channelNotBefore.set(channel, Math.max(this.channelNotBefore.get(channel) ?? 0, now + inMs));
    return { at: now + inMs, inMs, permanent: false, reason };
  }

  private reportPermanent(id: string, reason: string): void {
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.logger?.error(
      { auditId: id, error: reason, retryInMs: this.permanentRetryMs },
      'audit message cannot be delivered; kept and retried rarely until the cause is fixed',
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
