import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
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
import { certificateFor, startTlsFront } from '../support/connect-proxy.js';
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

describe('the CLI and the composition root', () => {
  it('nothing imports src/main.ts (the CLI): the sandbox, tests and benchmarks use src/compose.ts', () => {
    const importers = ['src', 'test', 'bench'].flatMap((root) =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => join(root, file))
        .filter((file) => /(from\s+|import\()'[./]*(src\/)?main\.js'/.test(readFileSync(file, 'utf8'))),
    );
    expect(importers).toEqual([]);
    expect(readFileSync('src/sandbox/index.ts', 'utf8')).toContain("from '../compose.js'");
  });
});

describe('bounded startup: each dependency gets the startup time, then a named failure', () => {
  const quiet = () => ({ logger: createLogger({ level: 'silent' }) });

  it("Slack answering 500 stops startup within the time, Bolt's 30-minute retry policy notwithstanding", async () => {
    slack.on('auth.test', () => ({ status: 500, body: { ok: false, error: 'internal_error' } }));
    const before = slack.callsTo('auth.test').length;
    const started = Date.now();
    try {
      // No slackRetries override: the production retry policy.
      const error = await startBot({ ...env(), startupTimeoutMs: 1_000 }, quiet()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartupError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((error as StartupError).problems).toEqual([
        expect.stringMatching(
          /^Slack auth\.test at http:\/\/127\.0\.0\.1:\d+\/api\/: Slack answered HTTP 500 Internal Server Error \(\d+ attempts in 1 s\)\. Likely cause: a Slack outage, or an error page from a proxy or gateway in front of 127\.0\.0\.1\. Fix: check https:\/\/slack-status\.com/,
        ),
      ]);
      expect(String(error)).not.toContain('SLACK_BOT_TOKEN');
      // Retried while time was left, not once and not forever.
      expect(slack.callsTo('auth.test').length - before).toBeGreaterThan(1);
    } finally {
      slack.on('auth.test', () => ({ body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } }));
    }
  });

  it('a Slack 500 blip within the time is retried and the bot starts', async () => {
    let answered = 0;
    slack.on('auth.test', () =>
      answered++ === 0
        ? { status: 503, body: { ok: false } }
        : { body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } },
    );
    try {
      const bot = await startBot({ ...env(), startupTimeoutMs: 5_000 }, quiet());
      await bot.stop();
      expect(answered).toBe(2);
    } finally {
      slack.on('auth.test', () => ({ body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } }));
    }
  });

  it('Socket Mode whose WebSocket cannot connect: named, with the likely cause, within the time', async () => {
    const refusing = await freePort();
    slack.on('apps.connections.open', () => ({ body: { ok: true, url: `ws://127.0.0.1:${refusing}/link` } }));
    const socketEnv = { ...testEnv({ slack, sim, dir, appToken: 'xapp-1-test' }), startupTimeoutMs: 1_500 };
    const error = await startBot(socketEnv, quiet()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).problems).toEqual([
      expect.stringMatching(
        /^Slack Socket Mode \(apps\.connections\.open at http:\/\/127\.0\.0\.1:\d+\/api\/, then the wss:\/\/ URL it returns\): no WebSocket connection within 1\.5 s\. Likely cause: a firewall or proxy blocks WebSocket \(wss:\/\/\) traffic to Slack/,
      ),
    ]);
  });

  it('certificates this host does not trust (a TLS-inspecting proxy): TLS named, with how to trust the CA', async () => {
    const front = await startTlsFront(await certificateFor(['127.0.0.1']), Number(new URL(slack.baseUrl).port));
    // A simulator of its own: a keep-alive socket to the shared one, verified earlier, would be reused.
    const untrustedSim = await startSimulator();
    try {
      const base = testEnv({ slack, sim: untrustedSim, dir });
      const untrusted: AppEnv = {
        ...base,
        slack: { ...base.slack, apiUrl: `https://127.0.0.1:${front.port}/api/` },
        ovh: { ...base.ovh, connection: { ...base.ovh.connection, caPem: undefined } },
        startupTimeoutMs: 3_000,
      };
      const error = await startBot(untrusted, quiet()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartupError);
      const [ovh, slackLine] = [...(error as StartupError).problems].sort();
      expect(slackLine).toMatch(
        /^Slack auth\.test at https:\/\/127\.0\.0\.1:\d+\/api\/: .*self-signed certificate.*Likely cause: TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted \(a TLS-inspecting proxy or a private CA\)\. Fix: trust the issuing CA with NODE_EXTRA_CA_CERTS=<CA file> \(verification is never turned off\)/,
      );
      expect(ovh).toMatch(
        /^OVH at https:\/\/127\.0\.0\.1:\d+\/1\.0: .*Likely cause: TLS: .* is not trusted .*Fix: trust the issuing CA with OVH_CA_FILE/,
      );
    } finally {
      await front.close();
      await untrustedSim.close();
    }
  });

  it('a SQLite file that is not a database: one clean line naming the file and the fix', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nasha-corrupt-'));
    writeFileSync(
      join(dataDir, 'nasha.db'),
      'this is not a database, it is a text file that is long enough'.repeat(50),
    );
    const error = await startBot({ ...env(), dataDir }, quiet()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).problems).toEqual([
      `SQLite database ${join(dataDir, 'nasha.db')} (NASHA_DATA_DIR): file is not a database. Likely cause: the file is not a SQLite database, or it is damaged. Fix: restore ${join(dataDir, 'nasha.db')} from a backup, or point NASHA_DATA_DIR elsewhere.`,
    ]);
  });

  it('the process: every unreachable dependency named at once, with cause and fix, exit 1, no stack, no password', async () => {
    const [ovhPort, dbPort] = [await freePort(), await freePort()];
    const result = await run({
      NASHA_STARTUP_TIMEOUT_MS: '1500',
      SLACK_API_URL: 'https://slack.invalid/api/',
      OVH_ENDPOINT: `https://127.0.0.1:${ovhPort}/1.0`,
      DATABASE_URL: `postgres://nasha:db-secret-pw@127.0.0.1:${dbPort}/nasha`,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('nasha-bot could not start:');
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^  - OVH at https://127\\.0\\.0\\.1:${ovhPort}/1\\.0: .*ECONNREFUSED.* \\(\\d+ attempts? in 1\\.5 s\\)\\. Likely cause: nothing is listening at 127\\.0\\.0\\.1:${ovhPort}, or a firewall rejects the connection\\. Fix: check the address and port in OVH_ENDPOINT`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^  - PostgreSQL at 127\\.0\\.0\\.1:${dbPort}/nasha \\(DATABASE_URL\\): .*ECONNREFUSED.*Likely cause: nothing is listening at 127\\.0\\.0\\.1:${dbPort}, or a firewall rejects the connection\\. Fix: check the address and port in DATABASE_URL and the firewall's outbound rules\\.$`,
        ),
      ),
      expect.stringMatching(
        /^ {2}- Slack auth\.test at https:\/\/slack\.invalid\/api\/: getaddrinfo ENOTFOUND slack\.invalid\. Likely cause: DNS: "slack\.invalid" does not resolve from this host\. Fix: check the host name in SLACK_API_URL and this host's DNS resolver, or, if outbound traffic must go through a proxy, set HTTPS_PROXY \(and keep slack\.invalid out of NO_PROXY\)\.$/,
      ),
    ]);
    expect(result.stderr + result.stdout).not.toContain('db-secret-pw');
    expect(result.stdout).not.toContain('"level":60');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  it('the process: Slack and OVH that accept but never answer (a firewall dropping) end at the startup time', async () => {
    // Accepts the connection, never sends a byte: what a firewall that drops replies looks like.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const result = await run({
        NASHA_STARTUP_TIMEOUT_MS: '1500',
        SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
        OVH_ENDPOINT: `https://127.0.0.1:${port}/1.0`,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `OVH at https://127.0.0.1:${port}/1.0: no answer within 1.5 s (1 attempt in 1.5 s). Likely cause: a firewall drops the traffic to 127.0.0.1:${port}, or outbound access needs a proxy.`,
      );
      expect(result.stderr).toMatch(
        new RegExp(
          `Slack auth\\.test at http://127\\.0\\.0\\.1:${port}/api/: .*timeout.* \\(\\d+ attempts? in 1\\.5 s\\)\\. Likely cause: no answer from 127\\.0\\.0\\.1:${port}: a firewall drops the traffic, or outbound access needs a proxy\\.`,
        ),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 30_000);

  it('the process: a missing config file is one clean message on stderr, not also a fatal JSON log with a stack', async () => {
    const result = await run({ NASHA_CONFIG: join(dir, 'does-not-exist.yml') });
    expect(result.code).toBe(2);
    expect(result.stderr.match(/does-not-exist\.yml/g)).toHaveLength(1);
    expect(result.stdout).not.toContain('"level":60');
    expect(result.stdout).not.toContain('does-not-exist');
  }, 30_000);

  it('the process: Slack answering 500 exits 1 blaming a Slack outage, never SLACK_BOT_TOKEN', async () => {
    slack.on('auth.test', () => ({ status: 500, body: { ok: false, error: 'internal_error' } }));
    try {
      const result = await run({ NASHA_STARTUP_TIMEOUT_MS: '1500' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Slack answered HTTP 500 .*Likely cause: a Slack outage/);
      expect(result.stderr).not.toContain('SLACK_BOT_TOKEN');
      expect(result.stdout).not.toContain('"level":60');
    } finally {
      slack.on('auth.test', () => ({ body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' } }));
    }
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
