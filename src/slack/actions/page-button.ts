import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { partitionsMessage, snapshotsMessage } from '../blocks/replies.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { failureMessage } from '../views/listener-replies.js';
import { payloadTranslator } from '../views/modal-context.js';

const PageValueSchema = z.object({
  view: z.enum(['partitions', 'list']),
  service: z.string().min(1).max(128),
  page: z.number().int().min(1).max(10_000),
});

/**
 * Previous/Next on a long listing. The button only says which page to show; who may see it is
 * decided again for the clicking user, in the channel of the message.
 */
export function createPageButton(deps: SlackDeps) {
  return async ({
    ack,
    body,
    respond,
  }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>): Promise<void> => {
    await ack();
    const click = parseJsonButton(body, PageValueSchema);
    if (click === undefined) {
      return answerInvalidButton(
        respond,
        deps.logger,
        'malformed page button payload',
        await payloadTranslator(deps, body),
      );
    }
    const { actor, value } = click;
    // The listing is ephemeral, to the clicker: in their language and time zone.
    const tr = translator(await deps.readers.person(actor.userId));
    try {
      const message =
        value.view === 'partitions'
          ? partitionsMessage(value.service, await deps.service.partitions(actor, value.service, value.page), tr)
          : snapshotsMessage(
              value.service,
              await deps.service.snapshots(actor, { service: value.service }, value.page),
              deps.clock.now(),
              tr,
            );
      await respond({ replace_original: true, response_type: 'ephemeral', ...message });
    } catch (error) {
      await respond({
        replace_original: true,
        response_type: 'ephemeral',
        ...failureMessage(deps, error, { userId: actor.userId, button: 'page' }, tr),
      }).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not deliver an error reply'));
    }
  };
}
