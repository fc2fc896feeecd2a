import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { SlackArrivals } from '../../src/slack/arrivals.js';

/** Arrivals whose event-loop turns are taken by hand. */
function arrivals(maxHoldMs = 100) {
  const clock = new ManualClock();
  const checks: (() => void)[] = [];
  const tracker = new SlackArrivals({ clock, maxHoldMs, nextTurn: (check) => checks.push(check) });
  /** Runs the check scheduled for the next turn (if any), then lets resolved promises settle. */
  const turn = async () => {
    checks.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  const released: string[] = [];
  const wait = (name: string) => void tracker.settled().then(() => released.push(name));
  return { clock, tracker, turn, released, wait, checks };
}

describe('SlackArrivals', () => {
  it('is quiet when no request is unanswered and none arrived for the time asked', () => {
    const { clock, tracker } = arrivals();
    expect(tracker.quietFor(500)).toBe(true);
    const answer = tracker.requestReceived();
    clock.advance(1_000);
    expect(tracker.quietFor(500)).toBe(false);
    answer();
    expect(tracker.quietFor(500)).toBe(true);
    tracker.requestReceived()();
    clock.advance(499);
    expect(tracker.quietFor(500)).toBe(false);
    clock.advance(1);
    expect(tracker.quietFor(500)).toBe(true);
  });

  it('releases work at the next turn when nothing is arriving', async () => {
    const { turn, released, wait } = arrivals();
    wait('a');
    wait('b');
    expect(released).toEqual([]);
    await turn();
    expect(released).toEqual(['a', 'b']);
  });

  it('holds work while requests received are unanswered', async () => {
    const { tracker, turn, released, wait } = arrivals();
    const answerFirst = tracker.requestReceived();
    const answerSecond = tracker.requestReceived();
    wait('work');
    await turn();
    answerFirst();
    await turn();
    expect(released).toEqual([]);
    answerSecond();
    answerSecond(); // a second call (finish, then close) counts once
    await turn();
    expect(released).toEqual(['work']);
  });

  it('waits only for the requests that had arrived when it asked: under a steady stream, not for those after it', async () => {
    const { tracker, turn, released, wait } = arrivals();
    const answerEarlier = tracker.requestReceived();
    wait('work');
    const answerLater = tracker.requestReceived();
    await turn();
    expect(released).toEqual([]);
    answerEarlier();
    await turn();
    expect(released).toEqual(['work']);
    answerLater();
  });

  it('holds work for each turn in which a connection was accepted: one accept per turn, more may be queued', async () => {
    const { tracker, turn, released, wait } = arrivals();
    wait('work');
    for (let i = 0; i < 5; i++) {
      tracker.connectionAccepted();
      const answer = tracker.requestReceived();
      answer();
      await turn();
      expect(released).toEqual([]);
    }
    await turn();
    expect(released).toEqual(['work']);
  });

  it('never holds work longer than maxHoldMs, and releases only the work that waited that long', async () => {
    const { clock, tracker, turn, released, wait } = arrivals(100);
    wait('early');
    for (let i = 0; i < 3; i++) {
      tracker.connectionAccepted();
      clock.advance(40);
      if (i === 1) wait('late');
      await turn();
    }
    // 120 ms after 'early' asked, 40 after 'late' did; connections are still coming.
    expect(released).toEqual(['early']);
    await turn();
    expect(released).toEqual(['early', 'late']);
  });

  it('stops counting a request that stays unanswered longer than maxHoldMs (a slow or stuck sender)', async () => {
    const { clock, tracker, turn, released, wait } = arrivals(100);
    tracker.requestReceived(); // never answered
    clock.advance(100);
    wait('work');
    await turn();
    expect(released).toEqual(['work']);
  });

  it('schedules one check per turn however many wait, and none once nobody waits', async () => {
    const { turn, checks, wait, released } = arrivals();
    wait('a');
    wait('b');
    wait('c');
    expect(checks).toHaveLength(1);
    await turn();
    expect(released).toEqual(['a', 'b', 'c']);
    expect(checks).toHaveLength(0);
  });
});
