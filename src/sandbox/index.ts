import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type BotOverrides, type RunningBot, startBot } from '../compose.js';
import type { AppEnv, Env } from '../config/env.js';
import { type Simulator, type SimulatorOptions, simulatorConnection, startSimulator } from '../ovh/simulator/index.js';
import { createLogger } from '../shared/logger.js';
import { t } from '../slack/i18n/translate.js';
import { plain } from '../slack/text.js';
import { SandboxConsole, type Shortcut } from './console.js';
import { LocalSlackApi } from './slack-api.js';
import { SANDBOX_WORKSPACE, type SandboxWorkspace } from './workspace.js';

/**
 * `npm start` with no credentials: the NAS-HA simulator, a local Slack Web API, the real bot (the
 * same composition root, HTTP mode on loopback) and a terminal console that talks to it as Slack
 * does. Nothing leaves the machine; everything starts fresh each time.
 */

export interface SandboxOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal: boolean;
  color: boolean;
  /** NASHA_DATA_DIR (keep the database between runs) and LOG_LEVEL are honoured; the rest is ignored. */
  env?: Env;
  /** Tests: a virtual clock and quicker tuning. */
  overrides?: BotOverrides;
  simulator?: SimulatorOptions;
  /** How long `/wait` waits. */
  waitTimeoutMs?: number;
}

export interface Sandbox {
  console: SandboxConsole;
  bot: RunningBot;
  sim: Simulator;
  slack: LocalSlackApi;
  workDir: string;
  logFile: string;
  /** Stops everything and deletes the temporary directory. */
  stop(): Promise<void>;
}

const SandboxEnvSchema = z.object({
  NASHA_DATA_DIR: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : resolve(v.trim()))),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .optional()
    .catch('info'),
});

/** The sandbox's tasks take seconds, not minutes: long enough to see progress, short enough to try. */
const SANDBOX_TASK_TIMINGS = { doingAfterMs: 1_000, doneAfterMs: 2_500 };

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const settings = SandboxEnvSchema.parse(options.env ?? {});
  const workspace: SandboxWorkspace = SANDBOX_WORKSPACE;
  const workDir = mkdtempSync(join(tmpdir(), 'nasha-sandbox-'));
  const configPath = join(workDir, 'nasha.yml');
  writeFileSync(configPath, workspace.config);
  const logFile = join(workDir, 'bot.log');
  const logFileStream = createWriteStream(logFile, { flags: 'a' });
  let logging = true;
  // Work the bot had in flight may still log after it stopped: those lines are dropped, not an error.
  const logStream = new Writable({
    write(chunk, _encoding, callback) {
      if (logging) logFileStream.write(chunk, () => callback());
      else callback();
    },
  });
  const cleanups: Array<() => Promise<void>> = [
    () => rm(workDir, { recursive: true, force: true }),
    () =>
      new Promise<void>((done) => {
        logging = false;
        logFileStream.end(() => done());
      }),
  ];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };

  try {
    // Fresh secrets each run: the local Slack checks the bot token, the bot checks the signatures.
    const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
    const signingSecret = randomBytes(24).toString('hex');
    const identity = { botId: 'BNASHA', botUserId: 'UNASHABOT', teamId: 'T1' };
    const slack = new LocalSlackApi({ botToken, identity, unknownMethods: 'error' });
    await slack.start();
    cleanups.push(() => slack.stop());
    for (const group of workspace.groups) slack.groups.set(group.id, [...group.members]);
    for (const user of workspace.users) {
      slack.users.set(user.id, {
        name: user.name,
        ...(user.locale !== undefined && { locale: user.locale }),
        ...(user.tz !== undefined && { tz: user.tz }),
      });
    }

    const clock = options.overrides?.clock;
    const sim = await startSimulator({
      taskTimings: SANDBOX_TASK_TIMINGS,
      ...(clock !== undefined && { clock }),
      ...options.simulator,
    });
    cleanups.push(() => sim.close());

    const env: AppEnv = {
      slack: { mode: 'http', botToken, signingSecret, appToken: undefined, apiUrl: slack.apiUrl },
      ovh: {
        // The simulator's own CA is trusted for its endpoint only, as OVH_CA_FILE would be.
        connection: simulatorConnection(sim),
        tuning: { timeoutMs: 15_000, requestsPerMinute: 600, burst: 60, maxRetries: 3 },
      },
      port: 0,
      host: '127.0.0.1',
      configPath,
      dataDir: settings.NASHA_DATA_DIR ?? join(workDir, 'data'),
      databaseUrl: undefined,
      logLevel: settings.LOG_LEVEL ?? 'info',
    };
    const logger = createLogger({ level: env.logLevel, destination: logStream });
    const bot = await startBot(env, {
      logger,
      botIdentity: { botId: identity.botId, botUserId: identity.botUserId },
      ...options.overrides,
    });
    cleanups.push(() => bot.stop());
    const botUrl = `http://127.0.0.1:${bot.port}/slack/events`;

    options.output.write(
      banner({
        workspace,
        slackUrl: slack.baseUrl,
        sim,
        botUrl,
        dataDir: env.dataDir,
        kept: settings.NASHA_DATA_DIR,
        logFile,
      }),
    );
    const chat = new SandboxConsole({
      input: options.input,
      output: options.output,
      terminal: options.terminal,
      color: options.color,
      botUrl,
      signingSecret,
      slack,
      workspace,
      user: 'alice',
      channel: 'ops',
      logFile,
      botUserId: identity.botUserId,
      shortcuts: loadShortcuts(MANIFEST),
      ...(options.waitTimeoutMs !== undefined && { waitTimeoutMs: options.waitTimeoutMs }),
    });
    cleanups.push(async () => chat.close());
    return { console: chat, bot, sim, slack, workDir, logFile, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The Slack app manifest at the root of the repository: the shortcuts Slack would offer. */
const MANIFEST = new URL('../../manifest.yml', import.meta.url);

const ManifestSchema = z.object({
  features: z
    .object({
      shortcuts: z
        .array(
          z.object({
            name: z.string(),
            type: z.enum(['message', 'global']),
            callback_id: z.string(),
            description: z.string().default(''),
          }),
        )
        .default([]),
    })
    .optional(),
});

export function loadShortcuts(manifest: URL): Shortcut[] {
  try {
    const parsed = ManifestSchema.safeParse(parseYaml(readFileSync(manifest, 'utf8')));
    if (!parsed.success) return [];
    return (parsed.data.features?.shortcuts ?? []).map((s) => ({
      name: s.name,
      type: s.type,
      callbackId: s.callback_id,
      description: s.description,
    }));
  } catch {
    // No manifest next to the code (an unusual install): the console simply offers no shortcuts.
    return [];
  }
}

function banner(options: {
  workspace: SandboxWorkspace;
  slackUrl: string;
  sim: Simulator;
  botUrl: string;
  dataDir: string;
  kept: string | undefined;
  logFile: string;
}): string {
  const { workspace } = options;
  const width = Math.max(...workspace.users.map((u) => u.name.length));
  const channel = (id: string) => workspace.channels.find((c) => c.id === id);
  return `
nasha-bot SANDBOX — no Slack or OVH credentials are set, so nothing real is touched.
  Slack  a local stand-in for Slack's Web API at ${options.slackUrl}
  OVH    the NAS-HA simulator at ${options.sim.baseUrl} (fake services, reset at every start)
  Bot    the real bot, in HTTP mode at ${options.botUrl}
  Data   ${options.dataDir} (${options.kept === undefined ? 'deleted on exit' : 'NASHA_DATA_DIR: kept'})
  Logs   ${options.logFile} (/logs shows the last lines; deleted on exit)

People (switch with /as <name>):
${workspace.users.map((u) => `  ${u.name.padEnd(width)}  ${plain(t('en', u.role))}`).join('\n')}
Channels: ${workspace.channels.map((c) => `#${c.name}`).join(', ')} (/in <channel> to move; /channels). The bot posts
to #${channel(workspace.auditChannel)?.name ?? 'audit'}, #${channel(workspace.approvalsChannel)?.name ?? 'approvals'} and #alerts (protection); those lines start with their name.

Try:
  /nasha snapshot help
  /nasha snapshot list zpool-128310/data
  /nasha snapshot create zpool-128310/data before-upgrade --expires 7d
  /nasha snapshot delete zpool-128310/data/before-upgrade   (asks why, then /as bob and press Approve)
  /nasha snapshot                                           (the form: service → partition → action)
  /nasha snapshot status                                    (the production policy: one partition drifts, see #alerts)
  /nasha snapshot restore zpool-128310/data --at 2h
/help lists the console's commands; /quit stops. For the real thing: README.md, "From the sandbox to production".

`;
}

/** `npm start` without credentials. Resolves with the process exit status. */
export async function runSandboxCli(env: Env): Promise<number> {
  const stdin = process.stdin;
  const terminal = stdin.isTTY === true && process.stdout.isTTY === true;
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      input: stdin,
      output: process.stdout,
      terminal,
      color: terminal && (env['NO_COLOR'] ?? '') === '',
      env,
    });
  } catch (error) {
    process.stderr.write(`The sandbox could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const stopOnSignal = () => sandbox.console.close();
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  const status = await sandbox.console.run();
  process.stdout.write('Stopping the sandbox…\n');
  await sandbox.stop();
  process.stdout.write('Stopped.\n');
  return status;
}
