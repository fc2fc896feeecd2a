import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { BudgetWaits, withWaitWatch } from '../shared/request-context.js';
import { budgetWaitMessage } from './blocks/replies.js';
import type { Reply } from './commands/run-command.js';
import { ENGLISH_TRANSLATOR, type Translator } from './i18n/translate.js';
import type { Text } from './text.js';

/** A command whose OVH requests have waited this long in the request budget says so. */
export const WAIT_NOTICE_AFTER_MS = 2_000;

/**
 * Runs a command's work; if its OVH requests are still waiting for the request budget WAIT_NOTICE_AFTER_MS after
 * one started waiting, its "working" message says why and about how long (once: a response_url takes 5 uses),
 * then the answer replaces it as usual. The answer is never overwritten by a late notice.
 */
export async function withWaitNotice(
  deps: { clock: Clock; logger: Logger },
  what: Text,
  reply: Reply,
  work: (reply: Reply) => Promise<void>,
  /** Who waits: the notice is in their language. */
  tr: Translator = ENGLISH_TRANSLATOR,
): Promise<void> {
  let answered = false;
  let notice: Promise<void> | undefined;
  let armed = false;
  const waits: BudgetWaits = new BudgetWaits(() => {
    if (armed || notice !== undefined || answered) return;
    armed = true;
    void deps.clock.sleep(WAIT_NOTICE_AFTER_MS).then(() => {
      armed = false;
      const outlook = waits.outlook();
      if (answered || notice !== undefined || outlook === undefined) return;
      notice = reply
        .replace(budgetWaitMessage(what, outlook, tr))
        .catch((error: unknown) => deps.logger.debug({ err: error }, 'could not show the budget wait'));
    });
  });
  const answering: Reply = {
    resumeToken: reply.resumeToken,
    replace: async (message) => {
      answered = true;
      await notice;
      await reply.replace(message);
    },
  };
  await withWaitWatch(waits, () => work(answering));
}
