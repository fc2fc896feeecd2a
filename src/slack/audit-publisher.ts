import { webApi } from '@slack/bolt';
import { AuditDeliveryError, type AuditPublisher, type AuditRecord } from '../core/audit.js';
import { auditMessage } from './blocks/audit-message.js';

/** Slack errors a retry will not fix until someone changes the setup (the row is kept meanwhile). */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'restricted_action',
  'message_not_found',
  'cant_update_message',
]);

/**
 * Posts and edits audit messages with a WebClient that reports rate limits instead of waiting
 * (`rejectRateLimitedCalls`), so the outbox applies Retry-After itself and keeps pacing per channel.
 */
export function createSlackAuditPublisher(client: webApi.WebClient): AuditPublisher {
  return {
    async post(channel: string, record: AuditRecord) {
      const message = auditMessage(record);
      try {
        const response = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
        });
        if (typeof response.ts !== 'string') throw new AuditDeliveryError('chat.postMessage returned no ts');
        return { ts: response.ts };
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    async update(channel: string, ts: string, record: AuditRecord) {
      const message = auditMessage(record);
      try {
        await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

function toDeliveryError(error: unknown): AuditDeliveryError {
  if (error instanceof AuditDeliveryError) return error;
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return new AuditDeliveryError('Slack rate limit', { retryAfterMs: error.retryAfter * 1_000, cause: error });
  }
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = String(error.data.error);
    return new AuditDeliveryError(`Slack refused: ${code}`, { permanent: PERMANENT.has(code), cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AuditDeliveryError(`Slack unreachable: ${message}`, { cause: error });
}
