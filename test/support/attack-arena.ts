import { randomUUID } from 'node:crypto';
import { segmentProblem } from '../../src/ovh/path.js';
import { matchRoute, NASHA_ROUTES } from '../../src/ovh/simulator/routes.js';
import type { AnsweredCall } from '../../src/sandbox/slack-api.js';
import { LIMITS } from '../../src/slack/blocks/limits.js';
import {
  APPROVALS_CHANNEL,
  AUDIT_CHANNEL,
  type BotHarness,
  type BotHarnessOptions,
  CHANNELS,
  SIGNING_SECRET,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from './bot-harness.js';
import { buttonClick, type ViewLike, viewSubmission } from './slack-payloads.js';
import { interactivityBody, slackSignature, slashCommandBody } from './slack-requests.js';

/**
 * The attack suites' arena (test/e2e/attacks): the real bot of bot-harness.ts, every request an attack sends
 * recorded with its answer, and the checks that must hold whatever the attacks were — run over everything the
 * simulator and the fake Slack saw:
 *
 * - no OVH write (POST/DELETE) that no authorized request accounts for, and only valid routes and segments;
 * - every request answered within {@link ANSWER_WITHIN_MS}, with the ephemeral answer it is owed;
 * - no ping from user text: every `<@…>`, `<!…>`, `<#…>` in any mrkdwn the bot sent names an ID the bot itself
 *   mentions, and the attacks' markers only ever appear inside code spans;
 * - no service or partition name outside the asker's grants in anything sent to them (unless they typed it);
 * - everything sent within Slack's Block Kit limits, and no listener failure.
 */

/** A user scoped to one partition: operator on zpool-204117/db only. */
export const ONE_PARTITION_USER = 'U0ONEPART';
export const ONE_PARTITION = { service: 'zpool-204117', partition: 'db' } as const;

/** A viewer of the partition `db` on every service (scope `zpool-*\/db`): every service is theirs to list, only `db` in it. */
export const DB_EVERYWHERE_USER = 'U0DBWILD';

/** The test configuration (approvals on) plus the one-partition operator and the `zpool-*\/db` viewer. */
export const ARENA_CONFIG = TEST_CONFIG.replace(
  '\nchannels:',
  [
    '',
    '  - role: operator',
    `    users: [${ONE_PARTITION_USER}]`,
    `    scope: ["${ONE_PARTITION.service}/${ONE_PARTITION.partition}"]`,
    '  - role: viewer',
    `    users: [${DB_EVERYWHERE_USER}]`,
    '    scope: ["zpool-*/db"]',
    'channels:',
  ].join('\n'),
);

/** Who may see what under ARENA_CONFIG (a responder may take quick snapshots anywhere, so sees every name). */
const VISIBILITY: Readonly<Record<string, (service: string, partition?: string) => boolean>> = {
  [USERS.nobody]: () => false,
  [ONE_PARTITION_USER]: (s, p) => s === ONE_PARTITION.service && (p === undefined || p === ONE_PARTITION.partition),
  [DB_EVERYWHERE_USER]: (s, p) => s.startsWith('zpool-') && (p === undefined || p === 'db'),
  [USERS.scoped]: (s) => s === 'zpool-204117',
  [USERS.scopedApprover]: (s) => s === 'zpool-204117',
};

/** What the bot may mention: the people, channels and groups of the configuration, and itself. */
const MENTIONABLE = {
  users: new Set<string>([...Object.values(USERS), ONE_PARTITION_USER, DB_EVERYWHERE_USER, 'UBOT']),
  channels: new Set<string>([...Object.values(CHANNELS), AUDIT_CHANNEL, APPROVALS_CHANNEL]),
  groups: new Set(['S0SRE', 'S0RESP']),
};

/**
 * Words of the injection payloads that must never be live outside a code span (a mention of a stranger, a link
 * target, text that would format). Every payload the suites send carries some of them.
 */
export const MARKERS = ['VICTIM', 'evil.example', 'zbold', 'zital', 'zstrike', 'ztick', 'zdate'] as const;

/** Every markup construct of Slack mrkdwn at once, in one reason. */
export const MARKUP =
  '<@U0VICTIM> <!channel> <!here> <!everyone> <!subteam^S0VICTIM> <#C0VICTIM> <http://evil.example|click here> ' +
  '*zbold* _zital_ ~zstrike~ `ztick` ```ztick``` &lt;@U0VICTIM2&gt; <!date^1^{date}|zdate> > quoted';

/** Answered within this, or it counts as unanswered (Slack gives 3 s; the bot answers in milliseconds). */
export const ANSWER_WITHIN_MS = 1_000;

/** How a request must be answered. */
export type Owed =
  /** 401: unsigned, forged, stale or from the future; nothing said to anyone. */
  | 'unsigned'
  /** 400: a signed body the bot cannot read. */
  | 'malformed'
  /** 413: over the body limit. */
  | 'too large'
  /** A command: an ephemeral ack, a reply, or a form opened; a "Working on…" ack is followed by a result. */
  | 'ephemeral'
  /** A button: an ephemeral reply through its response_url, or a form opened. */
  | 'reply'
  /** A form submission: errors, an update, or an empty ack (the form closes). */
  | 'form'
  /** An option load: a list of options. */
  | 'options'
  /** A copy of a delivery already run: "already received" for a command, an empty ack otherwise. */
  | 'duplicate'
  /**
   * A command's copy sent to a replica that has not seen the original: acked like it ("Working on…"), or as
   * "already received" when the replica knew; it runs nothing either way (the allowances count the writes).
   */
  | 'copy elsewhere';

export interface Exchange {
  attack: string;
  actor: string | undefined;
  owed: Owed;
  body: string;
  /** Everything in the request, decoded: what the actor typed or sent may be echoed back to them. */
  sent: string;
  status: number | 'no answer';
  ms: number;
  response: string;
  /** The answer's headers. */
  headers: Readonly<Record<string, string>>;
  replyId: string | undefined;
  triggerId: string | undefined;
  viewId: string | undefined;
}

export interface WriteAllowance {
  attack: string;
  method: 'POST' | 'DELETE';
  path: string;
  min: number;
  max: number;
}

export interface SendOptions {
  owed: Owed;
  actor?: string | undefined;
  replyId?: string | undefined;
  triggerId?: string | undefined;
  viewId?: string | undefined;
  /** Signed with this secret (default: the right one), at this timestamp, or with this signature header. */
  secret?: string;
  timestamp?: number | string | undefined;
  signature?: string | undefined;
  /** Headers left out (forgeries). */
  omit?: readonly ('x-slack-signature' | 'x-slack-request-timestamp')[];
  contentType?: string;
  /** More headers (Slack's retry headers). */
  headers?: Readonly<Record<string, string>>;
  /** Another bot on the same store (replicas). */
  url?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function decoded(body: string): string {
  const params = new URLSearchParams(body);
  const values = [...params.values()];
  return values.length === 0 ? body : `${body}\n${values.join('\n')}`;
}

/** The `trigger_id`, `view.id` and `response_url` of an interactivity payload, to find what answered it. */
function identities(payload: Record<string, unknown>) {
  const view = payload['view'] as { id?: unknown } | undefined;
  const url = typeof payload['response_url'] === 'string' ? payload['response_url'] : undefined;
  return {
    triggerId: typeof payload['trigger_id'] === 'string' ? payload['trigger_id'] : undefined,
    viewId: typeof view?.id === 'string' ? view.id : undefined,
    replyId: url?.split('/response-url/')[1],
  };
}

export class Arena {
  readonly exchanges: Exchange[] = [];
  readonly allowances: WriteAllowance[] = [];
  /** Slack calls with Slack's answers (views.open answers carry the view id later updates name). */
  readonly calls: AnsweredCall[] = [];
  private readonly universe: ReadonlyMap<string, readonly string[]>;

  private constructor(readonly h: BotHarness) {
    h.slack.subscribe((call) => this.calls.push(call));
    this.universe = new Map(h.sim.state.listServices().map((s) => [s, h.sim.state.listPartitions(s)]));
  }

  static async start(options: BotHarnessOptions = {}): Promise<Arena> {
    return new Arena(await startBotHarness({ config: ARENA_CONFIG, ...options }));
  }

  get url(): string {
    return this.h.url;
  }

  /** Posts one request as an attacker would; never throws, never waits more than 4 s. */
  async send(attack: string, body: string, options: SendOptions): Promise<Exchange> {
    const timestamp = options.timestamp ?? nowSeconds();
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature':
        options.signature ?? slackSignature(options.secret ?? SIGNING_SECRET, Number(timestamp), body),
      ...options.headers,
    };
    for (const name of options.omit ?? []) delete headers[name];
    const started = performance.now();
    let status: number | 'no answer' = 'no answer';
    let response = '';
    let answerHeaders: Record<string, string> = {};
    try {
      const res = await fetch(options.url ?? this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(4_000),
      });
      response = await res.text();
      status = res.status;
      answerHeaders = Object.fromEntries(res.headers);
    } catch {
      // Recorded as unanswered.
    }
    const exchange: Exchange = {
      attack,
      actor: options.actor,
      owed: options.owed,
      body,
      sent: decoded(body),
      status,
      ms: performance.now() - started,
      response,
      headers: answerHeaders,
      replyId: options.replyId,
      triggerId: options.triggerId,
      viewId: options.viewId,
    };
    this.exchanges.push(exchange);
    return exchange;
  }

  /** A slash command body (`/nasha <text>`), with its own response_url and trigger_id unless given. */
  commandBody(
    text: string,
    {
      user = USERS.admin,
      channel = CHANNELS.ops,
      replyId = randomUUID(),
      triggerId = randomUUID(),
    }: { user?: string; channel?: string; replyId?: string | undefined; triggerId?: string | undefined } = {},
  ) {
    const body = slashCommandBody({
      text,
      user_id: user,
      channel_id: channel,
      response_url: this.h.slack.responseUrl(replyId),
      trigger_id: triggerId,
    });
    return { body, replyId, triggerId, actor: user };
  }

  /** Sends `/nasha <text>` signed; owed an ephemeral answer unless said otherwise. */
  command(
    attack: string,
    text: string,
    options: { user?: string; channel?: string } & Partial<SendOptions> = {},
  ): Promise<Exchange> {
    const built = this.commandBody(text, options);
    return this.send(attack, built.body, { owed: 'ephemeral', ...built, ...options });
  }

  /** Sends an interactivity payload signed; the actor is its user. */
  interact(attack: string, payload: object, options: Partial<SendOptions> & { owed: Owed }): Promise<Exchange> {
    const record = payload as Record<string, unknown>;
    const user = (record['user'] as { id?: unknown } | undefined)?.id;
    return this.send(attack, interactivityBody(payload), {
      actor: typeof user === 'string' ? user : undefined,
      ...identities(record),
      ...options,
    });
  }

  /** Submits a form as `user` (a view of its own id, so its updates are told apart); owed a form answer. */
  submit(attack: string, user: string, view: Omit<ViewLike, 'id'>): Promise<Exchange> {
    return this.interact(attack, viewSubmission(user, { id: `V-${randomUUID()}`, ...view }), { owed: 'form' });
  }

  /** A click on a message button (an approval card unless `channel` says otherwise), with its own response_url. */
  buttonPayload(
    user: string,
    actionId: string,
    value: string | undefined,
    channel: string = APPROVALS_CHANNEL,
  ): Record<string, unknown> {
    const payload = buttonClick({
      user,
      channel,
      actionId,
      value: value ?? '',
      responseUrl: this.h.slack.responseUrl(randomUUID()),
    }) as { actions: Array<Record<string, unknown>> };
    if (value === undefined) delete payload.actions[0]?.['value'];
    return payload;
  }

  /** Files an approval request with a command (or finds the one already open); returns its id. */
  async requestApproval(text: string, user: string): Promise<string> {
    const e = await this.command(`setup: ${text}`, text, { user });
    const id = () => /#([A-Z0-9]{6})/.exec(JSON.stringify(this.replies(e)))?.[1];
    await this.waitFor(() => id() !== undefined, `an approval request: ${text}`);
    return id() ?? '';
  }

  /**
   * Runs `tasks` with at most `limit` under way at once, results in order: attacks go in bursts, as from a busy
   * workspace, without one test's hundred requests queueing behind each other past the answer deadline.
   */
  async inParallel<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
    const results: T[] = [];
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i];
        if (task !== undefined) results[i] = await task();
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    return results;
  }

  /** This attack may cause these OVH writes (at least `min`, at most `max`, default exactly one). */
  allow(
    attack: string,
    method: 'POST' | 'DELETE',
    path: string,
    { min = 1, max = min }: { min?: number; max?: number } = {},
  ): void {
    this.allowances.push({ attack, method, path: `/1.0/dedicated/nasha/${path}`, min, max });
  }

  /** Waits until the bot has been quiet (no OVH request, no Slack call) for a moment: background work is done. */
  async settle(quietMs = 150, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      const seen = this.h.sim.requests.length + this.calls.length + this.h.logLines.length;
      if (seen !== last) {
        last = seen;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the bot never went quiet');
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await this.h.slack.waitFor(predicate, what, timeoutMs);
  }

  /** The response_url posts of an exchange, in order. */
  replies(exchange: Pick<Exchange, 'replyId'>): Array<Record<string, unknown>> {
    return exchange.replyId === undefined ? [] : this.h.slack.replies(exchange.replyId);
  }

  /** Views opened with an exchange's trigger_id (the answer carries the id Slack gave the view). */
  viewsOpened(exchange: Pick<Exchange, 'triggerId'>): AnsweredCall[] {
    return this.calls.filter(
      (c) =>
        c.method === 'views.open' && exchange.triggerId !== undefined && c.args['trigger_id'] === exchange.triggerId,
    );
  }

  /** The first form opened in answer to an exchange (after it opened). */
  async openedView(exchange: Pick<Exchange, 'triggerId'>): Promise<{ callback_id: string; private_metadata: string }> {
    await this.waitFor(() => this.viewsOpened(exchange).length > 0, 'a form to open');
    const view = this.viewsOpened(exchange)[0]?.args['view'];
    if (typeof view !== 'object' || view === null) throw new Error('views.open without a view');
    return view as { callback_id: string; private_metadata: string };
  }

  /** Everything the bot said in answer to one exchange: its HTTP answer, replies, forms opened and updated. */
  saidTo(exchange: Exchange): unknown[] {
    const opened = this.viewsOpened(exchange);
    const viewIds = new Set(
      [exchange.viewId, ...opened.map((c) => (c.answer['view'] as { id?: string } | undefined)?.id)].filter(
        (id): id is string => id !== undefined,
      ),
    );
    const updated = this.calls.filter(
      (c) => (c.method === 'views.update' || c.method === 'views.push') && viewIds.has(String(c.args['view_id'])),
    );
    return [exchange.response, ...this.replies(exchange), ...opened.map((c) => c.args), ...updated.map((c) => c.args)];
  }

  /** Waits until every "Working on…" ack has been followed by its result. */
  async answersComplete(timeoutMs = 20_000): Promise<void> {
    const pending = () => this.exchanges.filter((e) => e.owed === 'ephemeral' && this.ownedResult(e) === 'pending');
    await this.waitFor(() => pending().length === 0, 'every command result', timeoutMs).catch(() => undefined);
  }

  private ownedResult(e: Exchange): 'answered' | 'pending' | 'none' {
    const ack = parseJson(e.response) as { response_type?: unknown; text?: unknown } | undefined;
    const working = typeof ack?.text === 'string' && ack.text.startsWith('Working on');
    const replies = this.replies(e).map((r) => String(r['text'] ?? ''));
    if (working) return replies.some((t) => !t.startsWith('Working on')) ? 'answered' : 'pending';
    if (ack?.response_type === 'ephemeral' && typeof ack.text === 'string' && ack.text !== '') return 'answered';
    if (this.viewsOpened(e).length > 0 || replies.length > 0) return 'answered';
    return 'none';
  }

  /** Every check of the file comment, over all that happened; each problem as one line (none: []). */
  async violations(): Promise<string[]> {
    await this.answersComplete();
    await this.settle();
    return [
      ...this.unanswered(),
      ...this.unauthorizedWrites(),
      ...this.invalidOvhRoutes(),
      ...this.pings(),
      ...this.namesBeyondGrants(),
      ...this.beyondBlockKitLimits(),
      ...this.failures(),
    ];
  }

  unanswered(): string[] {
    const out: string[] = [];
    for (const e of this.exchanges) {
      const what = `${e.attack}: ${e.owed}`;
      if (e.status === 'no answer') {
        out.push(`${what}: no answer`);
        continue;
      }
      if (e.ms > ANSWER_WITHIN_MS) out.push(`${what}: answered after ${Math.round(e.ms)} ms`);
      const json = parseJson(e.response) as Record<string, unknown> | undefined;
      switch (e.owed) {
        case 'unsigned':
        case 'malformed':
        case 'too large': {
          const status = { unsigned: 401, malformed: 400, 'too large': 413 }[e.owed];
          if (e.status !== status) out.push(`${what}: HTTP ${e.status}, expected ${status}`);
          if (this.replies(e).length > 0 || this.viewsOpened(e).length > 0) out.push(`${what}: the bot answered it`);
          break;
        }
        case 'ephemeral': {
          if (e.status !== 200) out.push(`${what}: HTTP ${e.status}`);
          const result = this.ownedResult(e);
          if (result !== 'answered')
            out.push(`${what}: ${result === 'pending' ? 'no result after the ack' : 'no answer'}`);
          break;
        }
        case 'reply':
          if (e.status !== 200) out.push(`${what}: HTTP ${e.status}`);
          else if (this.replies(e).length === 0 && this.viewsOpened(e).length === 0) out.push(`${what}: no reply`);
          break;
        case 'form': {
          const action = json?.['response_action'];
          const fine = e.response === '' || ['errors', 'update', 'push', 'clear'].includes(String(action));
          if (e.status !== 200 || !fine) out.push(`${what}: HTTP ${e.status} ${e.response.slice(0, 200)}`);
          break;
        }
        case 'options':
          if (e.status !== 200 || !Array.isArray(json?.['options'])) out.push(`${what}: ${e.response.slice(0, 200)}`);
          break;
        case 'copy elsewhere': {
          const text = String(json?.['text'] ?? '');
          const fine = json?.['response_type'] === 'ephemeral' && /^Working on|already received/.test(text);
          if (e.status !== 200 || !fine) out.push(`${what}: HTTP ${e.status} ${e.response.slice(0, 200)}`);
          break;
        }
        case 'duplicate': {
          const isCommand = new URLSearchParams(e.body).has('command');
          const fine = isCommand
            ? json?.['response_type'] === 'ephemeral' && /already received/.test(String(json['text']))
            : e.response === '';
          if (e.status !== 200 || !fine) out.push(`${what}: HTTP ${e.status} ${e.response.slice(0, 200)}`);
          break;
        }
      }
    }
    // Whatever the bot says through a response_url is for the clicker or commander only.
    for (const c of this.calls.filter((call) => call.method === 'response_url')) {
      if (c.args['response_type'] !== 'ephemeral') out.push(`a response_url post is not ephemeral: ${c.args['url']}`);
    }
    return out;
  }

  /** Every POST/DELETE to OVH is accounted for by an authorized request, within its bounds. */
  unauthorizedWrites(): string[] {
    const used = this.allowances.map(() => 0);
    const out: string[] = [];
    for (const r of this.h.sim.requests) {
      if (r.method !== 'POST' && r.method !== 'DELETE') continue;
      const i = this.allowances.findIndex(
        (a, k) => a.method === r.method && a.path === r.path && (used[k] ?? 0) < a.max,
      );
      if (i < 0) out.push(`unauthorized OVH write: ${r.method} ${r.path}`);
      else used[i] = (used[i] ?? 0) + 1;
    }
    this.allowances.forEach((a, k) => {
      if ((used[k] ?? 0) < a.min) out.push(`${a.attack}: expected ${a.min} ${a.method} ${a.path}, saw ${used[k]}`);
    });
    return out;
  }

  invalidOvhRoutes(): string[] {
    const out: string[] = [];
    for (const r of this.h.sim.requests) {
      if (r.path === '/1.0/auth/time') continue;
      const route = r.path.startsWith('/1.0/')
        ? matchRoute(NASHA_ROUTES, r.method, r.path.slice('/1.0'.length))
        : undefined;
      if (route === undefined) out.push(`OVH saw a route it does not have: ${r.method} ${r.path}`);
      for (const [name, segment] of route?.params ?? []) {
        const problem = segmentProblem(segment);
        if (problem !== undefined) out.push(`OVH saw ${r.method} ${r.path}: ${name} ${problem}`);
      }
    }
    return out;
  }

  /** Every message and view the bot produced: Web API calls, response_url posts and HTTP answers. */
  private outputs(): Array<{ where: string; value: unknown }> {
    const fromCalls = this.calls
      .filter((c) => c.method.startsWith('chat.') || c.method.startsWith('views.') || c.method === 'response_url')
      .map((c) => {
        const { token: _token, ...args } = c.args;
        return { where: `${c.method} ${String(c.args['channel'] ?? c.args['url'] ?? '')}`, value: args };
      });
    const fromAnswers = this.exchanges
      .map((e) => ({ where: `the HTTP answer to ${e.attack}`, value: parseJson(e.response) }))
      .filter((o) => o.value !== undefined);
    return [...fromCalls, ...fromAnswers];
  }

  /** Live mentions, links and special commands in mrkdwn: only those the bot builds from IDs it knows. */
  pings(): string[] {
    const out: string[] = [];
    const TOKEN = /<([@#!])([^>|]*)(\|[^>]*)?>/g;
    for (const { where, value } of this.outputs()) {
      for (const text of mrkdwnTexts(value)) {
        for (const [token, sigil, id = '', label = ''] of text.matchAll(TOKEN)) {
          const ok =
            (sigil === '@' && MENTIONABLE.users.has(id) && label === '') ||
            (sigil === '#' && MENTIONABLE.channels.has(id) && label === '') ||
            (sigil === '!' && id.startsWith('subteam^') && MENTIONABLE.groups.has(id.slice(8)) && label === '') ||
            (sigil === '!' && /^date\^\d+\^[{}a-z_ ]+$/.test(id) && /^\|\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(label));
          if (!ok) out.push(`${where}: live ${token}`);
        }
        const live = outsideCodeSpans(text);
        for (const marker of MARKERS) {
          if (live.includes(marker))
            out.push(`${where}: user text "${marker}" outside a code span: ${text.slice(0, 300)}`);
        }
      }
    }
    return out;
  }

  /** No service or partition outside the asker's grants in what was said to them, unless they sent it. */
  namesBeyondGrants(): string[] {
    const out: string[] = [];
    for (const e of this.exchanges) {
      const sees = e.actor === undefined ? undefined : VISIBILITY[e.actor];
      if (sees === undefined) continue;
      const said = JSON.stringify(this.saidTo(e).map((v) => (typeof v === 'string' ? (parseJson(v) ?? v) : v)));
      for (const name of this.hiddenNames(sees)) {
        if (name.said.test(said) && !name.typed.test(e.sent))
          out.push(`${e.attack}: ${e.actor} was told of ${name.name}`);
      }
    }
    // Messages to them in DMs and in channels that mention them as the one who asked.
    for (const [actor, sees] of Object.entries(VISIBILITY)) {
      const sent = this.exchanges
        .filter((e) => e.actor === actor)
        .map((e) => e.sent)
        .join('\n');
      const messages = this.calls.filter(
        (c) =>
          (c.method === 'chat.postMessage' || c.method === 'chat.update' || c.method === 'chat.postEphemeral') &&
          c.args['channel'] !== AUDIT_CHANNEL &&
          (c.args['channel'] === actor || c.args['user'] === actor || JSON.stringify(c.args).includes(`<@${actor}>`)),
      );
      const said = JSON.stringify(messages.map((c) => ({ text: c.args['text'], blocks: c.args['blocks'] })));
      for (const name of this.hiddenNames(sees)) {
        if (name.said.test(said) && !name.typed.test(sent))
          out.push(`a message about ${actor}'s request names ${name.name}`);
      }
    }
    return out;
  }

  /**
   * The names a user may not see: services as written, partitions as the bot shows a name (in a code span, in
   * quotes, in an option's JSON, after a service's slash); `typed` finds the same name in what they sent.
   */
  private hiddenNames(sees: (service: string, partition?: string) => boolean): HiddenName[] {
    const visiblePartitions = new Set<string>();
    for (const [service, partitions] of this.universe) {
      for (const p of partitions) if (sees(service, p)) visiblePartitions.add(p);
    }
    const names: HiddenName[] = [];
    const word = (name: string) => new RegExp(`(?<![\\w.:-])${escapeRegExp(name)}(?![\\w.:-])`);
    for (const [service, partitions] of this.universe) {
      if (!sees(service)) names.push({ name: service, said: new RegExp(escapeRegExp(service)), typed: word(service) });
      for (const p of partitions) {
        if (sees(service, p) || visiblePartitions.has(p)) continue;
        const said = new RegExp(`[\`“"/]${escapeRegExp(p)}(?=[\`”"/\\\\]|$)`);
        names.push({ name: p, said, typed: word(p) });
      }
    }
    return names;
  }

  /** Slack refuses what exceeds these (and the bot promises to stay within them whatever it was sent). */
  beyondBlockKitLimits(): string[] {
    const out: string[] = [];
    const over = (where: string, what: string, length: number, max: number) => {
      if (length > max) out.push(`${where}: ${what} is ${length} long (max ${max})`);
    };
    const checkBlocks = (where: string, blocks: unknown, max: number) => {
      if (!Array.isArray(blocks)) return;
      over(where, 'blocks', blocks.length, max);
      for (const block of blocks as Array<Record<string, unknown>>) checkBlock(where, block, over);
    };
    for (const { where, value } of this.outputs()) {
      if (typeof value !== 'object' || value === null) continue;
      const v = value as Record<string, unknown>;
      if (Array.isArray(v['options'])) {
        over(where, 'options', v['options'].length, LIMITS.options);
        for (const option of v['options'] as Array<Record<string, unknown>>) checkOption(where, option, over);
      }
      if (typeof v['text'] === 'string') over(where, 'text', v['text'].length, LIMITS.fallbackText);
      checkBlocks(where, v['blocks'], LIMITS.messageBlocks);
      const view = v['view'] as Record<string, unknown> | undefined;
      if (typeof view === 'object' && view !== null) {
        checkBlocks(`${where} (view)`, view['blocks'], LIMITS.modalBlocks);
        over(where, 'view title', plainLength(view['title']), LIMITS.modalTitle);
        over(where, 'private_metadata', String(view['private_metadata'] ?? '').length, LIMITS.privateMetadata);
      }
    }
    return out;
  }

  failures(): string[] {
    const bad =
      /unhandled error in a Slack listener|request failed unexpectedly|after the request was acknowledged|"level":60/;
    const out = this.h.logLines.filter((l) => bad.test(l)).map((l) => `log: ${l.slice(0, 400)}`);
    for (const { where, value } of this.outputs()) {
      if (JSON.stringify(value).includes('Something went wrong'))
        out.push(`${where}: an unexpected error reached Slack`);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.h.close();
  }
}

interface HiddenName {
  name: string;
  said: RegExp;
  typed: RegExp;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The mrkdwn strings in a message, view or answer: top-level `text` and every `{ type: 'mrkdwn', text }`. */
export function mrkdwnTexts(value: unknown): string[] {
  const out: string[] = [];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const top = (value as Record<string, unknown>)['text'];
    if (typeof top === 'string') out.push(top);
  }
  const walk = (node: unknown, depth: number) => {
    if (depth > 20 || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (record['type'] === 'mrkdwn' && typeof record['text'] === 'string') out.push(record['text']);
    for (const child of Object.values(record)) walk(child, depth + 1);
  };
  walk(value, 0);
  return out;
}

/**
 * The parts of mrkdwn Slack renders as markup: everything outside inline code spans. A span does not cross a
 * line, and a backtick with no partner on its line opens nothing.
 */
export function outsideCodeSpans(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const parts = line.split('`');
      const closed = parts.length % 2 === 1 ? parts.length : parts.length - 1;
      return parts.filter((_part, i) => i % 2 === 0 || i >= closed).join(' ');
    })
    .join('\n');
}

type Over = (where: string, what: string, length: number, max: number) => void;

function plainLength(element: unknown): number {
  const text = (element as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text.length : 0;
}

function checkOption(where: string, option: Record<string, unknown>, over: Over): void {
  over(where, 'option text', plainLength(option['text']), LIMITS.optionText);
  over(where, 'option value', String(option['value'] ?? '').length, LIMITS.optionValue);
}

function checkBlock(where: string, block: Record<string, unknown>, over: Over): void {
  const at = `${where} ${String(block['type'])} block`;
  if (block['type'] === 'header') over(at, 'header', plainLength(block['text']), LIMITS.header);
  if (block['type'] === 'section') {
    over(at, 'section text', plainLength(block['text']), LIMITS.sectionText);
    const fields = Array.isArray(block['fields']) ? block['fields'] : [];
    over(at, 'fields', fields.length, LIMITS.fields);
    for (const field of fields) over(at, 'field', plainLength(field), LIMITS.field);
  }
  if (block['type'] === 'context') {
    const elements = Array.isArray(block['elements']) ? block['elements'] : [];
    over(at, 'context elements', elements.length, LIMITS.context);
    for (const element of elements) over(at, 'context text', plainLength(element), LIMITS.sectionText);
  }
  if (block['type'] === 'actions') {
    const elements = Array.isArray(block['elements']) ? (block['elements'] as Array<Record<string, unknown>>) : [];
    over(at, 'actions', elements.length, LIMITS.actionsElements);
    for (const element of elements) {
      over(at, 'button text', plainLength(element['text']), LIMITS.buttonText);
      over(at, 'button value', String(element['value'] ?? '').length, LIMITS.buttonValue);
    }
  }
  if (block['type'] === 'input') {
    const element = block['element'] as Record<string, unknown> | undefined;
    const options = Array.isArray(element?.['options']) ? (element['options'] as Array<Record<string, unknown>>) : [];
    over(at, 'options', options.length, LIMITS.options);
    for (const option of options) checkOption(at, option, over);
    over(at, 'initial value', String(element?.['initial_value'] ?? '').length, 3_000);
  }
}
