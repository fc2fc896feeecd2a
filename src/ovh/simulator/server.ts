import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { describeZodError, notFound, SimulatorApiError } from './api-error.js';
import {
  authenticate,
  type ConsumerKeySpec,
  type ConsumerRecord,
  CredentialRequestSchema,
  CredentialStore,
  checkApplicationKey,
  SANDBOX_CREDENTIALS,
  type SimulatorCredentials,
} from './auth.js';
import { generateLoopbackCertificate, type LoopbackCertificate } from './cert.js';
import {
  type Fault,
  type FaultRule,
  FaultSet,
  faultAnswer,
  type HeldRelease,
  HeldReleaseSchema,
  parseFaultRules,
} from './faults.js';
import { matchRoute, NASHA_ROUTES } from './routes.js';
import type { SimulatorSeed } from './seed.js';
import {
  definedOnly,
  formatOvhDate,
  type PartialOptions,
  PartitionDriftSchema,
  type SimulatorLimits,
  SimulatorState,
  type TaskOutcomeRule,
  TaskOutcomeRuleSchema,
  type TaskTimings,
} from './state.js';

export const BASE_PATH = '/1.0';
const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const INVALID_URL = 'Got an invalid (or empty) URL';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 0 (an ephemeral port). */
  port?: number | undefined;
  /** Default `defaultSeed(clock.now())`. */
  seed?: SimulatorSeed | undefined;
  /** Drives task progress and custom snapshot expiry. Default: the system clock. */
  clock?: Clock | undefined;
  /** Wall clock (ms) for `/auth/time`, timestamp checks and the request log. Default `Date.now`. */
  authNow?: (() => number) | undefined;
  /** Application and sandbox consumer key. Default SANDBOX_CREDENTIALS, full /dedicated/nasha access. */
  credentials?: PartialOptions<SimulatorCredentials> | undefined;
  /** More consumer keys (a spec reusing the sandbox key replaces its rules). */
  consumerKeys?: readonly ConsumerKeySpec[] | undefined;
  /** Validate credentials from POST /auth/credential immediately (no visit to validationUrl). */
  autoValidateCredentials?: boolean | undefined;
  taskTimings?: PartialOptions<TaskTimings> | undefined;
  limits?: PartialOptions<SimulatorLimits> | undefined;
  faults?: readonly FaultRule[] | undefined;
  taskOutcomes?: readonly TaskOutcomeRule[] | undefined;
  /** Accepted |X-Ovh-Timestamp − server time|. Default 180. */
  timestampToleranceSeconds?: number | undefined;
  /** Server clock offset from `authNow`, in seconds. Default 0. */
  skewSeconds?: number | undefined;
  /** Host the signature is checked against (node-ovh signs `https://<host><path>`, no port). Default `host`. */
  publicHost?: string | undefined;
  /** TLS certificate; generated (self-signed, loopback) when absent. */
  cert?: LoopbackCertificate | undefined;
  /** Larger request bodies get 413. Default 64 KiB. */
  maxBodyBytes?: number | undefined;
  /** Called for every logged request (the CLI prints them). */
  onRequest?: ((entry: RequestLogEntry) => void) | undefined;
}

/** One `/1.0` request, logged when it is answered (so the log is in completion order). */
export interface RequestLogEntry {
  method: string;
  /** As received, without the query string, e.g. `/1.0/dedicated/nasha`. */
  path: string;
  query: Record<string, string>;
  /** HTTP status sent; 0 when none was (stall, reset, client gone first). */
  status: number;
  /** Wall-clock ms (`authNow`) at arrival. */
  at: number;
  queryId: string;
  /** Consumer key of an authenticated call, else null. */
  consumerKey: string | null;
  /** The fault that hit this request, if any (latency is reported unless a terminal fault followed). */
  fault: Fault['type'] | null;
  /** The route ran and succeeded: for a change, OVH made it (its task exists), whatever answer was sent. */
  applied: boolean;
}

/** A request a `hold` fault keeps waiting until the test releases it. */
export interface HeldRequest {
  id: number;
  method: string;
  /** As received, without the query string. */
  path: string;
  /** OVH already ran it (an `afterApply` hold): the change is made, only the answer waits. */
  applied: boolean;
  /** Wall-clock ms (`authNow`) when it was held. */
  since: number;
}

export interface Simulator {
  /** `https://127.0.0.1:<port>/1.0` */
  readonly baseUrl: string;
  /** `https://127.0.0.1:<port>` (control endpoint under `/_sim/`). */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  /** PEM of the self-signed certificate, to pass as `ca`. */
  readonly caCertPem: string;
  readonly credentials: Readonly<SimulatorCredentials>;
  /** Live log of `/1.0` requests (including `/auth/time`). */
  readonly requests: readonly RequestLogEntry[];
  readonly state: SimulatorState;
  addFaults(...rules: FaultRule[]): void;
  clearFaults(): void;
  readonly faults: FaultRule[];
  addTaskOutcomes(...rules: TaskOutcomeRule[]): void;
  clearTaskOutcomes(): void;
  setSkew(seconds: number): void;
  readonly skewSeconds: number;
  addConsumerKey(spec: ConsumerKeySpec): void;
  /** Same as visiting the validation URL; false for an unknown key. */
  validateCredential(consumerKey: string): boolean;
  clearRequests(): void;
  /** Requests held by `hold` faults, oldest first. */
  readonly held: readonly HeldRequest[];
  /** The first held request matching `filter`, as soon as there is one; rejects after `timeoutMs`. */
  waitForHeld(filter?: (held: HeldRequest) => boolean, timeoutMs?: number): Promise<HeldRequest>;
  /** Lets a held request go on (`continue`, the default) or drops its connection; false for an unknown id. */
  releaseHeld(id: number, action?: HeldRelease): boolean;
  /** Back to the startup state: seed, startup faults/outcomes/skew/credentials, empty log. */
  reset(): void;
  /** Stops listening and destroys every connection, stalled ones included. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const cert = options.cert ?? (await generateLoopbackCertificate());
  const simulator = new RunningSimulator(options, cert);
  await simulator.listen(options.port ?? 0);
  return simulator;
}

const SkewBodySchema = z.strictObject({ seconds: z.number().int().min(-1e9).max(1e9) });

interface Hold {
  request: HeldRequest;
  resolve: (action: HeldRelease) => void;
}

interface HeldWaiter {
  filter: (held: HeldRequest) => boolean;
  resolve: (held: HeldRequest) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

class RunningSimulator implements Simulator {
  readonly host: string;
  readonly caCertPem: string;
  readonly credentials: Readonly<SimulatorCredentials>;
  readonly state: SimulatorState;
  private readonly options: SimulatorOptions;
  private readonly server: Server;
  private readonly authNow: () => number;
  private readonly publicHost: string;
  private readonly maxBodyBytes: number;
  private readonly faultSet = new FaultSet();
  private readonly log: RequestLogEntry[] = [];
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: (alive: boolean) => void }>();
  private readonly holds: Hold[] = [];
  private readonly heldWaiters = new Set<HeldWaiter>();
  private heldCounter = 0;
  private store: CredentialStore;
  private skew: number;
  private queryCounter = 0;
  private listeningPort = 0;
  private closed = false;

  constructor(options: SimulatorOptions, cert: LoopbackCertificate) {
    this.options = options;
    this.host = options.host ?? '127.0.0.1';
    this.publicHost = options.publicHost ?? this.host;
    this.caCertPem = cert.certPem;
    this.credentials = { ...SANDBOX_CREDENTIALS, ...definedOnly(options.credentials) };
    this.authNow = options.authNow ?? Date.now;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.state = new SimulatorState({
      seed: options.seed,
      clock: options.clock,
      taskTimings: options.taskTimings,
      limits: options.limits,
      taskOutcomes: options.taskOutcomes,
    });
    this.store = this.buildStore();
    this.skew = options.skewSeconds ?? 0;
    this.faultSet.add(options.faults ?? []);
    this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      this.handle(req, res).catch(() => {
        // Last resort: never let one request take the process down.
        if (!res.headersSent && !res.destroyed) sendRaw(res, 500, internalErrorBody());
        else res.destroy();
      });
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        this.listeningPort = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  get port(): number {
    return this.listeningPort;
  }

  get origin(): string {
    return `https://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get baseUrl(): string {
    return `${this.origin}${BASE_PATH}`;
  }

  get requests(): readonly RequestLogEntry[] {
    return this.log;
  }

  get faults(): FaultRule[] {
    return this.faultSet.list();
  }

  get skewSeconds(): number {
    return this.skew;
  }

  addFaults(...rules: FaultRule[]): void {
    this.faultSet.add(rules);
  }

  clearFaults(): void {
    this.faultSet.clear();
  }

  addTaskOutcomes(...rules: TaskOutcomeRule[]): void {
    this.state.addTaskOutcomes(rules.map((rule) => TaskOutcomeRuleSchema.parse(rule)));
  }

  clearTaskOutcomes(): void {
    this.state.clearTaskOutcomes();
  }

  setSkew(seconds: number): void {
    this.skew = seconds;
  }

  addConsumerKey(spec: ConsumerKeySpec): void {
    this.store.addConsumer(spec);
  }

  validateCredential(consumerKey: string): boolean {
    return this.store.validate(consumerKey) !== undefined;
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  get held(): readonly HeldRequest[] {
    return this.holds.map((hold) => ({ ...hold.request }));
  }

  waitForHeld(filter: (held: HeldRequest) => boolean = () => true, timeoutMs = 10_000): Promise<HeldRequest> {
    const present = this.holds.find((hold) => filter(hold.request));
    if (present !== undefined) return Promise.resolve({ ...present.request });
    return new Promise((resolve, reject) => {
      const waiter: HeldWaiter = {
        filter,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.heldWaiters.delete(waiter);
          reject(new Error(`no matching request was held within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.heldWaiters.add(waiter);
    });
  }

  releaseHeld(id: number, action: HeldRelease = 'continue'): boolean {
    const index = this.holds.findIndex((hold) => hold.request.id === id);
    const hold = this.holds[index];
    if (hold === undefined) return false;
    this.holds.splice(index, 1);
    hold.resolve(action);
    return true;
  }

  reset(): void {
    this.dropHeld();
    this.state.reset();
    this.faultSet.clear();
    this.faultSet.add(this.options.faults ?? []);
    this.skew = this.options.skewSeconds ?? 0;
    this.store = this.buildStore();
    this.clearRequests();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve(false);
    }
    this.sleepers.clear();
    this.dropHeld();
    for (const waiter of this.heldWaiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the simulator closed'));
    }
    this.heldWaiters.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- request handling ----------------------------------------------------------------------

  private buildStore(): CredentialStore {
    const { appKey, appSecret, consumerKey } = this.credentials;
    return new CredentialStore({ appKey, appSecret }, [{ consumerKey }, ...(this.options.consumerKeys ?? [])]);
  }

  private serverSeconds(): number {
    return Math.floor(this.authNow() / 1000) + this.skew;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Ovh-QueryID', `SIM.${++this.queryCounter}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));

    if (path === '/_sim' || path.startsWith('/_sim/')) return this.handleControl(req, res, method, path);
    if (path !== BASE_PATH && !path.startsWith(`${BASE_PATH}/`)) {
      sendRaw(res, 404, JSON.stringify({ class: 'Client::NotFound', message: INVALID_URL }));
      return;
    }

    const apiPath = path.slice(BASE_PATH.length) || '/';
    const entry: RequestLogEntry = {
      method,
      path,
      query: Object.fromEntries(query),
      status: 0,
      at: this.authNow(),
      queryId: String(res.getHeader('X-Ovh-QueryID')),
      consumerKey: null,
      fault: null,
      applied: false,
    };

    // Faults model OVH's front-end, so they hit before authentication and routing (or, with
    // `afterApply`, replace the answer of a request OVH ran).
    const { latencyMs, fault } = this.faultSet.take(method, apiPath);
    if (latencyMs > 0) {
      entry.fault = 'latency';
      if (!(await this.delay(latencyMs))) return;
    }
    if (fault !== undefined) entry.fault = fault.type;
    const before = fault !== undefined && fault.afterApply !== true ? fault : undefined;
    const after = fault !== undefined && fault.afterApply === true ? fault : undefined;
    if (before !== undefined && before.type !== 'hold') {
      if (before.type === 'stall') return this.record(entry);
      if (before.type === 'reset') return this.drop(req, entry);
      const answer = faultAnswer(before);
      return this.reply(res, entry, answer.status, answer.body, answer.contentType);
    }

    const rawBody = await readBody(req, this.maxBodyBytes);
    if (rawBody === undefined) return this.record(entry);
    if (rawBody === TOO_LARGE) {
      res.setHeader('Connection', 'close');
      return this.reply(res, entry, TOO_LARGE_ERROR.status, JSON.stringify(TOO_LARGE_ERROR.body));
    }
    // Held once the whole request arrived: released with `continue`, OVH runs it even if the client left.
    if (before?.type === 'hold' && (await this.hold(method, path, false)) === 'drop') return this.drop(req, entry);

    let status = 200;
    let body: string;
    try {
      body = JSON.stringify(this.dispatch(req, method, url, apiPath, query, rawBody, entry));
      entry.applied = true;
    } catch (error) {
      status = error instanceof SimulatorApiError ? error.status : 500;
      body = error instanceof SimulatorApiError ? JSON.stringify(error.body) : internalErrorBody();
    }
    if (after !== undefined) {
      if (after.type === 'stall') return this.record(entry);
      if (after.type === 'reset') return this.drop(req, entry);
      if (after.type === 'hold') {
        if ((await this.hold(method, path, entry.applied)) === 'drop') return this.drop(req, entry);
      } else {
        const answer = faultAnswer(after);
        return this.reply(res, entry, answer.status, answer.body, answer.contentType);
      }
    }
    this.reply(res, entry, status, body);
  }

  /** Waits until the test releases this request (the simulator closing drops it). */
  private hold(method: string, path: string, applied: boolean): Promise<HeldRelease> {
    if (this.closed) return Promise.resolve('drop');
    return new Promise((resolve) => {
      const request: HeldRequest = { id: ++this.heldCounter, method, path, applied, since: this.authNow() };
      this.holds.push({ request, resolve });
      for (const waiter of [...this.heldWaiters]) {
        if (!waiter.filter(request)) continue;
        clearTimeout(waiter.timer);
        this.heldWaiters.delete(waiter);
        waiter.resolve({ ...request });
      }
    });
  }

  private dropHeld(): void {
    for (const hold of this.holds.splice(0)) hold.resolve('drop');
  }

  /** Destroys the connection without an answer. */
  private drop(req: IncomingMessage, entry: RequestLogEntry): void {
    this.record(entry);
    req.socket.destroy();
  }

  private dispatch(
    req: IncomingMessage,
    method: string,
    url: string,
    apiPath: string,
    query: URLSearchParams,
    rawBody: string,
    entry: RequestLogEntry,
  ): unknown {
    if (apiPath === '/auth/time' && method === 'GET') return this.serverSeconds();
    if (apiPath === '/auth/credential' && method === 'POST') {
      checkApplicationKey(this.store, req.headers);
      return this.requestCredential(parseJsonBody(rawBody));
    }
    const isCurrentCredential = apiPath === '/auth/currentCredential' && method === 'GET';
    const match = isCurrentCredential ? undefined : matchRoute(NASHA_ROUTES, method, apiPath);
    if (!isCurrentCredential && match === undefined) throw notFound(INVALID_URL);

    const consumer = authenticate(
      { method, url, apiPath, headers: req.headers, rawBody },
      {
        store: this.store,
        publicHost: this.publicHost,
        serverSeconds: this.serverSeconds(),
        toleranceSeconds: this.options.timestampToleranceSeconds ?? 180,
      },
    );
    entry.consumerKey = consumer.consumerKey;
    if (match === undefined) return currentCredential(consumer);

    const body = method === 'POST' || method === 'PUT' ? parseJsonBody(rawBody) : undefined;
    return match.route.handle({
      state: this.state,
      query,
      body,
      param: (name) => {
        const value = match.params.get(name);
        if (value === undefined) throw new Error(`route ${match.route.template} has no {${name}}`);
        return value;
      },
    });
  }

  private requestCredential(body: unknown): unknown {
    const parsed = CredentialRequestSchema.safeParse(body ?? {});
    if (!parsed.success) {
      throw new SimulatorApiError(400, {
        class: 'Client::BadRequest',
        message: describeZodError(parsed.error, ''),
      });
    }
    const record = this.store.requestCredential(parsed.data.accessRules, parsed.data.redirection ?? null);
    if (this.options.autoValidateCredentials === true) this.store.validate(record.consumerKey);
    // OVH always answers pendingValidation, even if validation is instant here.
    return {
      validationUrl: `${this.origin}/_sim/validate/${record.consumerKey}`,
      consumerKey: record.consumerKey,
      state: 'pendingValidation',
    };
  }

  private async handleControl(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      sendRaw(res, 403, JSON.stringify({ class: 'Client::Forbidden', message: 'Control endpoint is loopback-only' }));
      return;
    }
    const rawBody = await readBody(req, this.maxBodyBytes);
    if (rawBody === undefined) return;
    try {
      if (rawBody === TOO_LARGE) throw TOO_LARGE_ERROR;
      const body = parseJsonBody(rawBody);
      const answer = this.control(method, path, body);
      if (answer.location !== undefined) res.setHeader('Location', answer.location);
      sendRaw(res, answer.status ?? 200, JSON.stringify(answer.body));
    } catch (error) {
      const apiError =
        error instanceof SimulatorApiError
          ? error
          : new SimulatorApiError(400, { class: 'Client::BadRequest', message: String((error as Error).message) });
      sendRaw(res, apiError.status, JSON.stringify(apiError.body));
    }
  }

  /** The `/_sim/` control API: same controls as the handle's methods, for out-of-process tests. */
  private control(
    method: string,
    path: string,
    body: unknown,
  ): { body: unknown; status?: number | undefined; location?: string | undefined } {
    const held = /^\/_sim\/held\/(\d+)$/.exec(path);
    if (held !== null && method === 'POST') {
      const parsed = HeldReleaseSchema.safeParse(body ?? {});
      if (!parsed.success) throw new Error(describeZodError(parsed.error, ''));
      if (!this.releaseHeld(Number(held[1]), parsed.data.action)) throw notFound(`No held request ${held[1]}`);
      return { body: { released: Number(held[1]), action: parsed.data.action } };
    }
    const drift = /^\/_sim\/partitions\/([^/]+)\/([^/]+)$/.exec(path);
    if (drift !== null && method === 'POST') {
      const parsed = PartitionDriftSchema.safeParse(body ?? {});
      if (!parsed.success) throw new Error(describeZodError(parsed.error, ''));
      const [service = '', partition = ''] = [drift[1], drift[2]].map((part) => decodeURIComponent(part ?? ''));
      return { body: this.state.drift(service, partition, parsed.data) };
    }
    const validate = /^\/_sim\/validate\/([^/]+)$/.exec(path);
    if (validate !== null && method === 'GET') {
      const record = this.store.validate(decodeURIComponent(validate[1] ?? ''));
      if (record === undefined) throw notFound('This credential does not exist');
      const answer = { consumerKey: record.consumerKey, status: 'validated' };
      return record.redirection === null
        ? { body: answer }
        : { body: answer, status: 303, location: record.redirection };
    }
    switch (`${method} ${path}`) {
      case 'GET /_sim/faults':
        return { body: this.faults };
      case 'GET /_sim/held':
        return { body: this.held };
      case 'POST /_sim/faults':
        this.addFaults(...parseFaultRules(body));
        return { body: this.faults };
      case 'DELETE /_sim/faults':
        this.clearFaults();
        return { body: this.faults };
      case 'GET /_sim/task-outcomes':
        return { body: this.state.taskOutcomes };
      case 'POST /_sim/task-outcomes': {
        const parsed = z.array(TaskOutcomeRuleSchema).safeParse(Array.isArray(body) ? body : [body]);
        if (!parsed.success) throw new Error(describeZodError(parsed.error, 'taskOutcomes'));
        this.addTaskOutcomes(...parsed.data);
        return { body: this.state.taskOutcomes };
      }
      case 'DELETE /_sim/task-outcomes':
        this.clearTaskOutcomes();
        return { body: this.state.taskOutcomes };
      case 'POST /_sim/reset':
        this.reset();
        return { body: { reset: true } };
      case 'GET /_sim/requests':
        return { body: this.log };
      case 'DELETE /_sim/requests':
        this.clearRequests();
        return { body: this.log };
      case 'POST /_sim/skew': {
        const parsed = SkewBodySchema.safeParse(body);
        if (!parsed.success) throw new Error(describeZodError(parsed.error, ''));
        this.setSkew(parsed.data.seconds);
        return { body: { skewSeconds: this.skew } };
      }
      default:
        throw notFound(`Unknown simulator control endpoint: ${method} ${path}`);
    }
  }

  /** Waits `ms` of real time; false when the simulator closed meanwhile. */
  private delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve(!this.closed);
        }, ms),
      };
      this.sleepers.add(sleeper);
    });
  }

  private reply(res: ServerResponse, entry: RequestLogEntry, status: number, body: string, contentType = JSON_TYPE) {
    const alive = !res.destroyed && !res.writableEnded && !res.socket?.destroyed;
    entry.status = alive ? status : 0;
    this.record(entry);
    if (alive) sendRaw(res, status, body, contentType);
  }

  private record(entry: RequestLogEntry): void {
    this.log.push(entry);
    this.options.onRequest?.(entry);
  }
}

const TOO_LARGE = Symbol('too-large');
const TOO_LARGE_ERROR = new SimulatorApiError(413, {
  class: 'Client::RequestEntityTooLarge',
  message: 'Request body too large',
});

/** The raw body as text; TOO_LARGE past `limit`; undefined when the client went away first. */
function readBody(req: IncomingMessage, limit: number): Promise<string | typeof TOO_LARGE | undefined> {
  return new Promise((resolve) => {
    if (req.destroyed) {
      resolve(undefined);
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume(); // discard the upload; the 413 closes the connection
      resolve(TOO_LARGE);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: string | typeof TOO_LARGE | undefined) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(TOO_LARGE);
      else chunks.push(chunk);
    });
    req.on('end', () => settle(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => settle(undefined));
    req.on('close', () => settle(undefined));
  });
}

function parseJsonBody(rawBody: string): unknown {
  if (rawBody.trim() === '') return undefined;
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    throw new SimulatorApiError(400, { class: 'Client::BadRequest', message: 'Invalid JSON body' });
  }
}

function sendRaw(res: ServerResponse, status: number, body: string, contentType = JSON_TYPE): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function internalErrorBody(): string {
  return JSON.stringify({ class: 'Server::InternalServerError', message: 'Internal server error' });
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** GET /auth/currentCredential (OVH's auth.Credential). */
function currentCredential(consumer: ConsumerRecord): unknown {
  return {
    credentialId: consumer.credentialId,
    applicationId: 424_242,
    creation: formatOvhDate(consumer.createdAt),
    expiration: null,
    lastUse: null,
    ovhSupport: false,
    status: consumer.status,
    rules: consumer.accessRules,
    allowedIPs: null,
  };
}
