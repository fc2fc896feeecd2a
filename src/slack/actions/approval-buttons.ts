import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { rejectModal } from '../blocks/modals.js';
import { errorMessage } from '../blocks/replies.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { ChannelIdSchema, UserIdSchema } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';

const ClickSchema = z.object({
  user: z.object({ id: UserIdSchema }),
  channel: z.object({ id: ChannelIdSchema }).optional(),
  trigger_id: z.string().optional(),
  actions: z.array(z.object({ value: z.string().regex(/^[A-Z0-9]{6}$/) })).min(1),
});

const INVALID_APPROVAL_BUTTON = 'malformed approval button payload';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>;

/**
 * The button only names the request; who clicked comes from the signed payload and every rule is
 * checked again on the server (approver rights now, no self-approval, one vote per person).
 */
function parseClick(body: unknown) {
  const click = ClickSchema.safeParse(body);
  if (!click.success) return undefined;
  const requestId = click.data.actions[0]?.value ?? '';
  return {
    actor: { userId: click.data.user.id, channelId: click.data.channel?.id },
    requestId,
    triggerId: click.data.trigger_id,
  };
}

async function tell(deps: SlackDeps, respond: ButtonArgs['respond'], text: string, ok: boolean): Promise<void> {
  const reply = ok ? { text, blocks: [] } : errorMessage({ code: 'denied', message: text });
  await respond({ response_type: 'ephemeral', replace_original: false, ...reply }).catch((error: unknown) =>
    deps.logger.warn({ err: error }, 'could not answer an approval click'),
  );
}

export function createApproveButton(deps: SlackDeps) {
  return async ({ ack, body, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseClick(body);
    if (click === undefined) return answerInvalidButton(respond, deps.logger, INVALID_APPROVAL_BUTTON);
    try {
      const result = await deps.approvals.approve(click.actor, click.requestId);
      await tell(deps, respond, result.message, result.ok);
    } catch (error) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...toErrorMessage(deps, error, { userId: click.actor.userId }),
      }).catch(() => undefined);
    }
  };
}

export function createCancelButton(deps: SlackDeps) {
  return async ({ ack, body, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseClick(body);
    if (click === undefined) return answerInvalidButton(respond, deps.logger, INVALID_APPROVAL_BUTTON);
    const result = await deps.approvals.cancel(click.actor, click.requestId);
    await tell(deps, respond, result.message, result.ok);
  };
}

/** Reject opens a form: a reason is required. */
export function createRejectButton(deps: SlackDeps) {
  return async ({ ack, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseClick(body);
    if (click?.triggerId === undefined) return answerInvalidButton(respond, deps.logger, INVALID_APPROVAL_BUTTON);
    const metadata = deps.metadata.encode({
      u: click.actor.userId,
      c: click.actor.channelId ?? null,
      r: click.requestId,
    });
    await client.views
      .open({ trigger_id: click.triggerId, view: rejectModal(metadata, click.requestId) })
      .catch(async (error: unknown) => {
        deps.logger.warn({ err: error }, 'could not open the reject form');
        await tell(deps, respond, 'Could not open the reject form; try again.', false);
      });
  };
}
