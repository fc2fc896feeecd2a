import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../../src/config/bot-config.js';
import { ActionGate } from '../../../src/core/gate.js';
import type { GroupDirectory } from '../../../src/core/groups.js';
import { Policy } from '../../../src/core/policy.js';
import { canIMessage } from '../../../src/slack/blocks/permissions.js';

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
