import { describe, expect, it } from 'vitest';
import type { ApprovalRequest, ClickRefusal } from '../../../src/core/approvals.js';
import type { Decision } from '../../../src/core/policy.js';
import {
  clickEffectMessage,
  clickEffectText,
  clickRefusalMessage,
  clickRefusalText,
} from '../../../src/slack/blocks/clicks.js';
import { problemText } from '../../../src/slack/blocks/problems.js';
import { mrkdwn, plain } from '../../../src/slack/text.js';

const target = { service: 'zpool-1', partition: 'data' };

function decision(overrides: Partial<Decision>): Decision {
  return {
    allowed: false,
    required: 'approver',
    target,
    userRole: 'operator',
    grant: undefined,
    cap: undefined,
    effectiveRole: 'operator',
    denial: { kind: 'role_too_low', has: 'operator', via: { kind: 'group', groupId: 'S0SRE' } },
    retryGroups: [],
    groupErrors: [],
    grants: [],
    grantCount: 1,
    ...overrides,
  };
}

const request = { id: 'ABC234' } as ApprovalRequest;

describe('click answers', () => {
  it('word refusals core audits as problems.ts words them for the audit record', () => {
    expect(plain(clickRefusalText({ kind: 'not_requester', id: 'ABC234' }))).toBe(
      'Only the requester can cancel this request.',
    );
    expect(plain(clickRefusalText({ kind: 'not_requester', id: 'ABC234' }))).toBe(
      plain(problemText({ kind: 'refused', refusal: { kind: 'click', why: 'not_requester' } })),
    );
    expect(plain(clickRefusalText({ kind: 'self_approval', id: 'ABC234' }))).toBe(
      'You cannot approve your own request: a second person has to.',
    );
    expect(plain(clickRefusalText({ kind: 'reason_too_short', id: 'ABC234' }))).toBe('A reason is required to reject.');
  });

  it('say which request and where it stands', () => {
    const cases: Array<[ClickRefusal, string]> = [
      [{ kind: 'unknown_request', id: 'ABC234' }, 'There is no approval request #ABC234.'],
      [{ kind: 'closed', id: 'ABC234', state: 'rejected' }, 'Approval #ABC234 is already rejected.'],
      [{ kind: 'closed', id: 'ABC234', state: 'executing' }, 'Approval #ABC234 is already approved and running.'],
      [{ kind: 'expired', id: 'ABC234' }, 'Approval #ABC234 has expired; it can no longer be approved.'],
      [
        { kind: 'already_voted', id: 'ABC234', remaining: 1 },
        'You already approved #ABC234; it needs 1 more approval(s).',
      ],
      [{ kind: 'busy', id: 'ABC234' }, 'Approval #ABC234 is busy; try again.'],
    ];
    for (const [refusal, words] of cases) expect(plain(clickRefusalText(refusal))).toBe(words);
  });

  it('a clicker who may not decide: the role check, then the approver groups, mentions built from IDs', () => {
    const role = clickRefusalText({ kind: 'not_approver', id: 'ABC234', decision: decision({}) });
    expect(mrkdwn(role)).toBe('You need *approver* on `zpool-1/data` (you have *operator* via <!subteam^S0SRE>).');
    const groups = {
      groups: ['S0DBA', 'S0LEADS'],
      memberOf: undefined,
      memberIssue: undefined,
      notIn: ['S0DBA'],
      unresolved: [{ groupId: 'S0LEADS', state: 'unresolved' as const, error: 'timeout', staleForMs: undefined }],
    };
    const onlyGroups = clickRefusalText({
      kind: 'not_approver',
      id: 'ABC234',
      decision: decision({ denial: undefined, effectiveRole: 'approver', approverGroups: groups }),
    });
    expect(mrkdwn(onlyGroups)).toBe(
      'Approvals of this operation are limited to members of <!subteam^S0DBA> or <!subteam^S0LEADS>; could not check your membership of <!subteam^S0LEADS> right now, try again in a minute.',
    );
    const both = clickRefusalText({
      kind: 'not_approver',
      id: 'ABC234',
      decision: decision({ approverGroups: groups }),
    });
    expect(plain(both)).toMatch(
      /^You need approver on “zpool-1\/data” .*; also, approvals of this operation are limited/,
    );
  });

  it('a clicker with no grant touching the target: the target is neither named nor confirmed (issue 13.2)', () => {
    const unseen = clickRefusalText({
      kind: 'not_approver',
      id: 'ABC234',
      decision: decision({
        denial: { kind: 'no_grant', partial: false },
        userRole: undefined,
        effectiveRole: undefined,
      }),
    });
    expect(plain(unseen)).toBe(
      'Approval #ABC234 was not found, or is not yours to decide: no grant of yours covers its target.',
    );
    expect(mrkdwn(unseen)).not.toContain('zpool-1');
    // Grants on some partitions of it: the target is theirs to know of, and the refusal says what is missing.
    const partial = clickRefusalText({
      kind: 'not_approver',
      id: 'ABC234',
      decision: decision({ denial: { kind: 'no_grant', partial: true } }),
    });
    expect(plain(partial)).toContain('“zpool-1/data”');
  });

  it('what a click did', () => {
    expect(plain(clickEffectText(request, { kind: 'running' }))).toBe('You approved #ABC234; running it now.');
    expect(plain(clickEffectText(request, { kind: 'approved', remaining: 2 }))).toBe(
      'You approved #ABC234; it needs 2 more approval(s).',
    );
    expect(plain(clickEffectText(request, { kind: 'cancelled' }))).toBe('Request #ABC234 cancelled.');
    expect(plain(clickEffectText(request, { kind: 'rejected' }))).toBe('Request #ABC234 rejected.');
  });

  it('messages: plain notification text, mrkdwn blocks with an icon', () => {
    const refused = clickRefusalMessage({ kind: 'not_requester', id: 'ABC234' });
    expect(refused.text).toBe('Only the requester can cancel this request.');
    expect(refused.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: ':no_entry: Only the requester can cancel this request.' } },
    ]);
    const done = clickEffectMessage(request, { kind: 'running' });
    expect(done.text).toBe('You approved #ABC234; running it now.');
    expect(JSON.stringify(done.blocks)).toContain(':white_check_mark: You approved #ABC234; running it now.');
  });
});
