import type { ApprovableAction } from './actions.js';

/** A change sent to OVH one at a time (the approvable rows of the action table). */
export type ChangeAction = ApprovableAction;

import type { AuditInput, AuditPatch } from './audit.js';

/**
 * What core needs from its collaborators, as small structural interfaces: the policy engine,
 * the audit trail and the task journal each satisfy one, and tests can swap them.
 */

export type { AuditInput, AuditOutcome, AuditPatch } from './audit.js';

/** The audit trail as core services use it (AuditTrail implements it; tests may record in memory). */
export interface AuditSink {
  record(input: AuditInput): Promise<{ id: string }>;
  update(id: string, patch: AuditPatch): Promise<unknown>;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a change came from, for reporting its end: enough for the Slack layer to find the user again. */
export interface ChangeOrigin {
  service: string;
  /** What the change does, e.g. 'snapshot.create'. */
  kind: string;
  auditId: string | null;
  /** Opaque to core: where the Slack layer reports the result (e.g. a response_url). */
  reply: JsonValue;
}

export interface JournalEntry extends ChangeOrigin {
  taskId: number;
  deadlineAt: number;
}

export type JournalOutcome = 'done' | 'failed' | 'timeout' | 'lost';

/**
 * A change written down before it is sent to OVH (write-ahead). It stays open until its OVH task is journaled
 * (then the journal follows it) or its fate is settled: failed before or at OVH, applied, not applied.
 */
export interface ChangeIntent extends ChangeOrigin {
  id: string;
  partition: string;
  kind: ChangeAction;
  /** Snapshot name or frequency. */
  subject: string;
  createdAt: number;
  /** When the request was handed to the OVH client; null: it never was, so nothing can have reached OVH. */
  sentAt: number | null;
  /** Reconciliations so far that could not ask OVH. */
  checks: number;
}

/** How an intent was closed ('unknown': OVH could not be asked, the sweep gave up). */
export type IntentOutcome = 'journaled' | 'failed' | 'applied' | 'not_applied' | 'unknown';

/** A stored intent with how it ended, if it did. */
export interface StoredIntent extends ChangeIntent {
  taskId: number | null;
  outcome: IntentOutcome | null;
  finishedAt: number | null;
}

/**
 * Leases say who acts on an open intent, until when: the writer while its request is out, then at most one
 * reconciler (replicas share the store). Every write names the owner, so a lost lease cannot be overwritten.
 */
export interface Lease {
  owner: string;
  until: number;
}

/** Durable list of OVH tasks being followed, so tracking resumes after a restart, and of changes being sent. */
export interface TaskJournalPort {
  add(entry: JournalEntry): Promise<unknown>;
  finish(service: string, taskId: number, outcome: JournalOutcome): Promise<unknown>;
  unfinished(): Promise<JournalEntry[]>;

  /** Writes an intent, leased to its writer. */
  addIntent(intent: Omit<ChangeIntent, 'sentAt' | 'checks'>, lease: Lease): Promise<void>;
  /** The request is about to leave for OVH. */
  markIntentSent(id: string, at: number): Promise<void>;
  /** Journals the intent's task and closes the intent, atomically; false if the intent was already closed. */
  attachTask(intentId: string, entry: JournalEntry): Promise<boolean>;
  /** Closes an open intent; false if it was already closed. */
  closeIntent(id: string, outcome: Exclude<IntentOutcome, 'journaled'>): Promise<boolean>;
  /** Extends our lease; false if the intent is closed or the lease is someone else's now. */
  renewIntent(id: string, lease: Lease): Promise<boolean>;
  /** Gives up our lease: the intent is due again at `retryAt`, with `checks` recorded. */
  releaseIntent(id: string, owner: string, retry: { at: number; checks: number }): Promise<void>;
  /**
   * Leases up to `limit` open intents whose lease expired at `now` (compare-and-set: each to one caller), never
   * one leased by `lease.owner` itself: that owner is still working on it.
   */
  claimIntents(lease: Lease, now: number, limit: number): Promise<ChangeIntent[]>;
  /** The earliest lease expiry among open intents, if any. */
  nextIntentDueAt(): Promise<number | undefined>;
  /** The intent written for an audit record (the one of an approved change), open or closed. */
  intentOfAudit(auditId: string): Promise<StoredIntent | undefined>;
  /** Task ids of a service journaled since `since`: OVH tasks that belong to other changes. */
  journaledTaskIds(service: string, since: number): Promise<number[]>;
}
