import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { PAGE_ACTION } from '../src/slack/blocks/replies.js';
import { CHANNELS, SIGNING_SECRET, USERS } from '../test/support/bot-harness.js';
import { buttonClick, viewSubmission } from '../test/support/slack-payloads.js';
import {
  FORM,
  interactivityBody,
  newTriggerId,
  slackSignature,
  slashCommandBody,
} from '../test/support/slack-requests.js';
import { type Child, spawnChild } from './ipc.js';
import { type Summary, summarize } from './stats.js';

/**
 * Scenario 8 (issue 13, item 4): requests that are not Slack requests the bot can read, or that no listener
 * claims, each answered at once. Sent one at a time over a keep-alive connection, interleaved with the bare
 * Bolt app's ack of a signed `/nasha` (its cheapest answer: the baseline). The bare app itself answers most of
 * these only after its 3-second timeout, or never; those are sent to it once each, in parallel.
 */
export type MalformedGroup = 'malformed' | 'refused' | 'unclaimed' | 'stale button';

interface Case {
  group: MalformedGroup;
  what: string;
  /** The status the bot must answer with. */
  status: number;
  /** Bolt's HTTPReceiver throws on it where nothing catches it: the bare app's process would exit. */
  crashesBolt?: true;
  /** A fresh request (trigger_ids are single-use: a second copy would be a replay). */
  make: (responseUrl: string) => { body: string; contentType?: string; signature?: 'wrong' | 'future' };
}

const payload = (value: unknown) => interactivityBody(value as object);
const button = (actionId: string, value: string) => (responseUrl: string) => ({
  body: interactivityBody(buttonClick({ user: USERS.admin, channel: CHANNELS.ops, actionId, value, responseUrl })),
});

export const CASES: readonly Case[] = [
  { group: 'malformed', what: 'payload=null', status: 400, crashesBolt: true, make: () => ({ body: 'payload=null' }) },
  {
    group: 'malformed',
    what: 'JSON body null',
    status: 400,
    crashesBolt: true,
    make: () => ({ body: 'null', contentType: 'application/json' }),
  },
  { group: 'malformed', what: 'payload=123', status: 400, make: () => ({ body: payload(123) }) },
  { group: 'malformed', what: 'payload=[]', status: 400, make: () => ({ body: payload([]) }) },
  { group: 'malformed', what: 'payload={}', status: 400, make: () => ({ body: payload({}) }) },
  {
    group: 'malformed',
    what: 'block action without a user',
    status: 400,
    make: (responseUrl) => ({
      body: payload({
        type: 'block_actions',
        trigger_id: newTriggerId(),
        actions: [{ action_id: `${PAGE_ACTION}_next`, value: '{}' }],
        response_url: responseUrl,
      }),
    }),
  },
  {
    group: 'refused',
    what: 'wrong signature',
    status: 401,
    make: () => ({ body: slashCommandBody({ text: 'help' }), signature: 'wrong' }),
  },
  {
    group: 'refused',
    what: 'signed 6 min in the future',
    status: 401,
    make: () => ({ body: slashCommandBody({ text: 'help' }), signature: 'future' }),
  },
  {
    group: 'unclaimed',
    what: 'command /other',
    status: 200,
    make: (responseUrl) => ({ body: slashCommandBody({ command: '/other', text: 'x', response_url: responseUrl }) }),
  },
  { group: 'unclaimed', what: 'button of an older version', status: 200, make: button('nasha_retired_button', '{}') },
  {
    group: 'unclaimed',
    what: 'form of an older version',
    status: 200,
    make: () => ({
      body: interactivityBody(viewSubmission(USERS.admin, { callback_id: 'nasha_retired_form', private_metadata: '' })),
    }),
  },
  { group: 'stale button', what: 'page button, value not JSON', status: 200, make: button(`${PAGE_ACTION}_next`, 'x') },
  {
    group: 'stale button',
    what: 'page button, value of the wrong shape',
    status: 200,
    make: button(`${PAGE_ACTION}_next`, '{"view":"list"}'),
  },
];

export interface MalformedResult {
  rounds: number;
  /** The bare app's ack of a signed `/nasha`, sent alternately with the bot's cases. */
  baseline: Summary;
  groups: Array<{ group: MalformedGroup; cases: number; summary: Summary; max: number; statuses: string }>;
  all: Summary & { max: number };
  /** Every case answered with its expected status. */
  statusesOk: boolean;
  /** What the bare Bolt app (one `/nasha` listener) does with each case: status and time, or no answer in 4 s. */
  bare: Array<{ what: string; answer: string }>;
}

interface Sent {
  status: number | 'no answer';
  ms: number;
}

async function send(pool: Pool, request: ReturnType<Case['make']>, timeoutMs: number): Promise<Sent> {
  const now = Math.floor(Date.now() / 1000);
  const timestamp = request.signature === 'future' ? now + 360 : now;
  const headers = {
    'content-type': request.contentType ?? FORM,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(
      request.signature === 'wrong' ? 'wrong' : SIGNING_SECRET,
      timestamp,
      request.body,
    ),
  };
  const started = performance.now();
  try {
    const response = await pool.request({
      path: '/slack/events',
      method: 'POST',
      headers,
      body: request.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.text();
    return { status: response.statusCode, ms: performance.now() - started };
  } catch {
    return { status: 'no answer', ms: performance.now() - started };
  }
}

export async function malformedAnswers(world: Child, options: { rounds: number }): Promise<MalformedResult> {
  const info = world.world;
  if (info === undefined) throw new Error('the world child did not describe itself');
  const apps = { bare: await spawnChild('bare'), bot: await spawnChild('bot', info) };
  const pools = {
    bare: new Pool(`http://127.0.0.1:${apps.bare.port}`, { connections: CASES.length + 1 }),
    bot: new Pool(`http://127.0.0.1:${apps.bot.port}`, { connections: 1 }),
  };
  const url = () => `${info.responseUrlBase}${randomUUID()}`;
  const baseline = () => ({ body: slashCommandBody({ text: 'help', response_url: url() }) });
  const samples = new Map<Case, Sent[]>(CASES.map((c) => [c, []]));
  const base: number[] = [];
  try {
    // Warm-up: modules and JIT of both apps.
    for (const c of CASES) await send(pools.bot, c.make(url()), 4_000);
    for (let i = 0; i < 10; i++) await send(pools.bare, baseline(), 4_000);
    for (let round = 0; round < options.rounds; round++) {
      for (const c of CASES) {
        const request = c.make(url());
        samples.get(c)?.push(await send(pools.bot, request, 4_000));
        base.push((await send(pools.bare, baseline(), 4_000)).ms);
      }
    }
    // The bare app with the same requests: once each, all at once (most wait for its 3 s timeout).
    const bare = await Promise.all(
      CASES.map(async (c) => {
        if (c.crashesBolt === true) {
          return { what: c.what, answer: 'not sent: its receiver throws where nothing catches it (the process exits)' };
        }
        const sent = await send(pools.bare, c.make(url()), 4_000);
        return {
          what: c.what,
          answer: sent.status === 'no answer' ? 'no answer in 4 s' : `${sent.status} after ${Math.round(sent.ms)} ms`,
        };
      }),
    );
    const groups = (['malformed', 'refused', 'unclaimed', 'stale button'] as const).map((group) => {
      const cases = CASES.filter((c) => c.group === group);
      const sent = cases.flatMap((c) => samples.get(c) ?? []);
      const ms = sent.map((s) => s.ms);
      const statuses = [...new Set(sent.map((s) => String(s.status)))].join(', ');
      return { group, cases: cases.length, summary: summarize(ms), max: Math.max(...ms), statuses };
    });
    const every = [...samples.values()].flat().map((s) => s.ms);
    const statusesOk = CASES.every((c) => (samples.get(c) ?? []).every((s) => s.status === c.status));
    return {
      rounds: options.rounds,
      baseline: summarize(base),
      groups,
      all: { ...summarize(every), max: Math.max(...every) },
      statusesOk,
      bare,
    };
  } finally {
    // destroy, not close: the bare app never answers some of them.
    await Promise.all([pools.bare.destroy(), pools.bot.destroy()]);
    await Promise.all([apps.bare.stop(), apps.bot.stop()]);
  }
}
