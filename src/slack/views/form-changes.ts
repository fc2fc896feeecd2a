import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { type ChangeDraft, MIN_REASON_LENGTH } from '../../core/desk.js';
import type { Problem } from '../../core/problems.js';
import type { Block } from '../blocks/limits.js';
import { resultModal } from '../blocks/modals.js';
import { changeLineBlocks } from '../blocks/replies.js';
import { runChanges } from '../change-runner.js';
import type { SlackDeps } from '../deps.js';
import type { Translator } from '../i18n/translate.js';
import { updateModal } from './listener-replies.js';
import type { ModalContext } from './modal-context.js';

type ViewArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs;

/**
 * A form's reason, checked before Slack's 3 s are up so the error shows under the field: some change of the
 * submission is put to a second person (the configuration says so, `gate.approvalRule`) and the reason is too
 * short for the approvers. The desk checks it again when the change is submitted.
 */
export function reasonMissing(
  deps: Pick<SlackDeps, 'gate'>,
  drafts: readonly ChangeDraft[],
  reason: string,
): Problem | undefined {
  if (!drafts.some((draft) => deps.gate.approvalRule(draft.action) !== undefined)) return undefined;
  return reason.trim().length >= MIN_REASON_LENGTH ? undefined : { kind: 'reason_too_short', purpose: 'request' };
}

/**
 * Shows the drafts' lines in the form at once (Slack's 3 s), then submits them all through the one change
 * routine — together, so an approval's preview counts the others — and keeps the (still open) form up to date
 * until every change ended. If the person closed it, the audit channel still records everything.
 */
export async function runFormChanges(
  deps: SlackDeps,
  args: Pick<ViewArgs, 'ack' | 'client'>,
  ctx: ModalContext,
  title: string,
  drafts: readonly ChangeDraft[],
  reason: string | undefined,
  tr: Translator,
): Promise<void> {
  const { s, p } = ctx.metadata;
  const metadata = deps.metadata.encode({
    u: ctx.actor.userId,
    c: ctx.actor.channelId ?? null,
    ...(s !== undefined && { s }),
    ...(p !== undefined && { p }),
  });
  const view = (blocks: Block[]) => resultModal(metadata, title, blocks, tr);
  await args.ack({
    response_action: 'update',
    view: view(drafts.flatMap((draft) => changeLineBlocks({ draft, state: { kind: 'working' } }, tr))),
  });
  await runChanges(deps, ctx.actor, drafts, { reason: reason?.trim() || undefined }, (lines) =>
    updateModal(deps, args.client, ctx.viewId, view(lines.flatMap((line) => changeLineBlocks(line, tr)))),
  );
}
