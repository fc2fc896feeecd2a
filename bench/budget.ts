import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBot, startBot } from '../src/compose.js';
import type { OvhClientTuning } from '../src/ovh/config.js';
import {
  generateLoopbackCertificate,
  type LoopbackCertificate,
  type Simulator,
  type SimulatorSeed,
  startSimulator,
} from '../src/ovh/simulator/index.js';
import { createLogger } from '../src/shared/logger.js';
import { CHANNELS, SIGNING_SECRET, TEST_CONFIG, testEnv, USERS } from '../test/support/bot-harness.js';
import { FakeSlack } from '../test/support/fake-slack.js';
import { simulatorConfig } from '../test/support/ovh-harness.js';
import { postSigned, slashCommandBody } from '../test/support/slack-requests.js';
import { floorMs, OVH_LATENCY_MS, TASK_DONE_MS } from './quick-snapshot.js';
import { median } from './stats.js';

/**
 * Scenario 5: what people feel under OVH's request budget (60 requests/min, burst 10). Each run is the whole bot
 * (`startBot`) with its own simulator (every request answered after 80 ms, tasks done 2 s after creation), fake
 * Slack and budget; runs of one case go at once, staggered, since they wait on latency and budget, not the CPU.
 */
export const BUDGET = { requestsPerMinute: 60, burst: 10 } as const;
export const MS_PER_TOKEN = 60_000 / BUDGET.requestsPerMinute;
const STAGGER_MS = 500;
/** Services of the fixture: 20 partitions with 3 or 10 custom snapshots each, and 50 empty ones. */
const LIST_SERVICE = (snapshots: number) => `bench-20x${snapshots}`;
const QUICK_SERVICE = 'bench-50';
const QUICK_N = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function seed(): SimulatorSeed {
  const partitions = (count: number, snapshots: number) =>
    Array.from({ length: count }, (_, i) => {
      const partitionName = `p${String(i + 1).padStart(3, '0')}`;
      return {
        partitionName,
        size: 100,
        scheduled: ['hour-1' as const, 'day-1' as const],
        customSnapshots: Array.from({ length: snapshots }, (_, s) => ({ name: `snap-${partitionName}-${s + 1}` })),
      };
    });
  return {
    services: [
      { serviceName: LIST_SERVICE(3), partitions: partitions(20, 3) },
      { serviceName: LIST_SERVICE(10), partitions: partitions(20, 10) },
      { serviceName: QUICK_SERVICE, partitions: partitions(QUICK_N, 0) },
    ],
  };
}

/** The whole bot with its own simulator, fake Slack and budget. */
class World {
  private constructor(
    readonly slack: FakeSlack,
    readonly sim: Simulator,
    readonly bot: RunningBot,
    private readonly dir: string,
  ) {}

  static async start(cert: LoopbackCertificate, tuning: Partial<OvhClientTuning> = BUDGET): Promise<World> {
    const slack = new FakeSlack();
    await slack.start();
    const sim = await startSimulator({
      cert,
      seed: seed(),
      taskTimings: { doingAfterMs: 1_000, doneAfterMs: TASK_DONE_MS },
      faults: [{ path: '*', fault: { type: 'latency', ms: OVH_LATENCY_MS } }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'nasha-bench-budget-'));
    writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
    const env = { ...testEnv({ slack, sim, dir }), ovh: simulatorConfig(sim, tuning) };
    const bot = await startBot(env, {
      logger: createLogger({ level: 'silent' }),
      botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    });
    return new World(slack, sim, bot, dir);
  }

  /** OVH requests so far (the clock sync left out), or those about one service. */
  requests(service?: string): number {
    return this.sim.requests.filter(
      (r) => !r.path.endsWith('/auth/time') && (service === undefined || r.path.includes(`/${service}/`)),
    ).length;
  }

  /** The clock sync and first connections, so that what is measured next is a warm bot. */
  async warmUp(): Promise<void> {
    await this.command('snapshot services', USERS.admin);
  }

  /**
   * Sends `/nasha <text>` and resolves with the time to its answer (the first reply that is not a "working"
   * line) and every reply it got.
   */
  async command(
    text: string,
    user: string,
    channel: string = CHANNELS.ops,
  ): Promise<{ ms: number; replies: string[]; finishedAt: number }> {
    const id = randomUUID();
    const started = performance.now();
    const answered = new Promise<number>((resolve) => {
      const stop = this.slack.subscribe(() => {
        const replies = this.slack.replies(id).map((r) => String(r['text'] ?? ''));
        if (replies.some((r) => !r.startsWith('Working on'))) {
          stop();
          resolve(performance.now());
        }
      });
    });
    const body = slashCommandBody({
      text,
      user_id: user,
      channel_id: channel,
      response_url: this.slack.responseUrl(id),
    });
    const ack = await postSigned(`http://127.0.0.1:${this.bot.port}/slack/events`, SIGNING_SECRET, body);
    if (ack.status !== 200) throw new Error(`${text}: ack HTTP ${ack.status}`);
    const finishedAt = await answered;
    return {
      ms: finishedAt - started,
      replies: this.slack.replies(id).map((r) => String(r['text'] ?? '')),
      finishedAt,
    };
  }

  /** `/nasha snapshot quick` in the incident channel until its summary says N/N done; wall time. */
  async quick(): Promise<{ ms: number; finishedAt: number }> {
    const final = `Quick snapshots \`inc\`: ${QUICK_N}/${QUICK_N} done`;
    const done = new Promise<number>((resolve) => {
      const stop = this.slack.subscribe((call) => {
        if (call.args['text'] === final) {
          stop();
          resolve(performance.now());
        }
      });
    });
    const started = performance.now();
    const body = slashCommandBody({
      text: `snapshot quick ${QUICK_SERVICE} inc`,
      user_id: USERS.admin,
      channel_id: CHANNELS.incident,
      response_url: this.slack.responseUrl(randomUUID()),
    });
    const ack = await postSigned(`http://127.0.0.1:${this.bot.port}/slack/events`, SIGNING_SECRET, body);
    if (ack.status !== 200) throw new Error(`quick: ack HTTP ${ack.status}`);
    const finishedAt = await done;
    return { ms: finishedAt - started, finishedAt };
  }

  async close(): Promise<void> {
    await this.bot.stop();
    await this.sim.close();
    await this.slack.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `repeats` runs of `run` at once, each in its own world, started STAGGER_MS apart. */
async function concurrently<T>(
  cert: LoopbackCertificate,
  repeats: number,
  run: (world: World) => Promise<T>,
  tuning?: Partial<OvhClientTuning>,
): Promise<T[]> {
  const worlds = await Promise.all(Array.from({ length: repeats }, () => World.start(cert, tuning)));
  try {
    return await Promise.all(worlds.map(async (world, i) => run(await sleep(i * STAGGER_MS).then(() => world))));
  } finally {
    await Promise.all(worlds.map((w) => w.close()));
  }
}

/** A person's `show` (a viewer), one OVH request: the names are never listed, so nothing is cached for it. */
const showCommand = (i: number) =>
  `snapshot show ${LIST_SERVICE(3)}/p0${String(11 + (i % 10)).padStart(2, '0')}/snap-p0${String(11 + (i % 10)).padStart(2, '0')}-${1 + (i % 3)}`;

export interface ShowDuringList {
  snapshotsPerPartition: number;
  /** The show's answer time: median of the runs, and all of them. */
  showMs: number;
  showRuns: number[];
  listMs: number;
  listRequests: number;
  /** Runs in which the show's answer came before the list's. */
  overtook: number;
  /** Alice's "working" line said why she waited (the notice's text, in the median run). */
  notice: string | undefined;
}

export interface ShowDuringQuick {
  showMs: number;
  showRuns: number[];
  /** Wall time of the quick run with the shows going on, and alone (same run, other worlds). */
  quickMs: number;
  quickAloneMs: number;
  floorMs: number;
  /** The person's reads sent while the quick run ran (each may take a token from it). */
  overtakingReads: number;
}

export interface ListCost {
  snapshotsPerPartition: number;
  partitionsOnPage: number;
  cold: { requests: number; ms: number };
  /** Again at once, within the listing cache time. */
  cached: { requests: number; ms: number };
  /** After the listing cache time: the listings again, snapshot details from memory. */
  warm: { requests: number; ms: number };
}

export interface BudgetResult {
  showAlone: { ms: number; runs: number[] };
  duringList: ShowDuringList[];
  duringQuick: ShowDuringQuick;
  listCost: ListCost[];
}

export async function budgetScenarios(options: { repeats: number; shows: number }): Promise<BudgetResult> {
  const cert = await generateLoopbackCertificate();

  // A show with nothing else running, in fresh worlds (one per repeat): the baseline of this run.
  const alone = (
    await concurrently(cert, options.repeats, async (world) => {
      await world.warmUp();
      const runs: number[] = [];
      for (let i = 0; i < options.shows; i++) runs.push((await world.command(showCommand(i), USERS.viewer)).ms);
      return runs;
    })
  ).flat();

  // Alice lists a whole service (cold), bob's show is sent one second later.
  const duringList: ShowDuringList[] = [];
  for (const snapshots of [3, 10]) {
    const runs = await concurrently(cert, options.repeats, async (world) => {
      await world.warmUp();
      const before = world.requests(LIST_SERVICE(snapshots));
      const list = world.command(`snapshot list ${LIST_SERVICE(snapshots)}`, USERS.admin);
      await sleep(1_000);
      const show = await world.command(showCommand(0), USERS.viewer);
      const listed = await list;
      if (!listed.replies.at(-1)?.startsWith('Snapshots of')) throw new Error(`list: ${listed.replies.at(-1)}`);
      return {
        overtook: show.finishedAt < listed.finishedAt,
        show: show.ms,
        list: listed.ms,
        requests: world.requests(LIST_SERVICE(snapshots)) - before,
        notice: listed.replies.find((r) => r.startsWith('Working on')),
      };
    });
    const sorted = [...runs].sort((a, b) => a.show - b.show);
    const middle = sorted[Math.floor(sorted.length / 2)];
    duringList.push({
      snapshotsPerPartition: snapshots,
      showMs: middle?.show ?? Number.NaN,
      showRuns: runs.map((r) => r.show),
      listMs: median(runs.map((r) => r.list)),
      listRequests: middle?.requests ?? 0,
      overtook: runs.filter((r) => r.overtook).length,
      notice: middle?.notice,
    });
  }

  // A 50-partition quick run; a person's shows every 8 s while it runs. Beside it, quick runs alone.
  const [withShows, aloneQuick] = await Promise.all([
    concurrently(cert, options.repeats, async (world) => {
      const quick = world.quick();
      let running = true;
      void quick.then(() => {
        running = false;
      });
      const shows: number[] = [];
      let reads = 0;
      for (let i = 0; running && i < options.shows; i++) {
        await sleep(i === 0 ? 2_000 : 8_000);
        if (!running) break;
        reads++;
        shows.push((await world.command(showCommand(i), USERS.viewer)).ms);
      }
      return { quick: (await quick).ms, shows, reads };
    }),
    concurrently(cert, options.repeats, async (world) => (await world.quick()).ms),
  ]);
  const quickRuns = [...withShows].sort((a, b) => a.quick - b.quick);
  const quickMiddle = quickRuns[Math.floor(quickRuns.length / 2)];
  const allShows = withShows.flatMap((r) => r.shows);
  const duringQuick: ShowDuringQuick = {
    showMs: median(allShows),
    showRuns: allShows,
    quickMs: quickMiddle?.quick ?? Number.NaN,
    quickAloneMs: median(aloneQuick),
    floorMs: floorMs({ n: QUICK_N, ...BUDGET, repeats: 1 }),
    overtakingReads: quickMiddle?.reads ?? 0,
  };

  // Requests per page of `list <service>`: cold, again at once, and after the listing cache time.
  const listCost: ListCost[] = [];
  for (const snapshots of [3, 10]) {
    const [cost] = await concurrently(
      cert,
      1,
      async (world) => {
        await world.warmUp();
        const measure = async () => {
          const before = world.requests();
          const { ms } = await world.command(`snapshot list ${LIST_SERVICE(snapshots)}`, USERS.admin);
          return { requests: world.requests() - before, ms };
        };
        const cold = await measure();
        const cached = await measure();
        await sleep(6_000); // past the 5 s listing cache
        const warm = await measure();
        return { snapshotsPerPartition: snapshots, partitionsOnPage: 5, cold, cached, warm };
      },
      // Requests are counted here, not timed against the budget: a faster one keeps the bench short.
      { requestsPerMinute: 600, burst: 100 },
    );
    if (cost !== undefined) listCost.push(cost);
  }

  return { showAlone: { ms: median(alone), runs: alone }, duringList, duringQuick, listCost };
}
