import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { formatTarget } from '../../core/model.js';
import { defaultSnapshotName } from '../../core/naming.js';
import type { PartitionTarget } from '../../core/snapshot-service.js';
import { context as contextBlock } from '../blocks/limits.js';
import {
  createModal,
  deleteModal,
  FIELD,
  MODAL_ACTIONS,
  type ModalAction,
  resultModal,
  scheduleModal,
} from '../blocks/modals.js';
import { snapshotsMessage } from '../blocks/replies.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { stateValue, stateValueByPrefix } from '../payloads.js';
import { EXPIRED_FORM, modalContext } from './modal-context.js';

/**
 * "Next" on service → partition → action. Validates inline, then replaces the modal with the
 * action's form (or the listing). Anything that needs OVH shows "Loading…" first, within 3 s.
 */
export function createMainModalSubmission(deps: SlackDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const ctx = modalContext(deps, body);
    if (ctx === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.service]: EXPIRED_FORM } });
      return;
    }
    const service = stateValue(ctx.state, FIELD.service, FIELD.service);
    const partition = stateValueByPrefix(ctx.state, FIELD.partition, FIELD.partition);
    const action = stateValue(ctx.state, FIELD.action, FIELD.action) as ModalAction | undefined;
    const partitionBlock = Object.keys(ctx.state).find((id) => id.startsWith(FIELD.partition)) ?? FIELD.partition;
    const errors: Record<string, string> = {};
    if (service === undefined || service === '-') errors[FIELD.service] = 'Choose a service.';
    if (partition === undefined || partition === '-') errors[partitionBlock] = 'Choose a partition.';
    if (action === undefined || !MODAL_ACTIONS.includes(action)) errors[FIELD.action] = 'Choose an action.';
    if (service === undefined || partition === undefined || action === undefined || Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    const target: PartitionTarget = { service, partition };
    const label = formatTarget(target);
    const metadata = deps.metadata.encode({
      u: ctx.actor.userId,
      c: ctx.actor.channelId ?? null,
      s: service,
      p: partition,
    });

    // Permission first (no OVH call): a refusal is shown on the form itself.
    const needed = action === 'create' ? 'snapshot.create' : action === 'delete' ? 'snapshot.delete' : 'read';
    const viaApproval = needed === 'snapshot.delete' && deps.approvals.ruleFor(needed) !== undefined;
    const decision = await deps.policy.decide(ctx.actor, needed, target, viaApproval ? { via: 'approval' } : {});
    if (!decision.allowed) {
      await ack({ response_action: 'errors', errors: { [FIELD.action]: plainSummary(decision.summary) } });
      return;
    }
    if (action === 'create') {
      await ack({
        response_action: 'update',
        view: createModal(metadata, label, defaultSnapshotName(partition, deps.clock.now()), undefined),
      });
      return;
    }
    await ack({
      response_action: 'update',
      view: resultModal(metadata, 'NAS-HA snapshots', [contextBlock(`:hourglass_flowing_sand: Loading \`${label}\`…`)]),
    });
    let view: Parameters<typeof client.views.update>[0]['view'];
    try {
      if (action === 'list') {
        const page = await deps.service.snapshots(ctx.actor, target);
        view = resultModal(metadata, 'NAS-HA snapshots', snapshotsMessage(service, page, deps.clock.now()).blocks);
      } else if (action === 'schedule') {
        const removals = deps.approvals.ruleFor('schedule.remove') !== undefined;
        view = scheduleModal(metadata, label, await deps.service.enabledFrequencies(ctx.actor, target), removals);
      } else {
        const approval = deps.approvals.ruleFor('snapshot.delete') !== undefined;
        view = deleteModal(metadata, label, await deps.service.snapshotNames(ctx.actor, target), approval);
      }
    } catch (error) {
      view = resultModal(
        metadata,
        'NAS-HA snapshots',
        toErrorMessage(deps, error, { userId: ctx.actor.userId }).blocks,
      );
    }
    await client.views
      .update({ view_id: ctx.viewId, view })
      .catch((error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (modal closed?)'));
  };
}

/** Inline form errors are plain text. */
export function plainSummary(summary: string): string {
  const text = summary
    .replace(/[`*_]/g, '')
    .replace(/<!subteam\^[A-Z0-9]+\|([^>]*)>/g, '$1')
    .replace(/<!subteam\^([A-Z0-9]+)>/g, 'group $1');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`.slice(0, 1_900);
}
