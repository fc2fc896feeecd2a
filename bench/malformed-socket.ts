import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { PAGE_ACTION } from '../src/slack/blocks/replies.js';
import { CHANNELS, USERS } from '../test/support/bot-harness.js';
import { FakeSlack } from '../test/support/fake-slack.js';
import { buttonClick, viewSubmission } from '../test/support/slack-payloads.js';
import { newTriggerId, slashCommandPayload } from '../test/support/slack-requests.js';
import { type SocketLink, startSocketLink } from '../test/support/socket-link.js';
import { type Child, spawnChild } from './ipc.js';
import { type Summary, summarize } from './stats.js';

/**
 * Scenario 8, Socket Mode half (issue 13, item 4): the envelopes no listener can read or claim, each
 * acknowledged at once. Slack's side of the link (apps.connections.open, then the WebSocket) runs here in the
 * parent, one per app, so the time from an envelope sent to its ack frame is measured where Slack would see it.
 * Envelopes go one at a time, alternating with the bare Bolt app's ack of `/nasha help` (the baseline). There
 * are no signatures in Socket Mode (the app token authenticates the link), so no "refused" group.
 */
export type SocketGroup = 'malformed' | 'unclaimed' | 'stale button';

interface Envelope {
  type: 'slash_commands' | 'interactive';
  payload: unknown;
}

interface SocketCase {
  group: SocketGroup;
  what: string;
  /** A fresh envelope (trigger_ids are single-use: a second copy would be a replay). */
  make: (responseUrl: string) => Envelope;
  /** The bot must also answer the person through the response_url (a button "no longer valid"). */
  answersPerson?: true;
}

const command = (text: string, responseUrl: string, fields: Record<string, string> = {}) =>
  slashCommandPayload({ channel_id: CHANNELS.ops, user_id: USERS.admin, text, response_url: responseUrl, ...fields });

const interactive = (payload: unknown): Envelope => ({ type: 'interactive', payload });
const button =
  (actionId: string, value: string) =>
  (responseUrl: string): Envelope =>
    interactive(buttonClick({ user: USERS.admin, channel: CHANNELS.ops, actionId, value, responseUrl }));

export const SOCKET_CASES: readonly SocketCase[] = [
  { group: 'malformed', what: 'payload null', make: () => interactive(null) },
  { group: 'malformed', what: 'payload 123', make: () => interactive(123) },
  { group: 'malformed', what: 'payload []', make: () => interactive([]) },
  { group: 'malformed', what: 'payload {}', make: () => interactive({}) },
  {
    group: 'malformed',
    what: 'block action without a user',
    make: (responseUrl) =>
      interactive({
        type: 'block_actions',
        trigger_id: newTriggerId(),
        actions: [{ action_id: `${PAGE_ACTION}_next`, value: '{}' }],
        response_url: responseUrl,
      }),
  },
  {
    group: 'malformed',
    what: 'form submission without a user',
    make: () => interactive({ type: 'view_submission', view: { callback_id: 'x' } }),
  },
  {
    group: 'malformed',
    what: 'command without a user',
    make: () => ({ type: 'slash_commands', payload: { command: '/nasha', text: 'help' } }),
  },
  {
    group: 'unclaimed',
    what: 'command /other',
    make: (responseUrl) => ({ type: 'slash_commands', payload: command('x', responseUrl, { command: '/other' }) }),
  },
  { group: 'unclaimed', what: 'button of an older version', make: button('nasha_retired_button', '{}') },
  {
    group: 'unclaimed',
    what: 'form of an older version',
    make: () => interactive(viewSubmission(USERS.admin, { callback_id: 'nasha_retired_form', private_metadata: '' })),
  },
  {
    group: 'stale button',
    what: 'page button, value not JSON',
    answersPerson: true,
    make: button(`${PAGE_ACTION}_next`, 'x'),
  },
  {
    group: 'stale button',
    what: 'page button, value of the wrong shape',
    answersPerson: true,
    make: button(`${PAGE_ACTION}_next`, '{"view":"list"}'),
  },
];

export interface SocketMalformedResult {
  rounds: number;
  /** The bare app's ack of `/nasha help`, sent alternately with the bot's envelopes. */
  baseline: Summary;
  groups: Array<{ group: SocketGroup; cases: number; summary: Summary; max: number; acked: string }>;
  all: Summary & { max: number };
  /** Every envelope acknowledged, and every stale button's clicker told through the response_url. */
  allAnswered: boolean;
  /** What the bare Bolt app does with each envelope: acknowledged after how long, or not within 4 s. */
  bare: Array<{ what: string; answer: string }>;
}

/** Slack's end of one app's Socket Mode link, with a wait for the ack of each envelope sent on it. */
interface LinkEnd {
  app: Child;
  slack: FakeSlack;
  /** Resolves with the ms from sending to the ack frame, or 'no ack' after `timeoutMs`. */
  deliver(envelope: Envelope, timeoutMs: number): Promise<number | 'no ack'>;
  /** Stops the app, then Slack's side. */
  close(): Promise<void>;
}

/** Starts Slack's side (Web API with apps.connections.open, WebSocket server), then the app connecting to it. */
async function openLink(spawn: (slackApiUrl: string) => Promise<Child>): Promise<LinkEnd> {
  const slack = new FakeSlack();
  await slack.start();
  slack.groups.set('S0SRE', [USERS.operator]);
  slack.groups.set('S0RESP', [USERS.responder]);
  let link: SocketLink | undefined;
  let app: Child | undefined;
  const close = async () => {
    await app?.stop();
    await link?.close();
    await slack.stop();
  };
  try {
    link = await startSocketLink(slack);
    app = await spawn(slack.apiUrl);
    const opened = link;
    await slack.waitFor(() => opened.latest() !== undefined, 'the app to open its WebSocket', 10_000);
  } catch (error) {
    await close();
    throw error;
  }
  const socket = link.latest() as WebSocket;
  const waiting = new Map<string, (at: number) => void>();
  socket.on('message', (data) => {
    const at = performance.now();
    const frame = JSON.parse(String(data)) as { envelope_id?: unknown };
    if (typeof frame.envelope_id === 'string') waiting.get(frame.envelope_id)?.(at);
  });
  return {
    app,
    slack,
    close,
    deliver: (envelope, timeoutMs) =>
      new Promise((resolve) => {
        const envelopeId = randomUUID();
        const timer = setTimeout(() => {
          waiting.delete(envelopeId);
          resolve('no ack');
        }, timeoutMs);
        const sent = performance.now();
        waiting.set(envelopeId, (at) => {
          clearTimeout(timer);
          waiting.delete(envelopeId);
          resolve(at - sent);
        });
        socket.send(JSON.stringify({ envelope_id: envelopeId, accepts_response_payload: true, ...envelope }));
      }),
  };
}

const APP_TOKEN = 'xapp-1-bench-app-token';

export async function socketMalformedAnswers(
  world: Child,
  options: { rounds: number },
): Promise<SocketMalformedResult> {
  const info = world.world;
  if (info === undefined) throw new Error('the world child did not describe itself');
  const socketEnv = (slackApiUrl: string) => ({
    BENCH_SLACK_MODE: 'socket',
    BENCH_APP_TOKEN: APP_TOKEN,
    BENCH_SLACK_API_URL: slackApiUrl,
  });
  const bare = await openLink((url) => spawnChild('bare', undefined, socketEnv(url)));
  let bot: LinkEnd | undefined;
  try {
    bot = await openLink((url) => spawnChild('bot', info, socketEnv(url)));
    return await measure(bare, bot, options.rounds);
  } finally {
    await Promise.all([bare.close(), bot?.close()]);
  }
}

/** Sends every case `rounds` times to the bot, each followed by the baseline to the bare app; then each once to it. */
async function measure(bare: LinkEnd, bot: LinkEnd, rounds: number): Promise<SocketMalformedResult> {
  const reply = (slack: FakeSlack) => {
    const id = randomUUID();
    return { id, url: slack.responseUrl(id) };
  };
  const baseline = (): Envelope => ({
    type: 'slash_commands',
    payload: command('help', reply(bare.slack).url),
  });
  const samples = new Map<SocketCase, Array<number | 'no ack'>>(SOCKET_CASES.map((c) => [c, []]));
  /** Response_url ids of the stale buttons' clicks, each owed a "no longer valid". */
  const owed: string[] = [];
  const base: number[] = [];
  // Warm-up: modules and JIT of both apps.
  for (const c of SOCKET_CASES) await bot.deliver(c.make(reply(bot.slack).url), 4_000);
  for (let i = 0; i < 10; i++) await bare.deliver(baseline(), 4_000);
  for (let round = 0; round < rounds; round++) {
    for (const c of SOCKET_CASES) {
      const to = reply(bot.slack);
      if (c.answersPerson === true) owed.push(to.id);
      samples.get(c)?.push(await bot.deliver(c.make(to.url), 4_000));
      const b = await bare.deliver(baseline(), 4_000);
      if (b !== 'no ack') base.push(b);
    }
  }
  const told = () => owed.every((id) => bot.slack.replies(id).some((r) => /no longer valid/i.test(JSON.stringify(r))));
  await bot.slack.waitFor(told, 'every stale button to be answered', 10_000).catch(() => undefined);
  // The bare app with the same envelopes: once each, all at once, after the bot's (a crash ends nothing else).
  const bareAnswers = await Promise.all(
    SOCKET_CASES.map(async (c) => {
      const sent = await bare.deliver(c.make(reply(bare.slack).url), 4_000);
      return { what: c.what, answer: sent === 'no ack' ? 'no ack in 4 s' : `acked after ${Math.round(sent)} ms` };
    }),
  );
  const acked = (sent: Array<number | 'no ack'>) => sent.filter((s): s is number => s !== 'no ack');
  const groups = (['malformed', 'unclaimed', 'stale button'] as const).map((group) => {
    const cases = SOCKET_CASES.filter((c) => c.group === group);
    const sent = cases.flatMap((c) => samples.get(c) ?? []);
    const ms = acked(sent);
    return {
      group,
      cases: cases.length,
      summary: summarize(ms),
      max: Math.max(...ms),
      acked: `${ms.length} of ${sent.length}`,
    };
  });
  const everySent = [...samples.values()].flat();
  const every = acked(everySent);
  return {
    rounds,
    baseline: summarize(base),
    groups,
    all: { ...summarize(every), max: Math.max(...every) },
    allAnswered: every.length === everySent.length && told(),
    bare: bareAnswers,
  };
}
