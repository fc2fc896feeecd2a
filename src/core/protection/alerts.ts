/**
 * One alert per problem of a partition (keyed by partition and problem kind), not one per scan: opened when the
 * problem is first seen, revised in place while it lasts (its message edited), resolved visibly when it clears.
 * Every step is written to the database first and audited; the message follows (`deliver`), so a post that
 * failed is retried at the next scan, and a post whose answer was lost is looked for before it is made again.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { AuditDeliveryError } from '../audit.js';
import type { ProtectionAuditDetail } from '../audit-detail.js';
import type { AuditSink } from '../ports.js';
import { protectionActor } from './actor.js';
import type { AlertFixPlan } from './fixes.js';
import type { ProtectionProblem } from './model.js';
import type { AlertPublisher, AlertView, ProtectionAlert, ProtectionRepository } from './ports.js';

/** A delivery attempt holds its alert this long (a look-up, then a post or an edit). */
const DELIVERY_LEASE_MS = 60_000;

export interface AlertBoardDeps {
  store: ProtectionRepository;
  publisher: AlertPublisher;
  audit: AuditSink;
  clock: Clock;
  channel: string;
  /** The fix an alert's button offers (from its policy), if any. */
  fixOf: (alert: ProtectionAlert) => AlertFixPlan | undefined;
  logger?: Logger | undefined;
  owner?: string | undefined;
}

/** What the scan found on one partition (only partitions it could read). */
export interface PartitionFindings {
  service: string;
  partition: string;
  policy: string;
  problems: readonly ProtectionProblem[];
}

export interface BoardChanges {
  opened: number;
  revised: number;
  resolved: number;
}

function keyOf(alert: { service: string; partition: string; kind: string }): string {
  return `${alert.service}/${alert.partition}#${alert.kind}`;
}

function same(a: ProtectionProblem, b: ProtectionProblem): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function auditDetailOf(alert: ProtectionAlert): ProtectionAuditDetail {
  return {
    policy: alert.policy,
    problem: alert.problem,
    ...(alert.fixes.length > 0 && { fixedBy: [...new Set(alert.fixes.map((f) => f.userId))] }),
    ...(alert.resolution !== null && { resolution: alert.resolution }),
  };
}

export class AlertBoard {
  private readonly owner: string;

  constructor(private readonly deps: AlertBoardDeps) {
    this.owner = deps.owner ?? randomUUID();
  }

  /**
   * Brings the alerts in line with what was found: `findings` are the partitions read this time (others keep
   * their alerts as they are), `covered` every partition still covered (alerts of the others are resolved).
   */
  async reconcile(
    findings: readonly PartitionFindings[],
    covered: ReadonlySet<string> | undefined,
  ): Promise<BoardChanges> {
    const changes: BoardChanges = { opened: 0, revised: 0, resolved: 0 };
    const open = new Map((await this.deps.store.openAlerts()).map((alert) => [keyOf(alert), alert]));
    for (const found of findings) {
      const kinds = new Set(found.problems.map((p) => p.kind));
      for (const problem of found.problems) {
        const existing = open.get(keyOf({ ...found, kind: problem.kind }));
        if (existing === undefined) {
          if (await this.open(found, problem)) changes.opened += 1;
        } else if (!same(existing.problem, problem)) {
          if (await this.revise(existing, { problem })) changes.revised += 1;
        }
      }
      for (const alert of open.values()) {
        if (alert.service === found.service && alert.partition === found.partition && !kinds.has(alert.kind)) {
          if (await this.resolve(alert, 'cleared')) changes.resolved += 1;
        }
      }
    }
    if (covered !== undefined) {
      for (const alert of open.values()) {
        if (!covered.has(`${alert.service}/${alert.partition}`) && (await this.resolve(alert, 'uncovered'))) {
          changes.resolved += 1;
        }
      }
    }
    return changes;
  }

  /** Someone pressed the alert's Fix button: said on the alert and in its audit record. */
  async recordFix(alertId: string, userId: string): Promise<ProtectionAlert | undefined> {
    const alert = await this.deps.store.alert(alertId);
    if (alert === undefined || alert.state !== 'open') return alert;
    const fixes = [...alert.fixes, { userId, at: this.deps.clock.now() }];
    const revised = await this.deps.store.reviseAlert(alert.id, alert.version, { fixes }, this.deps.clock.now());
    if (revised !== undefined) await this.audited(revised);
    return revised ?? (await this.deps.store.alert(alertId));
  }

  /** Posts or edits every alert message that is behind its alert; failures wait for the next call. */
  async deliver(): Promise<{ delivered: number; failed: number }> {
    const counts = { delivered: 0, failed: 0 };
    for (const pending of await this.deps.store.undelivered()) {
      const now = this.deps.clock.now();
      const alert = await this.deps.store.claimDelivery(
        pending.id,
        { owner: this.owner, until: now + DELIVERY_LEASE_MS },
        now,
      );
      if (alert === undefined) continue;
      let ref = alert.messageRef;
      let posted = false;
      try {
        if (ref === null && alert.postClaims > 1) ref = (await this.deps.publisher.find?.(alert)) ?? null;
        if (ref === null) {
          posted = true;
          ref = (await this.deps.publisher.post(this.view(alert))).ref;
        } else await this.deps.publisher.update(ref, this.view(alert));
        await this.deps.store.markDelivered(alert.id, this.owner, alert.version, ref);
        counts.delivered += 1;
      } catch (error) {
        counts.failed += 1;
        const refused = error instanceof AuditDeliveryError && error.refused;
        const message = error instanceof Error ? error.message : String(error);
        this.deps.logger?.warn({ err: error, alertId: alert.id }, 'protection alert not delivered; retried next scan');
        await this.deps.store
          .markUndelivered(alert.id, this.owner, message, ref === null && (!posted || refused))
          .catch((writeError: unknown) =>
            this.deps.logger?.error({ err: writeError, alertId: alert.id }, 'could not record an undelivered alert'),
          );
      }
    }
    return counts;
  }

  private view(alert: ProtectionAlert): AlertView {
    return { alert, fix: alert.state === 'open' ? this.deps.fixOf(alert) : undefined };
  }

  private async open(found: PartitionFindings, problem: ProtectionProblem): Promise<boolean> {
    const now = this.deps.clock.now();
    const alert = await this.deps.store.openAlert(
      {
        id: randomUUID(),
        service: found.service,
        partition: found.partition,
        kind: problem.kind,
        policy: found.policy,
        problem,
        channel: this.deps.channel,
      },
      now,
    );
    if (alert === undefined) return false; // opened meanwhile (a fix's re-check on another replica)
    const record = await this.deps.audit.record({
      actor: protectionActor(alert.policy),
      action: 'protection.alert',
      target: { service: alert.service, partition: alert.partition },
      subject: alert.kind,
      outcome: 'alerted',
      detail: { protection: auditDetailOf(alert) },
    });
    await this.deps.store.reviseAlert(alert.id, alert.version, { auditId: record.id }, this.deps.clock.now());
    this.deps.logger?.info(
      { alertId: alert.id, kind: alert.kind, partition: alert.partition },
      'protection alert opened',
    );
    return true;
  }

  private async revise(alert: ProtectionAlert, revision: { problem: ProtectionProblem }): Promise<boolean> {
    const revised = await this.deps.store.reviseAlert(alert.id, alert.version, revision, this.deps.clock.now());
    if (revised === undefined) return false;
    await this.audited(revised);
    return true;
  }

  private async resolve(alert: ProtectionAlert, resolution: 'cleared' | 'uncovered'): Promise<boolean> {
    const revised = await this.deps.store.reviseAlert(
      alert.id,
      alert.version,
      { state: 'resolved', resolution },
      this.deps.clock.now(),
    );
    if (revised === undefined) return false;
    await this.audited(revised, 'resolved');
    this.deps.logger?.info({ alertId: alert.id, kind: alert.kind, resolution }, 'protection alert resolved');
    return true;
  }

  private async audited(alert: ProtectionAlert, outcome?: 'resolved'): Promise<void> {
    if (alert.auditId === null) return;
    await this.deps.audit.update(alert.auditId, {
      ...(outcome !== undefined && { outcome }),
      detail: { protection: auditDetailOf(alert) },
    });
  }
}
