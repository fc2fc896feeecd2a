import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/bot-harness.js';

/**
 * The benchmark's child processes: `world` (fake Slack Web API + NAS-HA simulator, standing in for
 * the remote services), `bot` (the real composition root, `startBot`) and `bare` (a Bolt app with the
 * same receiver whose command handler only acks). Each runs in its own process so its CPU and memory
 * are its own; the parent only generates load.
 */
export type Role = 'world' | 'bot' | 'bare';

const OvhConfigSchema = z.object({
  connection: z.object({
    endpoint: z.string(),
    host: z.string(),
    port: z.number(),
    basePath: z.string(),
    appKey: z.string(),
    appSecret: z.string(),
    consumerKey: z.string(),
    caPem: z.string(),
  }),
  tuning: z.object({
    timeoutMs: z.number(),
    requestsPerMinute: z.number(),
    burst: z.number(),
    maxRetries: z.number(),
  }),
});

export const WorldInfoSchema = z.object({
  slackApiUrl: z.string(),
  /** A response_url is this plus an id. */
  responseUrlBase: z.string(),
  ovh: OvhConfigSchema,
});
export type WorldInfo = z.infer<typeof WorldInfoSchema>;

/** Where a child's startup went (ms): Node + tsx up to the entry module, loading the role's modules, starting it. */
const PhasesSchema = z.object({ bootMs: z.number(), importMs: z.number(), startMs: z.number() });
export type Phases = z.infer<typeof PhasesSchema>;

export type ParentMessage =
  /** Memory and CPU so far; `gc` first collects garbage (children run with --expose-gc). */
  | { type: 'stats'; gc: boolean }
  /** World only: response_url posts and OVH requests seen so far, once there are at least `replies`. */
  | { type: 'count'; replies?: number };

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), port: z.number(), world: WorldInfoSchema.optional(), phases: PhasesSchema }),
  z.object({ type: z.literal('stats'), rss: z.number(), heapUsed: z.number(), cpuMs: z.number() }),
  z.object({ type: z.literal('count'), replies: z.number(), ovhRequests: z.number() }),
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;
type Reply<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

export interface Child {
  role: Role;
  port: number;
  /** Wall time from spawning the process to its `ready` message. */
  startupMs: number;
  phases: Phases;
  world: WorldInfo | undefined;
  stats(gc: boolean): Promise<Reply<'stats'>>;
  /** World only: the counts, as soon as at least `replies` response_url posts arrived (default: now). */
  count(replies?: number): Promise<Reply<'count'>>;
  stop(): Promise<void>;
}

/**
 * `BENCH_PROFILE=bot,world` writes V8 CPU profiles of those children to bench/profiles/<role>/ (open them in
 * Chrome DevTools); the largest file of a directory is the main thread, the others are tsx's loader thread.
 */
function profileArgs(role: Role): string[] {
  const wanted = (process.env['BENCH_PROFILE'] ?? '').split(',');
  const dir = fileURLToPath(new URL(`./profiles/${role}/`, import.meta.url));
  return wanted.includes(role) ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

const CHILD_SCRIPT = fileURLToPath(new URL('./child.ts', import.meta.url));

/** Spawns `bench/child.ts <role>` under tsx and waits for it to be ready. */
export async function spawnChild(role: Role, world?: WorldInfo): Promise<Child> {
  const started = performance.now();
  const process_: ChildProcess = fork(CHILD_SCRIPT, [role], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...profileArgs(role)],
    env: {
      ...process.env,
      BENCH_BOT_TOKEN: BOT_TOKEN,
      BENCH_SIGNING_SECRET: SIGNING_SECRET,
      ...(world && { BENCH_WORLD: JSON.stringify(world) }),
    },
    // stdout (the bot's JSON logs at level info) goes to /dev/null: logging costs CPU, as in production.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const waiting = new Map<ChildMessage['type'], (message: ChildMessage) => void>();
  let failed: ((error: Error) => void) | undefined;
  process_.on('message', (raw: unknown) => {
    const message = ChildMessageSchema.parse(raw);
    const resolve = waiting.get(message.type);
    waiting.delete(message.type);
    resolve?.(message);
  });
  const exited = new Promise<void>((resolve) => {
    process_.on('exit', (code) => {
      failed?.(new Error(`bench child ${role} exited with ${code}`));
      resolve();
    });
  });
  const next = <T extends ChildMessage['type']>(type: T, send?: ParentMessage): Promise<Reply<T>> =>
    new Promise((resolve, reject) => {
      failed = reject;
      waiting.set(type, (message) => resolve(message as Reply<T>));
      if (send !== undefined) process_.send(send);
    });
  const ready = await next('ready');
  return {
    role,
    port: ready.port,
    startupMs: performance.now() - started,
    phases: ready.phases,
    world: ready.world,
    stats: (gc) => next('stats', { type: 'stats', gc }),
    count: (replies) => next('count', { type: 'count', ...(replies !== undefined && { replies }) }),
    async stop() {
      failed = undefined;
      if (process_.exitCode === null) process_.kill('SIGTERM');
      await exited;
    },
  };
}
