import type { webApi } from '@slack/bolt';
import type { AuditPublisher, AuditRecord } from '../core/audit.js';
import { auditMessage } from './blocks/audit-message.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { translator } from './i18n/translate.js';
import { createSlackPublisher, type SlackPublisherOptions } from './message-publisher.js';

/** The message metadata every audit message carries, so a post whose answer was lost can be found. */
export const AUDIT_EVENT_TYPE = 'nasha_audit_record';

/**
 * Posts and edits audit messages in the audit channel (see `createSlackPublisher`), in the channel's language
 * (`readers`; without them, English). Dates stay Slack's tokens: each member sees their own time zone.
 */
export function createSlackAuditPublisher(
  client: webApi.WebClient,
  options: SlackPublisherOptions = {},
  readers?: Pick<ReaderDirectory, 'channel'>,
): AuditPublisher {
  const render = (record: AuditRecord) => auditMessage(record, translator(readers?.channel(record.auditChannel)));
  return createSlackPublisher<AuditRecord>(
    client,
    { eventType: AUDIT_EVENT_TYPE, idField: 'audit_id', render },
    options,
  );
}
