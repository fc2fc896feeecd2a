import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, OVH_ENDPOINT_NAMES, parseOvhConfig } from '../../src/ovh/config.js';

const KEYS = { OVH_APP_KEY: 'ak', OVH_APP_SECRET: 'as', OVH_CONSUMER_KEY: 'ck' };

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseOvhConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseOvhConfig', () => {
  it('resolves a named endpoint to host/port/basePath with defaults for tuning', () => {
    const config = parseOvhConfig({ OVH_ENDPOINT: 'ovh-ca', ...KEYS });
    expect(config.connection).toMatchObject({
      endpoint: 'ovh-ca',
      host: 'ca.api.ovh.com',
      port: 443,
      basePath: '/1.0',
    });
    expect(config.tuning).toEqual({
      timeoutMs: 15_000,
      requestsPerMinute: 60,
      burst: 10,
      maxRetries: 3,
      listingCacheMs: 5_000,
    });
    expect(config.connection.caPem).toBeUndefined();
  });

  it('knows every endpoint name node-ovh knows', () => {
    expect(OVH_ENDPOINT_NAMES).toEqual(expect.arrayContaining(['ovh-eu', 'ovh-ca', 'ovh-us', 'sys-eu', 'ks-ca']));
  });

  it('accepts an https URL with a port (the simulator, the new *.ovhcloud.com hosts)', () => {
    expect(parseOvhConfig({ OVH_ENDPOINT: 'https://127.0.0.1:8443/1.0', ...KEYS }).connection).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      basePath: '/1.0',
    });
    expect(parseOvhConfig({ OVH_ENDPOINT: 'https://api.eu.ovhcloud.com/1.0/', ...KEYS }).connection).toMatchObject({
      host: 'api.eu.ovhcloud.com',
      port: 443,
    });
  });

  it.each([
    ['http://127.0.0.1:8080/1.0', /HTTPS only/],
    ['https://eu.api.ovh.com/v2', /https:\/\/host\[:port\]\/1\.0/],
    ['ovh-mars', /must be one of ovh-eu/],
  ])('rejects OVH_ENDPOINT=%s', (endpoint, message) => {
    const found = problems({ OVH_ENDPOINT: endpoint, ...KEYS });
    expect(found.join('\n')).toMatch(message);
  });

  it('names every missing variable', () => {
    const found = problems({});
    for (const name of ['OVH_ENDPOINT', 'OVH_APP_KEY', 'OVH_APP_SECRET', 'OVH_CONSUMER_KEY']) {
      expect(found.some((p) => p.includes(name))).toBe(true);
    }
  });

  it('rejects credentials that cannot travel in an HTTP header', () => {
    const found = problems({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_APP_SECRET: 'has space\n' });
    expect(found).toEqual(['OVH_APP_SECRET must be printable ASCII without spaces']);
  });

  it('validates tuning numbers and names them', () => {
    const found = problems({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_TIMEOUT_MS: 'soon', OVH_MAX_RETRIES: '-1' });
    expect(found.join('\n')).toMatch(/OVH_TIMEOUT_MS must be a whole number/);
    expect(found.join('\n')).toMatch(/OVH_MAX_RETRIES must be a whole number from 0 to 10/);
  });

  it('reads how long listings are cached (OVH_CACHE_SECONDS; 0 keeps none)', () => {
    expect(parseOvhConfig({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CACHE_SECONDS: '0' }).tuning.listingCacheMs).toBe(0);
    expect(parseOvhConfig({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CACHE_SECONDS: '30' }).tuning.listingCacheMs).toBe(
      30_000,
    );
    expect(problems({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CACHE_SECONDS: '5s' })).toEqual([
      'OVH_CACHE_SECONDS must be a whole number from 0 to 300, got "5s"',
    ]);
  });

  it('reads OVH_CA_FILE and refuses a missing or non-PEM file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nasha-config-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(parseOvhConfig({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CA_FILE: pem }).connection.caPem).toContain('BEGIN');
    expect(problems({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CA_FILE: join(dir, 'missing.pem') })[0]).toMatch(
      /OVH_CA_FILE cannot be read \(ENOENT\)/,
    );
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect(problems({ OVH_ENDPOINT: 'ovh-eu', ...KEYS, OVH_CA_FILE: junk })[0]).toMatch(/not a PEM certificate/);
  });
});
