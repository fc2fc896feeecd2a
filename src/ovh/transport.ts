import type { ClientRequest } from 'node:http';
import { getSystemErrorName } from 'node:util';
import createNodeOvh, { type OvhCallbackError, type OvhClient } from '@ovhcloud/node-ovh';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type BackoffPolicy, parseRetryAfter, retryDelay } from '../shared/backoff.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { currentBudgetScope, noteOvhRequestSent, type RequestClass } from '../shared/request-context.js';
import type { OvhAccessRule } from './access-rules.js';
import { RequestBudget } from './budget.js';
import type { OvhApplicationKeys, OvhClientTuning, OvhConnectionConfig, OvhEndpoint } from './config.js';
import { registerOvhEndpoint, watchOvhRequests } from './endpoint-agent.js';
import { OvhApiError, type OvhErrorKind } from './errors.js';
import { OAuth2TokenSource, type ServiceAccountToken } from './oauth2.js';
import { buildPath } from './path.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';
type ParamValue = string | number | boolean;
type Params = Readonly<Record<string, ParamValue | null | undefined>>;

/** One finished HTTP attempt, for logs and metrics. */
export interface OvhAttemptEvent {
  method: HttpMethod;
  /** The route template, e.g. `/dedicated/nasha/{serviceName}/task`: low-cardinality, no user data. */
  route: string;
  /** HTTP status, or the error kind when there was no HTTP answer. */
  outcome: number | OvhErrorKind;
  durationMs: number;
  attempt: number;
}

export interface OvhTransportOptions {
  connection: OvhConnectionConfig;
  tuning: OvhClientTuning;
  /** Drives the request budget and retry back-off (not the network timeout, which is real time). */
  clock?: Clock;
  /** Shared by every client of one consumer key; created from `tuning` when omitted. */
  budget?: RequestBudget;
  /** In [0, 1); jitter source. */
  random?: () => number;
  logger?: Logger;
  onAttempt?: (event: OvhAttemptEvent) => void;
  /** Every request's wait for a budget token, by class (metrics); with the budget created here. */
  onBudgetWait?: (requestClass: RequestClass, waitedMs: number) => void;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * Requests in flight at once (default 8). A burst after a quiet period, when the pooled sockets have closed,
   * then opens at most this many TLS connections, whose handshakes compete with Slack acks for the CPU; the
   * requests beyond wait for one of them and reuse its socket. The budget's burst (10) rarely has more anyway.
   */
  maxInFlight?: number;
  /**
   * A GET refused with a Retry-After is retried after exactly that long, unless it is longer than this: then
   * it fails at once (a caller, often a person in Slack, should not wait minutes for an answer).
   */
  maxRetryAfterMs?: number;
  /**
   * Service accounts: the token source to share (the startup check and the bot's client use one, so one token
   * is fetched); created from the connection when omitted.
   */
  tokens?: OAuth2TokenSource;
}

export interface OvhCallOptions<T> {
  method: HttpMethod;
  /** Route template with `{name}` placeholders filled from `segments`. */
  route: string;
  segments?: Readonly<Record<string, unknown>>;
  /** Query parameters (GET/DELETE) or JSON body fields (POST). Null/undefined values are dropped. */
  params?: Params;
  /** POST: a JSON body with nested values (e.g. an IAM policy), sent as given; instead of `params`. */
  json?: Readonly<Record<string, unknown>>;
  schema: z.ZodType<T>;
}

type RawResult = (
  | { ok: true; value: unknown }
  /** `retryAfterMs`: the answer's Retry-After header, when it had a readable one. */
  | { ok: false; error: OvhApiError; retryAfterMs?: number | undefined }
) & {
  /** The service-account token the request carried (OAuth2 mode). */
  token?: ServiceAccountToken | undefined;
};

const AUTH_TIME_ROUTE = '/auth/time';
const ServerTimeSchema = z.number().int().positive();

/**
 * The only code that talks to node-ovh. It shields the bot from node-ovh's defects: inputs are
 * validated and encoded before any request, `params` is never null, every attempt has a deadline,
 * errors become `OvhApiError`, the clock is synced once up front (single flight) and re-synced on
 * "Query out of time", GETs are retried with back-off, and every attempt spends the shared budget.
 */
export class OvhTransport {
  private readonly ovh: OvhClient;
  private readonly clock: Clock;
  private readonly budget: RequestBudget;
  private readonly tuning: OvhClientTuning;
  private readonly logger: Logger | undefined;
  private readonly onAttempt: ((event: OvhAttemptEvent) => void) | undefined;
  private readonly retryPolicy: BackoffPolicy;
  private readonly maxRetryAfterMs: number;
  private readonly unregisterEndpoint: () => void;
  /** Service accounts (OAuth2): where tokens come from; undefined with an application key. */
  private readonly tokens: OAuth2TokenSource | undefined;
  private readonly inFlight: InFlightSlots;
  private syncing: Promise<void> | undefined;

  constructor(options: OvhTransportOptions) {
    const { connection, tuning } = options;
    this.tuning = tuning;
    this.clock = options.clock ?? systemClock;
    this.budget =
      options.budget ??
      new RequestBudget({
        requestsPerMinute: tuning.requestsPerMinute,
        burst: tuning.burst,
        clock: this.clock,
        ...(options.onBudgetWait && { onGrant: options.onBudgetWait }),
      });
    this.logger = options.logger;
    this.onAttempt = options.onAttempt;
    this.retryPolicy = {
      baseMs: options.retryBaseDelayMs ?? 500,
      maxMs: options.retryMaxDelayMs ?? 8_000,
      random: options.random ?? Math.random,
    };
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.inFlight = new InFlightSlots(options.maxInFlight ?? 8);
    const unregisterApi = registerOvhEndpoint({
      host: connection.host,
      port: connection.port,
      caPem: connection.caPem,
      proxy: connection.proxy,
    });
    // host/port/basePath only: node-ovh's `endpoint` would silently override `host`.
    // No node-ovh `timeout`: it adds a socket listener per request, which leaks on keep-alive
    // sockets. Our deadline (send) decides and ends the request; Node closes idle pooled sockets.
    const place = { host: connection.host, port: connection.port, basePath: connection.basePath };
    if (connection.oauth2 === undefined) {
      this.tokens = undefined;
      this.unregisterEndpoint = unregisterApi;
      this.ovh = createNodeOvh({
        appKey: connection.appKey,
        appSecret: connection.appSecret,
        consumerKey: connection.consumerKey,
        ...place,
      });
    } else {
      const { tokenUrl } = connection.oauth2;
      const tokens =
        options.tokens ??
        new OAuth2TokenSource({
          credentials: connection.oauth2,
          timeoutMs: tuning.timeoutMs,
          clock: this.clock,
        });
      this.tokens = tokens;
      // The token endpoint is another host: it gets the endpoint's CA and its own proxy through the same agent.
      const unregisterToken = registerOvhEndpoint({
        host: tokenUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: tokenUrl.port === '' ? 443 : Number(tokenUrl.port),
        caPem: connection.caPem,
        proxy: connection.oauth2.proxy,
      });
      this.unregisterEndpoint = () => {
        unregisterApi();
        unregisterToken();
      };
      this.ovh = createNodeOvh({
        clientID: connection.oauth2.clientId,
        clientSecret: connection.oauth2.clientSecret,
        // node-ovh appends `oauth2/token` to this base itself.
        tokenURL: new URL('..', tokenUrl).href,
        ...place,
      });
      // node-ovh's own fetch (simple-oauth2) is never used: each request carries a token from `tokens` (send), and
      // should node-ovh still judge one expired, it asks the same single-flight source.
      this.ovh.oauthClient = { getToken: () => tokens.token() };
    }
  }

  /** The shared request budget (for metrics and for callers that plan bursts). */
  get requestBudget(): RequestBudget {
    return this.budget;
  }

  /** Stops trusting this endpoint's extra CA. In-flight calls still settle. */
  close(): void {
    this.unregisterEndpoint();
  }

  async call<T>(options: OvhCallOptions<T>): Promise<T> {
    const operation = `${options.method} ${options.route}`;
    const path = buildPath(options.route, options.segments ?? {});
    const params: Readonly<Record<string, unknown>> =
      options.json === undefined ? cleanParams(options.params, operation) : structuredClone(options.json);
    await this.ensureClockSynced();
    let resynced = false;
    let reauthenticated = false;
    let retries = 0;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(options.method, options.route, path, params, attempt);
      if (result.ok) return parseResponse(options.schema, result.value, operation, attempt);
      const error = withAttempts(result.error, attempt);
      if (error.httpStatus === 401 && result.token !== undefined && !reauthenticated) {
        // OVH refused the token (revoked, expired early): refused at the auth layer, so resending is safe. Once.
        reauthenticated = true;
        this.tokens?.invalidate(result.token);
        this.logger?.warn({ operation }, 'OVH refused the service-account token: fetching a new one and retrying once');
        continue;
      }
      if (error.kind === 'clock' && !resynced) {
        // The request was refused by OVH's auth layer and never executed, so resending is safe.
        resynced = true;
        this.logger?.warn({ operation }, 'OVH says our clock is off: re-syncing with /auth/time and retrying once');
        await this.syncClock();
        continue;
      }
      if (options.method === 'GET' && isRetryable(error) && retries < this.tuning.maxRetries) {
        const delay = this.retryDelay(result.retryAfterMs, retries);
        if (delay === undefined) {
          this.logger?.warn(
            { operation, status: error.httpStatus, retryAfterMs: result.retryAfterMs },
            'OVH asks to wait longer than a caller should: not retrying',
          );
          const seconds = Math.ceil((result.retryAfterMs ?? 0) / 1_000);
          throw new OvhApiError({
            kind: error.kind,
            operation: error.operation,
            httpStatus: error.httpStatus,
            ovhMessage: `${error.ovhMessage ?? 'refused'} (OVH asks to retry in ${seconds} s)`,
            cause: error.cause,
            attempts: attempt,
          });
        }
        retries++;
        this.logger?.warn(
          { operation, kind: error.kind, status: error.httpStatus, attempt, delayMs: delay },
          'OVH GET failed, retrying',
        );
        await this.clock.sleep(delay);
        continue;
      }
      throw error;
    }
  }

  private ensureClockSynced(): Promise<void> {
    // Bearer tokens carry no timestamp: node-ovh makes no /auth/time call in OAuth2 mode, nor do we.
    if (this.tokens !== undefined || this.ovh.apiTimeDiff !== null) return Promise.resolve();
    return this.syncClock();
  }

  /** One /auth/time call shared by every caller waiting on it. */
  private syncClock(): Promise<void> {
    if (this.syncing === undefined) {
      this.syncing = this.fetchServerTime().finally(() => {
        this.syncing = undefined;
      });
    }
    return this.syncing;
  }

  private async fetchServerTime(): Promise<void> {
    const operation = `GET ${AUTH_TIME_ROUTE}`;
    let retries = 0;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt('GET', AUTH_TIME_ROUTE, AUTH_TIME_ROUTE, {}, attempt);
      if (result.ok) {
        const serverTime = parseResponse(ServerTimeSchema, result.value, operation, attempt);
        // node-ovh stamps requests with its own Date.now(), so the delta is against the real clock.
        this.ovh.apiTimeDiff = serverTime - Math.round(Date.now() / 1000);
        return;
      }
      const error = withAttempts(result.error, attempt);
      const delay = this.retryDelay(result.retryAfterMs, retries);
      if (isRetryable(error) && retries < this.tuning.maxRetries && delay !== undefined) {
        await this.clock.sleep(delay);
        retries++;
        continue;
      }
      throw error;
    }
  }

  private async attempt(
    method: HttpMethod,
    route: string,
    path: string,
    params: Readonly<Record<string, unknown>>,
    attempt: number,
  ): Promise<RawResult> {
    // The caller's class and person come with the async context (set where the work entered the bot).
    await this.budget.take(currentBudgetScope());
    noteOvhRequestSent();
    const release = await this.inFlight.acquire();
    const started = performance.now();
    const result = await this.send(method, route, path, params).finally(release);
    const durationMs = performance.now() - started;
    const outcome = result.ok ? 200 : (result.error.httpStatus ?? result.error.kind);
    this.onAttempt?.({ method, route, outcome, durationMs, attempt });
    this.logger?.debug({ method, route, outcome, durationMs: Math.round(durationMs), attempt }, 'OVH request');
    return result;
  }

  /** One node-ovh request with a hard deadline (a token first, in OAuth2 mode); never rejects, never hangs. */
  private async send(
    method: HttpMethod,
    route: string,
    path: string,
    params: Readonly<Record<string, unknown>>,
  ): Promise<RawResult> {
    const operation = `${method} ${route}`;
    if (this.tokens === undefined) {
      return sendWithDeadline(this.ovh, method, path, params, operation, this.tuning.timeoutMs);
    }
    let token: ServiceAccountToken;
    try {
      token = await this.tokens.token();
    } catch (error) {
      return {
        ok: false,
        error: error instanceof OvhApiError ? error : classify(toError(error), undefined, operation),
      };
    }
    // Fresh by our margin (≥ node-ovh's 10 s), so node-ovh sends it as it is.
    this.ovh.accessToken = token;
    const result = await sendWithDeadline(this.ovh, method, path, params, operation, this.tuning.timeoutMs, true);
    return { ...result, token };
  }

  /** OVH's Retry-After if it gave one, else the shared back-off; undefined when OVH asks for too long a wait. */
  private retryDelay(retryAfterMs: number | undefined, retry: number): number | undefined {
    if (retryAfterMs !== undefined && retryAfterMs > this.maxRetryAfterMs) return undefined;
    return retryDelay(this.retryPolicy, retry, retryAfterMs);
  }
}

/** At most `size` holders at once; the others wait in order. A holder ends at its request's deadline at the latest. */
class InFlightSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!(size >= 1)) throw new RangeError('maxInFlight must be >= 1');
    this.free = Math.floor(size);
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next === undefined) this.free++;
      else next();
    };
  }
}

/**
 * One node-ovh request with a hard deadline; never rejects, never hangs. At the deadline the HTTP request is
 * destroyed with its socket, so an answer that never comes holds nothing. A failed answer's Retry-After
 * header is read here: node-ovh passes on only the status and the message.
 */
function sendWithDeadline(
  ovh: OvhClient,
  method: HttpMethod,
  path: string,
  params: Readonly<Record<string, unknown>>,
  operation: string,
  timeoutMs: number,
  bearer = false,
): Promise<RawResult> {
  return new Promise<RawResult>((resolve) => {
    const requests: ClientRequest[] = [];
    let retryAfter: string | string[] | undefined;
    const timer = setTimeout(() => {
      resolve({
        ok: false,
        error: new OvhApiError({ kind: 'timeout', operation, ovhMessage: `no answer within ${timeoutMs} ms` }),
      });
      for (const request of requests) request.destroy();
    }, timeoutMs);
    const settle = (result: RawResult): void => {
      clearTimeout(timer);
      resolve(
        result.ok ? result : { ...result, retryAfterMs: parseRetryAfter(retryAfter, Date.now()) }, // server's clock
      );
    };
    const watch = (request: ClientRequest): void => {
      requests.push(request);
      request.once('response', (response) => {
        retryAfter = response.headers['retry-after'];
      });
    };
    try {
      // A fresh copy each time: node-ovh deletes keys from the object it is given.
      // node-ovh's OAuth2 mode sends JSON bodies without a Content-Type (ovh-api.md §4.6): added on the way out.
      watchOvhRequests(watch, { jsonContentType: bearer }, () =>
        ovh.request(method, path, { ...params }, (error, response) => {
          settle(
            error === null ? { ok: true, value: response } : { ok: false, error: classify(error, response, operation) },
          );
        }),
      )
        // node-ovh's request() is async: a throw inside it (bad header, bad path) rejects here.
        .catch((thrown: unknown) => settle({ ok: false, error: classify(toError(thrown), undefined, operation) }));
    } catch (thrown) {
      settle({ ok: false, error: classify(toError(thrown), undefined, operation) });
    }
  });
}

/** OVH's answer to a credential request: where the account owner validates it, and the new key. */
export interface ConsumerKeyRequest {
  validationUrl: string;
  consumerKey: string;
  state: string;
}

const ConsumerKeyRequestSchema = z.object({
  validationUrl: z.url(),
  consumerKey: z.string().regex(/^[\x21-\x7e]{1,256}$/),
  state: z.string(),
});

/**
 * POST /auth/credential: asks OVH for a new consumer key limited to `accessRules`. Only the
 * application key is sent (node-ovh never signs /auth calls), so no clock sync is needed.
 */
export async function requestConsumerKey(options: {
  connection: OvhEndpoint & Omit<OvhApplicationKeys, 'consumerKey'>;
  timeoutMs: number;
  accessRules: readonly OvhAccessRule[];
  redirection?: string | undefined;
}): Promise<ConsumerKeyRequest> {
  const { connection } = options;
  const operation = 'POST /auth/credential';
  const unregister = registerOvhEndpoint({
    host: connection.host,
    port: connection.port,
    caPem: connection.caPem,
    proxy: connection.proxy,
  });
  try {
    const ovh = createNodeOvh({
      appKey: connection.appKey,
      appSecret: connection.appSecret,
      host: connection.host,
      port: connection.port,
      basePath: connection.basePath,
    });
    ovh.apiTimeDiff = 0;
    const params = {
      accessRules: options.accessRules.map((rule) => ({ method: rule.method, path: rule.path })),
      ...(options.redirection !== undefined && { redirection: options.redirection }),
    };
    const result = await sendWithDeadline(ovh, 'POST', '/auth/credential', params, operation, options.timeoutMs);
    if (!result.ok) throw result.error;
    return parseResponse(ConsumerKeyRequestSchema, result.value, operation, 1);
  } finally {
    unregister();
  }
}

function cleanParams(params: Params | undefined, operation: string): Record<string, ParamValue> {
  const clean: Record<string, ParamValue> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new OvhApiError({ kind: 'input', operation, ovhMessage: `${key} is not a finite number` });
    }
    clean[key] = value;
  }
  return clean;
}

function parseResponse<T>(schema: z.ZodType<T>, value: unknown, operation: string, attempts: number): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  throw new OvhApiError({
    kind: 'parse',
    operation,
    ovhMessage: `response does not match OVH's model${where}: ${first?.message ?? 'invalid'}`,
    attempts,
  });
}

function withAttempts(error: OvhApiError, attempts: number): OvhApiError {
  return new OvhApiError({
    kind: error.kind,
    operation: error.operation,
    httpStatus: error.httpStatus,
    ovhMessage: error.ovhMessage,
    cause: error.cause,
    attempts,
  });
}

function isRetryable(error: OvhApiError): boolean {
  switch (error.kind) {
    case 'network':
      return true;
    case 'parse':
      // node-ovh reports any non-JSON answer this way; in practice a proxy's HTML 502/503/408 page.
      return error.ovhMessage === NON_JSON_MESSAGE;
    case 'http':
      return error.httpStatus === 429 || (error.httpStatus !== undefined && error.httpStatus >= 500);
    default:
      return false;
  }
}

const NON_JSON_MESSAGE = 'OVH answered with a body that is not JSON (often a proxy error page)';

function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** Maps whatever node-ovh produced to an OvhApiError (see ovh-api.md §4.4 for the shapes). */
export function classify(error: OvhCallbackError, response: unknown, operation: string): OvhApiError {
  if (typeof error === 'number') {
    if (error >= 100) {
      const ovhMessage = typeof response === 'string' ? response : undefined;
      const kind: OvhErrorKind = error === 400 && ovhMessage === 'Query out of time' ? 'clock' : 'http';
      return new OvhApiError({ kind, operation, httpStatus: error, ovhMessage });
    }
    // A negative errno from the socket (e.g. -111 for ECONNREFUSED).
    return new OvhApiError({ kind: 'network', operation, ovhMessage: errnoName(error) });
  }
  if (typeof error === 'string') {
    if (error.includes('Unable to parse JSON')) {
      return new OvhApiError({ kind: 'parse', operation, ovhMessage: NON_JSON_MESSAGE });
    }
    return new OvhApiError({ kind: 'network', operation, ovhMessage: error });
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const ovhMessage = code !== undefined ? `${code}: ${error.message}` : error.message;
    return new OvhApiError({ kind: 'network', operation, ovhMessage, cause: error });
  }
  return new OvhApiError({ kind: 'network', operation, ovhMessage: 'unknown failure inside node-ovh' });
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}
