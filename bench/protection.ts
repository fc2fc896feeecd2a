/**
 * Scenario 5: protection at fleet size. A scan of 200 covered partitions and a plan pass over them (one
 * snapshot each), on the real client, simulator (80 ms per answer, tasks done in 2 s) and store, in real time,
 * against the OVH request budget: requests and wall time set against the budget floor, how late each plan
 * snapshot started after its slot, and how long a person's request waited meanwhile (the headroom the pacer
 * keeps for people).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNashaApi } from '../src/ovh/index.js';
import { type SimulatorSeed, startSimulator } from '../src/ovh/simulator/index.js';
import { systemClock } from '../src/shared/clock.js';
import { HOUR_MS } from '../src/shared/duration.js';
import { withFreshReads, withRequestClass } from '../src/shared/request-context.js';
import { openDatabase } from '../src/store/database.js';
import { simulatorConfig } from '../test/support/ovh-harness.js';
import { protectionStack } from '../test/support/protection-stack.js';
import { OVH_LATENCY_MS, TASK_DONE_MS } from './quick-snapshot.js';

export interface ProtectionCase {
  partitions: number;
  requestsPerMinute: number;
  burst: number;
}

export interface ProtectionBenchResult {
  case: ProtectionCase;
  scan: { requests: number; expected: number; wallMs: number; floorMs: number; failed: number };
  plan: {
    taken: number;
    requests: number;
    wallMs: number;
    floorMs: number;
    /** Lateness of each plan snapshot after the start of the pass (the slot is when the pass starts). */
    lateness: { p50: number; p95: number; max: number };
  };
  /** A person's read while the scan and the pass ran: its time, including any wait for the budget. */
  interactive: { count: number; p50: number; max: number };
}

const SERVICES = 4;
const PERSON_SERVICE = 'zpool-80';

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function protectionBench(c: ProtectionCase): Promise<ProtectionBenchResult> {
  const perService = Math.ceil(c.partitions / SERVICES);
  const seed: SimulatorSeed = {
    services: [
      ...Array.from({ length: SERVICES }, (_, s) => ({
        serviceName: `zpool-9${s}`,
        partitions: Array.from({ length: perService }, (_, p) => ({
          partitionName: `vol-${String(p).padStart(3, '0')}`,
          size: 50,
          scheduled: ['hour-1' as const, 'day-1' as const],
        })),
      })),
      // Outside the policy: what the person reads, so their requests are told apart from the background work's.
      { serviceName: PERSON_SERVICE, partitions: [{ partitionName: 'home', size: 50 }] },
    ],
  };
  const sim = await startSimulator({
    seed,
    taskTimings: { doingAfterMs: TASK_DONE_MS / 2, doneAfterMs: TASK_DONE_MS },
    faults: [{ path: '*', fault: { type: 'latency', ms: OVH_LATENCY_MS } }],
  });
  /** OVH requests since `from` (an index in the simulator's log), the person's left out. */
  const backgroundRequests = (from: number) =>
    sim.requests.slice(from).filter((r) => !r.path.includes(`/${PERSON_SERVICE}/`)).length;
  const config = simulatorConfig(sim, { requestsPerMinute: c.requestsPerMinute, burst: c.burst, timeoutMs: 15_000 });
  const api = createNashaApi({ config, clock: systemClock });
  const dir = mkdtempSync(join(tmpdir(), 'nasha-bench-protect-'));
  const database = await openDatabase({ dataDir: dir });
  const now = Date.now();
  // An hourly class whose slot is this very minute: the pass below is its run, each snapshot's lateness
  // measured from the pass start.
  const minute = new Date(now).getUTCMinutes();
  const stack = protectionStack({
    ovh: { api, config, clock: systemClock },
    database,
    config: `audit: {channel: C0AUDIT}
approvals: {channel: C0APPROVALS}
protection:
  alerts_channel: C0ALERTS
  policies:
    - name: fleet
      targets: ["zpool-9*/*"]
      frequencies: [hour-1, day-1]
      plan:
        - { every: 1h, keep: 3, at: "00:${String(minute).padStart(2, '0')}" }
`,
  });
  const msPerRequest = 60_000 / c.requestsPerMinute;
  const floor = (requests: number) => Math.max(0, requests - c.burst) * msPerRequest;
  const probes: number[] = [];
  let probing = true;
  // A person listing a partition every 2 s while the background work runs: a person's request class, always sent
  // to OVH (never the listing cache), so each probe waits for a budget token if any is to be waited for.
  const prober = (async () => {
    while (probing) {
      const started = performance.now();
      await withRequestClass('interactive', 'U0PERSON', () =>
        withFreshReads(() => api.client.listCustomSnapshots(PERSON_SERVICE, 'home')),
      );
      probes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  })();
  try {
    // The clock sync, before the figures below; the scan then takes this services listing from the cache (and says so).
    await api.client.listServices();
    let before = sim.requests.length;
    let started = performance.now();
    const report = await stack.protection.scanNow();
    const scanWall = performance.now() - started;
    const scanRequests = backgroundRequests(before);
    if (report === undefined) throw new Error('the scan lease was not taken');
    // The partitions became covered just now; as if an hour ago, so this minute's slot is owed.
    await database.db
      .updateTable('protection_partitions')
      .set({ first_seen_at: now - HOUR_MS })
      .execute();

    before = sim.requests.length;
    started = performance.now();
    const passStartedAt = Date.now();
    const pass = await stack.protection.runPlans();
    await stack.protection.scheduler.settled(10 * 60_000);
    const planWall = performance.now() - started;
    const planRequests = backgroundRequests(before);
    const runs = await database.db.selectFrom('protection_plan_runs').select(['late_ms', 'slot_at']).execute();
    const lateness = runs.map((r) => Number(r.late_ms) - (passStartedAt - Number(r.slot_at)));
    return {
      case: c,
      scan: {
        requests: scanRequests,
        expected: report.requests,
        wallMs: scanWall,
        floorMs: floor(scanRequests),
        failed: report.failed,
      },
      plan: {
        taken: pass.started,
        requests: planRequests,
        wallMs: planWall,
        // The last task still takes its time once created.
        floorMs: floor(planRequests) + TASK_DONE_MS,
        lateness: { p50: quantile(lateness, 0.5), p95: quantile(lateness, 0.95), max: Math.max(...lateness) },
      },
      interactive: { count: probes.length, p50: quantile(probes, 0.5), max: Math.max(...probes) },
    };
  } finally {
    probing = false;
    await prober.catch(() => undefined);
    api.transport.close();
    await database.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
