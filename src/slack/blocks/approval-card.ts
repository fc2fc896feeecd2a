import type { types } from '@slack/bolt';
import type { ApprovalRequest, ImpactPreview } from '../../core/approvals.js';
import { formatTarget } from '../../core/model.js';
import { describeChange } from '../../core/snapshot-service.js';
import {
  context,
  escapeMrkdwn,
  fieldsSection,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
  slackDate,
} from './limits.js';

/** Pure builders for approval cards and the requester's DM. */

export const APPROVAL_ACTION = {
  approve: 'nasha_approval_approve',
  reject: 'nasha_approval_reject',
  cancel: 'nasha_approval_cancel',
} as const;

const STATE_LINE: Readonly<Record<ApprovalRequest['state'], string>> = {
  pending: ':raising_hand: *Waiting for approval*',
  approved: ':ballot_box_with_check: *Approved* — running',
  executing: ':arrows_counterclockwise: *Approved* — running on OVH',
  succeeded: ':white_check_mark: *Approved → done*',
  failed: ':x: *Approved → failed*',
  rejected: ':no_entry_sign: *Rejected*',
  expired: ':hourglass: *Expired* — nobody approved it in time',
  cancelled: ':leftwards_arrow_with_hook: *Cancelled* by the requester',
  invalidated: ':warning: *Not executed* — the target changed',
};

export function durationText(ms: number | null): string {
  if (ms === null) return 'no automatic restore point';
  const hours = ms / 3_600_000;
  if (hours < 24) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = hours / 24;
  return `${days} day${days === 1 ? '' : 's'}`;
}

export function previewText(preview: ImpactPreview): string {
  if (preview.kind === 'snapshot') {
    const expiry = preview.expiration === null ? 'kept until deleted' : `expires ${escapeMrkdwn(preview.expiration)}`;
    return `Deletes custom snapshot \`${escapeMrkdwn(preview.name)}\` (${expiry}). ${preview.customLeft} custom snapshot(s) will remain; automatic: ${preview.enabled.map((t) => `\`${t}\``).join(' ') || '_none_'}.`;
  }
  const left = preview.remaining.length === 0 ? '_none_ :warning:' : preview.remaining.map((t) => `\`${t}\``).join(' ');
  return `Stops \`${preview.type}\` snapshots. Frequencies left: ${left}. Automatic restore points will reach back *${durationText(preview.reachAfterMs)}* (now ${durationText(preview.reachBeforeMs)}); ${preview.customCount} custom snapshot(s) are not affected.`;
}

function outcomeLine(request: ApprovalRequest): string {
  const approvers = request.approvals.map((v) => `<@${v.userId}>`).join(', ');
  switch (request.state) {
    case 'pending':
      return `${STATE_LINE.pending} — ${request.approvals.length}/${request.quorum}${approvers ? ` (${approvers})` : ''}; expires ${slackDate(request.expiresAt)}`;
    case 'approved':
    case 'executing':
    case 'succeeded':
      return `${STATE_LINE[request.state]} by ${approvers}${request.taskId !== null ? ` · OVH task \`${request.taskId}\`` : ''}`;
    case 'failed':
      return `${STATE_LINE.failed} by ${approvers || '—'}${request.taskId !== null ? ` · OVH task \`${request.taskId}\`` : ''}\n>${escapeMrkdwn(request.outcomeDetail ?? 'unknown error')}`;
    case 'rejected':
      return `${STATE_LINE.rejected} by <@${request.decidedBy ?? '?'}>: ${escapeMrkdwn(request.decisionReason ?? '')}`;
    case 'invalidated':
      return `${STATE_LINE.invalidated}: ${escapeMrkdwn(request.outcomeDetail ?? '')}. Nothing was sent to OVH.`;
    default:
      return STATE_LINE[request.state];
  }
}

/** The card in the approvals channel; buttons only while it is pending. */
export function approvalCard(request: ApprovalRequest): SlackMessage {
  const what = describeChange(request.change);
  const blocks: types.KnownBlock[] = [
    header(`Approval #${request.id}`),
    fieldsSection([
      `*Requested by*\n<@${request.requester.userId}>`,
      `*Change*\n${what}`,
      `*Target*\n\`${escapeMrkdwn(formatTarget(request.change.target))}\``,
      `*Expires*\n${slackDate(request.expiresAt)}`,
    ]),
    section(`*Reason*\n${escapeMrkdwn(request.reason)}`),
    section(`*Impact*\n${previewText(request.preview)}`),
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
            text: { type: 'mrkdwn', text: `${what}.\nThis runs on OVH at once and cannot be undone.` },
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
    blocks.push(
      context(
        `Needs ${request.quorum} approver(s) other than the requester${request.approverGroups.length > 0 ? `, from ${request.approverGroups.map((g) => `<!subteam^${g}>`).join(' or ')}` : ''}.`,
      ),
    );
  }
  return message(`Approval #${request.id}: ${stripMarkup(what)} — ${request.state}`, blocks);
}

/** The requester's DM when their request ends. */
export function approvalOutcomeMessage(request: ApprovalRequest): SlackMessage {
  return message(`Approval #${request.id}: ${request.state}`, [
    section(`Your request #${request.id} (${describeChange(request.change)}): ${outcomeLine(request)}`),
  ]);
}

/** The requester's ephemeral answer right after asking. */
export function approvalPendingMessage(request: ApprovalRequest): SlackMessage {
  return message(`Pending approval #${request.id}`, [
    section(
      `:raising_hand: ${describeChange(request.change)} needs approval: *pending approval #${request.id}*, expires ${slackDate(request.expiresAt)}. The approvers were asked in <#${request.card.channel}>; you will get a DM with the outcome.`,
    ),
    section(`*Impact*\n${previewText(request.preview)}`),
  ]);
}

function stripMarkup(text: string): string {
  return text.replace(/[`*]/g, '');
}
