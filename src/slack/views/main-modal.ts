import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, types } from '@slack/bolt';
import type { ActionId } from '../../core/actions.js';
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
  type ScheduleAction,
  scheduleModal,
} from '../blocks/modals.js';
import { target as targetCode } from '../blocks/problems.js';
import { snapshotsMessage } from '../blocks/replies.js';
import type { SlackDeps } from '../deps.js';
import { stateValue, stateValueByPrefix } from '../payloads.js';
import { failureMessage, problemError, updateModal } from './listener-replies.js';
import { expiredForm, modalContext, payloadTranslator } from './modal-context.js';

/** What each choice of the main modal asks for (the frequencies form: at least adding one). */
const ACTION_OF: Readonly<Record<ModalAction, ActionId>> = {
  list: 'read',
  create: 'snapshot.create',
  schedule: 'schedule.add',
  delete: 'snapshot.delete',
};

const SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['schedule.add', 'schedule.remove'];

/**
 * "Next" on service → partition → action. Validates inline, asks the gate (a refusal is shown on the form, in
 * the words a command would get), then replaces the modal with the action's form (or the listing). Anything
 * that needs OVH shows "Loading…" first, within 3 s.
 */
export function createMainModalSubmission(deps: SlackDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, body);
    const ctx = modalContext(deps, body);
    if (ctx === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.service]: expiredForm(tr) } });
      return;
    }
    const service = stateValue(ctx.state, FIELD.service, FIELD.service);
    const partition = stateValueByPrefix(ctx.state, FIELD.partition, FIELD.partition);
    const chosen = stateValue(ctx.state, FIELD.action, FIELD.action);
    const action = MODAL_ACTIONS.find((a) => a === chosen);
    const partitionBlock = Object.keys(ctx.state).find((id) => id.startsWith(FIELD.partition)) ?? FIELD.partition;
    const errors: Record<string, string> = {};
    if (service === undefined || service === '-') errors[FIELD.service] = tr.plain(tr.t('form.chooseService'));
    if (partition === undefined || partition === '-') errors[partitionBlock] = tr.plain(tr.t('form.choosePartition'));
    if (action === undefined) errors[FIELD.action] = tr.plain(tr.t('form.chooseAction'));
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

    // Permission first (no OVH call): a refusal is shown on the form itself. Each change is checked again
    // when it is submitted.
    const verdict = await deps.gate.evaluate(ctx.actor, ACTION_OF[action], target);
    if (verdict.kind === 'refused') {
      await ack({
        response_action: 'errors',
        errors: { [FIELD.action]: problemError({ kind: 'refused', refusal: verdict.refusal }, tr) },
      });
      return;
    }
    if (action === 'create') {
      await ack({
        response_action: 'update',
        view: createModal(
          metadata,
          label,
          defaultSnapshotName(partition, deps.clock.now()),
          undefined,
          deps.gate.approvalRule('snapshot.create') !== undefined,
          tr,
        ),
      });
      return;
    }
    const title = tr.plain(tr.t('modal.mainTitle'));
    await ack({
      response_action: 'update',
      view: resultModal(
        metadata,
        title,
        [contextBlock(`:hourglass_flowing_sand: ${tr.mrkdwn(tr.t('form.loading', { target: targetCode(target) }))}`)],
        tr,
      ),
    });
    let view: types.ModalView;
    try {
      if (action === 'list') {
        const page = await deps.service.snapshots(ctx.actor, target);
        view = resultModal(metadata, title, snapshotsMessage(service, page, deps.clock.now(), tr).blocks, tr);
      } else if (action === 'schedule') {
        const needApproval = SCHEDULE_ACTIONS.filter((a) => deps.gate.approvalRule(a) !== undefined);
        const enabled = await deps.service.enabledFrequencies(ctx.actor, target);
        view = scheduleModal(metadata, label, enabled, needApproval, tr);
      } else {
        const approval = deps.gate.approvalRule('snapshot.delete') !== undefined;
        view = deleteModal(metadata, label, await deps.service.snapshotNames(ctx.actor, target), approval, tr);
      }
    } catch (error) {
      const blocks = failureMessage(deps, error, { userId: ctx.actor.userId, form: action }, tr).blocks;
      view = resultModal(metadata, title, blocks, tr);
    }
    await updateModal(deps, client, ctx.viewId, view);
  };
}
