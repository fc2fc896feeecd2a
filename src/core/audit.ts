/**
 * The audit trail: every change (and every denied or failed one) becomes a durable record first, then a
 * Slack message delivered by an outbox that survives outages and restarts. No Slack or database imports:
 * the store implements `AuditRepository`, the Slack layer implements `AuditPublisher`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import { ACTION_IDS, READ_ONLY_ACTIONS, type ReadOnlyAction } from './actions.js';
import { type AuditDetail, parseAuditDetail, serializeAuditDetail } from './audit-detail.js';
import type { Actor, Target } from './model.js';
import {
  DeliveryError,
  Outbox,
  type OutboxDelivery,
  type OutboxPublisher,
  OutboxRecordInvalidError,
  type OutboxRepository,
  type OutboxTuning,
} from './outbox.js';

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
  /** A protection problem is open: its alert is in the alerts channel. */
  'alerted',
  /** The protection problem cleared: its alert says so. */
  'resolved',
  /** A break-glass change's review, acknowledged by an approver. */
  'acknowledged',
] as const;
export const AuditOutcomeSchema = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/** Every audited action: the action table's rows that change something, decide on a change or alert. */
type AuditedAction = Exclude<(typeof ACTION_IDS)[number], ReadOnlyAction>;
export const AUDIT_ACTIONS = ACTION_IDS.filter(
  (id) => !(READ_ONLY_ACTIONS as readonly string[]).includes(id),
) as AuditedAction[];
export const AuditActionSchema = z.enum(AUDIT_ACTIONS as [AuditedAction, ...AuditedAction[]]);
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
export type AuditDelivery = OutboxDelivery<AuditRecord>;

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
export interface AuditRepository extends OutboxRepository<AuditRecord> {
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
export class AuditRecordInvalidError extends OutboxRecordInvalidError {
  override readonly name = 'AuditRecordInvalidError';
  readonly auditId: string;
  constructor(auditId: string, problem: string) {
    super(auditId, `audit record ${auditId} cannot be read: ${problem}`);
    this.auditId = auditId;
  }
}

/** Thrown by audit publishers: see `DeliveryError`. */
export const AuditDeliveryError = DeliveryError;
export type AuditDeliveryError = DeliveryError;

/** Sends audit messages; the Slack layer implements it (see `OutboxPublisher`). */
export type AuditPublisher = OutboxPublisher<AuditRecord>;

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

export interface AuditOutboxOptions extends OutboxTuning {
  repo: OutboxRepository<AuditRecord>;
  publisher: AuditPublisher;
  clock: Clock;
  logger?: Logger | undefined;
}

/**
 * Delivers audit records to Slack (the `Outbox`): posts version 1, edits the message for later versions, in
 * creation order per channel, and never gives a record up: one Slack refuses for good is retried rarely until
 * an operator fixes the cause.
 */
export class AuditOutbox extends Outbox<AuditRecord> {
  constructor(options: AuditOutboxOptions) {
    super({ ...options, names: { outbox: 'audit outbox', message: 'audit message', idField: 'auditId' } });
  }
}
