import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSimulatorConfig } from '../../../src/ovh/simulator/index.js';
import { httpsCall, ovhCall } from '../../support/ovh-signing.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Cli[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const cli of children.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) stopGroup(cli.child);
    await cli.exited;
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `npx tsx src/ovh/simulator/cli.ts …` in its own process group, so it can be stopped as a whole. */
function runCli(args: string[]): Cli {
  const child = spawn('npx', ['tsx', 'src/ovh/simulator/cli.ts', ...args], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const cli = { child, stdout: () => out, exited };
  children.push(cli);
  return cli;
}

function stopGroup(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
}

function envValue(output: string, name: string): string {
  const value = new RegExp(`^${name}=(.+)$`, 'm').exec(output)?.[1];
  if (value === undefined) throw new Error(`${name} not printed yet`);
  return value;
}

describe('simulator CLI', () => {
  it('starts, prints credentials and env lines, serves HTTPS with its CA file, exits on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nasha-sim-cli-'));
    tempDirs.push(dir);
    const config = join(dir, 'sim.yaml');
    writeFileSync(
      config,
      [
        'taskTimings: { doneAfterMs: 100 }',
        'faults:',
        '  - path: /dedicated/nasha',
        '    fault: { type: status, status: 503 }',
        '    times: 1',
      ].join('\n'),
    );
    const cli = runCli(['--port', '0', '--config', config]);

    await vi.waitFor(() => envValue(cli.stdout(), 'OVH_CA_FILE'), { timeout: 15_000, interval: 50 });
    const output = cli.stdout();
    const endpoint = new URL(envValue(output, 'OVH_ENDPOINT'));
    const caFile = envValue(output, 'OVH_CA_FILE');
    expect(endpoint.protocol).toBe('https:');
    expect(endpoint.hostname).toBe('127.0.0.1');
    expect(endpoint.pathname).toBe('/1.0');
    expect(output).toContain(`NAS-HA simulator listening on ${endpoint.href.replace(/\/$/, '')}`);
    expect(envValue(output, 'OVH_APP_KEY')).toBe('sandbox-app-key');
    expect(envValue(output, 'OVH_APP_SECRET')).toBe('sandbox-app-secret');
    expect(envValue(output, 'OVH_CONSUMER_KEY')).toBe('sandbox-consumer-key');
    expect(caFile).toBe(join(tmpdir(), `nasha-simulator-${endpoint.port}-ca.pem`));

    const target = { host: '127.0.0.1', port: Number(endpoint.port), caCertPem: readFileSync(caFile, 'utf8') };
    const time = await httpsCall(target, { path: '/1.0/auth/time' });
    expect(time.status).toBe(200);
    expect(Math.abs((time.json as number) - Date.now() / 1000)).toBeLessThan(60);

    // The config file's fault applies once.
    const credentials = {
      appKey: 'sandbox-app-key',
      appSecret: 'sandbox-app-secret',
      consumerKey: 'sandbox-consumer-key',
    };
    expect((await ovhCall({ ...target, credentials }, { path: '/dedicated/nasha' })).status).toBe(503);
    expect((await ovhCall({ ...target, credentials }, { path: '/dedicated/nasha' })).status).toBe(200);
    await vi.waitFor(() => expect(cli.stdout()).toMatch(/GET \/1\.0\/dedicated\/nasha -> 200/), { timeout: 5_000 });

    stopGroup(cli.child);
    await cli.exited;
    // The default CA file is temporary and removed on exit.
    await vi.waitFor(() => expect(existsSync(caFile)).toBe(false), { timeout: 5_000, interval: 50 });
  });

  it('exits with status 2 on a bad option', async () => {
    const cli = runCli(['--port', 'eighty']);
    const { code } = await cli.exited;
    expect(code).toBe(2);
    expect(cli.stdout()).toContain('--port must be an integer');
  });
});

describe('config file parsing', () => {
  it('accepts YAML and JSON', () => {
    const yaml = parseSimulatorConfig('limits:\n  maxCustomSnapshots: 3\nskewSeconds: -30\n', 'sim.yaml');
    expect(yaml).toEqual({ limits: { maxCustomSnapshots: 3 }, skewSeconds: -30 });
    const json = parseSimulatorConfig('{"seed":{"services":[{"serviceName":"zpool-1"}]}}', 'sim.json');
    expect(json.seed?.services[0]).toMatchObject({ serviceName: 'zpool-1', partitions: [] });
    expect(parseSimulatorConfig('', 'empty.yaml')).toEqual({});
  });

  it('names the offending key', () => {
    expect(() =>
      parseSimulatorConfig('faults:\n  - path: /x\n    fault: { type: status, status: 99 }\n', 'a.yaml'),
    ).toThrow(/a\.yaml: invalid simulator config:\nfaults\[0\]\.fault\.status: /);
    expect(() => parseSimulatorConfig('taskTimings: { doneAfter: 5 }', 'b.yaml')).toThrow(/taskTimings: .*doneAfter/);
    expect(() =>
      parseSimulatorConfig(
        'seed:\n  services:\n    - serviceName: z\n      partitions: [{ partitionName: p }]',
        'c.yaml',
      ),
    ).toThrow(/seed\.services\[0\]\.partitions\[0\]\.size/);
    expect(() => parseSimulatorConfig('{', 'd.json')).toThrow(/d\.json: cannot parse/);
  });
});
