/**
 * What the form and button listeners answer with when something stops them: a form error (plain text, as
 * Slack shows it), a reply for a problem core returned, a reference for anything else. One place, so every
 * surface words the same problem the same way (problems.ts) and logs what is not the user's fault.
 */
import { randomUUID } from 'node:crypto';
import type { types, webApi } from '@slack/bolt';
import { NashaError } from '../../core/errors.js';
import type { Problem } from '../../core/problems.js';
import { type SlackMessage, truncate } from '../blocks/limits.js';
import { problemText } from '../blocks/problems.js';
import { problemMessage, unexpectedErrorMessage } from '../blocks/replies.js';
import type { SlackDeps } from '../deps.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { code, type Text } from '../text.js';

/** Slack shows a form error under its field, as plain text; long ones are cut. */
const MAX_FORM_ERROR = 1_900;

export function formError(words: Text, tr: Translator = ENGLISH_TRANSLATOR): string {
  return truncate(tr.plain(words), MAX_FORM_ERROR);
}

/** A problem's words (problems.ts) as a form error. */
export function problemError(problem: Problem, tr: Translator = ENGLISH_TRANSLATOR): string {
  return formError(problemText(problem, tr), tr);
}

/** A thrown error as the person reads it: a problem core raised, or a reference to the log line. */
export function failureText(
  deps: Pick<SlackDeps, 'logger'>,
  error: unknown,
  context: Record<string, unknown>,
  tr: Translator = ENGLISH_TRANSLATOR,
): Text {
  if (error instanceof NashaError) {
    deps.logger.info({ ...context, code: error.code }, 'request refused');
    return problemText(error.problem, tr);
  }
  const reference = logUnexpected(deps, error, context);
  return tr.t('form.somethingWrong', { reference: code(reference) });
}

/** The same, as a message (an ephemeral answer, a result modal). */
export function failureMessage(
  deps: Pick<SlackDeps, 'logger'>,
  error: unknown,
  context: Record<string, unknown>,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  if (error instanceof NashaError) {
    deps.logger.info({ ...context, code: error.code }, 'request refused');
    return problemMessage(error.problem, tr);
  }
  return unexpectedErrorMessage(logUnexpected(deps, error, context), tr);
}

function logUnexpected(deps: Pick<SlackDeps, 'logger'>, error: unknown, context: Record<string, unknown>): string {
  const reference = randomUUID().slice(0, 8);
  deps.logger.error({ ...context, err: error, reference }, 'request failed unexpectedly');
  return reference;
}

/** Rewrites an open modal; a closed one is not an error (the audit channel has the outcome anyway). */
export async function updateModal(
  deps: Pick<SlackDeps, 'logger'>,
  client: webApi.WebClient,
  viewId: string,
  view: types.ModalView,
): Promise<void> {
  await client.views
    .update({ view_id: viewId, view })
    .catch((error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (modal closed?)'));
}
