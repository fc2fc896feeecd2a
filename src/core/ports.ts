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
