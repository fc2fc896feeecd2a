/**
 * The words for every problem and refusal core returns as data. The same function serves the reply, the form's
 * inline error and the audit message, so they never disagree.
 */
import { ACTIONS, type ActionId, commandsWith } from '../../core/actions.js';
import { type AuditProblem, type AuditRefusal, auditRefusal } from '../../core/audit-detail.js';
import type { ChangeDraft } from '../../core/desk.js';
import { formatTarget, type Target } from '../../core/model.js';
import type { Denial, GrantVia } from '../../core/policy.js';
import type { OvhStep, Problem, Refusal, TaskFailure } from '../../core/problems.js';
import type { QuickFailure } from '../../core/quick-snapshots.js';
import { formatUtcMinute } from '../../shared/calendar.js';
import { formatDuration } from '../../shared/duration.js';
import { bold, channel, code, group, listOf, mrkdwn, say, Text, text, verbatim } from '../text.js';

const FREQUENCIES = ['hour-1', 'hour-6', 'day-1', 'day-2', 'day-3', 'day-7'];

export function target(t: Target) {
  return code(formatTarget(t));
}

/** Did you mean …? (only ever names the user may see: core filters the candidates). */
export function didYouMean(suggestions: readonly string[]): Text {
  if (suggestions.length === 0) return text();
  return say` Did you mean ${listOf(suggestions.map(code), 'or')}?`;
}

function viaText(via: GrantVia): Text {
  return via.kind === 'user' ? text('a direct grant') : text(group(via.groupId));
}

/** The action as people name it (the command words). */
export function actionWords(action: ActionId): Text {
  const first = ACTIONS[action].commands[0];
  if (action === 'approval.decide') return text('approve');
  if (action === 'read') return text('read');
  return text(first === undefined ? action : first.words.join(' '));
}

/** Why a role check failed, as one sentence fragment ("you need …"). */
export function denialText(required: string, where: Text, denial: Denial | undefined): Text {
  if (denial === undefined) return say`you need ${bold(required)} on ${where}`;
  switch (denial.kind) {
    case 'no_grant':
      return denial.partial
        ? say`you need ${bold(required)} on every partition of ${where}: your grants cover only some of them`
        : say`you have no grant on ${where} (you need ${bold(required)}); ask a nasha admin to add one to the bot config`;
    case 'role_too_low':
      return say`you need ${bold(required)} on ${where} (you have ${bold(denial.has)} via ${viaText(denial.via)})`;
    case 'channel_cap': {
      const here = denial.channelId === undefined ? 'outside a channel the bot allows' : 'this channel allows';
      const limit = denial.limit === undefined ? text('no nasha actions') : say`at most ${bold(denial.limit)}`;
      const elsewhere =
        denial.elsewhere.length > 0 ? say`; try ${listOf(denial.elsewhere.map(channel), 'or')}` : text();
      return say`you need ${bold(required)} on ${where}: ${here} ${limit} (channel cap)${elsewhere}`;
    }
  }
}

/**
 * A refusal, whether fresh from the gate (with the whole decision) or as the audit trail keeps it. It names its
 * own target when it carries one the user may see, else `where` (the target as the reader knows it).
 */
export function refusalText(refusal: Refusal | AuditRefusal, where: Target | undefined): Text {
  const compact: AuditRefusal = 'decision' in refusal ? auditRefusal(refusal) : refusal;
  const named = compact.kind === 'policy' || compact.kind === 'not_visible' ? (compact.target ?? where) : where;
  const at = named === undefined ? text('it') : text(target(named));
  switch (compact.kind) {
    case 'policy': {
      const retry =
        'decision' in refusal && refusal.kind === 'policy' && refusal.decision.retryGroups.length > 0
          ? say`; could not check your membership of ${listOf(refusal.decision.retryGroups.map(group), 'and')} right now, try again in a minute`
          : text();
      const verb = compact.via === 'request' ? say` to request ${actionWords(compact.action)}` : text();
      return denialText(compact.required, at, compact.denial).concat(verb, retry);
    }
    case 'not_visible':
      return say`${at} was not found, or is not yours: no grant of yours covers it`;
    case 'approval_required':
      return say`${actionWords(compact.action)} needs a second person's approval: request it with a reason`;
    case 'others_permissions':
      return text('only approvers and admins can check another user’s permissions; ask about yourself instead');
    case 'click':
      return clickRefusalText(compact);
  }
}

function clickRefusalText(refusal: Extract<AuditRefusal, { kind: 'click' }>): Text {
  switch (refusal.why) {
    case 'self_approval':
      return text('you cannot approve your own request: a second person has to');
    case 'self_rejection':
      return text('you cannot reject your own request; cancel it instead');
    case 'not_requester':
      return text('only the requester can cancel this request');
    case 'not_approver':
      return refusal.required === undefined
        ? text('you may not decide on this request')
        : say`you need ${bold(refusal.required)} on the target to decide${refusal.has === undefined ? '' : ` (you have ${refusal.has} here)`}`;
    case 'not_in_approver_group':
      return text('approvals of this operation are limited to members of its approver groups, and you are in none');
    case 'already_voted':
      return text('you already approved it');
    case 'closed':
      return text('the request was already decided');
    case 'expired':
      return text('the request has expired');
  }
}

const STEP_WORDS: Readonly<Record<OvhStep, string>> = {
  'list services': 'list the services',
  'read service': 'read the service',
  'list partitions': 'list the partitions of',
  'read partition': 'read the partition',
  'read frequencies': 'read the frequencies of',
  'list snapshots': 'list the snapshots of',
  'read snapshot': 'read snapshot',
  'create snapshot': 'create snapshot',
  'delete snapshot': 'delete snapshot',
  'add frequency': 'enable a frequency on',
  'remove frequency': 'disable a frequency on',
  'read task': 'read the task of',
};

export function stepText(step: OvhStep, where: Target | undefined, name: string | undefined): Text {
  const words = STEP_WORDS[step];
  const named = name === undefined ? text() : say` ${code(name)}`;
  const on =
    where === undefined ? text() : step.endsWith('snapshot') ? say` on ${target(where)}` : say` ${target(where)}`;
  return say`${words}${named}${on}`;
}

const EXAMPLES = () => say`${code('30m')}, ${code('12h')}, ${code('7d')}, ${code('2w')} or ${code('1d12h')}`;
const EXPIRATION_HELP = say`use a duration from now (${EXAMPLES()}), a date ${code('2026-12-31')} (midnight UTC) or a date-time with its zone, ${code('2026-12-31T18:00Z')} or ${code('2026-12-31T18:00+01:00')}`;
const DURATION_HELP = say`A duration is a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), like ${EXAMPLES()}`;

function utcMinute(ms: number): string {
  return formatUtcMinute(ms);
}

function ovhProblemText(problem: Extract<Problem, { kind: 'ovh' }>): Text {
  const what = stepText(problem.step, problem.target, problem.name);
  const ovh = problem.ovhMessage === undefined ? undefined : verbatim(problem.ovhMessage);
  switch (problem.failure) {
    case 'not_found':
      return say`OVH could not find it while trying to ${what}${ovh === undefined ? '' : text(': ', ovh)}.`;
    case 'unavailable':
      return say`OVH is not answering properly (HTTP ${problem.httpStatus ?? '?'}) — could not ${what}. Try again in a minute.`;
    case 'refused':
      return say`OVH refused to ${what}: ${ovh ?? `HTTP ${problem.httpStatus ?? '?'}`}.`;
    case 'invalid':
      return say`Cannot ${what}: ${ovh ?? 'invalid input'}.`;
    case 'timeout':
      return say`OVH did not answer in time — could not ${what}.`;
    case 'clock':
      return say`OVH rejected the request time (clock skew) — could not ${what}.`;
    case 'network':
      return say`Cannot reach OVH (${ovh ?? 'network error'}) — could not ${what}.`;
    case 'parse':
      return say`OVH sent an unexpected answer — could not ${what}.`;
    case 'unexpected':
      return say`Something went wrong while trying to ${what}.`;
  }
}

/** One sentence for a problem, starting with a capital letter, ending with a full stop. */
export function problemText(problem: Problem | AuditProblem): Text {
  switch (problem.kind) {
    case 'refused':
      return sentence(refusalText(problem.refusal, refusedTarget(problem.refusal)));
    case 'quick_refused':
      // The first partition's refusal names it if the user may see it; else the target as they typed it.
      return sentence(refusalText(problem.refusal, { service: problem.spec }));
    case 'invalid_name':
      return say`${verbatim(problem.name)} is not a valid snapshot name: use 1–100 letters, digits, ${code('.')}, ${code('_')}, ${code(':')} or ${code('-')}, starting with a letter or digit.`;
    case 'invalid_expiration':
      return expirationText(problem);
    case 'reason_required':
      return say`This change needs approval: add ${code('--reason <why>')} (or run it without arguments in the form).`;
    case 'reason_too_short':
      return problem.purpose === 'reject'
        ? text('A reason is required to reject.')
        : text('A reason is required (a few words the approvers will read).');
    case 'frequency_enabled':
      return say`${code(problem.type)} is already enabled on ${target(problem.target)}: nothing to change.`;
    case 'frequency_not_enabled':
      return say`${code(problem.type)} is not enabled on ${target(problem.target)} (enabled: ${problem.enabled.length === 0 ? 'none' : listOf(problem.enabled.map(code), 'and')}).`;
    case 'snapshot_exists':
      return say`${target(problem.target)} already has a snapshot named ${code(problem.name)}.`;
    case 'snapshot_missing':
      return say`${target(problem.target)} has no custom snapshot named ${verbatim(problem.name)}.${didYouMean(problem.suggestions)}`;
    case 'partition_full':
      return say`${code(problem.target.partition ?? '')} has ${problem.count}/${problem.max} custom snapshots — delete one first (${code(`/nasha snapshot list ${formatTarget(problem.target)}`)}).`;
    case 'partition_missing':
      return say`${code(problem.service)} has no partition ${verbatim(problem.partition)}, or it is not yours.${didYouMean(problem.suggestions)}`;
    case 'service_missing':
      return say`There is no NAS-HA service ${verbatim(problem.service)} that you can see.${didYouMean(problem.suggestions)}`;
    case 'quick_target_missing':
      return say`Which target? A ${code('service/partition')}, a ${code('service')}, or a group name.`;
    case 'quick_target_invalid':
      return say`${verbatim(problem.spec)} is not a target: use ${code('service/partition')}, ${code('service')} or a group name.`;
    case 'quick_target_unknown':
      return say`${verbatim(problem.spec)} is neither a NAS-HA service you can see nor a group.${didYouMean(problem.suggestions)}`;
    case 'service_empty':
      return say`${code(problem.service)} has no partition.`;
    case 'config_changed':
      return text('The bot configuration changed since the request; ask again.');
    case 'approval_mismatch':
      return text('The request does not match what was approved.');
    case 'snapshot_changed':
      return say`The snapshot ${code(problem.name)} changed since the request (expiration ${problem.expiration ?? 'none'}, was ${problem.was ?? 'none'}).`;
    case 'invalid_restore_time':
      return restoreTimeText(problem);
    case 'status_target_unknown':
      return say`${verbatim(problem.text)} is neither a protection policy${problem.policies.length === 0 ? '' : say` (${listOf(problem.policies.map(code), 'or')})`} nor a NAS-HA service you can see.`;
    case 'protection_off':
      return say`No protection policies are configured (the ${code('protection:')} section of the bot configuration).`;
    case 'alert_not_fixable':
      return problem.why === 'resolved'
        ? text('This alert is resolved already: nothing to fix.')
        : problem.why === 'no_fix'
          ? text('The bot has no fix for this problem: it needs a person on the partition.')
          : text('This alert no longer exists.');
    case 'ovh':
      return ovhProblemText(problem);
  }
}

const RESTORE_TIME_HELP = say`give a moment as ${code('2026-11-27T14:00Z')} (a date-time with its zone), ${code('2026-11-27')} (midnight UTC) or how long ago, like ${code('3h')} or ${code('2d')}`;

function restoreTimeText(problem: Extract<Problem, { kind: 'invalid_restore_time' }>): Text {
  const shown = verbatim(problem.text);
  switch (problem.why) {
    case 'missing':
      return say`Which moment? Add ${code('--at <time>')}: ${RESTORE_TIME_HELP}.`;
    case 'syntax':
      return say`${shown} is not a moment: ${RESTORE_TIME_HELP}.`;
    case 'not_a_date':
      return say`The moment ${shown} ${problem.detail ?? 'is not a real date'}.`;
    case 'duration':
      return say`The moment ${shown} ${problem.detail ?? 'is not a duration'}: ${RESTORE_TIME_HELP}.`;
    case 'future':
      return say`The moment ${shown} is in the future: it is now ${utcMinute(problem.now)}, and snapshots only hold the past.`;
  }
}

function expirationText(problem: Extract<Problem, { kind: 'invalid_expiration' }>): Text {
  const shown = verbatim(problem.text);
  switch (problem.why) {
    case 'empty':
      return say`The expiration is empty: ${EXPIRATION_HELP}.`;
    case 'syntax':
      return say`${shown} is not an expiration: ${EXPIRATION_HELP}.`;
    case 'not_a_date':
      return say`The expiration ${shown} ${problem.detail ?? 'is not a real date'}.`;
    case 'duration':
      return say`The expiration ${shown} ${problem.detail ?? 'is not a duration'}. ${DURATION_HELP}.`;
    case 'too_soon':
      return say`The expiration ${shown} is too soon: it must be at least ${formatDuration(problem.limitMs ?? 60_000)} away.`;
    case 'past':
      return problem.at === undefined || problem.now === undefined
        ? say`The expiration ${shown} is in the past.`
        : say`The expiration ${shown} (${utcMinute(problem.at)}) is in the past: it is now ${utcMinute(problem.now)}.`;
    case 'too_far':
      return say`The expiration ${shown} is too far: expirations are limited to ${Math.round((problem.limitMs ?? 0) / (365 * 86_400_000))} years${problem.at === undefined ? '' : ` (until ${utcMinute(problem.at)})`}; leave it out to keep the snapshot until deleted.`;
  }
}

/** What a refusal is about: a fresh one carries its target (a policy refusal, in its decision); the audit's does not. */
function refusedTarget(refusal: Refusal | AuditRefusal): Target | undefined {
  if ('target' in refusal) return refusal.target;
  return 'decision' in refusal ? refusal.decision.target : undefined;
}

/** Capital first letter and a full stop. */
export function sentence(value: Text): Text {
  const [first, ...rest] = value.pieces;
  const head =
    typeof first === 'string' ? [first.charAt(0).toUpperCase() + first.slice(1)] : first === undefined ? [] : [first];
  return text(...head, ...rest, '.');
}

/** Commands that take `--reason`, for the parser's message. */
export function reasonCommands(): Text {
  return listOf(
    commandsWith('reason').map((c) => code(c.command.words.join(' '))),
    'and',
  );
}

export { FREQUENCIES };

/** A change in words: "enable `day-7` snapshots on `svc/part`". */
export function changeText(change: ChangeDraft): Text {
  const where = target(change.target);
  switch (change.action) {
    case 'schedule.add':
      return say`enable ${code(change.type)} snapshots on ${where}`;
    case 'schedule.remove':
      return say`disable ${code(change.type)} snapshots on ${where}`;
    case 'snapshot.create':
      return change.name === undefined
        ? say`create a snapshot of ${where}`
        : say`create snapshot ${verbatim(change.name)} on ${where}`;
    case 'snapshot.delete':
      return say`delete snapshot ${verbatim(change.name)} on ${where}`;
  }
}

/** How OVH's task ended badly: its status and OVH's own words (a sentence). */
export function taskFailureText(failure: TaskFailure): Text {
  const said = failure.details === undefined ? text() : say`: ${verbatim(failure.details)}`;
  switch (failure.outcome) {
    case 'failed':
      return say`OVH's task ended in ${code(failure.status ?? 'error')}${said}.`;
    case 'timeout':
      return say`OVH's task was still ${code(failure.status ?? 'running')} after the deadline${said}; check the partition before running it again.`;
    case 'lost':
      return say`OVH no longer knows the task${said}; check the partition before running it again.`;
  }
}

function restartFailureText(when: Extract<QuickFailure, { kind: 'restart' }>['when']): Text {
  switch (when) {
    case 'not_started':
      return text('Not started: the bot restarted first, nothing was sent to OVH; run it again.');
    case 'not_created':
      return text('Not created: the bot restarted while creating it and OVH has no trace of it; run it again.');
    case 'unknown':
      return text('Unknown: the bot restarted while creating it and could not check OVH; check the partition.');
  }
}

/** Why one partition of a quick run was not taken (a fragment: "failed: …"). */
export function quickFailureText(failure: QuickFailure): Text {
  switch (failure.kind) {
    case 'problem':
      return problemText(failure.problem);
    case 'task':
      return taskFailureText(failure);
    case 'restart':
      return restartFailureText(failure.when);
    case 'text':
      return text(verbatim(failure.text));
  }
}

/**
 * Words for data read back from storage (an audit detail, a saved run): it may come from another version of
 * the bot, so a kind the wording does not know, or fields it cannot use, are shown as the stored data,
 * literally, rather than breaking the message they are part of.
 */
export function storedText(render: () => Text, data: unknown): Text {
  try {
    const words = render();
    // Rendering is where malformed fields throw; a kind the wording does not know gives no Text at all.
    if (words instanceof Text) {
      mrkdwn(words);
      return words;
    }
  } catch {
    // Shown raw below.
  }
  let raw = '';
  try {
    raw = JSON.stringify(data) ?? '';
  } catch {
    // Nothing JSON can show: the label alone says something was there.
  }
  return say`(not readable by this version) ${verbatim(raw.slice(0, 500))}`;
}
