/**
 * Errors the bot shows to users. Each has a code (as bolt-js does) so the Slack layer can pick a
 * presentation, and a message that is already safe and actionable for Slack (mrkdwn, no stack).
 */
export type NashaErrorCode =
  | 'denied'
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'limit_reached'
  | 'ovh_refused'
  | 'ovh_unavailable';

export class NashaError extends Error {
  override readonly name = 'NashaError';
  readonly code: NashaErrorCode;
  /** "Did you mean …" candidates, best first. */
  readonly suggestions: readonly string[];

  constructor(
    code: NashaErrorCode,
    message: string,
    options: { suggestions?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.suggestions = options.suggestions ?? [];
  }
}
