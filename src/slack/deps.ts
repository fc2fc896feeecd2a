import type { Logger } from 'pino';
import type { ApprovalService } from '../core/approvals.js';
import type { Action, Actor, Role, Target } from '../core/model.js';
import type { QuickSnapshotService } from '../core/quick-snapshots.js';
import type { SnapshotService } from '../core/snapshot-service.js';
import type { Clock } from '../shared/clock.js';
import type { MetadataCodec } from './metadata.js';

/** The policy as the Slack layer uses it: decisions with explanations, and the role for `help`. */
export interface PolicyView {
  decide(
    actor: Actor,
    action: Action,
    target: Target,
    options?: { via?: 'approval' },
  ): Promise<{ allowed: boolean; summary: string; explanation: readonly string[] }>;
  bestRoleAnywhere(actor: Actor): Promise<Role | undefined>;
  canI(
    asker: Actor,
    subjectId: string,
    action: Action,
    target: Target,
  ): Promise<{ allowed: boolean; summary: string; explanation: readonly string[] }>;
}

/** Everything the listeners need, passed in by the composition root. */
export interface SlackDeps {
  service: SnapshotService;
  approvals: ApprovalService;
  quick: QuickSnapshotService;
  policy: PolicyView;
  metadata: MetadataCodec;
  clock: Clock;
  logger: Logger;
}
