import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { FIELD, mainModal } from '../blocks/modals.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { stateValue } from '../payloads.js';
import { modalContext } from '../views/modal-context.js';

/**
 * Choosing another service in the main modal resets the partition menu: the block gets a new id,
 * so Slack forgets a partition of the previous service. Access is checked when options load.
 */
export function createModalServiceSelect(deps: SlackDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>): Promise<void> => {
    await ack();
    const ctx = modalContext(deps, body);
    const service = ctx === undefined ? undefined : stateValue(ctx.state, FIELD.service, FIELD.service);
    if (ctx === undefined || service === undefined) return;
    const blockId = `${FIELD.partition}_${Buffer.from(service).toString('base64url').slice(0, 40)}`;
    const tr = translator(await deps.readers.person(ctx.actor.userId));
    await client.views
      .update({
        view_id: ctx.viewId,
        ...(ctx.viewHash !== undefined && { hash: ctx.viewHash }),
        view: mainModal(
          deps.metadata.encode({ u: ctx.actor.userId, c: ctx.actor.channelId ?? null }),
          blockId,
          service,
          tr,
        ),
      })
      .catch((error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (stale hash or closed modal)'));
  };
}
