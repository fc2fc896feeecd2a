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
  /** Idle, then after each phase of `commands`; each after a full GC. */
  memory: { bare: Memory[]; bot: Memory[] };
  commands: number;
}

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
      commands: options.commands,
    };
  } finally {
    await Promise.all([apps.bare?.stop(), apps.bot?.stop()]);
  }
}

function medianPhases(all: readonly Phases[]): Phases {
  return {
    bootMs: median(all.map((p) => p.bootMs)),
    importMs: median(all.map((p) => p.importMs)),
    startMs: median(all.map((p) => p.startMs)),
  };
}
