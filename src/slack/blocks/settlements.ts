/**
 * The words for how a change ended when its answer was lost or it was never sent (core's Settlement data), and
 * for the checks on OVH behind them. The same words serve the reply, the approval card and the audit message.
 * OVH's own words (and a network error's) are only ever shown verbatim.
 */
import type { ChangeAction } from '../../core/ports.js';
import type { OvhProblem } from '../../core/problems.js';
import type { LostAnswer, Settlement } from '../../core/reconcile.js';
import { code, type Part, say, type Text, text, verbatim } from '../text.js';
import { sentence, stepText } from './problems.js';

/** How OVH's answer went missing (a clause). */
export function lostAnswerText(lost: LostAnswer): Text {
  switch (lost.kind) {
    case 'timeout':
      return text('OVH did not answer in time');
    case 'http':
      return say`OVH answered HTTP ${lost.httpStatus ?? '?'}`;
    case 'parse':
      return text('OVH answered with a page that is not its API answer');
    case 'network':
      return say`the connection to OVH broke (${lost.ovhMessage === undefined ? 'network error' : verbatim(lost.ovhMessage)})`;
    case 'not_heard':
      return text("OVH's answer never reached the bot");
    default:
      // Stored by another version: the caller shows the data as it is (a dropped clause would mislead).
      throw new Error('a lost answer this version cannot word');
  }
}

/** What the partition showed: the change made (`made`) or not. */
function shownText(action: ChangeAction, subject: string, made: boolean): Text {
  switch (action) {
    case 'snapshot.create':
      return made ? say`snapshot ${verbatim(subject)} exists` : say`there is no snapshot ${verbatim(subject)}`;
    case 'snapshot.delete':
      return made ? say`snapshot ${verbatim(subject)} is gone` : say`snapshot ${verbatim(subject)} is still there`;
    case 'schedule.add':
      return made ? say`${code(subject)} is enabled` : say`${code(subject)} is not enabled`;
    case 'schedule.remove':
      return made ? say`${code(subject)} is disabled` : say`${code(subject)} is still enabled`;
    default:
      throw new Error('a change this version cannot word');
  }
}

/** How OVH failed a call, in a few words. */
const FAILURE_WORDS: Readonly<Record<OvhProblem['failure'], (status: Part) => Text>> = {
  not_found: () => text('not found'),
  unavailable: (status) => say`HTTP ${status}`,
  refused: (status) => say`refused with HTTP ${status}`,
  invalid: () => text('invalid input'),
  timeout: () => text('no answer in time'),
  clock: () => text('the request time refused (clock skew)'),
  network: () => text('a network error'),
  parse: () => text('an answer that is not its API answer'),
  unexpected: () => text('an unexpected error'),
};

/** Why a check on OVH failed (a clause): "HTTP 503 while trying to read the task of `svc/part`". */
export function checkFailureText(problem: OvhProblem): Text {
  const how = FAILURE_WORDS[problem.failure](problem.httpStatus ?? '?');
  const said = problem.ovhMessage === undefined ? text() : say`: ${verbatim(problem.ovhMessage)}`;
  return say`${how}${said} while trying to ${stepText(problem.step, problem.target, problem.name)}`;
}

/** How a change was settled: one sentence. */
export function settlementText(settlement: Settlement): Text {
  return sentence(settlementClause(settlement));
}

function settlementClause(settlement: Settlement): Text {
  switch (settlement.kind) {
    case 'shown_made': {
      const shown = shownText(settlement.action, settlement.subject, true);
      return say`${lostAnswerText(settlement.lost)}; OVH shows it done (${shown}; no OVH task found for it)`;
    }
    case 'shown_not_made': {
      const shown = shownText(settlement.action, settlement.subject, false);
      return say`${lostAnswerText(settlement.lost)}; OVH shows it was not done (${shown}, and no OVH task was started for it)`;
    }
    case 'task_found':
      return say`${lostAnswerText(settlement.lost)}; the bot found OVH task ${code(String(settlement.taskId))} for it and followed it`;
    case 'not_sent':
      return text('the bot stopped before sending it to OVH; nothing was changed');
    case 'cannot_ask': {
      const next = settlement.gaveUp
        ? say`gave up asking after ${settlement.tries} tries: check the partition on OVH`
        : text('the bot keeps checking and updates this record');
      return say`${lostAnswerText(settlement.lost)}, and OVH cannot be asked now (${checkFailureText(settlement.problem)}); ${next}`;
    }
    case 'checking':
      return say`${lostAnswerText(settlement.lost)}; the bot is still checking whether OVH made the change`;
    case 'other_replica':
      return text('another bot replica is finishing this change');
    case 'settled_by_sweep':
      return text('settled on OVH while the bot was restarting; see the audit record');
    case 'failed_before_made':
      return text('it failed before OVH made it; see the audit record');
  }
}
