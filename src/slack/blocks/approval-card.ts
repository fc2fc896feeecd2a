import type { types } from '@slack/bolt';
import type { ApprovalOutcomeDetail, ApprovalRequest, ImpactPreview } from '../../core/approvals.js';
import {
  bold,
  capitalized,
  channel,
  code,
  date,
  group,
  italic,
  joinText,
  listOf,
  plain,
  say,
  type Text,
  text,
  user,
  verbatim,
} from '../text.js';
import { context, fieldsSection, header, LIMITS, message, plainText, type SlackMessage, section } from './limits.js';
import { changeText, problemText, storedText, target, taskFailureText } from './problems.js';
import { settlementText } from './settlements.js';

/** Pure builders for approval cards and the requester's DM. */

export const APPROVAL_ACTION = {
  approve: 'nasha_approval_approve',
  reject: 'nasha_approval_reject',
  cancel: 'nasha_approval_cancel',
} as const;

/** Slack's limit for a confirmation dialog's text. */
const CONFIRM_TEXT = 300;

const STATE_LINE: Readonly<Record<ApprovalRequest['state'], Text>> = {
  pending: say`:raising_hand: ${bold('Waiting for approval')}`,
  approved: say`:ballot_box_with_check: ${bold('Approved')} — running`,
  executing: say`:arrows_counterclockwise: ${bold('Approved')} — running on OVH`,
  succeeded: say`:white_check_mark: ${bold('Approved → done')}`,
  failed: say`:x: ${bold('Approved → failed')}`,
  rejected: say`:no_entry_sign: ${bold('Rejected')}`,
  expired: say`:hourglass: ${bold('Expired')} — nobody approved it in time`,
  cancelled: say`:leftwards_arrow_with_hook: ${bold('Cancelled')} by the requester`,
  invalidated: say`:warning: ${bold('Not executed')} — the target changed`,
};

export function durationText(ms: number | null): string {
  if (ms === null) return 'no automatic restore point';
  const hours = ms / 3_600_000;
  if (hours < 24) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = hours / 24;
  return `${days} day${days === 1 ? '' : 's'}`;
}

function frequencies(types_: readonly string[], none: Text): Text {
  return types_.length === 0 ? none : joinText(types_.map(code), ' ');
}

export function previewText(preview: ImpactPreview): Text {
  if (preview.kind === 'snapshot') {
    const expiry =
      preview.expiration === null ? text('kept until deleted') : say`expires ${verbatim(preview.expiration)}`;
    return say`Deletes custom snapshot ${verbatim(preview.name)} (${expiry}). ${preview.customLeft} custom snapshot(s) will remain; automatic: ${frequencies(preview.enabled, text(italic('none')))}.`;
  }
  const left = frequencies(preview.remaining, say`${italic('none')} :warning:`);
  return say`Stops ${code(preview.type)} snapshots. Frequencies left: ${left}. Automatic restore points will reach back ${bold(durationText(preview.reachAfterMs))} (now ${durationText(preview.reachBeforeMs)}); ${preview.customCount} custom snapshot(s) are not affected.`;
}

/**
 * What the request's stored outcome says: the problem that stopped it, how OVH's task ended, how the change was
 * settled on OVH, or an older version's text (shown literally).
 */
export function outcomeDetailText(detail: ApprovalOutcomeDetail | null): Text | undefined {
  if (detail === null) return undefined;
  const parts: Text[] = [];
  const { problem, task, settlement, ovh, note } = detail;
  if (problem !== undefined) parts.push(storedText(() => problemText(problem), problem));
  if (task !== undefined) parts.push(storedText(() => taskFailureText(task), task));
  if (settlement !== undefined) parts.push(storedText(() => settlementText(settlement), settlement));
  if (ovh !== undefined) parts.push(say`OVH said: ${verbatim(ovh)}`);
  if (note !== undefined) parts.push(text(verbatim(note)));
  if (detail.text !== undefined) parts.push(text(verbatim(detail.text)));
  return parts.length === 0 ? undefined : joinText(parts, ' ');
}

function outcomeLine(request: ApprovalRequest): Text {
  const approvers = listOf(
    request.approvals.map((v) => user(v.userId)),
    'and',
  );
  const task = request.taskId === null ? text() : say` · OVH task ${code(String(request.taskId))}`;
  const state = STATE_LINE[request.state];
  switch (request.state) {
    case 'pending': {
      const who = request.approvals.length === 0 ? text() : say` (${approvers})`;
      return say`${state} — ${request.approvals.length}/${request.quorum}${who}; expires ${date(request.expiresAt)}`;
    }
    case 'approved':
    case 'executing':
      return say`${state} by ${approvers}${task}`;
    case 'succeeded': {
      // Done, or confirmed on OVH after its answer was lost (then how it was confirmed).
      const how = outcomeDetailText(request.outcomeDetail);
      return say`${state} by ${approvers}${task}${how === undefined ? '' : say`\n${how}`}`;
    }
    case 'failed': {
      const by = request.approvals.length === 0 ? text('—') : approvers;
      const why = outcomeDetailText(request.outcomeDetail) ?? text('unknown error');
      return say`${state} by ${by}${task}\n${why}`;
    }
    case 'rejected': {
      const by = request.decidedBy === null ? text('someone') : text(user(request.decidedBy));
      const why = request.decisionReason === null ? text() : say`: ${verbatim(request.decisionReason)}`;
      return say`${state} by ${by}${why}`;
    }
    case 'invalidated': {
      const why = outcomeDetailText(request.outcomeDetail);
      return say`${state}${why === undefined ? '.' : say`: ${why}`} Nothing was sent to OVH.`;
    }
    case 'expired':
    case 'cancelled':
      return state;
  }
}

/** The card in the approvals channel; buttons only while it is pending. */
export function approvalCard(request: ApprovalRequest): SlackMessage {
  const what = changeText(request.change);
  const blocks: types.KnownBlock[] = [
    header(`Approval #${request.id}`),
    fieldsSection([
      say`${bold('Requested by')}\n${user(request.requester.userId)}`,
      say`${bold('Change')}\n${what}`,
      say`${bold('Target')}\n${target(request.change.target)}`,
      say`${bold('Expires')}\n${date(request.expiresAt)}`,
    ]),
    section(say`${bold('Reason')}\n${verbatim(request.reason)}`),
    section(say`${bold('Impact')}\n${previewText(request.preview)}`),
    section(outcomeLine(request)),
  ];
  if (request.state === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: `approval_${request.id}`,
      elements: [
        {
          type: 'button',
          action_id: APPROVAL_ACTION.approve,
          style: 'primary',
          text: plainText('Approve', LIMITS.buttonText),
          value: request.id,
          confirm: {
            title: plainText('Approve this change?', 100),
            // plain_text: shown as written, names and all.
            text: plainText(
              plain(say`${capitalized(what)}. This runs on OVH at once and cannot be undone.`),
              CONFIRM_TEXT,
            ),
            confirm: plainText('Approve', 30),
            deny: plainText('Back', 30),
            style: 'primary',
          },
        },
        {
          type: 'button',
          action_id: APPROVAL_ACTION.reject,
          style: 'danger',
          text: plainText('Reject…', LIMITS.buttonText),
          value: request.id,
        },
        {
          type: 'button',
          action_id: APPROVAL_ACTION.cancel,
          text: plainText('Cancel request', LIMITS.buttonText),
          value: request.id,
        },
      ],
    });
    const from =
      request.approverGroups.length === 0 ? text() : say`, from ${listOf(request.approverGroups.map(group), 'or')}`;
    blocks.push(context(say`Needs ${request.quorum} approver(s) other than the requester${from}.`));
  }
  return message(say`Approval #${request.id}: ${what} — ${request.state}`, blocks);
}

/** The requester's DM when their request ends. */
export function approvalOutcomeMessage(request: ApprovalRequest): SlackMessage {
  return message(say`Approval #${request.id}: ${request.state}`, [
    section(say`Your request #${request.id} (${changeText(request.change)}): ${outcomeLine(request)}`),
  ]);
}

/** The requester's ephemeral answer right after asking. */
export function approvalPendingMessage(request: ApprovalRequest): SlackMessage {
  return message(say`Pending approval #${request.id}`, [
    section(
      say`:raising_hand: ${capitalized(changeText(request.change))} needs approval: ${bold(`pending approval #${request.id}`)}, expires ${date(request.expiresAt)}. The approvers were asked in ${channel(request.card.channel)}; you will get a DM with the outcome.`,
    ),
    section(say`${bold('Impact')}\n${previewText(request.preview)}`),
  ]);
}
