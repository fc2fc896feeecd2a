import { pathToFileURL } from 'node:url';
import { webApi } from '@slack/bolt';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { loadBotConfig } from './config/bot-config.js';
import { type AppEnv, parseAppEnv } from './config/env.js';
import { incompleteCredentialsMessage, selectRunMode } from './config/mode.js';
import { ApprovalService } from './core/approvals.js';
import { AuditOutbox, AuditTrail } from './core/audit.js';
import { CachedGroupDirectory } from './core/groups.js';
import { Policy } from './core/policy.js';
import { QuickSnapshotService } from './core/quick-snapshots.js';
import { SnapshotService } from './core/snapshot-service.js';
import { type CheckResult, opsRoutes, Readiness } from './ops/health.js';
import { BotMetrics } from './ops/metrics.js';
import { createNashaApi } from './ovh/index.js';
import type { TaskTrackerOptions } from './ovh/task-tracker.js';
import { type Clock, systemClock } from './shared/clock.js';
import { ConfigError } from './shared/config-error.js';
import { createBoltLogger, createLogger } from './shared/logger.js';
import { createSlackApp } from './slack/app.js';
import { createSlackApprovalCards } from './slack/approval-cards.js';
import { createSlackAuditPublisher } from './slack/audit-publisher.js';
import { createGroupMemberFetcher } from './slack/group-members.js';
import { createMetadataCodec } from './slack/metadata.js';
import { createQuickResumeReporter } from './slack/quick-runner.js';
import { createResumeReporter } from './slack/resume-reply.js';
import { ApprovalStore } from './store/approval-store.js';
import { AuditStore } from './store/audit-store.js';
import { openDatabase } from './store/database.js';
import { DeliveryStore } from './store/delivery-store.js';
import { QuickStore } from './store/quick-store.js';
import { TaskJournal } from './store/task-journal.js';

/** What tests and the sandbox may replace; production uses the defaults. */
export interface BotOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Known bot identity: skips auth.test (tests and the sandbox). */
  botIdentity?: { botId: string; botUserId: string };
  /** Slack WebClient retries (tests: none). */
  slackRetries?: number;
  tracker?: Omit<TaskTrackerOptions, 'client' | 'clock' | 'logger'>;
  /** Outbox tuning for tests (pacing, idle polling). */
  outbox?: { minIntervalPerChannelMs?: number; retryBaseMs?: number; idlePollMs?: number };
  /** How often the approvals sweeper looks even with nothing due. */
  approvalSweepMs?: number;
  /** Socket Mode heartbeat timeout (tests use a short one). */
  socketPingTimeoutMs?: number;
}

export interface RunningBot {
  /** Bound HTTP port (HTTP mode). */
  port: number | undefined;
  service: SnapshotService;
  approvals: ApprovalService;
  outbox: AuditOutbox;
  readiness: Readiness;
  metrics: BotMetrics;
  /** Stops taking requests, flushes the audit outbox (bounded), closes everything. */
  stop(): Promise<void>;
}

/**
 * The composition root: config → logger → store → OVH client → core → Slack app. Nothing else
 * reads the environment; everything below gets its dependencies as parameters.
 */
export async function startBot(env: AppEnv, overrides: BotOverrides = {}): Promise<RunningBot> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger({ level: env.logLevel });
  const config = loadBotConfig(env.configPath);
  for (const warning of config.warnings) logger.warn({ config: env.configPath }, warning);

  const database = await openDatabase(
    env.databaseUrl !== undefined ? { databaseUrl: env.databaseUrl } : { dataDir: env.dataDir },
    logger,
  );
  const metrics = new BotMetrics();
  const api = createNashaApi({
    config: env.ovh,
    clock,
    logger: logger.child({ component: 'ovh' }),
    onAttempt: (event) => metrics.ovhAttempt(event),
    ...(overrides.tracker && { tracker: overrides.tracker }),
  });

  // The bot's own Web API client for audit posts and group lookups: rate limits are reported, not
  // waited out, so the outbox and the group cache stay in control of retries.
  const web = new webApi.WebClient(env.slack.botToken, {
    ...(env.slack.apiUrl !== undefined && { slackApiUrl: env.slack.apiUrl }),
    logger: createBoltLogger(logger.child({ component: 'slack-web' })),
    rejectRateLimitedCalls: true,
    // Well under the outbox lease (30 s), so a slow Slack call cannot outlive its claim.
    timeout: 10_000,
    retryConfig: { retries: overrides.slackRetries ?? 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
  });
  const groups = new CachedGroupDirectory(createGroupMemberFetcher(web), {
    clock,
    logger: logger.child({ component: 'groups' }),
  });
  const policy = new Policy(config.access, groups);
  const auditRepo = new AuditStore(database.db);
  const outbox = new AuditOutbox({
    repo: auditRepo,
    publisher: createSlackAuditPublisher(web),
    clock,
    logger: logger.child({ component: 'audit' }),
    ...overrides.outbox,
  });
  const audit = new AuditTrail({ repo: auditRepo, clock, auditChannel: config.audit.channel, outbox });
  const journal = new TaskJournal({ db: database.db, clock });
  const service = new SnapshotService({
    client: api.client,
    tracker: api.tracker,
    policy,
    audit,
    journal,
    clock,
    logger,
    approvalRequired: (action) => config.approvals.rules[action].required,
  });
  const approvalRepo = new ApprovalStore(database.db);
  const approvals = new ApprovalService({
    repo: approvalRepo,
    service,
    policy,
    audit,
    cards: createSlackApprovalCards(web),
    rules: config.approvals.rules,
    configVersion: config.configVersion,
    approvalsChannel: config.approvals.channel,
    clock,
    logger: logger.child({ component: 'approvals' }),
    ...(overrides.approvalSweepMs !== undefined && { sweepIntervalMs: overrides.approvalSweepMs }),
  });

  const quick = new QuickSnapshotService({
    client: api.client,
    tracker: api.tracker,
    policy,
    groups,
    audit,
    memory: new QuickStore(database.db, logger.child({ component: 'quick' })),
    settings: {
      targetGroups: config.targetGroups,
      defaultExpirationMs: config.quickSnapshot?.defaultExpirationMs,
      responderGroups: config.quickSnapshot?.responderGroups ?? [],
    },
    clock,
    logger: logger.child({ component: 'quick' }),
  });

  let slackRequestsInFlight = 0;
  // Late-bound: readiness asks the Slack app (built just below) whether Slack can reach us.
  let slackConnection = (): CheckResult => ({ ok: false, detail: 'starting' });
  const readiness = new Readiness(
    {
      database: async () => {
        await sql`select 1`.execute(database.db);
      },
      ovh: async () => {
        await api.client.listServices();
      },
      slack: () => slackConnection(),
    },
    clock,
  );
  metrics.bind({
    approvalsPending: async () => (await approvalRepo.open()).filter((r) => r.state === 'pending').length,
    auditOutboxDepth: () => outbox.depth(),
    auditOutboxOldestMs: () => outbox.oldestPendingAgeMs(),
    ovhBudgetTokens: () => api.transport.requestBudget.available(),
  });

  const slackApp = createSlackApp(
    {
      slack: env.slack,
      logger,
      port: env.port,
      host: env.host,
      healthPort: env.healthPort ?? 3001,
      routes: opsRoutes(readiness, metrics),
      onRequest: (delta) => {
        slackRequestsInFlight += delta;
      },
      onResult: (kind, name, result) => metrics.slackRequest(kind, name, result),
      deliveries: new DeliveryStore(database.db),
      ...(overrides.socketPingTimeoutMs !== undefined && { socketPingTimeoutMs: overrides.socketPingTimeoutMs }),
      ...(overrides.botIdentity && overrides.botIdentity),
      ...(overrides.slackRetries !== undefined && { retryConfig: { retries: overrides.slackRetries } }),
    },
    {
      service,
      approvals,
      quick,
      policy,
      metadata: createMetadataCodec(env.slack.signingSecret ?? env.slack.botToken, () => clock.now()),
      clock,
      logger,
    },
  );
  const closeAll = async () => {
    await approvals.stop();
    api.tracker.stop();
    await outbox.stop();
    api.transport.close();
    await database.close();
  };
  slackConnection = () => slackApp.connection();
  try {
    await slackApp.init();
  } catch (error) {
    await closeAll();
    throw new SlackAuthError(error);
  }
  outbox.start();
  const reportToUser = createResumeReporter(logger);
  const resumed = await service.resume(async (entry, result) => {
    const approvalId = approvalIdOf(entry.reply);
    if (approvalId !== undefined) await approvals.onResumedResult(approvalId, result);
    else await reportToUser(entry, result);
  });
  const resumedRuns = await quick.resume(createQuickResumeReporter(web, logger));
  approvals.start();
  if (resumed > 0) logger.info({ tasks: resumed }, 'following OVH tasks left unfinished by the previous run');
  if (resumedRuns > 0) logger.info({ runs: resumedRuns }, 'finishing quick snapshot runs left by the previous run');
  const port = await slackApp.start();
  logger.info({ mode: env.slack.mode, port, ovh: env.ovh.connection.endpoint }, 'nasha-bot is ready');

  let stopping: Promise<void> | undefined;
  return {
    port,
    service,
    approvals,
    outbox,
    readiness,
    metrics,
    stop() {
      stopping ??= (async () => {
        // 1. No new work. 2. Changes already sent to OVH get their task journaled (tracking resumes at
        // the next start). 3. The audit outbox gets a bounded chance to deliver. 4. Close.
        await slackApp.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the Slack app failed'));
        quick.stop();
        const [writes, quickWork] = await Promise.all([service.drained(10_000), quick.drained(10_000)]);
        if (!writes) logger.warn('an OVH write was still in flight at shutdown');
        if (!quickWork) logger.warn('a quick snapshot creation was still in flight at shutdown');
        const flushed = await outbox.flush(5_000).catch(() => false);
        if (!flushed) logger.warn('some audit records are still undelivered; they will go out on next start');
        logger.info({ slackRequestsInFlight }, 'stopped');
        await closeAll();
      })();
      return stopping;
    },
  };
}

/** Tasks started by an approved request carry its id in their journal entry. */
function approvalIdOf(reply: unknown): string | undefined {
  if (typeof reply !== 'object' || reply === null || !('approvalId' in reply)) return undefined;
  const id = (reply as { approvalId: unknown }).approvalId;
  return typeof id === 'string' ? id : undefined;
}

/** Slack refused the bot token (auth.test failed) or could not be reached at startup. */
export class SlackAuthError extends Error {
  override readonly name = 'SlackAuthError';
  constructor(cause: unknown) {
    const code =
      cause instanceof webApi.WebAPIPlatformError
        ? String(cause.data.error)
        : cause instanceof Error
          ? cause.message
          : String(cause);
    super(
      `Slack rejected the bot at startup (auth.test: ${code}). Check SLACK_BOT_TOKEN (xoxb-…) and that the app is installed.`,
      {
        cause,
      },
    );
  }
}

async function main(): Promise<void> {
  // No credential at all: the sandbox. Some but not all: refuse, never fall back to the sandbox.
  const mode = selectRunMode(process.env);
  if (mode.kind === 'incomplete') {
    process.stderr.write(`${incompleteCredentialsMessage(mode)}\n`);
    process.exit(2);
  }
  if (mode.kind === 'sandbox') {
    const { runSandboxCli } = await import('./sandbox/index.js');
    process.exit(await runSandboxCli(process.env));
  }
  let env: AppEnv;
  try {
    env = parseAppEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: env.logLevel });
  // Defence in depth for a server: a promise some library forgot to handle (Bolt's HTTPReceiver does
  // not catch a signed `payload=null`) is logged, not a reason to drop every other request.
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection; still running'),
  );
  let bot: RunningBot;
  try {
    bot = await startBot(env, { logger });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SlackAuthError) {
      logger.fatal({ err: error }, error.message);
      process.stderr.write(`${error.message}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    logger.fatal({ err: error }, 'startup failed');
    process.exit(1);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    // Bounded: a connection that never ends (e.g. a request Bolt never answers) must not hold the exit.
    const bound = setTimeout(() => {
      logger.error('shutdown took over 20 s; exiting anyway');
      process.exit(1);
    }, 20_000);
    bound.unref();
    void bot.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
