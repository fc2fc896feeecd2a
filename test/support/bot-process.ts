import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BOT_TOKEN, SIGNING_SECRET } from './bot-harness.js';

export interface BotProcess {
  port: number;
  output(): string;
  signal(name: NodeJS.Signals): void;
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `src/main.ts` as its own process (a real replica) and waits until it says it is ready. */
export async function spawnBot(env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<BotProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!output.includes('nasha-bot is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot process did not start:\n${output.slice(-3_000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    output: () => output,
    signal: (name) => child.kill(name),
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The environment of a bot process pointed at a fake Slack and a simulator: `<dir>/nasha.yml` and
 * `<dir>/ca.pem` (the simulator's CA, trusted for that endpoint only) must exist.
 */
export function botProcessEnv(
  world: {
    slackApiUrl: string;
    sim: { baseUrl: string; credentials: { appKey: string; appSecret: string; consumerKey: string } };
    dir: string;
  },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: world.slackApiUrl,
    OVH_ENDPOINT: world.sim.baseUrl,
    OVH_APP_KEY: world.sim.credentials.appKey,
    OVH_APP_SECRET: world.sim.credentials.appSecret,
    OVH_CONSUMER_KEY: world.sim.credentials.consumerKey,
    OVH_CA_FILE: join(world.dir, 'ca.pem'),
    NASHA_CONFIG: join(world.dir, 'nasha.yml'),
    ...extra,
  };
}
