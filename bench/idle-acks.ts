import { type Child, spawnChild } from './ipc.js';
import { LoadTarget, sendBlock } from './load.js';
import { type Summary, summarize } from './stats.js';

/**
 * One OVH request after the ack (a snapshot's details, never cached without a listing) and a reply: the
 * same work in every burst, so that bursts after a quiet period differ from warm ones only by what went cold.
 */
export const IDLE_COMMAND = 'snapshot show zpool-128310/data/snap-data-pre-upgrade';

export interface IdleOptions {
  /** Commands per burst. */
  burst: number;
  /** Quiet time before each "idle" burst: longer than every keep-alive timeout (5 s: Node's servers, OVH's). */
  idleMs: number;
  /** Idle bursts per app; as many warm bursts follow each, back to back. */
  rounds: number;
  warmPerRound: number;
}

interface Side {
  idle: Summary;
  warm: Summary;
  /** CPU of the app's process per command (ms), over its idle and its warm bursts (with their work). */
  cpuMs: { idle: number; warm: number };
}

export interface IdleResult {
  burst: number;
  idleMs: number;
  bare: Side;
  bot: Side;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Scenario 6: acks of bursts after a quiet period against warm bursts, bot vs bare Bolt app. Both apps go quiet
 * together, then get their burst one after the other (which goes first alternates); their warm bursts follow.
 */
export async function idleAcks(world: Child, options: IdleOptions): Promise<IdleResult> {
  const info = world.world;
  if (info === undefined) throw new Error('the world child did not describe itself');
  const apps = { bare: await spawnChild('bare'), bot: await spawnChild('bot', info) };
  const samples = {
    bare: { idle: [] as number[], warm: [] as number[], cpu: { idle: 0, warm: 0 } },
    bot: { idle: [] as number[], warm: [] as number[], cpu: { idle: 0, warm: 0 } },
  };
  try {
    // Keep-alive pools to the apps; after a quiet period the apps' servers have closed them (5 s), like any
    // client's connection to Slack's edge, so both apps take new connections for their idle burst.
    const targets = {
      bare: new LoadTarget(apps.bare.port, options.burst),
      bot: new LoadTarget(apps.bot.port, options.burst),
    };
    const send = async (name: 'bare' | 'bot', state?: 'idle' | 'warm') => {
      const before = await apps[name].stats(false);
      const latencies = await sendBlock(
        world,
        targets[name],
        name === 'bot',
        'burst',
        options.burst,
        options.burst,
        IDLE_COMMAND,
      );
      if (state === undefined) return;
      samples[name].cpu[state] += (await apps[name].stats(false)).cpuMs - before.cpuMs;
      samples[name][state].push(...latencies);
    };
    // Warm-up: modules, JIT, the bot's clock sync with OVH.
    for (const name of ['bare', 'bot'] as const) await send(name);
    for (let round = 0; round < options.rounds; round++) {
      await sleep(options.idleMs);
      const order = round % 2 === 0 ? (['bare', 'bot'] as const) : (['bot', 'bare'] as const);
      for (const name of order) await send(name, 'idle');
      for (const name of order) for (let w = 0; w < options.warmPerRound; w++) await send(name, 'warm');
    }
    await Promise.all([targets.bare.close(), targets.bot.close()]);
  } finally {
    await Promise.all([apps.bare.stop(), apps.bot.stop()]);
  }
  const summary = (s: (typeof samples)['bot']): Side => ({
    idle: summarize(s.idle),
    warm: summarize(s.warm),
    cpuMs: { idle: s.cpu.idle / Math.max(1, s.idle.length), warm: s.cpu.warm / Math.max(1, s.warm.length) },
  });
  return { burst: options.burst, idleMs: options.idleMs, bare: summary(samples.bare), bot: summary(samples.bot) };
}
