import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { ConfigError } from '../shared/config-error.js';

export { ConfigError };

// node-ovh's own table of named endpoints, so the names we accept never drift from the library's.
const nodeOvhEndpoints = createRequire(import.meta.url)('@ovhcloud/node-ovh/lib/endpoints.js') as Readonly<
  Record<string, { host: string; tokenURL?: string }>
>;

export const OVH_ENDPOINT_NAMES: readonly string[] = Object.keys(nodeOvhEndpoints);

/** Where the OVH API is, resolved from env. Never combined with node-ovh's `endpoint`. */
export interface OvhEndpoint {
  /** The name given in OVH_ENDPOINT (`ovh-eu`) or the URL as written. */
  endpoint: string;
  host: string;
  port: number;
  basePath: string;
  /** Extra CA certificate (PEM) trusted for this endpoint (and its OAuth2 token endpoint) only. */
  caPem: string | undefined;
  /** The outbound proxy to tunnel through (HTTPS_PROXY, unless NO_PROXY lists the host); direct when undefined. */
  proxy?: URL | undefined;
}

/** An OVH service account (OAuth2 client credentials) and where it gets its tokens. */
export interface OvhOAuth2Credentials {
  clientId: string;
  clientSecret: string;
  /** The token endpoint, e.g. `https://www.ovh.com/auth/oauth2/token` (OVH_TOKEN_URL, or node-ovh's for the endpoint). */
  tokenUrl: URL;
  /** The outbound proxy for the token endpoint (it is usually another host than the API). */
  proxy?: URL | undefined;
}

/** The application-key credentials: an application (key + secret) and its consumer key. */
export interface OvhApplicationKeys {
  appKey: string;
  appSecret: string;
  consumerKey: string;
}

/** Either kind of credentials, never both (node-ovh throws on both; so does the configuration). */
export type OvhCredentials =
  | (OvhApplicationKeys & { oauth2?: undefined })
  | { oauth2: OvhOAuth2Credentials; appKey?: undefined; appSecret?: undefined; consumerKey?: undefined };

/** Where and how to reach the OVH API. */
export type OvhConnectionConfig = OvhEndpoint & OvhCredentials;

/** The variables of each kind of OVH credentials, as the configuration names them. */
export const OVH_APPLICATION_KEY_VARIABLES = ['OVH_APP_KEY', 'OVH_APP_SECRET', 'OVH_CONSUMER_KEY'] as const;
export const OVH_SERVICE_ACCOUNT_VARIABLES = ['OVH_CLIENT_ID', 'OVH_CLIENT_SECRET'] as const;

/** The startup error when both kinds are set: names what is set (VAR or VAR_FILE) of each. */
export function bothCredentialKindsMessage(application: readonly string[], serviceAccount: readonly string[]): string {
  return `OVH credentials of both kinds are set: ${application.join(', ')} (an application key) and ${serviceAccount.join(', ')} (a service account). Keep one kind: OVH_CLIENT_ID and OVH_CLIENT_SECRET for a service account (recommended), or OVH_APP_KEY, OVH_APP_SECRET and OVH_CONSUMER_KEY`;
}

export interface OvhClientTuning {
  timeoutMs: number;
  requestsPerMinute: number;
  burst: number;
  maxRetries: number;
  /** How long listings are served from memory (OVH_CACHE_SECONDS); 0 keeps none. Default 5 s. */
  listingCacheMs?: number;
}

export interface OvhConfig {
  connection: OvhConnectionConfig;
  tuning: OvhClientTuning;
}

/** An application-key connection (the simulator's sandbox keys, tests). */
export type OvhApplicationKeyConnection = OvhEndpoint & OvhApplicationKeys & { oauth2?: undefined };

// Header-safe credential: node-ovh puts these in HTTP headers, and Node throws (then crashes the
// process from inside node-ovh) on characters a header cannot carry.
const credential = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .min(1, `${name} is required`)
    .max(256, `${name} is longer than 256 characters`)
    .regex(/^[\x21-\x7e]+$/, `${name} must be printable ASCII without spaces`);

/** A whole number from `min` to `max`; `fallback` when unset or blank. */
const wholeNumber = (name: string, fallback: number, max: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a whole number from ${min} to ${max}, got "${value}"`,
        });
        return z.NEVER;
      }
      return parsed;
    });

const positiveInt = (name: string, fallback: number, max: number) => wholeNumber(name, fallback, max, 1);

const EndpointSchema = z
  .string({ error: 'OVH_ENDPOINT is required' })
  .min(1, 'OVH_ENDPOINT is required')
  .transform((value, ctx) => {
    const named = nodeOvhEndpoints[value];
    if (named !== undefined) return { endpoint: value, host: named.host, port: 443, basePath: '/1.0' };
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `OVH_ENDPOINT must be one of ${OVH_ENDPOINT_NAMES.join(', ')} or an https://host[:port]/1.0 URL, got "${value}"`,
      });
      return z.NEVER;
    }
    const basePath = url.pathname.replace(/\/+$/, '');
    if (url.protocol !== 'https:' || basePath !== '/1.0' || url.search !== '' || url.hash !== '' || url.username) {
      ctx.addIssue({
        code: 'custom',
        message: `OVH_ENDPOINT URL must look like https://host[:port]/1.0 (node-ovh speaks HTTPS only), got "${value}"`,
      });
      return z.NEVER;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { endpoint: value, host, port: url.port === '' ? 443 : Number(url.port), basePath };
  });

/** The application alone (no consumer key yet): what `npm run ovh:credentials` needs. */
const application = {
  OVH_ENDPOINT: EndpointSchema,
  OVH_APP_KEY: credential('OVH_APP_KEY'),
  OVH_APP_SECRET: credential('OVH_APP_SECRET'),
};
const caFile = z.string().optional();
const timeoutMs = positiveInt('OVH_TIMEOUT_MS', 15_000, 300_000);

const OvhApplicationEnvSchema = z.object({ ...application, OVH_CA_FILE: caFile, OVH_TIMEOUT_MS: timeoutMs });

const given = (value: string | undefined) => value !== undefined && value.trim() !== '';

const TokenUrlSchema = z
  .string()
  .optional()
  .transform((value, ctx): URL | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      url = new URL('invalid:');
    }
    if (
      url.protocol !== 'https:' ||
      url.search !== '' ||
      url.hash !== '' ||
      url.username !== '' ||
      !url.pathname.endsWith('/oauth2/token')
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `OVH_TOKEN_URL must be the https:// URL of an OAuth2 token endpoint ending in /oauth2/token (e.g. https://www.ovh.com/auth/oauth2/token), got "${value}"`,
      });
      return z.NEVER;
    }
    return url;
  });

const OvhEnvSchema = z.object({
  OVH_ENDPOINT: EndpointSchema,
  OVH_CA_FILE: caFile,
  OVH_TIMEOUT_MS: timeoutMs,
  OVH_REQUESTS_PER_MINUTE: positiveInt('OVH_REQUESTS_PER_MINUTE', 60, 6_000),
  OVH_REQUEST_BURST: positiveInt('OVH_REQUEST_BURST', 10, 1_000),
  OVH_MAX_RETRIES: wholeNumber('OVH_MAX_RETRIES', 3, 10),
  OVH_CACHE_SECONDS: wholeNumber('OVH_CACHE_SECONDS', 5, 300),
});

const ApplicationKeysSchema = z.object({
  OVH_APP_KEY: credential('OVH_APP_KEY'),
  OVH_APP_SECRET: credential('OVH_APP_SECRET'),
  OVH_CONSUMER_KEY: credential('OVH_CONSUMER_KEY'),
});
const ServiceAccountSchema = z.object({
  OVH_CLIENT_ID: credential('OVH_CLIENT_ID'),
  OVH_CLIENT_SECRET: credential('OVH_CLIENT_SECRET'),
  OVH_TOKEN_URL: TokenUrlSchema,
});

/**
 * The credentials: a service account when OVH_CLIENT_ID or OVH_CLIENT_SECRET is set, else an application key.
 * Both kinds is an error naming them. The token URL is OVH_TOKEN_URL, else node-ovh's for a named endpoint.
 */
function parseCredentials(
  env: Readonly<Record<string, string | undefined>>,
  endpoint: { endpoint: string } | undefined,
  problems: string[],
): OvhCredentials | undefined {
  const application = OVH_APPLICATION_KEY_VARIABLES.filter((name) => given(env[name]));
  const serviceAccount = OVH_SERVICE_ACCOUNT_VARIABLES.filter((name) => given(env[name]));
  if (application.length > 0 && serviceAccount.length > 0) {
    problems.push(bothCredentialKindsMessage(application, serviceAccount));
    return undefined;
  }
  const issues = (error: z.ZodError) => problems.push(...error.issues.map((issue) => issue.message));
  if (serviceAccount.length === 0) {
    const keys = ApplicationKeysSchema.safeParse(env);
    if (!keys.success) return void issues(keys.error);
    return {
      appKey: keys.data.OVH_APP_KEY,
      appSecret: keys.data.OVH_APP_SECRET,
      consumerKey: keys.data.OVH_CONSUMER_KEY,
    };
  }
  const account = ServiceAccountSchema.safeParse(env);
  if (!account.success) return void issues(account.error);
  let tokenUrl = account.data.OVH_TOKEN_URL;
  if (tokenUrl === undefined && endpoint !== undefined) {
    const base = nodeOvhEndpoints[endpoint.endpoint]?.tokenURL;
    if (base !== undefined) tokenUrl = new URL('oauth2/token', base);
    else {
      const known = Object.keys(nodeOvhEndpoints).filter((name) => nodeOvhEndpoints[name]?.tokenURL !== undefined);
      problems.push(
        `OVH_TOKEN_URL is required with a service account on ${endpoint.endpoint} (node-ovh knows the token endpoint of ${known.join(', ')} only): set it to the endpoint's https://…/oauth2/token URL`,
      );
      return undefined;
    }
  }
  if (tokenUrl === undefined) return undefined;
  return {
    oauth2: { clientId: account.data.OVH_CLIENT_ID, clientSecret: account.data.OVH_CLIENT_SECRET, tokenUrl },
  };
}

/** Parses the OVH_* variables; every problem names its variable. Reads OVH_CA_FILE if set. */
export function parseOvhConfig(env: Readonly<Record<string, string | undefined>>): OvhConfig {
  const result = OvhEnvSchema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => issue.message);
  const endpoint = EndpointSchema.safeParse(env['OVH_ENDPOINT']);
  const credentials = parseCredentials(env, endpoint.success ? endpoint.data : undefined, problems);
  if (!result.success || credentials === undefined || problems.length > 0) throw new ConfigError(problems);
  const parsed = result.data;
  let caPem: string | undefined;
  if (parsed.OVH_CA_FILE !== undefined && parsed.OVH_CA_FILE !== '') {
    caPem = readCaFile(parsed.OVH_CA_FILE);
  }
  return {
    connection: { ...parsed.OVH_ENDPOINT, ...credentials, caPem },
    tuning: {
      timeoutMs: parsed.OVH_TIMEOUT_MS,
      requestsPerMinute: parsed.OVH_REQUESTS_PER_MINUTE,
      burst: parsed.OVH_REQUEST_BURST,
      maxRetries: parsed.OVH_MAX_RETRIES,
      listingCacheMs: parsed.OVH_CACHE_SECONDS * 1_000,
    },
  };
}

/** An OVH application's endpoint and keys, before it has a consumer key. */
export interface OvhApplicationConfig {
  connection: OvhEndpoint & Omit<OvhApplicationKeys, 'consumerKey'>;
  timeoutMs: number;
}

/** Parses OVH_ENDPOINT, OVH_APP_KEY, OVH_APP_SECRET (and OVH_CA_FILE, OVH_TIMEOUT_MS); every problem names its variable. */
export function parseOvhApplicationConfig(env: Readonly<Record<string, string | undefined>>): OvhApplicationConfig {
  const result = OvhApplicationEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => issue.message));
  const parsed = result.data;
  return {
    connection: {
      ...parsed.OVH_ENDPOINT,
      appKey: parsed.OVH_APP_KEY,
      appSecret: parsed.OVH_APP_SECRET,
      caPem: parsed.OVH_CA_FILE === undefined || parsed.OVH_CA_FILE === '' ? undefined : readCaFile(parsed.OVH_CA_FILE),
    },
    timeoutMs: parsed.OVH_TIMEOUT_MS,
  };
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`OVH_CA_FILE cannot be read (${code}): ${path}`]);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError([`OVH_CA_FILE is not a PEM certificate: ${path}`]);
  }
  return text;
}
