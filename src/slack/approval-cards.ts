import type { webApi } from '@slack/bolt';
import type { ApprovalCards, ApprovalRequest } from '../core/approvals.js';
import { approvalCard, approvalOutcomeMessage } from './blocks/approval-card.js';

/** Approval cards in the approvals channel and the requester's DM, over the bot's WebClient. */
export function createSlackApprovalCards(client: webApi.WebClient): ApprovalCards {
  return {
    async post(channel: string, request: ApprovalRequest) {
      const card = approvalCard(request);
      const response = await client.chat.postMessage({
        channel,
        text: card.text,
        blocks: card.blocks,
        unfurl_links: false,
      });
      if (typeof response.ts !== 'string') throw new Error('chat.postMessage returned no ts');
      return { ts: response.ts };
    },
    async update(channel: string, ts: string, request: ApprovalRequest) {
      const card = approvalCard(request);
      await client.chat.update({ channel, ts, text: card.text, blocks: card.blocks });
    },
    async notifyRequester(request: ApprovalRequest) {
      // Posting to a user id lands in the app's DM with them (chat:write, no extra scope).
      const note = approvalOutcomeMessage(request);
      await client.chat.postMessage({
        channel: request.requester.userId,
        text: note.text,
        blocks: note.blocks,
        unfurl_links: false,
      });
    },
  };
}
