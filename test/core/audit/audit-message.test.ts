import type { types } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditRecord } from '../../../src/core/audit.js';
import { type AuditDetail, serializeAuditDetail } from '../../../src/core/audit-detail.js';
import type { Settlement } from '../../../src/core/reconcile.js';
import { auditMessage, cut, SLACK_LIMITS } from '../../../src/slack/blocks/audit-message.js';
import { fuzzParams, hostileString } from '../../fuzz/hostile.js';
import { auditRecord } from '../../support/records.js';
import { VIEWER_QUICK_REFUSAL } from '../../support/refusals.js';

const T0 = Date.UTC(2026, 10, 28, 9, 30, 15, 123);
const TARGET = { service: 'zpool-123456', partition: 'backups' };

const record = auditRecord;

const withDetail = (detail: AuditDetail, overrides: Partial<AuditRecord> = {}) =>
  record({ ...overrides, detail: serializeAuditDetail(detail) });

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

/** The section that follows a `*Label*` line. */
function detailSection(message: { blocks: types.KnownBlock[] }, label: string): string | undefined {
  return texts(message.blocks).find((t) => t.text.startsWith(`*${label}*\n`))?.text;
}

/** Every `<…>` token Slack would act on (mention, channel, broadcast, link, date). */
const liveTokens = (mrkdwn: string) => [...mrkdwn.matchAll(/<[^>]*>/g)].map((m) => m[0]);

/** Code spans (`…`) are balanced in every text: an open one would let a user's words format. */
function expectBalancedSpans(message: { text: string; blocks: types.KnownBlock[] }) {
  for (const text of [message.text, ...texts(message.blocks).map((t) => t.text)]) {
    expect((text.match(/`/g) ?? []).length % 2, text).toBe(0);
  }
}

const HOSTILE = '<@U0VICTIM> <!channel> <!subteam^S0SRE> <#C0SECRET> <https://evil.example|click> *APPROVED* `x` &amp;';

describe('auditMessage', () => {
  it('shows who, what, target, subject, outcome, OVH task and both times', () => {
    const message = auditMessage(record());
    const text = allText(message);
    expect(text).toContain('<@U0ALICE01>');
    expect(text).toContain('Create snapshot');
    expect(text).toContain('`zpool-123456/backups`');
    expect(text).toContain('*Snapshot*\n`before-upgrade`');
    expect(text).toContain('`4242`');
    expect(text).toContain('<#C0OPS0001>');
    expect(text).toContain(':hourglass_flowing_sand: Started');
    const created = Math.floor(T0 / 1000);
    expect(text).toContain(`<!date^${created}^{date_short_pretty} {time}|2026-11-28T09:30Z> (2026-11-28T09:30:15Z)`);
    expect(text).toContain(
      `<!date^${created + 65}^{date_short_pretty} {time}|2026-11-28T09:31Z> (2026-11-28T09:31:20Z)`,
    );
    expect(text).toContain('v2');
    expect(message.text).toBe(
      ':hourglass_flowing_sand: Create snapshot on `zpool-123456/backups` by <@U0ALICE01>: Started (OVH task 4242)',
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

  it('renders every outcome with its own emoji and label, and every action', () => {
    const looks = new Set<string>();
    for (const outcome of AUDIT_OUTCOMES) {
      const message = auditMessage(record({ outcome }));
      const headline = texts(message.blocks)[0]?.text ?? '';
      const look = /^(:[a-z_]+:) \*Create snapshot\* on `zpool-123456\/backups`: \*(.+)\*$/.exec(headline);
      expect(look, outcome).not.toBeNull();
      looks.add(look?.[1] ?? '');
      looks.add(look?.[2] ?? '');
      expect(allText(message)).toContain(`*Outcome*\n${look?.[1]} ${look?.[2]}`);
    }
    expect(looks.size).toBe(AUDIT_OUTCOMES.length * 2);
    for (const action of AUDIT_ACTIONS) {
      expect(allText(auditMessage(record({ action })))).toContain(`\`${action}\``);
    }
  });

  it('labels the subject with what it is, from the action table', () => {
    const subject = (action: AuditRecord['action'], value: string) => {
      const fields = texts(auditMessage(record({ action, subject: value })).blocks);
      return fields.find((f) => f.text.endsWith(`\n\`${value}\``) || f.text.endsWith(`\n\`#${value}\``))?.text;
    };
    expect(subject('snapshot.create', 'before-upgrade')).toBe('*Snapshot*\n`before-upgrade`');
    expect(subject('snapshot.delete', 'before-upgrade')).toBe('*Snapshot*\n`before-upgrade`');
    expect(subject('schedule.add', 'day-1')).toBe('*Frequency*\n`day-1`');
    expect(subject('schedule.remove', 'hour-1')).toBe('*Frequency*\n`hour-1`');
    // Symptoms: an approval decision showed its request under "Snapshot: #7RLM5K", a quick run "Snapshot: inc-1".
    expect(subject('approval.decide', '7RLM5K')).toBe('*Request*\n`#7RLM5K`');
    expect(subject('snapshot.quick', 'inc-1')).toBe('*Label*\n`inc-1`');
    expect(allText(auditMessage(record({ action: 'approval.decide', subject: '7RLM5K' })))).not.toContain('Snapshot');
    expect(allText(auditMessage(record({ action: 'snapshot.quick', subject: 'inc-1' })))).not.toContain('*Snapshot*');
  });

  it('a no-op reads as a no-op with its reason, not as a failure', () => {
    const message = auditMessage(
      withDetail(
        { problem: { kind: 'frequency_enabled', target: TARGET, type: 'hour-6' } },
        { action: 'schedule.add', subject: 'hour-6', outcome: 'noop', taskId: null },
      ),
    );
    const text = allText(message);
    expect(text).not.toContain(':x:');
    expect(text).not.toMatch(/failed/i);
    expect(texts(message.blocks)[0]?.text).toContain('*No-op: already so, nothing changed*');
    expect(detailSection(message, 'Why')).toBe('*Why*\n`hour-6` is already enabled on `zpool-123456/backups`.');
  });

  it('a quick run with some partitions taken is partial, with the partitions by state', () => {
    const message = auditMessage(
      withDetail(
        {
          quick: {
            label: 'inc-1',
            expiration: '2026-12-05T09:30:00.000Z',
            taken: ['zpool-1/db/inc-1-db', 'zpool-1/logs/inc-1-logs'],
            failed: ['zpool-1/media'],
            full: [],
            denied: [],
            pending: 0,
          },
        },
        {
          action: 'snapshot.quick',
          subject: 'inc-1',
          outcome: 'partial',
          target: { service: 'zpool-1' },
          taskId: null,
        },
      ),
    );
    expect(texts(message.blocks)[0]?.text).toContain('*Partial: some not taken*');
    expect(message.text).toContain('Partial');
    expect(message.text).not.toMatch(/Failed|Succeeded/);
    const partitions = detailSection(message, 'Partitions');
    expect(partitions).toContain('Taken (2): `zpool-1/db/inc-1-db`, `zpool-1/logs/inc-1-logs`');
    expect(partitions).toContain('Failed (1): `zpool-1/media`');
    expect(partitions).toContain(`Expires <!date^${Date.UTC(2026, 11, 5, 9, 30) / 1000}^`);
    expect(partitions).not.toContain('Full');
  });

  it('a channel-cap denial names the channels that allow it as live channel links, escaped once', () => {
    const message = auditMessage(
      withDetail(
        {
          problem: {
            kind: 'refused',
            refusal: {
              kind: 'policy',
              action: 'snapshot.delete',
              via: 'run',
              required: 'admin',
              has: 'admin',
              denial: { kind: 'channel_cap', channelId: 'C0OPS0001', limit: 'operator', elsewhere: ['C0SNAPS01'] },
            },
          },
        },
        { action: 'snapshot.delete', outcome: 'denied', taskId: null },
      ),
    );
    const why = detailSection(message, 'Why');
    expect(why).toContain('; try <#C0SNAPS01>.');
    expect(why).toContain('You need *admin* on `zpool-123456/backups`: this channel allows at most *operator*');
    expect(allText(message)).not.toContain('&lt;#');
    expect(allText(message)).not.toContain('&amp;');
  });

  it('a reason is shown verbatim: no mention, broadcast, link or formatting from what a user typed', () => {
    const message = auditMessage(
      withDetail({ reason: HOSTILE, approvalId: '7RLM5K' }, { action: 'snapshot.delete', outcome: 'requested' }),
    );
    const reason = detailSection(message, 'Reason');
    expect(reason).toBe(
      '*Reason*\n`&lt;@U0VICTIM&gt; &lt;!channel&gt; &lt;!subteam^S0SRE&gt; &lt;#C0SECRET&gt; &lt;https://evil.example|click&gt; *APPROVED* ˋxˋ &amp;amp;`',
    );
    // Symptom: the formatter turned every escaped `&lt;@U…&gt;` back into a live mention.
    expect(liveTokens(allText(message)).filter((t) => !t.startsWith('<!date^'))).toEqual([
      '<@U0ALICE01>',
      '<@U0ALICE01>',
      '<#C0OPS0001>',
    ]);
    expect(allText(message)).toContain('*Approval request*\n`#7RLM5K`');
  });

  it('text stored by older versions is shown verbatim too, mentions and all', () => {
    const message = auditMessage(
      record({ outcome: 'rejected', detail: 'rejected by <@U0BOB>: <@U0VICTIM> *said so*\nsecond line' }),
    );
    expect(detailSection(message, 'Detail')).toBe(
      '*Detail*\n`rejected by &lt;@U0BOB&gt;: &lt;@U0VICTIM&gt; *said so* ⏎ second line`',
    );
    expect(allText(message)).not.toContain('<@U0VICTIM>');
    expect(allText(message)).not.toContain('<@U0BOB>');
  });

  it('mentions the deciders from their IDs, and only valid IDs', () => {
    const approved = auditMessage(
      withDetail({ decidedBy: ['U0APPROVER', 'W0SECOND1'], approvalId: 'AB12CD' }, { outcome: 'approved' }),
    );
    expect(detailSection(approved, 'Approved by')).toBe('*Approved by*\n<@U0APPROVER> and <@W0SECOND1>');
    const rejected = auditMessage(
      withDetail({ decidedBy: ['<!channel>'], reason: 'not now <@U0VICTIM>' }, { outcome: 'rejected' }),
    );
    expect(detailSection(rejected, 'Rejected by')).toBe('*Rejected by*\n`&lt;!channel&gt;`');
    expect(detailSection(rejected, 'Reason')).toBe('*Reason*\n`not now &lt;@U0VICTIM&gt;`');
  });

  it('an invalid name, a refused click and OVH’s words are worded from data, the user’s part verbatim', () => {
    const invalid = auditMessage(
      withDetail(
        { problem: { kind: 'invalid_name', name: '<!channel> *x*' } },
        { outcome: 'invalid', subject: '<!channel> *x*', taskId: null },
      ),
    );
    expect(allText(invalid)).not.toContain('<!channel>');
    expect(detailSection(invalid, 'Why')).toMatch(/^\*Why\*\n`&lt;!channel&gt; \*x\*` is not a valid snapshot name/);
    expect(allText(invalid)).toContain('*Snapshot*\n`&lt;!channel&gt; *x*`');

    const refused = auditMessage(
      withDetail(
        { approvalId: '7RLM5K', problem: { kind: 'refused', refusal: { kind: 'click', why: 'self_approval' } } },
        { action: 'approval.decide', subject: '7RLM5K', outcome: 'refused', taskId: null },
      ),
    );
    expect(texts(refused.blocks)[0]?.text).toContain('*Refused click*');
    expect(detailSection(refused, 'Why')).toBe('*Why*\nYou cannot approve your own request: a second person has to.');
    expect(allText(refused)).not.toContain('Approval request'); // the subject already is the request

    const failed = auditMessage(withDetail({ ovh: 'Error 500 <!here> `boom`' }, { outcome: 'failed' }));
    expect(detailSection(failed, 'OVH said')).toBe('*OVH said*\n`Error 500 &lt;!here&gt; ˋboomˋ`');
  });

  it('a failed task, a reconciled change and a quick partition are worded from data; OVH’s words verbatim', () => {
    const failed = auditMessage(
      withDetail(
        { task: { outcome: 'failed', status: 'customerError', details: 'Quota <!here> `exceeded`' } },
        { outcome: 'failed' },
      ),
    );
    expect(detailSection(failed, 'Why')).toBe(
      "*Why*\nOVH's task ended in `customerError`: `Quota &lt;!here&gt; ˋexceededˋ`.",
    );

    /** The "Reconciliation" section of a record with this settlement. */
    const reconciled = (settlement: Settlement, outcome: AuditRecord['outcome']) =>
      detailSection(auditMessage(withDetail({ settlement }, { outcome, taskId: null })), 'Reconciliation');
    const notApplied: Settlement = {
      kind: 'shown_not_made',
      lost: { kind: 'http', httpStatus: 503 },
      action: 'snapshot.create',
      subject: 'before-upgrade',
    };
    expect(reconciled(notApplied, 'not_applied')).toBe(
      '*Reconciliation*\nOVH answered HTTP 503; OVH shows it was not done (there is no snapshot `before-upgrade`, and no OVH task was started for it).',
    );
    const found: Settlement = {
      kind: 'task_found',
      lost: { kind: 'network', ovhMessage: 'ECONNRESET <!channel>' },
      taskId: 4242,
    };
    expect(reconciled(found, 'succeeded')).toBe(
      '*Reconciliation*\nThe connection to OVH broke (`ECONNRESET &lt;!channel&gt;`); the bot found OVH task `4242` for it and followed it.',
    );
    const unknown: Settlement = {
      kind: 'cannot_ask',
      lost: { kind: 'timeout' },
      problem: {
        kind: 'ovh',
        failure: 'unavailable',
        step: 'list snapshots',
        target: TARGET,
        name: undefined,
        httpStatus: 503,
        ovhMessage: undefined,
      },
      tries: 12,
      gaveUp: true,
    };
    expect(reconciled(unknown, 'unknown')).toBe(
      '*Reconciliation*\nOVH did not answer in time, and OVH cannot be asked now (HTTP 503 while trying to list the snapshots of `zpool-123456/backups`); gave up asking after 12 tries: check the partition on OVH.',
    );
    // An older version's note on a reconciled change: its own words, shown literally.
    const legacy = auditMessage(
      record({ outcome: 'not_applied', detail: '{"note":"OVH shows it was not done <@U0X>"}' }),
    );
    expect(detailSection(legacy, 'Reconciliation')).toBe('*Reconciliation*\n`OVH shows it was not done &lt;@U0X&gt;`');

    // A quick run refused on a partition the user may see: the refusal names the partition, not the typed target.
    const quick = auditMessage(
      withDetail(
        {
          problem: {
            kind: 'refused',
            refusal: { ...VIEWER_QUICK_REFUSAL, target: { service: 'zpool-1', partition: 'db' } },
          },
        },
        { action: 'snapshot.quick', subject: 'inc-1', outcome: 'denied', target: { service: 'zpool-1' }, taskId: null },
      ),
    );
    expect(detailSection(quick, 'Why')).toBe(
      '*Why*\nYou need *operator* on `zpool-1/db` (you have *viewer* via a direct grant).',
    );
  });

  it('still goes out when a stored problem is of a kind (or shape) this version does not know', () => {
    const future = auditMessage(
      record({ outcome: 'failed', detail: '{"problem":{"kind":"quantum_flux","x":"<!channel>"}}' }),
    );
    expect(detailSection(future, 'Why')).toBe(
      '*Why*\n(not readable by this version) `{"kind":"quantum_flux","x":"&lt;!channel&gt;"}`',
    );
    const malformed = auditMessage(
      record({ outcome: 'noop', detail: '{"problem":{"kind":"frequency_not_enabled","type":7}}' }),
    );
    expect(detailSection(malformed, 'Why')).toContain('(not readable by this version)');
    const settlement = auditMessage(
      record({ outcome: 'unknown', detail: '{"settlement":{"kind":"quantum_flux"},"task":{"outcome":"exploded"}}' }),
    );
    expect(detailSection(settlement, 'Reconciliation')).toBe(
      '*Reconciliation*\n(not readable by this version) `{"kind":"quantum_flux"}`',
    );
    expect(detailSection(settlement, 'Why')).toBe('*Why*\n(not readable by this version) `{"outcome":"exploded"}`');
    // A known settlement with a part this version does not know: shown as data, never with a clause left out.
    const lost = auditMessage(
      record({ outcome: 'unknown', detail: '{"settlement":{"kind":"checking","lost":{"kind":"carrier_pigeon"}}}' }),
    );
    expect(detailSection(lost, 'Reconciliation')).toBe(
      '*Reconciliation*\n(not readable by this version) `{"kind":"checking","lost":{"kind":"carrier_pigeon"}}`',
    );
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
    expect(message.blocks).toHaveLength(3);
  });

  it('does not let untrusted ids or names inject markup', () => {
    const message = auditMessage(
      record({
        actorUserId: '<!channel>',
        channelId: 'not a channel',
        subject: 'a`b<!here>',
        target: { service: '<@U0VICTIM>' },
      }),
    );
    const text = allText(message);
    expect(liveTokens(text).filter((t) => !t.startsWith('<!date^'))).toEqual([]);
    expect(text).toContain('`&lt;!channel&gt;`');
    expect(text).toContain('`aˋb&lt;!here&gt;`');
    expect(text).toContain('`&lt;@U0VICTIM&gt;`');
  });

  it('stays within Slack limits with huge inputs, cutting with an ellipsis and closing code spans', () => {
    const huge = (unit: string) => unit.repeat(50_000);
    const message = auditMessage(
      withDetail(
        {
          reason: huge('&*'),
          ovh: huge('é<🙂> '),
          text: huge('détail & <b> 🙂 '),
          decidedBy: Array(500).fill('U0APPROVER'),
        },
        {
          actorUserId: huge('U'),
          channelId: huge('C'),
          target: { service: huge('s'), partition: huge('p') },
          subject: huge('<&>'),
          outcome: 'failed',
        },
      ),
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
    expectBalancedSpans(message);
    expect(all.filter((t) => t.text.endsWith('…')).length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(message).length).toBeLessThan(50_000);
  });

  it('lists at most 10 partitions per state in a quick run, counting the rest', () => {
    const many = Array.from({ length: 500 }, (_, i) => `zpool-${i}/data/inc-9-data-20261128T0930`);
    // Stored as is (the trail bounds what it stores; the message must bound whatever it reads back).
    const quick = { label: 'inc-9', expiration: null, taken: many, failed: many, full: many, denied: many, pending: 3 };
    const message = auditMessage(
      record({ action: 'snapshot.quick', subject: 'inc-9', outcome: 'partial', detail: JSON.stringify({ quick }) }),
    );
    const partitions = detailSection(message, 'Partitions') ?? '';
    expect(partitions).toContain('Taken (500): `zpool-0/data/inc-9-data-20261128T0930`');
    expect(partitions).toContain('`zpool-9/data/inc-9-data-20261128T0930` and 490 more');
    expect(partitions).not.toContain('zpool-10/');
    expect(partitions).toContain('Not finished yet: 3\nTaken (500)');
    expect(partitions).toContain('Not allowed (500)');
    expect(partitions.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expectBalancedSpans(message);
  });

  it('cut never splits an entity, a token, a surrogate pair or a code span', () => {
    expect(cut('short', 10)).toBe('short');
    expect(cut('abcdef&amp;', 9)).toBe('abcdef…');
    expect(cut('ab <@U123456> cd', 8)).toBe('ab …');
    expect(cut('ab🙂cd', 4)).toBe('ab…');
    expect(cut('x'.repeat(20), 10)).toHaveLength(10);
    expect(cut('Reason: `*bold* and more words`', 20)).toBe('Reason: `*bold* an`…');
    expect(cut('Reason: `  spaced`', 12)).toBe('Reason: …');
    expect(cut('a `b` c `d &amp; e`', 14)).toBe('a `b` c `d`…');
  });

  it('property: whatever people typed, the only live tokens are built from the record’s own IDs', () => {
    const detail = fc.record(
      {
        reason: hostileString(200),
        decidedBy: fc.array(fc.oneof(fc.constantFrom('U0APPROVER', 'W0SECOND1'), hostileString(20)), { maxLength: 3 }),
        problem: fc.oneof(
          hostileString(60).map((name) => ({ kind: 'invalid_name' as const, name })),
          hostileString(60).map((name) => ({
            kind: 'snapshot_missing' as const,
            target: TARGET,
            name,
            suggestions: [name],
          })),
          hostileString(60).map((spec) => ({ kind: 'quick_target_unknown' as const, spec, suggestions: [] })),
          hostileString(60).map((text) => ({
            kind: 'invalid_expiration' as const,
            text,
            why: 'syntax' as const,
            maxDays: 3650,
          })),
        ),
        ovh: hostileString(100),
        task: fc.record({
          outcome: fc.constantFrom('failed' as const, 'timeout' as const, 'lost' as const),
          status: hostileString(20),
          details: hostileString(100),
        }),
        settlement: fc.oneof(
          hostileString(60).map((subject) => ({
            kind: 'shown_made' as const,
            lost: { kind: 'network' as const, ovhMessage: subject },
            action: 'snapshot.delete' as const,
            subject,
          })),
          hostileString(60).map((ovhMessage) => ({
            kind: 'cannot_ask' as const,
            lost: { kind: 'timeout' as const },
            problem: {
              kind: 'ovh' as const,
              failure: 'refused' as const,
              step: 'read task' as const,
              target: TARGET,
              name: undefined,
              httpStatus: 403,
              ovhMessage,
            },
            tries: 1,
            gaveUp: false,
          })),
        ),
        text: hostileString(100),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        detail,
        hostileString(60),
        hostileString(60),
        fc.constantFrom(...AUDIT_OUTCOMES),
        (d, subject, service, outcome) => {
          const rec = withDetail(d, { subject: subject === '' ? null : subject, target: { service }, outcome });
          const message = auditMessage(rec);
          // The actor, the channel, and the deciders (IDs the bot stored, whatever they are).
          const allowed = new Set(['<@U0ALICE01>', '<#C0OPS0001>', ...(d.decidedBy ?? []).map((id) => `<@${id}>`)]);
          for (const token of liveTokens(allText(message))) {
            if (!token.startsWith('<!date^')) expect(allowed, token).toContain(token);
            else expect(token).toMatch(/^<!date\^\d+\^\{date_short_pretty\} \{time\}\|[\dT:Z-]+>$/);
          }
          expectBalancedSpans(message);
          if (d.reason !== undefined) {
            // The reason is one code span: nothing of it outside.
            expect(detailSection(message, 'Reason')).toMatch(/^\*Reason\*\n`[^`<>]*`$/);
          }
        },
      ),
      fuzzParams(300),
    );
  });
});
