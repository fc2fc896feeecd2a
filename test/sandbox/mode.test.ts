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
    // A new kind of credential must make a half-configured host refuse too. The webhook secret is not one: it
    // only signs SIEM exports, and the config says whether a webhook sink needs it.
    for (const name of SECRET_VARIABLES) {
      if (name !== 'NASHA_AUDIT_WEBHOOK_SECRET') expect(CREDENTIAL_VARIABLES).toContain(name);
    }
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

  it('a service account completes the OVH side; with an application key too, it is a startup error naming both', async () => {
    const { OVH_APP_KEY: _k, OVH_APP_SECRET: _s, OVH_CONSUMER_KEY: _c, ...slack } = REAL;
    expect(selectRunMode({ ...slack, OVH_CLIENT_ID: 'id', OVH_CLIENT_SECRET_FILE: '/run/secrets/s' })).toEqual({
      kind: 'real',
    });
    expect(selectRunMode({ ...slack, OVH_CLIENT_ID: 'id' })).toMatchObject({ missing: ['OVH_CLIENT_SECRET'] });
    expect(selectRunMode({ ...slack })).toMatchObject({
      missing: [
        'OVH_CLIENT_ID and OVH_CLIENT_SECRET (a service account) or OVH_APP_KEY, OVH_APP_SECRET and OVH_CONSUMER_KEY',
      ],
    });
    const both = { ...REAL, OVH_CLIENT_ID: 'id', OVH_CLIENT_SECRET_FILE: '/run/secrets/s' };
    expect(selectRunMode(both)).toEqual({
      kind: 'conflicting',
      application: ['OVH_APP_KEY', 'OVH_APP_SECRET', 'OVH_CONSUMER_KEY'],
      serviceAccount: ['OVH_CLIENT_ID', 'OVH_CLIENT_SECRET_FILE'],
    });
    const { code, stdout, stderr } = await runMain(both);
    expect(code).toBe(2);
    expect(stderr).toContain(
      'OVH credentials of both kinds are set: OVH_APP_KEY, OVH_APP_SECRET, OVH_CONSUMER_KEY (an application key) and OVH_CLIENT_ID, OVH_CLIENT_SECRET_FILE (a service account)',
    );
    expect(stdout).not.toContain('SANDBOX');
  });
});
