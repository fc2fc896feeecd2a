/**
 * The words for every problem and refusal core returns as data, in the reader's language. The same function
 * serves the reply, the form's inline error and the audit message, so they never disagree.
 */
import { ACTIONS, type ActionId } from '../../core/actions.js';
import { type AuditProblem, type AuditRefusal, auditRefusal } from '../../core/audit-detail.js';
import { BREAK_GLASS_MIN_REASON, type ChangeDraft } from '../../core/desk.js';
import { formatTarget, type Target } from '../../core/model.js';
import type { Denial, GrantVia } from '../../core/policy.js';
import type { OvhStep, Problem, Refusal, TaskFailure } from '../../core/problems.js';
import type { QuickFailure } from '../../core/quick-snapshots.js';
import { formatUtcMinute, type InstantProblem, ISO_FORM_EXAMPLES } from '../../shared/calendar.js';
import { type DurationProblem, formatDuration } from '../../shared/duration.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { channel, code, group, mrkdwn, type Piece, Text, text, verbatim } from '../text.js';

export function target(t: Target) {
  return code(formatTarget(t));
}

/** `<why>` in the reader's words: a placeholder of the command grammar. */
export function usageWord(tr: Translator, key: 'usage.service' | 'usage.why'): string {
  return `<${tr.plain(tr.t(key))}>`;
}

/** `--reason <why>`, as help, can-i and problems show it. */
export function reasonOption(tr: Translator): Piece {
  return code(`--reason ${usageWord(tr, 'usage.why')}`);
}

/**
 * Who a refusal is about: the reader themselves (the default: "you need …") or someone else, by mention (`can-i`
 * about another user: "@bob needs …").
 */
export type RefusalSubject = { who: 'self' } | { who: 'other'; person: Text };

const SELF: RefusalSubject = { who: 'self' };

function subjectValues(subject: RefusalSubject): { who: 'self' | 'other'; person: Text } {
  return subject.who === 'self' ? { who: 'self', person: text() } : subject;
}

function viaText(via: GrantVia, tr: Translator): Text {
  return via.kind === 'user' ? tr.t('canI.viaUser') : text(group(via.groupId));
}

/** The action as people name it (the command words; an action with no command, its can-i word). */
export function actionWords(action: ActionId): Text {
  const spec = ACTIONS[action];
  const first = spec.commands[0];
  if (action === 'approval.decide' || action === 'read') return text(spec.canIWords[0] ?? action);
  return text(first === undefined ? action : first.words.join(' '));
}

/** Why a role check failed, as one sentence fragment ("you need …"). */
export function denialText(
  required: string,
  where: Text,
  denial: Denial | undefined,
  tr: Translator = ENGLISH_TRANSLATOR,
  subject: RefusalSubject = SELF,
): Text {
  const who = subjectValues(subject);
  const values = { ...who, required, where };
  if (denial === undefined) return tr.t('problem.need', values);
  switch (denial.kind) {
    case 'no_grant':
      return tr.t(denial.partial ? 'problem.needEveryPartition' : 'problem.noGrant', values);
    case 'role_too_low':
      return tr.t('problem.roleTooLow', { ...values, has: denial.has, via: viaText(denial.via, tr) });
    case 'channel_cap': {
      const limit =
        denial.limit === undefined ? tr.t('problem.capNothing') : tr.t('problem.capAtMost', { role: denial.limit });
      const elsewhere =
        denial.elsewhere.length > 0
          ? tr.t('problem.capElsewhere', { channels: tr.list(denial.elsewhere.map(channel), 'or') })
          : text();
      return tr.t('problem.channelCap', {
        ...values,
        place: denial.channelId === undefined ? 'outside' : 'channel',
        limit,
        elsewhere,
      });
    }
  }
}

/**
 * A refusal, whether fresh from the gate (with the whole decision) or as the audit trail keeps it. It names its
 * own target when it carries one the user may see, else `where` (the target as the reader knows it).
 */
export function refusalText(
  refusal: Refusal | AuditRefusal,
  where: Target | undefined,
  tr: Translator = ENGLISH_TRANSLATOR,
  subject: RefusalSubject = SELF,
): Text {
  const compact: AuditRefusal = 'decision' in refusal ? auditRefusal(refusal) : refusal;
  const named = compact.kind === 'policy' || compact.kind === 'not_visible' ? (compact.target ?? where) : where;
  const at = named === undefined ? tr.t('problem.unnamedTarget') : text(target(named));
  switch (compact.kind) {
    case 'policy': {
      const retry =
        'decision' in refusal && refusal.kind === 'policy' && refusal.decision.retryGroups.length > 0
          ? tr.t('problem.retryGroups', {
              ...subjectValues(subject),
              groups: tr.list(refusal.decision.retryGroups.map(group), 'and'),
            })
          : text();
      const verb =
        compact.via === 'request' ? tr.t('problem.toRequest', { action: actionWords(compact.action) }) : text();
      return denialText(compact.required, at, compact.denial, tr, subject).concat(verb, retry);
    }
    case 'not_visible':
      return tr.t('problem.notVisible', { ...subjectValues(subject), target: at });
    case 'approval_required':
      return tr.t('problem.approvalRequired', { action: actionWords(compact.action) });
    case 'others_permissions':
      return tr.t('problem.othersPermissions');
    case 'click':
      return clickRefusalText(compact, tr);
    case 'break_glass':
      return breakGlassRefusalText(compact, tr);
  }
}

function breakGlassRefusalText(refusal: Extract<AuditRefusal, { kind: 'break_glass' }>, tr: Translator): Text {
  const action = actionWords(refusal.action);
  switch (refusal.why) {
    case 'not_member':
      return tr.t('breakGlass.refused.notMember', { action, group: group(refusal.group ?? '') });
    case 'not_needed':
      return tr.t('breakGlass.refused.notNeeded', { action, option: code(BREAK_GLASS_OPTION) });
    case 'not_allowed':
      return tr.t('breakGlass.refused.notAllowed', { action });
  }
}

/** The command option that asks for break-glass. */
export const BREAK_GLASS_OPTION = '--break-glass';

function clickRefusalText(refusal: Extract<AuditRefusal, { kind: 'click' }>, tr: Translator): Text {
  switch (refusal.why) {
    case 'self_approval':
      return tr.t('problem.click.selfApproval');
    case 'self_rejection':
      return tr.t('problem.click.selfRejection');
    case 'not_requester':
      return tr.t('problem.click.notRequester');
    case 'not_approver':
      if (refusal.required === undefined) return tr.t('problem.click.mayNotDecide');
      return tr.t('problem.click.needRole', {
        required: refusal.required,
        has: refusal.has === undefined ? text() : tr.t('problem.click.hasHere', { role: refusal.has }),
      });
    case 'not_in_approver_group':
      return tr.t('problem.click.notInApproverGroup');
    case 'already_voted':
      return tr.t('problem.click.alreadyVoted');
    case 'closed':
      return tr.t('problem.click.closed');
    case 'expired':
      return tr.t('problem.click.expired');
    case 'self_review':
      return tr.t('problem.click.selfReview');
  }
}

const STEP_WORDS: Readonly<Record<OvhStep, MessageKey>> = {
  'list services': 'step.listServices',
  'read service': 'step.readService',
  'list partitions': 'step.listPartitions',
  'read partition': 'step.readPartition',
  'read frequencies': 'step.readFrequencies',
  'list snapshots': 'step.listSnapshots',
  'read snapshot': 'step.readSnapshot',
  'create snapshot': 'step.createSnapshot',
  'delete snapshot': 'step.deleteSnapshot',
  'add frequency': 'step.addFrequency',
  'remove frequency': 'step.removeFrequency',
  'read task': 'step.readTask',
};

/** What the bot was asking OVH, as a verb phrase ("list the snapshots of `svc/part`"). */
export function stepText(
  step: OvhStep,
  where: Target | undefined,
  name: string | undefined,
  tr: Translator = ENGLISH_TRANSLATOR,
): Text {
  const named = name === undefined ? text() : text(' ', code(name));
  const on =
    where === undefined
      ? text()
      : step.endsWith('snapshot')
        ? tr.t('step.on', { target: target(where) })
        : text(' ', target(where));
  return tr.t(STEP_WORDS[step], { name: named, target: on });
}

/** OVH's own words after a colon (`: …`), or nothing. */
function saidText(words: string | undefined, tr: Translator): Text {
  return words === undefined ? text() : tr.t('problem.ovhSaid', { message: verbatim(words) });
}

function ovhProblemText(problem: Extract<Problem, { kind: 'ovh' }>, tr: Translator): Text {
  const what = stepText(problem.step, problem.target, problem.name, tr);
  const ovh = problem.ovhMessage === undefined ? undefined : text(verbatim(problem.ovhMessage));
  const status = String(problem.httpStatus ?? '?');
  switch (problem.failure) {
    case 'not_found':
      return tr.t('problem.ovh.notFound', { what, said: saidText(problem.ovhMessage, tr) });
    case 'unavailable':
      return tr.t('problem.ovh.unavailable', { what, status });
    case 'refused':
      return tr.t('problem.ovh.refused', { what, why: ovh ?? tr.t('problem.ovh.http', { status }) });
    case 'invalid':
      return tr.t('problem.ovh.invalid', { what, why: ovh ?? tr.t('problem.ovh.invalidInput') });
    case 'timeout':
      return tr.t('problem.ovh.timeout', { what });
    case 'clock':
      return tr.t('problem.ovh.clock', { what });
    case 'network':
      return tr.t('problem.ovh.network', { what, why: ovh ?? tr.t('problem.ovh.networkError') });
    case 'parse':
      return tr.t('problem.ovh.parse', { what });
    case 'unexpected':
      return tr.t('problem.ovh.unexpected', { what });
  }
}

/** `a`, `b` or `c` (the bot's own words, as code spans). */
function codes(items: readonly string[], tr: Translator, conjunction: 'or' | 'and'): Text {
  return tr.list(items.map(code), conjunction);
}

/** One sentence for a problem, starting with a capital letter, ending with a full stop. */
export function problemText(problem: Problem | AuditProblem, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (problem.kind) {
    case 'refused':
      return sentence(refusalText(problem.refusal, refusedTarget(problem.refusal), tr));
    case 'quick_refused':
      // The first partition's refusal names it if the user may see it; else the target as they typed it.
      return sentence(refusalText(problem.refusal, { service: problem.spec }, tr));
    case 'invalid_name':
      return tr.t('problem.invalidName', { name: verbatim(problem.name) });
    case 'invalid_expiration':
      return expirationText(problem, tr);
    case 'reason_required':
      return tr.t('problem.reasonRequired', { option: reasonOption(tr) });
    case 'reason_too_short':
      if (problem.purpose === 'break_glass') {
        return tr.t('problem.reasonBreakGlass', { count: BREAK_GLASS_MIN_REASON });
      }
      return tr.t(problem.purpose === 'reject' ? 'problem.reasonToReject' : 'problem.reasonRequested');
    case 'frequency_enabled':
      return tr.t('problem.frequencyEnabled', { type: code(problem.type), target: target(problem.target) });
    case 'frequency_not_enabled':
      return tr.t('problem.frequencyNotEnabled', {
        type: code(problem.type),
        target: target(problem.target),
        enabled: problem.enabled.length === 0 ? tr.t('common.none') : codes(problem.enabled, tr, 'and'),
      });
    case 'snapshot_exists':
      return tr.t('problem.snapshotExists', { target: target(problem.target), name: code(problem.name) });
    case 'snapshot_missing':
      return tr.t('problem.snapshotMissing', {
        target: target(problem.target),
        name: verbatim(problem.name),
        suggestions: tr.didYouMean(problem.suggestions),
      });
    case 'partition_full':
      return tr.t('problem.partitionFull', {
        partition: code(problem.target.partition ?? ''),
        count: problem.count,
        max: problem.max,
        command: code(`/nasha snapshot list ${formatTarget(problem.target)}`),
      });
    case 'partition_missing':
      return tr.t('problem.partitionMissing', {
        service: code(problem.service),
        partition: verbatim(problem.partition),
        suggestions: tr.didYouMean(problem.suggestions),
      });
    case 'service_missing':
      return tr.t('problem.serviceMissing', {
        service: verbatim(problem.service),
        suggestions: tr.didYouMean(problem.suggestions),
      });
    case 'quick_target_missing':
      return tr.t('problem.quickTargetMissing');
    case 'quick_target_invalid':
      return tr.t('problem.quickTargetInvalid', { spec: verbatim(problem.spec) });
    case 'quick_target_unknown':
      return tr.t('problem.quickTargetUnknown', {
        spec: verbatim(problem.spec),
        suggestions: tr.didYouMean(problem.suggestions),
      });
    case 'service_empty':
      return tr.t('problem.serviceEmpty', { service: code(problem.service) });
    case 'config_changed':
      return tr.t('problem.configChanged');
    case 'approval_mismatch':
      return tr.t('problem.approvalMismatch');
    case 'snapshot_changed':
      return tr.t('problem.snapshotChanged', {
        name: code(problem.name),
        expiration: problem.expiration ?? tr.t('common.none'),
        was: problem.was ?? tr.t('common.none'),
      });
    case 'invalid_restore_time':
      return restoreTimeText(problem, tr);
    case 'status_target_unknown':
      return problem.policies.length === 0
        ? tr.t('problem.statusTargetUnknown', { text: verbatim(problem.text) })
        : tr.t('problem.statusTargetUnknownPolicies', {
            text: verbatim(problem.text),
            policies: tr.list(problem.policies.map(code), 'or'),
          });
    case 'protection_off':
      return tr.t('problem.protectionOff', { section: code('protection:') });
    case 'alert_not_fixable':
      return problem.why === 'resolved'
        ? tr.t('problem.alertResolved')
        : problem.why === 'no_fix'
          ? tr.t('problem.alertNoFix')
          : tr.t('problem.alertGone');
    case 'ovh':
      return ovhProblemText(problem, tr);
  }
}

function restoreTimeHelp(tr: Translator): Text {
  return tr.t('restore.timeHelp', {
    utc: code('2026-11-27T14:00Z'),
    date: code('2026-11-27'),
    hours: code('3h'),
    days: code('2d'),
  });
}

function restoreTimeText(problem: Extract<Problem, { kind: 'invalid_restore_time' }>, tr: Translator): Text {
  const shown = verbatim(problem.text);
  const help = restoreTimeHelp(tr);
  switch (problem.why) {
    case 'missing':
      return tr.t('restore.timeMissing', { at: code('--at <time>'), help });
    case 'syntax':
      return tr.t('restore.timeSyntax', { text: shown, help });
    case 'not_a_date':
      return problem.detail === undefined
        ? tr.t('restore.timeNotDate', { text: shown })
        : tr.t('restore.timeNotDateWhy', { text: shown, why: detailText(problem.detail, tr) });
    case 'duration':
      return problem.detail === undefined
        ? tr.t('restore.timeNotDuration', { text: shown, help })
        : tr.t('restore.timeNotDurationWhy', { text: shown, why: detailText(problem.detail, tr), help });
    case 'future':
      return tr.t('restore.timeFuture', { text: shown, now: formatUtcMinute(problem.now) });
  }
}

/** `30m`, `12h`, `7d`, `2w` or `1d12h`: durations as the reader would type them. */
function durationExamples(tr: Translator): Text {
  return tr.t('expiration.examples');
}

/** How to write an expiration: a duration, a date or a date-time with its zone. */
function expirationHelp(tr: Translator): Text {
  const [day, utc, offset] = ISO_FORM_EXAMPLES;
  return tr.t('expiration.help', {
    examples: durationExamples(tr),
    date: code(day),
    utc: code(utc),
    offset: code(offset),
  });
}

/** The month's name in the reader's language (`February`, `février`). */
function monthName(month: number, tr: Translator): string {
  return new Intl.DateTimeFormat(tr.lang, { month: 'long', timeZone: 'UTC' }).format(Date.UTC(2000, month - 1, 1));
}

/** What is wrong with a date (a clause after the date: "is not a real date: …"). */
function instantProblemText(problem: InstantProblem, tr: Translator): Text {
  switch (problem.code) {
    case 'no_zone':
      return tr.t('date.noZone');
    case 'not_iso': {
      const [day, utc, offset] = ISO_FORM_EXAMPLES;
      return tr.t('date.notIso', { date: code(day), utc: code(utc), offset: code(offset) });
    }
    case 'offset':
      return tr.t('date.offset', { offset: problem.offset });
    case 'month':
      return tr.t('date.month', { month: String(problem.month) });
    case 'day':
      return tr.t('date.day', {
        month: monthName(problem.month, tr),
        year: String(problem.year),
        days: problem.days,
      });
    case 'hour':
      return tr.t('date.hour', { hour: String(problem.hour) });
    case 'minute':
      return tr.t('date.minute', { minute: String(problem.minute) });
    case 'second':
      return tr.t('date.second', { second: String(problem.second) });
  }
}

/** What is wrong with a duration (a clause after it: "has no unit after 7"). */
export function durationProblemText(problem: DurationProblem, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (problem.code) {
    case 'empty':
      return tr.t('duration.empty');
    case 'no_unit':
      return tr.t('duration.noUnit', { number: problem.number });
    case 'no_number':
      return tr.t('duration.noNumber');
    case 'fraction':
      return tr.t('duration.fraction');
    case 'unexpected':
      return tr.t('duration.unexpected', { text: verbatim(problem.text) });
    case 'unknown_unit':
      return tr.t('duration.unknownUnit', { unit: verbatim(problem.unit) });
    case 'too_many_digits':
      return tr.t('duration.tooManyDigits', { max: problem.max });
    case 'repeated_unit':
      return tr.t('duration.repeatedUnit', { unit: problem.unit });
    case 'unit_order':
      return tr.t('duration.unitOrder', { unit: problem.unit, after: problem.after });
  }
}

const DURATION_CODES = new Set<string>([
  'empty',
  'no_unit',
  'no_number',
  'fraction',
  'unexpected',
  'unknown_unit',
  'too_many_digits',
  'repeated_unit',
  'unit_order',
]);

/** The calendar's or the grammar's reason; a string: an older version's English words, shown as stored. */
function detailText(detail: InstantProblem | DurationProblem | string, tr: Translator): Text {
  if (typeof detail === 'string') return text(verbatim(detail));
  return DURATION_CODES.has(detail.code)
    ? durationProblemText(detail as DurationProblem, tr)
    : instantProblemText(detail as InstantProblem, tr);
}

function expirationText(problem: Extract<Problem, { kind: 'invalid_expiration' }>, tr: Translator): Text {
  const shown = verbatim(problem.text);
  switch (problem.why) {
    case 'empty':
      return tr.t('expiration.empty', { help: expirationHelp(tr) });
    case 'syntax':
      return tr.t('expiration.syntax', { text: shown, help: expirationHelp(tr) });
    case 'not_a_date':
      return tr.t('expiration.notADate', {
        text: shown,
        detail: problem.detail === undefined ? tr.t('expiration.notARealDate') : detailText(problem.detail, tr),
      });
    case 'duration':
      return tr.t('expiration.duration', {
        text: shown,
        detail: problem.detail === undefined ? tr.t('expiration.notADuration') : detailText(problem.detail, tr),
        help: tr.t('expiration.durationHelp', { examples: durationExamples(tr) }),
      });
    case 'too_soon':
      return tr.t('expiration.tooSoon', { text: shown, limit: formatDuration(problem.limitMs ?? 60_000, tr.lang) });
    case 'past':
      return problem.at === undefined || problem.now === undefined
        ? tr.t('expiration.past', { text: shown })
        : tr.t('expiration.pastAt', {
            text: shown,
            at: formatUtcMinute(problem.at),
            now: formatUtcMinute(problem.now),
          });
    case 'too_far':
      return tr.t('expiration.tooFar', {
        text: shown,
        years: Math.round((problem.limitMs ?? 0) / (365 * 86_400_000)),
        until: problem.at === undefined ? text() : tr.t('expiration.until', { at: formatUtcMinute(problem.at) }),
      });
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

/** A change in words: "enable `day-7` snapshots on `svc/part`". */
export function changeText(change: ChangeDraft, tr: Translator = ENGLISH_TRANSLATOR): Text {
  const where = target(change.target);
  switch (change.action) {
    case 'schedule.add':
      return tr.t('change.scheduleAdd', { type: code(change.type), target: where });
    case 'schedule.remove':
      return tr.t('change.scheduleRemove', { type: code(change.type), target: where });
    case 'snapshot.create':
      return change.name === undefined
        ? tr.t('change.createUnnamed', { target: where })
        : tr.t('change.create', { name: verbatim(change.name), target: where });
    case 'snapshot.delete':
      return tr.t('change.delete', { name: verbatim(change.name), target: where });
  }
}

/** How OVH's task ended badly: its status and OVH's own words (a sentence). */
export function taskFailureText(failure: TaskFailure, tr: Translator = ENGLISH_TRANSLATOR): Text {
  const said = saidText(failure.details, tr);
  switch (failure.outcome) {
    case 'failed':
      return tr.t('task.failed', { status: code(failure.status ?? 'error'), said });
    case 'timeout':
      return tr.t('task.timeout', { status: code(failure.status ?? 'running'), said });
    case 'lost':
      return tr.t('task.lost', { said });
  }
}

const RESTART_WORDS: Readonly<Record<Extract<QuickFailure, { kind: 'restart' }>['when'], MessageKey>> = {
  not_started: 'quick.restart.notStarted',
  not_created: 'quick.restart.notCreated',
  unknown: 'quick.restart.unknown',
};

/** Why one partition of a quick run was not taken (a fragment: "failed: …"). */
export function quickFailureText(failure: QuickFailure, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (failure.kind) {
    case 'problem':
      return problemText(failure.problem, tr);
    case 'task':
      return taskFailureText(failure, tr);
    case 'restart':
      return tr.t(RESTART_WORDS[failure.when]);
    case 'text':
      return text(verbatim(failure.text));
  }
}

/**
 * Words for data read back from storage (an audit detail, a saved run): it may come from another version of
 * the bot, so a kind the wording does not know, or fields it cannot use, are shown as the stored data,
 * literally, rather than breaking the message they are part of.
 */
export function storedText(render: () => Text, data: unknown, tr: Translator = ENGLISH_TRANSLATOR): Text {
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
  return tr.t('stored.unreadable', { data: verbatim(raw.slice(0, 500)) });
}
