import type { SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import { changeLinesMessage } from '../blocks/replies.js';
import type { ChangeLine } from '../change-runner.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';

/**
 * Shows a button's changes to the clicker only, each step as its own ephemeral message (the button sits in a
 * channel message that must stay as it is): only steps that say where a change stands, and never the same twice.
 */
export function ephemeralProgress(
  respond: SlackActionMiddlewareArgs['respond'],
  logger: Logger,
  what: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): (lines: readonly ChangeLine[]) => Promise<void> {
  let told = '';
  return async (lines) => {
    if (!lines.every((line) => line.state.kind !== 'working')) return;
    const reply = changeLinesMessage(lines, tr);
    const key = JSON.stringify(reply);
    if (key === told) return;
    told = key;
    await respond({ response_type: 'ephemeral', replace_original: false, ...reply }).catch((error: unknown) =>
      logger.warn({ err: error }, `could not answer ${what}`),
    );
  };
}
