import { describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../src/config/env.js';
import { CREDENTIAL_VARIABLES, incompleteCredentialsMessage, selectRunMode } from '../../src/config/mode.js';
import { runMain } from './run-main.js';

const REAL = {
  SLACK_BOT_TOKEN: 'xoxb-1',
  SLACK_SIGNING_SECRET: 'secret',
  OVH_ENDPOINT: 'ovh-eu',
  OVH_APP_KEY: 'ak',
  OVH_APP_SECRET: 'as',
  OVH_CONSUMER_KEY: 'ck',
};

describe('npm start: sandbox, real bot, or a refusal', () => {
  it('no credential at all (blank ones included) → sandbox; other settings do not count', () => {
    expect(selectRunMode({})).toEqual({ kind: 'sandbox' });
    expect(selectRunMode({ SLACK_BOT_TOKEN: '  ', LOG_LEVEL: 'debug', PORT: '8080', NASHA_DATA_DIR: '/x' })).toEqual({
      kind: 'sandbox',
    });
  });

  it('everything for HTTP mode or for Socket Mode → the real bot', () => {
    expect(selectRunMode(REAL)).toEqual({ kind: 'real' });
    const { SLACK_SIGNING_SECRET: _secret, ...socket } = REAL;
    expect(selectRunMode({ ...socket, SLACK_APP_TOKEN: 'xapp-1' })).toEqual({ kind: 'real' });
  });

  it('secrets given as files count, and so does a database URL alone', () => {
    const files = Object.fromEntries(Object.entries(REAL).map(([name, value]) => [`${name}_FILE`, value]));
    expect(selectRunMode({ ...files, OVH_ENDPOINT: 'ovh-eu' })).toEqual({ kind: 'real' });
    expect(selectRunMode({ OVH_CONSUMER_KEY_FILE: '/run/secrets/ck' })).toMatchObject({
      kind: 'incomplete',
      present: ['OVH_CONSUMER_KEY_FILE'],
    });
    expect(selectRunMode({ DATABASE_URL: 'postgres://x' })).toMatchObject({
      kind: 'incomplete',
      present: ['DATABASE_URL'],
    });
    // A new kind of secret must make a half-configured host refuse too.
    for (const name of SECRET_VARIABLES) expect(CREDENTIAL_VARIABLES).toContain(name);
  });

  it('any one credential without the rest → refused, naming what is missing and what to unset', () => {
    for (const name of CREDENTIAL_VARIABLES) {
      const mode = selectRunMode({ [name]: 'x' });
      expect(mode.kind, name).toBe('incomplete');
    }
    const mode = selectRunMode({ SLACK_BOT_TOKEN: 'xoxb-1', OVH_ENDPOINT: 'ovh-eu', OVH_APP_KEY: 'ak' });
    expect(mode).toEqual({
      kind: 'incomplete',
      missing: [
        'SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
        'OVH_APP_SECRET',
        'OVH_CONSUMER_KEY',
      ],
      present: ['SLACK_BOT_TOKEN', 'OVH_ENDPOINT', 'OVH_APP_KEY'],
    });
    const { OVH_CONSUMER_KEY: _ck, ...noConsumerKey } = REAL;
    expect(selectRunMode(noConsumerKey)).toMatchObject({ missing: ['OVH_CONSUMER_KEY'] });
  });

  it('the process exits with status 2 and says so, without starting the sandbox', async () => {
    const { code, stdout, stderr } = await runMain({ SLACK_BOT_TOKEN: 'xoxb-123', OVH_APP_KEY: 'ak' });
    expect(code).toBe(2);
    expect(stderr).toBe(
      `${incompleteCredentialsMessage({
        missing: [
          'SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
          'OVH_ENDPOINT',
          'OVH_APP_SECRET',
          'OVH_CONSUMER_KEY',
        ],
        present: ['SLACK_BOT_TOKEN', 'OVH_APP_KEY'],
      })}\n`,
    );
    expect(stderr).toContain('will not fall back to the sandbox');
    expect(stdout).not.toContain('SANDBOX');
  });
});
