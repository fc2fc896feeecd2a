import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { iamActionOf } from '../iam.js';
import { describeZodError, notFound, SimulatorApiError } from './api-error.js';
import {
  authenticate,
  type ConsumerKeySpec,
  type ConsumerRecord,
  CredentialRequestSchema,
  CredentialStore,
  checkApplicationKey,
  FULL_NASHA_ACCESS,
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
import {
  type IamPolicyInput,
  IamPolicyInputSchema,
  IamStore,
  SANDBOX_NICHANDLE,
  SANDBOX_SERVICE_ACCOUNT,
  type ServiceAccountSpec,
} from './iam.js';
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
/** The OAuth2 token endpoint (on the simulator's origin, like OVH's `…/auth/oauth2/token`). */
export const TOKEN_PATH = '/auth/oauth2/token';
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
  /** Service accounts (OAuth2 client credentials). Default: SANDBOX_SERVICE_ACCOUNT. */
  serviceAccounts?: readonly ServiceAccountSpec[] | undefined;
  /**
   * IAM policies in force. Default: the sandbox service account may do everything on NAS-HA (`nasHA:apiovh:*`)
   * on every seeded service, and read its account (GET /me).
   */
  iamPolicies?: readonly IamPolicyInput[] | undefined;
  /** `expires_in` of issued tokens. Default 3599, as OVH. */
  tokenLifetimeSeconds?: number | undefined;
  /** The account's nichandle (GET /me; identity URNs). Default SANDBOX_NICHANDLE. */
  nichandle?: string | undefined;
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
  /** Identity URN of a call authenticated with a service-account token, else null. */
  identity: string | null;
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
  /** `https://127.0.0.1:<port>/auth/oauth2/token` (OVH_TOKEN_URL). */
  readonly tokenUrl: string;
  /** Service accounts, tokens and IAM policies. */
  readonly iam: IamStore;
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
  private iamStore: IamStore;
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
    this.iamStore = this.buildIam();
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

  get tokenUrl(): string {
    return `${this.origin}${TOKEN_PATH}`;
  }

  get iam(): IamStore {
    return this.iamStore;
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
    this.iamStore = this.buildIam();
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
    // The sandbox key is the account owner's: NAS-HA, and the account and IAM routes `ovh:credentials --iam` uses.
    const accessRules = [...FULL_NASHA_ACCESS, ...ACCOUNT_ACCESS];
    return new CredentialStore({ appKey, appSecret }, [
      { consumerKey, accessRules },
      ...(this.options.consumerKeys ?? []),
    ]);
  }

  private buildIam(): IamStore {
    const nichandle = this.options.nichandle ?? SANDBOX_NICHANDLE;
    const accounts = this.options.serviceAccounts ?? [SANDBOX_SERVICE_ACCOUNT];
    const sandbox: IamPolicyInput[] = accounts.map((account) => ({
      name: `sandbox-${account.clientId}`,
      identities: [`urn:v1:eu:identity:credential:${nichandle}/oauth2-${account.clientId}`],
      resources: [
        ...this.state.listServices().map((name) => ({ urn: this.state.getService(name).iam.urn })),
        { urn: accountUrn(nichandle) },
      ],
      permissions: { allow: [{ action: 'nasHA:apiovh:*' }, { action: 'account:apiovh:me/get' }] },
    }));
    return new IamStore(
      {
        nichandle,
        serviceAccounts: accounts,
        policies: this.options.iamPolicies ?? sandbox,
        tokenLifetimeSeconds: this.options.tokenLifetimeSeconds ?? 3_599,
      },
      this.authNow,
    );
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
    // The v1 API under /1.0; the v2 branch (IAM) and the OAuth2 token endpoint at the root, as on OVH.
    const v1 = path === BASE_PATH || path.startsWith(`${BASE_PATH}/`);
    if (!v1 && !path.startsWith('/v2/') && path !== TOKEN_PATH) {
      sendRaw(res, 404, JSON.stringify({ class: 'Client::NotFound', message: INVALID_URL }));
      return;
    }

    const apiPath = v1 ? path.slice(BASE_PATH.length) || '/' : path;
    const entry: RequestLogEntry = {
      method,
      path,
      query: Object.fromEntries(query),
      status: 0,
      at: this.authNow(),
      queryId: String(res.getHeader('X-Ovh-QueryID')),
      consumerKey: null,
      identity: null,
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
    if (apiPath === TOKEN_PATH) {
      const answer =
        method === 'POST'
          ? this.iamStore.issueToken(req.headers, rawBody)
          : { status: 405, body: { error: 'invalid_request', error_description: 'POST only' } };
      entry.applied = answer.status === 200;
      return this.reply(res, entry, answer.status, JSON.stringify(answer.body));
    }

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
    const authorization = header(req.headers, 'authorization');
    if (authorization !== undefined && /^Bearer /i.test(authorization)) {
      return this.dispatchBearer(req, method, apiPath, query, rawBody, authorization, entry);
    }
    const isCurrentCredential = apiPath === '/auth/currentCredential' && method === 'GET';
    const account = accountRoute(method, apiPath);
    const match = isCurrentCredential || account !== undefined ? undefined : matchRoute(NASHA_ROUTES, method, apiPath);
    if (!isCurrentCredential && account === undefined && match === undefined) throw notFound(INVALID_URL);

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
    if (account !== undefined) return this.accountCall(account, rawBody);
    if (match === undefined) return currentCredential(consumer);
    return this.runRoute(match, method, query, rawBody);
  }

  /**
   * A call with a service-account token: no signature, no timestamp; IAM decides, per action and resource URN.
   * The list of services shows only those the identity may `nasHA:apiovh:get` (OVH filters lists by IAM).
   */
  private dispatchBearer(
    req: IncomingMessage,
    method: string,
    apiPath: string,
    query: URLSearchParams,
    rawBody: string,
    authorization: string,
    entry: RequestLogEntry,
  ): unknown {
    const account = accountRoute(method, apiPath);
    const match = account === undefined ? matchRoute(NASHA_ROUTES, method, apiPath) : undefined;
    if (account === undefined && match === undefined) throw notFound(INVALID_URL);
    const identity = this.iamStore.authenticate(authorization);
    entry.identity = identity;
    if (rawBody.trim() !== '' && !String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new SimulatorApiError(400, {
        class: 'Client::BadRequest',
        message: 'Invalid content type: a JSON body needs Content-Type: application/json',
      });
    }
    const nichandle = this.iamStore.nichandle;
    if (account !== undefined) {
      this.iamStore.authorize(identity, ACCOUNT_ACTIONS[account], accountUrn(nichandle));
      return this.accountCall(account, rawBody);
    }
    if (match === undefined) throw notFound(INVALID_URL);
    const action = iamActionOf(match.route.method, match.route.template);
    const serviceName = match.params.get('serviceName');
    if (serviceName === undefined) {
      const visible = this.state
        .listServices()
        .filter((name) => this.iamStore.allows(identity, action, this.state.getService(name).iam.urn));
      return visible;
    }
    // The URN OVH gives the service, also for one that does not exist (then the route answers 404 if allowed).
    this.iamStore.authorize(identity, action, `urn:v1:eu:resource:nasHA:${serviceName}`);
    return this.runRoute(match, method, query, rawBody);
  }

  private runRoute(
    match: NonNullable<ReturnType<typeof matchRoute>>,
    method: string,
    query: URLSearchParams,
    rawBody: string,
  ): unknown {
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

  /** GET /me, GET and POST /v2/iam/policy. */
  private accountCall(route: AccountRoute, rawBody: string): unknown {
    switch (route) {
      case 'me':
        return { nichandle: this.iamStore.nichandle, state: 'complete', country: 'FR' };
      case 'listPolicies':
        return this.iamStore.listPolicies();
      case 'createPolicy': {
        const parsed = IamPolicyInputSchema.safeParse(parseJsonBody(rawBody) ?? {});
        if (!parsed.success) {
          throw new SimulatorApiError(400, {
            class: 'Client::BadRequest',
            message: describeZodError(parsed.error, ''),
          });
        }
        if (this.iamStore.listPolicies().some((p) => p.name === parsed.data.name)) {
          throw new SimulatorApiError(409, {
            class: 'Client::Conflict',
            message: `A policy named ${parsed.data.name} already exists`,
          });
        }
        return this.iamStore.addPolicy(parsed.data);
      }
    }
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

/** The account's resource URN (IAM target of GET /me and policy management). */
function accountUrn(nichandle: string): string {
  return `urn:v1:eu:resource:account:${nichandle}`;
}

type AccountRoute = 'me' | 'listPolicies' | 'createPolicy';
const ACCOUNT_ACTIONS: Readonly<Record<AccountRoute, string>> = {
  me: 'account:apiovh:me/get',
  listPolicies: 'iam:apiovh:policy/get',
  createPolicy: 'iam:apiovh:policy/create',
};

function accountRoute(method: string, apiPath: string): AccountRoute | undefined {
  if (method === 'GET' && apiPath === '/me') return 'me';
  if (apiPath === '/v2/iam/policy')
    return method === 'GET' ? 'listPolicies' : method === 'POST' ? 'createPolicy' : undefined;
  return undefined;
}

/** What the account owner's consumer key may call beyond NAS-HA: the account and IAM policies. */
const ACCOUNT_ACCESS = [
  { method: 'GET', path: '/me' },
  { method: 'GET', path: '/v2/iam/policy' },
  { method: 'POST', path: '/v2/iam/policy' },
] as const;

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}
