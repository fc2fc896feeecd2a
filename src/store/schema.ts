/**
 * Row types of the bot's database, as Kysely sees them. Column names are snake_case (both dialects fold
 * unquoted identifiers differently; snake_case never needs quoting). Times are epoch milliseconds in bigint
 * columns; the PostgreSQL pool parses int8 to number so both dialects return the same shapes.
 */
import type { GeneratedAlways } from 'kysely';

/** One Slack audit message: rewritten as the operation progresses, delivered by the outbox. */
export interface AuditRecordsTable {
  id: string;
  created_at: number;
  updated_at: number;
  actor_user_id: string;
  /** Channel the request came from; null for surfaces without one (App Home, shortcuts). */
  channel_id: string | null;
  action: string;
  target_service: string;
  target_partition: string | null;
  /** Snapshot name or frequency. */
  subject: string | null;
  outcome: string;
  task_id: number | null;
  /** OVH's message or the denial reason. */
  detail: string | null;
  /** +1 on each change; the outbox delivers until delivered_version catches up. */
  version: number;
  audit_channel: string;
  slack_ts: string | null;
  delivered_version: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  /** Compare-and-set lease so two outboxes (replicas) never deliver the same row at once. */
  lease_owner: string | null;
  lease_until: number | null;
}

/** Append-only: every version of every audit record. `seq` orders them globally (for the hash chain). */
export interface AuditHistoryTable {
  seq: GeneratedAlways<number>;
  audit_id: string;
  version: number;
  recorded_at: number;
  actor_user_id: string;
  channel_id: string | null;
  action: string;
  target_service: string;
  target_partition: string | null;
  subject: string | null;
  outcome: string;
  task_id: number | null;
  detail: string | null;
  audit_channel: string;
}

/** OVH tasks the bot still follows, so tracking resumes after a restart. */
export interface TrackedTasksTable {
  service: string;
  task_id: number;
  audit_id: string | null;
  kind: string;
  /** JSON, opaque to the store (e.g. where to update the user-facing message). */
  reply: string;
  created_at: number;
  deadline_at: number;
  finished_at: number | null;
  outcome: string | null;
}

export interface DatabaseSchema {
  audit_records: AuditRecordsTable;
  audit_history: AuditHistoryTable;
  tracked_tasks: TrackedTasksTable;
}
