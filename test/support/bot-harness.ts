import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type BotOverrides, type RunningBot, startBot } from '../../src/compose.js';
import type { AppEnv } from '../../src/config/env.js';
import type { OvhClientTuning } from '../../src/ovh/config.js';
import {
  type Simulator,
  type SimulatorOptions,
  simulatorServiceAccountConnection,
  startSimulator,
} from '../../src/ovh/simulator/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { FakeSlack, type RecordedCall } from './fake-slack.js';
import { simulatorConfig } from './ovh-harness.js';
import {
  interactivityBody,
  newTriggerId,
  postSigned,
  type SignedResponse,
  slashCommandBody,
} from './slack-requests.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const BOT_TOKEN = 'xoxb-test-bot-token-0123456789';
export const AUDIT_CHANNEL = 'C0AUDIT';

/** Users of the test config, by role. */
export const USERS = {
  admin: 'U0ADMIN',
  approver: 'U0APPROVER',
  operator: 'U0OPER', // operator through the S0SRE user group
  viewer: 'U0VIEW',
  scoped: 'U0SCOPED', // operator on zpool-204117 only
  approver2: 'U0APPROVER2',
  scopedApprover: 'U0APPRSCOPE', // approver on zpool-204117 only
  responder: 'U0RESPOND', // no grant, but in the incident responders group
  nobody: 'U0NOBODY',
} as const;

export const CHANNELS = { ops: 'C0OPS', general: 'C0GENERAL', incident: 'C0INCIDENT' } as const;

export const APPROVALS_CHANNEL = 'C0APPROVALS';

/** Grants shared by the test configurations. */
const TEST_GRANTS = `grants:
  - role: admin
    users: [${USERS.admin}]
    scope: ["*"]
  - role: approver
    users: [${USERS.approver}, ${USERS.approver2}]
    scope: ["*"]
  - role: approver
    users: [${USERS.scopedApprover}]
    scope: ["zpool-204117/*"]
  - role: operator
    groups: [S0SRE]
    scope: ["*"]
  - role: viewer
    users: [${USERS.viewer}]
    scope: ["*"]
  - role: operator
    users: [${USERS.scoped}]
    scope: ["zpool-204117/*"]
channels:
  - id: ${CHANNELS.general}
    max_role: viewer
target_groups:
  payments: ["zpool-128310/data", "zpool-204117/db"]
quick_snapshot:
  default_expiration: 7d
  responder_groups: [S0RESP]
`;

/** Approvals on (the defaults: delete and schedule remove need one approver). */
export const TEST_CONFIG = `
version: 1
audit:
  channel: ${AUDIT_CHANNEL}
approvals:
  channel: ${APPROVALS_CHANNEL}
${TEST_GRANTS}`;

/** Approvals off: destructive changes run directly for admins (as before approvals existed). */
export const TEST_CONFIG_NO_APPROVALS = `
version: 1
audit:
  channel: ${AUDIT_CHANNEL}
approvals:
  rules:
    snapshot.delete: { required: false }
    schedule.remove: { required: false }
${TEST_GRANTS}`;

export interface BotHarness {
  slack: FakeSlack;
  sim: Simulator;
  clock: ManualClock;
  bot: RunningBot;
  url: string;
  dataDir: string;
  logLines: string[];
  env: AppEnv;
  /** Sends `/nasha <text>` signed as Slack does; returns the ack, the id of its response_url and its trigger_id. */
  command(
    text: string,
    options?: { user?: string; channel?: string },
  ): Promise<{ ack: SignedResponse; id: string; triggerId: string }>;
  /** Sends an interactivity payload (block_actions, view_submission, block_suggestion). */
  interact(payload: object): Promise<SignedResponse>;
  /** Waits until the reply of a command satisfies `predicate`; returns all replies so far. */
  replies(id: string, predicate: (texts: string[]) => boolean): Promise<string[]>;
  auditMessages(): RecordedCall[];
  restart(overrides?: BotOverrides): Promise<void>;
  /**
   * Another replica: the same composition root on the same environment (store, Slack, simulator) and clock,
   * with the harness's overrides plus `overrides`; stopped by close().
   */
  replica(overrides?: BotOverrides): Promise<RunningBot>;
  close(): Promise<void>;
}

export interface BotHarnessOptions {
  config?: string;
  /** false: virtual time moves only through harness.clock.advance() (tests of expiry). */
  autoAdvance?: boolean;
  sim?: SimulatorOptions;
  overrides?: BotOverrides;
  /** How the bot authenticates to OVH: the simulator's application key (default) or its sandbox service account. */
  ovhAuth?: 'application-key' | 'service-account';
  /** Settings of the environment to add or replace (e.g. NASHA_AUDIT_WEBHOOK_SECRET as `auditWebhookSecret`). */
  env?: Partial<AppEnv>;
  /** The OVH client's budget and timeouts (default: fast enough never to wait). */
  ovhTuning?: Partial<OvhClientTuning>;
}

/**
 * The real bot (Bolt HTTP receiver on loopback, real composition root) with a fake Slack Web API
 * and the NAS-HA simulator behind node-ovh. One ManualClock (auto-advancing) drives the bot and
 * the simulator's tasks, so task polling and audit pacing run in virtual time.
 */
export async function startBotHarness(options: BotHarnessOptions = {}): Promise<BotHarness> {
  const slack = new FakeSlack();
  await slack.start();
  slack.groups.set('S0SRE', [USERS.operator]);
  slack.groups.set('S0RESP', [USERS.responder]);
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0), { autoAdvance: options.autoAdvance ?? true });
  const sim = await startSimulator({ clock, ...options.sim });
  const dir = mkdtempSync(join(tmpdir(), 'nasha-e2e-'));
  writeFileSync(join(dir, 'nasha.yml'), options.config ?? TEST_CONFIG);
  const logLines: string[] = [];
  const base = { ...testEnv({ slack, sim, dir, logLevel: 'debug' }), ovh: simulatorConfig(sim, options.ovhTuning) };
  const env: AppEnv = {
    ...(options.ovhAuth === 'service-account'
      ? { ...base, ovh: { ...base.ovh, connection: simulatorServiceAccountConnection(sim) } }
      : base),
    ...options.env,
  };
  const baseOverrides = (extra: BotOverrides = {}): BotOverrides => ({
    clock,
    logger: createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, callback) {
          logLines.push(String(chunk));
          callback();
        },
      }),
    }),
    botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
    slackRetries: 0,
    outbox: { idlePollMs: Number.POSITIVE_INFINITY },
    // With an auto-advancing clock, a timed background loop would fast-forward time for everyone.
    ...(options.autoAdvance !== false && { approvalSweepMs: Number.POSITIVE_INFINITY }),
    // Tests run protection's scans and plan passes themselves (bot.protection).
    protectionLoops: false,
    ...options.overrides,
    ...extra,
  });
  let bot = await startBot(env, baseOverrides());
  const replicas: RunningBot[] = [];
  const harness: BotHarness = {
    slack,
    sim,
    clock,
    get bot() {
      return bot;
    },
    get url() {
      return `http://127.0.0.1:${bot.port}/slack/events`;
    },
    dataDir: env.dataDir,
    logLines,
    env,
    async command(text, { user = USERS.admin, channel = CHANNELS.ops } = {}) {
      const id = randomUUID();
      const triggerId = newTriggerId();
      const body = slashCommandBody({
        text,
        user_id: user,
        channel_id: channel,
        response_url: slack.responseUrl(id),
        trigger_id: triggerId,
      });
      const ack = await postSigned(harness.url, SIGNING_SECRET, body);
      return { ack, id, triggerId };
    },
    interact: (payload) => postSigned(harness.url, SIGNING_SECRET, interactivityBody(payload)),
    async replies(id, predicate) {
      const texts = () => slack.replies(id).map((r) => String(r['text'] ?? ''));
      await slack.waitFor(() => predicate(texts()), `a reply on ${id} (so far: ${JSON.stringify(texts())})`);
      return texts();
    },
    auditMessages: () =>
      slack.calls.filter(
        (c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args['channel'] === AUDIT_CHANNEL,
      ),
    async restart(extra) {
      await bot.stop();
      bot = await startBot(env, baseOverrides(extra));
    },
    async replica(extra) {
      const replica = await startBot(env, baseOverrides(extra));
      replicas.push(replica);
      return replica;
    },
    async close() {
      await Promise.all(replicas.splice(0).map((replica) => replica.stop()));
      await bot.stop();
      await sim.close();
      await slack.stop();
      // Every end-to-end test doubles as a leak check: known secrets never reach a log line or Slack.
      assertNoSecretLeak(env, logLines, slack);
    },
  };
  return harness;
}

/**
 * The bot's environment for a test: the fake Slack, the simulator (trusted through its CA for that
 * endpoint only), and `<dir>/nasha.yml`, `<dir>/data`. HTTP mode unless an app token is given.
 */
export function testEnv(options: {
  slack: FakeSlack;
  sim: Simulator;
  dir: string;
  appToken?: string;
  logLevel?: string;
  healthPort?: number;
}): AppEnv {
  return {
    slack: {
      mode: options.appToken === undefined ? 'http' : 'socket',
      botToken: BOT_TOKEN,
      signingSecret: options.appToken === undefined ? SIGNING_SECRET : undefined,
      appToken: options.appToken,
      apiUrl: options.slack.apiUrl,
    },
    ovh: simulatorConfig(options.sim),
    port: 0,
    healthPort: options.healthPort ?? 0,
    host: '127.0.0.1',
    configPath: join(options.dir, 'nasha.yml'),
    dataDir: join(options.dir, 'data'),
    databaseUrl: undefined,
    logLevel: options.logLevel ?? 'silent',
  };
}

/** Throws if any secret of `env` appears in a log line or in what the bot sent to Slack. */
export function assertNoSecretLeak(env: AppEnv, logLines: readonly string[], slack: FakeSlack): void {
  const secrets = [
    env.slack.botToken,
    env.slack.signingSecret,
    env.slack.appToken,
    env.ovh.connection.appSecret,
    env.ovh.connection.consumerKey,
    env.ovh.connection.oauth2?.clientSecret,
    env.auditWebhookSecret,
  ].filter((s): s is string => s !== undefined && s.length >= 8);
  // The token legitimately authenticates each Web API call; everything else the bot *says* is checked.
  const said = JSON.stringify(slack.calls.map(({ args: { token: _token, ...rest } }) => rest));
  const logs = logLines.join('');
  for (const secret of secrets) {
    if (logs.includes(secret)) throw new Error("a secret appeared in the bot's logs");
    if (said.includes(secret)) throw new Error('a secret appeared in a message sent to Slack');
  }
}

/** Every text of a message (fallback + blocks), for assertions. */
export function messageText(message: Record<string, unknown>): string {
  return `${String(message['text'] ?? '')}\n${JSON.stringify(message['blocks'] ?? [])}`;
}
