import { type ApprovalNotices, type ApprovalNudge, type ApprovalRequest, OPEN_STATES } from '../core/approvals.js';
import type { NotificationOutbox } from '../core/notifications.js';
import {
  approvalCard,
  approvalEndMessage,
  approvalEscalatedMessage,
  approvalNudgeMessage,
  approvalOutcomeMessage,
  approvalVoteMessage,
} from './blocks/approval-card.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { DEFAULT_READER, type Reader, translator } from './i18n/translate.js';
import { storedMessage } from './notification-publisher.js';

/** The notification key of a request's card: one message, rewritten to each version. */
export const approvalCardKey = (id: string): string => `approval:${id}:card`;
/** The notification key of the requester's DM about how the request ended. */
export const approvalOutcomeKey = (id: string): string => `approval:${id}:outcome:dm`;
/** Reminders, the escalation and its DM share this prefix: withdrawn together once the request is decided. */
export const approvalNudgePrefix = (id: string): string => `approval:${id}:nudge:`;
const nudgeKey = (id: string, nudge: ApprovalNudge): string =>
  `${approvalNudgePrefix(id)}${nudge.kind === 'escalation' ? 'escalation' : `reminder:${nudge.number}`}`;

/** Who reads: the approvals channel's members, and the requester in their DM (without readers, English). */
type Readers = Pick<ReaderDirectory, 'channel' | 'person'>;

/**
 * Approval cards in the approvals channel (its language; dates as Slack's tokens) and the requester's DM (their
 * language and time zone), rendered here and written to the durable notification outbox, which delivers them.
 */
export function createSlackApprovalNotices(
  outbox: Pick<NotificationOutbox, 'send' | 'withdraw'>,
  readers?: Readers,
): ApprovalNotices {
  const person = async (userId: string): Promise<Reader> =>
    readers === undefined ? DEFAULT_READER : await readers.person(userId);
  const channelWords = (request: ApprovalRequest) => translator(readers?.channel(request.card.channel));
  const inThread = (request: ApprovalRequest, key: string, message: Parameters<typeof storedMessage>[0]) =>
    outbox.send({
      key,
      channel: request.card.channel,
      version: 1,
      message: storedMessage(message),
      threadOf: approvalCardKey(request.id),
    });
  return {
    // The card's thread tells its history: each vote, then how it ended (one reply each, by key).
    async history(request: ApprovalRequest) {
      for (const [index, vote] of request.approvals.entries()) {
        await inThread(
          request,
          `approval:${request.id}:thread:vote:${vote.userId}`,
          approvalVoteMessage(request, vote, index, channelWords(request)),
        );
      }
      if (!OPEN_STATES.includes(request.state)) {
        await inThread(
          request,
          `approval:${request.id}:thread:end`,
          approvalEndMessage(request, channelWords(request)),
        );
      }
    },
    async nudge(request: ApprovalRequest, nudge: ApprovalNudge) {
      await inThread(request, nudgeKey(request.id, nudge), approvalNudgeMessage(request, nudge, channelWords(request)));
      if (nudge.kind === 'escalation') {
        await outbox.send({
          key: `${approvalNudgePrefix(request.id)}escalation:dm`,
          channel: request.requester.userId,
          version: 1,
          message: storedMessage(
            approvalEscalatedMessage(request, nudge.escalatedTo, translator(await person(request.requester.userId))),
          ),
        });
      }
    },
    async withdrawNudges(request: ApprovalRequest) {
      await outbox.withdraw(approvalNudgePrefix(request.id));
    },
    card: (request: ApprovalRequest) =>
      outbox.send({
        key: approvalCardKey(request.id),
        channel: request.card.channel,
        version: request.version,
        message: storedMessage(approvalCard(request, channelWords(request))),
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
