import type { types } from '@slack/bolt';
import type {
  ApprovalNudge,
  ApprovalOutcomeDetail,
  ApprovalRequest,
  ApproverMentions,
  ImpactPreview,
} from '../../core/approvals.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import {
  bold,
  capitalized,
  channel,
  code,
  date,
  group,
  italic,
  joinText,
  type Text,
  text,
  user,
  verbatim,
} from '../text.js';
import { context, fieldsSection, header, LIMITS, message, plainText, type SlackMessage, section } from './limits.js';
import { changeText, problemText, storedText, target, taskFailureText } from './problems.js';
import { settlementText } from './settlements.js';

/**
 * Pure builders for approval cards (read in the approvals channel: its language, dates as Slack's tokens) and
 * the requester's messages (their language and time zone).
 */

export const APPROVAL_ACTION = {
  approve: 'nasha_approval_approve',
  reject: 'nasha_approval_reject',
  cancel: 'nasha_approval_cancel',
} as const;

/** Slack's limit for a confirmation dialog's text. */
const CONFIRM_TEXT = 300;

const STATE_LINE: Readonly<Record<ApprovalRequest['state'], { icon: string; key: MessageKey }>> = {
  pending: { icon: ':raising_hand:', key: 'approval.line.pending' },
  approved: { icon: ':ballot_box_with_check:', key: 'approval.line.approved' },
  executing: { icon: ':arrows_counterclockwise:', key: 'approval.line.executing' },
  succeeded: { icon: ':white_check_mark:', key: 'approval.line.succeeded' },
  failed: { icon: ':x:', key: 'approval.line.failed' },
  rejected: { icon: ':no_entry_sign:', key: 'approval.line.rejected' },
  expired: { icon: ':hourglass:', key: 'approval.line.expired' },
  cancelled: { icon: ':leftwards_arrow_with_hook:', key: 'approval.line.cancelled' },
  invalidated: { icon: ':warning:', key: 'approval.line.invalidated' },
};

/** How far back automatic restore points reach: `6 hours`, `7 days`. */
export function durationText(ms: number | null, tr: Translator = ENGLISH_TRANSLATOR): string {
  if (ms === null) return tr.plain(tr.t('approval.noRestorePoint'));
  const hours = ms / 3_600_000;
  if (hours < 24) return tr.plain(tr.t('approval.hours', { hours }));
  return tr.plain(tr.t('approval.days', { days: hours / 24 }));
}

function frequencies(types_: readonly string[], none: Text): Text {
  return types_.length === 0 ? none : joinText(types_.map(code), ' ');
}

export function previewText(preview: ImpactPreview, tr: Translator = ENGLISH_TRANSLATOR): Text {
  if (preview.kind === 'snapshot') {
    return tr.t('approval.previewSnapshot', {
      name: verbatim(preview.name),
      expiry:
        preview.expiration === null
          ? tr.t('approval.keptUntilDeleted')
          : tr.t('approval.expiresOn', { when: verbatim(preview.expiration) }),
      left: preview.customLeft,
      // No automatic snapshots left (`aucun` in French), or no frequency left (`aucune`) below.
      enabled: frequencies(preview.enabled, text(italic(tr.t('replies.none')))),
    });
  }
  return tr.t('approval.previewFrequency', {
    type: code(preview.type),
    left: frequencies(preview.remaining, text(italic(tr.t('common.none')), ' :warning:')),
    after: durationText(preview.reachAfterMs, tr),
    before: durationText(preview.reachBeforeMs, tr),
    count: preview.customCount,
  });
}

/**
 * What the request's stored outcome says: the problem that stopped it, how OVH's task ended, how the change was
 * settled on OVH, or an older version's text (shown literally).
 */
export function outcomeDetailText(
  detail: ApprovalOutcomeDetail | null,
  tr: Translator = ENGLISH_TRANSLATOR,
): Text | undefined {
  if (detail === null) return undefined;
  const parts: Text[] = [];
  const { problem, task, settlement, ovh, note } = detail;
  if (problem !== undefined) parts.push(storedText(() => problemText(problem, tr), problem, tr));
  if (task !== undefined) parts.push(storedText(() => taskFailureText(task, tr), task, tr));
  if (settlement !== undefined) parts.push(storedText(() => settlementText(settlement, tr), settlement, tr));
  if (ovh !== undefined) parts.push(tr.t('approval.ovhSaid', { words: verbatim(ovh) }));
  if (note !== undefined) parts.push(text(verbatim(note)));
  if (detail.text !== undefined) parts.push(text(verbatim(detail.text)));
  return parts.length === 0 ? undefined : joinText(parts, ' ');
}

export function outcomeLine(request: ApprovalRequest, tr: Translator): Text {
  const approvers = tr.list(
    request.approvals.map((v) => user(v.userId)),
    'and',
  );
  const task = request.taskId === null ? text() : tr.t('approval.withTask', { task: code(String(request.taskId)) });
  const look = STATE_LINE[request.state];
  const state = text(`${look.icon} `, tr.t(look.key));
  switch (request.state) {
    case 'pending': {
      const who = request.approvals.length === 0 ? text() : text(' (', approvers, ')');
      return tr.t('approval.pendingLine', {
        state,
        count: String(request.approvals.length),
        quorum: String(request.quorum),
        who,
        expires: date(request.expiresAt),
      });
    }
    case 'approved':
    case 'executing':
      return tr.t('approval.by', { state, by: approvers, task });
    case 'succeeded': {
      // Done, or confirmed on OVH after its answer was lost (then how it was confirmed).
      const how = outcomeDetailText(request.outcomeDetail, tr);
      return text(tr.t('approval.by', { state, by: approvers, task }), how === undefined ? text() : text('\n', how));
    }
    case 'failed': {
      const by = request.approvals.length === 0 ? text('—') : approvers;
      const why = outcomeDetailText(request.outcomeDetail, tr) ?? tr.t('approval.unknownError');
      return text(tr.t('approval.by', { state, by, task }), '\n', why);
    }
    case 'rejected': {
      const by = request.decidedBy === null ? tr.t('approval.someone') : text(user(request.decidedBy));
      const why =
        request.decisionReason === null
          ? text()
          : tr.t('approval.because', { reason: verbatim(request.decisionReason) });
      return text(tr.t('approval.by', { state, by, task: text() }), why);
    }
    case 'invalidated': {
      const why = outcomeDetailText(request.outcomeDetail, tr);
      return tr.t('approval.invalidatedLine', {
        state,
        why: why === undefined ? text('.') : tr.t('approval.because', { reason: why }),
      });
    }
    case 'expired':
    case 'cancelled':
      return state;
  }
}

/**
 * The card's buttons, also used by the Home tab and `/nasha approvals`: the same action ids, so a click anywhere
 * goes through the same handler and checks. The value only names the request.
 */
export function approveButton(request: ApprovalRequest, tr: Translator): types.Button {
  return {
    type: 'button',
    action_id: APPROVAL_ACTION.approve,
    style: 'primary',
    text: plainText(tr.plain(tr.t('approval.approve')), LIMITS.buttonText),
    value: request.id,
    confirm: {
      title: plainText(tr.plain(tr.t('approval.confirmTitle')), 100),
      // plain_text: shown as written, names and all.
      text: plainText(
        tr.plain(tr.t('approval.confirmText', { what: capitalized(changeText(request.change, tr)) })),
        CONFIRM_TEXT,
      ),
      confirm: plainText(tr.plain(tr.t('approval.approve')), 30),
      deny: plainText(tr.plain(tr.t('approval.back')), 30),
      style: 'primary',
    },
  };
}

export function rejectButton(request: ApprovalRequest, tr: Translator): types.Button {
  return {
    type: 'button',
    action_id: APPROVAL_ACTION.reject,
    style: 'danger',
    text: plainText(tr.plain(tr.t('approval.reject')), LIMITS.buttonText),
    value: request.id,
  };
}

export function cancelButton(request: ApprovalRequest, tr: Translator): types.Button {
  return {
    type: 'button',
    action_id: APPROVAL_ACTION.cancel,
    text: plainText(tr.plain(tr.t('approval.cancel')), LIMITS.buttonText),
    value: request.id,
  };
}

/** The card in the approvals channel (its language: `tr`); buttons only while it is pending. */
export function approvalCard(request: ApprovalRequest, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const what = changeText(request.change, tr);
  const id = `#${request.id}`;
  const field = (key: MessageKey, value: Text | ReturnType<typeof code>) => text(bold(tr.t(key)), '\n', value);
  const blocks: types.KnownBlock[] = [
    header(tr.plain(tr.t('approval.title', { id }))),
    fieldsSection([
      tr.mrkdwn(field('approval.requestedBy', text(user(request.requester.userId)))),
      tr.mrkdwn(field('approval.change', what)),
      tr.mrkdwn(field('approval.target', target(request.change.target))),
      tr.mrkdwn(field('approval.expires', text(date(request.expiresAt)))),
    ]),
    section(tr.mrkdwn(field('approval.reason', text(verbatim(request.reason))))),
    section(tr.mrkdwn(field('approval.impact', previewText(request.preview, tr)))),
    section(tr.mrkdwn(outcomeLine(request, tr))),
  ];
  if (request.state === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: `approval_${request.id}`,
      elements: [approveButton(request, tr), rejectButton(request, tr), cancelButton(request, tr)],
    });
    const from =
      request.approverGroups.length === 0
        ? text()
        : tr.t('approval.fromGroups', { groups: tr.list(request.approverGroups.map(group), 'or') });
    blocks.push(context(tr.mrkdwn(tr.t('approval.needs', { quorum: request.quorum, from }))));
  }
  return message(tr.t('approval.notification', { id, what, state: request.state }), blocks, tr.reader);
}

/** The requester's DM when their request ends (their language and time zone: `tr`). */
export function approvalOutcomeMessage(request: ApprovalRequest, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const id = `#${request.id}`;
  return message(
    tr.t('approval.outcomeNotification', { id, state: request.state }),
    [
      section(
        tr.mrkdwn(
          tr.t('approval.yourRequest', { id, change: changeText(request.change, tr), line: outcomeLine(request, tr) }),
        ),
      ),
    ],
    tr.reader,
  );
}

/** The requester's ephemeral answer right after asking (their language and time zone: `tr`). */
export function approvalPendingMessage(request: ApprovalRequest, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const id = `#${request.id}`;
  return message(
    tr.t('approval.pendingNotification', { id }),
    [
      section(
        `:raising_hand: ${tr.mrkdwn(
          tr.t('approval.pending', {
            change: capitalized(changeText(request.change, tr)),
            id,
            expires: date(request.expiresAt),
            channel: channel(request.card.channel),
          }),
        )}`,
      ),
      section(tr.mrkdwn(text(bold(tr.t('approval.impact')), '\n', previewText(request.preview, tr)))),
    ],
    tr.reader,
  );
}

/** Who a reminder names: user group mentions (`<!subteam^…>`) and approver user mentions, never @channel. */
function approverMentions(approvers: ApproverMentions, tr: Translator): Text {
  const names = [...approvers.groups.map(group), ...approvers.users.map(user)];
  return names.length === 0
    ? tr.t('approval.thread.noApprovers')
    : tr.t('approval.thread.approvers', { who: tr.list(names, 'or') });
}

/** A reminder or the escalation, in the card's thread (the approvals channel's language: `tr`). */
export function approvalNudgeMessage(
  request: ApprovalRequest,
  nudge: ApprovalNudge,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const id = `#${request.id}`;
  const line =
    nudge.kind === 'escalation'
      ? tr.t('approval.thread.escalation', {
          id,
          groups: tr.list(nudge.escalatedTo.map(group), 'and'),
          who: approverMentions(nudge.approvers, tr),
        })
      : tr.t('approval.thread.reminder', {
          id,
          number: String(nudge.number),
          // Once escalated, the escalation groups are named with the approvers.
          who: approverMentions(
            { ...nudge.approvers, groups: [...new Set([...nudge.approvers.groups, ...nudge.escalatedTo])] },
            tr,
          ),
        });
  const icon = nudge.kind === 'escalation' ? ':rotating_light:' : ':bell:';
  return message(
    tr.t('approval.thread.notification', { id, line }),
    [section(`${icon} ${tr.mrkdwn(line)}`)],
    tr.reader,
  );
}

/** The requester's DM when their request is escalated (their language and time zone: `tr`). */
export function approvalEscalatedMessage(
  request: ApprovalRequest,
  escalatedTo: readonly string[],
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const line = tr.t('approval.thread.escalatedDm', {
    id: `#${request.id}`,
    change: changeText(request.change, tr),
    groups: tr.list(escalatedTo.map(group), 'and'),
  });
  return message(line, [section(`:rotating_light: ${tr.mrkdwn(line)}`)], tr.reader);
}

/** One approval vote, in the card's thread. */
export function approvalVoteMessage(
  request: ApprovalRequest,
  vote: ApprovalRequest['approvals'][number],
  index: number,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const id = `#${request.id}`;
  const line = tr.t('approval.thread.vote', {
    user: user(vote.userId),
    count: String(index + 1),
    quorum: String(request.quorum),
  });
  return message(
    tr.t('approval.thread.notification', { id, line }),
    [section(`:ballot_box_with_check: ${tr.mrkdwn(line)}`)],
    tr.reader,
  );
}

/** How the request ended (decided, cancelled, expired, done or failed), in the card's thread. */
export function approvalEndMessage(request: ApprovalRequest, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const id = `#${request.id}`;
  const line = outcomeLine(request, tr);
  return message(tr.t('approval.thread.notification', { id, line }), [section(tr.mrkdwn(line))], tr.reader);
}
