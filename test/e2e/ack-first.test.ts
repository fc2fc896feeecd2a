import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotHarness, SIGNING_SECRET, startBotHarness } from '../support/bot-harness.js';
import { FORM, newTriggerId, slackSignature, slashCommandBody } from '../support/slack-requests.js';

const SHOW = 'snapshot show zpool-128310/data/snap-data-pre-upgrade';
const DETAIL_PATH = '/1.0/dedicated/nasha/zpool-128310/partition/data/customSnapshot/snap-data-pre-upgrade';

/** POSTs a signed command on a connection of its own (as every request of a burst after a quiet period comes). */
function postOnNewConnection(url: string, body: string): Promise<{ status: number; receivedAt: number }> {
  const timestamp = Math.floor(Date.now() / 1000);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': FORM,
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, receivedAt: performance.now() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('acks first: a burst of commands on new connections', () => {
  let harness: BotHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('acknowledges every command of the burst before the work of any reaches OVH, then does all the work', async () => {
    const detailAnswers: number[] = [];
    harness = await startBotHarness({
      // Generous: the test is about the order, not about the bound (unit-tested in test/slack/arrivals.test.ts).
      overrides: { ackHoldMs: 30_000 },
      sim: {
        onRequest: (entry) => {
          if (entry.method === 'GET' && entry.path === DETAIL_PATH) detailAnswers.push(performance.now());
        },
      },
    });
    const h = harness;
    // Warm-up: the bot's clock sync with OVH and its first connections are not what is tested.
    const warm = await h.command(SHOW);
    await h.replies(warm.id, (texts) => texts.some((t) => t.includes('snap-data-pre-upgrade') && !t.includes('…')));
    detailAnswers.length = 0;

    const ids = Array.from({ length: 16 }, (_, i) => `burst-${i}`);
    const acks = await Promise.all(
      ids.map((id) =>
        postOnNewConnection(
          h.url,
          slashCommandBody({ text: SHOW, response_url: h.slack.responseUrl(id), trigger_id: newTriggerId() }),
        ),
      ),
    );
    expect(acks.map((a) => a.status)).toEqual(ids.map(() => 200));
    for (const id of ids) await h.replies(id, (texts) => texts.length >= 1);
    await h.slack.waitFor(() => detailAnswers.length === ids.length, 'an OVH read per command');
    const lastAck = Math.max(...acks.map((a) => a.receivedAt));
    // OVH answered the first read of the burst only after the client had received the last ack.
    expect(Math.min(...detailAnswers)).toBeGreaterThan(lastAck);
  });
});
