/**
 * Protection policies, put together: the plan scheduler, the coverage scanner and its alerts, the Fix of an
 * alert, and the loops that run them on their clock. Core only: OVH reads, the database, the alert publisher
 * and the pacer come in as ports (src/compose.ts wires the real ones).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { ChangeDesk, ChangeDraft, SubmitOutcome } from '../desk.js';
import { NashaError } from '../errors.js';
import type { AuditSink } from '../ports.js';
import { AlertBoard } from './alerts.js';
import { takeInventory } from './coverage.js';
import { type AlertFixPlan, fixDrafts, fixFor } from './fixes.js';
import type { ProtectionConfig } from './model.js';
import type { AlertPublisher, Pacer, ProtectionAlert, ProtectionOvh, ProtectionRepository } from './ports.js';
import { CoverageScanner, type ScanObserver, type ScanReport } from './scanner.js';
import { type PlanObserver, type PlanPass, PlanScheduler } from './scheduler.js';

export interface ProtectionDeps {
  config: ProtectionConfig;
  store: ProtectionRepository;
  desk: Pick<ChangeDesk, 'submit'>;
  audit: AuditSink;
  ovh: ProtectionOvh;
  pacer: Pacer;
  publisher: AlertPublisher;
  clock: Clock;
  logger?: Logger | undefined;
  observer?: (PlanObserver & ScanObserver) | undefined;
  /** This process, as the owner of claims and leases. */
  owner?: string | undefined;
  concurrency?: number | undefined;
}

/** The desk's outcomes that mean a Fix was acted on: sent, filed for approval, or nothing left to do. */
const FIX_ACTED_ON: ReadonlySet<SubmitOutcome['kind']> = new Set(['started', 'pending', 'already_pending', 'noop']);

export interface AlertFixRequest {
  alert: ProtectionAlert;
  fix: AlertFixPlan;
  drafts: ChangeDraft[];
}

export class Protection {
  readonly scheduler: PlanScheduler;
  readonly scanner: CoverageScanner;
  readonly board: AlertBoard;
  private running = false;
  private once = false;
  private loops: Promise<void>[] = [];
  private wake: Array<() => void> = [];

  constructor(private readonly deps: ProtectionDeps) {
    const common = { store: deps.store, clock: deps.clock, logger: deps.logger, owner: deps.owner };
    this.board = new AlertBoard({
      ...common,
      publisher: deps.publisher,
      audit: deps.audit,
      channel: deps.config.alertsChannel,
      fixOf: (alert) => this.fixPlan(alert),
    });
    this.scheduler = new PlanScheduler({
      ...common,
      config: deps.config,
      desk: deps.desk,
      audit: deps.audit,
      ovh: deps.ovh,
      pacer: deps.pacer,
      observer: deps.observer,
      concurrency: deps.concurrency,
    });
    this.scanner = new CoverageScanner({
      ...common,
      config: deps.config,
      ovh: deps.ovh,
      pacer: deps.pacer,
      board: this.board,
      observer: deps.observer,
      concurrency: deps.concurrency,
    });
  }

  get config(): ProtectionConfig {
    return this.deps.config;
  }

  /** Plans due now (the inventory first, if none was ever taken). */
  async runPlans(): Promise<PlanPass> {
    if ((await this.deps.store.covered()).length === 0) {
      await takeInventory({ ...this.deps, store: this.deps.store, now: () => this.deps.clock.now() });
    }
    return this.scheduler.runDue();
  }

  scanNow(): Promise<ScanReport | undefined> {
    return this.scanner.scan();
  }

  /**
   * Someone pressed an alert's Fix: the changes to submit in their name (the desk decides whether they may).
   * Once submitted, `fixed` records it and reads the partition again.
   */
  async requestFix(alertId: string): Promise<AlertFixRequest> {
    const alert = await this.deps.store.alert(alertId);
    if (alert === undefined) throw new NashaError({ kind: 'alert_not_fixable', why: 'unknown' });
    if (alert.state !== 'open') throw new NashaError({ kind: 'alert_not_fixable', why: 'resolved' });
    const fix = this.fixPlan(alert);
    if (fix === undefined) throw new NashaError({ kind: 'alert_not_fixable', why: 'no_fix' });
    return { alert, fix, drafts: fixDrafts(fix, { service: alert.service, partition: alert.partition }) };
  }

  /**
   * After a Fix's changes were submitted, with the desk's outcome of each (none for one that failed unexpectedly):
   * the press is recorded on the alert and its audit record if any change ran, was filed for approval or was
   * already in place (a refused or unsendable one is audited by the desk and changes nothing here); then the
   * partition is read again, which resolves the alert if it is fixed.
   */
  async fixed(alertId: string, userId: string, outcomes: readonly (SubmitOutcome | undefined)[]): Promise<void> {
    const acted = outcomes.some((outcome) => outcome !== undefined && FIX_ACTED_ON.has(outcome.kind));
    const alert = acted ? await this.board.recordFix(alertId, userId) : await this.deps.store.alert(alertId);
    if (alert !== undefined) await this.recheck(alert.service, alert.partition);
  }

  /** Reads a partition again now and updates its alerts (after a fix). */
  recheck(service: string, partition: string): Promise<boolean> {
    return this.scanner.recheck(service, partition);
  }

  /**
   * The plan loop (at start: slots missed while down, then each slot as it comes) and the scan loop. `once`: one
   * pass of each, then they stop.
   */
  start(options: { once?: boolean } = {}): void {
    if (this.running) return;
    this.running = true;
    this.once = options.once === true;
    this.loops = [
      this.loop('plans', async () => {
        await this.runPlans();
        return this.scheduler.nextDueAt(this.deps.clock.now());
      }),
      this.loop('scan', async () => {
        const started = this.deps.clock.now();
        await this.scanNow();
        return started + this.deps.config.scanEveryMs;
      }),
    ];
  }

  /** Stops the loops; a pass under way gets a few seconds to end (its OVH writes are journaled anyway). */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wake.splice(0)) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.loops),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 5_000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private fixPlan(alert: ProtectionAlert): AlertFixPlan | undefined {
    const policy = this.deps.config.policies.find((p) => p.name === alert.policy);
    return policy === undefined ? undefined : fixFor(policy, alert.problem, this.deps.clock.now());
  }

  private async loop(name: string, pass: () => Promise<number>): Promise<void> {
    while (this.running) {
      let next: number;
      try {
        next = await pass();
      } catch (error) {
        this.deps.logger?.error({ err: error, loop: name }, 'protection: a pass failed; trying again in a minute');
        next = this.deps.clock.now() + 60_000;
      }
      if (!this.running || this.once) return;
      await new Promise<void>((resolve) => {
        this.wake.push(resolve);
        void this.deps.clock.sleep(Math.max(1_000, next - this.deps.clock.now())).then(resolve);
      });
    }
  }
}

export type { PlanPass, ScanReport };
