import type { types } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APPROVAL_STATES } from '../../../src/core/approvals.js';
import { parseAuditDetail } from '../../../src/core/audit-detail.js';
import {
  APPROVAL_ACTION,
  approvalCard,
  approvalOutcomeMessage,
  approvalPendingMessage,
  previewText,
} from '../../../src/slack/blocks/approval-card.js';
import { LIMITS, type SlackMessage } from '../../../src/slack/blocks/limits.js';
import { mrkdwn } from '../../../src/slack/text.js';
import { fuzzParams, hostileString } from '../../fuzz/hostile.js';
import { approvalRequest } from '../../support/records.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const TARGET = { service: 'zpool-128310', partition: 'data' };
const HOSTILE =
  '<@U0VICTIM> <!channel> <!subteam^S0SRE> <#C0SECRET> <https://evil.example|click> *Approved → done* `x`';

const request = approvalRequest;

/** Every mrkdwn text in the message, and the fallback text. */
function mrkdwnTexts(message: SlackMessage): string[] {
  const out = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'section') {
      if (block.text) out.push(block.text.text);
      for (const field of block.fields ?? []) out.push(field.text);
    } else if (block.type === 'context') {
      for (const element of block.elements) if ('text' in element) out.push(element.text);
    }
  }
  return out;
}

const all = (message: SlackMessage) => mrkdwnTexts(message).join('\n');
const liveTokens = (text: string) =>
  [...text.matchAll(/<[^>]*>/g)].map((m) => m[0]).filter((t) => !t.startsWith('<!date^'));

function buttons(message: SlackMessage): types.Button[] {
  return message.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as types.Button[]) : []));
}

describe('approval card', () => {
  it('shows requester, change, target, reason, impact and state, with the three buttons while pending', () => {
    const card = approvalCard(request());
    const text = all(card);
    expect(text).toContain('*Requested by*\n<@U0OPER>');
    expect(text).toContain('*Change*\ndelete snapshot `snap-data-pre-upgrade` on `zpool-128310/data`');
    expect(text).toContain('*Target*\n`zpool-128310/data`');
    expect(text).toContain('*Reason*\n`free space before the upgrade`');
    expect(text).toContain(
      '*Impact*\nDeletes custom snapshot `snap-data-pre-upgrade` (kept until deleted). 1 custom snapshot(s) will remain; automatic: `day-1`.',
    );
    expect(text).toMatch(/:raising_hand: \*Waiting for approval\* — 0\/1; expires <!date\^\d+\^/);
    expect(buttons(card).map((b) => b.action_id)).toEqual([
      APPROVAL_ACTION.approve,
      APPROVAL_ACTION.reject,
      APPROVAL_ACTION.cancel,
    ]);
    expect(card.text).toBe(
      'Approval #7RLM5K: delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data` — pending',
    );
  });

  it('the approve confirmation is plain text within Slack’s 300 characters', () => {
    const card = approvalCard(
      request({ change: { action: 'snapshot.delete', target: TARGET, name: 'n'.repeat(400) } }),
    );
    const confirm = buttons(card)[0]?.confirm;
    expect(confirm?.text.type).toBe('plain_text');
    expect(confirm?.text.text.length).toBeLessThanOrEqual(300);
    expect(approvalCard(request()).blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []))[0]).toMatchObject({
      confirm: {
        text: {
          type: 'plain_text',
          text: 'Delete snapshot “snap-data-pre-upgrade” on “zpool-128310/data”. This runs on OVH at once and cannot be undone.',
        },
      },
    });
  });

  it('a reason cannot mention, ping, link or imitate the card’s own text', () => {
    const card = approvalCard(request({ reason: HOSTILE }));
    expect(all(card)).toContain(
      '*Reason*\n`&lt;@U0VICTIM&gt; &lt;!channel&gt; &lt;!subteam^S0SRE&gt; &lt;#C0SECRET&gt; &lt;https://evil.example|click&gt; *Approved → done* ˋxˋ`',
    );
    expect(liveTokens(all(card))).toEqual(['<@U0OPER>']);
  });

  it('mentions approvers, deciders, approver groups and the approvals channel from their IDs only', () => {
    const pending = approvalCard(
      request({
        quorum: 2,
        approvals: [{ userId: 'U0APPROVER', at: T0 }],
        approverGroups: ['S0SRE', '<!channel>'],
      }),
    );
    expect(all(pending)).toContain('— 1/2 (<@U0APPROVER>)');
    expect(all(pending)).toContain(
      'Needs 2 approver(s) other than the requester, from <!subteam^S0SRE> or `&lt;!channel&gt;`.',
    );
    const rejected = approvalCard(request({ state: 'rejected', decidedBy: 'U0APPROVER', decisionReason: HOSTILE }));
    const line = mrkdwnTexts(rejected).find((t) => t.startsWith(':no_entry_sign:'));
    expect(line).toBe(
      ':no_entry_sign: *Rejected* by <@U0APPROVER>: `&lt;@U0VICTIM&gt; &lt;!channel&gt; &lt;!subteam^S0SRE&gt; &lt;#C0SECRET&gt; &lt;https://evil.example|click&gt; *Approved → done* ˋxˋ`',
    );
    expect(liveTokens(all(rejected))).toEqual(['<@U0OPER>', '<@U0APPROVER>']);
    expect(buttons(rejected)).toEqual([]);
    const pendingReply = approvalPendingMessage(request());
    expect(all(pendingReply)).toContain('The approvers were asked in <#C0APPROVALS>;');
    expect(all(pendingReply)).toContain(
      ':raising_hand: Delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data` needs approval: *pending approval #7RLM5K*, expires <!date^',
    );
  });

  it('words a failure from its stored detail: OVH’s words verbatim, a problem in the bot’s words', () => {
    const task = approvalCard(
      request({
        state: 'failed',
        approvals: [{ userId: 'U0APPROVER', at: T0 }],
        taskId: 4242,
        outcomeDetail: { task: { outcome: 'failed', status: 'error', details: '<!channel> *disk*' } },
      }),
    );
    expect(all(task)).toContain(
      ":x: *Approved → failed* by <@U0APPROVER> · OVH task `4242`\nOVH's task ended in `error`: `&lt;!channel&gt; *disk*`.",
    );
    // An older version's row: OVH's words inside the bot's, shown literally.
    const ovh = approvalCard(
      request({
        state: 'failed',
        approvals: [{ userId: 'U0APPROVER', at: T0 }],
        taskId: 4242,
        outcomeDetail: parseAuditDetail('{"ovh":"OVH task ended in error: <!channel> *disk*"}') ?? null,
      }),
    );
    expect(all(ovh)).toContain(
      ':x: *Approved → failed* by <@U0APPROVER> · OVH task `4242`\nOVH said: `OVH task ended in error: &lt;!channel&gt; *disk*`',
    );
    const problem = approvalCard(
      request({
        state: 'failed',
        outcomeDetail: {
          problem: {
            kind: 'ovh',
            failure: 'unavailable',
            step: 'delete snapshot',
            target: TARGET,
            name: 'snap-data-pre-upgrade',
            httpStatus: 503,
            ovhMessage: undefined,
          },
        },
      }),
    );
    expect(all(problem)).toContain(
      ':x: *Approved → failed* by —\nOVH is not answering properly (HTTP 503) — could not delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data`. Try again in a minute.',
    );
    // Written by the recovery path as data; by older versions as text, shown verbatim.
    const stopped = approvalCard(request({ state: 'failed', outcomeDetail: { settlement: { kind: 'not_sent' } } }));
    expect(all(stopped)).toContain(
      ':x: *Approved → failed* by —\nThe bot stopped before sending it to OVH; nothing was changed.',
    );
    const legacy = approvalCard(
      request({ state: 'failed', outcomeDetail: parseAuditDetail('the bot stopped <@U0VICTIM>') ?? null }),
    );
    expect(all(legacy)).toContain('\n`the bot stopped &lt;@U0VICTIM&gt;`');
    expect(all(approvalCard(request({ state: 'failed' })))).toContain('\nunknown error');
  });

  it('an invalidated request says why and that nothing was sent to OVH', () => {
    const card = approvalCard(
      request({
        state: 'invalidated',
        outcomeDetail: {
          problem: { kind: 'snapshot_missing', target: TARGET, name: 'snap-data-pre-upgrade', suggestions: [] },
        },
      }),
    );
    expect(all(card)).toContain(
      ':warning: *Not executed* — the target changed: `zpool-128310/data` has no custom snapshot named `snap-data-pre-upgrade`. Nothing was sent to OVH.',
    );
    expect(all(approvalCard(request({ state: 'invalidated' })))).toContain(
      ':warning: *Not executed* — the target changed. Nothing was sent to OVH.',
    );
    const future = approvalCard(
      request({
        state: 'invalidated',
        outcomeDetail: parseAuditDetail('{"problem":{"kind":"from_the_future"}}') ?? null,
      }),
    );
    expect(all(future)).toContain('(not readable by this version) `{"kind":"from_the_future"}`');
  });

  it('renders every state, and the requester’s DM says how it ended', () => {
    for (const state of APPROVAL_STATES) {
      const card = approvalCard(request({ state, approvals: [{ userId: 'U0APPROVER', at: T0 }] }));
      expect(card.blocks.length).toBeGreaterThan(3);
      expect(card.text).toContain(`— ${state}`);
    }
    const dm = approvalOutcomeMessage(
      request({ state: 'succeeded', approvals: [{ userId: 'U0APPROVER', at: T0 }], taskId: 7 }),
    );
    expect(dm.text).toBe('Approval #7RLM5K: succeeded');
    expect(all(dm)).toContain(
      'Your request #7RLM5K (delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data`): :white_check_mark: *Approved → done* by <@U0APPROVER> · OVH task `7`',
    );
  });

  it('previews a frequency removal', () => {
    const text = mrkdwn(
      previewText({
        kind: 'frequency',
        type: 'hour-1',
        remaining: [],
        reachBeforeMs: 3_600_000,
        reachAfterMs: null,
        customCount: 2,
      }),
    );
    expect(text).toBe(
      'Stops `hour-1` snapshots. Frequencies left: _none_ :warning:. Automatic restore points will reach back *no automatic restore point* (now 1 hour); 2 custom snapshot(s) are not affected.',
    );
    const hostile = mrkdwn(
      previewText({ kind: 'snapshot', name: '<!here>', expiration: '<@U0VICTIM>', customLeft: 0, enabled: [] }),
    );
    expect(hostile).toBe(
      'Deletes custom snapshot `&lt;!here&gt;` (expires `&lt;@U0VICTIM&gt;`). 0 custom snapshot(s) will remain; automatic: _none_.',
    );
  });

  it('stays within Block Kit limits with a very long reason', () => {
    const card = approvalCard(
      request({ reason: '&<*'.repeat(10_000), decisionReason: '&'.repeat(5_000), state: 'rejected', decidedBy: 'U0A' }),
    );
    expect(card.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    expect(card.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    for (const text of mrkdwnTexts(card).slice(1)) {
      expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect((text.match(/`/g) ?? []).length % 2, text).toBe(0);
    }
  });

  it('property: whatever was typed, only the request’s own IDs become mentions', () => {
    fc.assert(
      fc.property(hostileString(200), hostileString(200), hostileString(60), (reason, decisionReason, name) => {
        const messages = [
          approvalCard(request({ reason, change: { action: 'snapshot.delete', target: TARGET, name } })),
          approvalCard(request({ state: 'rejected', decidedBy: 'U0APPROVER', decisionReason })),
          approvalCard(request({ state: 'failed', outcomeDetail: { ovh: decisionReason } })),
          approvalCard(
            request({
              state: 'failed',
              outcomeDetail: { task: { outcome: 'failed', status: name, details: decisionReason } },
            }),
          ),
          approvalPendingMessage(request({ reason })),
          approvalOutcomeMessage(request({ state: 'rejected', decidedBy: 'U0APPROVER', decisionReason })),
        ];
        for (const message of messages) {
          for (const token of liveTokens(all(message))) {
            expect(['<@U0OPER>', '<@U0APPROVER>', '<#C0APPROVALS>'], token).toContain(token);
          }
        }
      }),
      fuzzParams(200),
    );
  });
});
