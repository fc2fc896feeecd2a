/**
 * The duration grammar's problems in English, for configuration errors (operators read them in the logs; the
 * Slack layer words the same data in each reader's language).
 */
import { type DurationProblem, type DurationRange, formatDuration } from '../shared/duration.js';

/** The grammar in words. */
export const DURATION_FORMS = 'a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks)';

/** What is wrong with a duration, as a clause after "which": `has no unit after 7`. */
export function durationProblemWords(problem: DurationProblem): string {
  switch (problem.code) {
    case 'empty':
      return 'is empty';
    case 'no_unit':
      return `has no unit after ${problem.number}`;
    case 'no_number':
      return 'does not start with a number';
    case 'fraction':
      return 'has a fraction: use whole numbers, like 1h30m';
    case 'unexpected':
      return `has ${JSON.stringify(problem.text)} where a number and a unit belong`;
    case 'unknown_unit':
      return `has an unknown unit ${JSON.stringify(problem.unit)}`;
    case 'too_many_digits':
      return `has a number longer than ${problem.max} digits`;
    case 'repeated_unit':
      return `has two ${problem.unit} parts`;
    case 'unit_order':
      return `puts ${problem.unit} after ${problem.after}: write the larger unit first, like 1d12h`;
  }
}

/** `from 5m to 7d`. */
export function rangeWords(range: DurationRange): string {
  return `from ${formatDuration(range.minMs)} to ${formatDuration(range.maxMs)}`;
}
