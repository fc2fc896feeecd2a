import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { ClickResult } from '../../core/approvals.js';
import type { Actor } from '../../core/model.js';
import { cannotOpenRejectMessage, clickEffectMessage, clickRefusalMessage } from '../blocks/clicks.js';
import type { SlackMessage } from '../blocks/limits.js';
import { rejectModal } from '../blocks/modals.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { ChannelIdSchema, UserIdSchema } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { failureMessage } from '../views/listener-replies.js';
import { payloadTranslator } from '../views/modal-context.js';

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

/** Where a click from the Home tab is answered (a tab has no response_url): on top of the tab. */
export interface HomeNotices {
  notice(userId: string, reply: SlackMessage): Promise<void>;
}

const HomeViewSchema = z.object({ view: z.object({ type: z.literal('home') }) });

/** The answer goes where the click came from: ephemeral under a message, or on top of the Home tab. */
function answerer(deps: SlackDeps, args: ButtonArgs, userId: string, home: HomeNotices | undefined) {
  return async (reply: SlackMessage): Promise<void> => {
    if (home !== undefined && HomeViewSchema.safeParse(args.body).success) return home.notice(userId, reply);
    await args
      .respond({ response_type: 'ephemeral', replace_original: false, ...reply })
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not answer an approval click'));
  };
}

/** A click core decides (it audits a refused one): the answer is what it did, or why not, in its data. */
function decideButton(
  deps: SlackDeps,
  home: HomeNotices | undefined,
  decide: (actor: Actor, requestId: string) => Promise<ClickResult>,
) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body, respond } = args;
    await ack();
    const click = parseClick(body);
    if (click === undefined) {
      return answerInvalidButton(respond, deps.logger, INVALID_APPROVAL_BUTTON, await payloadTranslator(deps, body));
    }
    // The answer is ephemeral, to the clicker: in their language.
    const tr = translator(await deps.readers.person(click.actor.userId));
    let reply: SlackMessage;
    try {
      const result = await decide(click.actor, click.requestId);
      reply = result.ok
        ? clickEffectMessage(result.request, result.effect, tr)
        : clickRefusalMessage(result.refusal, tr);
    } catch (error) {
      reply = failureMessage(deps, error, { userId: click.actor.userId, approval: click.requestId }, tr);
    }
    await answerer(deps, args, click.actor.userId, home)(reply);
  };
}

export function createApproveButton(deps: SlackDeps, home?: HomeNotices) {
  return decideButton(deps, home, (actor, id) => deps.approvals.approve(actor, id));
}

export function createCancelButton(deps: SlackDeps, home?: HomeNotices) {
  return decideButton(deps, home, (actor, id) => deps.approvals.cancel(actor, id));
}

/** Reject opens a form: a reason is required. Rights are checked when it is submitted. */
export function createRejectButton(deps: SlackDeps, home?: HomeNotices) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body, client, respond } = args;
    await ack();
    const click = parseClick(body);
    if (click?.triggerId === undefined) {
      return answerInvalidButton(respond, deps.logger, INVALID_APPROVAL_BUTTON, await payloadTranslator(deps, body));
    }
    const metadata = deps.metadata.encode({
      u: click.actor.userId,
      c: click.actor.channelId ?? null,
      r: click.requestId,
    });
    const tr = translator(await deps.readers.person(click.actor.userId));
    await client.views
      .open({ trigger_id: click.triggerId, view: rejectModal(metadata, click.requestId, tr) })
      .catch(async (error: unknown) => {
        deps.logger.warn({ err: error }, 'could not open the reject form');
        await answerer(deps, args, click.actor.userId, home)(cannotOpenRejectMessage(tr));
      });
  };
}
