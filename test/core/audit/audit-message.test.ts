import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditRecord } from '../../../src/core/audit.js';
import { auditMessage, cut, SLACK_LIMITS } from '../../../src/slack/blocks/audit-message.js';

const T0 = Date.UTC(2026, 10, 28, 9, 30, 15, 123);

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: '9b2f6c1e-1111-4c1e-9a51-0123456789ab',
    version: 2,
    createdAt: T0,
    updatedAt: T0 + 65_000,
    actorUserId: 'U0ALICE01',
    channelId: 'C0OPS0001',
    action: 'snapshot.create',
    target: { service: 'zpool-123456', partition: 'backups' },
    subject: 'before-upgrade',
    outcome: 'started',
    taskId: 4242,
    detail: null,
    auditChannel: 'CAUDIT0001',
    hash: 'a3f09c1d2e7b44c1e0ffa9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8',
    ...overrides,
  };
}

/** Every piece of text Slack will see, with the limit that applies to it. */
function texts(blocks: types.KnownBlock[]): Array<{ text: string; max: number }> {
  const out: Array<{ text: string; max: number }> = [];
  for (const block of blocks) {
    if (block.type === 'section') {
      if (block.text) out.push({ text: block.text.text, max: SLACK_LIMITS.sectionText });
      expect((block.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fieldCount);
      for (const field of block.fields ?? []) out.push({ text: field.text, max: SLACK_LIMITS.fieldText });
    } else if (block.type === 'context') {
      expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
      for (const element of block.elements) {
        if ('text' in element) out.push({ text: element.text, max: SLACK_LIMITS.contextText });
      }
    }
  }
  return out;
}

function allText(message: { text: string; blocks: types.KnownBlock[] }): string {
  return [message.text, ...texts(message.blocks).map((t) => t.text)].join('\n');
}

describe('auditMessage', () => {
  it('shows who, what, target, subject, outcome, OVH task and both times', () => {
    const message = auditMessage(record());
    const text = allText(message);
    expect(text).toContain('<@U0ALICE01>');
    expect(text).toContain('Create snapshot');
    expect(text).toContain('`zpool-123456/backups`');
    expect(text).toContain('`before-upgrade`');
    expect(text).toContain('`4242`');
    expect(text).toContain('<#C0OPS0001>');
    expect(text).toContain(':hourglass_flowing_sand: Started');
    const created = Math.floor(T0 / 1000);
    expect(text).toContain(`<!date^${created}^{date_short_pretty} {time}|2026-11-28T09:30:15Z> (2026-11-28T09:30:15Z)`);
    expect(text).toContain(`<!date^${created + 65}^{date_short_pretty} {time}|2026-11-28T09:31:20Z>`);
    expect(text).toContain('v2');
    expect(message.text).toBe(
      ':hourglass_flowing_sand: Create snapshot on zpool-123456/backups by <@U0ALICE01>: Started (OVH task 4242)',
    );
  });

  it('shows the short chain hash beside the audit id, so a reader can cross-check with audit:verify', () => {
    const context = texts(auditMessage(record()).blocks).at(-1)?.text;
    expect(context).toBe('Audit `9b2f6c1e-1111-4c1e-9a51-0123456789ab` v2 · hash `a3f09c1d2e`');
    // A record stored without a hash (written outside the chain) shows none rather than a fake one.
    const unhashed = texts(auditMessage(record({ hash: null })).blocks).at(-1)?.text;
    expect(unhashed).toBe('Audit `9b2f6c1e-1111-4c1e-9a51-0123456789ab` v2');
    // Never markup, whatever the column holds.
    const hostile = texts(auditMessage(record({ hash: '<!channel>`x' })).blocks).at(-1)?.text;
    expect(hostile).toContain('hash `&lt;!channel&gt;`');
    expect(hostile).not.toContain('<!channel>');
  });

  it('renders every outcome and every action', () => {
    const emojis = new Set<string>();
    for (const outcome of AUDIT_OUTCOMES) {
      const message = auditMessage(record({ outcome }));
      const headline = texts(message.blocks)[0]?.text ?? '';
      const emoji = /^(:[a-z_]+:)/.exec(headline)?.[1];
      expect(emoji, outcome).toBeDefined();
      emojis.add(emoji ?? '');
      // The label names the outcome in words (`not_applied` reads "not applied").
      expect(headline.toLowerCase()).toContain(outcome.replace(/_/g, ' '));
    }
    expect(emojis.size).toBe(AUDIT_OUTCOMES.length);
    for (const action of AUDIT_ACTIONS) {
      expect(allText(auditMessage(record({ action })))).toContain(`\`${action}\``);
    }
    expect(allText(auditMessage(record({ action: 'schedule.add', subject: 'day-1' })))).toContain('*Frequency*');
  });

  it('omits what a record does not have', () => {
    const message = auditMessage(
      record({
        channelId: null,
        subject: null,
        taskId: null,
        detail: null,
        updatedAt: T0,
        target: { service: 'zpool-1' },
      }),
    );
    const text = allText(message);
    expect(text).not.toContain('Requested in');
    expect(text).not.toContain('Updated');
    expect(text).toContain('*OVH task*\n—');
    expect(message.text).not.toContain('OVH task');
    expect(text).toContain('`zpool-1`');
  });

  it('shows the detail, escaped', () => {
    const message = auditMessage(record({ outcome: 'denied', detail: 'needs <admin> & approval' }));
    expect(allText(message)).toContain('*Detail*\nneeds &lt;admin&gt; &amp; approval');
  });

  it('does not let untrusted ids or names inject markup', () => {
    const message = auditMessage(
      record({
        actorUserId: '<!channel>',
        channelId: 'not a channel',
        subject: 'a`b<!here>',
        target: { service: 'x' },
      }),
    );
    const text = allText(message);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain("`a'b&lt;!here&gt;`");
  });

  it('stays within Slack limits with huge inputs, cutting with an ellipsis', () => {
    const huge = (unit: string) => unit.repeat(50_000);
    const message = auditMessage(
      record({
        actorUserId: huge('U'),
        channelId: huge('C'),
        target: { service: huge('s'), partition: huge('p') },
        subject: huge('<&>'),
        detail: huge('détail & <b> 🙂 '),
        outcome: 'failed',
      }),
    );
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
    expect(message.text.endsWith('…')).toBe(true);
    const all = texts(message.blocks);
    for (const { text, max } of all) {
      expect(text.length).toBeLessThanOrEqual(max);
      // No lone surrogate left by a cut.
      expect(() => encodeURIComponent(text)).not.toThrow();
    }
    expect(all.filter((t) => t.text.endsWith('…')).length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(message).length).toBeLessThan(40_000);
  });

  it('cut never splits an entity, a token or a surrogate pair', () => {
    expect(cut('short', 10)).toBe('short');
    expect(cut('abcdef&amp;', 9)).toBe('abcdef…');
    expect(cut('ab <@U123456> cd', 8)).toBe('ab …');
    expect(cut('ab🙂cd', 4)).toBe('ab…');
    expect(cut('x'.repeat(20), 10)).toHaveLength(10);
  });
});
