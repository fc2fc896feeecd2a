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
import { type Lang, langOfLocale } from '../shared/language.js';
import { createLogger } from '../shared/logger.js';
import { type MessageKey, type MessageValues, t } from '../slack/i18n/translate.js';
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
  const lang = consoleLang(workspace);
  const say = (key: MessageKey, values?: MessageValues) => plain(t(lang, key, values), { lang });
  const width = Math.max(...workspace.users.map((u) => u.name.length));
  const channel = (id: string, fallback: string) => `#${workspace.channels.find((c) => c.id === id)?.name ?? fallback}`;
  const alerts = '#alerts';
  // The commands are the bot's grammar, the same in every language; only what is said about them is translated.
  const tries: ReadonlyArray<readonly [string, string | undefined]> = [
    ['/nasha snapshot help', undefined],
    ['/nasha snapshot list zpool-128310/data', undefined],
    ['/nasha snapshot create zpool-128310/data before-upgrade --expires 7d', undefined],
    ['/nasha snapshot delete zpool-128310/data/before-upgrade', say('sandbox.banner.tryDelete', { as: '/as bob' })],
    ['/nasha snapshot', say('sandbox.banner.tryForm')],
    ['/nasha snapshot status', say('sandbox.banner.tryStatus', { alerts })],
    ['/nasha snapshot restore zpool-128310/data --at 2h', undefined],
  ];
  const commandWidth = Math.max(...tries.filter(([, note]) => note !== undefined).map(([command]) => command.length));
  const kept = options.kept === undefined ? 'no' : 'yes';
  const parts: ReadonlyArray<readonly [string, string]> = [
    [say('sandbox.banner.labelSlack'), say('sandbox.banner.slack', { url: options.slackUrl })],
    [say('sandbox.banner.labelOvh'), say('sandbox.banner.ovh', { url: options.sim.baseUrl })],
    [say('sandbox.banner.labelBot'), say('sandbox.banner.bot', { url: options.botUrl })],
    [say('sandbox.banner.labelData'), say('sandbox.banner.data', { dir: options.dataDir, kept })],
    [say('sandbox.banner.labelLogs'), say('sandbox.banner.logs', { file: options.logFile })],
  ];
  const labelWidth = Math.max(...parts.map(([label]) => label.length));
  return [
    '',
    say('sandbox.banner.head'),
    ...parts.map(([label, what]) => `  ${label.padEnd(labelWidth)}  ${what}`),
    '',
    say('sandbox.banner.people', { command: '/as <name>' }),
    ...workspace.users.map((u) => `  ${u.name.padEnd(width)}  ${say(u.role)}`),
    say('sandbox.banner.channels', {
      channels: workspace.channels.map((c) => `#${c.name}`).join(', '),
      command: '/in <channel>',
      audit: channel(workspace.auditChannel, 'audit'),
      approvals: channel(workspace.approvalsChannel, 'approvals'),
      alerts,
    }),
    '',
    say('sandbox.banner.try'),
    ...tries.map(([command, note]) =>
      note === undefined ? `  ${command}` : `  ${command.padEnd(commandWidth)}   (${note})`,
    ),
    say('sandbox.banner.tail'),
    '',
    '',
  ].join('\n');
}

/** The console's first user (alice) reads the banner: in their Slack language. */
function consoleLang(workspace: SandboxWorkspace): Lang {
  return langOfLocale(workspace.users.find((u) => u.name === 'alice')?.locale, 'en');
}

/** `npm start` without credentials. Resolves with the process exit status. */
export async function runSandboxCli(env: Env): Promise<number> {
  const lang = consoleLang(SANDBOX_WORKSPACE);
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
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${plain(t(lang, 'sandbox.couldNotStart', { error: reason }), { lang })}\n`);
    return 1;
  }
  const stopOnSignal = () => sandbox.console.close();
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  const status = await sandbox.console.run();
  process.stdout.write(`${plain(t(lang, 'sandbox.stopping'), { lang })}\n`);
  await sandbox.stop();
  process.stdout.write(`${plain(t(lang, 'sandbox.stopped'), { lang })}\n`);
  return status;
}
