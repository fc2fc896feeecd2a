import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BOT_ACCESS_RULES } from '../ovh/access-rules.js';
import { parseOvhApplicationConfig, parseOvhConfig } from '../ovh/config.js';
import { OvhApiError } from '../ovh/errors.js';
import { createNashaApi } from '../ovh/index.js';
import { requestConsumerKey } from '../ovh/transport.js';
import { ConfigError } from '../shared/config-error.js';

/**
 * `npm run ovh:credentials`: asks OVH for the bot's consumer key with only the access it needs,
 * then prints the validation URL and the lines to give the bot.
 * `npm run ovh:credentials -- --check`: tries the configured key the way the bot uses it.
 */

const USAGE = `Usage: npm run ovh:credentials [-- options]
  Needs OVH_ENDPOINT, OVH_APP_KEY and OVH_APP_SECRET (your OVH application), optionally OVH_CA_FILE.
  --redirect <url>   where OVH sends the browser after validation
  --check            try the configured OVH_CONSUMER_KEY instead (lists the NAS-HA services it sees)
  --help
`;

export interface Streams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Runs the helper; resolves with the exit status (2: configuration, 1: OVH said no). */
export async function runOvhCredentials(argv: readonly string[], env: Env, io: Streams): Promise<number> {
  let options: { redirect?: string | undefined; check?: boolean | undefined; help?: boolean | undefined };
  try {
    options = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { redirect: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean' } },
    }).values;
  } catch (error) {
    io.err.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help === true) {
    io.out.write(USAGE);
    return 0;
  }
  if (options.redirect !== undefined && !/^https?:\/\/\S+$/.test(options.redirect)) {
    io.err.write(`--redirect must be an http(s) URL, got "${options.redirect}"\n`);
    return 2;
  }
  try {
    return options.check === true ? await check(env, io) : await request(env, io, options.redirect);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err.write(`${error.problems.map((p) => `- ${p}`).join('\n')}\n\n${missingApplicationHelp(env)}`);
      return 2;
    }
    if (error instanceof OvhApiError) {
      io.err.write(`OVH refused: ${error.message}\n${hintFor(error) ?? ''}\n`);
      return 1;
    }
    throw error;
  }
}

async function request(env: Env, io: Streams, redirection: string | undefined): Promise<number> {
  const application = parseOvhApplicationConfig(env);
  const answer = await requestConsumerKey({
    connection: application.connection,
    timeoutMs: application.timeoutMs,
    accessRules: BOT_ACCESS_RULES,
    redirection,
  });
  const endpoint = application.connection.endpoint;
  const width = Math.max(...BOT_ACCESS_RULES.map((r) => r.method.length)) + 2;
  io.out.write(
    [
      `OVH (${endpoint}) created a consumer key for application ${application.connection.appKey}, limited to:`,
      ...BOT_ACCESS_RULES.map((rule) => `  ${rule.method.padEnd(width)}${rule.path}`),
      '',
      '1. Open this URL, log in with the OVHcloud account that owns the NAS-HA services, pick a validity',
      '   ("Unlimited", or note when to renew it) and validate:',
      '',
      `   ${answer.validationUrl}`,
      '',
      '2. Give the bot these variables (with the OVH_APP_SECRET you used here):',
      '',
      `OVH_ENDPOINT=${endpoint}`,
      `OVH_APP_KEY=${application.connection.appKey}`,
      `OVH_CONSUMER_KEY=${answer.consumerKey}`,
      ...(env['OVH_CA_FILE'] ? [`OVH_CA_FILE=${env['OVH_CA_FILE']}`] : []),
      '',
      '3. Check the key once validated: npm run ovh:credentials -- --check  (with OVH_CONSUMER_KEY set)',
      '',
    ].join('\n'),
  );
  return 0;
}

async function check(env: Env, io: Streams): Promise<number> {
  const config = parseOvhConfig(env);
  const api = createNashaApi({ config: { ...config, tuning: { ...config.tuning, maxRetries: 0 } } });
  try {
    const services = await api.client.listServices();
    io.out.write(
      `The consumer key works on ${config.connection.endpoint}: it sees ${services.length} NAS-HA service(s)${
        services.length === 0 ? '' : `: ${services.join(', ')}`
      }.\n`,
    );
    return 0;
  } finally {
    api.tracker.stop();
    api.transport.close();
  }
}

/** What to do about OVH's usual credential refusals. */
export function hintFor(error: OvhApiError): string | undefined {
  const message = error.ovhMessage ?? '';
  if (/credential is not valid/i.test(message))
    return 'The consumer key is not validated yet (or expired): open its validation URL, or request a new one.';
  if (/credential does not exist/i.test(message))
    return 'OVH does not know this consumer key (revoked, or for another application): run npm run ovh:credentials.';
  if (/invalid application key/i.test(message))
    return 'OVH_APP_KEY is wrong, or belongs to another endpoint (an ovh-eu application does not work on ovh-ca).';
  if (/invalid signature/i.test(message)) return 'OVH_APP_SECRET does not match OVH_APP_KEY.';
  if (/not been granted/i.test(message))
    return 'The consumer key lacks a right the bot needs: request a new one with npm run ovh:credentials.';
  if (error.kind === 'network' || error.kind === 'timeout')
    return 'Could not reach OVH: check OVH_ENDPOINT, DNS, proxies and firewalls (HTTPS to the API host).';
  return undefined;
}

function missingApplicationHelp(env: Env): string {
  const host = /^ovh-(ca|us)$/.exec(env['OVH_ENDPOINT'] ?? '')?.[1];
  const createApp =
    host === 'ca'
      ? 'https://ca.api.ovh.com/createApp/'
      : host === 'us'
        ? 'https://api.us.ovhcloud.com/createApp/'
        : 'https://eu.api.ovh.com/createApp/';
  return [
    'First create an OVH application (its key and secret), once per bot installation:',
    `  ${createApp}  (ovh-eu; ovh-ca: https://ca.api.ovh.com/createApp/, ovh-us: https://api.us.ovhcloud.com/createApp/)`,
    'then run, for example:',
    '  OVH_ENDPOINT=ovh-eu OVH_APP_KEY=<key> OVH_APP_SECRET=<secret> npm run ovh:credentials',
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runOvhCredentials(process.argv.slice(2), process.env, { out: process.stdout, err: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ovh:credentials: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
