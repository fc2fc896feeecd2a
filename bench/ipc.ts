import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BOT_TOKEN, SIGNING_SECRET, TEST_CONFIG } from '../test/support/bot-harness.js';
import {
  type ChildMessage,
  ChildMessageSchema,
  type ParentMessage,
  type Phases,
  type WorldInfo,
} from './ipc-schemas.js';

export type { ChildMessage, ParentMessage, Phases, WorldInfo } from './ipc-schemas.js';
export { ChildMessageSchema, WorldInfoSchema } from './ipc-schemas.js';

/**
 * The benchmark's child processes: `world` (fake Slack Web API + NAS-HA simulator, standing in for
 * the remote services), `bot` (the real composition root, `startBot`) and `bare` (a Bolt app with the
 * same receiver whose command handler only acks). Each runs in its own process so its CPU and memory
 * are its own; the parent only generates load.
 */
export type Role = 'world' | 'bot' | 'bare';

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
 * Chrome DevTools).
 */
function profileArgs(role: Role): string[] {
  const wanted = (process.env['BENCH_PROFILE'] ?? '').split(',');
  const dir = fileURLToPath(new URL(`./profiles/${role}/`, import.meta.url));
  return wanted.includes(role) ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** The children's compiled build (bench/tsconfig.children.json): plain Node runs them, as production runs dist/. */
const CHILD_SCRIPT = fileURLToPath(new URL('./.build/bench/child.js', import.meta.url));
const CHILD_TSCONFIG = fileURLToPath(new URL('./tsconfig.children.json', import.meta.url));
let built = false;

/** Compiles the children with tsc (once per run), the way `npm run build` compiles the bot. */
export function buildChildren(): void {
  if (built) return;
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', CHILD_TSCONFIG], { stdio: 'inherit' });
  built = true;
}

/** Spawns the compiled `bench/child.ts <role>` with plain Node (no tsx) and waits for it to be ready. */
export async function spawnChild(
  role: Role,
  world?: WorldInfo,
  /** More environment for the child (BENCH_SLACK_MODE=socket and its Slack, say). */
  extraEnv: Record<string, string> = {},
): Promise<Child> {
  buildChildren();
  const started = performance.now();
  const process_: ChildProcess = fork(CHILD_SCRIPT, [role], {
    execArgv: ['--expose-gc', ...profileArgs(role)],
    env: {
      ...process.env,
      BENCH_BOT_TOKEN: BOT_TOKEN,
      BENCH_SIGNING_SECRET: SIGNING_SECRET,
      // The bot's configuration comes from here: importing it from the test harness would load the simulator.
      BENCH_BOT_CONFIG: TEST_CONFIG,
      ...(world && { BENCH_WORLD: JSON.stringify(world) }),
      ...extraEnv,
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
