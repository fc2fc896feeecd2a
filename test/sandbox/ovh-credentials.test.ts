import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_ACCESS_RULES } from '../../src/ovh/access-rules.js';
import { NASHA_ROUTES } from '../../src/ovh/client.js';
import { ruleAllows } from '../../src/ovh/simulator/auth.js';
import { runOvhCredentials } from '../../src/tools/ovh-credentials.js';
import { api, startTestSimulator } from '../ovh/simulator/harness.js';
import { captureStream } from '../support/capture.js';
import { openApiDocument } from '../support/openapi.js';
import { httpsCall } from '../support/ovh-signing.js';

async function run(argv: string[], env: Record<string, string | undefined>) {
  const out = captureStream();
  const err = captureStream();
  const code = await runOvhCredentials(argv, env, { out: out.stream, err: err.stream });
  return { code, out: out.text(), err: err.text() };
}

/** A concrete path for a route template (`{x}` → a plausible value). */
const concrete = (template: string) => template.replace(/\{[^}]+\}/g, 'x1');

describe('the access rules the bot asks for', () => {
  it('allow every call the client makes', () => {
    for (const route of Object.values(NASHA_ROUTES)) {
      const path = concrete(route.path);
      expect(
        BOT_ACCESS_RULES.some((rule) => ruleAllows(rule, route.method, path)),
        `${route.method} ${route.path}`,
      ).toBe(true);
    }
  });

  it('allow no other change anywhere in OVH’s /dedicated/nasha API (least privilege)', () => {
    const botChanges = new Set(
      Object.values(NASHA_ROUTES)
        .filter((r) => r.method !== 'GET')
        .map((r) => `${r.method} ${r.path}`),
    );
    const refused: string[] = [];
    for (const [template, operations] of Object.entries(openApiDocument().paths)) {
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        if (method === 'GET' || botChanges.has(`${method} ${template}`)) continue;
        const allowed = BOT_ACCESS_RULES.some((rule) => ruleAllows(rule, method, concrete(template)));
        expect(allowed, `${method} ${template}`).toBe(false);
        refused.push(`${method} ${template}`);
      }
    }
    // The API has other changes (partitions, access lists, options…): all of them are refused.
    expect(refused.length).toBeGreaterThan(5);
    expect(BOT_ACCESS_RULES.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /dedicated/nasha',
      'GET /dedicated/nasha/*',
      'POST /dedicated/nasha/*/partition/*/snapshot',
      'DELETE /dedicated/nasha/*/partition/*/snapshot/*',
      'POST /dedicated/nasha/*/partition/*/customSnapshot',
      'DELETE /dedicated/nasha/*/partition/*/customSnapshot/*',
    ]);
  });
});

describe('npm run ovh:credentials against the simulator', () => {
  it('requests a key with those rules, prints the validation URL and the lines to set; --check follows it', async () => {
    const sim = await startTestSimulator();
    const dir = mkdtempSync(join(tmpdir(), 'nasha-ovh-credentials-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, sim.caCertPem);
    const env = {
      OVH_ENDPOINT: sim.baseUrl,
      OVH_APP_KEY: sim.credentials.appKey,
      OVH_APP_SECRET: sim.credentials.appSecret,
      OVH_CA_FILE: caFile,
    };

    const requested = await run(['--redirect', 'https://example.org/done'], env);
    expect(requested.err).toBe('');
    expect(requested.code).toBe(0);
    const validationUrl = /^ {3}(https:\/\/\S+)$/m.exec(requested.out)?.[1] ?? '';
    const consumerKey = /^OVH_CONSUMER_KEY=(\S+)$/m.exec(requested.out)?.[1] ?? '';
    expect(validationUrl).toBe(`${sim.origin}/_sim/validate/${consumerKey}`);
    expect(requested.out).toContain(`OVH_ENDPOINT=${sim.baseUrl}\nOVH_APP_KEY=sandbox-app-key\n`);
    expect(requested.out).toContain(`OVH_CA_FILE=${caFile}\n`);
    expect(requested.out).toContain('  DELETE  /dedicated/nasha/*/partition/*/customSnapshot/*\n');
    expect(requested.out).not.toContain(sim.credentials.appSecret);
    expect(sim.requests.filter((r) => r.path === '/1.0/auth/credential').map((r) => r.status)).toEqual([200]);

    // Before the account owner validates it, the key is refused, and the helper says why.
    const pending = await run(['--check'], { ...env, OVH_CONSUMER_KEY: consumerKey });
    expect(pending.code).toBe(1);
    expect(pending.err).toContain('This credential is not valid');
    expect(pending.err).toContain('not validated yet');

    const visit = await httpsCall(sim, { path: new URL(validationUrl).pathname });
    expect(visit.status).toBe(303);
    expect(visit.headers.location).toBe('https://example.org/done');

    const checked = await run(['--check'], { ...env, OVH_CONSUMER_KEY: consumerKey });
    expect(checked.err).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.out).toContain(
      'it sees 4 NAS-HA service(s): zpool-128310, zpool-204117, zpool-310442, zpool-417755',
    );

    // OVH holds exactly the rules asked for, and enforces them.
    const current = await api(sim, { consumerKey }).get('/auth/currentCredential');
    expect(current.json).toMatchObject({ status: 'validated', rules: BOT_ACCESS_RULES });
  });

  it('explains what is missing, and refuses a wrong secret with a hint', async () => {
    const none = await run([], {});
    expect(none.code).toBe(2);
    expect(none.err).toContain('- OVH_APP_KEY is required');
    expect(none.err).toContain('https://eu.api.ovh.com/createApp/');

    const sim = await startTestSimulator();
    const dir = mkdtempSync(join(tmpdir(), 'nasha-ovh-credentials-'));
    writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
    const env = {
      OVH_ENDPOINT: sim.baseUrl,
      OVH_APP_KEY: sim.credentials.appKey,
      OVH_APP_SECRET: 'not-the-secret',
      OVH_CONSUMER_KEY: sim.credentials.consumerKey,
      OVH_CA_FILE: join(dir, 'ca.pem'),
    };
    const wrong = await run(['--check'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('Invalid signature');
    expect(wrong.err).toContain('OVH_APP_SECRET does not match OVH_APP_KEY');
    const badKey = await run([], { ...env, OVH_APP_KEY: 'someone-else' });
    expect(badKey.code).toBe(1);
    expect(badKey.err).toContain('Invalid application key');

    expect((await run(['--nope'], env)).code).toBe(2);
    expect((await run(['--redirect', 'javascript:alert(1)'], env)).code).toBe(2);
  });
});
