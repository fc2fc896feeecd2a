import { describe, expect, it } from 'vitest';
import { NASHA_ROUTES } from '../../src/ovh/client.js';
import { parseOvhConfig } from '../../src/ovh/config.js';
import { BOT_IAM_ACTIONS, botIamPolicy, iamActionOf } from '../../src/ovh/iam.js';
import { createNashaApi } from '../../src/ovh/index.js';
import { SANDBOX_NICHANDLE, serviceAccountUrn } from '../../src/ovh/simulator/index.js';
import { NASHA_ROUTES as SIMULATOR_ROUTES } from '../../src/ovh/simulator/routes.js';
import { runOvhCredentials } from '../../src/tools/ovh-credentials.js';
import { captureStream } from '../support/capture.js';
import { openApiDocument } from '../support/openapi.js';
import { FAST_TUNING } from '../support/ovh-harness.js';
import { applicationEnv, startTestSimulator } from './simulator/harness.js';

/** The IAM actions OVH's schema gives each route (`x-iam-actions`). */
function schemaActions(method: string, template: string): string[] {
  const operation = openApiDocument().paths[template]?.[method.toLowerCase()];
  const actions = (operation?.['x-iam-actions'] ?? []) as Array<{ name: string }>;
  return actions.map((action) => action.name);
}

describe('IAM actions', () => {
  it("are OVH's for every route the client calls and the simulator serves", () => {
    const routes = [
      ...Object.values(NASHA_ROUTES).map((r) => [r.method, r.path] as const),
      ...SIMULATOR_ROUTES.map((r) => [r.method, r.template] as const),
    ];
    for (const [method, template] of routes) {
      expect([iamActionOf(method, template)], `${method} ${template}`).toEqual(schemaActions(method, template));
    }
  });

  it('the bot asks for reads and the snapshot changes only', () => {
    expect([...BOT_IAM_ACTIONS].sort()).toEqual([
      'nasHA:apiovh:get',
      'nasHA:apiovh:partition/customSnapshot/create',
      'nasHA:apiovh:partition/customSnapshot/delete',
      'nasHA:apiovh:partition/customSnapshot/get',
      'nasHA:apiovh:partition/get',
      'nasHA:apiovh:partition/snapshot/create',
      'nasHA:apiovh:partition/snapshot/delete',
      'nasHA:apiovh:partition/snapshot/get',
      'nasHA:apiovh:partition/use/get',
      'nasHA:apiovh:task/get',
    ]);
    const everyChange = Object.entries(openApiDocument().paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method]) => method !== 'get')
        .flatMap(([method]) => schemaActions(method, path)),
    );
    const notAsked = everyChange.filter((action) => !BOT_IAM_ACTIONS.includes(action));
    // Partitions, access lists, options, quotas, contacts, termination…: none of them.
    expect(notAsked.length).toBeGreaterThan(8);
    expect(notAsked).toContain('nasHA:apiovh:partition/delete');
  });

  it('a policy names one identity, the exact URNs, and refuses URNs of several regions', () => {
    const policy = botIamPolicy({
      name: 'nasha-bot',
      clientId: 'EU.abc',
      nichandle: 'xx1-ovh',
      resourceUrns: ['urn:v1:eu:resource:nasHA:zpool-1'],
    });
    expect(policy).toMatchObject({
      identities: ['urn:v1:eu:identity:credential:xx1-ovh/oauth2-EU.abc'],
      resources: [{ urn: 'urn:v1:eu:resource:nasHA:zpool-1' }],
    });
    expect(policy.permissions.allow.map((a) => a.action)).toEqual(BOT_IAM_ACTIONS);
    expect(() =>
      botIamPolicy({
        name: 'x',
        clientId: 'c',
        nichandle: 'n',
        resourceUrns: ['urn:v1:eu:resource:nasHA:a', 'urn:v1:ca:resource:nasHA:b'],
      }),
    ).toThrow(/one region/);
  });
});

describe('npm run ovh:credentials -- --iam', () => {
  const BOT = { clientId: 'bot-service-account', clientSecret: 'bot-service-secret-123' };

  it('prints the least-privilege policy, creates it with --apply, and the service account can then do just that', async () => {
    // The bot's service account has no policy yet: OVH's default for a new service account is no right at all.
    const sim = await startTestSimulator({ serviceAccounts: [BOT], iamPolicies: [] });
    // The administrator runs the tool with the account owner's application key.
    const admin = { ...applicationEnv(sim), OVH_CONSUMER_KEY: sim.credentials.consumerKey };
    const caFile = admin.OVH_CA_FILE;
    const run = async (argv: string[], env: Record<string, string>) => {
      const out = captureStream();
      const err = captureStream();
      const code = await runOvhCredentials(argv, env, { out: out.stream, err: err.stream });
      return { code, out: out.text(), err: err.text() };
    };
    const botEnv = {
      OVH_ENDPOINT: sim.baseUrl,
      OVH_CLIENT_ID: BOT.clientId,
      OVH_CLIENT_SECRET: BOT.clientSecret,
      OVH_TOKEN_URL: sim.tokenUrl,
      OVH_CA_FILE: caFile,
    };

    expect(await run(['--iam'], admin)).toMatchObject({ code: 2 });
    const before = await run(['--check'], botEnv);
    expect(before.code).toBe(0);
    expect(before.out).toContain('The service account works');
    expect(before.out).toContain('it sees 0 NAS-HA service(s)');

    const printed = await run(['--iam', '--client-id', BOT.clientId, '--service', 'zpool-128310'], admin);
    expect(printed.err).toBe('');
    expect(printed.code).toBe(0);
    const identity = serviceAccountUrn(SANDBOX_NICHANDLE, BOT.clientId);
    expect(printed.out).toContain(`zpool-128310  urn:v1:eu:resource:nasHA:zpool-128310`);
    expect(printed.out).toContain('Not created');
    const json = printed.out.slice(printed.out.indexOf('{'), printed.out.lastIndexOf('}') + 1);
    expect(JSON.parse(json)).toEqual({
      name: 'nasha-bot',
      description: expect.any(String),
      identities: [identity],
      resources: [{ urn: 'urn:v1:eu:resource:nasHA:zpool-128310' }],
      permissions: { allow: BOT_IAM_ACTIONS.map((action) => ({ action })) },
    });
    expect(sim.iam.listPolicies()).toEqual([]);

    const applied = await run(['--iam', '--client-id', BOT.clientId, '--service', 'zpool-128310', '--apply'], admin);
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(/Created IAM policy [0-9a-f-]+ \(nasha-bot\)/);
    expect(sim.iam.listPolicies()).toMatchObject([{ name: 'nasha-bot', identities: [identity] }]);
    expect(sim.requests.some((r) => r.method === 'POST' && r.path === '/v2/iam/policy' && r.status === 200)).toBe(true);

    // The bot, through its service account: what the policy allows works, the rest is OVH's 403.
    const api = createNashaApi({ config: { ...parseOvhConfig(botEnv), tuning: { ...FAST_TUNING, maxRetries: 0 } } });
    try {
      expect(await api.client.listServices()).toEqual(['zpool-128310']);
      const task = await api.client.createCustomSnapshot('zpool-128310', 'data', { name: 'granted' });
      expect(await api.client.getTask('zpool-128310', task.taskId)).toMatchObject({ taskId: task.taskId });
      await expect(api.client.listPartitions('zpool-204117')).rejects.toMatchObject({
        httpStatus: 403,
        ovhMessage: 'User not granted for this request',
      });
    } finally {
      api.tracker.stop();
      api.transport.close();
    }
    // A second --apply: the name is taken, OVH says so.
    const again = await run(['--iam', '--client-id', BOT.clientId, '--service', 'zpool-128310', '--apply'], admin);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');
  });
});
