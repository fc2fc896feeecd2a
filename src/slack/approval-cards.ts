import type { ApprovalNotices, ApprovalRequest } from '../core/approvals.js';
import type { NotificationOutbox } from '../core/notifications.js';
import { approvalCard, approvalOutcomeMessage } from './blocks/approval-card.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { DEFAULT_READER, type Reader, translator } from './i18n/translate.js';
import { storedMessage } from './notification-publisher.js';

/** The notification key of a request's card: one message, rewritten to each version. */
export const approvalCardKey = (id: string): string => `approval:${id}:card`;
/** The notification key of the requester's DM about how the request ended. */
export const approvalOutcomeKey = (id: string): string => `approval:${id}:outcome:dm`;

/** Who reads: the approvals channel's members, and the requester in their DM (without readers, English). */
type Readers = Pick<ReaderDirectory, 'channel' | 'person'>;

/**
 * Approval cards in the approvals channel (its language; dates as Slack's tokens) and the requester's DM (their
 * language and time zone), rendered here and written to the durable notification outbox, which delivers them.
 */
export function createSlackApprovalNotices(
  outbox: Pick<NotificationOutbox, 'send'>,
  readers?: Readers,
): ApprovalNotices {
  const person = async (userId: string): Promise<Reader> =>
    readers === undefined ? DEFAULT_READER : await readers.person(userId);
  return {
    card: (request: ApprovalRequest) =>
      outbox.send({
        key: approvalCardKey(request.id),
        channel: request.card.channel,
        version: request.version,
        message: storedMessage(approvalCard(request, translator(readers?.channel(request.card.channel)))),
        // A card an older version of the bot posted itself: edited in place.
        ...(request.card.ts !== null && { existingTs: request.card.ts }),
      }),
    // Posting to a user id lands in the app's DM with them (chat:write, no extra scope).
    outcome: async (request: ApprovalRequest) =>
      outbox.send({
        key: approvalOutcomeKey(request.id),
        channel: request.requester.userId,
        version: 1,
        message: storedMessage(approvalOutcomeMessage(request, translator(await person(request.requester.userId)))),
      }),
  };
}
