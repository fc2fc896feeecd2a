import type { Actor } from '../../core/model.js';
import { context, message, type SlackMessage } from '../blocks/limits.js';
import type { SlackDeps } from '../deps.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { runQuickSnapshots } from '../quick-runner.js';
import { failureMessage } from '../views/listener-replies.js';

/** Where the command's answer goes (its reply, rewritten in place). */
interface QuickReply {
  replace(message: SlackMessage): Promise<void>;
}

/** What `/nasha snapshot quick` was asked (the parser's words, already checked). */
export interface QuickCommand {
  spec: string;
  label?: string | undefined;
  expires?: string | undefined;
  reason?: string | undefined;
}

/** `/nasha snapshot quick <target> [label]`: plan (permissions, names), then run with a live summary. */
export async function runQuickCommand(
  deps: SlackDeps,
  actor: Actor,
  command: QuickCommand,
  reply: QuickReply,
  tr: Translator = ENGLISH_TRANSLATOR,
): Promise<void> {
  try {
    const run = await deps.quick.plan(actor, command.spec, {
      label: command.label,
      expires: command.expires,
      reason: command.reason,
    });
    // Where the summary is, as soon as it is posted: the run itself may take minutes.
    await runQuickSnapshots(
      deps,
      actor,
      run,
      actor.channelId === undefined ? undefined : `channel:${actor.channelId}`,
      (where) =>
        reply.replace(
          where.inChannel
            ? message(tr.plain(tr.t('quick.summaryHere')), [
                context(`:camera_with_flash: ${tr.mrkdwn(tr.t('quick.summaryHereLine'))}`),
              ])
            : message(tr.plain(tr.t('quick.summaryInDm')), [
                context(`:camera_with_flash: ${tr.mrkdwn(tr.t('quick.summaryInDmLine'))}`),
              ]),
        ),
    );
  } catch (error) {
    await reply.replace(failureMessage(deps, error, { userId: actor.userId, command: 'quick' }, tr));
  }
}
