import { request } from 'node:https';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import type { OvhOAuth2Credentials } from './config.js';
import { OvhApiError } from './errors.js';

/**
 * OAuth2 client-credentials tokens for an OVH service account. node-ovh 3.0 fetches them itself (simple-oauth2)
 * with defects that matter to a bot (ovh-api.md, "Service accounts"): every concurrent first call fetches its own
 * token, the fetch has no deadline and goes through simple-oauth2's own HTTPS agent (so OVH_CA_FILE and
 * HTTPS_PROXY do not apply), and a 401 is never retried with a new token. So the transport gets tokens here and
 * hands node-ovh one it will not judge expired: one fetch in flight at a time, shared by every caller, with a
 * deadline, through the same agent as the API calls, renewed well before expiry and again after a 401.
 */

/** What node-ovh reads from its `accessToken` (a simple-oauth2 AccessToken): the token and `expired(seconds)`. */
export interface NodeOvhAccessToken {
  token: { access_token: string };
  expired(withinSeconds?: number): boolean;
}

export interface ServiceAccountToken extends NodeOvhAccessToken {
  /** Clock ms at which OVH stops accepting it. */
  readonly expiresAt: number;
}

const TokenResponseSchema = z.object({
  access_token: z.string().regex(/^[\x21-\x7e]{1,8192}$/, 'access_token is not a header-safe token'),
  token_type: z.string().regex(/^bearer$/i, 'token_type is not Bearer'),
  expires_in: z
    .number()
    .int()
    .positive()
    .max(366 * 86_400),
});
const TokenErrorSchema = z.object({ error: z.string().optional(), error_description: z.string().optional() });

export const TOKEN_OPERATION = 'POST /oauth2/token';

export interface OAuth2TokenSourceOptions {
  credentials: OvhOAuth2Credentials;
  /** Deadline of one token request. */
  timeoutMs: number;
  /** Expiry is tracked on this clock (tests: a ManualClock). */
  clock: Clock;
  /** Renew when less than this is left (default 60 s; at most half the token's lifetime). */
  refreshMarginMs?: number;
}

export class OAuth2TokenSource {
  private readonly credentials: OvhOAuth2Credentials;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly refreshMarginMs: number;
  private current: { token: ServiceAccountToken; renewAt: number } | undefined;
  private fetching: Promise<ServiceAccountToken> | undefined;
  constructor(options: OAuth2TokenSourceOptions) {
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.refreshMarginMs = options.refreshMarginMs ?? 60_000;
  }

  /** A token valid for a while yet; every caller waiting meanwhile shares one request. Throws OvhApiError. */
  token(): Promise<ServiceAccountToken> {
    const current = this.current;
    if (current !== undefined && this.clock.now() < current.renewAt) return Promise.resolve(current.token);
    if (this.fetching === undefined) {
      this.fetching = this.fetch().finally(() => {
        this.fetching = undefined;
      });
    }
    return this.fetching;
  }

  /** OVH refused `token` (a 401): the next `token()` fetches a new one, unless one was fetched meanwhile. */
  invalidate(token: ServiceAccountToken): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async fetch(): Promise<ServiceAccountToken> {
    const issuedAt = this.clock.now();
    const { status, body } = await postForm(this.credentials, this.timeoutMs);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    if (status !== 200) {
      const refusal = TokenErrorSchema.safeParse(json);
      const words = refusal.success ? [refusal.data.error, refusal.data.error_description].filter(Boolean) : [];
      throw new OvhApiError({
        kind: 'http',
        operation: TOKEN_OPERATION,
        httpStatus: status,
        ovhMessage:
          words.length > 0 ? `token endpoint refused the service account: ${words.join(': ')}` : `HTTP ${status}`,
      });
    }
    const parsed = TokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new OvhApiError({
        kind: 'parse',
        operation: TOKEN_OPERATION,
        ovhMessage: `token response does not match OAuth2's: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      });
    }
    const lifetimeMs = parsed.data.expires_in * 1_000;
    const expiresAt = issuedAt + lifetimeMs;
    const clock = this.clock;
    const token: ServiceAccountToken = {
      token: { access_token: parsed.data.access_token },
      expiresAt,
      expired: (withinSeconds = 0) => clock.now() >= expiresAt - withinSeconds * 1_000,
    };
    this.current = { token, renewAt: expiresAt - Math.min(this.refreshMarginMs, lifetimeMs / 2) };
    return token;
  }
}

/**
 * POST grant_type=client_credentials&scope=all (scope `all`, as node-ovh asks), client authenticated with HTTP
 * Basic (RFC 6749 §2.3.1). Through https.globalAgent, which carries the endpoint's CA and proxy
 * (endpoint-agent.ts). Never hangs past `timeoutMs`.
 */
function postForm(credentials: OvhOAuth2Credentials, timeoutMs: number): Promise<{ status: number; body: string }> {
  const form = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const basic = Buffer.from(`${form(credentials.clientId)}:${form(credentials.clientSecret)}`).toString('base64');
  const payload = 'grant_type=client_credentials&scope=all';
  return new Promise((resolve, reject) => {
    const req = request(credentials.tokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new OvhApiError({
          kind: 'timeout',
          operation: TOKEN_OPERATION,
          ovhMessage: `no answer within ${timeoutMs} ms`,
        }),
      );
    }, timeoutMs);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const ovhMessage = error.code !== undefined ? `${error.code}: ${error.message}` : error.message;
      reject(new OvhApiError({ kind: 'network', operation: TOKEN_OPERATION, ovhMessage, cause: error }));
    });
    req.end(payload);
  });
}
