import { describe, expect, it } from 'vitest';
import { type AuditDetail, auditRefusal, parseAuditDetail, serializeAuditDetail } from '../../src/core/audit-detail.js';
import type { Decision } from '../../src/core/policy.js';
import { proseIn } from '../support/no-prose.js';
import { VIEWER_QUICK_REFUSAL } from '../support/refusals.js';

/** The audit detail as data: refusals keep a target only where the user may be shown it; older text reads back. */
const TARGET = { service: 'zpool-1', partition: 'db' };

function decision(overrides: Partial<Decision>): Decision {
  return {
    allowed: false,
    required: 'operator',
    target: TARGET,
    userRole: undefined,
    grant: undefined,
    cap: undefined,
    effectiveRole: undefined,
    denial: { kind: 'no_grant', partial: false },
    retryGroups: [],
    groupErrors: [],
    grants: [],
    grantCount: 0,
    ...overrides,
  };
}

describe('auditRefusal', () => {
  const policy = (d: Decision) => auditRefusal({ kind: 'policy', action: 'snapshot.quick', via: 'run', decision: d });

  it('names the target of a role check the user holds a grant on', () => {
    const low = policy(
      decision({
        userRole: 'viewer',
        effectiveRole: 'viewer',
        denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
      }),
    );
    expect(low).toEqual({ ...VIEWER_QUICK_REFUSAL, target: TARGET });
    const capped = policy(
      decision({
        userRole: 'operator',
        effectiveRole: 'viewer',
        denial: { kind: 'channel_cap', channelId: 'C0X', limit: 'viewer', elsewhere: [] },
      }),
    );
    expect(capped).toMatchObject({ target: TARGET });
    const someOfService = policy(
      decision({ target: { service: 'zpool-1' }, denial: { kind: 'no_grant', partial: true } }),
    );
    expect(someOfService).toMatchObject({ target: { service: 'zpool-1' } });
  });

  it('names none the user holds no grant on: a capped responder, a group that could not be resolved', () => {
    const responder = policy(
      decision({ denial: { kind: 'channel_cap', channelId: 'C0X', limit: 'viewer', elsewhere: [] } }),
    );
    expect(responder).not.toHaveProperty('target');
    const unresolved = policy(decision({ retryGroups: ['S0DBA'] }));
    expect(unresolved).not.toHaveProperty('target');
  });

  it('keeps the target a "not found, or not yours" refusal was asked about (the user typed it)', () => {
    expect(auditRefusal({ kind: 'not_visible', action: 'read', target: { service: 'typed' } })).toEqual({
      kind: 'not_visible',
      action: 'read',
      target: { service: 'typed' },
    });
  });
});

describe('serializeAuditDetail / parseAuditDetail', () => {
  it('round-trips a task end and a settlement; bounds OVH’s words', () => {
    const detail: AuditDetail = {
      task: { outcome: 'failed', status: 'customerError', details: 'x'.repeat(5_000) },
      settlement: { kind: 'task_found', lost: { kind: 'timeout' }, taskId: 42 },
    };
    const back = parseAuditDetail(serializeAuditDetail(detail));
    expect(back?.task?.details).toHaveLength(2_000);
    expect(back).toEqual({
      task: { outcome: 'failed', status: 'customerError', details: 'x'.repeat(2_000) },
      settlement: { kind: 'task_found', lost: { kind: 'timeout' }, taskId: 42 },
    });
  });

  it('reads what older versions wrote: a plain text, a note, OVH’s words in the bot’s', () => {
    expect(parseAuditDetail('the bot stopped before sending the change to OVH')).toEqual({
      text: 'the bot stopped before sending the change to OVH',
    });
    expect(parseAuditDetail('{"note":"OVH shows it done"}')).toEqual({ note: 'OVH shows it done' });
    expect(parseAuditDetail('{"ovh":"OVH task ended in error: boom"}')).toEqual({
      ovh: 'OVH task ended in error: boom',
    });
  });
});

describe('the no-prose check the core tests use', () => {
  it('passes data and OVH’s or a user’s words, and catches a sentence of the bot’s or a retired key', () => {
    expect(
      proseIn({
        outcome: 'unknown',
        settlement: {
          kind: 'cannot_ask',
          lost: { kind: 'network', ovhMessage: 'ECONNRESET: socket hang up' },
          problem: { kind: 'ovh', step: 'list snapshots', ovhMessage: 'Service unavailable, retry later' },
        },
        detail: { reason: 'free space before the upgrade', task: { details: 'zfs: out of space' } },
      }),
    ).toEqual([]);
    expect(proseIn({ outcome: 'failed', detail: 'OVH task ended in error: boom' })).toEqual([
      '$.detail: "OVH task ended in error: boom"',
    ]);
    expect(proseIn({ detail: { note: 'x' } })).toEqual(['$.detail.note: written under a retired key']);
  });
});
