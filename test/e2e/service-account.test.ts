import { afterEach, describe, expect, it } from 'vitest';
import {
  SANDBOX_NICHANDLE,
  SANDBOX_SERVICE_ACCOUNT,
  serviceAccountUrn,
  TOKEN_PATH,
} from '../../src/ovh/simulator/index.js';
import { type BotHarness, startBotHarness } from '../support/bot-harness.js';

/**
 * The whole bot on an OVH service account (OAuth2 + IAM) instead of an application key: Slack command → bot →
 * node-ovh with Bearer tokens → the simulator's token endpoint and IAM evaluation, over real HTTPS.
 */
let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
const ME = serviceAccountUrn(SANDBOX_NICHANDLE, SANDBOX_SERVICE_ACCOUNT.clientId);
const urn = (service: string) => `urn:v1:eu:resource:nasHA:${service}`;

describe('the bot on an OVH service account', () => {
  it('starts (its startup check included), reads and changes through Bearer tokens, one token for all', async () => {
    h = await startBotHarness({ ovhAuth: 'service-account' });
    const create = await h.command('snapshot create zpool-128310/logs sa-made');
    expect((await h.replies(create.id, final)).at(-1)).toBe('Done: create snapshot `sa-made` on `zpool-128310/logs`');
    expect(h.sim.state.listCustomSnapshots('zpool-128310', 'logs')).toContain('sa-made');
    const api = h.sim.requests.filter((r) => r.path.startsWith('/1.0/'));
    expect(api.length).toBeGreaterThan(2);
    expect(api.every((r) => r.identity === ME && r.consumerKey === null)).toBe(true);
    expect(api.some((r) => r.path.endsWith('/auth/time'))).toBe(false);
    // One token: the startup check and the bot's client share one token source (it was two before).
    expect(h.sim.requests.filter((r) => r.path === TOKEN_PATH)).toHaveLength(1);
  });

  it('an action IAM does not allow is refused by OVH (403) and the reply says so; nothing is changed', async () => {
    h = await startBotHarness({
      ovhAuth: 'service-account',
      sim: {
        iamPolicies: [
          {
            name: 'no-custom-snapshots',
            identities: [ME],
            resources: [{ urn: urn('zpool-128310') }, { urn: urn('zpool-204117') }],
            permissions: {
              allow: [{ action: 'nasHA:apiovh:*' }],
              except: [{ action: 'nasHA:apiovh:partition/customSnapshot/create' }],
            },
          },
        ],
      },
    });
    const create = await h.command('snapshot create zpool-128310/logs not-allowed');
    const texts = await h.replies(create.id, (t) => t.length > 0);
    expect(JSON.stringify(h.slack.replies(create.id).at(-1))).toContain('User not granted for this request');
    expect(texts).toEqual([
      'OVH refused to create snapshot on `zpool-128310/logs`: `User not granted for this request`.',
    ]);
    expect(h.sim.state.listCustomSnapshots('zpool-128310', 'logs')).not.toContain('not-allowed');
    expect(h.sim.requests.some((r) => r.method === 'POST' && r.status === 403)).toBe(true);
    // Reads were allowed: the bot looked at the partition before asking for the change.
    expect(h.sim.requests.some((r) => r.method === 'GET' && r.status === 200 && r.identity === ME)).toBe(true);
  });
});
