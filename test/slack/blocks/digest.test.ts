import { describe, expect, it } from 'vitest';
import type { DigestData } from '../../../src/core/digest.js';
import { DIGEST_LINES_PER_LIST, digestMessage } from '../../../src/slack/blocks/digest.js';
import { translator } from '../../../src/slack/i18n/translate.js';
import { expectMessageWithinLimits } from '../../support/block-limits.js';
import { approvalRequest, breakGlassReview as review } from '../../support/records.js';

const T0 = Date.UTC(2026, 10, 29, 8, 30);

function data(requests: number, problems: number, reviews = 0): DigestData {
  return {
    date: '2026-11-29',
    now: T0,
    approvals: Array.from({ length: requests }, (_v, i) => approvalRequest({ id: `D${String(i).padStart(5, '0')}` })),
    problems: Array.from({ length: problems }, (_v, i) => ({
      service: `zpool-${i}`,
      partition: 'data',
      kinds: ['stale', 'slots'] as const,
    })),
    expiring: [{ service: 'zpool-1', partition: 'db', name: 'before-upgrade', at: T0 + 3_600_000 }],
    changes: [
      { action: 'snapshot.create', count: 12 },
      { action: 'snapshot.delete', count: 2 },
    ],
    reviews: Array.from({ length: reviews }, (_v, i) => review(i)),
    auditChannel: 'C0AUDIT',
  };
}

describe('daily digest message', () => {
  it.each(['en', 'fr'] as const)('is one message within Block Kit limits in %s, however much there is', (lang) => {
    for (const [requests, problems] of [
      [1, 0],
      [0, 3],
      [200, 500],
    ] as const) {
      const message = digestMessage(data(requests, problems, requests), translator({ lang }));
      expectMessageWithinLimits(message);
      expect(message.blocks.length).toBeLessThanOrEqual(50);
    }
  });

  it('lists open requests oldest first, problems, yesterday’s changes by kind and the audit channel', () => {
    const text = JSON.stringify(digestMessage(data(2, 1), translator({ lang: 'en' })));
    expect(text).toContain('Daily digest — 2026-11-29');
    expect(text).toMatch(/#D00000.*#D00001/);
    expect(text).toContain('`zpool-0/data`: restore points too old, custom snapshot slots full');
    expect(text).toContain('snapshots taken: 12 · snapshots deleted: 2');
    expect(text).toContain('<#C0AUDIT>');
    expect(text).toContain('`zpool-1/db/before-upgrade` expires <!date^');
  });

  it('lists break-glass changes awaiting review, their reason shown literally', () => {
    const text = JSON.stringify(digestMessage(data(0, 0, 2), translator({ lang: 'en' })));
    expect(text).toContain('*Break-glass changes awaiting review* (2)');
    expect(text).toMatch(/#G00000.*run by <@U0CAROL>.*reason: `prod down, disk full &lt;!channel&gt; \*now\*`/);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('review card in <#C0APPROVALS>');
  });

  it('says how many more there are beyond a list’s lines, in French too', () => {
    const fr = JSON.stringify(digestMessage(data(DIGEST_LINES_PER_LIST + 4, 0), translator({ lang: 'fr' })));
    expect(fr).toContain('… et 4 de plus.');
    expect(fr).toContain('instantanés créés\u00a0: 12');
    expect(fr).toContain('Récapitulatif quotidien — 2026-11-29');
  });
});
