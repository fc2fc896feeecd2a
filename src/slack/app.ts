import type { Server } from 'node:http';
import {
  App,
  ErrorCode,
  HTTPReceiver,
  LogLevel,
  type ReceiverProcessEventErrorHandlerArgs,
  type webApi,
} from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackEnv } from '../config/env.js';
import { createBoltLogger } from '../shared/logger.js';
import type { SlackDeps } from './deps.js';
import { registerListeners } from './register-listeners.js';
import { createRequestLogMiddleware } from './request-log.js';

export interface SlackAppOptions {
  slack: SlackEnv;
  logger: Logger;
  /** HTTP mode. */
  port: number;
  host: string;
  /** Known bot identity skips the startup auth.test (tests, sandbox). */
  botId?: string;
  botUserId?: string;
  /** WebClient retries; tests use { retries: 0 }. */
  retryConfig?: webApi.RetryOptions;
}

export interface SlackApp {
  app: App;
  /** Runs auth.test; rejects (catchably) on bad credentials. */
  init(): Promise<void>;
  /** Starts receiving; in HTTP mode returns the bound port. */
  start(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * The Bolt app: Socket Mode when an app token is given, otherwise HTTP on /slack/events with
 * GET /healthz. Initialization is deferred so a failed auth.test cannot become an unhandled
 * rejection (Bolt's constructor would otherwise fire it un-awaited).
 */
export function createSlackApp(options: SlackAppOptions, deps: SlackDeps): SlackApp {
  const { slack } = options;
  const healthz = {
    path: '/healthz',
    method: ['GET'],
    handler: (
      _req: unknown,
      res: { writeHead(status: number, headers: Record<string, string>): { end(body: string): void } },
    ) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
  };
  const boltLogger = createBoltLogger(options.logger.child({ component: 'slack' }));
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
    },
    ...(options.botId !== undefined &&
      options.botUserId !== undefined && { botId: options.botId, botUserId: options.botUserId }),
  };
  const app =
    slack.mode === 'socket'
      ? new App({
          ...common,
          socketMode: true,
          appToken: slack.appToken ?? '',
          customRoutes: [healthz],
          installerOptions: { port: options.port },
        })
      : new App({
          ...common,
          receiver: new HTTPReceiver({
            signingSecret: slack.signingSecret ?? '',
            customRoutes: [healthz],
            logger: boltLogger,
            logLevel: LogLevel.INFO,
            processEventErrorHandler: answerMalformed,
          }),
        });
  app.use(createRequestLogMiddleware(options.logger));
  registerListeners(app, deps);
  app.error(async (error) => {
    options.logger.error({ err: error }, 'unhandled error in a Slack listener');
  });
  return {
    app,
    init: () => app.init(),
    async start() {
      if (slack.mode === 'socket') {
        await app.start();
        return undefined;
      }
      const server = (await app.start({ port: options.port, host: options.host })) as Server;
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : options.port;
    },
    stop: () => app.stop().then(() => undefined),
  };
}

/**
 * Bolt answers 500 when it cannot even route a payload (e.g. a view_submission without a user).
 * Such a request is malformed, not a server fault: answer 400 without details, 401 for auth.
 */
async function answerMalformed({ error, logger, response }: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  if (response.headersSent) {
    logger.error('An error occurred after the request was acknowledged', error);
    return false;
  }
  if ('code' in error && error.code === ErrorCode.AuthorizationError) {
    response.writeHead(401).end();
    return false;
  }
  logger.warn('Could not process a Slack request', error);
  response.writeHead(400, { 'content-type': 'text/plain' }).end('The request could not be processed.');
  return false;
}
