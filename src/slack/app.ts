import type { Server } from 'node:http';
import {
  App,
  type AppOptions,
  type CustomRoute,
  defaultBodyLimit,
  HTTPReceiver,
  LogLevel,
  type ReceiverEvent,
  SocketModeReceiver,
  type webApi,
} from '@slack/bolt';
import type { Logger } from 'pino';
import { type Dispatcher, fetch as undiciFetch } from 'undici';
import type { SlackEnv } from '../config/env.js';
import { systemClock } from '../shared/clock.js';
import { createBoltLogger } from '../shared/logger.js';
import { countingConnections, countingRequests, SlackArrivals } from './arrivals.js';
import { answerCommandFirst } from './commands/command-start.js';
import type { SlackDeps } from './deps.js';
import { registerListeners } from './register-listeners.js';
import { type DeliveryLedger, ReplayGuard } from './replay-guard.js';
import {
  acknowledgeSocketError,
  answerHttpError,
  createRequestGuard,
  guardHttpEdge,
  type RequestGuard,
} from './request-guard.js';
import { createRequestLogMiddleware } from './request-log.js';

export interface SlackAppOptions {
  slack: SlackEnv;
  logger: Logger;
  /** HTTP mode. */
  port: number;
  host: string;
  /**
   * The bot identity, from the bounded startup auth.test (or given by tests and the sandbox): Bolt then
   * makes no auth.test of its own, whose retry policy would stretch a failing one to about 30 minutes.
   */
  botId?: string;
  botUserId?: string;
  /** Outbound proxy (HTTPS_PROXY/NO_PROXY) for the Web API and Socket Mode; Slack's defaults when undefined. */
  dispatcher?: Dispatcher | undefined;
  /** WebClient retries; tests use { retries: 0 }. */
  retryConfig?: webApi.RetryOptions;
  /** /healthz, /readyz, /metrics: on PORT in HTTP mode, on the health port in Socket Mode. */
  routes: CustomRoute[];
  /** Socket Mode: where the routes are served. */
  healthPort: number;
  /** Socket Mode heartbeat: a pong must come within this, a server ping within 6× this. */
  socketPingTimeoutMs?: number;
  /** The longest work after an ack waits for the acks of requests that arrived before it (default 100 ms). */
  ackHoldMs?: number;
  /** Slack requests being handled now, for graceful shutdown. */
  onRequest?: (delta: 1 | -1) => void;
  /** Each finished Slack request, for metrics. */
  onResult?: (kind: string, name: string, result: 'ok' | 'error') => void;
  /** Deliveries already run, shared by replicas: a copy of one is not run again. */
  deliveries: DeliveryLedger;
}

export interface SlackApp {
  app: App;
  /** Bolt's initialization; runs auth.test (rejecting catchably) only when no bot identity was given. */
  init(): Promise<void>;
  /** Starts receiving; in HTTP mode returns the bound port. */
  start(): Promise<number | undefined>;
  stop(): Promise<void>;
  /** Whether Slack can reach us: HTTP mode once started; Socket Mode while the socket is connected and alive. */
  connection(): { ok: boolean; detail: string };
  /** Socket Mode: the last WebSocket error, to say why a connection does not come up. */
  lastConnectionError(): unknown;
  /**
   * HTTP mode: no Slack request unanswered and none received for half a second, a moment for upkeep that
   * stops the event loop (a SQLite checkpoint). Socket Mode's envelopes are not counted: always true there.
   */
  quiet(): boolean;
}

/** How long without a Slack request before the edge counts as quiet. */
const QUIET_MS = 500;

/** The Web API's `fetch` through `dispatcher` (undici's own fetch: the dispatcher is an undici one). */
export function slackFetch(dispatcher: Dispatcher): webApi.FetchFunction {
  // Slack's FormData body is the global one, which undici's fetch takes as it is.
  return (url, init) => undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1]);
}

/**
 * The Bolt app: Socket Mode when an app token is given, otherwise HTTP on /slack/events with
 * GET /healthz. Initialization is deferred so a failed auth.test cannot become an unhandled
 * rejection (Bolt's constructor would otherwise fire it un-awaited).
 */
export function createSlackApp(options: SlackAppOptions, deps: SlackDeps): SlackApp {
  const { slack } = options;
  const boltLogger = createBoltLogger(options.logger.child({ component: 'slack' }));
  const knownIdentity = options.botId !== undefined && options.botUserId !== undefined;
  // Bolt checks a request's age against the system clock, so the rest of the replay window (timestamps ahead,
  // how long a delivery is remembered) is measured with it too, never with an injected clock.
  const replays = new ReplayGuard({ ledger: options.deliveries, clock: systemClock, logger: options.logger });
  const guard = createRequestGuard({
    replays,
    logger: options.logger,
    onResult: options.onResult,
    readers: deps.readers,
    answerFirst: answerCommandFirst(deps),
  });
  const common = {
    token: slack.botToken,
    deferInitialization: true,
    logger: boltLogger,
    logLevel: LogLevel.INFO,
    convoStore: false as const,
    ignoreSelf: true,
    clientOptions: {
      ...(slack.apiUrl !== undefined && { slackApiUrl: slack.apiUrl }),
      ...(options.retryConfig !== undefined && { retryConfig: options.retryConfig }),
      ...(options.dispatcher !== undefined && { fetch: slackFetch(options.dispatcher) }),
    },
    ...(knownIdentity && { botId: options.botId, botUserId: options.botUserId, tokenVerificationEnabled: false }),
  };
  // The Socket Mode client pings Slack and expects a pong (and Slack's pings) in time; when the
  // link goes silent it drops it and reconnects. We track its state for /readyz.
  const socketState: { connected: boolean; detail: string; lastError: unknown } = {
    connected: false,
    detail: 'not connected yet',
    lastError: undefined,
  };
  const pingTimeout = options.socketPingTimeoutMs ?? 5_000;
  const socketReceiver =
    slack.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: slack.appToken ?? '',
          logger: boltLogger,
          logLevel: LogLevel.INFO,
          clientPingTimeout: pingTimeout,
          serverPingTimeout: pingTimeout * 6,
          autoReconnectEnabled: true,
          customRoutes: options.routes,
          // Also wraps the receiver's apps.connections.open calls (its client gets no fetch of its own).
          ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
          processEventErrorHandler: acknowledgeSocketError,
          // The receiver's own client (apps.connections.open) must use the same Web API URL.
          installerOptions: {
            port: options.healthPort,
            clientOptions: { ...(slack.apiUrl !== undefined && { slackApiUrl: slack.apiUrl }) },
          },
        })
      : undefined;
  if (socketReceiver !== undefined) {
    const client = socketReceiver.client;
    client.on('connected', () => Object.assign(socketState, { connected: true, detail: 'connected' }));
    client.on('error', (error: unknown) => {
      socketState.lastError = error;
    });
    for (const event of ['disconnected', 'reconnecting', 'disconnecting'] as const) {
      client.on(event, () => {
        if (socketState.connected) options.logger.warn({ event }, 'Slack Socket Mode connection lost');
        Object.assign(socketState, { connected: false, detail: event });
      });
    }
  }
  let httpStarted = false;
  // Real time, like the receivers' own timers: the hold is about the event loop, not about the bot's clock.
  const arrivals = new SlackArrivals({
    clock: systemClock,
    ...(options.ackHoldMs !== undefined && { maxHoldMs: options.ackHoldMs }),
  });
  const app =
    slack.mode === 'socket' && socketReceiver !== undefined
      ? new GuardedApp(guard, arrivals, {
          ...common,
          socketMode: true,
          appToken: slack.appToken ?? '',
          receiver: socketReceiver,
        })
      : new GuardedApp(guard, arrivals, { ...common, receiver: httpReceiver(options, boltLogger, arrivals) });
  app.use(createRequestLogMiddleware(options.logger, options.onRequest, options.onResult));
  registerListeners(app, deps);
  app.error(async (error) => {
    options.logger.error({ err: error }, 'unhandled error in a Slack listener');
  });
  return {
    app,
    init: () => app.init(),
    async start() {
      // A copy of a delivery recorded before this process started is then known before its ack.
      await replays.loadRecorded();
      if (slack.mode === 'socket') {
        await app.start();
        return undefined;
      }
      const server = (await app.start({ port: options.port, host: options.host })) as Server;
      countingConnections(arrivals, server);
      httpStarted = true;
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : options.port;
    },
    stop: () => app.stop().then(() => undefined),
    connection() {
      if (slack.mode === 'http')
        return { ok: httpStarted, detail: httpStarted ? 'HTTP receiver listening' : 'not started' };
      return { ok: socketState.connected, detail: `Socket Mode ${socketState.detail}` };
    },
    lastConnectionError: () => socketState.lastError,
    quiet: () => arrivals.quietFor(QUIET_MS),
  };
}

/** HTTP mode's receiver: the edge's checks in front of Bolt's, every request counted in `arrivals`. */
function httpReceiver(
  options: SlackAppOptions,
  logger: ReturnType<typeof createBoltLogger>,
  arrivals: SlackArrivals,
): HTTPReceiver {
  const signingSecret = options.slack.signingSecret ?? '';
  const receiver = guardHttpEdge(
    new HTTPReceiver({
      signingSecret,
      customRoutes: options.routes,
      logger,
      logLevel: LogLevel.INFO,
      processEventErrorHandler: answerHttpError,
      // The edge reads the body first and Bolt reuses it unchecked: both apply this one limit.
      bodyLimit: defaultBodyLimit,
    }),
    {
      signingSecret,
      endpoint: '/slack/events',
      bodyLimit: defaultBodyLimit,
      clock: systemClock,
      logger: options.logger,
    },
  );
  receiver.requestListener = countingRequests(arrivals, receiver.requestListener);
  return receiver;
}

/**
 * Bolt's App with the request guard in front of its routing. Both receivers hand every delivery to
 * `processEvent`, so this one place serves HTTP and Socket Mode alike. An `await ack()` returns once the server
 * has caught up with the requests arriving (src/slack/arrivals.ts): what follows an ack (for a `/nasha` command,
 * acked by the guard, Bolt's routing too) cannot hold up the acks of requests that came with it.
 */
class GuardedApp extends App {
  constructor(
    private readonly guard: RequestGuard,
    private readonly arrivals: SlackArrivals,
    options: AppOptions,
  ) {
    super(options);
  }

  override processEvent(event: ReceiverEvent): Promise<void> {
    const ack: ReceiverEvent['ack'] = async (response) => {
      await event.ack(response);
      await this.arrivals.settled();
    };
    return this.guard({ ...event, ack }, (delivered) => super.processEvent(delivered));
  }
}
