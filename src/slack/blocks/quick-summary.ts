import type { types } from '@slack/bolt';
import { formatTarget } from '../../core/model.js';
import type { QuickItem, QuickRun } from '../../core/quick-snapshots.js';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { bold, code, date, joinText, type Text, text, user, verbatim } from '../text.js';
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

function line(item: QuickItem, tr: Translator): Text {
  const target = code(formatTarget(item.target));
  const state = item.state;
  switch (state.status) {
    case 'queued':
      return text(':white_circle: ', tr.t('quick.queued', { target }));
    case 'creating': {
      const task = state.taskId === null ? text() : tr.t('quick.task', { id: code(String(state.taskId)) });
      return text(':arrows_counterclockwise: ', tr.t('quick.creating', { target, task }));
    }
    case 'done':
      return text(
        ':white_check_mark: ',
        tr.t('quick.done', { target, name: code(item.name), existed: state.existed ? 'yes' : 'no' }),
      );
    case 'failed':
      return text(
        ':x: ',
        tr.t('quick.failed', { target, why: storedText(() => quickFailureText(state.failure, tr), state.failure, tr) }),
      );
    case 'full':
      return text(':warning: ', tr.t('quick.full', { target }));
    case 'denied':
      return text(
        ':no_entry: ',
        tr.t('quick.denied', {
          target,
          why: storedText(() => refusalText(state.refusal, item.target, tr), state.refusal, tr),
        }),
      );
  }
}

function counts(run: QuickRun, tr: Translator): Text {
  const n = (status: string) => run.items.filter((i) => i.state.status === status).length;
  const inProgress = n('creating') + n('queued');
  const parts = [
    tr.t('quick.countDone', { done: n('done'), total: run.items.length }),
    inProgress > 0 ? tr.t('quick.countInProgress', { count: inProgress }) : undefined,
    n('failed') > 0 ? tr.t('quick.countFailed', { count: n('failed') }) : undefined,
    n('full') > 0 ? tr.t('quick.countFull', { count: n('full') }) : undefined,
    n('denied') > 0 ? tr.t('quick.countDenied', { count: n('denied') }) : undefined,
  ];
  return joinText(
    parts.filter((p) => p !== undefined),
    tr.plain(tr.t('quick.countSeparator')),
  );
}

/** An expiration as stored (ISO 8601): a date in the reader's time zone, or the text if it is not one. */
function expirationText(expiration: string): Text {
  const at = Date.parse(expiration);
  return Number.isNaN(at) ? text(verbatim(expiration)) : text(date(at));
}

/**
 * One message for the whole run, rewritten in place as results come. It is posted in a channel: `tr` is the
 * channel's reader (its language; dates stay Slack's tokens).
 */
export function quickSummary(run: QuickRun, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const finished = run.finishedAt !== null;
  const expires =
    run.expiration === null
      ? tr.t('quick.noExpiration')
      : tr.t('quick.expire', { when: expirationText(run.expiration) });
  const reason =
    run.reason === null ? text() : tr.t('quick.reason', { reason: verbatim(truncate(run.reason, REASON_SHOWN)) });
  const tally = counts(run, tr);
  const blocks: types.KnownBlock[] = [
    // plain_text: the label shows as typed, never as markup.
    header(tr.plain(tr.t(finished ? 'quick.headerDone' : 'quick.headerRunning', { label: run.label }))),
    context(tr.mrkdwn(tr.t('quick.askedBy', { user: user(run.requester), spec: verbatim(run.spec), expires, reason }))),
    section(tr.mrkdwn(text(bold(tally)))),
  ];
  // Many partitions: a few long sections rather than one block per partition (≤ 50 blocks).
  blocks.push(...chunkSections(run.items.map((item) => tr.mrkdwn(line(item, tr)))));
  const full = run.items.filter((i) => i.state.status === 'full');
  for (const item of full.slice(0, FULL_DETAILS)) {
    if (item.state.status !== 'full') continue;
    const oldest = item.state.snapshots[0];
    const list = item.state.snapshots.map((s, i) => {
      const made = s.createdAt === null ? tr.t('quick.madeOutside') : tr.t('quick.made', { when: date(s.createdAt) });
      const kept =
        s.expiration === null
          ? tr.t('quick.keptUntilDeleted')
          : tr.t('quick.expires', { when: expirationText(s.expiration) });
      return tr.t('quick.oldestLine', { index: i + 1, name: verbatim(s.name), made, kept });
    });
    blocks.push(
      section(
        tr.mrkdwn(text(tr.t('quick.isFull', { target: code(formatTarget(item.target)) }), '\n', joinText(list, '\n'))),
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
            text: plainText(tr.plain(tr.t('quick.deleteOldest', { name: oldest.name })), LIMITS.buttonText),
            value: JSON.stringify(value).slice(0, LIMITS.buttonValue),
          },
        ],
      });
    }
  }
  if (full.length > FULL_DETAILS) {
    blocks.push(context(tr.mrkdwn(tr.t('quick.moreFull', { count: full.length - FULL_DETAILS }))));
  }
  if (full.length > 0) blocks.push(context(tr.mrkdwn(tr.t('quick.nothingDeleted'))));
  return message(tr.t('quick.notification', { label: verbatim(run.label), counts: tally }), blocks, tr.reader);
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
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  const words = (key: Parameters<Translator['t']>[0]) => tr.plain(tr.t(key));
  const duration = (value: string) => {
    const parsed = parseDuration(value);
    return tr.lang === 'en' || !parsed.ok ? value : formatDuration(parsed.ms, tr.lang);
  };
  const expirationOption = (value: string): types.PlainTextOption => ({
    text: plainText(
      value === 'none' ? words('quick.keepUntilDeleted') : tr.plain(tr.t('quick.in', { duration: duration(value) })),
      LIMITS.optionText,
    ),
    value,
  });
  return {
    type: 'modal',
    callback_id: QUICK_MODAL,
    title: plainText(words('quick.formTitle'), LIMITS.modalTitle),
    submit: plainText(words('quick.formSubmit'), LIMITS.modalButton),
    close: plainText(words('modal.cancel'), LIMITS.modalButton),
    private_metadata: privateMetadata,
    blocks: [
      {
        type: 'input',
        block_id: QUICK_FIELD.target,
        label: plainText(words('quick.formTarget'), 2000),
        hint: plainText(words('quick.formTargetHint'), 2000),
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
        label: plainText(words('quick.formLabel'), 2000),
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
        label: plainText(words('quick.formExpires'), 2000),
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
        label: plainText(words('quick.formReason'), 2000),
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
