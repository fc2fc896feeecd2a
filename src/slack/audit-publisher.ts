import type { webApi } from '@slack/bolt';
import type { AuditPublisher, AuditRecord } from '../core/audit.js';
import { auditMessage } from './blocks/audit-message.js';
import { createSlackPublisher, type SlackPublisherOptions } from './message-publisher.js';

/** The message metadata every audit message carries, so a post whose answer was lost can be found. */
export const AUDIT_EVENT_TYPE = 'nasha_audit_record';

/** Posts and edits audit messages in the audit channel (see `createSlackPublisher`). */
export function createSlackAuditPublisher(
  client: webApi.WebClient,
  options: SlackPublisherOptions = {},
): AuditPublisher {
  return createSlackPublisher<AuditRecord>(
    client,
    { eventType: AUDIT_EVENT_TYPE, idField: 'audit_id', render: auditMessage },
    options,
  );
}
