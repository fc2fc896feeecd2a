import type { Logger } from 'pino';
import type { ApprovalService } from '../core/approvals.js';
import type { BreakGlassService } from '../core/break-glass.js';
import type { DashboardQueries } from '../core/dashboard.js';
import type { ChangeDesk } from '../core/desk.js';
import type { ActionGate } from '../core/gate.js';
import type { NotificationOutbox } from '../core/notifications.js';
import type { Protection } from '../core/protection/index.js';
import type { ProtectionQueries } from '../core/protection/queries.js';
import type { QuickSnapshotService } from '../core/quick-snapshots.js';
import type { SnapshotService } from '../core/snapshot-service.js';
import type { Clock } from '../shared/clock.js';
import type { ReaderDirectory } from './i18n/readers.js';
import type { MetadataCodec } from './metadata.js';

/** Everything the listeners need, passed in by the composition root. */
export interface SlackDeps {
  /** Reads (listings, details, option menus). */
  service: SnapshotService;
  /** Every change, from every surface. */
  desk: ChangeDesk;
  /** What happens if someone asks for an action (forms use it to refuse early; help and can-i explain it). */
  gate: ActionGate;
  approvals: ApprovalService;
  /** Break-glass reviews: the Acknowledge button (absent: break-glass changes are refused by the desk). */
  breakGlass?: Pick<BreakGlassService, 'acknowledge'> | undefined;
  quick: QuickSnapshotService;
  /** Messages the bot owes Slack beyond the answer to a request (summaries), delivered durably. */
  notifications: Pick<NotificationOutbox, 'send' | 'posted'>;
  /** `status`, `restore`, and the alerts' Fix (runtime: undefined without a `protection:` section). */
  protection?: { queries: ProtectionQueries; runtime: Protection | undefined } | undefined;
  /** What the Home tab and `/nasha approvals` show a person. */
  dashboard: Pick<DashboardQueries, 'home' | 'approvals'>;
  /** Tells its listeners when something a Home tab shows changed (approval requests). */
  changes?: { subscribe(listener: () => void): () => void } | undefined;
  metadata: MetadataCodec;
  /** Who reads in which language: a person (their Slack locale and zone), a channel (its configured language). */
  readers: ReaderDirectory;
  clock: Clock;
  logger: Logger;
}
