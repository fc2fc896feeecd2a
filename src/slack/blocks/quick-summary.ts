import type { types } from '@slack/bolt';
import { formatTarget } from '../../core/model.js';
import type { QuickItem, QuickRun } from '../../core/quick-snapshots.js';
import { bold, code, date, joinText, say, type Text, text, user, verbatim } from '../text.js';
import {
  chunkSections,
  context,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
  truncate,
} from './limits.js';
import { quickFailureText, refusalText, storedText } from './problems.js';

/** Pure builders for the quick-snapshot summary and its form. */

export const QUICK_ACTION = { deleteOldest: 'nasha_quick_delete_oldest' } as const;
export const QUICK_SHORTCUT = { message: 'nasha_quick_message', global: 'nasha_quick_global' } as const;
/** Partitions at 10/10 shown in detail (with their button); more are only counted. */
const FULL_DETAILS = 10;
/** Characters of the run's reason shown on the summary (the audit record keeps more). */
const REASON_SHOWN = 300;

export interface DeleteOldestValue {
  s: string;
  p: string;
  n: string;
  l: string;
}

function line(item: QuickItem): Text {
  const where = code(formatTarget(item.target));
  const state = item.state;
  switch (state.status) {
    case 'queued':
      return say`:white_circle: ${where} — queued`;
    case 'creating':
      return say`:arrows_counterclockwise: ${where} — creating${state.taskId === null ? '' : say` (task ${code(String(state.taskId))})`}`;
    case 'done':
      return say`:white_check_mark: ${where} — ${code(item.name)}${state.existed ? ' (already taken this minute)' : ''}`;
    case 'failed':
      return say`:x: ${where} — failed: ${storedText(() => quickFailureText(state.failure), state.failure)}`;
    case 'full':
      return say`:warning: ${where} — 10/10 custom snapshots: nothing taken, see below`;
    case 'denied':
      return say`:no_entry: ${where} — not allowed: ${storedText(() => refusalText(state.refusal, item.target), state.refusal)}`;
  }
}

function counts(run: QuickRun): string {
  const n = (status: string) => run.items.filter((i) => i.state.status === status).length;
  const parts = [
    `${n('done')}/${run.items.length} done`,
    n('creating') + n('queued') > 0 ? `${n('creating') + n('queued')} in progress` : undefined,
    n('failed') > 0 ? `${n('failed')} failed` : undefined,
    n('full') > 0 ? `${n('full')} full` : undefined,
    n('denied') > 0 ? `${n('denied')} not allowed` : undefined,
  ];
  return parts.filter((p) => p !== undefined).join(' · ');
}

/** An expiration as stored (ISO 8601): a date in the reader's time zone, or the text if it is not one. */
function expirationText(expiration: string): Text {
  const at = Date.parse(expiration);
  return Number.isNaN(at) ? text(verbatim(expiration)) : text(date(at));
}

/** One message for the whole run, rewritten in place as results come. */
export function quickSummary(run: QuickRun): SlackMessage {
  const finished = run.finishedAt !== null;
  const expires = run.expiration === null ? text('no expiration') : say`expire ${expirationText(run.expiration)}`;
  const reason = run.reason === null ? text() : say` · Reason: ${verbatim(truncate(run.reason, REASON_SHOWN))}`;
  const blocks: types.KnownBlock[] = [
    // plain_text: the label shows as typed, never as markup.
    header(`${finished ? 'Quick snapshots' : 'Taking quick snapshots'} — ${run.label}`),
    context(say`Asked by ${user(run.requester)} for ${verbatim(run.spec)} · ${expires}${reason}`),
    section(say`${bold(counts(run))}`),
  ];
  // Many partitions: a few long sections rather than one block per partition (≤ 50 blocks).
  blocks.push(...chunkSections(run.items.map(line)));
  const full = run.items.filter((i) => i.state.status === 'full');
  for (const item of full.slice(0, FULL_DETAILS)) {
    if (item.state.status !== 'full') continue;
    const oldest = item.state.snapshots[0];
    const list = item.state.snapshots.map((s, i) => {
      const made = s.createdAt === null ? text('made outside the bot') : say`made ${date(s.createdAt)}`;
      const kept = s.expiration === null ? text('kept until deleted') : say`expires ${expirationText(s.expiration)}`;
      return say`${i + 1}. ${verbatim(s.name)} — ${made}, ${kept}`;
    });
    blocks.push(
      section(
        say`${bold(say`${code(formatTarget(item.target))} is full (10/10), oldest first:`)}\n${joinText(list, '\n')}`,
      ),
    );
    if (oldest !== undefined) {
      const value: DeleteOldestValue = {
        s: item.target.service,
        p: item.target.partition,
        n: oldest.name,
        l: run.label,
      };
      blocks.push({
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: QUICK_ACTION.deleteOldest,
            text: plainText(`Delete oldest (${oldest.name})`, LIMITS.buttonText),
            value: JSON.stringify(value).slice(0, LIMITS.buttonValue),
          },
        ],
      });
    }
  }
  if (full.length > FULL_DETAILS)
    blocks.push(context(`${full.length - FULL_DETAILS} more full partitions not detailed.`));
  if (full.length > 0)
    blocks.push(context('Nothing is deleted automatically: "Delete oldest" asks for approval like any delete.'));
  return message(say`Quick snapshots ${verbatim(run.label)}: ${counts(run)}`, blocks);
}

export const QUICK_FIELD = {
  target: 'quick_target',
  label: 'quick_label',
  expiration: 'quick_expiration',
  reason: 'quick_reason',
} as const;
export const QUICK_MODAL = 'nasha_modal_quick';
export const QUICK_EXPIRATIONS = ['1d', '3d', '7d', '14d', '30d', 'none'] as const;

/** The "Snapshot now" form, prefilled from the channel (label, last target) and the message (reason). */
export function quickModal(
  privateMetadata: string,
  prefill: { target: string | undefined; label: string; reason: string | undefined; expiration: string },
): types.ModalView {
  const expirationOption = (value: string): types.PlainTextOption => ({
    text: plainText(value === 'none' ? 'Keep until deleted' : `In ${value}`, LIMITS.optionText),
    value,
  });
  return {
    type: 'modal',
    callback_id: QUICK_MODAL,
    title: plainText('Snapshot now', LIMITS.modalTitle),
    submit: plainText('Take snapshots', LIMITS.modalButton),
    close: plainText('Cancel', LIMITS.modalButton),
    private_metadata: privateMetadata,
    blocks: [
      {
        type: 'input',
        block_id: QUICK_FIELD.target,
        label: plainText('What to snapshot', 2000),
        hint: plainText('service/partition, a whole service, or a group from the config', 2000),
        element: {
          type: 'plain_text_input',
          action_id: QUICK_FIELD.target,
          max_length: 200,
          ...(prefill.target !== undefined && { initial_value: prefill.target }),
        },
      },
      {
        type: 'input',
        block_id: QUICK_FIELD.label,
        label: plainText('Label', 2000),
        element: {
          type: 'plain_text_input',
          action_id: QUICK_FIELD.label,
          max_length: 40,
          initial_value: prefill.label,
        },
      },
      {
        type: 'input',
        block_id: QUICK_FIELD.expiration,
        label: plainText('Expires', 2000),
        element: {
          type: 'static_select',
          action_id: QUICK_FIELD.expiration,
          options: QUICK_EXPIRATIONS.map(expirationOption),
          initial_option: expirationOption(prefill.expiration),
        },
      },
      {
        type: 'input',
        block_id: QUICK_FIELD.reason,
        optional: true,
        label: plainText('Reason', 2000),
        element: {
          type: 'plain_text_input',
          action_id: QUICK_FIELD.reason,
          multiline: true,
          max_length: 500,
          ...(prefill.reason !== undefined && { initial_value: prefill.reason }),
        },
      },
    ],
  };
}
