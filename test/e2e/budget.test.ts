import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BotHarness, messageText, startBotHarness, USERS } from '../support/bot-harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

/** How many of the simulator's requests match. */
const seen = (harness: BotHarness, match: (path: string) => boolean) =>
  harness.sim.requests.filter((r) => match(r.path)).length;
const serviceReads = (path: string) => path.startsWith('/1.0/dedicated/nasha/zpool-128310/partition/');

/** Moves virtual time a second at a time, letting the bot work in between, until `done` (at most 60 s). */
async function advanceUntil(done: () => boolean): Promise<void> {
  for (let second = 0; second < 60 && !done(); second++) {
    h.clock.advance(1_000);
    await vi.waitFor(() => expect(done()).toBe(true), { timeout: 100 }).catch(() => undefined);
  }
  expect(done()).toBe(true);
}

describe('the OVH request budget, end to end (real bot, signed Slack payloads, simulator over HTTPS)', () => {
  it('a person’s show overtakes another person’s running `list <service>`, and the one who waits is told why', async () => {
    // OVH's default budget, in virtual time that moves only when the test says so.
    h = await startBotHarness({ autoAdvance: false, ovhTuning: { requestsPerMinute: 60, burst: 3 } });
    // Alice lists a whole service: 1 + 3 × 2 listings + 12 snapshot details, at one token a second.
    const alice = await h.command('snapshot list zpool-128310', { user: USERS.admin });
    expect(alice.ack.status).toBe(200);
    await vi.waitFor(() => expect(seen(h, (p) => p.endsWith('/zpool-128310/partition'))).toBe(1));
    await advanceUntil(() => seen(h, serviceReads) >= 3);
    const aliceSoFar = seen(h, serviceReads);
    expect(aliceSoFar).toBeLessThan(18);
    // Her requests have waited for the budget since the start: after 2 s her "working" line says why.
    const [notice] = await h.replies(alice.id, (texts) => texts.length > 0);
    expect(notice).toMatch(
      /^Working on the snapshots of `zpool-128310`… waiting for the OVH request budget: 0 requests ahead, about \d+ s\.$/,
    );

    // Bob's show goes out on a token kept in reserve for people: no refill, no clock moving.
    const bob = await h.command('snapshot show zpool-204117/db/snap-db-keep', { user: USERS.viewer });
    const [bobAnswer] = await h.replies(bob.id, (texts) => texts.length > 0);
    expect(bobAnswer).toMatch(/snap-db-keep/);
    expect(seen(h, (p) => p.endsWith('/customSnapshot/snap-db-keep'))).toBe(1);
    expect(seen(h, serviceReads)).toBe(aliceSoFar);
    expect(h.slack.replies(alice.id)).toHaveLength(1);

    await advanceUntil(() => h.slack.replies(alice.id).length >= 2);
    const replies = await h.replies(alice.id, (texts) => texts.length === 2);
    expect(replies[1]).toMatch(/Snapshots of zpool-128310/);
    expect(messageText(h.slack.replies(alice.id)[1] ?? {})).toContain('snap-backups-week-10');
    expect(seen(h, serviceReads)).toBe(18);
  });
});
