/**
 * The answer to a click on an approval card (Approve, Reject, Cancel), from the data core returns: what the
 * click did, or why it did nothing. Refusals that core audits are worded by problems.ts, so the answer and the
 * audit record say the same thing (each in its reader's language).
 */
import type { ApprovalRequest, ClickEffect, ClickRefusal } from '../../core/approvals.js';
import { seesNothingOf } from '../../core/gate.js';
import type { Decision } from '../../core/policy.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { group, joinText, type Text, text } from '../text.js';
import { message, type SlackMessage, section } from './limits.js';
import { problemText, refusalText, sentence } from './problems.js';

/** Why a click did nothing, as one sentence. */
export function clickRefusalText(refusal: ClickRefusal, tr: Translator = ENGLISH_TRANSLATOR): Text {
  const id = `#${refusal.id}`;
  switch (refusal.kind) {
    case 'unknown_request':
      return tr.t('click.unknownRequest', { id });
    case 'busy':
      return tr.t('click.busy', { id });
    case 'reason_too_short':
      return problemText({ kind: 'reason_too_short', purpose: 'reject' }, tr);
    case 'closed':
      return refusal.state === 'approved' || refusal.state === 'executing'
        ? tr.t('click.alreadyRunning', { id })
        : tr.t('click.closed', { id, state: refusal.state });
    case 'expired':
      return tr.t('click.expired', { id });
    case 'already_voted':
      return tr.t('click.alreadyVoted', { id, remaining: refusal.remaining });
    case 'not_approver':
      return notApproverText(id, refusal.decision, tr);
    case 'self_approval':
    case 'self_rejection':
    case 'not_requester':
      // Worded by problems.ts, as the audit record says it.
      return sentence(refusalText({ kind: 'click', why: refusal.kind }, undefined, tr));
  }
}

/**
 * Not allowed to decide: the role check (as for any action) and, when the rule limits approvers to user groups,
 * which groups — named, since the clicker may join one.
 */
function notApproverText(id: string, decision: Decision, tr: Translator): Text {
  // A request on a target outside every grant of the clicker's: not named, not confirmed.
  if (seesNothingOf(decision)) return tr.t('click.notYours', { id });
  const parts: Text[] = [];
  if (decision.denial !== undefined) {
    parts.push(refusalText({ kind: 'policy', action: 'approval.decide', via: 'run', decision }, decision.target, tr));
  }
  const groups = decision.approverGroups;
  if (groups !== undefined && groups.memberOf === undefined) {
    const retry =
      groups.unresolved.length > 0
        ? tr.t('click.retryGroups', {
            groups: tr.list(
              groups.unresolved.map((issue) => group(issue.groupId)),
              'and',
            ),
          })
        : text();
    parts.push(tr.t('click.approverGroups', { groups: tr.list(groups.groups.map(group), 'or'), retry }));
  }
  if (parts.length === 0) return sentence(refusalText({ kind: 'click', why: 'not_approver' }, undefined, tr));
  return sentence(joinText(parts, tr.plain(tr.t('click.also'))));
}

/** What a click did, as one sentence. */
export function clickEffectText(
  request: ApprovalRequest,
  effect: ClickEffect,
  tr: Translator = ENGLISH_TRANSLATOR,
): Text {
  const id = `#${request.id}`;
  switch (effect.kind) {
    case 'running':
      return tr.t('click.running', { id });
    case 'approved':
      return tr.t('click.approved', { id, remaining: effect.remaining });
    case 'rejected':
      return tr.t('click.rejected', { id });
    case 'cancelled':
      return tr.t('click.cancelled', { id });
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

export function clickRefusalMessage(refusal: ClickRefusal, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const words = clickRefusalText(refusal, tr);
  return message(tr.plain(words), [section(`${REFUSAL_ICON[refusal.kind]} ${tr.mrkdwn(words)}`)]);
}

export function clickEffectMessage(
  request: ApprovalRequest,
  effect: ClickEffect,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const words = clickEffectText(request, effect, tr);
  return message(tr.plain(words), [section(`${EFFECT_ICON[effect.kind]} ${tr.mrkdwn(words)}`)]);
}

/** A click that could not open its form (Slack refused views.open). */
export function cannotOpenRejectMessage(tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const words = tr.t('click.cannotOpenReject');
  return message(tr.plain(words), [section(`:warning: ${tr.mrkdwn(words)}`)]);
}
