import { describe, expect, it } from 'vitest';
import type { NotificationInput } from '../../src/core/notifications.js';
import type { QuickRun } from '../../src/core/quick-snapshots.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { quickSummaryKey, runQuickSnapshots } from '../../src/slack/quick-runner.js';

/** Lets pending promise chains run (no time passes on the manual clock). */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const textOf = (message: unknown): string => String((message as { text?: unknown }).text);

function newRun(clock: ManualClock): QuickRun {
  return {
    id: 'run-1',
    spec: 'zpool-204117',
    label: 'inc',
    requester: 'U1',
    reason: null,
    expiration: null,
    items: ['db', 'logs', 'media'].map((partition) => ({
      target: { service: 'zpool-204117', partition },
      name: `inc-${partition}-20261128T0900`,
      state: { status: 'queued' },
    })),
    startedAt: clock.now(),
    finishedAt: null,
  };
}

describe('runQuickSnapshots: the live summary', () => {
  it('rewrites progress at most once a second, batching changes, and sends the final result at once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0));
    const t0 = clock.now();
    const edits: Array<{ at: number; text: string }> = [];
    const sent: NotificationInput[] = [];
    // The summary goes to the notification outbox: each write is one version of one message.
    const notifications = {
      send: async (notice: NotificationInput) => {
        sent.push(notice);
        edits.push({ at: clock.now() - t0, text: `${sent.length === 1 ? 'post: ' : ''}${textOf(notice.message)}` });
      },
      posted: async () => ({ channel: 'C1', ts: '1700000000.000100' }),
    };
    const run = newRun(clock);
    let progress = () => {};
    let finish = () => {};
    const quick = {
      execute: (_actor: unknown, r: QuickRun, _scope: unknown, onProgress: (r: QuickRun) => void) => {
        progress = () => onProgress(r);
        return new Promise<QuickRun>((resolve) => {
          finish = () => resolve(r);
        });
      },
    };
    const done = (i: number) => {
      const item = run.items[i];
      if (item !== undefined) item.state = { status: 'done', taskId: 4_000_000 + i, existed: false };
      progress();
    };
    const running = runQuickSnapshots(
      { clock, logger: createLogger({ level: 'silent' }), quick, notifications },
      { userId: 'U1', channelId: 'C1' },
      run,
      undefined,
    );
    await turns();
    progress();
    progress();
    clock.advance(300);
    done(0);
    await turns();
    expect(edits.map((e) => e.at)).toEqual([0]); // only the post: changes wait for the 1 s pace
    clock.advance(700);
    await turns();
    expect(edits.at(-1)).toEqual({ at: 1_000, text: expect.stringMatching(/1\/3 done/) });
    clock.advance(200);
    done(1); // a change 200 ms after the last edit waits for the pace too
    await turns();
    expect(edits).toHaveLength(2);
    clock.advance(300);
    done(2);
    run.finishedAt = clock.now();
    finish();
    await running;
    // The final result did not wait for the pace (due at +2000).
    expect(edits.map((e) => e.at)).toEqual([0, 1_000, 1_500]);
    expect(edits.at(-1)?.text).toMatch(/3\/3 done/);
    // One key: the first write is version 1 (posted once, in the channel, the DM as fallback), the rest newer ones.
    expect(sent.map((n) => [n.key, n.version])).toEqual([
      [quickSummaryKey('run-1'), 1],
      [quickSummaryKey('run-1'), undefined],
      [quickSummaryKey('run-1'), undefined],
    ]);
    expect(sent[0]).toMatchObject({ channel: 'C1', fallbackChannel: 'U1' });
  });
});
