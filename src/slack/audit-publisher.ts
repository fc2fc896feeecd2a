import { webApi } from '@slack/bolt';
import { z } from 'zod';
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

/** The message metadata every audit message carries, so a post whose answer was lost can be found. */
export const AUDIT_EVENT_TYPE = 'nasha_audit_record';

const AuditMetadataSchema = z.object({
  event_type: z.literal(AUDIT_EVENT_TYPE),
  event_payload: z.object({ audit_id: z.string(), version: z.number().int().positive() }),
});

export const HistorySchema = z.object({
  messages: z.array(z.object({ ts: z.string(), metadata: z.unknown().optional() })),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

export interface SlackAuditPublisherOptions {
  /** Each Web API call is given up after this long (Slack may still act on it: a post is then looked for). */
  callTimeoutMs?: number;
  /** conversations.history pages (200 messages each) read when looking for a lost post. */
  historyPages?: number;
}

/**
 * Posts and edits audit messages with the bot's WebClient, which must not retry by itself
 * (`retryConfig: { retries: 0 }`: a post retried blindly after a lost answer shows twice) and reports rate
 * limits instead of waiting (`rejectRateLimitedCalls`), so the outbox decides every retry, honours
 * Retry-After and paces each channel. Each message carries the record id in its metadata; `find` reads it
 * back with conversations.history (scopes channels:history, groups:history).
 */
export function createSlackAuditPublisher(
  client: webApi.WebClient,
  options: SlackAuditPublisherOptions = {},
): AuditPublisher {
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const historyPages = options.historyPages ?? 2;
  const metadata = (record: AuditRecord) => ({
    event_type: AUDIT_EVENT_TYPE,
    event_payload: { audit_id: record.id, version: record.version },
  });
  const call = <T>(request: () => Promise<T>, post: boolean): Promise<T> =>
    withDeadline(request(), callTimeoutMs).catch((error: unknown) => {
      throw toDeliveryError(error, post ? callTimeoutMs : undefined);
    });
  return {
    maxAttemptMs: (historyPages + 1) * callTimeoutMs,
    async post(channel, record) {
      const message = auditMessage(record);
      const response = await call(
        () =>
          client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            metadata: metadata(record),
          }),
        true,
      );
      if (typeof response.ts !== 'string') throw new AuditDeliveryError('chat.postMessage returned no ts');
      return { ts: response.ts };
    },
    async update(channel, ts, record) {
      const message = auditMessage(record);
      await call(
        () =>
          client.chat.update({ channel, ts, text: message.text, blocks: message.blocks, metadata: metadata(record) }),
        false,
      );
    },
    async find(channel, record, after) {
      let cursor: string | undefined;
      for (let page = 0; page < historyPages; page++) {
        const raw = await call(
          () =>
            client.conversations.history({
              channel,
              include_all_metadata: true,
              limit: 200,
              ...(after !== undefined && { oldest: after }),
              ...(cursor !== undefined && { cursor }),
            }),
          false,
        );
        const history = HistorySchema.safeParse(raw);
        if (!history.success) throw new AuditDeliveryError('conversations.history answered in an unexpected shape');
        for (const message of history.data.messages) {
          const meta = AuditMetadataSchema.safeParse(message.metadata);
          if (meta.success && meta.data.event_payload.audit_id === record.id) {
            return { ts: message.ts, version: meta.data.event_payload.version };
          }
        }
        cursor = history.data.response_metadata?.next_cursor;
        if (history.data.has_more !== true || cursor === undefined || cursor === '') return undefined;
      }
      // The lost post would be among the newest messages: not in these pages, it was not made.
      return undefined;
    },
  };
}

class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
}

/** The WebClient's own timeout covers the HTTP request; this one also covers time queued in the client. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(`no answer from Slack within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `unansweredPostMs`: for a post, how long to wait before looking for it when its answer never came. */
export function toDeliveryError(error: unknown, unansweredPostMs: number | undefined): AuditDeliveryError {
  if (error instanceof AuditDeliveryError) return error;
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return new AuditDeliveryError('Slack rate limit', {
      retryAfterMs: error.retryAfter * 1_000,
      refused: true,
      cause: error,
    });
  }
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = String(error.data.error);
    return new AuditDeliveryError(`Slack refused: ${code}`, {
      permanent: PERMANENT.has(code),
      refused: true,
      cause: error,
    });
  }
  if (error instanceof webApi.WebAPIHTTPError) {
    // Slack answered, with an HTTP error: whether a post was made is unknown, but it is known now.
    return new AuditDeliveryError(`Slack answered HTTP ${error.statusCode}`, { cause: error });
  }
  // No answer (a timeout, a connection lost): a post may still land; give it time before looking for it.
  const message = error instanceof Error ? error.message : String(error);
  return new AuditDeliveryError(`Slack unreachable: ${message}`, { minRetryMs: unansweredPostMs, cause: error });
}
