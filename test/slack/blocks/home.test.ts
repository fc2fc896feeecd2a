import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/core/actions.js';
import type { ApprovalRequest } from '../../../src/core/approvals.js';
import type { ApprovalsOverview, HomeData } from '../../../src/core/dashboard.js';
import type { StatusLine } from '../../../src/core/protection/queries.js';
import { APPROVAL_ACTION } from '../../../src/slack/blocks/approval-card.js';
import { approvalsMessage, HOME_ACTION, HOME_ITEMS_PER_PAGE, homeView } from '../../../src/slack/blocks/home.js';
import { translator } from '../../../src/slack/i18n/translate.js';
import { expectBlocksWithinLimits, expectMessageWithinLimits } from '../../support/block-limits.js';
import { approvalRequest, breakGlassReview } from '../../support/records.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const LANGS = ['en', 'fr'] as const;
const HOSTILE = '<@U0VICTIM> <!channel> *bold* `x` '.repeat(60);

function requests(count: number, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest[] {
  return Array.from({ length: count }, (_v, i) =>
    approvalRequest({ id: `R${String(i).padStart(5, '0')}`, reason: HOSTILE, createdAt: T0 + i, ...overrides }),
  );
}

function overview(decidable: number, own: number, recent = 0): ApprovalsOverview {
  return {
    decidable: requests(decidable),
    own: requests(own, { requester: { userId: 'U0ME', channelId: null } }),
    recent: requests(recent, { state: 'rejected', decidedBy: 'U0APPROVER', decisionReason: HOSTILE }),
    now: T0,
  };
}

function line(i: number, problems: StatusLine['problems']): StatusLine {
  return {
    service: `zpool-${i}`,
    partition: 'data',
    policy: 'gold',
    scannedAt: T0,
    problems,
    newestAt: T0,
    customCount: 3,
    frequencies: ['day-1'],
  };
}

const STALE = { kind: 'stale', level: 'critical', newestAt: null, warnMs: 1, criticalMs: 2 } as const;

function data(approvals: ApprovalsOverview, problems = 0): HomeData {
  return {
    approvals,
    protection: {
      problems: Array.from({ length: problems }, (_v, i) => line(i, [STALE])),
      total: problems + 4,
      healthy: 3,
      unscanned: 1,
    },
    expiring: Array.from({ length: problems > 100 ? 20 : 1 }, (_v, i) => ({
      service: 'zpool-1',
      partition: 'db',
      name: `snap-${i}`,
      at: T0 + 3_600_000,
    })),
    offers: [{ action: ACTIONS['snapshot.quick'], mode: 'run' }],
    reviews: Array.from({ length: problems > 100 ? 30 : 1 }, (_v, i) => breakGlassReview(i, T0)),
  };
}

const actionIds = (blocks: readonly unknown[]) =>
  (blocks as types.KnownBlock[]).flatMap((b) =>
    b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : '')) : [],
  );

describe('Home tab builders', () => {
  it.each(LANGS)('stays within a view’s limits in %s, at any size, paginating the requests', (lang) => {
    const tr = translator({ lang });
    for (const [decidable, own, recent, problems] of [
      [0, 0, 0, 0],
      [3, 2, 5, 2],
      [60, 60, 5, 400],
    ] as const) {
      const view = homeView(data(overview(decidable, own, recent), problems), tr, { page: 1 });
      expect(view.type).toBe('home');
      expectBlocksWithinLimits(view.blocks, 100);
      const shown = actionIds(view.blocks).filter((id) => id === APPROVAL_ACTION.approve).length;
      expect(shown).toBe(Math.min(decidable, HOME_ITEMS_PER_PAGE));
      expect(actionIds(view.blocks).includes(HOME_ACTION.page)).toBe(decidable + own > HOME_ITEMS_PER_PAGE);
    }
  });

  it('shows the last page and then offers the first one again', () => {
    const tr = translator({ lang: 'en' });
    const view = homeView(data(overview(30, 15)), tr, { page: 99 });
    const page = (view.blocks as types.KnownBlock[]).flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(page.find((e) => 'action_id' in e && e.action_id === HOME_ACTION.page)).toMatchObject({ value: '1' });
    // Page 3 of 3 (clamped): the last 5 own requests, each with Cancel.
    expect(actionIds(view.blocks).filter((id) => id === APPROVAL_ACTION.cancel)).toHaveLength(5);
  });

  it('puts open protection problems first, then the one-line summary, in both languages', () => {
    const en = JSON.stringify(homeView(data(overview(0, 0), 2), translator({ lang: 'en' }), { page: 1 }));
    expect(en).toContain('`zpool-0/data`: restore points too old');
    expect(en).toContain('6 partitions covered by a policy: 3 fine, 2 with a problem, 1 not scanned yet.');
    const fr = JSON.stringify(homeView(data(overview(0, 0), 2), translator({ lang: 'fr' }), { page: 1 }));
    expect(fr).toContain('`zpool-0/data`\u00a0: points de restauration trop anciens');
    expect(fr).toContain('6 partitions couvertes par une politique');
  });

  it('lists snapshots known to expire within 24 h, in both languages', () => {
    const en = JSON.stringify(homeView(data(overview(0, 0)), translator({ lang: 'en' }), { page: 1 }));
    expect(en).toContain('Expiring within 24 h* (1)');
    expect(en).toContain('`zpool-1/db/snap-0` expires <!date^');
    const fr = JSON.stringify(homeView(data(overview(0, 0)), translator({ lang: 'fr' }), { page: 1 }));
    expect(fr).toContain('`zpool-1/db/snap-0` expire le <!date^');
  });

  it('lists break-glass changes awaiting review after the requests, in both languages', () => {
    const en = JSON.stringify(homeView(data(overview(1, 0)), translator({ lang: 'en' }), { page: 1 }));
    expect(en).toMatch(/#R00000[\s\S]*Break-glass changes awaiting review\* \(1\)/);
    expect(en).toContain('#G00000 · delete snapshot');
    expect(en).toContain('run by <@U0CAROL>');
    const fr = JSON.stringify(homeView(data(overview(0, 0)), translator({ lang: 'fr' }), { page: 1 }));
    expect(fr).toContain('Changements en bris de glace à revoir* (1)');
    expect(fr).toContain('motif\u00a0: `prod down');
  });

  it('shows what people typed literally (no mention, no formatting)', () => {
    const text = JSON.stringify(homeView(data(overview(1, 1, 1)), translator({ lang: 'en' }), { page: 1 }));
    expect(text).not.toContain('<@U0VICTIM>');
    expect(text).not.toContain('<!channel>');
  });

  it('offers the shortcuts the reader may use, and none to someone with no role', () => {
    const tr = translator({ lang: 'en' });
    const some = homeView(data(overview(0, 0)), tr, { page: 1 });
    expect(actionIds(some.blocks)).toEqual([HOME_ACTION.openForm, HOME_ACTION.quickSnapshot]);
    const none = homeView({ ...data(overview(0, 0)), offers: [], protection: undefined }, tr, { page: 1 });
    expect(actionIds(none.blocks)).toEqual([]);
  });

  it.each(LANGS)('/nasha approvals stays within a message’s limits in %s and says where the rest are', (lang) => {
    const tr = translator({ lang });
    const reply = approvalsMessage(overview(40, 40), tr);
    expectMessageWithinLimits(reply);
    expect(reply.blocks.length).toBeLessThanOrEqual(50);
    expect(actionIds(reply.blocks).filter((id) => id === APPROVAL_ACTION.approve)).toHaveLength(10);
    expect(JSON.stringify(reply)).toContain(lang === 'en' ? '60 more requests are' : '60 autres demandes');
  });
});
