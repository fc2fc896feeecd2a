import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/compose.js';
import type { AppEnv } from '../../src/config/env.js';
import { type Simulator, startSimulator } from '../../src/ovh/simulator/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { StartupError } from '../../src/shared/startup-error.js';
import { TEST_CONFIG, testEnv } from '../support/bot-harness.js';
import { botProcessEnv } from '../support/bot-process.js';
import { FakeSlack } from '../support/fake-slack.js';

let slack: FakeSlack;
let sim: Simulator;
let dir: string;

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'nasha-startup-'));
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG);
  writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
});
afterAll(async () => {
  await sim?.close();
  await slack?.stop();
});

const env = (): AppEnv => testEnv({ slack, sim, dir });

function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    ...botProcessEnv({ slackApiUrl: slack.apiUrl, sim, dir }),
    NASHA_DATA_DIR: join(dir, 'data-proc'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

function run(
  extra: Record<string, string>,
  unset: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const childEnv = processEnv(extra);
  for (const name of unset) delete childEnv[name];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ready = false;
    child.stdout.on('data', (d) => {
      stdout += String(d);
      // A healthy bot keeps running: check /healthz, then stop it.
      if (!ready && stdout.includes('nasha-bot is ready')) {
        ready = true;
        void fetch(`http://127.0.0.1:${childEnv['PORT']}/healthz`)
          .then(async (res) => {
            stdout += `\nhealthz ${res.status} ${await res.text()}\n`;
          })
          .catch((error: unknown) => {
            stdout += `\nhealthz failed ${String(error)}\n`;
          })
          .finally(() => child.kill('SIGTERM'));
      }
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('startup', () => {
  it('a failed auth.test is a clear error, not an unhandled rejection', async () => {
    slack.on('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    try {
      await expect(startBot(env(), { logger: createLogger({ level: 'silent' }), slackRetries: 0 })).rejects.toThrow(
        StartupError,
      );
      await expect(startBot(env(), { logger: createLogger({ level: 'silent' }), slackRetries: 0 })).rejects.toThrow(
        /Slack rejected the bot token \(auth\.test: invalid_auth\)\. .*Fix: set SLACK_BOT_TOKEN/,
      );
    } finally {
      slack.on('auth.test', () => ({ body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } }));
    }
  });

  it('the process exits 1 with the reason when Slack rejects the token', async () => {
    slack.on('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    try {
      const result = await run({});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Slack rejected the bot token (auth.test: invalid_auth)');
    } finally {
      slack.on('auth.test', () => ({ body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } }));
    }
  }, 30_000);

  it('the process exits 2 naming every missing credential (never falling back to the sandbox)', async () => {
    const result = await run({}, ['SLACK_SIGNING_SECRET', 'OVH_APP_KEY']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('OVH_APP_KEY');
    expect(result.stderr).toContain('SLACK_SIGNING_SECRET');
  }, 30_000);

  it('the process exits 2 naming every malformed variable', async () => {
    const result = await run({ OVH_ENDPOINT: 'http://nope/1.0', PORT: 'eighty', OVH_APP_SECRET: 'has space' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('OVH_ENDPOINT URL must look like https://host[:port]/1.0');
    expect(result.stderr).toContain('PORT must be a whole number');
    expect(result.stderr).toContain('OVH_APP_SECRET must be printable ASCII without spaces');
  }, 30_000);

  it('the process exits 2 on a bad config file, naming the key', async () => {
    writeFileSync(
      join(dir, 'bad.yml'),
      'audit:\n  channel: "#audit"\ngrants:\n  - role: operater\n    users: [U1]\n    scope: ["*"]\n',
    );
    const result = await run({ NASHA_CONFIG: join(dir, 'bad.yml') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/audit\.channel/);
    expect(result.stderr).toMatch(/grants\[0\]\.role.*did you mean "operator"/);
  }, 30_000);

  it('starts for real, serves /healthz, and exits 0 on SIGTERM', async () => {
    const result = await run({ LOG_LEVEL: 'info', PORT: String(await freePort()) });
    expect(result.stdout).toContain('nasha-bot is ready');
    expect(result.stdout).toContain('healthz 200 {"ok":true}');
    expect(result.code).toBe(0);
  }, 30_000);
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
