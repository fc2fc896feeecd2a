import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { describeChange } from '../../core/snapshot-service.js';
import { approvalPendingMessage } from '../blocks/approval-card.js';
import { changeFinishedMessage } from '../blocks/replies.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';

const ValueSchema = z.object({
  s: z.string().min(1),
  p: z.string().min(1),
  n: z.string().min(1),
  l: z.string().max(60),
});

/**
 * "Delete oldest" on a full partition: an ordinary delete by the person who clicked, so it needs
 * their rights and, by default, a second person's approval. Nothing is deleted automatically.
 */
export function createDeleteOldestButton(deps: SlackDeps) {
  return async ({
    ack,
    body,
    respond,
  }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>): Promise<void> => {
    await ack();
    const click = parseJsonButton(body, ValueSchema);
    if (click === undefined) return answerInvalidButton(respond, deps.logger, 'malformed delete-oldest payload');
    const { actor, value } = click;
    const change = {
      action: 'snapshot.delete' as const,
      target: { service: value.s, partition: value.p },
      name: value.n,
    };
    const answer = (message: { text: string; blocks: unknown[] }) =>
      respond({ response_type: 'ephemeral', replace_original: false, ...(message as { text: string }) }).catch(
        (error: unknown) => deps.logger.warn({ err: error }, 'could not answer delete-oldest'),
      );
    try {
      if (deps.approvals.ruleFor('snapshot.delete') !== undefined) {
        const request = await deps.approvals.request(
          actor,
          change,
          `make room for quick snapshots "${value.l}" (partition full at 10/10)`,
        );
        await answer(approvalPendingMessage(request));
        return;
      }
      const started = await deps.service.change(actor, change);
      await answer(changeFinishedMessage(describeChange(change), await started.done));
    } catch (error) {
      await answer(toErrorMessage(deps, error, { userId: actor.userId }));
    }
  };
}
