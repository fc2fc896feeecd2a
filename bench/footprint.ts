import { type Child, type Phases, spawnChild } from './ipc.js';
import { LoadTarget, sendBlock } from './load.js';
import { median } from './stats.js';

export interface FootprintOptions {
  /** Cold starts per app, alternating which goes first. */
  startups: number;
  /** Commands per phase; memory is read idle and after each phase. */
  commands: number;
  phases: number;
}

export interface Memory {
  rss: number;
  /** V8 heap after a full GC: what is really kept. */
  heapUsed: number;
}

export interface FootprintResult {
  /** Median wall time from spawning the process to ready (listening), ms, and medians of its phases. */
  startupMs: { bare: number; bot: number };
  phases: { bare: Phases; bot: Phases };
  /** 1 s after ready, then after each phase of `commands`; each after a full GC. */
  memory: { bare: Memory[]; bot: Memory[] };
  /** Idle once settled (see `settle`): what an idle bot holds. */
  settled: { bare: Memory; bot: Memory; afterMs: number; stable: boolean };
  commands: number;
}

/** Settling: RSS read every `SETTLE_POLL_MS`, settled once no app moved more than `SETTLE_MOVE` over the last 3. */
const SETTLE_POLL_MS = 2_000;
const SETTLE_MOVE = 512 * 1024;
/**
 * V8's memory reducer shrinks the young generation and compacts the heap some seconds after a process goes
 * idle (both apps drop by 10–35 MiB between 5 and 20 s after ready on this machine), so no reading before
 * this is an idle one, however flat it looks.
 */
const SETTLE_MIN_MS = 16_000;
const SETTLE_MAX_MS = 60_000;

/** Scenario 4: startup time to ready, and memory idle and after many `/nasha snapshot list` commands. */
export async function footprint(world: Child, options: FootprintOptions): Promise<FootprintResult> {
  const startups = { bare: [] as number[], bot: [] as number[] };
  const phases = { bare: [] as Phases[], bot: [] as Phases[] };
  const apps: { bare?: Child; bot?: Child } = {};
  try {
    for (let i = 0; i < options.startups; i++) {
      for (const name of i % 2 === 0 ? (['bare', 'bot'] as const) : (['bot', 'bare'] as const)) {
        await apps[name]?.stop();
        const child = await spawnChild(name, world.world);
        startups[name].push(child.startupMs);
        phases[name].push(child.phases);
        apps[name] = child;
      }
    }
    const { bare, bot } = apps;
    if (bare === undefined || bot === undefined) throw new Error('no app started');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const read = async (child: Child): Promise<Memory> => {
      const { rss, heapUsed } = await child.stats(true);
      return { rss, heapUsed };
    };
    const memory = { bare: [await read(bare)], bot: [await read(bot)] };
    const settled = await settle({ bare, bot }, read);
    const targets = { bare: new LoadTarget(bare.port, 32), bot: new LoadTarget(bot.port, 32) };
    for (let phase = 0; phase < options.phases; phase++) {
      for (const [name, child] of [
        ['bare', bare],
        ['bot', bot],
      ] as const) {
        await sendBlock(world, targets[name], name === 'bot', 'closed', 32, options.commands);
        memory[name].push(await read(child));
      }
    }
    await Promise.all([targets.bare.close(), targets.bot.close()]);
    return {
      startupMs: { bare: median(startups.bare), bot: median(startups.bot) },
      phases: { bare: medianPhases(phases.bare), bot: medianPhases(phases.bot) },
      memory,
      settled,
      commands: options.commands,
    };
  } finally {
    await Promise.all([apps.bare?.stop(), apps.bot?.stop()]);
  }
}

/** Waits, idle, until both apps' RSS stops moving (see SETTLE_*), then reads both after a full GC. */
async function settle(
  apps: { bare: Child; bot: Child },
  read: (child: Child) => Promise<Memory>,
): Promise<FootprintResult['settled']> {
  const started = performance.now();
  const history: { bare: number[]; bot: number[] } = { bare: [], bot: [] };
  const still = (values: number[]) => {
    const last = values.slice(-3);
    return last.length === 3 && Math.max(...last) - Math.min(...last) <= SETTLE_MOVE;
  };
  let stable = false;
  while (performance.now() - started < SETTLE_MAX_MS) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    // No forced GC while polling: the readings follow each app's own idle behaviour.
    for (const name of ['bare', 'bot'] as const) history[name].push((await apps[name].stats(false)).rss);
    stable = performance.now() - started >= SETTLE_MIN_MS && still(history.bare) && still(history.bot);
    if (stable) break;
  }
  return {
    bare: await read(apps.bare),
    bot: await read(apps.bot),
    afterMs: performance.now() - started + 1_000,
    stable,
  };
}

function medianPhases(all: readonly Phases[]): Phases {
  return {
    bootMs: median(all.map((p) => p.bootMs)),
    importMs: median(all.map((p) => p.importMs)),
    startMs: median(all.map((p) => p.startMs)),
  };
}
