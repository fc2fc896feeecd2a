import { type Problem, type ProblemCode, problemCode, suggestionsOf } from './problems.js';

export type NashaErrorCode = ProblemCode;

/**
 * A request the bot refuses or cannot complete, carrying the problem as data (as bolt-js's coded errors do).
 * The Slack layer words it; `message` is only for logs.
 */
export class NashaError extends Error {
  override readonly name = 'NashaError';
  readonly problem: Problem;
  readonly code: NashaErrorCode;
  /** "Did you mean …" candidates, best first (only names the user may see). */
  readonly suggestions: readonly string[];

  constructor(problem: Problem, options: { cause?: unknown } = {}) {
    super(problem.kind, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = problem;
    this.code = problemCode(problem);
    this.suggestions = suggestionsOf(problem);
  }
}

export function refused(refusal: Extract<Problem, { kind: 'refused' }>['refusal']): NashaError {
  return new NashaError({ kind: 'refused', refusal });
}
