import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../../src/config/bot-config.js';
import { ActionGate } from '../../../src/core/gate.js';
import type { GroupDirectory } from '../../../src/core/groups.js';
import { Policy } from '../../../src/core/policy.js';
import type { QuickExplanation } from '../../../src/core/quick-snapshots.js';
import { canIMessage, quickCanIMessage } from '../../../src/slack/blocks/permissions.js';
import { translator } from '../../../src/slack/i18n/translate.js';
import { expectMessageWithinLimits } from '../../support/block-limits.js';

/** can-i words a group lookup's failure with the lookup's own error text, shown as it came, never as markup. */
describe('canIMessage: a group that cannot be resolved', () => {
  it('quotes the error text inert', async () => {
    const groups: GroupDirectory = {
      membersOf: async () => new Set<string>(),
      resolutionProblem: (groupId) => ({
        groupId,
        state: 'unresolved',
        error: 'An API error occurred: <!channel> missing_scope',
        failedAt: 0,
        staleForMs: undefined,
      }),
    };
    const policy = new Policy(
      {
        grants: [{ role: 'operator', users: [], groups: ['S0DBA'], scope: ['zpool-1'] }],
        channels: [],
        unlistedChannels: 'admin',
      },
      groups,
    );
    const gate = new ActionGate({ policy, groups, rules: DEFAULT_APPROVAL_RULES, responderGroups: [] });
    const actor = { userId: 'U0ALICE', channelId: 'C0OPS' };
    const explained = await gate.explain(actor, actor.userId, 'snapshot.create', {
      service: 'zpool-1',
      partition: 'db',
    });
    if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
    const shown = JSON.stringify(canIMessage(explained, actor.channelId).blocks);
    expect(shown).toContain(
      'could not resolve group <!subteam^S0DBA> (`An API error occurred: &lt;!channel&gt; missing_scope`)',
    );
    expect(shown).not.toContain('<!channel>');
  });
});

/** can-i quick on a service: partition by partition, counted in the headline, in both languages, within limits. */
describe('quickCanIMessage', () => {
  const policy = new Policy(
    {
      grants: [{ role: 'operator', users: ['U0ALICE'], groups: [], scope: ['zpool-1/p1', 'zpool-1/p2'] }],
      channels: [],
      unlistedChannels: 'admin',
    },
    { membersOf: async () => new Set<string>() },
  );
  const viewer = new Policy(
    {
      grants: [{ role: 'viewer', users: ['U0ALICE'], groups: [], scope: ['*'] }],
      channels: [],
      unlistedChannels: 'admin',
    },
    { membersOf: async () => new Set<string>() },
  );
  const actor = { userId: 'U0ALICE', channelId: 'C0OPS' };

  async function explanation(on: Policy, partitions: readonly string[]): Promise<QuickExplanation> {
    const groups: GroupDirectory = { membersOf: async () => new Set<string>() };
    const gate = new ActionGate({ policy: on, groups, rules: DEFAULT_APPROVAL_RULES, responderGroups: [] });
    const parts = await Promise.all(
      partitions.map(async (partition) => {
        const explained = await gate.explain(actor, actor.userId, 'snapshot.quick', { service: 'zpool-1', partition });
        if (!('verdict' in explained)) throw new Error('asking about yourself is always answered');
        return explained;
      }),
    );
    return { spec: 'zpool-1', self: true, subjectId: actor.userId, parts };
  }

  it('says Partly and lists each partition with its own verdict', async () => {
    const shown = quickCanIMessage(await explanation(policy, ['p1', 'p2', 'p3']));
    expect(shown.text).toMatch(/^Partly: quick on “zpool-1” would snapshot 2 partitions out of 3 visible to you\./);
    const lines = JSON.stringify(shown.blocks);
    expect(lines).toContain('`zpool-1/p1`: *Yes*');
    expect(lines).toContain('`zpool-1/p3`: *No*');
  });

  it('counts beyond twenty lines, and stays within Block Kit limits in French too', async () => {
    const many = Array.from({ length: 45 }, (_, i) => `p${i + 1}`);
    for (const lang of ['en', 'fr'] as const) {
      const shown = quickCanIMessage(await explanation(viewer, many), translator({ lang }));
      expectMessageWithinLimits(shown);
      expect(shown.text).toMatch(lang === 'en' ? /^No: / : /^Non\u00a0: /);
      expect(JSON.stringify(shown.blocks)).toContain(
        lang === 'en' ? '…and 25 more partitions.' : '…et 25 autres partitions.',
      );
    }
  });
});
