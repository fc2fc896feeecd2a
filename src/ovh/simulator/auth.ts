import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { type OvhErrorBody, SimulatorApiError } from './api-error.js';

/**
 * OVH v6 application-key authentication (ovh-api.md §3 and §6.2): application key, consumer key
 * with `{method, path}` access rules, and the `$1$` SHA-1 request signature.
 */

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** One consumer-key access rule; `*` in `path` matches anything, slashes included (as on OVH). */
export const AccessRuleSchema = z.strictObject({
  method: z.enum(HTTP_METHODS),
  path: z.string().startsWith('/'),
});
export type AccessRule = z.infer<typeof AccessRuleSchema>;

export interface SimulatorCredentials {
  appKey: string;
  appSecret: string;
  consumerKey: string;
}

/** The keys the simulator accepts by default (and prints from the CLI). */
export const SANDBOX_CREDENTIALS: Readonly<SimulatorCredentials> = {
  appKey: 'sandbox-app-key',
  appSecret: 'sandbox-app-secret',
  consumerKey: 'sandbox-consumer-key',
};

/** What the sandbox consumer key may call: everything under /dedicated/nasha. */
export const FULL_NASHA_ACCESS: readonly AccessRule[] = HTTP_METHODS.map((method) => ({
  method,
  path: '/dedicated/nasha*',
}));

export type CredentialStatus = 'validated' | 'pendingValidation';

export interface ConsumerKeySpec {
  consumerKey: string;
  accessRules?: readonly AccessRule[] | undefined;
  /** Default `validated`; a `pendingValidation` key is refused with INVALID_CREDENTIAL. */
  status?: CredentialStatus | undefined;
}

export interface ConsumerRecord {
  consumerKey: string;
  credentialId: number;
  accessRules: AccessRule[];
  status: CredentialStatus;
  redirection: string | null;
  createdAt: number;
}

/** Body of POST /auth/credential. */
export const CredentialRequestSchema = z.strictObject({
  accessRules: z.array(AccessRuleSchema).min(1),
  redirection: z.string().optional(),
  allowedIPs: z.array(z.string()).nullable().optional(),
});

/** The application (AK/AS) and its consumer keys. */
export class CredentialStore {
  readonly appKey: string;
  readonly appSecret: string;
  private readonly consumers = new Map<string, ConsumerRecord>();
  private nextCredentialId = 500_000_001;

  constructor(app: { appKey: string; appSecret: string }, consumers: readonly ConsumerKeySpec[]) {
    this.appKey = app.appKey;
    this.appSecret = app.appSecret;
    for (const spec of consumers) this.addConsumer(spec);
  }

  addConsumer(spec: ConsumerKeySpec, redirection: string | null = null): ConsumerRecord {
    const record: ConsumerRecord = {
      consumerKey: spec.consumerKey,
      credentialId: this.nextCredentialId++,
      accessRules: (spec.accessRules ?? FULL_NASHA_ACCESS).map((rule) => ({ ...rule })),
      status: spec.status ?? 'validated',
      redirection,
      createdAt: Date.now(),
    };
    this.consumers.set(spec.consumerKey, record);
    return record;
  }

  /** POST /auth/credential: a new consumer key with exactly the requested rules, pending validation. */
  requestCredential(accessRules: readonly AccessRule[], redirection: string | null): ConsumerRecord {
    const consumerKey = randomBytes(16).toString('hex');
    return this.addConsumer({ consumerKey, accessRules, status: 'pendingValidation' }, redirection);
  }

  /** What the user does on OVH's validation page; undefined for an unknown key. */
  validate(consumerKey: string): ConsumerRecord | undefined {
    const record = this.consumers.get(consumerKey);
    if (record !== undefined) record.status = 'validated';
    return record;
  }

  get(consumerKey: string): ConsumerRecord | undefined {
    return this.consumers.get(consumerKey);
  }
}

const authError = (status: number, errorCode: string, message: string): SimulatorApiError => {
  const httpCode = status === 400 ? '400 Bad Request' : status === 403 ? '403 Forbidden' : `${status}`;
  return new SimulatorApiError(status, { errorCode, httpCode, message } satisfies OvhErrorBody);
};

export const AUTH_ERRORS = {
  invalidKey: () => authError(403, 'INVALID_KEY', 'Invalid application key'),
  notCredential: () => authError(403, 'NOT_CREDENTIAL', 'This credential does not exist'),
  invalidCredential: () => authError(403, 'INVALID_CREDENTIAL', 'This credential is not valid'),
  queryTimeOut: () => authError(400, 'QUERY_TIME_OUT', 'Query out of time'),
  invalidSignature: () => authError(400, 'INVALID_SIGNATURE', 'Invalid signature'),
  notGranted: () => authError(403, 'NOT_GRANTED_CALL', 'This call has not been granted'),
  loginFirst: () => new SimulatorApiError(401, { class: 'Client::Unauthorized', message: 'You must login first' }),
};

export interface SignedRequest {
  method: string;
  /** `req.url` as received: base path, path and query string (signed verbatim). */
  url: string;
  /** Path after the base path, without query (what access rules match). */
  apiPath: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export interface AuthContext {
  store: CredentialStore;
  /** Host the client signs with (node-ovh: its `host` option, never the port). */
  publicHost: string;
  /** Server time in seconds (wall clock + skew). */
  serverSeconds: number;
  toleranceSeconds: number;
}

/** `$1$` + SHA-1 of `AS+CK+METHOD+URL+BODY+TIMESTAMP` joined with `+`. */
export function ovhSignature(parts: {
  appSecret: string;
  consumerKey: string;
  method: string;
  url: string;
  body: string;
  timestamp: string;
}): string {
  const payload = [parts.appSecret, parts.consumerKey, parts.method, parts.url, parts.body, parts.timestamp].join('+');
  return `$1$${createHash('sha1').update(payload).digest('hex')}`;
}

/** Only the application key is checked (POST /auth/credential). */
export function checkApplicationKey(store: CredentialStore, headers: IncomingHttpHeaders): void {
  if (header(headers, 'x-ovh-application') !== store.appKey) throw AUTH_ERRORS.invalidKey();
}

/** Full check of a signed call; throws the OVH error, returns the consumer on success. */
export function authenticate(request: SignedRequest, ctx: AuthContext): ConsumerRecord {
  const { headers } = request;
  checkApplicationKey(ctx.store, headers);
  const consumerKey = header(headers, 'x-ovh-consumer');
  const signature = header(headers, 'x-ovh-signature');
  if (consumerKey === undefined || signature === undefined) throw AUTH_ERRORS.loginFirst();
  const consumer = ctx.store.get(consumerKey);
  if (consumer === undefined) throw AUTH_ERRORS.notCredential();

  const timestamp = header(headers, 'x-ovh-timestamp') ?? '';
  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!(Math.abs(seconds - ctx.serverSeconds) <= ctx.toleranceSeconds)) throw AUTH_ERRORS.queryTimeOut();

  const expected = ovhSignature({
    appSecret: ctx.store.appSecret,
    consumerKey,
    method: request.method,
    url: `https://${ctx.publicHost}${request.url}`,
    body: request.rawBody,
    timestamp,
  });
  if (signature !== expected) throw AUTH_ERRORS.invalidSignature();
  if (consumer.status !== 'validated') throw AUTH_ERRORS.invalidCredential();

  // Any valid credential may inspect itself; everything else needs a matching rule.
  const selfService = request.apiPath.startsWith('/auth/');
  if (!selfService && !consumer.accessRules.some((rule) => ruleAllows(rule, request.method, request.apiPath))) {
    throw AUTH_ERRORS.notGranted();
  }
  return consumer;
}

export function ruleAllows(rule: AccessRule, method: string, apiPath: string): boolean {
  return rule.method === method && globToRegExp(rule.path).test(apiPath);
}

/** `*` matches any run of characters (slashes included); everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}
