/**
 * The answer to a click on an approval card (Approve, Reject, Cancel), from the data core returns: what the
 * click did, or why it did nothing. Refusals that core audits are worded by problems.ts, so the answer and the
 * audit record say the same thing.
 */
import type { ApprovalRequest, ClickEffect, ClickRefusal } from '../../core/approvals.js';
import { seesNothingOf } from '../../core/gate.js';
import type { Decision } from '../../core/policy.js';
import { group, joinText, listOf, mrkdwn, plain, say, type Text, text } from '../text.js';
import { message, type SlackMessage, section } from './limits.js';
import { problemText, refusalText, sentence } from './problems.js';

/** Why a click did nothing, as one sentence. */
export function clickRefusalText(refusal: ClickRefusal): Text {
  const id = `#${refusal.id}`;
  switch (refusal.kind) {
    case 'unknown_request':
      return say`There is no approval request ${id}.`;
    case 'busy':
      return say`Approval ${id} is busy; try again.`;
    case 'reason_too_short':
      return problemText({ kind: 'reason_too_short', purpose: 'reject' });
    case 'closed':
      return refusal.state === 'approved' || refusal.state === 'executing'
        ? say`Approval ${id} is already approved and running.`
        : say`Approval ${id} is already ${refusal.state}.`;
    case 'expired':
      return say`Approval ${id} has expired; it can no longer be approved.`;
    case 'already_voted':
      return say`You already approved ${id}; it needs ${refusal.remaining} more approval(s).`;
    case 'not_approver':
      return notApproverText(id, refusal.decision);
    case 'self_approval':
    case 'self_rejection':
    case 'not_requester':
      return sentence(refusalText({ kind: 'click', why: refusal.kind }, undefined));
  }
}

/**
 * Not allowed to decide: the role check (as for any action) and, when the rule limits approvers to user groups,
 * which groups — named, since the clicker may join one.
 */
function notApproverText(id: string, decision: Decision): Text {
  // A request on a target outside every grant of the clicker's: not named, not confirmed.
  if (seesNothingOf(decision))
    return say`Approval ${id} was not found, or is not yours to decide: no grant of yours covers its target.`;
  const parts: Text[] = [];
  if (decision.denial !== undefined) {
    parts.push(refusalText({ kind: 'policy', action: 'approval.decide', via: 'run', decision }, decision.target));
  }
  const groups = decision.approverGroups;
  if (groups !== undefined && groups.memberOf === undefined) {
    const retry =
      groups.unresolved.length > 0
        ? say`; could not check your membership of ${listOf(
            groups.unresolved.map((issue) => group(issue.groupId)),
            'and',
          )} right now, try again in a minute`
        : text();
    parts.push(
      say`approvals of this operation are limited to members of ${listOf(groups.groups.map(group), 'or')}${retry}`,
    );
  }
  if (parts.length === 0) return sentence(refusalText({ kind: 'click', why: 'not_approver' }, undefined));
  return sentence(joinText(parts, '; also, '));
}

/** What a click did, as one sentence. */
export function clickEffectText(request: ApprovalRequest, effect: ClickEffect): Text {
  const id = `#${request.id}`;
  switch (effect.kind) {
    case 'running':
      return say`You approved ${id}; running it now.`;
    case 'approved':
      return say`You approved ${id}; it needs ${effect.remaining} more approval(s).`;
    case 'rejected':
      return say`Request ${id} rejected.`;
    case 'cancelled':
      return say`Request ${id} cancelled.`;
  }
}

const REFUSAL_ICON: Readonly<Record<ClickRefusal['kind'], string>> = {
  unknown_request: ':mag:',
  busy: ':hourglass_flowing_sand:',
  reason_too_short: ':warning:',
  closed: ':information_source:',
  expired: ':information_source:',
  already_voted: ':information_source:',
  not_approver: ':no_entry:',
  self_approval: ':no_entry:',
  self_rejection: ':no_entry:',
  not_requester: ':no_entry:',
};

const EFFECT_ICON: Readonly<Record<ClickEffect['kind'], string>> = {
  running: ':white_check_mark:',
  approved: ':ballot_box_with_check:',
  rejected: ':no_entry_sign:',
  cancelled: ':leftwards_arrow_with_hook:',
};

export function clickRefusalMessage(refusal: ClickRefusal): SlackMessage {
  const words = clickRefusalText(refusal);
  return message(plain(words), [section(`${REFUSAL_ICON[refusal.kind]} ${mrkdwn(words)}`)]);
}

export function clickEffectMessage(request: ApprovalRequest, effect: ClickEffect): SlackMessage {
  const words = clickEffectText(request, effect);
  return message(plain(words), [section(`${EFFECT_ICON[effect.kind]} ${mrkdwn(words)}`)]);
}
