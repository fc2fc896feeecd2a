import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/ovh/budget.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { currentBudgetScope, type RequestClass, withRequestClass } from '../../src/shared/request-context.js';
import type { SlackMessage } from '../../src/slack/blocks/limits.js';
import { say } from '../../src/slack/text.js';
import { WAIT_NOTICE_AFTER_MS, withWaitNotice } from '../../src/slack/wait-notice.js';
import { settle, tick } from '../support/ticks.js';

const logger = createLogger({ level: 'silent' });

/** A budget of 1 token/s, emptied by alice, with 4 more of her requests (a list of a whole service) queued. */
async function busyBudget(clock: ManualClock): Promise<RequestBudget> {
  const budget = new RequestBudget({ requestsPerMinute: 60, burst: 1, clock, reserve: 0 });
  await budget.take({ requestClass: 'bulk', actor: 'UALICE' });
  for (let i = 0; i < 4; i++) void budget.take({ requestClass: 'bulk', actor: 'UALICE' });
  return budget;
}

/** Bob's command: `requests` OVH requests of `requestClass` made in its context, then its answer. */
function bobsCommand(clock: ManualClock, budget: RequestBudget, requestClass: RequestClass, requests: number) {
  const sent: string[] = [];
  const reply = { resumeToken: null, replace: async (m: SlackMessage) => void sent.push(m.text) };
  const done = withRequestClass(requestClass, 'UBOB', () =>
    withWaitNotice({ clock, logger }, say`the snapshots of bench-20`, reply, async (answer) => {
      await Promise.all(Array.from({ length: requests }, () => budget.take(currentBudgetScope())));
      await answer.replace({ text: 'the answer', blocks: [] });
    }),
  );
  return { sent, done };
}

describe('withWaitNotice', () => {
  it('says how many requests of others are ahead and about how long, once, then the answer', async () => {
    const clock = new ManualClock(0);
    const budget = await busyBudget(clock);
    const { sent, done } = bobsCommand(clock, budget, 'bulk', 3);
    await settle();
    await tick(clock, WAIT_NOTICE_AFTER_MS / 2, 1);
    expect(sent).toEqual([]);
    await tick(clock, WAIT_NOTICE_AFTER_MS / 2, 1);
    // At 2 s, round-robin: bob, alice, bob, alice, bob. Bob's last goes in 4 s, after 2 of alice's.
    expect(sent).toEqual([
      'Working on the snapshots of bench-20… waiting for the OVH request budget: 2 requests ahead, about 4 s.',
    ]);
    await tick(clock, 1_000, 8);
    await done;
    expect(sent).toEqual([sent[0], 'the answer']);
  });

  it('says nothing when the answer comes within the wait (a person’s request goes first)', async () => {
    const clock = new ManualClock(0);
    const budget = await busyBudget(clock);
    const { sent, done } = bobsCommand(clock, budget, 'interactive', 1);
    await tick(clock, 1_000, 3);
    await done;
    expect(sent).toEqual(['the answer']);
  });

  it('never shows the notice over the answer', async () => {
    const clock = new ManualClock(0);
    const budget = await busyBudget(clock);
    const { sent, done } = bobsCommand(clock, budget, 'bulk', 1);
    // Bob's one request goes at 2 s, exactly when the notice would: the answer wins.
    await tick(clock, 1_000, 6);
    await done;
    expect(sent.at(-1)).toBe('the answer');
    expect(sent.filter((t) => t === 'the answer')).toHaveLength(1);
  });
});
