/**
 * The drift and coverage scan: every `scan_every`, one replica (a lease in the database) takes the inventory of
 * covered partitions, reads each one from OVH as background work (three requests: frequencies, custom
 * snapshots, the partition's snapshot space), assesses it against its policy, then brings the alerts in line
 * and delivers their messages.
 *
 * Requests per scan: 1 (services) + one per service a policy names (partitions) + 3 per covered partition, fewer
 * when the listing cache serves the inventory, more when OVH asks for retries; the report counts what was sent.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { DAY_MS, MINUTE_MS } from '../../shared/duration.js';
import { pool } from '../../shared/pool.js';
import { countOvhRequests, withFreshReads, withRequestClass } from '../../shared/request-context.js';
import type { AlertBoard, BoardChanges, PartitionFindings } from './alerts.js';
import { assess } from './assess.js';
import { takeInventory } from './coverage.js';
import type { ProtectionConfig } from './model.js';
import type { Pacer, ProtectionOvh, ProtectionRepository, ScannedPartition } from './ports.js';
import { retentionMs } from './schedule.js';

/** Reads per covered partition. */
export const REQUESTS_PER_PARTITION = 3;
const DEFAULT_CONCURRENCY = 4;
const SCAN_LEASE = 'protection-scan';

export interface ScanReport {
  at: number;
  covered: number;
  scanned: number;
  /** Partitions OVH could not be asked about this time (their alerts stay as they were). */
  failed: number;
  /** OVH requests the scan sent (inventory, retries and clock syncs included; listings the cache served not). */
  requests: number;
  durationMs: number;
  alerts: BoardChanges & { delivered: number; undelivered: number };
}

/** Hears about scans (metrics). */
export interface ScanObserver {
  scanned(report: ScanReport, partitions: readonly ScannedPartition[]): void;
}

export interface CoverageScannerDeps {
  config: ProtectionConfig;
  store: ProtectionRepository;
  ovh: ProtectionOvh;
  pacer: Pacer;
  board: AlertBoard;
  clock: Clock;
  logger?: Logger | undefined;
  observer?: ScanObserver | undefined;
  concurrency?: number | undefined;
  owner?: string | undefined;
}

export class CoverageScanner {
  private readonly owner: string;

  constructor(private readonly deps: CoverageScannerDeps) {
    this.owner = deps.owner ?? randomUUID();
  }

  /** One full scan; undefined when another replica holds the scan lease. */
  async scan(): Promise<ScanReport | undefined> {
    const startedAt = this.deps.clock.now();
    // Held across scans: while we scan on time, others leave it to us; if we die, it expires.
    const leaseMs = Math.max(2 * this.deps.config.scanEveryMs, 10 * MINUTE_MS);
    const held = await this.deps.store.takeLease(
      SCAN_LEASE,
      { owner: this.owner, until: startedAt + leaseMs },
      startedAt,
    );
    if (!held) return undefined;
    const { value: read, sent } = await countOvhRequests(async () => {
      const inventory = await takeInventory({
        config: this.deps.config,
        ovh: this.deps.ovh,
        pacer: this.deps.pacer,
        store: this.deps.store,
        now: () => this.deps.clock.now(),
        logger: this.deps.logger,
      });
      const covered = await this.deps.store.covered();
      const findings: PartitionFindings[] = [];
      let failed = 0;
      await pool(covered, this.deps.concurrency ?? DEFAULT_CONCURRENCY, async (partition) => {
        const found = await this.readPartition(partition);
        if (found === undefined) failed += 1;
        else findings.push(found);
      });
      return { inventory, covered, findings, failed };
    });
    const { inventory, covered, findings, failed } = read;
    // Partitions of a service that could not be listed keep their alerts: only the others can be uncovered.
    const keys = new Set(covered.map((p) => `${p.service}/${p.partition}`));
    const changes = await this.deps.board.reconcile(findings, inventory.failed.length === 0 ? keys : undefined);
    const delivery = await this.deps.board.deliver();
    const report: ScanReport = {
      at: startedAt,
      covered: covered.length,
      scanned: findings.length,
      failed,
      requests: sent,
      durationMs: this.deps.clock.now() - startedAt,
      alerts: { ...changes, delivered: delivery.delivered, undelivered: delivery.failed },
    };
    this.deps.logger?.info(report, 'protection: scan done');
    this.deps.observer?.scanned(report, await this.deps.store.covered());
    return report;
  }

  /** Reads one partition again now (after a fix) and brings its alerts in line. */
  async recheck(service: string, partition: string): Promise<boolean> {
    const covered = (await this.deps.store.covered()).find((p) => p.service === service && p.partition === partition);
    if (covered === undefined) return false;
    const found = await this.readPartition(covered, 'interactive');
    if (found === undefined) return false;
    await this.deps.board.reconcile([found], undefined);
    await this.deps.board.deliver();
    return true;
  }

  private async readPartition(
    covered: ScannedPartition,
    requestClass: 'background' | 'interactive' = 'background',
  ): Promise<PartitionFindings | undefined> {
    const policy = this.deps.config.policies.find((p) => p.name === covered.policy);
    if (policy === undefined) return undefined;
    const { service, partition } = covered;
    const reads = this.deps.ovh(requestClass);
    try {
      await this.deps.pacer.wait(requestClass, REQUESTS_PER_PARTITION);
      // Drift is what OVH shows now, never a cached listing; a scan is background work unless a person waits.
      const [frequencies, custom, info] = await withRequestClass(requestClass, undefined, () =>
        withFreshReads(() =>
          Promise.all([
            reads.listSnapshotTypes(service, partition),
            reads.listCustomSnapshots(service, partition),
            reads.getPartition(service, partition),
          ]),
        ),
      );
      const now = this.deps.clock.now();
      const longest = Math.max(0, ...policy.plan.map(retentionMs));
      const [known, runs] = await Promise.all([
        this.deps.store.knownCreations(service, partition),
        this.deps.store.runsOf(service, partition, now - longest - 8 * DAY_MS),
      ]);
      const usedBySnapshots = info.usedBySnapshots ?? null;
      const assessment = assess(
        policy,
        { service, partition, frequencies, custom, usedBySnapshots, known },
        runs,
        covered.firstSeenAt,
        now,
      );
      await this.deps.store.saveScan(service, partition, {
        scannedAt: now,
        frequencies,
        custom,
        usedBySnapshots,
        problems: assessment.problems,
        newestAt: assessment.newestAt,
      });
      return { service, partition, policy: policy.name, problems: assessment.problems };
    } catch (error) {
      this.deps.logger?.warn({ err: error, service, partition }, 'protection: could not scan a partition');
      return undefined;
    }
  }
}
