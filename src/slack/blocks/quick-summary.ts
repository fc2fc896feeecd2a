import type { types } from '@slack/bolt';
import { formatTarget } from '../../core/model.js';
import type { QuickItem, QuickRun } from '../../core/quick-snapshots.js';
import {
  chunkSections,
  context,
  escapeMrkdwn,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
  slackDate,
  truncate,
} from './limits.js';

/** Pure builders for the quick-snapshot summary and its form. */

export const QUICK_ACTION = { deleteOldest: 'nasha_quick_delete_oldest' } as const;
export const QUICK_SHORTCUT = { message: 'nasha_quick_message', global: 'nasha_quick_global' } as const;
/** Partitions at 10/10 shown in detail (with their button); more are only counted. */
const FULL_DETAILS = 10;

export interface DeleteOldestValue {
  s: string;
  p: string;
  n: string;
  l: string;
}

function line(item: QuickItem): string {
  const where = `\`${escapeMrkdwn(formatTarget(item.target))}\``;
  switch (item.state.status) {
    case 'queued':
      return `:white_circle: ${where} — queued`;
    case 'creating':
      return `:arrows_counterclockwise: ${where} — creating${item.state.taskId === null ? '' : ` (task \`${item.state.taskId}\`)`}`;
    case 'done':
      return `:white_check_mark: ${where} — \`${escapeMrkdwn(item.name)}\`${item.state.existed ? ' (already taken this minute)' : ''}`;
    case 'failed':
      return `:x: ${where} — failed: ${escapeMrkdwn(item.state.reason.replace(/`/g, ''))}`;
    case 'full':
      return `:warning: ${where} — 10/10 custom snapshots: nothing taken, see below`;
    case 'denied':
      return `:no_entry: ${where} — not allowed: ${escapeMrkdwn(item.state.reason.replace(/[`*]/g, ''))}`;
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

/** One message for the whole run, rewritten in place as results come. */
export function quickSummary(run: QuickRun): SlackMessage {
  const finished = run.finishedAt !== null;
  const blocks: types.KnownBlock[] = [
    header(`${finished ? 'Quick snapshots' : 'Taking quick snapshots'} — ${run.label}`),
    context(
      `Asked by <@${run.requester}> for \`${escapeMrkdwn(run.spec)}\` · ${run.expiration === null ? 'no expiration' : `expire ${slackDate(Date.parse(run.expiration))}`}${run.reason === null ? '' : ` · ${escapeMrkdwn(truncate(run.reason, 300))}`}`,
    ),
    section(`*${counts(run)}*`),
  ];
  // Many partitions: a few long sections rather than one block per partition (≤ 50 blocks).
  blocks.push(...chunkSections(run.items.map(line)));
  const full = run.items.filter((i) => i.state.status === 'full');
  for (const item of full.slice(0, FULL_DETAILS)) {
    if (item.state.status !== 'full') continue;
    const oldest = item.state.snapshots[0];
    const list = item.state.snapshots
      .map(
        (s, i) =>
          `${i + 1}. \`${escapeMrkdwn(s.name)}\` — ${s.createdAt === null ? 'made outside the bot' : `made ${slackDate(s.createdAt)}`}, ${s.expiration === null ? 'kept until deleted' : `expires ${escapeMrkdwn(s.expiration)}`}`,
      )
      .join('\n');
    blocks.push(section(`*\`${escapeMrkdwn(formatTarget(item.target))}\` is full (10/10), oldest first:*\n${list}`));
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
  return message(`Quick snapshots ${run.label}: ${counts(run)}`, blocks);
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
