import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { type OvhConfig, type OvhConnectionConfig, parseOvhConfig } from '../ovh/config.js';
import { ConfigError } from '../shared/config-error.js';
import { DEFAULT_NO_PROXY, type NoProxyRule, type ProxySettings, parseNoProxy, proxyFor } from '../shared/proxy.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface SlackEnv {
  mode: 'socket' | 'http';
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  /** Web API base URL (GovSlack, local testing); Slack's own when undefined. */
  apiUrl: string | undefined;
}

export interface AppEnv {
  slack: SlackEnv;
  ovh: OvhConfig;
  /** HTTP mode: Slack requests and /healthz, /readyz, /metrics. */
  port: number;
  /** Socket Mode: where /healthz, /readyz and /metrics are served (default 3001). */
  healthPort?: number | undefined;
  host: string;
  configPath: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: string;
  /** The whole time startup gives Slack, OVH and the database to answer (default 30 s). */
  startupTimeoutMs?: number | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY for Slack (OVH's is resolved into `ovh.connection.proxy`). */
  proxy?: ProxySettings | undefined;
  /** NASHA_AUDIT_WEBHOOK_SECRET: the HMAC key of the audit export webhooks (`audit.export`). */
  auditWebhookSecret?: string | undefined;
}

/** Default of NASHA_STARTUP_TIMEOUT_MS. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

function portVariable(name: string, fallback: number) {
  return optional.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from 0 to 65535, got "${value}"` });
      return z.NEVER;
    }
    return port;
  });
}

/** Where the bot's database is: also read by `npm run audit:verify`. */
const StoreEnvShape = {
  NASHA_DATA_DIR: optional.pipe(z.string().default('data')),
  DATABASE_URL: optional.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for the embedded database)')
      .optional(),
  ),
};
export const StoreEnvSchema = z.object(StoreEnvShape);

const SlackEnvSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string({ error: 'SLACK_BOT_TOKEN is required (the xoxb- token from "OAuth & Permissions")' })
    .regex(/^xoxb-[\x21-\x7e]+$/, 'SLACK_BOT_TOKEN must be a bot token starting with xoxb-'),
  SLACK_APP_TOKEN: optional.pipe(
    z
      .string()
      .regex(/^xapp-[\x21-\x7e]+$/, 'SLACK_APP_TOKEN must be an app-level token starting with xapp-')
      .optional(),
  ),
  SLACK_SIGNING_SECRET: optional.pipe(
    z
      .string()
      .regex(/^[\x21-\x7e]+$/, 'SLACK_SIGNING_SECRET is malformed')
      .optional(),
  ),
  SLACK_API_URL: optional.pipe(
    z.url({ error: 'SLACK_API_URL must be a URL such as https://slack.com/api/' }).optional(),
  ),
  PORT: portVariable('PORT', 3000),
  HOST: optional.pipe(z.string().default('0.0.0.0')),
  HEALTH_PORT: portVariable('HEALTH_PORT', 3001),
  NASHA_CONFIG: optional.pipe(z.string().default('nasha.yml')),
  NASHA_AUDIT_WEBHOOK_SECRET: optional.pipe(
    z
      .string()
      .regex(
        /^[\x21-\x7e]{16,512}$/,
        'NASHA_AUDIT_WEBHOOK_SECRET must be 16 to 512 printable characters without spaces',
      )
      .optional(),
  ),
  ...StoreEnvShape,
  LOG_LEVEL: optional.pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  NASHA_STARTUP_TIMEOUT_MS: optional.transform((value, ctx) => {
    if (value === undefined) return DEFAULT_STARTUP_TIMEOUT_MS;
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms < 100 || ms > 600_000) {
      ctx.addIssue({
        code: 'custom',
        message: `NASHA_STARTUP_TIMEOUT_MS must be a whole number of milliseconds from 100 to 600000, got "${value}"`,
      });
      return z.NEVER;
    }
    return ms;
  }),
});

/**
 * A proxy URL as ops write them: `http://proxy:3128`, `http://user:password@proxy:3128`, or without a scheme
 * (`proxy:3128`, taken as http:// as curl does). Only a scheme, credentials, host and port.
 */
function proxyUrl(name: string) {
  return optional.transform((value, ctx): URL | undefined => {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value.includes('://') ? value : `http://${value}`);
    } catch {
      url = new URL('invalid:');
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.hostname === '' ||
      (url.pathname !== '' && url.pathname !== '/') ||
      url.search !== '' ||
      url.hash !== ''
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a proxy URL such as http://proxy.example.com:3128 (http:// or https://, no path)`,
      });
      return z.NEVER;
    }
    return url;
  });
}

const noProxyList = z
  .string()
  .optional()
  .transform((value, ctx): NoProxyRule[] => {
    const { rules, problems } = parseNoProxy(value ?? DEFAULT_NO_PROXY);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return rules;
  });

/**
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY, each also in lower case (the form curl reads first). Both forms set
 * to different values is an error: which one a tool picks differs from tool to tool.
 */
const ProxyEnvSchema = z
  .object({
    HTTPS_PROXY: z.string().optional(),
    https_proxy: z.string().optional(),
    HTTP_PROXY: z.string().optional(),
    http_proxy: z.string().optional(),
    NO_PROXY: z.string().optional(),
    no_proxy: z.string().optional(),
  })
  .transform((env, ctx): ProxySettings => {
    const pick = (upper: 'HTTPS_PROXY' | 'HTTP_PROXY' | 'NO_PROXY') => {
      const lower = upper.toLowerCase() as 'https_proxy' | 'http_proxy' | 'no_proxy';
      // Empty is unset, as for every other variable.
      const a = env[lower]?.trim() || undefined;
      const b = env[upper]?.trim() || undefined;
      if (a !== undefined && b !== undefined && a !== b) {
        ctx.addIssue({ code: 'custom', message: `${upper} and ${lower} are both set, to different values: keep one` });
      }
      return a ?? b;
    };
    const part = <T>(schema: z.ZodType<T, string | undefined>, value: string | undefined): T | undefined => {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      return undefined;
    };
    return {
      https: part(proxyUrl('HTTPS_PROXY'), pick('HTTPS_PROXY')),
      http: part(proxyUrl('HTTP_PROXY'), pick('HTTP_PROXY')),
      noProxy: part(noProxyList, pick('NO_PROXY')) ?? [],
    };
  });

/** Every secret can be given as VAR or as VAR_FILE (a path, e.g. a mounted Kubernetes or Docker secret). */
export const SECRET_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'OVH_APP_KEY',
  'OVH_APP_SECRET',
  'OVH_CONSUMER_KEY',
  'OVH_CLIENT_ID',
  'OVH_CLIENT_SECRET',
  'DATABASE_URL',
  'NASHA_AUDIT_WEBHOOK_SECRET',
] as const;

/**
 * Replaces each `VAR_FILE` by `VAR` with the file's content (one trailing newline removed).
 * Setting both is an error: which one wins would be a guess.
 */
export function withSecretFiles(env: Env): { env: Env; problems: string[] } {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`]?.trim();
    if (file === undefined || file === '') continue;
    if ((env[name] ?? '').trim() !== '') {
      problems.push(`${name} and ${name}_FILE are both set: keep only one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${file}`);
    }
  }
  return { env: resolved, problems };
}

/** The API host's proxy, and the token endpoint's (another host) for a service account. */
function withProxies(
  connection: OvhConnectionConfig,
  settings: ProxySettings,
  api: URL | undefined,
): OvhConnectionConfig {
  if (connection.oauth2 === undefined) return { ...connection, proxy: api };
  return {
    ...connection,
    proxy: api,
    oauth2: { ...connection.oauth2, proxy: proxyFor(settings, connection.oauth2.tokenUrl) },
  };
}

/** Reads every variable the bot uses; all problems are reported together, each naming its variable. */
export function parseAppEnv(rawEnv: Env): AppEnv {
  const { env, problems } = withSecretFiles(rawEnv);
  const slack = SlackEnvSchema.safeParse(env);
  if (!slack.success) problems.push(...slack.error.issues.map((i) => i.message));
  const proxy = ProxyEnvSchema.safeParse(env);
  if (!proxy.success) problems.push(...proxy.error.issues.map((i) => i.message));
  let ovh: OvhConfig | undefined;
  try {
    ovh = parseOvhConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else throw error;
  }
  const given = (name: string) => (env[name] ?? '').trim() !== '';
  if (!given('SLACK_APP_TOKEN') && !given('SLACK_SIGNING_SECRET')) {
    problems.push('SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN to use Socket Mode)');
  }
  if (!slack.success || !proxy.success || ovh === undefined || problems.length > 0) throw new ConfigError(problems);
  const s = slack.data;
  const ovhProxy = proxyFor(proxy.data, {
    protocol: 'https:',
    hostname: ovh.connection.host,
    port: ovh.connection.port,
  });
  return {
    slack: {
      mode: s.SLACK_APP_TOKEN === undefined ? 'http' : 'socket',
      botToken: s.SLACK_BOT_TOKEN,
      signingSecret: s.SLACK_SIGNING_SECRET,
      appToken: s.SLACK_APP_TOKEN,
      apiUrl: s.SLACK_API_URL,
    },
    ovh: { ...ovh, connection: withProxies(ovh.connection, proxy.data, ovhProxy) },
    port: s.PORT,
    healthPort: s.HEALTH_PORT,
    host: s.HOST,
    configPath: resolve(s.NASHA_CONFIG),
    dataDir: resolve(s.NASHA_DATA_DIR),
    databaseUrl: s.DATABASE_URL,
    logLevel: s.LOG_LEVEL,
    startupTimeoutMs: s.NASHA_STARTUP_TIMEOUT_MS,
    proxy: proxy.data,
    auditWebhookSecret: s.NASHA_AUDIT_WEBHOOK_SECRET,
  };
}

const HealthzEnvSchema = z.object({
  PORT: portVariable('PORT', 3000),
  HEALTH_PORT: portVariable('HEALTH_PORT', 3001),
  SLACK_APP_TOKEN: optional,
  SLACK_APP_TOKEN_FILE: optional,
});

/**
 * Where a probe on this host finds `/healthz` (the container's HEALTHCHECK): PORT in HTTP mode, HEALTH_PORT in
 * Socket Mode (an app token, given either way, selects it), as `startBot` serves it.
 */
export function healthzUrl(env: Env): string {
  const parsed = HealthzEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  const socketMode = parsed.data.SLACK_APP_TOKEN !== undefined || parsed.data.SLACK_APP_TOKEN_FILE !== undefined;
  return `http://127.0.0.1:${socketMode ? parsed.data.HEALTH_PORT : parsed.data.PORT}/healthz`;
}
