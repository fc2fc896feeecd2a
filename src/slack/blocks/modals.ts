import type { types } from '@slack/bolt';
import type { ChangeDraft } from '../../core/desk.js';
import { sortTypes } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { capitalized, code, mrkdwn, say, verbatim } from '../text.js';
import { type Block, LIMITS, plainText, section, truncate } from './limits.js';
import { changeText } from './problems.js';
import { frequencyLabel } from './replies.js';

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

const ACTION_LABEL: Readonly<Record<ModalAction, string>> = {
  list: 'List snapshots',
  create: 'Create a snapshot',
  schedule: 'Edit automatic frequencies',
  delete: 'Delete a snapshot',
};

function modal(
  callbackId: string,
  title: string,
  blocks: Block[],
  privateMetadata: string,
  submit?: string,
): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plainText(title, LIMITS.modalTitle),
    ...(submit !== undefined && { submit: plainText(submit, LIMITS.modalButton) }),
    close: plainText(submit === undefined ? 'Close' : 'Cancel', LIMITS.modalButton),
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
): types.ModalView {
  const serviceSelect: types.ExternalSelect = {
    type: 'external_select',
    action_id: FIELD.service,
    placeholder: plainText('Choose a service', 150),
    min_query_length: 0,
    ...(service !== undefined && { initial_option: { text: plainText(service, LIMITS.optionText), value: service } }),
  };
  return modal(
    MODAL.main,
    'NAS-HA snapshots',
    [
      {
        type: 'input',
        block_id: FIELD.service,
        dispatch_action: true,
        label: plainText('Service', 2000),
        element: serviceSelect,
      },
      {
        type: 'input',
        block_id: partitionBlockId,
        label: plainText('Partition', 2000),
        element: {
          type: 'external_select',
          action_id: FIELD.partition,
          placeholder: plainText(service === undefined ? 'Choose a service first' : 'Type to search', 150),
          min_query_length: 0,
        },
      },
      {
        type: 'input',
        block_id: FIELD.action,
        label: plainText('Action', 2000),
        element: {
          type: 'static_select',
          action_id: FIELD.action,
          initial_option: option('list', ACTION_LABEL.list),
          options: MODAL_ACTIONS.map((a) => option(a, ACTION_LABEL[a])),
        },
      },
    ],
    privateMetadata,
    'Next',
  );
}

/** `needsApproval`: creations are put to a second person (`approvals.rules`), so the form asks why. */
export function createModal(
  privateMetadata: string,
  target: string,
  defaultName: string,
  partitionCount: number | undefined,
  needsApproval = false,
): types.ModalView {
  return modal(
    MODAL.create,
    'Create a snapshot',
    [
      section(
        mrkdwn(
          say`Custom snapshot of ${code(target)}${partitionCount === undefined ? '' : ` (${partitionCount}/10 used)`}.`,
        ),
      ),
      {
        type: 'input',
        block_id: FIELD.name,
        label: plainText('Name', 2000),
        element: { type: 'plain_text_input', action_id: FIELD.name, initial_value: defaultName, max_length: 100 },
        hint: plainText('Letters, digits, . _ : - (max 100)', 2000),
      },
      {
        // Text, not a datepicker: the same grammar as `--expires` (12h, 7d, a date or a date-time).
        type: 'input',
        block_id: FIELD.expiration,
        optional: true,
        label: plainText('Expires', 2000),
        element: {
          type: 'plain_text_input',
          action_id: FIELD.expiration,
          max_length: 40,
          placeholder: plainText('e.g. 7d', 150),
        },
        hint: plainText(
          'In 30m, 12h, 7d, 2w or 1d12h from now, or on a date (2026-12-31, midnight UTC) or at a date-time with its zone (2026-12-31T18:00Z, 2026-12-31T18:00+01:00). Leave empty to keep the snapshot until deleted.',
          2000,
        ),
      },
      ...(needsApproval ? [reasonInput('Reason', 'Creating needs a second person: the approvers read this.')] : []),
    ],
    privateMetadata,
    needsApproval ? 'Request approval' : 'Create',
  );
}

export type ScheduleAction = 'schedule.add' | 'schedule.remove';

const REASON_FOR: Readonly<Record<string, { label: string; hint: string }>> = {
  'schedule.remove': {
    label: 'Reason (for removals)',
    hint: 'Removing a frequency needs a second person: the approvers read this.',
  },
  'schedule.add': {
    label: 'Reason (for additions)',
    hint: 'Adding a frequency needs a second person: the approvers read this.',
  },
  both: { label: 'Reason', hint: 'Changing frequencies needs a second person: the approvers read this.' },
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
): types.ModalView {
  const reasonFor = REASON_FOR[needApproval.length > 1 ? 'both' : (needApproval[0] ?? '')];
  const options = sortTypes(SNAPSHOT_TYPES).map((t) => option(t, frequencyLabel(t)));
  const initial = options.filter((o) => enabled.includes(o.value as SnapshotType));
  return modal(
    MODAL.schedule,
    'Snapshot frequencies',
    [
      section(mrkdwn(say`Automatic snapshots of ${code(target)}. Each frequency keeps its latest snapshot.`)),
      {
        type: 'input',
        block_id: FIELD.frequencies,
        optional: true,
        label: plainText('Frequencies', 2000),
        element: {
          type: 'checkboxes',
          action_id: FIELD.frequencies,
          options,
          ...(initial.length > 0 && { initial_options: initial }),
        },
      },
      // Optional: only the changes that need approval need it (checked when submitted).
      ...(reasonFor !== undefined ? [{ ...reasonInput(reasonFor.label, reasonFor.hint), optional: true }] : []),
    ],
    privateMetadata,
    'Apply',
  );
}

export function deleteModal(
  privateMetadata: string,
  target: string,
  names: readonly string[],
  needsApproval = false,
): types.ModalView {
  if (names.length === 0) {
    return modal(
      MODAL.result,
      'Delete a snapshot',
      [section(mrkdwn(say`${code(target)} has no custom snapshot.`))],
      privateMetadata,
    );
  }
  return modal(
    MODAL.delete,
    'Delete a snapshot',
    [
      section(mrkdwn(say`Delete a custom snapshot of ${code(target)}. This cannot be undone.`)),
      {
        type: 'input',
        block_id: FIELD.snapshot,
        label: plainText('Snapshot', 2000),
        element: {
          type: 'static_select',
          action_id: FIELD.snapshot,
          options: names.slice(0, LIMITS.options).map((n) => option(n, n)),
        },
      },
      ...(needsApproval ? [reasonInput('Reason', 'Deleting needs a second person: the approvers read this.')] : []),
    ],
    privateMetadata,
    needsApproval ? 'Request approval' : 'Delete',
  );
}

/** Replaces a form, or answers a shortcut, this version of the bot does not know. Nothing was changed. */
export function staleFormModal(): types.ModalView {
  return modal(
    MODAL.result,
    'nasha',
    [
      section(
        `:information_source: ${mrkdwn(say`This form or shortcut is not one this version of nasha-bot knows, so nothing was changed. Start again from ${code('/nasha')}.`)}`,
      ),
    ],
    '',
  );
}

/** A read-only modal showing a result (listing, progress, outcome). */
export function resultModal(privateMetadata: string, title: string, blocks: Block[]): types.ModalView {
  return modal(MODAL.result, title, blocks, privateMetadata);
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
export function reasonModal(privateMetadata: string, change: ChangeDraft): types.ModalView {
  return modal(
    MODAL.reason,
    'Request approval',
    [
      section(mrkdwn(say`${capitalized(changeText(change))} needs a second person's approval.`)),
      reasonInput('Reason', 'The approvers read this on the approval card.'),
    ],
    privateMetadata,
    'Request',
  );
}

export function rejectModal(privateMetadata: string, requestId: string): types.ModalView {
  return modal(
    MODAL.reject,
    'Reject request',
    [
      section(say`Reject approval request ${verbatim(`#${requestId}`)}.`),
      reasonInput('Why?', 'The requester gets this in a DM.'),
    ],
    privateMetadata,
    'Reject',
  );
}
