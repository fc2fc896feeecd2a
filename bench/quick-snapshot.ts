import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot } from '../src/compose.js';
import { DEFAULT_APPROVAL_RULES } from '../src/config/bot-config.js';
import { ActionGate } from '../src/core/gate.js';
import { Policy } from '../src/core/policy.js';
import type { AuditSink } from '../src/core/ports.js';
import { type QuickSnapshotMemory, QuickSnapshotService, type SavedQuickRun } from '../src/core/quick-snapshots.js';
import type { OvhClientTuning } from '../src/ovh/config.js';
import { createNashaApi } from '../src/ovh/index.js';
import {
  generateLoopbackCertificate,
  type LoopbackCertificate,
  type RequestLogEntry,
  type Simulator,
  startSimulator,
} from '../src/ovh/simulator/index.js';
import { type Clock, systemClock } from '../src/shared/clock.js';
import { createLogger } from '../src/shared/logger.js';
import { CHANNELS, SIGNING_SECRET, TEST_CONFIG, testEnv, USERS } from '../test/support/bot-harness.js';
import { FakeSlack } from '../test/support/fake-slack.js';
import { simulatorConfig } from '../test/support/ovh-harness.js';
import { postSigned, slashCommandBody } from '../test/support/slack-requests.js';
import { PerTaskTracker } from './per-task-tracker.js';

/** OVH as the scenario models it: every request answered after 80 ms, every task done 2 s after creation. */
export const OVH_LATENCY_MS = 80;
export const TASK_DONE_MS = 2_000;
const TASK_DOING_MS = 1_000;
/** Requests every client makes before the first creation: the clock sync and the partition list. */
const SETUP_REQUESTS = 2;

export interface QuickCase {
  n: number;
  requestsPerMinute: number;
  burst: number;
  /**
   * Runs of each variant (at the same time): with few requests in play, whether one poll lands just
   * before or after a task ends moves the wall time by a whole budget token, so one run is not a figure.
   */
  repeats: number;
}

export type QuickVariant = 'bot' | 'service' | 'per-task';

export interface RequestCounts {
  total: number;
  setup: number;
  creations: number;
  /** GET …/task?status=… (the bot's tracker). */
  lists: number;
  /** GET …/task/{id}. */
  taskGets: number;
}

export interface QuickRunResult {
  variant: QuickVariant;
  /** The median run's (the slower middle one for an even count); its requests and rounds below. */
  wallMs: number;
  /** Fastest and slowest of the repeats. */
  wallRangeMs: [number, number];
  requests: RequestCounts;
  /** Polling rounds (service: the tracker's rounds; per-task: one per GET). */
  rounds: number | undefined;
}

export interface QuickCaseResult extends QuickCase {
  /** The least time any client needs under this budget (see `floorMs`). */
  floorMs: number;
  /** The issue's simpler bound, max(one task's time, N / budget). */
  issueFloorMs: number;
  runs: QuickRunResult[];
}

/**
 * The least wall time to take N snapshots under a token bucket (`burst` tokens, refilled at `rpm`/min):
 * the 2 setup requests run one after the other, the N creations get tokens SETUP+1 … SETUP+N, the last
 * task ends TASK_DONE_MS after it reached OVH, and one more request (token SETUP+N+1) must see it done.
 */
export function floorMs({ n, requestsPerMinute, burst }: QuickCase): number {
  const msPerToken = 60_000 / requestsPerMinute;
  const tokenAt = (k: number) => Math.max(0, k - burst) * msPerToken;
  const lastCreation = Math.max(SETUP_REQUESTS * OVH_LATENCY_MS, tokenAt(SETUP_REQUESTS + n));
  return Math.max(lastCreation + TASK_DONE_MS, tokenAt(SETUP_REQUESTS + n + 1)) + OVH_LATENCY_MS;
}

/**
 * Scenario 2, case by case. Within a case every variant runs `repeats` times at once, each with its own
 * simulator, budget and client: they wait on OVH latency and their budget, not on the CPU. All are set up
 * first (bots, databases, TLS contexts: seconds of CPU together), then started STAGGER_MS apart, variants
 * interleaved, so their opening bursts (setup calls, 10 creations on new TLS connections) do not collide.
 * The stagger is not part of any run's time.
 */
export async function quickSnapshots(cases: readonly QuickCase[]): Promise<QuickCaseResult[]> {
  const cert = await generateLoopbackCertificate();
  const results: QuickCaseResult[] = [];
  for (const c of cases) {
    const start = barrier(c.repeats * VARIANTS.length);
    const runs = VARIANTS.map((variant, v) =>
      Promise.all(
        Array.from({ length: c.repeats }, (_, r) => {
          const ready = () => start.arrive().then(() => sleep((r * VARIANTS.length + v) * STAGGER_MS));
          const run = variant === 'bot' ? viaBot(c, cert, ready) : viaService(c, variant, cert, ready);
          return run.catch((error: unknown) => {
            start.release();
            throw error;
          });
        }),
      ).then((all) => summarizeRuns(all)),
    );
    results.push({
      ...c,
      floorMs: floorMs(c),
      issueFloorMs: Math.max(TASK_DONE_MS, c.n * (60_000 / c.requestsPerMinute)),
      runs: await Promise.all(runs),
    });
  }
  return results;
}

const STAGGER_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The median run (the slower middle one for an even count) and the range of all. */
function summarizeRuns(runs: SingleRun[]): QuickRunResult {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('no run');
  return { ...median, wallRangeMs: [sorted[0]?.wallMs ?? 0, sorted.at(-1)?.wallMs ?? 0] };
}

const VARIANTS = ['bot', 'service', 'per-task'] as const;

/** `arrive()` resolves once `parties` runs have arrived (or `release()` gave up waiting, after a failure). */
function barrier(parties: number): { arrive: () => Promise<void>; release: () => void } {
  let arrived = 0;
  let release = () => {};
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    arrive: () => {
      arrived += 1;
      if (arrived >= parties) release();
      return open;
    },
    release,
  };
}

const serviceName = (n: number) => `bench-${n}`;

type SingleRun = Omit<QuickRunResult, 'wallRangeMs'>;

function startWorld(c: QuickCase, cert: LoopbackCertificate): Promise<Simulator> {
  return startSimulator({
    cert,
    seed: {
      services: [
        {
          serviceName: serviceName(c.n),
          partitions: Array.from({ length: c.n }, (_, i) => ({
            partitionName: `p${String(i + 1).padStart(3, '0')}`,
            size: 100,
            scheduled: [],
          })),
        },
      ],
    },
    taskTimings: { doingAfterMs: TASK_DOING_MS, doneAfterMs: TASK_DONE_MS },
    faults: [{ path: '*', fault: { type: 'latency', ms: OVH_LATENCY_MS } }],
  });
}

const tuning = (c: QuickCase): OvhClientTuning => ({
  timeoutMs: 15_000,
  requestsPerMinute: c.requestsPerMinute,
  burst: c.burst,
  maxRetries: 3,
});

function countRequests(log: readonly RequestLogEntry[]): RequestCounts {
  const counts: RequestCounts = { total: log.length, setup: 0, creations: 0, lists: 0, taskGets: 0 };
  for (const { method, path } of log) {
    if (method === 'POST' && path.endsWith('/customSnapshot')) counts.creations++;
    else if (/\/task$/.test(path)) counts.lists++;
    else if (/\/task\/\d+$/.test(path)) counts.taskGets++;
    else counts.setup++;
  }
  return counts;
}

/** The whole bot: a signed `/nasha snapshot quick bench-N inc` until the summary says N/N done. */
async function viaBot(c: QuickCase, cert: LoopbackCertificate, ready: () => Promise<void>): Promise<SingleRun> {
  const slack = new FakeSlack();
  await slack.start();
  const sim = await startWorld(c, cert);
  const dir = mkdtempSync(join(tmpdir(), 'nasha-bench-quick-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  const env = { ...testEnv({ slack, sim, dir }), ovh: simulatorConfig(sim, tuning(c)) };
  const bot = await startBot(env, {
    logger: createLogger({ level: 'silent' }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
  });
  try {
    const final = `Quick snapshots \`inc\`: ${c.n}/${c.n} done`;
    const summarized = new Promise<number>((resolve) => {
      slack.subscribe((call) => {
        const blocks = JSON.stringify(call.args['blocks'] ?? []);
        if (call.args['text'] === final && blocks.includes('Quick snapshots — inc')) resolve(performance.now());
      });
    });
    await ready();
    const started = performance.now();
    const body = slashCommandBody({
      text: `snapshot quick ${serviceName(c.n)} inc`,
      user_id: USERS.admin,
      channel_id: CHANNELS.incident,
      response_url: slack.responseUrl(randomUUID()),
    });
    const ack = await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, SIGNING_SECRET, body);
    if (ack.status !== 200) throw new Error(`quick command ack: HTTP ${ack.status}`);
    const wallMs = (await summarized) - started;
    return { variant: 'bot', wallMs, requests: countRequests(sim.requests), rounds: undefined };
  } finally {
    await bot.stop();
    await sim.close();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** QuickSnapshotService alone, with the bot's tracker or the per-task baseline, on the same client. */
async function viaService(
  c: QuickCase,
  variant: Exclude<QuickVariant, 'bot'>,
  cert: LoopbackCertificate,
  ready: () => Promise<void>,
): Promise<SingleRun> {
  const sim = await startWorld(c, cert);
  // The bot's own wiring: its tracker gives way to requests queued in the budget.
  const api = createNashaApi({ config: simulatorConfig(sim, tuning(c)), clock: systemClock });
  // The baseline sleeps once per polling round (one GET per task).
  let baselineRounds = 0;
  const pollClock: Clock = {
    now: () => systemClock.now(),
    sleep: (ms) => {
      baselineRounds++;
      return systemClock.sleep(ms);
    },
  };
  const tracker = variant === 'service' ? api.tracker : new PerTaskTracker({ client: api.client, clock: pollClock });
  const responders = { membersOf: async () => new Set<string>([USERS.responder]) };
  const quick = new QuickSnapshotService({
    client: api.client,
    tracker,
    // The responder's right comes from the real gate, as in the bot.
    gate: new ActionGate({
      policy: new Policy({ grants: [], channels: [], unlistedChannels: 'admin' }, responders),
      groups: responders,
      rules: DEFAULT_APPROVAL_RULES,
      responderGroups: ['S0RESP'],
    }),
    policy: {
      canSeeService: async () => true,
      filterReadable: async (_actor, _service, partitions) => [...partitions],
    },
    audit: nullAudit,
    memory: new MemoryQuickStore(),
    settings: { targetGroups: new Map(), defaultExpirationMs: 7 * 86_400_000 },
    clock: systemClock,
  });
  try {
    const actor = { userId: USERS.responder, channelId: CHANNELS.incident };
    await ready();
    const started = performance.now();
    const run = await quick.execute(
      actor,
      await quick.plan(actor, serviceName(c.n), { label: 'inc' }),
      undefined,
      () => {},
    );
    const wallMs = performance.now() - started;
    const notDone = run.items.filter((item) => item.state.status !== 'done');
    if (notDone.length > 0) throw new Error(`${variant}: ${notDone.length} partitions not done`);
    const requests = countRequests(sim.requests);
    return { variant, wallMs, requests, rounds: variant === 'service' ? api.tracker.roundsPolled : baselineRounds };
  } finally {
    tracker.stop();
    api.transport.close();
    await sim.close();
  }
}

const nullAudit: AuditSink = {
  record: async () => ({ id: randomUUID() }),
  update: async () => undefined,
};

/** In memory: the service variant measures OVH pacing; runs are saved only by the bot's real store. */
class MemoryQuickStore implements QuickSnapshotMemory {
  private readonly created = new Map<string, number>();
  private readonly targets = new Map<string, string>();
  async recordCreated(service: string, partition: string, name: string, at: number): Promise<void> {
    this.created.set(`${service}/${partition}/${name}`, at);
  }
  async createdAt(service: string, partition: string, names: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const name of names) {
      const at = this.created.get(`${service}/${partition}/${name}`);
      if (at !== undefined) found.set(name, at);
    }
    return found;
  }
  async lastTarget(scope: string): Promise<string | undefined> {
    return this.targets.get(scope);
  }
  async rememberTarget(scope: string, target: string): Promise<void> {
    this.targets.set(scope, target);
  }
  async saveRun(): Promise<void> {}
  async finishRun(): Promise<void> {}
  async unfinishedRuns(): Promise<SavedQuickRun[]> {
    return [];
  }
}
