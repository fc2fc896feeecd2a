import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAppEnv, withSecretFiles } from '../../src/config/env.js';
import { ConfigError } from '../../src/shared/config-error.js';

const BASE = {
  SLACK_BOT_TOKEN: 'xoxb-1-abc',
  SLACK_SIGNING_SECRET: 'sign',
  OVH_ENDPOINT: 'ovh-eu',
  OVH_APP_KEY: 'ak',
  OVH_APP_SECRET: 'as',
  OVH_CONSUMER_KEY: 'ck',
};

describe('secrets from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nasha-secrets-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads VAR_FILE into VAR (one trailing newline dropped) for every secret', () => {
    const env = parseAppEnv({
      ...BASE,
      SLACK_BOT_TOKEN: undefined,
      SLACK_BOT_TOKEN_FILE: file('bot', 'xoxb-from-file\n'),
      OVH_APP_SECRET: '',
      OVH_APP_SECRET_FILE: file('as', 'secret-from-file\n'),
      DATABASE_URL_FILE: file('db', 'postgres://u:p@db:5432/nasha'),
    });
    expect(env.slack.botToken).toBe('xoxb-from-file');
    expect(env.ovh.connection.appSecret).toBe('secret-from-file');
    expect(env.databaseUrl).toBe('postgres://u:p@db:5432/nasha');
  });

  it('refuses VAR and VAR_FILE together, and an unreadable file, naming the variable', () => {
    const { problems } = withSecretFiles({
      ...BASE,
      OVH_CONSUMER_KEY_FILE: file('ck', 'x'),
      SLACK_APP_TOKEN_FILE: join(dir, 'missing'),
    });
    expect(problems).toEqual([
      `SLACK_APP_TOKEN_FILE cannot be read (ENOENT): ${join(dir, 'missing')}`,
      'OVH_CONSUMER_KEY and OVH_CONSUMER_KEY_FILE are both set: keep only one',
    ]);
    expect(() => parseAppEnv({ ...BASE, OVH_CONSUMER_KEY_FILE: file('ck2', 'x') })).toThrow(ConfigError);
  });

  it('reads HEALTH_PORT for Socket Mode', () => {
    expect(parseAppEnv({ ...BASE, HEALTH_PORT: '9100' }).healthPort).toBe(9100);
    expect(() => parseAppEnv({ ...BASE, HEALTH_PORT: 'x' })).toThrow(/HEALTH_PORT must be a whole number/);
  });
});

describe('startup time and outbound proxy', () => {
  const problems = (env: Record<string, string | undefined>): readonly string[] => {
    try {
      parseAppEnv({ ...BASE, ...env });
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it('reads NASHA_STARTUP_TIMEOUT_MS (default 30 s) and names it when malformed', () => {
    expect(parseAppEnv(BASE).startupTimeoutMs).toBe(30_000);
    expect(parseAppEnv({ ...BASE, NASHA_STARTUP_TIMEOUT_MS: '1500' }).startupTimeoutMs).toBe(1_500);
    for (const bad of ['soon', '0', '99', '600001', '1.5']) {
      expect(problems({ NASHA_STARTUP_TIMEOUT_MS: bad })).toEqual([
        `NASHA_STARTUP_TIMEOUT_MS must be a whole number of milliseconds from 100 to 600000, got "${bad}"`,
      ]);
    }
  });

  it('no proxy variable: nothing is proxied', () => {
    const env = parseAppEnv(BASE);
    expect(env.proxy?.https).toBeUndefined();
    expect(env.proxy?.http).toBeUndefined();
    expect(env.ovh.connection.proxy).toBeUndefined();
  });

  it('HTTPS_PROXY applies to OVH, with credentials kept for the proxy; a URL without scheme is http://', () => {
    const env = parseAppEnv({ ...BASE, HTTPS_PROXY: 'http://ops:s3cret@proxy.corp:3128' });
    expect(env.ovh.connection.proxy?.href).toBe('http://ops:s3cret@proxy.corp:3128/');
    expect(env.proxy?.https?.host).toBe('proxy.corp:3128');
    expect(env.proxy?.http).toBeUndefined();
    expect(parseAppEnv({ ...BASE, https_proxy: 'proxy.corp:8080' }).proxy?.https?.href).toBe('http://proxy.corp:8080/');
  });

  it('NO_PROXY listing the OVH host sends OVH direct; the lower-case forms count too', () => {
    const proxied = { ...BASE, HTTPS_PROXY: 'http://proxy.corp:3128' };
    expect(parseAppEnv({ ...proxied, NO_PROXY: '.ovh.com' }).ovh.connection.proxy).toBeUndefined();
    expect(parseAppEnv({ ...proxied, no_proxy: 'eu.api.ovh.com:443' }).ovh.connection.proxy).toBeUndefined();
    expect(parseAppEnv({ ...proxied, NO_PROXY: 'eu.api.ovh.com:8443' }).ovh.connection.proxy).toBeDefined();
    expect(parseAppEnv({ ...proxied, NO_PROXY: '*' }).ovh.connection.proxy).toBeUndefined();
  });

  it('loopback goes direct while NO_PROXY is unset (or empty); a NO_PROXY that is set is the whole list', () => {
    const local = { ...BASE, OVH_ENDPOINT: 'https://127.0.0.1:8443/1.0', HTTPS_PROXY: 'http://proxy.corp:3128' };
    expect(parseAppEnv(local).ovh.connection.proxy).toBeUndefined();
    expect(parseAppEnv({ ...local, NO_PROXY: '  ' }).ovh.connection.proxy).toBeUndefined();
    expect(parseAppEnv({ ...local, NO_PROXY: '.corp' }).ovh.connection.proxy).toBeDefined();
    expect(parseAppEnv({ ...local, NO_PROXY: '.corp,127.0.0.1' }).ovh.connection.proxy).toBeUndefined();
  });

  it('reports a malformed proxy URL, a bad NO_PROXY entry and two differing spellings, with every other problem', () => {
    expect(
      problems({
        HTTPS_PROXY: 'socks5://proxy:1080',
        HTTP_PROXY: 'http://proxy:3128/path',
        NO_PROXY: 'ok.example.com,bad host,10.0.0.0/33',
        OVH_APP_KEY: '',
      }),
    ).toEqual(
      expect.arrayContaining([
        'HTTPS_PROXY must be a proxy URL such as http://proxy.example.com:3128 (http:// or https://, no path)',
        'HTTP_PROXY must be a proxy URL such as http://proxy.example.com:3128 (http:// or https://, no path)',
        'NO_PROXY entry "bad host" is not a host name, host:port, IP address or CIDR',
        'NO_PROXY entry "10.0.0.0/33" is not a host name, host:port, IP address or CIDR',
        'OVH_APP_KEY is required',
      ]),
    );
    expect(problems({ HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://b:3128' })).toEqual([
      'HTTPS_PROXY and https_proxy are both set, to different values: keep one',
    ]);
    expect(problems({ HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://a:3128' })).toEqual([]);
  });
});
