/**
 * Entry point of the benchmark's child processes (see ipc.ts): `node bench/.build/bench/child.js world|bot|bare`,
 * compiled by tsc first, as the bot runs in production.
 * Each role imports only what it runs, so the bare app's startup and memory are Bolt's alone.
 */
import type { ChildMessage } from './ipc-schemas.js';

/** Since the process started: Node's boot and this module's loading. */
const bootMs = performance.now();
let imported = bootMs;
/** Marks the end of a role's module loading. */
const loaded = () => {
  imported = performance.now();
};
const ready = (port: number, world?: Extract<ChildMessage, { type: 'ready' }>['world']) =>
  send({
    type: 'ready',
    port,
    ...(world && { world }),
    phases: { bootMs, importMs: imported - bootMs, startMs: performance.now() - imported },
  });

/** The bot's identity is known, so neither app calls auth.test at startup. */
const IDENTITY = { botId: 'BBOT', botUserId: 'UBOT' };

/**
 * The OVH budget the bot gets in the ack and footprint scenarios: effectively unlimited, so the work
 * after each ack (the OVH calls of `snapshot list`) runs at CPU speed and competes with the acks, instead
 * of queueing for hours behind 60 requests/min.
 */
const UNLIMITED_BUDGET = { timeoutMs: 15_000, requestsPerMinute: 6_000_000, burst: 1_000_000, maxRetries: 3 };

/** `BENCH_SLACK_MODE=socket`: the bot and the bare app take Slack's requests over Socket Mode (scenario 8). */
const socketMode = process.env['BENCH_SLACK_MODE'] === 'socket';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

function send(message: ChildMessage): void {
  process.send?.(message);
}

let replies = 0;
let ovhRequests = 0;
/** A `count` asked for more replies than have arrived: answered when they have. */
let awaitedReplies: number | undefined;

function answerCount(): void {
  if (awaitedReplies !== undefined && replies < awaitedReplies) return;
  awaitedReplies = undefined;
  send({ type: 'count', replies, ovhRequests });
}

/** The parent's messages (ipc.ts ParentMessage), checked by hand: the bare app must not load zod. */
process.on('message', (raw: unknown) => {
  if (typeof raw !== 'object' || raw === null || !('type' in raw)) throw new Error('malformed bench message');
  if (raw.type === 'count') {
    awaitedReplies = 'replies' in raw && typeof raw.replies === 'number' ? raw.replies : undefined;
    answerCount();
    return;
  }
  if ('gc' in raw && raw.gc === true) {
    // Twice: the first pass may only queue finalizers.
    globalThis.gc?.();
    globalThis.gc?.();
  }
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  send({ type: 'stats', rss: memory.rss, heapUsed: memory.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 });
});

async function world(): Promise<void> {
  const [{ FakeSlack }, { startSimulator }, { simulatorConfig }, { USERS }] = await Promise.all([
    import('../test/support/fake-slack.js'),
    import('../src/ovh/simulator/index.js'),
    import('../test/support/ovh-harness.js'),
    import('../test/support/bot-harness.js'),
  ]);
  loaded();
  const slack = new FakeSlack();
  await slack.start();
  slack.groups.set('S0SRE', [USERS.operator]);
  slack.groups.set('S0RESP', [USERS.responder]);
  slack.subscribe((call) => {
    if (call.method === 'response_url') {
      replies++;
      if (awaitedReplies !== undefined) answerCount();
    }
    // Nobody reads the recordings here: keep the world's memory flat over 10,000 commands.
    if (slack.calls.length > 1_000) slack.calls.length = 0;
  });
  const sim = await startSimulator({
    onRequest: () => {
      ovhRequests++;
      if (sim.requests.length > 1_000) sim.clearRequests();
    },
  });
  const ovh = simulatorConfig(sim, UNLIMITED_BUDGET);
  ready(sim.port, {
    slackApiUrl: slack.apiUrl,
    responseUrlBase: slack.responseUrl(''),
    ovh: { ...ovh, connection: { ...ovh.connection, caPem: sim.caCertPem } },
  });
}

async function bot(): Promise<void> {
  const [fs, os, path, { startBot }, { WorldInfoSchema }] = await Promise.all([
    import('node:fs'),
    import('node:os'),
    import('node:path'),
    import('../src/compose.js'),
    import('./ipc-schemas.js'),
  ]);
  loaded();
  const info = WorldInfoSchema.parse(JSON.parse(env('BENCH_WORLD')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasha-bench-'));
  fs.writeFileSync(path.join(dir, 'nasha.yml'), env('BENCH_BOT_CONFIG'));
  const running = await startBot(
    {
      slack: socketMode
        ? {
            mode: 'socket',
            botToken: env('BENCH_BOT_TOKEN'),
            signingSecret: undefined,
            appToken: env('BENCH_APP_TOKEN'),
            apiUrl: env('BENCH_SLACK_API_URL'),
          }
        : {
            mode: 'http',
            botToken: env('BENCH_BOT_TOKEN'),
            signingSecret: env('BENCH_SIGNING_SECRET'),
            appToken: undefined,
            apiUrl: info.slackApiUrl,
          },
      ovh: info.ovh,
      port: 0,
      healthPort: 0,
      host: '127.0.0.1',
      configPath: path.join(dir, 'nasha.yml'),
      dataDir: path.join(dir, 'data'),
      databaseUrl: undefined,
      logLevel: 'info',
    },
    { botIdentity: IDENTITY },
  );
  process.on('SIGTERM', () => {
    void running.stop().finally(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  ready(running.port ?? 0);
}

/** The framework floor: same receiver, same app options, a command handler that only acks. */
async function bare(): Promise<void> {
  const { App, HTTPReceiver, LogLevel, SocketModeReceiver } = await import('@slack/bolt');
  loaded();
  if (socketMode) {
    await bareSocket(App, SocketModeReceiver, LogLevel.ERROR);
    return;
  }
  const app = new App({
    token: env('BENCH_BOT_TOKEN'),
    ...IDENTITY,
    convoStore: false,
    logLevel: LogLevel.ERROR,
    receiver: new HTTPReceiver({
      signingSecret: env('BENCH_SIGNING_SECRET'),
      logLevel: LogLevel.ERROR,
      // The bot's receiver serves GET /healthz too; custom routes are matched on every request.
      customRoutes: [{ path: '/healthz', method: ['GET'], handler: (_req, res) => res.end('{"ok":true}') }],
    }),
  });
  app.command('/nasha', async ({ ack }) => {
    await ack();
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const address = 'address' in server ? server.address() : null;
  ready(typeof address === 'object' && address !== null ? address.port : 0);
}

/** The bare app over Socket Mode: the receiver options the bot sets that change what an envelope costs. */
async function bareSocket(
  App: typeof import('@slack/bolt').App,
  SocketModeReceiver: typeof import('@slack/bolt').SocketModeReceiver,
  logLevel: import('@slack/bolt').LogLevel,
): Promise<void> {
  const slackApiUrl = env('BENCH_SLACK_API_URL');
  const receiver = new SocketModeReceiver({
    appToken: env('BENCH_APP_TOKEN'),
    logLevel,
    customRoutes: [{ path: '/healthz', method: ['GET'], handler: (_req, res) => res.end('{"ok":true}') }],
    installerOptions: { port: 0, clientOptions: { slackApiUrl } },
  });
  const app = new App({
    token: env('BENCH_BOT_TOKEN'),
    ...IDENTITY,
    convoStore: false,
    logLevel,
    clientOptions: { slackApiUrl },
    receiver,
  });
  app.command('/nasha', async ({ ack }) => {
    await ack();
  });
  await app.start();
  ready(0);
}

// A clean exit on SIGTERM, so --cpu-prof can write its profile (the bot installs its own handler).
process.on('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 1) process.exit(0);
});

const roles = { world, bot, bare } as const;
const role = process.argv[2];
if (role !== 'world' && role !== 'bot' && role !== 'bare') throw new Error(`unknown bench role ${role}`);
await roles[role]();
