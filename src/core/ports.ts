import type { Action, Actor, Target } from './model.js';

/**
 * What core needs from its collaborators, as small structural interfaces: the policy engine,
 * the audit trail and the task journal each satisfy one, and tests can swap them.
 */

export interface AccessDecision {
  allowed: boolean;
  /** One mrkdwn sentence: why it was allowed or refused. */
  summary: string;
}

export interface AccessPolicy {
  decide(actor: Actor, action: Action, target: Target): Promise<AccessDecision>;
  canSeeService(actor: Actor, service: string): Promise<boolean>;
  filterReadable(actor: Actor, service: string, partitions: readonly string[]): Promise<string[]>;
}

export type ChangeAction = 'schedule.add' | 'schedule.remove' | 'snapshot.create' | 'snapshot.delete';
export type AuditOutcome =
  | 'started'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'requested'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'invalidated';

export interface AuditInput {
  actor: Actor;
  action: ChangeAction | 'approval.decide' | 'snapshot.quick';
  target: Target;
  subject?: string | undefined;
  outcome: AuditOutcome;
  taskId?: number | undefined;
  detail?: string | undefined;
}

export interface AuditPatch {
  outcome?: AuditOutcome;
  taskId?: number | null;
  detail?: string | null;
}

export interface AuditSink {
  record(input: AuditInput): Promise<{ id: string }>;
  update(id: string, patch: AuditPatch): Promise<unknown>;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JournalEntry {
  service: string;
  taskId: number;
  auditId: string | null;
  kind: string;
  /** Opaque to core: where the Slack layer reports the result (e.g. a response_url). */
  reply: JsonValue;
  deadlineAt: number;
}

export type JournalOutcome = 'done' | 'failed' | 'timeout' | 'lost';

/** Durable list of OVH tasks being followed, so tracking resumes after a restart. */
export interface TaskJournalPort {
  add(entry: JournalEntry): Promise<unknown>;
  finish(service: string, taskId: number, outcome: JournalOutcome): Promise<unknown>;
  unfinished(): Promise<JournalEntry[]>;
}
