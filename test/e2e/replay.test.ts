import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../src/compose.js';
import { createLogger } from '../../src/shared/logger.js';
import { FIELD, MODAL } from '../../src/slack/blocks/modals.js';
import { SQLITE_FILE_NAME } from '../../src/store/database.js';
import {
  type BotHarness,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import {
  blockSuggestion,
  datePicker,
  select,
  staticSelect,
  textInput,
  viewSubmission,
} from '../support/slack-payloads.js';
import {
  interactivityBody,
  postSigned,
  type SignedResponse,
  slackSignature,
  slashCommandBody,
} from '../support/slack-requests.js';

/**
 * Replays of captured, correctly signed Slack deliveries (issue 13, item 3). A signature proves a request came
 * from Slack once, not that it is new: each slash command and interaction is run at most once per trigger_id,
 * across restarts and replicas, and a copy is answered at once without effect.
 */
let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
});
afterAll(async () => {
  await h?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
const snapshotPosts = (partition: string) =>
  h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${partition}/customSnapshot`)).length;
const DUPLICATE = /already received.*not run again/i;

/** One signed delivery as an attacker captures it: the same bytes, timestamp and signature each time it is sent. */
function capture(body: string, url: () => string = () => h.url): () => Promise<SignedResponse> {
  const timestamp = nowSeconds();
  const signature = slackSignature(SIGNING_SECRET, timestamp, body);
  return () => postSigned(url(), SIGNING_SECRET, body, { timestamp, signature });
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

/** Lets anything a request may have started in the background reach OVH or Slack. */
async function settle(): Promise<void> {
  let last = -1;
  for (;;) {
    const seen = h.sim.requests.length + h.slack.calls.length;
    if (seen === last) return;
    last = seen;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Opens the `/nasha snapshot` form as `user`; returns its signed private_metadata. */
async function openMainForm(user: string): Promise<string> {
  const opened = h.slack.callsTo('views.open').length;
  await h.command('snapshot', { user });
  await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opened, 'the form');
  const view = h.slack.callsTo('views.open').at(-1)?.args['view'] as { private_metadata: string } | undefined;
  return view?.private_metadata ?? '';
}

describe('replayed Slack deliveries (HTTP)', () => {
  it('a captured `create` replayed 3 times within the window makes one snapshot; each replay is told so at once', async () => {
    const id = randomUUID();
    const send = capture(
      slashCommandBody({ text: 'snapshot create zpool-128310/logs', response_url: h.slack.responseUrl(id) }),
    );
    const before = snapshotPosts('logs');
    const first = await send();
    expect(first.json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
    await h.replies(id, final);

    const logged = h.logLines.length;
    for (let i = 0; i < 3; i++) {
      const { result: replay, ms } = await timed(send);
      expect(replay.status).toBe(200);
      expect(replay.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(DUPLICATE) });
      expect(ms).toBeLessThan(1_000);
    }
    await settle();
    expect(snapshotPosts('logs') - before).toBe(1);
    expect(h.slack.replies(id).filter((r) => /^Done/.test(String(r['text'])))).toHaveLength(1);
    const lines = h.logLines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['outcome'] === 'duplicate')).toHaveLength(3);
    expect(lines.filter((l) => l['outcome'] === 'duplicate')[0]).toMatchObject({
      kind: 'command',
      userId: USERS.admin,
      command: 'snapshot create zpool-128310/logs',
    });
  });

  it('copies of one delivery racing each other (a retrying proxy, two replicas): exactly one runs', async () => {
    const id = randomUUID();
    const send = capture(
      slashCommandBody({ text: 'snapshot create zpool-128310/data', response_url: h.slack.responseUrl(id) }),
    );
    const before = snapshotPosts('data');
    const answers = await Promise.all(Array.from({ length: 5 }, () => send()));
    const texts = answers.map((a) => String((a.json() as { text?: unknown }).text));
    expect(texts.filter((t) => /^Working on/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => DUPLICATE.test(t))).toHaveLength(4);
    await h.replies(id, final);
    await settle();
    expect(snapshotPosts('data') - before).toBe(1);
  });

  it('two different commands from the same user, even with the same text, both run', async () => {
    const before = snapshotPosts('logs');
    const first = await h.command('snapshot create zpool-128310/logs', { user: USERS.admin });
    const second = await h.command('snapshot create zpool-128310/logs', { user: USERS.admin });
    for (const { ack, id } of [first, second]) {
      expect(ack.json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
      await h.replies(id, final);
    }
    expect(snapshotPosts('logs') - before).toBe(2);
  });

  it('a replayed form submission creates once; the replays get an empty 200', async () => {
    const metadata = await openMainForm(USERS.operator);
    const next = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: MODAL.main,
        private_metadata: metadata,
        state: {
          service: { service: select('zpool-204117') },
          partition: { partition: select('uploads') },
          action: { action: staticSelect('create') },
        },
      }),
    );
    const createForm = (next.json() as { view: { private_metadata: string } }).view;
    const send = capture(
      interactivityBody(
        viewSubmission(USERS.operator, {
          callback_id: MODAL.create,
          private_metadata: createForm.private_metadata,
          state: { name: { name: textInput('replayed-form') }, expiration: { expiration: datePicker(null) } },
        }),
      ),
    );
    const before = snapshotPosts('uploads');
    const first = await send();
    expect(first.json()).toMatchObject({ response_action: 'update' });
    for (let i = 0; i < 3; i++) {
      const { result: replay, ms } = await timed(send);
      expect([replay.status, replay.body]).toEqual([200, '']);
      expect(ms).toBeLessThan(1_000);
    }
    await settle();
    expect(snapshotPosts('uploads') - before).toBe(1);
  });

  it('the record of a delivery survives a restart: a replay after it is still refused', async () => {
    const id = randomUUID();
    const send = capture(
      slashCommandBody({ text: 'snapshot create zpool-204117/db', response_url: h.slack.responseUrl(id) }),
    );
    const before = snapshotPosts('db');
    expect((await send()).json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
    await h.replies(id, final);
    await h.restart();
    expect((await send()).json()).toMatchObject({ text: expect.stringMatching(DUPLICATE) });
    await settle();
    expect(snapshotPosts('db') - before).toBe(1);
  });

  it('and is shared by replicas: a replay sent to another bot on the same store runs nothing', async () => {
    let other: RunningBot | undefined;
    const otherLines: Array<Record<string, unknown>> = [];
    try {
      other = await startBot(h.env, {
        clock: h.clock,
        logger: createLogger({
          level: 'info',
          destination: new Writable({
            write: (chunk, _e, done) => {
              otherLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
              done();
            },
          }),
        }),
        botIdentity: { botId: 'BBOT', botUserId: 'UBOT' },
        slackRetries: 0,
        outbox: { idlePollMs: Number.POSITIVE_INFINITY },
        approvalSweepMs: Number.POSITIVE_INFINITY,
      });
      const otherUrl = `http://127.0.0.1:${other.port}/slack/events`;
      const id = randomUUID();
      const body = slashCommandBody({ text: 'snapshot create zpool-204117/db', response_url: h.slack.responseUrl(id) });
      const toFirst = capture(body);
      const toOther = capture(body, () => otherUrl);
      const before = snapshotPosts('db');
      expect((await toFirst()).json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
      // The other replica has not seen it: it answers before its ledger, which then stops it. Its response_url
      // is the original's, where the original's answer goes: the copy adds nothing there.
      expect((await toOther()).json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
      await h.replies(id, final);
      await settle();
      expect(snapshotPosts('db') - before).toBe(1);
      expect(h.slack.replies(id).filter((r) => /^(Done|Failed)/.test(String(r['text'])))).toHaveLength(1);
      expect(otherLines.filter((l) => l['msg'] === 'slack request')).toEqual([
        expect.objectContaining({ outcome: 'duplicate', reason: 'recorded by another replica; not run again' }),
      ]);
      expect(otherLines.filter((l) => l['level'] === 50)).toEqual([]);
    } finally {
      await other?.stop();
    }
  });

  it('a command whose delivery cannot be recorded is acked, then told it was not run; nothing reaches OVH', async () => {
    // The ledger's table out of the bot's reach: its insert fails, as when the database is lost.
    const file = new BetterSqlite3(join(h.dataDir, SQLITE_FILE_NAME));
    file.exec('alter table slack_deliveries rename to slack_deliveries_away');
    try {
      const id = randomUUID();
      const before = snapshotPosts('db');
      const logged = h.logLines.length;
      const ack = await capture(
        slashCommandBody({ text: 'snapshot create zpool-204117/db', response_url: h.slack.responseUrl(id) }),
      )();
      expect(ack.json()).toMatchObject({ text: expect.stringMatching(/^Working on/) });
      const texts = await h.replies(id, (t) => t.some((x) => /nothing was done/.test(x)));
      expect(texts).toEqual([expect.stringMatching(/could not accept this request.*nothing was done/)]);
      expect(h.slack.replies(id)[0]).toMatchObject({ replace_original: true });
      await settle();
      expect(snapshotPosts('db') - before).toBe(0);
      const lines = h.logLines.slice(logged).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l['msg'] === 'slack request')).toEqual([
        expect.objectContaining({ outcome: 'not run', level: 50, kind: 'command' }),
      ]);
      expect(lines.filter((l) => /failed|unhandled/.test(String(l['msg'])))).toEqual([]);
    } finally {
      file.exec('alter table slack_deliveries_away rename to slack_deliveries');
      file.close();
    }
  });

  it('a request timestamped more than 5 minutes ahead is refused like a stale one (401), nothing done', async () => {
    const body = slashCommandBody({
      text: 'snapshot create zpool-128310/logs from-the-future',
      response_url: h.slack.responseUrl('future'),
    });
    const before = { posts: snapshotPosts('logs'), slack: h.slack.calls.length };
    const logged = h.logLines.length;
    const future = await postSigned(h.url, SIGNING_SECRET, body, { timestamp: nowSeconds() + 6 * 60 });
    expect(future.status).toBe(401);
    expect(future.body).toBe('');
    await settle();
    expect(snapshotPosts('logs')).toBe(before.posts);
    expect(h.slack.calls.length).toBe(before.slack);
    expect(h.logLines.slice(logged).filter((l) => /future/.test(l))).toHaveLength(1);
    // Within the window either way: a clock a little ahead of ours is not refused.
    const { ack } = await h.command('snapshot services');
    expect(ack.status).toBe(200);
    const ahead = await postSigned(
      h.url,
      SIGNING_SECRET,
      slashCommandBody({ text: 'snapshot help', response_url: h.slack.responseUrl('ahead') }),
      { timestamp: nowSeconds() + 4 * 60 },
    );
    expect(ahead.status).toBe(200);
  });

  it('option loads have no effect and are not deduplicated: the same type-ahead twice gets options twice', async () => {
    const metadata = await openMainForm(USERS.admin);
    const body = interactivityBody(
      blockSuggestion(USERS.admin, FIELD.service, 'zpool', { callback_id: MODAL.main, private_metadata: metadata }),
    );
    const send = capture(body);
    for (let i = 0; i < 2; i++) {
      const answer = await send();
      expect((answer.json() as { options: unknown[] }).options.length).toBeGreaterThan(0);
    }
  });

  it('an Events API retry (X-Slack-Retry-Num) is acknowledged at once, every time', async () => {
    const body = JSON.stringify({
      token: 'legacy',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'Ev0REPLAY1',
      event_time: nowSeconds(),
      event: { type: 'app_mention', user: USERS.viewer, text: '<@UBOT> hi', channel: 'C0OPS', ts: '1700000000.000100' },
    });
    const timestamp = nowSeconds();
    for (const retry of [undefined, '1', '2']) {
      const { result: res, ms } = await timed(() =>
        fetch(h.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-slack-request-timestamp': String(timestamp),
            'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
            ...(retry !== undefined && { 'x-slack-retry-num': retry, 'x-slack-retry-reason': 'http_timeout' }),
          },
          body,
        }),
      );
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(1_000);
    }
  });
});
