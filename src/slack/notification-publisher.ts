import type { types, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Notification } from '../core/notifications.js';
import { DeliveryError, type OutboxPublisher } from '../core/outbox.js';
import type { JsonValue } from '../core/ports.js';
import type { SlackMessage } from './blocks/limits.js';
import { createSlackPublisher, type SlackPublisherOptions } from './message-publisher.js';

/** The message metadata every notification carries (its key and version), so a lost post can be found. */
export const NOTIFICATION_EVENT_TYPE = 'nasha_notification';

const StoredMessageSchema = z.object({
  text: z.string(),
  blocks: z.array(z.looseObject({ type: z.string() })),
});

/** A rendered message as a notification stores it. */
export function storedMessage(message: SlackMessage): JsonValue {
  return z.json().parse(JSON.parse(JSON.stringify(message)));
}

/** The message a notification stores, as this bot wrote it; a row it cannot read is refused for good. */
function shownMessage(notification: Notification): SlackMessage {
  const parsed = StoredMessageSchema.safeParse(notification.message);
  if (!parsed.success) {
    throw new DeliveryError(`notification ${notification.id} holds no message this version can show`, {
      permanent: true,
    });
  }
  // Blocks this bot built (with the Block Kit types) before storing them.
  return { text: parsed.data.text, blocks: parsed.data.blocks as types.KnownBlock[] };
}

/** Posts and edits notifications (channels and the app's DMs), see `createSlackPublisher`. */
export function createSlackNotificationPublisher(
  client: webApi.WebClient,
  options: SlackPublisherOptions = {},
): OutboxPublisher<Notification> {
  return createSlackPublisher<Notification>(
    client,
    {
      eventType: NOTIFICATION_EVENT_TYPE,
      idField: 'key',
      render: shownMessage,
      directMessages: true,
      thread: (notification) => notification.thread,
    },
    options,
  );
}
