import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { ChangeDraft } from '../../core/desk.js';
import { runChanges } from '../change-runner.js';
import type { SlackDeps } from '../deps.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { ephemeralProgress } from './ephemeral-progress.js';

const ValueSchema = z.object({
  s: z.string().min(1).max(128),
  p: z.string().min(1).max(128),
  n: z.string().min(1).max(200),
  l: z.string().max(60),
});

/**
 * "Delete oldest" on a full partition: an ordinary delete by the person who clicked, through the desk like any
 * other change — so it needs their rights and, by default, a second person's approval. The button only names
 * the snapshot. Nothing is deleted automatically.
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
    const draft: ChangeDraft = {
      action: 'snapshot.delete',
      target: { service: value.s, partition: value.p },
      name: value.n,
    };
    // The button sits in the channel's summary: answers go to the clicker only, each as its own message
    // (replacing the original would replace the summary).
    await runChanges(
      deps,
      actor,
      [draft],
      { reason: `make room for quick snapshots "${value.l}" (partition full at 10/10)` },
      ephemeralProgress(respond, deps.logger, 'delete-oldest'),
    );
  };
}
