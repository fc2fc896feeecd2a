import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { type AuditExportSink, loadBotConfig } from './config/bot-config.js';
import { type AppEnv, DEFAULT_STARTUP_TIMEOUT_MS } from './config/env.js';
import { ApprovalService } from './core/approvals.js';
import { AuditOutbox, AuditTrail } from './core/audit.js';
import { BreakGlassService } from './core/break-glass.js';
import { DashboardQueries, observedAlerts, observedNotices } from './core/dashboard.js';
import { ChangeDesk } from './core/desk.js';
import { DailyDigest } from './core/digest.js';
import { ActionGate } from './core/gate.js';
import { CachedGroupDirectory } from './core/groups.js';
import { NotificationOutbox } from './core/notifications.js';
import { Policy } from './core/policy.js';
import { protectionCoverage } from './core/protection/coverage.js';
import { Protection } from './core/protection/index.js';
import { HeadroomPacer } from './core/protection/pacer.js';
import { ProtectionQueries } from './core/protection/queries.js';
import { QuickSnapshotService } from './core/quick-snapshots.js';
import { IntentSweeper } from './core/reconcile.js';
import { type ChangeReporter, SnapshotService } from './core/snapshot-service.js';
import { createExportPublisher, type ExportSink, JsonlFileSink, JsonlStreamSink, WebhookSink } from './export/sinks.js';
import { type CheckResult, opsRoutes, Readiness } from './ops/health.js';
import { BotMetrics } from './ops/metrics.js';
import { ProtectionMetrics } from './ops/protection-metrics.js';
import { checkOvh, checkSlackAuth, DEFAULT_SLACK_API_URL, StartupTimer, slackTarget } from './ops/startup.js';
import { createNashaApi } from './ovh/index.js';
import { OAuth2TokenSource } from './ovh/oauth2.js';
import type { TaskTrackerOptions } from './ovh/task-tracker.js';
import { type Clock, systemClock } from './shared/clock.js';
import { ConfigError } from './shared/config-error.js';
import { createBoltLogger, createLogger } from './shared/logger.js';
import { createProxyDispatcher, describeProxy, proxyFor } from './shared/proxy.js';
import { withFreshReads } from './shared/request-context.js';
import { ChangeSignal } from './shared/signal.js';
import { diagnoseConnection, innermostMessage, problemLine, StartupError } from './shared/startup-error.js';
import { createSlackApp, type SlackApp, slackFetch } from './slack/app.js';
import { createSlackApprovalNotices } from './slack/approval-cards.js';
import { createSlackAuditPublisher } from './slack/audit-publisher.js';
import { createSlackBreakGlassNotices } from './slack/break-glass-notices.js';
import { createSlackDigestSender } from './slack/digest-sender.js';
import { createGroupMemberFetcher } from './slack/group-members.js';
import { createProfileFetcher, ReaderDirectory } from './slack/i18n/readers.js';
import { createMetadataCodec } from './slack/metadata.js';
import { createSlackNotificationPublisher } from './slack/notification-publisher.js';
import { createSlackAlertPublisher } from './slack/protection-alerts.js';
import { createQuickResumeReporter } from './slack/quick-runner.js';
import { createResumeReporter } from './slack/resume-reply.js';
import { ApprovalStore } from './store/approval-store.js';
import { AuditExportStore } from './store/audit-export-store.js';
import { AuditStore } from './store/audit-store.js';
import { BreakGlassStore } from './store/break-glass-store.js';
import { type Database, openDatabase } from './store/database.js';
import { DeliveryStore } from './store/delivery-store.js';
import { sql } from './store/kysely.js';
import { NotificationStore } from './store/notification-store.js';
import { ProtectionStore } from './store/protection-store.js';
import { QuickStore } from './store/quick-store.js';
import { TaskJournal } from './store/task-journal.js';
import { startWalCheckpoints } from './store/wal-checkpoints.js';

/** What tests and the sandbox may replace; production uses the defaults. */
export interface BotOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Known bot identity: skips the startup auth.test (tests and the sandbox). */
  botIdentity?: { botId: string; botUserId: string };
  /** Slack WebClient retries (tests: none). */
  slackRetries?: number;
  tracker?: Omit<TaskTrackerOptions, 'client' | 'clock' | 'logger'>;
  /** Outbox tuning for tests (pacing, idle polling), for the audit and the notification outbox alike. */
  outbox?: { minIntervalPerChannelMs?: number; retryBaseMs?: number; idlePollMs?: number };
  /** How often the approvals sweeper looks even with nothing due. */
  approvalSweepMs?: number;
  /** The longest wait between passes of the change reconciliation sweep (wall-clock ms). */
  intentSweepMs?: number;
  /** Socket Mode heartbeat timeout (tests use a short one). */
  socketPingTimeoutMs?: number;
  /** How long work after an ack may wait for the acks of requests that arrived before it (src/slack/arrivals.ts). */
  ackHoldMs?: number;
  /**
   * false: protection's plan and scan loops do not run by themselves (tests drive them through `protection`);
   * 'once': one plan pass and one scan at start, then nothing (a virtual clock that jumps would spin the loops).
   */
  protectionLoops?: boolean | 'once';
  /** false: the daily digest's timer does not run (tests call `digest.runFor` themselves). */
  digestLoop?: boolean;
  /** Where `stdout: true` audit export sinks write (default: process.stdout). */
  exportStdout?: NodeJS.WritableStream;
}

export interface RunningBot {
  /** Bound HTTP port (HTTP mode). */
  port: number | undefined;
  service: SnapshotService;
  approvals: ApprovalService;
  /** Break-glass reviews; `listUnacknowledgedBreakGlass()` is what the App Home and the digest show. */
  breakGlass: BreakGlassService;
  outbox: AuditOutbox;
  notifications: NotificationOutbox;
  /** The SIEM export's outbox (`audit.export`), when sinks are configured. */
  exportOutbox: AuditOutbox | undefined;
  readiness: Readiness;
  metrics: BotMetrics;
  /** Protection policies (undefined without a `protection:` section). */
  protection: Protection | undefined;
  /** The daily digest (undefined without a `digest:` section). */
  digest: DailyDigest | undefined;
  /** Stops taking requests, flushes the outboxes (bounded), closes everything. */
  stop(): Promise<void>;
}

/**
 * The composition root: config → logger → store → OVH client → core → Slack app. Nothing else
 * reads the environment; everything below gets its dependencies as parameters. Slack, OVH and the
 * database are checked together within one startup time (NASHA_STARTUP_TIMEOUT_MS): a failure is a
 * StartupError naming what failed, the likely cause and the fix.
 */
export async function startBot(env: AppEnv, overrides: BotOverrides = {}): Promise<RunningBot> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger({ level: env.logLevel });
  const config = loadBotConfig(env.configPath);
  for (const warning of config.warnings) logger.warn({ config: env.configPath }, warning);
  const exportSinks = buildExportSinks(config.audit.export, env, clock, overrides.exportStdout ?? process.stdout);

  const timer = new StartupTimer(env.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
  // HTTPS_PROXY / NO_PROXY for everything Slack (OVH's endpoint agent gets its proxy with its connection).
  const dispatcher = env.proxy === undefined ? undefined : createProxyDispatcher(env.proxy);
  const proxiedFetch = dispatcher === undefined ? undefined : slackFetch(dispatcher);
  // Service accounts: one token source for the startup check and the bot's client, so one token is fetched.
  const oauth2 = env.ovh.connection.oauth2;
  const tokens =
    oauth2 === undefined
      ? undefined
      : new OAuth2TokenSource({ credentials: oauth2, timeoutMs: env.ovh.tuning.timeoutMs, clock });
  const { database, identity } = await checkDependencies({ env, overrides, timer, proxiedFetch, logger, tokens });

  const metrics = new BotMetrics();
  const api = createNashaApi({
    config: env.ovh,
    clock,
    logger: logger.child({ component: 'ovh' }),
    onAttempt: (event) => metrics.ovhAttempt(event),
    onBudgetWait: (requestClass, waitedMs) => metrics.ovhBudgetWait(requestClass, waitedMs),
    onCacheLookup: (kind, hit) => metrics.ovhCacheLookup(kind, hit),
    ...(overrides.tracker && { tracker: overrides.tracker }),
    tokens,
  });

  // The bot's own Web API client for audit posts and group lookups: rate limits are reported, not
  // waited out, so the outbox and the group cache stay in control of retries.
  const web = new webApi.WebClient(env.slack.botToken, {
    ...(env.slack.apiUrl !== undefined && { slackApiUrl: env.slack.apiUrl }),
    ...(proxiedFetch !== undefined && { fetch: proxiedFetch }),
    logger: createBoltLogger(logger.child({ component: 'slack-web' })),
    rejectRateLimitedCalls: true,
    // The audit publisher's call timeout too; the outbox lease outlasts its longest attempt (a look-up and a post).
    timeout: 10_000,
    // Nothing is retried by the client: a post retried blindly after a lost answer shows twice (the outbox
    // looks for it first), and the outbox and the group cache stay in control of retries.
    retryConfig: { retries: 0 },
  });
  // Who reads what, in which language: channel posts (audit, cards, alerts) and replies to people alike.
  const readers = new ReaderDirectory(createProfileFetcher(web), {
    clock,
    languages: config.language,
    logger: logger.child({ component: 'readers' }),
  });
  const groups = new CachedGroupDirectory(createGroupMemberFetcher(web), {
    clock,
    logger: logger.child({ component: 'groups' }),
  });
  const policy = new Policy(config.access, groups);
  const gate = new ActionGate({
    policy,
    groups,
    rules: config.approvals.rules,
    responderGroups: config.quickSnapshot?.responderGroups ?? [],
    protection: protectionCoverage(config.protection),
  });
  const auditRepo = new AuditStore(database.db);
  const outbox = new AuditOutbox({
    repo: auditRepo,
    publisher: createSlackAuditPublisher(web, {}, readers),
    clock,
    logger: logger.child({ component: 'audit' }),
    ...overrides.outbox,
  });
  // Everything else the bot owes Slack (cards, DMs, quick summaries): the same delivery, its own table.
  const notifications = new NotificationOutbox({
    repo: new NotificationStore(database.db),
    publisher: createSlackNotificationPublisher(web),
    clock,
    logger: logger.child({ component: 'notifications' }),
    ...overrides.outbox,
  });
  // The SIEM export: the same outbox machinery over one cursor per sink, woken by the same writes.
  let exportOutbox: AuditOutbox | undefined;
  if (exportSinks.length > 0) {
    const exportStore = new AuditExportStore(
      database.db,
      exportSinks.map((sink) => sink.name),
    );
    await exportStore.ensureCursors();
    exportOutbox = new AuditOutbox({
      repo: exportStore,
      publisher: createExportPublisher(exportSinks),
      clock,
      logger: logger.child({ component: 'audit-export' }),
      ...overrides.outbox,
      // SIEMs take records as fast as they come; Slack's pacing does not apply.
      minIntervalPerChannelMs: 0,
    });
  }
  const wake = {
    poke: () => {
      outbox.poke();
      exportOutbox?.poke();
    },
  };
  const audit = new AuditTrail({ repo: auditRepo, clock, auditChannel: config.audit.channel, outbox: wake });
  const journal = new TaskJournal({ db: database.db, clock });
  const service = new SnapshotService({
    client: api.client,
    tracker: api.tracker,
    gate,
    policy,
    audit,
    journal,
    clock,
    logger,
    // A request still out when its writer died gets one OVH attempt and some margin to land first.
    intentLeaseMs: env.ovh.tuning.timeoutMs + 5_000,
  });
  const approvalRepo = new ApprovalStore(database.db);
  const homeChanges = new ChangeSignal();
  const approvals = new ApprovalService({
    repo: approvalRepo,
    service,
    policy,
    audit,
    // Every new version of a request goes through its card: the Home tabs showing requests follow it.
    notices: observedNotices(createSlackApprovalNotices(notifications, readers), () => homeChanges.notify()),
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
    gate,
    policy,
    audit,
    memory: new QuickStore(database.db, logger.child({ component: 'quick' })),
    settings: {
      targetGroups: config.targetGroups,
      defaultExpirationMs: config.quickSnapshot?.defaultExpirationMs,
    },
    clock,
    logger: logger.child({ component: 'quick' }),
  });

  // Break-glass changes: their review, the approvers' notices, and what the Home tab and the digest list.
  const breakGlass = new BreakGlassService({
    repo: new BreakGlassStore(database.db),
    policy,
    groups,
    audit,
    notices: createSlackBreakGlassNotices(notifications, readers),
    rules: config.approvals.rules,
    approvalsChannel: config.approvals.channel,
    clock,
    logger: logger.child({ component: 'break-glass' }),
  });
  const desk = new ChangeDesk({ gate, service, approvals, breakGlass, audit, clock });
  const protectionStore = new ProtectionStore(database.db);
  // Scans and plan runs are background work: they start only while the budget keeps room for people.
  const pacer = new HeadroomPacer({
    budget: api.transport.requestBudget,
    requestsPerMinute: env.ovh.tuning.requestsPerMinute,
    burst: env.ovh.tuning.burst,
    headroom: Math.max(2, Math.floor(env.ovh.tuning.burst / 3)),
    clock,
  });
  const protection =
    config.protection === undefined
      ? undefined
      : new Protection({
          config: config.protection,
          store: protectionStore,
          desk,
          audit,
          ovh: () => api.client,
          pacer,
          // An alert opens, changes or clears with a problem: the Home tabs showing protection follow it.
          publisher: observedAlerts(
            createSlackAlertPublisher(web, {}, readers, (action) => gate.approvalRule(action)),
            () => homeChanges.notify(),
          ),
          clock,
          logger: logger.child({ component: 'protection' }),
          observer: new ProtectionMetrics(
            metrics.registry,
            config.protection.policies.map((p) => p.name),
            clock,
          ),
        });
  const protectionQueries = new ProtectionQueries({
    config: config.protection,
    store: protectionStore,
    gate,
    policy,
    service,
    ovh: () => api.client,
    clock,
  });

  const digestConfig = config.digest;
  const digest =
    digestConfig === undefined
      ? undefined
      : new DailyDigest({
          breakGlass,
          config: digestConfig,
          auditChannel: config.audit.channel,
          approvals: approvalRepo,
          protection: config.protection === undefined ? undefined : protectionStore,
          audit: auditRepo,
          expiring: api.cache,
          send: createSlackDigestSender(notifications, readers, digestConfig.channel),
          clock,
          logger: logger.child({ component: 'digest' }),
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
        // OVH's answer, not the listing cache's (background work: no person waits on a probe).
        await withFreshReads(() => api.client.listServices());
      },
      slack: () => slackConnection(),
    },
    clock,
  );
  metrics.bind({
    approvalsPending: async () => (await approvalRepo.open()).filter((r) => r.state === 'pending').length,
    auditOutboxDepth: () => outbox.depth(),
    auditOutboxOldestMs: () => outbox.oldestPendingAgeMs(),
    notificationOutboxDepth: () => notifications.depth(),
    notificationOutboxOldestMs: () => notifications.oldestPendingAgeMs(),
    notificationDeadLetters: () => notifications.deadLetters(),
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
      deliveries: new DeliveryStore(database),
      ...(overrides.socketPingTimeoutMs !== undefined && { socketPingTimeoutMs: overrides.socketPingTimeoutMs }),
      ...(overrides.ackHoldMs !== undefined && { ackHoldMs: overrides.ackHoldMs }),
      ...identity,
      dispatcher,
      ...(overrides.slackRetries !== undefined && { retryConfig: { retries: overrides.slackRetries } }),
    },
    {
      service,
      approvals,
      breakGlass,
      quick,
      notifications,
      gate,
      desk,
      protection: { queries: protectionQueries, runtime: protection },
      dashboard: new DashboardQueries({
        breakGlass,
        repo: approvalRepo,
        policy,
        gate,
        protection: protectionQueries,
        protectionOn: config.protection !== undefined,
        expiring: api.cache,
        clock,
      }),
      changes: homeChanges,
      metadata: createMetadataCodec(env.slack.signingSecret ?? env.slack.botToken, () => clock.now()),
      readers,
      clock,
      logger,
    },
  );
  let sweeper: IntentSweeper | undefined;
  // SQLite's log checkpointed while no Slack request is being answered (see wal-checkpoints.ts).
  const stopCheckpoints = startWalCheckpoints({ database, quiet: () => slackApp.quiet(), logger });
  const closeAll = async () => {
    stopCheckpoints();
    await digest?.stop();
    await protection?.stop();
    await sweeper?.stop();
    await approvals.stop();
    api.tracker.stop();
    await Promise.all([outbox.stop(), notifications.stop(), exportOutbox?.stop()]);
    api.transport.close();
    await database.close();
  };
  slackConnection = () => slackApp.connection();
  try {
    // No network: the identity is known, so Bolt makes no auth.test of its own.
    await slackApp.init();
  } catch (error) {
    await closeAll();
    throw error;
  }
  outbox.start();
  notifications.start();
  exportOutbox?.start();
  // After a restart, results go to the stored response_url: through the proxy too. The reporter only
  // POSTs a JSON string and reads `ok`/`status`, which the Web API's fetch type covers.
  const reportToUser =
    proxiedFetch === undefined
      ? createResumeReporter(logger, fetch, readers)
      : createResumeReporter(logger, proxiedFetch as unknown as typeof fetch, readers);
  const report: ChangeReporter = async (origin, result) => {
    const approvalId = approvalIdOf(origin.reply);
    if (approvalId !== undefined) await approvals.onResumedResult(approvalId, result);
    else await reportToUser(origin, result);
  };
  const resumed = await service.resume(report);
  const resumedRuns = await quick.resume(createQuickResumeReporter(notifications, logger, readers));
  approvals.start();
  // Notices of recent break-glass changes a crash may have cut short (idempotent on their keys).
  void breakGlass.resend().catch((error: unknown) => logger.error({ err: error }, 'break-glass resend failed'));
  if (overrides.digestLoop !== false) digest?.start();
  // Changes whose OVH answer never arrived (this or another process died, or the answer was lost): settled
  // from what OVH shows, now and then on a timer, by whichever replica gets each lease.
  sweeper = new IntentSweeper({
    pass: async () => {
      const next = await service.reconcileDue(report);
      await approvals.recoverInterrupted();
      return next;
    },
    now: () => clock.now(),
    intervalMs: overrides.intentSweepMs ?? 60_000,
    logger: logger.child({ component: 'reconcile' }),
  });
  sweeper.start();
  if (overrides.protectionLoops !== false) protection?.start({ once: overrides.protectionLoops === 'once' });
  if (resumed > 0) logger.info({ tasks: resumed }, 'following OVH tasks left unfinished by the previous run');
  if (resumedRuns > 0) logger.info({ runs: resumedRuns }, 'finishing quick snapshot runs left by the previous run');
  let port: number | undefined;
  try {
    port = await startReceiving(slackApp, env, timer);
  } catch (error) {
    await slackApp.stop().catch(() => undefined);
    await closeAll();
    throw error;
  }
  logger.info({ mode: env.slack.mode, port, ovh: env.ovh.connection.endpoint }, 'nasha-bot is ready');

  let stopping: Promise<void> | undefined;
  return {
    port,
    service,
    approvals,
    breakGlass,
    outbox,
    notifications,
    exportOutbox,
    digest,
    readiness,
    metrics,
    protection,
    stop() {
      stopping ??= (async () => {
        // 1. No new work. 2. Changes already sent to OVH get their task journaled (tracking resumes at
        // the next start). 3. The outboxes get a bounded chance to deliver. 4. Close.
        await slackApp.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the Slack app failed'));
        quick.stop();
        await protection?.stop();
        const [writes, quickWork] = await Promise.all([service.drained(10_000), quick.drained(10_000)]);
        if (!writes) logger.warn('an OVH write was still in flight at shutdown');
        if (!quickWork) logger.warn('a quick snapshot creation was still in flight at shutdown');
        const [flushed, notified, exported] = await Promise.all([
          outbox.flush(5_000).catch(() => false),
          notifications.flush(5_000).catch(() => false),
          exportOutbox?.flush(5_000).catch(() => false) ?? true,
        ]);
        if (!flushed) logger.warn('some audit records are still undelivered; they will go out on next start');
        if (!notified) logger.warn('some notifications are still undelivered; they will go out on next start');
        if (!exported) logger.warn('some audit records are not exported yet; they will go out on next start');
        logger.info({ slackRequestsInFlight }, 'stopped');
        await closeAll();
      })();
      return stopping;
    },
  };
}

/** The configured SIEM export sinks; a webhook without NASHA_AUDIT_WEBHOOK_SECRET, or an unreadable CA, is a ConfigError. */
function buildExportSinks(
  configured: readonly AuditExportSink[],
  env: AppEnv,
  clock: Clock,
  stdout: NodeJS.WritableStream,
): ExportSink[] {
  const problems: string[] = [];
  const sinks = configured.flatMap((sink): ExportSink[] => {
    if (sink.type === 'jsonl') {
      return 'stdout' in sink
        ? [new JsonlStreamSink(sink.name, stdout)]
        : [new JsonlFileSink(sink.name, resolve(sink.path))];
    }
    if (env.auditWebhookSecret === undefined) {
      problems.push(
        `audit.export sink "${sink.name}" is a webhook: set NASHA_AUDIT_WEBHOOK_SECRET (or NASHA_AUDIT_WEBHOOK_SECRET_FILE), the key its records are signed with`,
      );
      return [];
    }
    let ca: string | undefined;
    if (sink.caFile !== undefined) {
      try {
        ca = readFileSync(sink.caFile, 'utf8');
      } catch (error) {
        problems.push(
          `audit.export sink "${sink.name}": ca_file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${sink.caFile}`,
        );
        return [];
      }
    }
    return [
      new WebhookSink(sink.name, {
        url: sink.url,
        secret: env.auditWebhookSecret,
        timeoutMs: sink.timeoutMs,
        ca,
        now: () => clock.now(),
      }),
    ];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return sinks;
}

/** Tasks started by an approved request carry its id in their journal entry. */
function approvalIdOf(reply: unknown): string | undefined {
  if (typeof reply !== 'object' || reply === null || !('approvalId' in reply)) return undefined;
  const id = (reply as { approvalId: unknown }).approvalId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Slack (auth.test), OVH (an authenticated call) and the database, all at once within the startup time.
 * Every failure is reported together; whatever did open is closed again.
 */
async function checkDependencies(options: {
  env: AppEnv;
  overrides: BotOverrides;
  timer: StartupTimer;
  proxiedFetch: webApi.FetchFunction | undefined;
  logger: Logger;
  tokens: OAuth2TokenSource | undefined;
}): Promise<{ database: Database; identity: { botId: string; botUserId: string } }> {
  const { env, overrides, timer, logger } = options;
  const opening = openDatabase(
    env.databaseUrl !== undefined ? { databaseUrl: env.databaseUrl } : { dataDir: env.dataDir },
    logger,
  );
  const slackProxy =
    env.proxy === undefined ? undefined : proxyFor(env.proxy, new URL(env.slack.apiUrl ?? DEFAULT_SLACK_API_URL));
  const [db, slack, ovh] = await Promise.allSettled([
    timer.bound(opening),
    overrides.botIdentity ??
      checkSlackAuth({
        token: env.slack.botToken,
        apiUrl: env.slack.apiUrl,
        fetch: options.proxiedFetch,
        proxy: slackProxy,
        timer,
        logger,
      }),
    checkOvh({ config: env.ovh, timer, logger: logger.child({ component: 'ovh' }), tokens: options.tokens }),
  ]);
  const problems: string[] = [];
  const failures: unknown[] = [];
  const collect = (result: PromiseSettledResult<unknown>) => {
    if (result.status === 'fulfilled') return;
    if (result.reason instanceof StartupError) problems.push(...result.reason.problems);
    else failures.push(result.reason);
  };
  collect(db);
  collect(slack);
  collect(ovh);
  let database: Database | undefined;
  if (db.status === 'fulfilled') {
    if (db.value.timedOut) {
      problems.unshift(
        `${databaseName(env)}: no answer within ${timer.describe()}. Likely cause: the database server is unreachable or overloaded (or the disk hangs). Fix: check it is up and reachable from this host, or raise NASHA_STARTUP_TIMEOUT_MS if it is only slow.`,
      );
      void opening.then((late) => late.close()).catch(() => undefined);
    } else database = db.value.value;
  }
  if (database !== undefined && slack.status === 'fulfilled' && failures.length === 0 && problems.length === 0) {
    return { database, identity: slack.value };
  }
  await database?.close();
  // A configuration problem first (exit 2), then anything unexpected (a bug), then the dependencies.
  throw failures.find((f) => f instanceof ConfigError) ?? failures[0] ?? new StartupError(problems);
}

function detail(error: unknown): string {
  const message = error === undefined ? '' : innermostMessage(error);
  return message === '' ? '' : ` (${message})`;
}

function databaseName(env: AppEnv): string {
  if (env.databaseUrl === undefined) return `SQLite database in ${env.dataDir} (NASHA_DATA_DIR)`;
  const url = new URL(env.databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname} (DATABASE_URL)`;
}

/**
 * Starts receiving from Slack. HTTP mode: listening on PORT. Socket Mode: the first WebSocket connection,
 * within what is left of the startup time (Bolt would otherwise retry apps.connections.open 100 times).
 */
async function startReceiving(slackApp: SlackApp, env: AppEnv, timer: StartupTimer): Promise<number | undefined> {
  if (env.slack.mode === 'http') {
    try {
      return await slackApp.start();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
      throw new StartupError(
        [
          `HTTP receiver on ${env.host}:${env.port} (HOST, PORT): ${innermostMessage(error)}. Likely cause: ${code === 'EADDRINUSE' ? 'another process already listens there' : 'this user may not listen on that port'}. Fix: set PORT to a free port${code === 'EACCES' ? ' above 1023' : ''}.`,
        ],
        { cause: error },
      );
    }
  }
  const apiUrl = env.slack.apiUrl ?? DEFAULT_SLACK_API_URL;
  // The WebSocket host is whatever apps.connections.open returns; Slack's own is wss-primary.slack.com.
  const socketUrl = 'wss://wss-primary.slack.com/';
  const proxy = env.proxy === undefined ? undefined : proxyFor(env.proxy, new URL(socketUrl));
  const dependency = `Slack Socket Mode (apps.connections.open at ${apiUrl}, then the wss:// URL it returns${proxy === undefined ? '' : `, through ${describeProxy(proxy)}`})`;
  let outcome: Awaited<ReturnType<StartupTimer['bound']>>;
  try {
    outcome = await timer.bound(slackApp.start());
  } catch (error) {
    // The Socket Mode client gives up at once only when Slack refuses the app token.
    throw new StartupError(
      [
        `${dependency}: ${innermostMessage(error)}. Likely cause: SLACK_APP_TOKEN is wrong or revoked, or lacks the connections:write scope. Fix: set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write from "Basic Information" → "App-Level Tokens".`,
      ],
      { cause: error },
    );
  }
  if (!outcome.timedOut) return undefined;
  const last = slackApp.lastConnectionError();
  const known = last === undefined ? undefined : diagnoseConnection(last, slackTarget(socketUrl, proxy));
  throw new StartupError([
    problemLine(
      dependency,
      known ?? {
        // undici's WebSocket errors carry no cause (an empty TypeError): say what is known.
        what: `no WebSocket connection within ${timer.describe()}${detail(last)}`,
        cause: 'a firewall or proxy blocks WebSocket (wss://) traffic to Slack, or Slack is unavailable',
        fix: 'allow outbound HTTPS and WebSocket to *.slack.com:443 (or set HTTPS_PROXY), check https://slack-status.com, or raise NASHA_STARTUP_TIMEOUT_MS',
        transient: true,
      },
    ),
  ]);
}
