import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PROTECTION_PROBLEM_KINDS } from '../core/protection/model.js';
import type { ScannedPartition } from '../core/protection/ports.js';
import type { ScanObserver, ScanReport } from '../core/protection/scanner.js';
import type { PlanObserver, PlanResult } from '../core/protection/scheduler.js';
import type { Clock } from '../shared/clock.js';

/**
 * Protection metrics. Labels are bounded: a policy name (from the configuration), a problem kind (five), a
 * plan result (four) — never a partition or service name.
 */
export class ProtectionMetrics implements PlanObserver, ScanObserver {
  private readonly plans: Counter<'policy' | 'result'>;
  private readonly lateness: Histogram<'policy'>;
  private readonly protectedPartitions: Gauge<'policy'>;
  private readonly problems: Gauge<'kind'>;
  private readonly scanRequests: Gauge;
  private readonly scanSeconds: Gauge;
  private partitions: readonly ScannedPartition[] = [];

  constructor(registry: Registry, policies: readonly string[], clock: Clock) {
    const registers = [registry];
    this.plans = new Counter({
      name: 'nasha_protection_plan_snapshots_total',
      help: 'Plan snapshots by policy and result (taken, existed, skipped for the reserve, failed)',
      labelNames: ['policy', 'result'],
      registers,
    });
    this.lateness = new Histogram({
      name: 'nasha_protection_plan_lateness_seconds',
      help: 'How long after its slot a plan snapshot was taken',
      labelNames: ['policy'],
      buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.protectedPartitions = new Gauge({
      name: 'nasha_protection_partitions',
      help: 'Partitions covered by each protection policy (last inventory)',
      labelNames: ['policy'],
      registers,
    });
    this.problems = new Gauge({
      name: 'nasha_protection_problem_partitions',
      help: 'Partitions with an open problem, by kind (last scan)',
      labelNames: ['kind'],
      registers,
    });
    const read = () => this.partitions;
    new Gauge({
      name: 'nasha_protection_newest_restore_point_age_seconds',
      help: "The oldest among each policy's partitions' newest restore points (upper bound), in seconds",
      labelNames: ['policy'],
      registers,
      collect(this: Gauge<'policy'>) {
        const now = clock.now();
        for (const policy of policies) {
          const ages = read()
            .filter((p) => p.policy === policy && p.scan !== undefined)
            .map((p) => (p.scan?.newestAt == null ? Number.POSITIVE_INFINITY : now - p.scan.newestAt));
          if (ages.length > 0) this.set({ policy }, Math.max(...ages) / 1000);
        }
      },
    });
    this.scanRequests = new Gauge({
      name: 'nasha_protection_scan_requests',
      help: 'OVH requests the last scan sent, counted (retries included, listings the cache served not)',
      registers,
    });
    this.scanSeconds = new Gauge({
      name: 'nasha_protection_scan_duration_seconds',
      help: 'How long the last scan took',
      registers,
    });
    for (const policy of policies) {
      for (const result of ['taken', 'existed', 'skipped', 'failed'] satisfies PlanResult[])
        this.plans.inc({ policy, result }, 0);
    }
  }

  planRun(policy: string, result: PlanResult, latenessMs: number): void {
    this.plans.inc({ policy, result });
    if (result === 'taken') this.lateness.observe({ policy }, latenessMs / 1000);
  }

  scanned(report: ScanReport, partitions: readonly ScannedPartition[]): void {
    this.partitions = partitions;
    this.scanRequests.set(report.requests);
    this.scanSeconds.set(report.durationMs / 1000);
    const byPolicy = new Map<string, number>();
    for (const p of partitions) byPolicy.set(p.policy, (byPolicy.get(p.policy) ?? 0) + 1);
    this.protectedPartitions.reset();
    for (const [policy, count] of byPolicy) this.protectedPartitions.set({ policy }, count);
    for (const kind of PROTECTION_PROBLEM_KINDS) {
      this.problems.set({ kind }, partitions.filter((p) => p.scan?.problems.some((x) => x.kind === kind)).length);
    }
  }
}
