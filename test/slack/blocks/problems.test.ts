import { describe, expect, it } from 'vitest';
import type { AuditRefusal } from '../../../src/core/audit-detail.js';
import { problemText } from '../../../src/slack/blocks/problems.js';
import { mrkdwn, plain } from '../../../src/slack/text.js';
import { VIEWER_QUICK_REFUSAL } from '../../support/refusals.js';

/** A quick run refused as a whole: the first partition's refusal, named only if the user may see it. */
describe('problemText: quick_refused', () => {
  it('names the partition the refusal is about when it keeps one', () => {
    const words = problemText({
      kind: 'quick_refused',
      refusal: { ...VIEWER_QUICK_REFUSAL, target: { service: 'zpool-204117', partition: 'db' } },
      spec: 'zpool-204117',
    });
    expect(mrkdwn(words)).toBe('You need *operator* on `zpool-204117/db` (you have *viewer* via a direct grant).');
  });

  it('otherwise the target as the user typed it, inert; never "on it"', () => {
    const capped: AuditRefusal = {
      ...VIEWER_QUICK_REFUSAL,
      denial: { kind: 'channel_cap', channelId: 'C0INCIDENT', limit: 'viewer', elsewhere: [] },
    };
    const words = problemText({ kind: 'quick_refused', refusal: capped, spec: 'db-<!here>' });
    expect(mrkdwn(words)).toBe(
      'You need *operator* on `db-&lt;!here&gt;`: this channel allows at most *viewer* (channel cap).',
    );
    expect(plain(words)).not.toContain(' on it');
  });
});
