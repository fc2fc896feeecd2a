import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for Slack's Web API and for `response_url` targets: the sandbox's Slack, and
 * the tests' fake Slack. It answers the methods the bot calls the way Slack does, records every
 * call, and tells listeners (the sandbox console) what the bot said.
 */

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

/** A call and Slack's answer to it (a `response_url` post is answered `{ ok: true }`). */
export interface AnsweredCall extends RecordedCall {
  answer: Readonly<Record<string, unknown>>;
}

export interface HandlerResult {
  status?: number;
  headers?: Record<string, string>;
  body: object;
  /** Answer only after this many ms (real time), or once this promise settles: a slow Slack. */
  delay?: number | Promise<unknown>;
  /** Close the connection instead of answering; what the call did stays done (an answer lost on the way). */
  drop?: boolean;
}
export type MethodHandler = (args: Record<string, unknown>) => HandlerResult;

/** A message the default chat.postMessage handler keeps, as conversations.history returns it. */
export interface StoredMessage {
  type: 'message';
  ts: string;
  text: unknown;
  blocks: unknown;
  bot_id: string;
  metadata?: unknown;
  /** A reply in a thread: its parent's ts (replies are not in conversations.history, as in Slack). */
  thread_ts?: string;
}
export type CallListener = (call: AnsweredCall) => void;

/** A person as users.info describes them (what the bot reads: language and time zone). */
export interface SlackUserProfile {
  name?: string;
  /** `fr-FR`, `en-US`…: answered only when the call asks `include_locale`, as Slack does. */
  locale?: string;
  /** IANA zone, e.g. `Europe/Paris`. */
  tz?: string;
}

export interface LocalSlackApiOptions {
  /** When set, Web API calls must carry this token (as Slack checks): others get `invalid_auth`. */
  botToken?: string;
  /** What auth.test answers. */
  identity?: { botId: string; botUserId: string; teamId: string };
  /** Methods without a handler: `{ ok: true }` (lenient, tests) or Slack's `unknown_method`. */
  unknownMethods?: 'ok' | 'error';
}

/** Form-encoded Web API arguments that Slack expects as JSON strings. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);
export const RESPONSE_URL_PATH = '/response-url/';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.startsWith('application/json')) return asRecord(JSON.parse(raw));
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) args[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : value;
  return args;
}

/** As Slack does: a post to a user id lands in the app's DM with them, a `D…` conversation (conversations.open's). */
function conversationOf(channel: string): string {
  return /^[UW][A-Z0-9]+$/.test(channel) ? `D${channel}` : channel;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export class LocalSlackApi {
  readonly calls: RecordedCall[] = [];
  /** Slack user group id → member user ids (for usergroups.users.list). */
  readonly groups = new Map<string, string[]>();
  /** Slack user id → profile (for users.info); anyone else is `user_not_found`, as in Slack. */
  readonly users = new Map<string, SlackUserProfile>();
  /** Messages posted through the default chat.postMessage handler, per conversation (`D<user>` for DMs), oldest first. */
  readonly messages = new Map<string, StoredMessage[]>();
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly listeners = new Set<CallListener>();
  private readonly options: LocalSlackApiOptions;
  private server: Server | undefined;
  private tsCounter = 1_700_000_000_000_100;
  private viewCounter = 1;

  constructor(options: LocalSlackApiOptions = {}) {
    this.options = options;
    const identity = options.identity ?? { botId: 'BBOT', botUserId: 'UBOT', teamId: 'T1' };
    this.handlers.set('auth.test', () => ({
      body: {
        ok: true,
        user_id: identity.botUserId,
        bot_id: identity.botId,
        team_id: identity.teamId,
        url: 'https://acme.slack.com/',
      },
    }));
    this.handlers.set('chat.postMessage', (a) => {
      const message: StoredMessage = {
        type: 'message',
        ts: this.nextTs(),
        text: a['text'],
        blocks: a['blocks'],
        bot_id: identity.botId,
        ...(a['metadata'] !== undefined && { metadata: a['metadata'] }),
        ...(typeof a['thread_ts'] === 'string' && { thread_ts: a['thread_ts'] }),
      };
      const channel = conversationOf(String(a['channel']));
      this.messages.set(channel, [...(this.messages.get(channel) ?? []), message]);
      return { body: { ok: true, channel, ts: message.ts, message } };
    });
    this.handlers.set('chat.update', (a) => {
      const message = this.messages.get(conversationOf(String(a['channel'])))?.find((m) => m.ts === a['ts']);
      if (message !== undefined) {
        message.text = a['text'];
        message.blocks = a['blocks'];
        if (a['metadata'] !== undefined) message.metadata = a['metadata'];
      }
      return { body: { ok: true, channel: a['channel'], ts: a['ts'] } };
    });
    this.handlers.set('conversations.history', (a) => ({ body: this.history(a) }));
    this.handlers.set('conversations.replies', (a) => ({ body: this.history(a, String(a['ts'])) }));
    this.handlers.set('chat.postEphemeral', () => ({ body: { ok: true, message_ts: this.nextTs() } }));
    this.handlers.set('chat.getPermalink', (a) => ({
      body: {
        ok: true,
        channel: a['channel'],
        permalink: `${this.baseUrl}/archives/${String(a['channel'])}/p${String(a['message_ts']).replace('.', '')}`,
      },
    }));
    this.handlers.set('views.open', (a) => ({
      body: { ok: true, view: { id: this.nextViewId(), hash: 'h1', ...asRecord(a['view']) } },
    }));
    this.handlers.set('views.update', (a) => ({
      body: { ok: true, view: { id: a['view_id'], hash: 'h2', ...asRecord(a['view']) } },
    }));
    this.handlers.set('views.push', (a) => ({
      body: { ok: true, view: { id: this.nextViewId(), ...asRecord(a['view']) } },
    }));
    this.handlers.set('views.publish', (a) => ({
      body: { ok: true, view: { id: `VHOME${String(a['user_id'])}`, hash: 'h1', ...asRecord(a['view']) } },
    }));
    this.handlers.set('conversations.open', (a) => ({ body: { ok: true, channel: { id: `D${String(a['users'])}` } } }));
    this.handlers.set('usergroups.users.list', (a) => ({
      body: { ok: true, users: this.groups.get(String(a['usergroup'])) ?? [] },
    }));
    this.handlers.set('users.info', (a) => ({ body: this.userInfo(a) }));
  }

  /** Replaces how one method answers (tests: failures, rate limits). */
  on(method: string, handler: MethodHandler): void {
    this.handlers.set(method, handler);
  }

  /** How one method answers now, so a test can wrap it (delay or drop the usual answer). */
  handlerOf(method: string): MethodHandler {
    return this.handlers.get(method) ?? (() => ({ body: { ok: true } }));
  }

  /** Called after every answered call; returns the unsubscribe function. */
  subscribe(listener: CallListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'internal_error' }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
  }

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (address === undefined) throw new Error('the local Slack API is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** For clientOptions.slackApiUrl / SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  responseUrl(id: string): string {
    return `${this.baseUrl}${RESPONSE_URL_PATH}${id}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = await readBody(req);
    if (path.startsWith(RESPONSE_URL_PATH)) {
      let body: Record<string, unknown>;
      try {
        body = asRecord(JSON.parse(raw));
      } catch {
        res.writeHead(400).end('invalid_payload');
        return;
      }
      this.record({ method: 'response_url', args: { ...body, url: path }, authorization: undefined }, { ok: true });
      res.writeHead(200).end('ok');
      return;
    }
    const method = path.replace(/^\/api\//, '');
    let args: Record<string, unknown>;
    try {
      args = parseArgs(req.headers['content-type'], raw);
    } catch {
      this.reply(res, { body: { ok: false, error: 'invalid_arguments' } });
      return;
    }
    const authorization = req.headers.authorization;
    const call: RecordedCall = { method, args, authorization };
    const result = this.authError(authorization, args) ?? this.answer(method, args);
    this.record(call, asRecord(result.body));
    if (typeof result.delay === 'number') await new Promise((resolve) => setTimeout(resolve, result.delay as number));
    else if (result.delay !== undefined) await result.delay.catch(() => undefined);
    if (result.drop === true) {
      req.socket.destroy();
      return;
    }
    this.reply(res, result);
  }

  /**
   * conversations.history as Slack answers it: newest first, `oldest`/`latest` exclusive unless `inclusive`,
   * `limit` (default 100) with an opaque cursor, metadata only with `include_all_metadata`.
   */
  private history(args: Record<string, unknown>, thread?: string): Record<string, unknown> {
    // conversations.replies (`thread`): the parent and its replies; conversations.history: no replies.
    const stored = (this.messages.get(conversationOf(String(args['channel']))) ?? []).filter((m) =>
      thread === undefined ? m.thread_ts === undefined : m.ts === thread || m.thread_ts === thread,
    );
    const inclusive = args['inclusive'] === true || args['inclusive'] === 'true';
    const bound = (name: string) => (args[name] === undefined ? undefined : Number(args[name]));
    const oldest = bound('oldest');
    const latest = bound('latest');
    const inRange = stored.filter((m) => {
      const ts = Number(m.ts);
      if (oldest !== undefined && (inclusive ? ts < oldest : ts <= oldest)) return false;
      if (latest !== undefined && (inclusive ? ts > latest : ts >= latest)) return false;
      return true;
    });
    const newestFirst = [...inRange].reverse();
    const start = Number(args['cursor'] ?? 0) || 0;
    const limit = Math.min(Math.max(Number(args['limit'] ?? 100) || 100, 1), 999);
    const page = newestFirst.slice(start, start + limit);
    const withMetadata = args['include_all_metadata'] === true || args['include_all_metadata'] === 'true';
    const hasMore = start + limit < newestFirst.length;
    return {
      ok: true,
      messages: page.map(({ metadata, ...message }) =>
        withMetadata && metadata !== undefined ? { ...message, metadata } : message,
      ),
      has_more: hasMore,
      response_metadata: { next_cursor: hasMore ? String(start + limit) : '' },
    };
  }

  /** users.info as Slack answers it: `tz` always, `locale` only with `include_locale`. */
  private userInfo(args: Record<string, unknown>): Record<string, unknown> {
    const id = String(args['user'] ?? '');
    const profile = this.users.get(id);
    if (profile === undefined) return { ok: false, error: 'user_not_found' };
    const withLocale = args['include_locale'] === true || args['include_locale'] === 'true';
    return {
      ok: true,
      user: {
        id,
        name: profile.name ?? id.toLowerCase(),
        ...(profile.tz !== undefined && { tz: profile.tz }),
        ...(withLocale && profile.locale !== undefined && { locale: profile.locale }),
      },
    };
  }

  private authError(authorization: string | undefined, args: Record<string, unknown>): HandlerResult | undefined {
    const expected = this.options.botToken;
    if (expected === undefined) return undefined;
    const token = authorization?.replace(/^Bearer\s+/i, '') ?? (typeof args['token'] === 'string' ? args['token'] : '');
    if (token === '') return { body: { ok: false, error: 'not_authed' } };
    return token === expected ? undefined : { body: { ok: false, error: 'invalid_auth' } };
  }

  private answer(method: string, args: Record<string, unknown>): HandlerResult {
    const handler = this.handlers.get(method);
    if (handler !== undefined) return handler(args);
    return this.options.unknownMethods === 'error'
      ? { body: { ok: false, error: 'unknown_method' } }
      : { body: { ok: true } };
  }

  private record(call: RecordedCall, answer: Record<string, unknown>): void {
    this.calls.push(call);
    for (const listener of this.listeners) {
      try {
        listener({ ...call, answer });
      } catch {
        // A listener's bug must not turn into a Slack error for the bot.
      }
    }
  }

  private reply(res: ServerResponse, { status = 200, headers = {}, body }: HandlerResult): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  private nextTs(): string {
    this.tsCounter += 100;
    const text = String(this.tsCounter);
    return `${text.slice(0, 10)}.${text.slice(10)}`;
  }

  private nextViewId(): string {
    return `V${this.viewCounter++}`;
  }
}
