import type { BreakGlassNotices, BreakGlassReview } from '../core/break-glass.js';
import type { NotificationOutbox } from '../core/notifications.js';
import { breakGlassAckReply, breakGlassCard, breakGlassDm } from './blocks/break-glass.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { DEFAULT_READER, translator } from './i18n/translate.js';
import { storedMessage } from './notification-publisher.js';

/** The notification key of a break-glass review's card: posted once (version 1), rewritten when acknowledged. */
export const breakGlassCardKey = (id: string): string => `breakglass:${id}:card`;
/** An approver's DM about it: one per approver and review. */
export const breakGlassDmKey = (id: string, userId: string): string => `breakglass:${id}:dm:${userId}`;

/**
 * Break-glass notices rendered here and written to the durable notification outbox (which delivers each once,
 * across replicas, under its stable key): the review card in the approvals channel (its language), a DM to each
 * approver (theirs), and on acknowledgement the card rewritten and a reply in its thread.
 */
export function createSlackBreakGlassNotices(
  outbox: Pick<NotificationOutbox, 'send'>,
  readers?: Pick<ReaderDirectory, 'channel' | 'person'>,
): BreakGlassNotices {
  const channelWords = (review: BreakGlassReview) => translator(readers?.channel(review.channel));
  const card = (review: BreakGlassReview) =>
    outbox.send({
      key: breakGlassCardKey(review.id),
      channel: review.channel,
      version: review.status === 'pending' ? 1 : 2,
      message: storedMessage(breakGlassCard(review, channelWords(review))),
    });
  return {
    async opened(review, approvers) {
      await card(review);
      for (const userId of approvers) {
        const reader = readers === undefined ? DEFAULT_READER : await readers.person(userId);
        // Posting to a user id lands in the app's DM with them (chat:write, no extra scope).
        await outbox.send({
          key: breakGlassDmKey(review.id, userId),
          channel: userId,
          version: 1,
          message: storedMessage(breakGlassDm(review, translator(reader))),
        });
      }
    },
    async acknowledged(review) {
      await card(review);
      await outbox.send({
        key: `breakglass:${review.id}:thread:ack`,
        channel: review.channel,
        version: 1,
        message: storedMessage(breakGlassAckReply(review, channelWords(review))),
        threadOf: breakGlassCardKey(review.id),
      });
    },
  };
}
