import { afterEach, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL,
  type BotHarness,
  startBotHarness,
  TEST_CONFIG,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

/** Runs a command and returns the id of the approval request it filed. */
async function requestChange(text: string): Promise<string> {
  const { id } = await h.command(text, { user: USERS.operator });
  const texts = await h.replies(id, (t) =>
    t.some((x) => x.startsWith('Pending approval #') || /^(You|There|`)/.test(x)),
  );
  const pending = texts.find((x) => x.startsWith('Pending approval #'));
  if (pending === undefined) throw new Error(`no approval request: ${JSON.stringify(texts)}`);
  return pending.slice('Pending approval #'.length, 'Pending approval #'.length + 6);
}

const cardPosts = () => h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === APPROVALS_CHANNEL);

describe('wake-ups are never lost', () => {
  it('a request filed while the approvals sweeper is busy gets its card at once, not at the next sweep', async () => {
    // No timed sweeps at all (the harness's default): only a wake-up can post a card, so a lost one shows.
    h = await startBotHarness({ config: TEST_CONFIG });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const post = h.slack.handlerOf('chat.postMessage');
    let cards = 0;
    h.slack.on('chat.postMessage', (args) => {
      const answer = post(args);
      if (args['channel'] !== APPROVALS_CHANNEL) return answer;
      // The first card's post is held: the sweeper that posts it is still busy when the second request comes.
      return ++cards === 1 ? { ...answer, delay: held } : answer;
    });
    const first = await requestChange('snapshot delete zpool-204117/db/snap-db-keep --reason first of two');
    await h.slack.waitFor(() => cardPosts().length === 1, 'the first card being posted');
    const second = await requestChange('snapshot delete zpool-204117/db/snap-db-month-end --reason second of two');
    release();
    await h.slack.waitFor(() => cardPosts().length === 2, 'the second card');
    expect(cardPosts().map((c) => String(c.args['text']).slice(0, 'Approval #XXXXXX'.length))).toEqual([
      `Approval #${first}`,
      `Approval #${second}`,
    ]);
  });

  it('three /readyz probes at once cost one OVH request', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    const checks = () => h.sim.requests.filter((r) => r.path === '/1.0/dedicated/nasha').length;
    const before = checks();
    const url = `http://127.0.0.1:${h.bot.port}/readyz`;
    const answers = await Promise.all([fetch(url), fetch(url), fetch(url)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(checks() - before).toBe(1);
  });
});
