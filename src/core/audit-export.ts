/**
 * The SIEM copy of the audit trail: one JSON document per version of a record (one row of the audit chain), with
 * the row's content exactly as hashed and its chain fields, so the copy can be checked on its own and against the
 * database (`npm run audit:verify -- --export <file>`). Pure data: the sinks (src/export/) send it.
 */

import type { AuditRecord } from './audit.js';
import { parseAuditDetail } from './audit-detail.js';

/** Names this document's layout; a new layout gets a new name. */
export const AUDIT_EXPORT_SCHEMA = 'nasha-audit-export/1';

/**
 * The chain row's content, named and valued exactly as the hash covers it (src/store/audit-chain.ts; `detail` is
 * the stored JSON text), then the export's own fields.
 */
export interface AuditExportDocument extends ReturnType<typeof auditChainColumns> {
  schema: typeof AUDIT_EXPORT_SCHEMA;
  /** `<audit id>:<version>`: the same for every delivery of that version, so a receiver keeps one. */
  idempotency_key: string;
  /** ISO 8601 of `recorded_at`, for people and SIEM time fields. */
  time: string;
  /** The detail, parsed, for searching in the SIEM (not hashed). */
  detail_data: unknown;
  chain: { seq: number | null; prev_hash: string | null; hash: string | null };
}

/** The idempotency key of one version of a record. */
export function exportIdempotencyKey(record: Pick<AuditRecord, 'id' | 'version'>): string {
  return `${record.id}:${record.version}`;
}

/**
 * One version of a record as the audit chain stores and hashes it (the store writes these columns, the export
 * sends them): what a SIEM copy must carry to be verified.
 */
export function auditChainColumns(record: Omit<AuditRecord, 'hash'>) {
  return {
    audit_id: record.id,
    version: record.version,
    recorded_at: record.updatedAt,
    actor_user_id: record.actorUserId,
    channel_id: record.channelId,
    action: record.action,
    target_service: record.target.service,
    target_partition: record.target.partition ?? null,
    subject: record.subject,
    outcome: record.outcome,
    task_id: record.taskId,
    detail: record.detail,
    audit_channel: record.auditChannel,
  };
}

export function auditExportDocument(record: AuditRecord): AuditExportDocument {
  return {
    schema: AUDIT_EXPORT_SCHEMA,
    idempotency_key: exportIdempotencyKey(record),
    time: new Date(record.updatedAt).toISOString(),
    ...auditChainColumns(record),
    detail_data: parseAuditDetail(record.detail) ?? null,
    chain: { seq: record.chain?.seq ?? null, prev_hash: record.chain?.prevHash ?? null, hash: record.hash },
  };
}
