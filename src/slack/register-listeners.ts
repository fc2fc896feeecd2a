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
import { createNashaCommand } from './commands/nasha-command.js';
import type { SlackDeps } from './deps.js';
import { createHomeFormButton, createHomeOpened, createHomePageButton } from './events/app-home.js';
import { HomeBoard } from './home-board.js';
import { createPartitionOptions, createServiceOptions } from './options/target-options.js';
import { createQuickGlobalShortcut, createQuickMessageShortcut } from './shortcuts/quick-snapshot.js';
import { createUnclaimedMiddleware, ListenerClaims } from './unclaimed.js';
import { createReasonSubmission, createRejectSubmission } from './views/approval-forms.js';
import { createCreateSubmission, createDeleteSubmission, createScheduleSubmission } from './views/change-forms.js';
import { createMainModalSubmission } from './views/main-modal.js';
import { createQuickFormSubmission } from './views/quick-form.js';

/** Every Slack entry point of the bot; each listener re-checks permissions for the verified user. */
export function registerListeners(app: App, deps: SlackDeps): void {
  const claims = new ListenerClaims();
  // Answers at once what none of the listeners below claims (Bolt would answer a 404 after 3 s).
  app.use(createUnclaimedMiddleware(claims, deps.logger, deps.readers));

  app.command(claims.claim('command', '/nasha'), createNashaCommand(deps));

  app.action(claims.claim('action', new RegExp(`^${PAGE_ACTION}_`)), createPageButton(deps));
  app.action(
    claims.claim('action', { type: 'block_actions', action_id: FIELD.service }),
    createModalServiceSelect(deps),
  );

  app.options(
    claims.claim('options', { type: 'block_suggestion', action_id: FIELD.service }),
    createServiceOptions(deps),
  );
  app.options(
    claims.claim('options', { type: 'block_suggestion', action_id: FIELD.partition }),
    createPartitionOptions(deps),
  );

  app.view(claims.claim('view', MODAL.main), createMainModalSubmission(deps));
  app.view(claims.claim('view', MODAL.create), createCreateSubmission(deps));
  app.view(claims.claim('view', MODAL.schedule), createScheduleSubmission(deps));
  app.view(claims.claim('view', MODAL.delete), createDeleteSubmission(deps));

  // The Home tab: its approval buttons are the card's (same ids, same handlers); a click's answer goes on top of it.
  const home = new HomeBoard(deps, app.client);
  deps.changes?.subscribe(() => home.changed());
  app.event('app_home_opened', createHomeOpened(deps, home));
  app.action(claims.claim('action', HOME_ACTION.page), createHomePageButton(deps, home));
  app.action(claims.claim('action', HOME_ACTION.openForm), createHomeFormButton(deps, 'form'));
  app.action(claims.claim('action', HOME_ACTION.quickSnapshot), createHomeFormButton(deps, 'quick'));

  app.action(claims.claim('action', APPROVAL_ACTION.approve), createApproveButton(deps, home));
  app.action(claims.claim('action', APPROVAL_ACTION.reject), createRejectButton(deps, home));
  app.action(claims.claim('action', APPROVAL_ACTION.cancel), createCancelButton(deps, home));
  app.view(claims.claim('view', MODAL.reason), createReasonSubmission(deps));
  app.view(claims.claim('view', MODAL.reject), createRejectSubmission(deps));
  app.action(claims.claim('action', BREAK_GLASS_ACTION.run), createBreakGlassRunButton(deps));
  app.action(claims.claim('action', BREAK_GLASS_ACTION.acknowledge), createBreakGlassAcknowledgeButton(deps));

  app.shortcut(claims.claim('shortcut', QUICK_SHORTCUT.message), createQuickMessageShortcut(deps));
  app.shortcut(claims.claim('shortcut', QUICK_SHORTCUT.global), createQuickGlobalShortcut(deps));
  app.view(claims.claim('view', QUICK_MODAL), createQuickFormSubmission(deps));
  app.action(claims.claim('action', QUICK_ACTION.deleteOldest), createDeleteOldestButton(deps));
  app.action(claims.claim('action', PROTECTION_ACTION.fix), createFixButton(deps));
  app.action(claims.claim('action', new RegExp(`^${PROTECTION_ACTION.page}_`)), createStatusPageButton(deps));
}
