import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
} from '@slack/bolt';
import { z } from 'zod';
import { openMainForm } from '../commands/nasha-command.js';
import type { SlackDeps } from '../deps.js';
import type { HomeBoard } from '../home-board.js';
import { translator } from '../i18n/translate.js';
import { UserIdSchema } from '../payloads.js';
import { openQuickForm } from '../shortcuts/quick-snapshot.js';

/**
 * The App Home tab's listeners: the tab opened (publish it), its page button and its shortcuts (the existing
 * forms). Its Approve / Reject / Cancel buttons are the approval card's own (src/slack/actions/approval-buttons.ts).
 * Who it is for comes from the signed payload's user id only.
 */

const HomeOpenedSchema = z.object({ user: UserIdSchema, tab: z.string() });
const HomeClickSchema = z.object({
  user: z.object({ id: UserIdSchema }),
  trigger_id: z.string().min(1),
  actions: z.array(z.object({ value: z.string().max(10) })).min(1),
});

export function createHomeOpened(deps: SlackDeps, board: HomeBoard) {
  return async ({ event }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>): Promise<void> => {
    const parsed = HomeOpenedSchema.safeParse(event);
    if (!parsed.success) {
      deps.logger.warn('malformed app_home_opened event');
      return;
    }
    // The Messages tab opens too: only the Home tab is ours to draw.
    if (parsed.data.tab !== 'home') return;
    await board.opened(parsed.data.user);
  };
}

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>;

function parseHomeClick(deps: SlackDeps, body: unknown) {
  const click = HomeClickSchema.safeParse(body);
  if (!click.success) deps.logger.warn('malformed Home tab button payload');
  return click.success ? click.data : undefined;
}

/** "More" / "First page": the value is only a page number; what the page holds is computed for the clicker. */
export function createHomePageButton(deps: SlackDeps, board: HomeBoard) {
  return async ({ ack, body }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseHomeClick(deps, body);
    const page = z.coerce.number().int().min(1).max(1_000).safeParse(click?.actions[0]?.value);
    if (click === undefined || !page.success) return;
    await board.showPage(click.user.id, page.data);
  };
}

/** The shortcuts open the existing forms; their submissions check everything as usual. */
export function createHomeFormButton(deps: SlackDeps, which: 'form' | 'quick') {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseHomeClick(deps, body);
    if (click === undefined) return;
    if (which === 'quick') return openQuickForm(deps, client, click.user.id, click.trigger_id);
    const tr = translator(await deps.readers.person(click.user.id));
    await openMainForm(deps, client, { userId: click.user.id, channelId: undefined }, click.trigger_id, tr);
  };
}
