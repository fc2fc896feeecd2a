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
