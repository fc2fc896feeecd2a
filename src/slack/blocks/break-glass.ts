/**
 * Break-glass messages, pure: the confirm reply a member sees before it runs (its button has Slack's confirm
 * dialog), the review card in the approvals channel (its language; an Acknowledge button while pending), the
 * approvers' DMs (each in their language), the acknowledgement in the card's thread, and the answers to clicks.
 */
import type { types } from '@slack/bolt';
import type { AcknowledgeResult, BreakGlassReview } from '../../core/break-glass.js';
import type { ChangeDraft } from '../../core/desk.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { bold, capitalized, channel, date, group, type Text, text, user, verbatim } from '../text.js';
import { clickRefusalText } from './clicks.js';
import { context, fieldsSection, header, LIMITS, message, plainText, type SlackMessage, section } from './limits.js';
import { changeText, refusalText, sentence, target } from './problems.js';

export const BREAK_GLASS_ACTION = {
  run: 'nasha_break_glass_run',
  acknowledge: 'nasha_break_glass_ack',
} as const;

/** Slack's limit for a confirmation dialog's text. */
const CONFIRM_TEXT = 300;

/**
 * The reply to `--break-glass` from a member: what will run, and a button whose confirm dialog says it runs now
 * without approval and will be reviewed. Only the click runs it (the desk decides again then).
 */
export function breakGlassConfirmMessage(
  draft: ChangeDraft,
  reason: string,
  groupId: string,
  value: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const what = changeText(draft, tr);
  const line = tr.t('breakGlass.confirm.line', { what, group: group(groupId), reason: verbatim(reason) });
  const blocks: types.KnownBlock[] = [
    section(`:rotating_light: ${tr.mrkdwn(line)}`),
    {
      type: 'actions',
      block_id: 'nasha_break_glass',
      elements: [
        {
          type: 'button',
          action_id: BREAK_GLASS_ACTION.run,
          style: 'danger',
          text: plainText(tr.plain(tr.t('breakGlass.confirm.button')), LIMITS.buttonText),
          value,
          confirm: {
            title: plainText(tr.plain(tr.t('breakGlass.confirm.title')), 100),
            text: plainText(tr.plain(tr.t('breakGlass.confirm.text', { what: capitalized(what) })), CONFIRM_TEXT),
            confirm: plainText(tr.plain(tr.t('breakGlass.confirm.button')), 30),
            deny: plainText(tr.plain(tr.t('approval.back')), 30),
            style: 'danger',
          },
        },
      ],
    },
  ];
  return message(line, blocks, tr.reader);
}

/** The review card in the approvals channel: what ran, by whom, why; Acknowledge while pending. */
export function breakGlassCard(review: BreakGlassReview, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const id = `#${review.id}`;
  const field = (label: Text, value: Text) => text(bold(label), '\n', value);
  const blocks: types.KnownBlock[] = [
    header(tr.plain(tr.t('breakGlass.card.title', { id }))),
    section(`:rotating_light: ${tr.mrkdwn(openedLine(review, tr))}`),
    fieldsSection([
      tr.mrkdwn(field(tr.t('breakGlass.card.ranBy'), text(user(review.actor.userId)))),
      tr.mrkdwn(field(tr.t('approval.change'), changeText(review.change, tr))),
      tr.mrkdwn(field(tr.t('approval.target'), text(target(review.change.target)))),
      tr.mrkdwn(field(tr.t('breakGlass.card.group'), text(group(review.group)))),
    ]),
    section(tr.mrkdwn(field(tr.t('approval.reason'), text(verbatim(review.reason))))),
  ];
  if (review.status === 'pending') {
    blocks.push(section(tr.mrkdwn(tr.t('breakGlass.card.awaiting'))), {
      type: 'actions',
      block_id: `break_glass_${review.id}`,
      elements: [
        {
          type: 'button',
          action_id: BREAK_GLASS_ACTION.acknowledge,
          style: 'primary',
          text: plainText(tr.plain(tr.t('breakGlass.card.acknowledge')), LIMITS.buttonText),
          value: review.id,
        },
      ],
    });
  } else {
    blocks.push(section(`:white_check_mark: ${tr.mrkdwn(acknowledgedLine(review, tr))}`));
  }
  blocks.push(context(tr.t('breakGlass.card.ranAt', { when: date(review.createdAt) })));
  const state = review.status === 'pending' ? tr.t('breakGlass.card.awaitingShort') : acknowledgedLine(review, tr);
  return message(
    tr.t('breakGlass.card.notification', { id, what: changeText(review.change, tr), state }),
    blocks,
    tr.reader,
  );
}

function openedLine(review: BreakGlassReview, tr: Translator): Text {
  return tr.t('breakGlass.opened', {
    who: user(review.actor.userId),
    what: changeText(review.change, tr),
    group: group(review.group),
  });
}

function acknowledgedLine(review: BreakGlassReview, tr: Translator): Text {
  return tr.t('breakGlass.acknowledgedBy', {
    who: review.acknowledgedBy === null ? tr.t('approval.someone') : text(user(review.acknowledgedBy)),
  });
}

/** An approver's DM, at once (their language): what ran and where to acknowledge it. */
export function breakGlassDm(review: BreakGlassReview, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const line = tr.t('breakGlass.dm', {
    opened: openedLine(review, tr),
    reason: verbatim(review.reason),
    channel: channel(review.channel),
    id: `#${review.id}`,
  });
  return message(line, [section(`:rotating_light: ${tr.mrkdwn(line)}`)], tr.reader);
}

/** The acknowledgement, in the card's thread. */
export function breakGlassAckReply(review: BreakGlassReview, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const line = acknowledgedLine(review, tr);
  return message(line, [section(`:white_check_mark: ${tr.mrkdwn(line)}`)], tr.reader);
}

/** The answer to an Acknowledge click (ephemeral, to the clicker). */
export function acknowledgeResultMessage(result: AcknowledgeResult, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  if (result.ok) {
    const line = tr.t('breakGlass.ack.done', { id: `#${result.review.id}` });
    return message(line, [section(`:white_check_mark: ${tr.mrkdwn(line)}`)], tr.reader);
  }
  const refusal = result.refusal;
  const id = `#${refusal.id}`;
  let line: Text;
  switch (refusal.kind) {
    case 'unknown_review':
      line = tr.t('breakGlass.ack.unknown', { id });
      break;
    case 'closed':
      line = tr.t('breakGlass.ack.closed', {
        id,
        who: refusal.by === null ? tr.t('approval.someone') : text(user(refusal.by)),
      });
      break;
    case 'self_review':
      line = sentence(refusalText({ kind: 'click', why: 'self_review' }, undefined, tr));
      break;
    case 'not_approver':
      // The same words as a refused Approve: the role check, and the approver groups when the rule names them.
      line = clickRefusalText({ kind: 'not_approver', id: refusal.id, decision: refusal.decision }, tr);
      break;
  }
  return message(line, [section(`:no_entry: ${tr.mrkdwn(line)}`)], tr.reader);
}
