import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/ovh/simulator/index.js';
import { BOT_TOKEN, SIGNING_SECRET } from './bot-harness.js';
import { FakeSlack } from './fake-slack.js';
import { buttonClick } from './slack-payloads.js';
import { interactivityBody, postSigned, type SignedResponse, slashCommandBody } from './slack-requests.js';

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

/** What bot processes of one test file talk to: a fake Slack, the simulator, and their config directory. */
export interface BotProcessWorld {
  readonly slack: FakeSlack;
  readonly sim: Simulator;
  readonly dir: string;
  /** The environment of a bot process in this world (plus `extra`: the store). */
  env(extra?: Record<string, string>): Record<string, string>;
}

/**
 * Starts a fake Slack (with `groups`), the simulator and a directory holding `config` as nasha.yml and the
 * simulator's CA before the file's tests, and stops them after.
 */
export function useBotProcessWorld(
  config: string,
  options: { sim?: SimulatorOptions; groups?: Record<string, string[]>; prefix?: string } = {},
): BotProcessWorld {
  let slack: FakeSlack | undefined;
  let sim: Simulator | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    slack = new FakeSlack();
    await slack.start();
    for (const [group, members] of Object.entries(options.groups ?? {})) slack.groups.set(group, members);
    sim = await startSimulator(options.sim);
    dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'nasha-processes-'));
    writeFileSync(join(dir, 'nasha.yml'), config);
    writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
  });
  afterAll(async () => {
    await sim?.close();
    await slack?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the bot process world is used before its beforeAll ran');
    return value;
  };
  return {
    get slack() {
      return started(slack);
    },
    get sim() {
      return started(sim);
    },
    get dir() {
      return started(dir);
    },
    env(extra = {}) {
      return botProcessEnv({ slackApiUrl: started(slack).apiUrl, sim: started(sim), dir: started(dir) }, extra);
    },
  };
}

/** A signed click on a message button, sent to a bot's `/slack/events`. */
export function clickButton(url: string, click: Parameters<typeof buttonClick>[0]): Promise<SignedResponse> {
  return postSigned(url, SIGNING_SECRET, interactivityBody(buttonClick(click)));
}

/** A signed `/nasha` command, sent to a bot's `/slack/events`. */
export function sendCommand(url: string, command: Parameters<typeof slashCommandBody>[0]): Promise<SignedResponse> {
  return postSigned(url, SIGNING_SECRET, slashCommandBody(command));
}
