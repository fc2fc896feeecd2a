import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSimulatorConfig } from './config-file.js';
import type { FaultRule } from './faults.js';
import { SANDBOX_SERVICE_ACCOUNT } from './iam.js';
import { type RequestLogEntry, startSimulator } from './server.js';

/** `npm run simulator -- --port 8443 [--config sim.yaml] [--latency-ms 200]`: a local OVH NAS-HA API. */

const USAGE = `Usage: npm run simulator -- [options]
  --port <n>          TCP port (default 0: pick a free one)
  --host <ip>         listen address (default 127.0.0.1)
  --config <file>     JSON or YAML: seed, faults, taskOutcomes, taskTimings, limits, credentials…
  --latency-ms <n>    add this latency to every API call
  --ca-out <path>     where to write the CA certificate (default: <tmpdir>/nasha-simulator-<port>-ca.pem)
  --quiet             do not print one line per request
  --help
`;

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseCli>;
  let port: number;
  let latencyMs: number;
  try {
    values = parseCli(argv);
    port = integerOption('--port', values.port ?? '0', 0, 65_535);
    latencyMs =
      values['latency-ms'] === undefined ? 0 : integerOption('--latency-ms', values['latency-ms'], 0, 600_000);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = values.config === undefined ? {} : await loadSimulatorConfig(values.config);
  const faults: FaultRule[] = [...(config.faults ?? [])];
  if (latencyMs > 0) faults.push({ path: '*', fault: { type: 'latency', ms: latencyMs } });

  const sim = await startSimulator({
    ...config,
    faults,
    host: values.host ?? '127.0.0.1',
    port,
    onRequest: values.quiet === true ? undefined : (entry) => process.stdout.write(describeRequest(entry)),
  });
  const caFile =
    values['ca-out'] === undefined ? join(tmpdir(), `nasha-simulator-${sim.port}-ca.pem`) : resolve(values['ca-out']);
  await writeFile(caFile, sim.caCertPem);

  const { appKey, appSecret, consumerKey } = sim.credentials;
  process.stdout.write(
    [
      `NAS-HA simulator listening on ${sim.baseUrl}`,
      `  application key     ${appKey}`,
      `  application secret  ${appSecret}`,
      `  consumer key        ${consumerKey}`,
      `  service account     ${SANDBOX_SERVICE_ACCOUNT.clientId} / ${SANDBOX_SERVICE_ACCOUNT.clientSecret} (token URL ${sim.tokenUrl})`,
      `  CA certificate      ${caFile}`,
      `  control endpoint    ${sim.origin}/_sim/ (faults, held, task-outcomes, reset, requests, skew)`,
      '',
      '# Environment for the bot:',
      `OVH_ENDPOINT=${sim.baseUrl}`,
      `OVH_APP_KEY=${appKey}`,
      `OVH_APP_SECRET=${appSecret}`,
      `OVH_CONSUMER_KEY=${consumerKey}`,
      `OVH_CA_FILE=${caFile}`,
      '',
      '# Or, with the sandbox service account (OAuth2) instead of the application key (never both):',
      `#   OVH_CLIENT_ID=${SANDBOX_SERVICE_ACCOUNT.clientId} OVH_CLIENT_SECRET=${SANDBOX_SERVICE_ACCOUNT.clientSecret} OVH_TOKEN_URL=${sim.tokenUrl}`,
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await sim.close();
  // Only the default temporary file is ours to delete; an explicit --ca-out is kept.
  if (values['ca-out'] === undefined) await rm(caFile, { force: true });
  return 0;
}

function parseCli(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      'latency-ms': { type: 'string' },
      'ca-out': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }).values;
}

function integerOption(name: string, raw: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new Error(`${name} must be an integer between ${min} and ${max}, got ${raw}`);
  return value;
}

function describeRequest(entry: RequestLogEntry): string {
  const query = new URLSearchParams(entry.query).toString();
  const fault = entry.fault === null ? '' : ` [${entry.fault}]`;
  return `${new Date(entry.at).toISOString()} ${entry.method} ${entry.path}${query === '' ? '' : `?${query}`} -> ${entry.status}${fault}\n`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`nasha-simulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
