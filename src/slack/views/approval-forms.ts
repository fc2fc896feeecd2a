import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { NashaError } from '../../core/errors.js';
import type { ChangeRequest } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { approvalPendingMessage } from '../blocks/approval-card.js';
import { context as contextBlock } from '../blocks/limits.js';
import { FIELD, resultModal } from '../blocks/modals.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { stateValue } from '../payloads.js';
import { EXPIRED_FORM, type ModalContext, modalContext } from './modal-context.js';

type ViewArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs;

/** The change a reason form was opened for (from its signed metadata). */
export function pendingChange(ctx: ModalContext): ChangeRequest | undefined {
  const { s: service, p: partition, k: action, n: subject } = ctx.metadata;
  if (service === undefined || partition === undefined || subject === undefined) return undefined;
  const target = { service, partition };
  if (action === 'snapshot.delete') return { action, target, name: subject };
  if (action === 'schedule.remove' && (SNAPSHOT_TYPES as readonly string[]).includes(subject)) {
    return { action, target, type: subject as SnapshotType };
  }
  return undefined;
}

/** Reason given: file the approval request and show "pending approval #id" in the form. */
export function createReasonSubmission(deps: SlackDeps) {
  return async ({ ack, body, client }: ViewArgs): Promise<void> => {
    const ctx = modalContext(deps, body);
    const change = ctx === undefined ? undefined : pendingChange(ctx);
    if (ctx === undefined || change === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: EXPIRED_FORM } });
      return;
    }
    const reason = (stateValue(ctx.state, FIELD.reason, FIELD.reason) ?? '').trim();
    if (reason.length < 3) {
      await ack({
        response_action: 'errors',
        errors: { [FIELD.reason]: 'Give a reason (a few words the approvers will read).' },
      });
      return;
    }
    const metadata = deps.metadata.encode({ u: ctx.actor.userId, c: ctx.actor.channelId ?? null });
    await ack({
      response_action: 'update',
      view: resultModal(metadata, 'Request approval', [
        contextBlock(':hourglass_flowing_sand: Preparing the request…'),
      ]),
    });
    let blocks: ReturnType<typeof approvalPendingMessage>['blocks'];
    try {
      blocks = approvalPendingMessage(await deps.approvals.request(ctx.actor, change, reason)).blocks;
    } catch (error) {
      blocks = toErrorMessage(deps, error, { userId: ctx.actor.userId }).blocks;
    }
    await client.views
      .update({ view_id: ctx.viewId, view: resultModal(metadata, 'Request approval', blocks) })
      .catch((error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (modal closed?)'));
  };
}

export function createRejectSubmission(deps: SlackDeps) {
  return async ({ ack, body }: ViewArgs): Promise<void> => {
    const ctx = modalContext(deps, body);
    const requestId = ctx?.metadata.r;
    if (ctx === undefined || requestId === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: EXPIRED_FORM } });
      return;
    }
    const reason = (stateValue(ctx.state, FIELD.reason, FIELD.reason) ?? '').trim();
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: 'A reason is required to reject.' } });
      return;
    }
    // Deciding is quick (database + policy): answer inline within Slack's 3 s.
    const result = await deps.approvals.reject(ctx.actor, requestId, reason).catch((error: unknown) => ({
      ok: false as const,
      message: error instanceof NashaError ? error.message : 'Something went wrong; nothing was changed.',
    }));
    if (!result.ok) {
      await ack({
        response_action: 'errors',
        errors: { [FIELD.reason]: result.message.replace(/[`*]/g, '').slice(0, 1_900) },
      });
      return;
    }
    await ack();
  };
}
