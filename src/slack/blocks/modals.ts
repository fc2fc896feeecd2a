import type { types } from '@slack/bolt';
import type { ChangeDraft } from '../../core/desk.js';
import { sortTypes } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { capitalized, code, verbatim } from '../text.js';
import { type Block, LIMITS, plainText, section, truncate } from './limits.js';
import { changeText } from './problems.js';

/** Pure builders for the `/nasha snapshot` modals. */

export const MODAL = {
  main: 'nasha_modal_main',
  create: 'nasha_modal_create',
  schedule: 'nasha_modal_schedule',
  delete: 'nasha_modal_delete',
  result: 'nasha_modal_result',
  reason: 'nasha_modal_reason',
  reject: 'nasha_modal_reject',
} as const;

export const FIELD = {
  service: 'service',
  partition: 'partition',
  action: 'action',
  name: 'name',
  expiration: 'expiration',
  frequencies: 'frequencies',
  snapshot: 'snapshot',
  reason: 'reason',
} as const;

export const MODAL_ACTIONS = ['list', 'create', 'schedule', 'delete'] as const;
export type ModalAction = (typeof MODAL_ACTIONS)[number];

const ACTION_LABEL: Readonly<Record<ModalAction, MessageKey>> = {
  list: 'modal.actionList',
  create: 'modal.actionCreate',
  schedule: 'modal.actionSchedule',
  delete: 'modal.actionDelete',
};

/** A catalog message as the plain text of a form (titles, labels, hints, buttons, options). */
function words(tr: Translator, key: MessageKey, values?: Parameters<Translator['t']>[1]): string {
  return tr.plain(tr.t(key, values));
}

/** `hour-1 (every hour)`: a frequency as forms list it. */
export function frequencyLabel(type: SnapshotType, tr: Translator = ENGLISH_TRANSLATOR): string {
  return words(tr, 'frequency.label', { type, every: tr.t(`frequency.${type}`) });
}

function modal(
  callbackId: string,
  title: string,
  blocks: Block[],
  privateMetadata: string,
  submit: string | undefined,
  tr: Translator,
): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plainText(title, LIMITS.modalTitle),
    ...(submit !== undefined && { submit: plainText(submit, LIMITS.modalButton) }),
    close: plainText(words(tr, submit === undefined ? 'modal.close' : 'modal.cancel'), LIMITS.modalButton),
    private_metadata: privateMetadata,
    blocks: blocks.slice(0, LIMITS.modalBlocks),
  };
}

/**
 * Service → partition (options loaded from the API, type-ahead) → action. `partitionBlockId`
 * changes when the service changes, which makes Slack drop a partition of the previous service.
 */
export function mainModal(
  privateMetadata: string,
  partitionBlockId: string = FIELD.partition,
  service?: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  const serviceSelect: types.ExternalSelect = {
    type: 'external_select',
    action_id: FIELD.service,
    placeholder: plainText(words(tr, 'modal.chooseService'), 150),
    min_query_length: 0,
    ...(service !== undefined && { initial_option: { text: plainText(service, LIMITS.optionText), value: service } }),
  };
  return modal(
    MODAL.main,
    words(tr, 'modal.mainTitle'),
    [
      {
        type: 'input',
        block_id: FIELD.service,
        dispatch_action: true,
        label: plainText(words(tr, 'modal.service'), 2000),
        element: serviceSelect,
      },
      {
        type: 'input',
        block_id: partitionBlockId,
        label: plainText(words(tr, 'modal.partition'), 2000),
        element: {
          type: 'external_select',
          action_id: FIELD.partition,
          placeholder: plainText(
            words(tr, service === undefined ? 'modal.chooseServiceFirst' : 'modal.typeToSearch'),
            150,
          ),
          min_query_length: 0,
        },
      },
      {
        type: 'input',
        block_id: FIELD.action,
        label: plainText(words(tr, 'modal.action'), 2000),
        element: {
          type: 'static_select',
          action_id: FIELD.action,
          initial_option: option('list', words(tr, ACTION_LABEL.list)),
          options: MODAL_ACTIONS.map((a) => option(a, words(tr, ACTION_LABEL[a]))),
        },
      },
    ],
    privateMetadata,
    words(tr, 'modal.next'),
    tr,
  );
}

/** `needsApproval`: creations are put to a second person (`approvals.rules`), so the form asks why. */
export function createModal(
  privateMetadata: string,
  target: string,
  defaultName: string,
  partitionCount: number | undefined,
  needsApproval = false,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  const usage =
    partitionCount === undefined ? undefined : tr.t('modal.createUsage', { count: partitionCount, max: 10 });
  return modal(
    MODAL.create,
    words(tr, 'modal.createTitle'),
    [
      section(tr.mrkdwn(tr.t('modal.createIntro', { target: code(target), usage: usage ?? '' }))),
      {
        type: 'input',
        block_id: FIELD.name,
        label: plainText(words(tr, 'modal.name'), 2000),
        element: { type: 'plain_text_input', action_id: FIELD.name, initial_value: defaultName, max_length: 100 },
        hint: plainText(words(tr, 'modal.nameHint', { chars: '. _ : -', max: 100 }), 2000),
      },
      {
        // Text, not a datepicker: the same grammar as `--expires` (12h, 7d, a date or a date-time).
        type: 'input',
        block_id: FIELD.expiration,
        optional: true,
        label: plainText(words(tr, 'modal.expires'), 2000),
        element: {
          type: 'plain_text_input',
          action_id: FIELD.expiration,
          max_length: 40,
          placeholder: plainText(
            words(tr, 'modal.expiresPlaceholder', { example: tr.lang === 'fr' ? '7j' : '7d' }),
            150,
          ),
        },
        hint: plainText(words(tr, 'modal.expiresHint'), 2000),
      },
      ...(needsApproval ? [reasonInput(words(tr, 'modal.reason'), words(tr, 'modal.reasonCreate'))] : []),
    ],
    privateMetadata,
    words(tr, needsApproval ? 'modal.requestApproval' : 'modal.create'),
    tr,
  );
}

export type ScheduleAction = 'schedule.add' | 'schedule.remove';

const REASON_FOR: Readonly<Record<string, { label: MessageKey; hint: MessageKey }>> = {
  'schedule.remove': { label: 'modal.reasonRemovals', hint: 'modal.reasonRemovalsHint' },
  'schedule.add': { label: 'modal.reasonAdditions', hint: 'modal.reasonAdditionsHint' },
  both: { label: 'modal.reason', hint: 'modal.reasonBothHint' },
};

/**
 * The six frequencies as checkboxes, like OVH's control panel; submitting applies the difference. A reason box
 * when `needApproval` names changes that are put to a second person.
 */
export function scheduleModal(
  privateMetadata: string,
  target: string,
  enabled: readonly SnapshotType[],
  needApproval: readonly ScheduleAction[] = [],
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  const reasonFor = REASON_FOR[needApproval.length > 1 ? 'both' : (needApproval[0] ?? '')];
  const options = sortTypes(SNAPSHOT_TYPES).map((t) => option(t, frequencyLabel(t, tr)));
  const initial = options.filter((o) => enabled.includes(o.value as SnapshotType));
  const reason =
    reasonFor === undefined
      ? []
      : [{ ...reasonInput(words(tr, reasonFor.label), words(tr, reasonFor.hint)), optional: true }];
  return modal(
    MODAL.schedule,
    words(tr, 'modal.scheduleTitle'),
    [
      section(tr.mrkdwn(tr.t('modal.scheduleIntro', { target: code(target) }))),
      {
        type: 'input',
        block_id: FIELD.frequencies,
        optional: true,
        label: plainText(words(tr, 'modal.frequencies'), 2000),
        element: {
          type: 'checkboxes',
          action_id: FIELD.frequencies,
          options,
          ...(initial.length > 0 && { initial_options: initial }),
        },
      },
      // Optional: only the changes that need approval need it (checked when submitted).
      ...reason,
    ],
    privateMetadata,
    words(tr, 'modal.apply'),
    tr,
  );
}

export function deleteModal(
  privateMetadata: string,
  target: string,
  names: readonly string[],
  needsApproval = false,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  if (names.length === 0) {
    return modal(
      MODAL.result,
      words(tr, 'modal.deleteTitle'),
      [section(tr.mrkdwn(tr.t('modal.noCustomSnapshot', { target: code(target) })))],
      privateMetadata,
      undefined,
      tr,
    );
  }
  return modal(
    MODAL.delete,
    words(tr, 'modal.deleteTitle'),
    [
      section(tr.mrkdwn(tr.t('modal.deleteIntro', { target: code(target) }))),
      {
        type: 'input',
        block_id: FIELD.snapshot,
        label: plainText(words(tr, 'modal.snapshot'), 2000),
        element: {
          type: 'static_select',
          action_id: FIELD.snapshot,
          options: names.slice(0, LIMITS.options).map((n) => option(n, n)),
        },
      },
      ...(needsApproval ? [reasonInput(words(tr, 'modal.reason'), words(tr, 'modal.reasonDelete'))] : []),
    ],
    privateMetadata,
    words(tr, needsApproval ? 'modal.requestApproval' : 'modal.delete'),
    tr,
  );
}

/** Replaces a form, or answers a shortcut, this version of the bot does not know. Nothing was changed. */
export function staleFormModal(tr: Translator = ENGLISH_TRANSLATOR): types.ModalView {
  return modal(
    MODAL.result,
    words(tr, 'modal.staleTitle'),
    [section(`:information_source: ${tr.mrkdwn(tr.t('modal.stale'))}`)],
    '',
    undefined,
    tr,
  );
}

/** A read-only modal showing a result (listing, progress, outcome). */
export function resultModal(
  privateMetadata: string,
  title: string,
  blocks: Block[],
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  return modal(MODAL.result, title, blocks, privateMetadata, undefined, tr);
}

export function option(value: string, label: string): types.PlainTextOption {
  return { text: plainText(label, LIMITS.optionText), value: truncate(value, LIMITS.optionValue) };
}

function reasonInput(label: string, hint: string): types.InputBlock {
  return {
    type: 'input',
    block_id: FIELD.reason,
    label: plainText(label, 2000),
    element: { type: 'plain_text_input', action_id: FIELD.reason, multiline: true, min_length: 3, max_length: 1000 },
    hint: plainText(hint, 2000),
  };
}

/** Asks why, before a change that needs a second person is put to the approvers. */
export function reasonModal(
  privateMetadata: string,
  change: ChangeDraft,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  return modal(
    MODAL.reason,
    words(tr, 'modal.requestApproval'),
    [
      section(tr.mrkdwn(tr.t('modal.reasonIntro', { change: capitalized(changeText(change, tr)) }))),
      reasonInput(words(tr, 'modal.reason'), words(tr, 'modal.reasonHint')),
    ],
    privateMetadata,
    words(tr, 'modal.request'),
    tr,
  );
}

export function rejectModal(
  privateMetadata: string,
  requestId: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  return modal(
    MODAL.reject,
    words(tr, 'modal.rejectTitle'),
    [
      section(tr.mrkdwn(tr.t('modal.rejectIntro', { request: verbatim(`#${requestId}`) }))),
      reasonInput(words(tr, 'modal.why'), words(tr, 'modal.rejectHint')),
    ],
    privateMetadata,
    words(tr, 'modal.reject'),
    tr,
  );
}
