import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackMessage } from '../blocks/limits.js';
import { mainModal, reasonModal } from '../blocks/modals.js';
import { reasonOption } from '../blocks/problems.js';
import type { SlackDeps } from '../deps.js';
import { type Translator, translator } from '../i18n/translate.js';
import { SlashCommandSchema } from '../payloads.js';
import { withWaitNotice } from '../wait-notice.js';
import { parseCommand } from './parse.js';
import { runQuickCommand } from './quick-command.js';
import { describeCommand, draftOf, problemLikeMessage, type Reply, runCommand, workingMessage } from './run-command.js';

/** Words for a `text`-only answer (Slack parses it as mrkdwn). */
function answer(tr: Translator, words: Parameters<Translator['t']>[0], values?: Parameters<Translator['t']>[1]) {
  return { response_type: 'ephemeral' as const, text: tr.fallback(tr.t(words, values)) };
}

/** `/nasha …`: acks at once (Slack's 3 s), then does the work and rewrites the reply. */
export function createNashaCommand(deps: SlackDeps) {
  return async ({
    command,
    ack: slackAck,
    respond,
    client,
  }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    const payload = SlashCommandSchema.safeParse(command);
    if (!payload.success) {
      deps.logger.warn(
        { issues: payload.error.issues.map((i) => i.path.join('.')) },
        'malformed slash command payload',
      );
      await slackAck(answer(translator({ lang: deps.readers.defaultLang }), 'command.malformed'));
      return;
    }
    const {
      user_id: userId,
      channel_id: channelId,
      text,
      trigger_id: triggerId,
      response_url: responseUrl,
    } = payload.data;
    const actor = { userId, channelId };
    // The person's language and zone (cached; bounded, so the ack stays within Slack's 3 s).
    const tr = translator(await deps.readers.person(userId));
    const parsed = parseCommand(text, tr);
    // Logged once acknowledged: nothing but the ack runs before Slack has its answer.
    const ack = async (response?: Parameters<typeof slackAck>[0]) => {
      await slackAck(response);
      deps.logger.info({ userId, channelId, command: parsed.kind }, 'slash command');
    };

    if (parsed.kind === 'error') {
      await ack({ response_type: 'ephemeral', ...problemLikeMessage(parsed.message, tr) });
      return;
    }
    if (parsed.kind === 'modal') {
      await ack();
      if (!(await openMainForm(deps, client, { userId, channelId }, triggerId, tr))) {
        await respond(answer(tr, 'command.cannotOpenForm'));
      }
      return;
    }
    const change = draftOf(parsed);
    if (
      change !== undefined &&
      change.reason === undefined &&
      !change.breakGlass &&
      deps.gate.approvalRule(change.draft.action) !== undefined
    ) {
      // A second person must approve: ask why first, in a form (trigger_id is only valid for 3 s). The form's
      // submission goes through the desk, which decides again.
      await ack();
      const draft = change.draft;
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
        return respond(answer(tr, 'command.addReasonInstead', { option: reasonOption(tr) }));
      });
      return;
    }
    // Returns once the acks of the commands that came with this one are out (src/slack/app.ts, GuardedApp).
    await ack({ response_type: 'ephemeral', ...workingMessage(parsed, tr) });
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
