import { OvhApiError } from '../ovh/errors.js';
import type { Target } from './model.js';
import { type OvhStep, type Problem, type ProblemCode, problemCode, suggestionsOf } from './problems.js';

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

/** Maps an OVH failure to a problem (what the bot was doing, and how OVH failed). */
export function toNashaError(error: unknown, step: OvhStep, target?: Target, name?: string): NashaError {
  if (error instanceof NashaError) return error;
  const problem = (
    failure: Extract<Problem, { kind: 'ovh' }>['failure'],
    details: { httpStatus?: number | undefined; ovhMessage?: string | undefined } = {},
  ): NashaError =>
    new NashaError(
      {
        kind: 'ovh',
        failure,
        step,
        target,
        name,
        httpStatus: details.httpStatus,
        ovhMessage: details.ovhMessage,
      },
      { cause: error },
    );
  if (error instanceof OvhApiError) {
    const details = { httpStatus: error.httpStatus, ovhMessage: error.ovhMessage };
    switch (error.kind) {
      case 'http':
        if (error.httpStatus === 404) return problem('not_found', details);
        if (error.httpStatus === 429 || (error.httpStatus ?? 0) >= 500) return problem('unavailable', details);
        return problem('refused', details);
      case 'input':
        return problem('invalid', details);
      case 'timeout':
        return problem('timeout', details);
      case 'clock':
        return problem('clock', details);
      case 'network':
        return problem('network', details);
      case 'parse':
        return problem('parse', details);
    }
  }
  return problem('unexpected');
}
