/**
 * The words for how a change ended when its answer was lost or it was never sent (core's Settlement data), and
 * for the checks on OVH behind them, in the reader's language. The same words serve the reply, the approval card
 * and the audit message. OVH's own words (and a network error's) are only ever shown verbatim.
 */
import type { ChangeAction } from '../../core/ports.js';
import type { OvhProblem } from '../../core/problems.js';
import type { LostAnswer, Settlement } from '../../core/reconcile.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { code, type Piece, type Text, text, verbatim } from '../text.js';
import { sentence, stepText } from './problems.js';

/** How OVH's answer went missing (a clause). */
export function lostAnswerText(lost: LostAnswer, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (lost.kind) {
    case 'timeout':
      return tr.t('lost.timeout');
    case 'http':
      return tr.t('lost.http', { status: String(lost.httpStatus ?? '?') });
    case 'parse':
      return tr.t('lost.parse');
    case 'network':
      return tr.t('lost.network', {
        why: lost.ovhMessage === undefined ? tr.t('problem.ovh.networkError') : text(verbatim(lost.ovhMessage)),
      });
    case 'not_heard':
      return tr.t('lost.notHeard');
    default:
      // Stored by another version: the caller shows the data as it is (a dropped clause would mislead).
      throw new Error('a lost answer this version cannot word');
  }
}

/** What the partition showed, by change: made, or not made. */
const SHOWN: Readonly<Record<ChangeAction, { made: MessageKey; notMade: MessageKey }>> = {
  'snapshot.create': { made: 'shown.createMade', notMade: 'shown.createNotMade' },
  'snapshot.delete': { made: 'shown.deleteMade', notMade: 'shown.deleteNotMade' },
  'schedule.add': { made: 'shown.addMade', notMade: 'shown.addNotMade' },
  'schedule.remove': { made: 'shown.removeMade', notMade: 'shown.removeNotMade' },
};

/** What the partition showed: the change made (`made`) or not. */
function shownText(action: ChangeAction, subject: string, made: boolean, tr: Translator): Text {
  const keys = SHOWN[action];
  if (keys === undefined) throw new Error('a change this version cannot word');
  // A snapshot's name is a person's words; a frequency is the bot's own.
  const shown: Piece = action.startsWith('snapshot.') ? verbatim(subject) : code(subject);
  return tr.t(made ? keys.made : keys.notMade, { subject: shown });
}

/** How OVH failed a call, in a few words. */
const FAILURE_WORDS: Readonly<Record<OvhProblem['failure'], MessageKey>> = {
  not_found: 'check.notFound',
  unavailable: 'check.unavailable',
  refused: 'check.refused',
  invalid: 'check.invalid',
  timeout: 'check.timeout',
  clock: 'check.clock',
  network: 'check.network',
  parse: 'check.parse',
  unexpected: 'check.unexpected',
};

/** Why a check on OVH failed (a clause): "HTTP 503 while trying to read the task of `svc/part`". */
export function checkFailureText(problem: OvhProblem, tr: Translator = ENGLISH_TRANSLATOR): Text {
  const how = tr.t(FAILURE_WORDS[problem.failure], { status: String(problem.httpStatus ?? '?') });
  const said =
    problem.ovhMessage === undefined ? text() : tr.t('problem.ovhSaid', { message: verbatim(problem.ovhMessage) });
  return tr.t('check.failed', { how, said, what: stepText(problem.step, problem.target, problem.name, tr) });
}

/** How a change was settled: one sentence. */
export function settlementText(settlement: Settlement, tr: Translator = ENGLISH_TRANSLATOR): Text {
  return sentence(settlementClause(settlement, tr));
}

function settlementClause(settlement: Settlement, tr: Translator): Text {
  switch (settlement.kind) {
    case 'shown_made':
      return tr.t('settlement.shownMade', {
        lost: lostAnswerText(settlement.lost, tr),
        shown: shownText(settlement.action, settlement.subject, true, tr),
      });
    case 'shown_not_made':
      return tr.t('settlement.shownNotMade', {
        lost: lostAnswerText(settlement.lost, tr),
        shown: shownText(settlement.action, settlement.subject, false, tr),
      });
    case 'task_found':
      return tr.t('settlement.taskFound', {
        lost: lostAnswerText(settlement.lost, tr),
        task: code(String(settlement.taskId)),
      });
    case 'not_sent':
      return tr.t('settlement.notSent');
    case 'cannot_ask':
      return tr.t('settlement.cannotAsk', {
        lost: lostAnswerText(settlement.lost, tr),
        check: checkFailureText(settlement.problem, tr),
        next: settlement.gaveUp
          ? tr.t('settlement.gaveUp', { tries: settlement.tries })
          : tr.t('settlement.keepsChecking'),
      });
    case 'checking':
      return tr.t('settlement.checking', { lost: lostAnswerText(settlement.lost, tr) });
    case 'other_replica':
      return tr.t('settlement.otherReplica');
    case 'settled_by_sweep':
      return tr.t('settlement.settledBySweep');
    case 'failed_before_made':
      return tr.t('settlement.failedBeforeMade');
  }
}
