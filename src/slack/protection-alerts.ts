import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import { AuditDeliveryError } from '../core/audit.js';
import type { AlertPublisher, AlertView, ProtectionAlert } from '../core/protection/ports.js';
import { alertMessage } from './blocks/protection.js';
import { HistorySchema, toDeliveryError, withDeadline } from './message-publisher.js';

/** The metadata every alert message carries, so a post whose answer was lost can be found. */
export const ALERT_EVENT_TYPE = 'nasha_protection_alert';

const AlertMetadataSchema = z.object({
  event_type: z.literal(ALERT_EVENT_TYPE),
  event_payload: z.object({ alert_id: z.string() }),
});

/**
 * Alert messages in the alerts channel, over the bot's WebClient (no retries of its own, rate limits reported:
 * the alert board retries at the next scan). Errors are AuditDeliveryError, so the board knows a refused post
 * posted nothing. `find` reads the alert id back from the channel's history (channels:history, groups:history).
 */
export function createSlackAlertPublisher(
  client: webApi.WebClient,
  options: { callTimeoutMs?: number; historyPages?: number } = {},
): AlertPublisher {
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const historyPages = options.historyPages ?? 2;
  const call = <T>(request: () => Promise<T>, post: boolean): Promise<T> =>
    withDeadline(request(), callTimeoutMs).catch((error: unknown) => {
      throw toDeliveryError(error, post ? callTimeoutMs : undefined);
    });
  const metadata = (alert: ProtectionAlert) => ({
    event_type: ALERT_EVENT_TYPE,
    event_payload: { alert_id: alert.id, version: alert.version },
  });
  return {
    async post(view: AlertView) {
      const shown = alertMessage(view);
      const response = await call(
        () =>
          client.chat.postMessage({
            channel: view.alert.channel,
            text: shown.text,
            blocks: shown.blocks,
            unfurl_links: false,
            metadata: metadata(view.alert),
          }),
        true,
      );
      if (typeof response.ts !== 'string') throw new AuditDeliveryError('chat.postMessage returned no ts');
      return { ref: response.ts };
    },
    async update(ref: string, view: AlertView) {
      const shown = alertMessage(view);
      await call(
        () =>
          client.chat.update({
            channel: view.alert.channel,
            ts: ref,
            text: shown.text,
            blocks: shown.blocks,
            metadata: metadata(view.alert),
          }),
        false,
      );
    },
    async find(alert: ProtectionAlert) {
      let cursor: string | undefined;
      for (let page = 0; page < historyPages; page++) {
        const raw = await call(
          () =>
            client.conversations.history({
              channel: alert.channel,
              include_all_metadata: true,
              limit: 200,
              ...(cursor !== undefined && { cursor }),
            }),
          false,
        );
        const history = HistorySchema.safeParse(raw);
        if (!history.success) throw new AuditDeliveryError('conversations.history answered in an unexpected shape');
        for (const message of history.data.messages) {
          const meta = AlertMetadataSchema.safeParse(message.metadata);
          if (meta.success && meta.data.event_payload.alert_id === alert.id) return message.ts;
        }
        cursor = history.data.response_metadata?.next_cursor;
        if (history.data.has_more !== true || cursor === undefined || cursor === '') return undefined;
      }
      return undefined;
    },
  };
}
