import { type Child, spawnChild } from './ipc.js';
import { LoadTarget, type Shape, sendBlock } from './load.js';
import { type Summary, summarize } from './stats.js';

export interface AckOptions {
  shapes: readonly Shape[];
  levels: readonly number[];
  /** Commands per app, per shape and concurrency level. */
  commands: (shape: Shape, concurrency: number) => number;
  /** Blocks per app per level, alternating which app goes first, so drift hits both alike. */
  rounds: number;
  warmup: number;
}

export interface AckRow {
  shape: Shape;
  concurrency: number;
  bare: Summary;
  bot: Summary;
  /** CPU per command in each process (ms); the world's is the fake Slack + simulator serving the bot. */
  cpuMs: { bare: number; bot: number; world: number };
}

/** Scenario 1: time to the HTTP 200 ack of signed `/nasha snapshot list …`, bot vs bare Bolt app. */
export async function ackLatency(world: Child, options: AckOptions): Promise<AckRow[]> {
  const info = world.world;
  if (info === undefined) throw new Error('the world child did not describe itself');
  const apps = { bare: await spawnChild('bare'), bot: await spawnChild('bot', info) };
  const rows: AckRow[] = [];
  try {
    for (const shape of options.shapes) {
      for (const concurrency of options.levels) {
        const targets = {
          bare: new LoadTarget(apps.bare.port, concurrency),
          bot: new LoadTarget(apps.bot.port, concurrency),
        };
        const samples = { bare: [] as number[], bot: [] as number[] };
        const cpu = { bare: 0, bot: 0, world: 0 };
        for (const name of ['bare', 'bot'] as const) {
          await sendBlock(world, targets[name], name === 'bot', shape, concurrency, options.warmup);
        }
        const size = Math.ceil(options.commands(shape, concurrency) / options.rounds);
        for (let round = 0; round < options.rounds; round++) {
          for (const name of round % 2 === 0 ? (['bare', 'bot'] as const) : (['bot', 'bare'] as const)) {
            const before = await Promise.all([apps[name].stats(false), world.stats(false)]);
            samples[name].push(...(await sendBlock(world, targets[name], name === 'bot', shape, concurrency, size)));
            const after = await Promise.all([apps[name].stats(false), world.stats(false)]);
            cpu[name] += after[0].cpuMs - before[0].cpuMs;
            if (name === 'bot') cpu.world += after[1].cpuMs - before[1].cpuMs;
          }
        }
        await Promise.all([targets.bare.close(), targets.bot.close()]);
        const n = size * options.rounds;
        rows.push({
          shape,
          concurrency,
          bare: summarize(samples.bare),
          bot: summarize(samples.bot),
          cpuMs: { bare: cpu.bare / n, bot: cpu.bot / n, world: cpu.world / n },
        });
      }
    }
  } finally {
    await Promise.all([apps.bare.stop(), apps.bot.stop()]);
  }
  return rows;
}
