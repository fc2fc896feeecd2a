import type { types } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditRefusal } from '../../../src/core/audit-detail.js';
import type { QuickItem, QuickItemState, QuickRun } from '../../../src/core/quick-snapshots.js';
import { LIMITS, type SlackMessage } from '../../../src/slack/blocks/limits.js';
import { quickSummary } from '../../../src/slack/blocks/quick-summary.js';
import { fuzzParams, hostileString } from '../../fuzz/hostile.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const SERVICE = 'zpool-204117';

function item(partition: string, state: QuickItemState): QuickItem {
  return { target: { service: SERVICE, partition }, name: `inc-${partition}-20261128T0900`, state };
}

function run(items: QuickItem[], overrides: Partial<QuickRun> = {}): QuickRun {
  return {
    id: 'run-1',
    spec: SERVICE,
    label: 'inc-1',
    requester: 'U0RESP',
    reason: null,
    expiration: '2026-12-05T09:00:00.000Z',
    items,
    startedAt: T0,
    finishedAt: T0 + 60_000,
    ...overrides,
  };
}

function mrkdwnTexts(message: SlackMessage): string[] {
  const out = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'section' && block.text) out.push(block.text.text);
    if (block.type === 'context') for (const e of block.elements) if ('text' in e) out.push(e.text);
  }
  return out;
}
const all = (message: SlackMessage) => mrkdwnTexts(message).join('\n');
const liveTokens = (text: string) =>
  [...text.matchAll(/<[^>]*>/g)].map((m) => m[0]).filter((t) => !t.startsWith('<!date^'));

const CHANNEL_CAP: AuditRefusal = {
  kind: 'policy',
  action: 'snapshot.quick',
  via: 'run',
  required: 'operator',
  has: 'operator',
  denial: { kind: 'channel_cap', channelId: 'C0CHAT', limit: 'viewer', elsewhere: ['C0INCIDENT'] },
};

describe('quick snapshot summary', () => {
  it('words each partition’s state from data: taken, failed (task, problem, restart), full, not allowed', () => {
    const summary = quickSummary(
      run([
        item('db', { status: 'done', taskId: 1, existed: false }),
        item('logs', {
          status: 'failed',
          taskId: 2,
          failure: { kind: 'task', outcome: 'failed', status: 'error', details: 'quota <!channel>' },
        }),
        item('media', { status: 'failed', taskId: null, failure: { kind: 'restart', when: 'not_started' } }),
        item('cache', {
          status: 'failed',
          taskId: null,
          failure: {
            kind: 'problem',
            problem: {
              kind: 'ovh',
              failure: 'refused',
              step: 'create snapshot',
              target: { service: SERVICE, partition: 'cache' },
              name: 'inc-cache-20261128T0900',
              httpStatus: 403,
              ovhMessage: 'This <@U0VICTIM> is *forbidden*',
            },
          },
        }),
        item('tmp', { status: 'denied', refusal: CHANNEL_CAP }),
        item('old', { status: 'failed', taskId: null, failure: { kind: 'text', text: 'written by v1 <@U0VICTIM>' } }),
      ]),
    );
    const text = all(summary);
    expect(text).toContain(':white_check_mark: `zpool-204117/db` — `inc-db-20261128T0900`');
    expect(text).toContain(":x: `zpool-204117/logs` — failed: OVH's task ended in `error`: `quota &lt;!channel&gt;`.");
    expect(text).toContain(
      ':x: `zpool-204117/media` — failed: Not started: the bot restarted first, nothing was sent to OVH; run it again.',
    );
    expect(text).toContain(
      ':x: `zpool-204117/cache` — failed: OVH refused to create snapshot `inc-cache-20261128T0900` on `zpool-204117/cache`: `This &lt;@U0VICTIM&gt; is *forbidden*`.',
    );
    expect(text).toContain(
      ':no_entry: `zpool-204117/tmp` — not allowed: you need *operator* on `zpool-204117/tmp`: this channel allows at most *viewer* (channel cap); try <#C0INCIDENT>',
    );
    expect(text).toContain(':x: `zpool-204117/old` — failed: `written by v1 &lt;@U0VICTIM&gt;`');
    expect(text).toContain('*1/6 done · 4 failed · 1 not allowed*');
    expect(liveTokens(text)).toEqual(['<@U0RESP>', '<#C0INCIDENT>']);
  });

  it('the run’s reason, label and target as typed are shown literally', () => {
    const summary = quickSummary(
      run([item('db', { status: 'queued' })], {
        reason: '<!channel> *URGENT* `now`',
        label: '<@U0VICTIM>',
        spec: '<!here>',
        finishedAt: null,
      }),
    );
    const context = mrkdwnTexts(summary).find((t) => t.startsWith('Asked by'));
    expect(context).toBe(
      `Asked by <@U0RESP> for \`&lt;!here&gt;\` · expire <!date^${Date.UTC(2026, 11, 5, 9) / 1000}^{date_short_pretty} {time}|2026-12-05T09:00Z> · Reason: \`&lt;!channel&gt; *URGENT* ˋnowˋ\``,
    );
    expect(summary.text).toBe('Quick snapshots `&lt;@U0VICTIM&gt;`: 0/1 done · 1 in progress');
    // plain_text: shown as typed, never parsed.
    expect(summary.blocks[0]).toMatchObject({
      type: 'header',
      text: { type: 'plain_text', text: 'Taking quick snapshots — <@U0VICTIM>' },
    });
    expect(liveTokens(all(summary))).toEqual(['<@U0RESP>']);
  });

  it('a full partition lists its snapshots, names verbatim, with a delete-oldest button', () => {
    const summary = quickSummary(
      run([
        item('db', {
          status: 'full',
          snapshots: [
            { name: 'made-by-hand <!channel>', expiration: null, createdAt: null },
            { name: 'inc-0', expiration: 'not a date <@U1>', createdAt: T0 - 86_400_000 },
          ],
        }),
      ]),
    );
    const text = all(summary);
    expect(text).toContain(
      '*`zpool-204117/db` is full (10/10), oldest first:*\n1. `made-by-hand &lt;!channel&gt;` — made outside the bot, kept until deleted\n2. `inc-0` — made <!date^',
    );
    expect(text).toContain(', expires `not a date &lt;@U1&gt;`');
    const button = summary.blocks.find((b): b is types.ActionsBlock => b.type === 'actions')
      ?.elements[0] as types.Button;
    expect(JSON.parse(button.value ?? '')).toEqual({ s: SERVICE, p: 'db', n: 'made-by-hand <!channel>', l: 'inc-1' });
    expect(liveTokens(text)).toEqual(['<@U0RESP>']);
  });

  it('a refusal or failure stored by another version still renders', () => {
    const summary = quickSummary(
      run([
        item('db', { status: 'denied', refusal: { kind: 'from_the_future' } as unknown as AuditRefusal }),
        item('logs', {
          status: 'failed',
          taskId: null,
          failure: { kind: 'problem', problem: { kind: 'partition_full' } } as never,
        }),
      ]),
    );
    expect(all(summary)).toContain('not allowed: (not readable by this version) `{"kind":"from_the_future"}`');
    expect(all(summary)).toContain('failed: (not readable by this version)');
  });

  it('stays within Block Kit limits with 500 partitions, many full, and a very long reason', () => {
    const items = Array.from({ length: 500 }, (_, i) =>
      item(
        `p${i}`,
        i % 3 === 0
          ? {
              status: 'full',
              snapshots: Array.from({ length: 10 }, (_, j) => ({
                name: `s${j}-${'x'.repeat(90)}`,
                expiration: null,
                createdAt: T0,
              })),
            }
          : i % 3 === 1
            ? { status: 'denied', refusal: CHANNEL_CAP }
            : {
                status: 'failed',
                taskId: i,
                failure: { kind: 'task', outcome: 'failed', status: 'error', details: '&<>'.repeat(300) },
              },
      ),
    );
    const summary = quickSummary(run(items, { reason: '&*<'.repeat(2_000), label: 'l'.repeat(200) }));
    expect(summary.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    expect(summary.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    for (const text of mrkdwnTexts(summary)) {
      expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect((text.match(/`/g) ?? []).length % 2, text.slice(0, 200)).toBe(0);
    }
  });

  it('property: whatever was typed, only the requester and the channels the bot names are live', () => {
    fc.assert(
      fc.property(
        hostileString(100),
        hostileString(40),
        hostileString(60),
        hostileString(60),
        (reason, label, spec, details) => {
          const summary = quickSummary(
            run(
              [
                item('db', {
                  status: 'failed',
                  taskId: 1,
                  failure: { kind: 'task', outcome: 'timeout', status: details, details },
                }),
                item('logs', { status: 'failed', taskId: null, failure: { kind: 'text', text: details } }),
                item('tmp', { status: 'denied', refusal: CHANNEL_CAP }),
                item('old', { status: 'full', snapshots: [{ name: details, expiration: details, createdAt: null }] }),
              ],
              { reason, label, spec },
            ),
          );
          for (const token of liveTokens(all(summary))) expect(['<@U0RESP>', '<#C0INCIDENT>'], token).toContain(token);
        },
      ),
      fuzzParams(200),
    );
  });
});
