/**
 * Row types of the bot's database, as Kysely sees them. Column names are snake_case (both dialects fold
 * unquoted identifiers differently; snake_case never needs quoting). Times are epoch milliseconds in bigint
 * columns; the PostgreSQL pool parses int8 to number so both dialects return the same shapes.
 */
import type { Generated, GeneratedAlways } from 'kysely';

/** The delivery columns of every outbox table (see outbox-rows.ts). */
export interface OutboxColumns {
  id: string;
  created_at: number;
  updated_at: number;
  /** +1 on each change; the outbox delivers until delivered_version catches up. */
  version: number;
  slack_ts: string | null;
  delivered_version: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  /** Compare-and-set lease so two outboxes (replicas) never deliver the same row at once. */
  lease_owner: string | null;
  lease_until: number | null;
  /** Claims to post the row that Slack never confirmed (migration 0006): above 1, look before posting again. */
  post_claims: Generated<number>;
}

/** One Slack audit message: rewritten as the operation progresses, delivered by the outbox. */
export interface AuditRecordsTable extends OutboxColumns {
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
  audit_channel: string;
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
  /** Hash chain (src/store/audit-chain.ts): the previous row's hash, 64 zeros for the first row. */
  prev_hash: string | null;
  /** sha256 of this row's content and prev_hash; null only for rows written outside the chain. */
  hash: string | null;
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

/**
 * A change written down before it is sent to OVH (write-ahead), so that a crash at any step leaves a trace the
 * reconciliation sweep finishes: once OVH's task is known the row is closed and `tracked_tasks` follows it.
 */
export interface ChangeIntentsTable {
  id: string;
  service: string;
  partition: string;
  /** The change action, e.g. 'snapshot.create'. */
  kind: string;
  /** Snapshot name or frequency. */
  subject: string;
  audit_id: string | null;
  /** JSON, opaque to the store: where to tell the user. */
  reply: string;
  created_at: number;
  /** When the request was handed to the OVH client; null while it has not been (nothing can have reached OVH). */
  sent_at: number | null;
  task_id: number | null;
  finished_at: number | null;
  /** 'journaled' | 'failed' | 'applied' | 'not_applied' once finished. */
  outcome: string | null;
  /** Reconciliations that could not ask OVH, for the back-off. */
  checks: number;
  /** Who is acting on it (the writer, then a reconciler), until when; renewed while the work lasts. */
  lease_owner: string | null;
  lease_until: number | null;
}

/** A destructive change waiting for (or after) a second person's decision. `version` is the CAS token. */
export interface ApprovalRequestsTable {
  id: string;
  version: number;
  state: string;
  action: string;
  target_service: string;
  target_partition: string;
  /** Snapshot name or frequency. */
  subject: string;
  requester_user_id: string;
  requester_channel_id: string | null;
  reason: string;
  /** JSON: the impact preview shown on the card. */
  preview: string;
  content_hash: string;
  config_version: string;
  quorum: number;
  /** JSON array of Slack user group ids; empty = any approver on the target. */
  approver_groups: string;
  /** JSON array of { userId, at }. */
  approvals: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  decided_by: string | null;
  decision_reason: string | null;
  task_id: number | null;
  outcome_detail: string | null;
  audit_id: string | null;
  /** JSON, opaque: where to tell the requester. */
  reply: string;
  card_channel: string;
  /** The card as versions before the notification outbox (0010) posted it; null for cards the outbox posts. */
  card_ts: string | null;
  /** The request version last handed to the notification outbox (which delivers the card and the DM). */
  card_version: number;
  /** Unused since 0010 (the notification outbox leases posts); versions before it leased a card's first post. */
  card_lease_until: number | null;
  /** Reminders handed to the notification outbox (0014), each claimed by moving this counter. */
  reminders_sent: Generated<number>;
  /** 1 once the request was escalated to its rule's escalate_to groups (0014). */
  escalated: Generated<number>;
}

/** When the bot made a custom snapshot (OVH does not say). */
export interface SnapshotRecordsTable {
  service: string;
  partition: string;
  name: string;
  created_at: number;
  created_by: string;
}

/** The last quick-snapshot target used in a channel (`channel:C…`) or by a user (`user:U…`). */
export interface QuickTargetsTable {
  scope: string;
  target: string;
  updated_at: number;
}

/** A quick-snapshot run until it is finished (see migration 0005). */
export interface QuickRunsTable {
  id: string;
  /** The run (targets, names, item states) as JSON. */
  run: string;
  audit_id: string;
  /** Where its summary is (opaque JSON for the core: Slack channel and ts). */
  reply: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/**
 * Slack deliveries already accepted (see migration 0009): a signed request is valid for minutes, so a copy of
 * one must be recognised across restarts and replicas. Rows are deleted once no copy could still be accepted.
 */
export interface SlackDeliveriesTable {
  /** sha256 (hex) of what identifies the delivery: its trigger_id, or its whole body when it has none. */
  key: string;
  /** command, action, view or shortcut: for inspection. */
  kind: string;
  received_at: number;
  /** After this, a copy would be refused by its timestamp anyway: the row may go. */
  expires_at: number;
}

/**
 * Notifications the bot owes Slack besides audit records (see migration 0010): one row per message, under a
 * stable key (`id`), delivered by the notification outbox like audit records (the shared outbox columns).
 */
export interface NotificationsTable extends OutboxColumns {
  /** Creation order within one millisecond. */
  seq: GeneratedAlways<number>;
  /** Where it is posted (a channel id, or a user id for the app's DM): its lane. */
  channel: string;
  /** Where to post instead if Slack refuses `channel` itself; cleared once used. */
  fallback_channel: string | null;
  /** Where Slack says the posted message is (a post to a user id lands in a D… conversation). */
  slack_channel: string | null;
  /** The message at `version`, as JSON (rendered by the Slack layer). */
  message: string;
  /** Since when attempts have failed with no delivery in between; for the give-up bound. */
  failing_since: number | null;
  /** When it was given up (a dead letter, kept for inspection); a newer version makes it owed again. */
  dead_at: number | null;
  /** The key of the notification in whose thread this one is posted, once that one is (0014). */
  thread_of: Generated<string | null>;
}

/** A partition a protection policy covers (migration 0011), with what the last scan saw (JSON). */
export interface ProtectionPartitionsTable {
  service: string;
  partition: string;
  policy: string;
  first_seen_at: number;
  last_seen_at: number;
  scan: string | null;
}

/** One plan slot of one partition; the primary key (service, partition, slot_at) makes it happen once. */
export interface ProtectionPlanRunsTable {
  service: string;
  partition: string;
  slot_at: number;
  label: string;
  policy: string;
  name: string;
  /** claimed, started, done, failed, skipped. */
  state: string;
  attempts: number;
  owner: string | null;
  lease_until: number | null;
  audit_id: string | null;
  task_id: number | null;
  /** JSON PlanGap when failed or skipped. */
  gap: string | null;
  existed: number;
  late_ms: number;
  created_at: number;
  updated_at: number;
}

/** A protection problem's alert; at most one open per (service, partition, kind). */
export interface ProtectionAlertsTable {
  id: string;
  service: string;
  partition: string;
  kind: string;
  policy: string;
  /** JSON ProtectionProblem. */
  problem: string;
  state: string;
  resolution: string | null;
  version: number;
  posted_version: number;
  channel: string;
  message_ref: string | null;
  post_claims: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  audit_id: string | null;
  /** JSON array of { userId, at }. */
  fixes: string;
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
}

export interface ProtectionLeasesTable {
  name: string;
  owner: string;
  lease_until: number;
}

/** When protection last took its inventory of covered partitions (one row, `name` = 'covered'). */
export interface ProtectionInventoryTable {
  name: string;
  taken_at: number;
}

/** Per SIEM export sink: how far the audit history is delivered, and the outbox's lease and retry state. */
export interface AuditExportCursorsTable {
  sink: string;
  /** Every history row with seq ≤ this is delivered. */
  delivered_seq: Generated<number>;
  /** The history row the current lease is delivering. */
  claimed_seq: number | null;
  attempts: Generated<number>;
  next_attempt_at: Generated<number>;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  post_claims: Generated<number>;
}

/** Break-glass changes and their review (migration 0017); `status` moves pending → acknowledged once. */
export interface BreakGlassReviewsTable {
  id: string;
  status: string;
  action: string;
  target_service: string;
  target_partition: string;
  subject: string;
  actor_user_id: string;
  actor_channel_id: string | null;
  reason: string;
  group_id: string;
  /** JSON array of Slack user group IDs. */
  approver_groups: string;
  audit_id: string;
  channel: string;
  created_at: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
}

export interface DatabaseSchema {
  audit_records: AuditRecordsTable;
  audit_history: AuditHistoryTable;
  tracked_tasks: TrackedTasksTable;
  change_intents: ChangeIntentsTable;
  approval_requests: ApprovalRequestsTable;
  snapshot_records: SnapshotRecordsTable;
  quick_targets: QuickTargetsTable;
  quick_runs: QuickRunsTable;
  slack_deliveries: SlackDeliveriesTable;
  notifications: NotificationsTable;
  protection_partitions: ProtectionPartitionsTable;
  protection_plan_runs: ProtectionPlanRunsTable;
  protection_alerts: ProtectionAlertsTable;
  protection_leases: ProtectionLeasesTable;
  protection_inventory: ProtectionInventoryTable;
  audit_export_cursors: AuditExportCursorsTable;
  break_glass_reviews: BreakGlassReviewsTable;
}
