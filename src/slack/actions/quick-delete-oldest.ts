import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { ChangeDraft } from '../../core/desk.js';
import { runChanges } from '../change-runner.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { payloadTranslator } from '../views/modal-context.js';
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
    if (click === undefined) {
      return answerInvalidButton(
        respond,
        deps.logger,
        'malformed delete-oldest payload',
        await payloadTranslator(deps, body),
      );
    }
    const { actor, value } = click;
    // The answers are ephemeral, to the clicker: in their language and time zone.
    const tr = translator(await deps.readers.person(actor.userId));
    // The reason is stored with the request and read by the approvers and the audit channel: written once, in the
    // workspace's language.
    const workspace = translator({ lang: deps.readers.defaultLang });
    const reason = workspace.plain(workspace.t('quick.makeRoomReason', { label: value.l }));
    const draft: ChangeDraft = {
      action: 'snapshot.delete',
      target: { service: value.s, partition: value.p },
      name: value.n,
    };
    // The button sits in the channel's summary: answers go to the clicker only, each as its own message
    // (replacing the original would replace the summary).
    await runChanges(deps, actor, [draft], { reason }, ephemeralProgress(respond, deps.logger, 'delete-oldest', tr));
  };
}
