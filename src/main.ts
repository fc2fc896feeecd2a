import { pathToFileURL } from 'node:url';
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { loadBotConfig } from './config/bot-config.js';
import { type AppEnv, parseAppEnv } from './config/env.js';
import { ApprovalService } from './core/approvals.js';
import { AuditOutbox, AuditTrail } from './core/audit.js';
import { CachedGroupDirectory } from './core/groups.js';
import { Policy } from './core/policy.js';
import { QuickSnapshotService } from './core/quick-snapshots.js';
import { SnapshotService } from './core/snapshot-service.js';
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
import { createResumeReporter } from './slack/resume-reply.js';
import { ApprovalStore } from './store/approval-store.js';
import { AuditStore } from './store/audit-store.js';
import { openDatabase } from './store/database.js';
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
}

export interface RunningBot {
  /** Bound HTTP port (HTTP mode). */
  port: number | undefined;
  service: SnapshotService;
  approvals: ApprovalService;
  outbox: AuditOutbox;
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
  const api = createNashaApi({
    config: env.ovh,
    clock,
    logger: logger.child({ component: 'ovh' }),
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
  });
  const approvals = new ApprovalService({
    repo: new ApprovalStore(database.db),
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
    memory: new QuickStore(database.db),
    settings: {
      targetGroups: config.targetGroups,
      defaultExpirationMs: config.quickSnapshot?.defaultExpirationMs,
      responderGroups: config.quickSnapshot?.responderGroups ?? [],
    },
    clock,
    logger: logger.child({ component: 'quick' }),
  });

  const slackApp = createSlackApp(
    {
      slack: env.slack,
      logger,
      port: env.port,
      host: env.host,
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
  approvals.start();
  if (resumed > 0) logger.info({ tasks: resumed }, 'following OVH tasks left unfinished by the previous run');
  const port = await slackApp.start();
  logger.info({ mode: env.slack.mode, port, ovh: env.ovh.connection.endpoint }, 'nasha-bot is ready');

  let stopping: Promise<void> | undefined;
  return {
    port,
    service,
    approvals,
    outbox,
    stop() {
      stopping ??= (async () => {
        await slackApp.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the Slack app failed'));
        const flushed = await outbox.flush(5_000).catch(() => false);
        if (!flushed) logger.warn('some audit records are still undelivered; they will go out on next start');
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
    void bot.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
