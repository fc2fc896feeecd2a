import type { App } from '@slack/bolt';
import { createApproveButton, createCancelButton, createRejectButton } from './actions/approval-buttons.js';
import { createBreakGlassAcknowledgeButton, createBreakGlassRunButton } from './actions/break-glass-buttons.js';
import { createModalServiceSelect } from './actions/modal-service-select.js';
import { createPageButton } from './actions/page-button.js';
import { createFixButton, createStatusPageButton } from './actions/protection-buttons.js';
import { createDeleteOldestButton } from './actions/quick-delete-oldest.js';
import { APPROVAL_ACTION } from './blocks/approval-card.js';
import { BREAK_GLASS_ACTION } from './blocks/break-glass.js';
import { HOME_ACTION } from './blocks/home.js';
import { FIELD, MODAL } from './blocks/modals.js';
import { PROTECTION_ACTION } from './blocks/protection.js';
import { QUICK_ACTION, QUICK_MODAL, QUICK_SHORTCUT } from './blocks/quick-summary.js';
import { PAGE_ACTION } from './blocks/replies.js';
import { NASHA_COMMAND } from './commands/command-start.js';
import { createNashaCommand } from './commands/nasha-command.js';
import type { SlackDeps } from './deps.js';
import { createHomeFormButton, createHomeOpened, createHomePageButton } from './events/app-home.js';
import { HomeBoard } from './home-board.js';
import { createPartitionOptions, createServiceOptions } from './options/target-options.js';
import { SlackRouter } from './router.js';
import { createQuickGlobalShortcut, createQuickMessageShortcut } from './shortcuts/quick-snapshot.js';
import { createReasonSubmission, createRejectSubmission } from './views/approval-forms.js';
import { createCreateSubmission, createDeleteSubmission, createScheduleSubmission } from './views/change-forms.js';
import { createMainModalSubmission } from './views/main-modal.js';
import { createQuickFormSubmission } from './views/quick-form.js';

/** Every Slack entry point of the bot; each listener re-checks permissions for the verified user. */
export function registerListeners(app: App, deps: SlackDeps): void {
  // One global middleware finds each payload's listener (and answers at once what none claims): see SlackRouter.
  const router = new SlackRouter();

  router.command(NASHA_COMMAND, createNashaCommand(deps));

  router.action(new RegExp(`^${PAGE_ACTION}_`), createPageButton(deps));
  router.action(FIELD.service, createModalServiceSelect(deps));

  router.options(FIELD.service, createServiceOptions(deps));
  router.options(FIELD.partition, createPartitionOptions(deps));

  router.view(MODAL.main, createMainModalSubmission(deps));
  router.view(MODAL.create, createCreateSubmission(deps));
  router.view(MODAL.schedule, createScheduleSubmission(deps));
  router.view(MODAL.delete, createDeleteSubmission(deps));

  // The Home tab: its approval buttons are the card's (same ids, same handlers); a click's answer goes on top of it.
  const home = new HomeBoard(deps, app.client);
  deps.changes?.subscribe(() => home.changed());
  router.event('app_home_opened', createHomeOpened(deps, home));
  router.action(HOME_ACTION.page, createHomePageButton(deps, home));
  router.action(HOME_ACTION.openForm, createHomeFormButton(deps, 'form'));
  router.action(HOME_ACTION.quickSnapshot, createHomeFormButton(deps, 'quick'));

  router.action(APPROVAL_ACTION.approve, createApproveButton(deps, home));
  router.action(APPROVAL_ACTION.reject, createRejectButton(deps, home));
  router.action(APPROVAL_ACTION.cancel, createCancelButton(deps, home));
  router.view(MODAL.reason, createReasonSubmission(deps));
  router.view(MODAL.reject, createRejectSubmission(deps));
  router.action(BREAK_GLASS_ACTION.run, createBreakGlassRunButton(deps));
  router.action(BREAK_GLASS_ACTION.acknowledge, createBreakGlassAcknowledgeButton(deps));

  router.shortcut(QUICK_SHORTCUT.message, createQuickMessageShortcut(deps));
  router.shortcut(QUICK_SHORTCUT.global, createQuickGlobalShortcut(deps));
  router.view(QUICK_MODAL, createQuickFormSubmission(deps));
  router.action(QUICK_ACTION.deleteOldest, createDeleteOldestButton(deps));
  router.action(PROTECTION_ACTION.fix, createFixButton(deps));
  router.action(new RegExp(`^${PROTECTION_ACTION.page}_`), createStatusPageButton(deps));
  app.use(router.middleware(deps.logger, deps.readers));
}
