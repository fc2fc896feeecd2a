import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { NashaClient } from '../ovh/client.js';
import type { OvhConfig } from '../ovh/config.js';
import { OvhApiError } from '../ovh/errors.js';
import { type OAuth2TokenSource, TOKEN_OPERATION } from '../ovh/oauth2.js';
import { OvhTransport } from '../ovh/transport.js';
import { createBoltLogger } from '../shared/logger.js';
import { describeProxy } from '../shared/proxy.js';
import {
  type ConnectionTarget,
  type Diagnosis,
  diagnoseConnection,
  innermostMessage,
  problemLine,
  StartupError,
} from '../shared/startup-error.js';

/**
 * Startup checks: Slack (auth.test), OVH (an authenticated call) and the database each get what is left of
 * one startup time (NASHA_STARTUP_TIMEOUT_MS). A failure names the dependency and where it was looked for,
 * what happened, the likely cause and the fix, instead of retrying for half an hour in silence.
 */

/** The startup time, in real time: the network does not follow an injected clock. */
export class StartupTimer {
  readonly totalMs: number;
  private readonly deadline: number;
  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.deadline = Date.now() + totalMs;
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** `work`, or `timedOut` when the startup time runs out first (the work itself goes on). */
  async bound<T>(work: Promise<T>): Promise<{ timedOut: false; value: T } | { timedOut: true }> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<{ timedOut: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timedOut: true }), this.remaining());
    });
    try {
      return await Promise.race([work.then((value) => ({ timedOut: false as const, value })), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** e.g. "30 s". */
  describe(): string {
    return this.totalMs % 1_000 === 0 ? `${this.totalMs / 1_000} s` : `${(this.totalMs / 1_000).toFixed(1)} s`;
  }
}

const TIMEOUT_FIX = 'or raise NASHA_STARTUP_TIMEOUT_MS if it is only slow';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** 250 ms, 500 ms, 1 s, 2 s, 2 s…: a blip is retried, a lasting failure is reported within the startup time. */
function backoff(attempt: number): number {
  return Math.min(2_000, 250 * 2 ** (attempt - 1));
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** Token problems: retrying cannot help, SLACK_BOT_TOKEN must change. */
const TOKEN_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
  'invalid_token',
  'no_permission',
]);
/** Slack saying it is unwell. */
const SLACK_SIDE_ERRORS = new Set([
  'fatal_error',
  'internal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

export interface SlackCheckOptions {
  token: string;
  apiUrl: string | undefined;
  /** The proxied fetch when a proxy is configured. */
  fetch: webApi.FetchFunction | undefined;
  /** The proxy Slack's Web API goes through, for the messages. */
  proxy: URL | undefined;
  timer: StartupTimer;
  logger: Logger;
}

/**
 * auth.test with a bound: one attempt at a time (each with at most what is left, 10 s at most), retried
 * after a network error, a timeout or a Slack 5xx while time is left. Bolt's WebClient is not used for it:
 * its default retry policy makes a failing auth.test last about 30 minutes.
 */
export async function checkSlackAuth(options: SlackCheckOptions): Promise<{ botId: string; botUserId: string }> {
  const url = options.apiUrl ?? DEFAULT_SLACK_API_URL;
  const target = slackTarget(url, options.proxy);
  const dependency = `Slack auth.test at ${url}${options.proxy === undefined ? '' : ` (through ${describeProxy(options.proxy)})`}`;
  // Our own warning per attempt says more than the WebClient's "http request failed fetch failed".
  const quiet = createBoltLogger(options.logger.child({ component: 'slack-startup' }, { level: 'error' }));
  let attempts = 0;
  let last: Diagnosis | undefined;
  while (options.timer.remaining() > 0) {
    attempts++;
    const client = new webApi.WebClient(options.token, {
      slackApiUrl: url,
      logger: quiet,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: Math.max(1, Math.min(10_000, options.timer.remaining())),
      ...(options.fetch !== undefined && { fetch: options.fetch }),
    });
    let wait: number;
    try {
      const result = await client.auth.test();
      if (typeof result.bot_id !== 'string' || typeof result.user_id !== 'string') {
        throw new StartupError([
          `${dependency}: the token is not a bot token (no bot_id). Fix: set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from "OAuth & Permissions".`,
        ]);
      }
      return { botId: result.bot_id, botUserId: result.user_id };
    } catch (error) {
      if (error instanceof StartupError) throw error;
      last = diagnoseSlack(error, target);
      if (!last.transient) throw new StartupError([problemLine(dependency, last)], { cause: error });
      wait = error instanceof webApi.WebAPIRateLimitedError ? error.retryAfter * 1_000 : backoff(attempts);
    }
    options.logger.warn({ attempt: attempts, problem: problemLine(dependency, last) }, 'Slack not reachable yet');
    if (wait >= options.timer.remaining()) break;
    await sleep(wait);
  }
  const after = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${options.timer.describe()}`;
  throw new StartupError([
    last === undefined
      ? `${dependency}: not tried, the startup time (${options.timer.describe()}) ran out first. Fix: raise NASHA_STARTUP_TIMEOUT_MS.`
      : problemLine(dependency, { ...last, fix: `${last.fix}, ${TIMEOUT_FIX}` }, after),
  ]);
}

/** Slack's Web API (or WebSocket) host as a connection target, for the messages. */
export function slackTarget(url: string, proxy: URL | undefined): ConnectionTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port:
      parsed.port === '' ? (parsed.protocol === 'http:' || parsed.protocol === 'ws:' ? 80 : 443) : Number(parsed.port),
    variable: 'SLACK_API_URL',
    proxy: proxy === undefined ? undefined : describeProxy(proxy),
    proxyable: true,
    trustCa: 'NODE_EXTRA_CA_CERTS=<CA file>',
  };
}

/** Why auth.test failed, from the error the WebClient threw. */
export function diagnoseSlack(error: unknown, target: ConnectionTarget): Diagnosis {
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = String(error.data.error);
    if (TOKEN_ERRORS.has(code)) {
      return {
        what: `Slack rejected the bot token (auth.test: ${code})`,
        cause: 'SLACK_BOT_TOKEN is wrong, revoked or expired, or the app is not installed in the workspace',
        fix: 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from "OAuth & Permissions", reinstalling the app if needed',
        transient: false,
      };
    }
    return {
      what: `Slack answered "${code}"`,
      cause: SLACK_SIDE_ERRORS.has(code) ? 'a Slack outage' : 'an unexpected answer from Slack',
      fix: 'check https://slack-status.com and start again later',
      transient: SLACK_SIDE_ERRORS.has(code),
    };
  }
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return {
      what: `Slack rate-limited auth.test (retry after ${error.retryAfter} s)`,
      cause: 'too many calls with this token (other instances starting, or a restart loop)',
      fix: 'check that the bot is not restarting in a loop',
      transient: true,
    };
  }
  if (error instanceof webApi.WebAPIHTTPError) {
    const status = error.statusCode;
    if (status >= 500) {
      return {
        what: `Slack answered HTTP ${status}${error.statusMessage ? ` ${error.statusMessage}` : ''}`,
        cause: `a Slack outage, or an error page from a proxy or gateway in front of ${target.host}`,
        fix: 'check https://slack-status.com (and the proxy, if any) and start again later; the token was not the problem',
        transient: true,
      };
    }
    return {
      what: `Slack answered HTTP ${status}${error.statusMessage ? ` ${error.statusMessage}` : ''}`,
      cause:
        status === 404
          ? 'SLACK_API_URL does not point at a Slack Web API'
          : 'a proxy or firewall in front of Slack refused the call',
      fix:
        status === 404
          ? 'unset SLACK_API_URL (Slack itself) or set it to a Web API base URL ending in /api/'
          : 'check the proxy or firewall rules for the Web API',
      transient: false,
    };
  }
  return (
    diagnoseConnection(error, target) ?? {
      what: innermostMessage(error),
      cause: `a network error on the way to ${target.host}:${target.port}`,
      fix: 'check outbound access to Slack from this host',
      transient: true,
    }
  );
}

export interface OvhCheckOptions {
  config: OvhConfig;
  timer: StartupTimer;
  logger: Logger;
  /** Service accounts: the bot's token source, so the check's token is the one the bot then uses. */
  tokens?: OAuth2TokenSource | undefined;
}

/**
 * One authenticated OVH call (listing the services, as /readyz does) within the startup time: proves DNS,
 * routing, the proxy, TLS trust, the clock and the credentials at once. A transport of its own, without
 * retries, so each failure is seen and worded; retried like auth.test while time is left. With a service
 * account it shares the bot's token source (`tokens`): the token fetched here is the one the bot then uses.
 */
export async function checkOvh(options: OvhCheckOptions): Promise<void> {
  const { connection, tuning } = options.config;
  const { timer } = options;
  const target: ConnectionTarget = {
    host: connection.host,
    port: connection.port,
    variable: 'OVH_ENDPOINT',
    proxy: connection.proxy === undefined ? undefined : describeProxy(connection.proxy),
    proxyable: true,
    trustCa: 'OVH_CA_FILE',
  };
  // `ovh-eu (eu.api.ovh.com)` for a named endpoint, the URL as written otherwise.
  const where = connection.endpoint.includes('://')
    ? connection.endpoint
    : `${connection.endpoint} (${connection.host})`;
  const dependency = `OVH at ${where}${target.proxy === undefined ? '' : ` (through ${target.proxy})`}`;
  const transport = new OvhTransport({
    connection,
    tuning: { ...tuning, maxRetries: 0, timeoutMs: Math.min(tuning.timeoutMs, timer.totalMs) },
    logger: options.logger,
    ...(options.tokens && { tokens: options.tokens }),
  });
  const client = new NashaClient(transport);
  let attempts = 0;
  let last: Diagnosis | undefined;
  try {
    while (timer.remaining() > 0) {
      attempts++;
      let outcome: Awaited<ReturnType<StartupTimer['bound']>>;
      try {
        outcome = await timer.bound(client.listServices());
      } catch (error) {
        // An attempt that timed out is "no answer", however close to the end of the startup time it ended.
        const timedOut = error instanceof OvhApiError && error.kind === 'timeout';
        last = timedOut ? undefined : diagnoseOvh(error, target);
        if (last !== undefined && !last.transient) {
          throw new StartupError([problemLine(dependency, last)], { cause: error });
        }
        const problem =
          last === undefined ? `${dependency}: ${innermostMessage(error)}` : problemLine(dependency, last);
        options.logger.warn({ attempt: attempts, problem }, 'OVH not reachable yet');
        if (timedOut) continue;
        const wait = backoff(attempts);
        if (wait >= timer.remaining()) break;
        await sleep(wait);
        continue;
      }
      if (!outcome.timedOut) return;
      // The time ran out during an attempt: that it did not answer is the news.
      last = undefined;
      break;
    }
  } finally {
    transport.close();
  }
  const after = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${timer.describe()}`;
  throw new StartupError([
    problemLine(
      dependency,
      last === undefined
        ? {
            what: `no answer within ${timer.describe()}`,
            cause:
              target.proxy === undefined
                ? `a firewall drops the traffic to ${target.host}:${target.port}, or outbound access needs a proxy`
                : `no answer from ${target.host}:${target.port} through the proxy ${target.proxy}`,
            fix: `allow outbound HTTPS to ${target.host}:${target.port}${target.proxy === undefined ? ' or set HTTPS_PROXY' : ''}, ${TIMEOUT_FIX}`,
            transient: true,
          }
        : { ...last, fix: `${last.fix}, ${TIMEOUT_FIX}` },
      after,
    ),
  ]);
}

/** Why the OVH call failed, from the OvhApiError the transport made of it. */
export function diagnoseOvh(error: unknown, target: ConnectionTarget): Diagnosis {
  if (!(error instanceof OvhApiError)) {
    return (
      diagnoseConnection(error, target) ?? {
        what: innermostMessage(error),
        cause: 'an unexpected failure',
        fix: 'see the log',
        transient: false,
      }
    );
  }
  const status = error.httpStatus;
  switch (error.kind) {
    case 'network': {
      // node-ovh reports a socket error as its errno, which the transport names (ENOTFOUND…).
      const code = /^([A-Z][A-Z0-9_]+)(?::|$)/.exec(error.ovhMessage ?? '')?.[1];
      return (
        diagnoseConnection(error, target, code) ?? {
          what: error.message,
          cause: `a network error on the way to ${target.host}:${target.port}`,
          fix: 'check outbound access to OVH from this host',
          transient: true,
        }
      );
    }
    case 'timeout':
      return (
        diagnoseConnection(error, target, 'ETIMEDOUT') ?? {
          what: error.message,
          cause: 'no answer',
          fix: 'retry',
          transient: true,
        }
      );
    case 'clock':
      return {
        what: error.message,
        cause: "this host's clock is far from OVH's",
        fix: 'synchronise the clock (NTP)',
        transient: false,
      };
    case 'parse':
      return {
        what: error.message,
        cause: `what answers at ${target.host}:${target.port} is not the OVH API (a proxy's error page, or the wrong OVH_ENDPOINT)`,
        fix: 'check OVH_ENDPOINT (a name such as ovh-eu, or https://host/1.0) and the proxy',
        transient: false,
      };
    default:
      if (status !== undefined && (status >= 500 || status === 429)) {
        return {
          what: error.message,
          cause:
            status === 429
              ? 'OVH rate-limits this consumer key'
              : 'an OVH outage or maintenance, or an error page from a proxy in between',
          fix: 'check https://web-cloud.status-ovhcloud.com and start again later; the credentials were not the problem',
          transient: true,
        };
      }
      if ((status === 401 || status === 403) && error.operation === TOKEN_OPERATION) {
        return {
          what: error.message,
          cause:
            'the token endpoint refused the service account: OVH_CLIENT_ID or OVH_CLIENT_SECRET is wrong, or the account was deleted',
          fix: 'check OVH_CLIENT_ID, OVH_CLIENT_SECRET (and OVH_TOKEN_URL) with `npm run ovh:credentials -- --check`',
          transient: false,
        };
      }
      if (status === 403 && /User not granted/i.test(error.ovhMessage ?? '')) {
        return {
          what: error.message,
          cause: 'no IAM policy allows the service account to read NAS-HA (nasHA:apiovh:get)',
          fix: "create its policy with `npm run ovh:credentials -- --iam --client-id <id> --apply` (an administrator's credentials)",
          transient: false,
        };
      }
      if (status === 401 || status === 403) {
        return {
          what: error.message,
          cause:
            'OVH refused the credentials: the application key or secret is wrong, or the consumer key is invalid, expired or lacks GET /dedicated/nasha',
          fix: 'check OVH_APP_KEY, OVH_APP_SECRET and OVH_CONSUMER_KEY with `npm run ovh:credentials -- --check`',
          transient: false,
        };
      }
      return {
        what: error.message,
        cause: status === 404 ? 'OVH_ENDPOINT does not point at the OVH API v1' : 'an unexpected answer from OVH',
        fix: 'check OVH_ENDPOINT (a name such as ovh-eu, or https://host/1.0)',
        transient: false,
      };
  }
}
