import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { acknowledgeResultMessage } from '../blocks/break-glass.js';
import type { SlackMessage } from '../blocks/limits.js';
import { changeLinesMessage } from '../blocks/replies.js';
import { runChanges } from '../change-runner.js';
import { BREAK_GLASS_MAX_REASON } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { draftFromMetadata } from '../views/approval-forms.js';
import { failureMessage } from '../views/listener-replies.js';
import { payloadTranslator } from '../views/modal-context.js';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>;

/** The confirm button's value: the change (signed metadata, issued to the clicker) and the reason as typed. */
const RunValueSchema = z.object({ m: z.string().min(1).max(900), r: z.string().min(1).max(BREAK_GLASS_MAX_REASON) });

/**
 * "Run now (break-glass)", clicked after Slack's confirm dialog. The value only names the change and the reason;
 * the desk decides again for the verified clicker (membership of the break-glass group now, the reason's length,
 * their role) and refuses and audits anything else. The answer replaces the confirm reply, step by step.
 */
export function createBreakGlassRunButton(deps: SlackDeps) {
  return async ({ ack, body, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseJsonButton(body, RunValueSchema);
    const metadata = click === undefined ? undefined : deps.metadata.decode(click.value.m, click.actor.userId);
    const draft = metadata === undefined ? undefined : draftFromMetadata(metadata);
    if (click === undefined || draft === undefined) {
      return answerInvalidButton(
        respond,
        deps.logger,
        'malformed break-glass payload',
        await payloadTranslator(deps, body),
      );
    }
    const tr = translator(await deps.readers.person(click.actor.userId));
    await runChanges(deps, click.actor, [draft], { reason: click.value.r, breakGlass: true }, (lines) =>
      respond({ response_type: 'ephemeral', replace_original: true, ...changeLinesMessage(lines, tr) }).then(
        () => undefined,
      ),
    );
  };
}

const AckSchema = z.object({
  user: z.object({ id: z.string() }),
  channel: z.object({ id: z.string() }).optional(),
  actions: z.array(z.object({ value: z.string().regex(/^[A-Z0-9]{6}$/) })).min(1),
});

/** Acknowledge on a review card: core re-checks the clicker (an approver there, not the one who ran it). */
export function createBreakGlassAcknowledgeButton(deps: SlackDeps) {
  return async ({ ack, body, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = AckSchema.safeParse(body);
    const breakGlass = deps.breakGlass;
    if (!click.success || breakGlass === undefined) {
      return answerInvalidButton(
        respond,
        deps.logger,
        'malformed break-glass review payload',
        await payloadTranslator(deps, body),
      );
    }
    const actor = { userId: click.data.user.id, channelId: click.data.channel?.id };
    const id = click.data.actions[0]?.value ?? '';
    const tr = translator(await deps.readers.person(actor.userId));
    let reply: SlackMessage;
    try {
      reply = acknowledgeResultMessage(await breakGlass.acknowledge(actor, id), tr);
    } catch (error) {
      reply = failureMessage(deps, error, { userId: actor.userId, review: id }, tr);
    }
    await respond({ response_type: 'ephemeral', replace_original: false, ...reply }).catch((error: unknown) =>
      deps.logger.warn({ err: error }, 'could not answer a break-glass review click'),
    );
  };
}
