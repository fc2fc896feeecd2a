import { describe, expect, it } from 'vitest';
import { serializeAuditDetail } from '../../../src/core/audit-detail.js';
import type { BreakGlassReview } from '../../../src/core/break-glass.js';
import { auditMessage } from '../../../src/slack/blocks/audit-message.js';
import {
  acknowledgeResultMessage,
  breakGlassAckReply,
  breakGlassCard,
  breakGlassConfirmMessage,
  breakGlassDm,
} from '../../../src/slack/blocks/break-glass.js';
import { translator } from '../../../src/slack/i18n/translate.js';
import { expectMessageWithinLimits } from '../../support/block-limits.js';
import { auditRecord } from '../../support/records.js';

const EN = translator({ lang: 'en' });
const FR = translator({ lang: 'fr' });
/** A person's words that look like mrkdwn and a broadcast: shown literally, never live. */
const REASON = 'payments down <!channel> *now* — disk full';

const review = (overrides: Partial<BreakGlassReview> = {}): BreakGlassReview => ({
  id: 'K7Q2XM',
  status: 'pending',
  change: { action: 'snapshot.delete', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
  actor: { userId: 'U0ONCALL', channelId: 'C0OPS' },
  reason: REASON,
  group: 'S0ONCALL',
  approverGroups: [],
  auditId: 'a1',
  channel: 'C0APPROVALS',
  createdAt: Date.UTC(2026, 11, 2, 9),
  acknowledgedBy: null,
  acknowledgedAt: null,
  ...overrides,
});
const ACKED = review({
  status: 'acknowledged',
  acknowledgedBy: 'U0APPROVER',
  acknowledgedAt: Date.UTC(2026, 11, 2, 10),
});
const all = (message: { text: string; blocks: unknown[] }) => `${message.text}\n${JSON.stringify(message.blocks)}`;

describe('break-glass messages', () => {
  it('the review card: Acknowledge while pending, "Acknowledged by" after, in each language, within limits', () => {
    const pending = breakGlassCard(review(), EN);
    expectMessageWithinLimits(pending);
    expect(all(pending)).toContain('nasha_break_glass_ack');
    expect(all(pending)).toContain('<@U0ONCALL> ran delete snapshot');
    expect(all(pending)).not.toContain('<!channel>');
    const done = breakGlassCard(ACKED, FR);
    expectMessageWithinLimits(done);
    expect(all(done)).toContain('Pris en compte par <@U0APPROVER>');
    expect(all(done)).not.toContain('nasha_break_glass_ack');
    expect(all(breakGlassCard(review(), FR))).toContain('Bris de glace #K7Q2XM');
  });

  it('the confirm reply, the DM, the thread reply and the click answers, in French', () => {
    const draft = review().change;
    const confirm = breakGlassConfirmMessage(draft, REASON, 'S0ONCALL', '{}', FR);
    expectMessageWithinLimits(confirm);
    expect(all(confirm)).toContain('Lancer sans approbation\u202f?');
    expect(all(confirm)).toContain('sera revue ensuite par les approbateurs');
    const dm = breakGlassDm(review(), FR);
    expect(all(dm)).toMatch(/<@U0ONCALL> a lancé supprimer|<@U0ONCALL> a lancé/);
    expect(all(dm)).toContain('<#C0APPROVALS>');
    expect(all(dm)).not.toContain('<!channel>');
    expect(all(breakGlassAckReply(ACKED, FR))).toContain('Pris en compte par <@U0APPROVER>');
    expect(acknowledgeResultMessage({ ok: true, review: ACKED }, FR).text).toBe(
      'Vous avez pris en compte le bris de glace #K7Q2XM.',
    );
    expect(
      acknowledgeResultMessage({ ok: false, refusal: { kind: 'closed', id: 'K7Q2XM', by: 'U0APPROVER' } }, EN).text,
    ).toContain('already acknowledged by');
    expect(acknowledgeResultMessage({ ok: false, refusal: { kind: 'self_review', id: 'K7Q2XM' } }, FR).text).toMatch(
      /^Vous avez lancé cette modification vous-même/,
    );
  });

  it('the audit message of a break-glass change starts with its own line, then says who reviewed it', () => {
    const detail = (acknowledgedBy?: string) =>
      serializeAuditDetail({
        reason: REASON,
        breakGlass: { group: 'S0ONCALL', reviewId: 'K7Q2XM', ...(acknowledgedBy !== undefined && { acknowledgedBy }) },
      });
    const record = auditRecord({ action: 'snapshot.delete', outcome: 'succeeded', detail: detail() });
    const awaiting = auditMessage(record, EN);
    expect(JSON.stringify(awaiting.blocks[0])).toContain(
      ':rotating_light: *Break-glass*: run without approval by a member of <!subteam^S0ONCALL>; awaiting review',
    );
    expect(awaiting.text.startsWith(':rotating_light:')).toBe(true);
    const reviewed = auditMessage({ ...record, detail: detail('U0APPROVER') }, FR);
    expect(JSON.stringify(reviewed.blocks[0])).toContain('*Bris de glace*');
    expect(JSON.stringify(reviewed.blocks[0])).toContain('pris en compte par <@U0APPROVER>');
    // Without break-glass, nothing of it.
    expect(JSON.stringify(auditMessage(auditRecord(), EN).blocks)).not.toContain('rotating_light');
  });
});
