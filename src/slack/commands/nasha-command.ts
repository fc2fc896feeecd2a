import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackMessage } from '../blocks/limits.js';
import { mainModal, reasonModal } from '../blocks/modals.js';
import { reasonOption } from '../blocks/problems.js';
import type { SlackDeps } from '../deps.js';
import type { Translator } from '../i18n/translate.js';
import { withWaitNotice } from '../wait-notice.js';
import { startedAtEdge, textAnswer } from './command-start.js';
import { runQuickCommand } from './quick-command.js';
import { describeCommand, type Reply, runCommand } from './run-command.js';

/**
 * `/nasha …`: does what `startCommand` (./command-start.ts) decided at the edge, which acked with it before
 * Bolt's routing (src/slack/request-guard.ts; Slack's 3 s). The work's answer rewrites the reply. This
 * listener's `ack` only records the delivery; it runs once the acks of the requests that came with it are out.
 */
export function createNashaCommand(deps: SlackDeps) {
  return async ({ ack, respond, client, context }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    const start = startedAtEdge(context);
    // Only the edge acks a /nasha command, before routing: a start missing here is the bot's bug, not Slack's.
    if (start === undefined) throw new Error('a /nasha command reached its listener without the edge’s answer');
    await ack(start.ack);
    if (start.next === 'nothing') return;
    const { command: payload, tr, parsed } = start;
    const { user_id: userId, channel_id: channelId, trigger_id: triggerId, response_url: responseUrl } = payload;
    const actor = { userId, channelId };
    deps.logger.info({ userId, channelId, command: parsed.kind }, 'slash command');
    switch (start.next) {
      case 'answered':
        return;
      case 'form':
        if (!(await openMainForm(deps, client, actor, triggerId, tr))) {
          await respond(textAnswer(tr, 'command.cannotOpenForm'));
        }
        return;
      case 'reason': {
        // A second person must approve: ask why first, in a form (trigger_id is only valid for 3 s). The form's
        // submission goes through the desk, which decides again.
        const draft = start.draft;
        const metadata = deps.metadata.encode({
          u: userId,
          c: channelId,
          s: draft.target.service,
          p: draft.target.partition,
          k: draft.action,
          n: draft.action === 'schedule.add' || draft.action === 'schedule.remove' ? draft.type : (draft.name ?? ''),
          ...(draft.action === 'snapshot.create' && draft.expires !== undefined && { e: draft.expires }),
        });
        const view = reasonModal(metadata, draft, tr);
        await client.views.open({ trigger_id: triggerId, view }).catch((error: unknown) => {
          deps.logger.warn({ err: error }, 'views.open failed');
          return respond(textAnswer(tr, 'command.addReasonInstead', { option: reasonOption(tr) }));
        });
        return;
      }
      case 'run': {
        const reply = responseUrlReply(deps, respond, responseUrl, userId);
        if (parsed.kind === 'quick') {
          await runQuickCommand(deps, actor, parsed, reply, tr);
          return;
        }
        // Queued behind other OVH work for more than a moment: the "working" line says so.
        await withWaitNotice(
          deps,
          describeCommand(parsed, tr),
          reply,
          (answer) => runCommand(deps, actor, parsed, answer, tr),
          tr,
        );
        return;
      }
    }
  };
}

/** The main form (`/nasha` alone, the Home tab's shortcut); false when Slack would not open it. */
export async function openMainForm(
  deps: SlackDeps,
  client: AllMiddlewareArgs['client'],
  actor: { userId: string; channelId: string | undefined },
  triggerId: string,
  tr: Translator,
): Promise<boolean> {
  const metadata = deps.metadata.encode({ u: actor.userId, c: actor.channelId ?? null });
  const view = mainModal(metadata, undefined, undefined, tr);
  return client.views.open({ trigger_id: triggerId, view }).then(
    () => true,
    (error: unknown) => {
      deps.logger.warn({ err: error }, 'views.open failed');
      return false;
    },
  );
}

/** Rewrites the ephemeral reply through the response_url (5 uses in 30 min: we use at most 3). */
export function responseUrlReply(
  deps: SlackDeps,
  respond: SlackCommandMiddlewareArgs['respond'],
  responseUrl: string,
  /** Who the reply is for: a result told after a restart is in their language and time zone. */
  userId: string,
): Reply {
  return {
    resumeToken: { responseUrl, user: userId },
    replace: async (message: SlackMessage) => {
      try {
        await respond({ replace_original: true, response_type: 'ephemeral', ...message });
      } catch (error) {
        // An expired response_url must not hide the result: the audit channel still has it.
        deps.logger.warn({ err: error }, 'could not update the reply through response_url');
      }
    },
  };
}
