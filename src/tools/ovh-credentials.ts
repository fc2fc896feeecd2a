import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BOT_ACCESS_RULES } from '../ovh/access-rules.js';
import { parseOvhApplicationConfig, parseOvhConfig } from '../ovh/config.js';
import { OvhApiError } from '../ovh/errors.js';
import { BOT_IAM_ACTIONS, botIamPolicy, createIamPolicy, currentAccount, serviceUrn } from '../ovh/iam.js';
import { createNashaApi } from '../ovh/index.js';
import { requestConsumerKey } from '../ovh/transport.js';
import { ConfigError } from '../shared/config-error.js';

/**
 * `npm run ovh:credentials`: asks OVH for the bot's consumer key with only the access it needs,
 * then prints the validation URL and the lines to give the bot.
 * `npm run ovh:credentials -- --check`: tries the configured key the way the bot uses it.
 * `npm run ovh:credentials -- --iam --client-id <id> [--service <name>…] [--apply]`: the least-privilege IAM
 * policy for a service account, printed, or created through /v2/iam/policy.
 */

const USAGE = `Usage: npm run ovh:credentials [-- options]
  Needs OVH_ENDPOINT, OVH_APP_KEY and OVH_APP_SECRET (your OVH application), optionally OVH_CA_FILE.
  --redirect <url>   where OVH sends the browser after validation
  --check            try the configured credentials instead (lists the NAS-HA services they see); works with
                     OVH_CLIENT_ID / OVH_CLIENT_SECRET (a service account) as well
  --iam              print the IAM policy giving a service account exactly what the bot needs on the NAS-HA
                     services named (their URNs are read from OVH); needs an account administrator's credentials
                     in the environment (OVH_APP_KEY, OVH_APP_SECRET, OVH_CONSUMER_KEY, or a service account
                     allowed to manage IAM), not the bot's
    --client-id <id>   the bot's service account (required)
    --service <name>   a NAS-HA service to grant (repeat; default: every service the credentials see)
    --name <name>      the policy's name (default nasha-bot)
    --apply            create the policy (POST /v2/iam/policy) instead of only printing it
  --help
`;

export interface Streams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Runs the helper; resolves with the exit status (2: configuration, 1: OVH said no). */
export async function runOvhCredentials(argv: readonly string[], env: Env, io: Streams): Promise<number> {
  let options: {
    redirect?: string | undefined;
    check?: boolean | undefined;
    help?: boolean | undefined;
    iam?: boolean | undefined;
    'client-id'?: string | undefined;
    service?: string[] | undefined;
    name?: string | undefined;
    apply?: boolean | undefined;
  };
  try {
    options = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        redirect: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean' },
        iam: { type: 'boolean' },
        'client-id': { type: 'string' },
        service: { type: 'string', multiple: true },
        name: { type: 'string' },
        apply: { type: 'boolean' },
      },
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
  if (options.iam !== true && (options.apply === true || options['client-id'] !== undefined)) {
    io.err.write(`--apply and --client-id go with --iam\n\n${USAGE}`);
    return 2;
  }
  if (options.iam === true && !/^[\x21-\x7e]{1,128}$/.test(options['client-id'] ?? '')) {
    io.err.write(`--iam needs --client-id <the bot's service account client ID>\n\n${USAGE}`);
    return 2;
  }
  if (options.name !== undefined && !/^[\w.-]{1,100}$/.test(options.name)) {
    io.err.write(`--name must be 1 to 100 letters, digits, "_", "." or "-", got "${options.name}"\n`);
    return 2;
  }
  try {
    if (options.iam === true) {
      return await iam(env, io, {
        clientId: options['client-id'] ?? '',
        services: options.service ?? [],
        name: options.name ?? 'nasha-bot',
        apply: options.apply === true,
      });
    }
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

/** The least-privilege policy for `clientId` on the services named (or all those visible), printed or created. */
async function iam(
  env: Env,
  io: Streams,
  options: { clientId: string; services: readonly string[]; name: string; apply: boolean },
): Promise<number> {
  const config = parseOvhConfig(env);
  const api = createNashaApi({ config: { ...config, tuning: { ...config.tuning, maxRetries: 0 } } });
  try {
    const services = options.services.length > 0 ? [...new Set(options.services)] : await api.client.listServices();
    if (services.length === 0) {
      io.err.write('These credentials see no NAS-HA service: name them with --service, or use the owner account.\n');
      return 1;
    }
    const { nichandle } = await currentAccount(api.transport);
    const resourceUrns: string[] = [];
    for (const service of services) resourceUrns.push(await serviceUrn((name) => api.client.getService(name), service));
    const policy = botIamPolicy({ name: options.name, clientId: options.clientId, nichandle, resourceUrns });
    io.out.write(
      [
        `IAM policy for service account ${options.clientId} (${policy.identities.join(', ')}):`,
        `  ${BOT_IAM_ACTIONS.length} actions — reading NAS-HA and its tasks, adding and removing automatic snapshot`,
        '  frequencies, creating and deleting custom snapshots; nothing else — on these services only:',
        ...services.map((service, i) => `  ${service}  ${resourceUrns[i]}`),
        '',
        JSON.stringify(policy, null, 2),
        '',
      ].join('\n'),
    );
    if (!options.apply) {
      io.out.write('Not created: run again with --apply to create it through POST /v2/iam/policy.\n');
      return 0;
    }
    const created = await createIamPolicy(api.transport, policy);
    io.out.write(
      [
        `Created IAM policy ${created.id} (${policy.name}) on ${config.connection.endpoint}.`,
        'Give the bot OVH_CLIENT_ID and OVH_CLIENT_SECRET of that service account (not these credentials), then check',
        'it: OVH_CLIENT_ID=… OVH_CLIENT_SECRET=… npm run ovh:credentials -- --check',
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    api.tracker.stop();
    api.transport.close();
  }
}

async function check(env: Env, io: Streams): Promise<number> {
  const config = parseOvhConfig(env);
  const api = createNashaApi({ config: { ...config, tuning: { ...config.tuning, maxRetries: 0 } } });
  const what = config.connection.oauth2 === undefined ? 'The consumer key' : 'The service account';
  try {
    const services = await api.client.listServices();
    io.out.write(
      `${what} works on ${config.connection.endpoint}: it sees ${services.length} NAS-HA service(s)${
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
  if (/User not granted for this request/i.test(message))
    return 'No IAM policy allows this to the service account: create one with npm run ovh:credentials -- --iam --apply.';
  if (/invalid_client/i.test(message))
    return 'OVH does not know this service account or its secret: check OVH_CLIENT_ID and OVH_CLIENT_SECRET.';
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
