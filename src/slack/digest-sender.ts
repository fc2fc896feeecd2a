import type { DigestData } from '../core/digest.js';
import type { NotificationOutbox } from '../core/notifications.js';
import { digestMessage } from './blocks/digest.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { translator } from './i18n/translate.js';
import { storedMessage } from './notification-publisher.js';

/**
 * The daily digest, rendered in its channel's language and written to the notification outbox at version 1
 * under its day's key: a second write of that key (another replica, a restart) changes nothing.
 */
export function createSlackDigestSender(
  outbox: Pick<NotificationOutbox, 'send'>,
  readers: Pick<ReaderDirectory, 'channel'>,
  channel: string,
): (key: string, data: DigestData) => Promise<void> {
  return (key, data) =>
    outbox.send({
      key,
      channel,
      version: 1,
      message: storedMessage(digestMessage(data, translator(readers.channel(channel)))),
    });
}
