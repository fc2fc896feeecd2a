import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

export interface HandlerResult {
  status?: number;
  headers?: Record<string, string>;
  body: object;
}
export type MethodHandler = (args: Record<string, unknown>) => HandlerResult;

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) args[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : value;
  return args;
}

/**
 * A loopback stand-in for Slack's Web API (and for response_url targets) that records every call.
 * Messages get increasing `ts` values; views get ids; user groups come from `groups`.
 */
export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  /** Slack user group id → member user ids (for usergroups.users.list). */
  readonly groups = new Map<string, string[]>();
  private readonly handlers = new Map<string, MethodHandler>();
  private server: Server | undefined;
  private tsCounter = 1_700_000_000_000_100;
  private viewCounter = 1;

  constructor() {
    this.handlers.set('auth.test', () => ({
      body: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', url: 'https://acme.slack.com/' },
    }));
    this.handlers.set('chat.postMessage', (a) => ({ body: { ok: true, channel: a['channel'], ts: this.nextTs() } }));
    this.handlers.set('chat.update', (a) => ({ body: { ok: true, channel: a['channel'], ts: a['ts'] } }));
    this.handlers.set('chat.postEphemeral', () => ({ body: { ok: true, message_ts: this.nextTs() } }));
    this.handlers.set('views.open', (a) => ({
      body: { ok: true, view: { id: `V${this.viewCounter++}`, hash: 'h1', ...(a['view'] as object) } },
    }));
    this.handlers.set('views.update', (a) => ({
      body: { ok: true, view: { id: a['view_id'], hash: 'h2', ...(a['view'] as object) } },
    }));
    this.handlers.set('views.push', (a) => ({
      body: { ok: true, view: { id: `V${this.viewCounter++}`, ...(a['view'] as object) } },
    }));
    this.handlers.set('conversations.open', (a) => ({ body: { ok: true, channel: { id: `D${String(a['users'])}` } } }));
    this.handlers.set('usergroups.users.list', (a) => ({
      body: { ok: true, users: this.groups.get(String(a['usergroup'])) ?? [] },
    }));
  }

  on(method: string, handler: MethodHandler): void {
    this.handlers.set(method, handler);
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const raw = await readBody(req);
      if (path.startsWith('/response-url/')) {
        this.calls.push({
          method: 'response_url',
          args: { ...(JSON.parse(raw) as object), url: path },
          authorization: undefined,
        });
        res.writeHead(200).end('ok');
        return;
      }
      const method = path.replace(/^\/api\//, '');
      const args = parseArgs(req.headers['content-type'], raw);
      this.calls.push({ method, args, authorization: req.headers.authorization });
      const handler: MethodHandler = this.handlers.get(method) ?? (() => ({ body: { ok: true } }));
      const { status = 200, headers = {}, body } = handler(args);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (address === undefined) throw new Error('FakeSlack is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** For clientOptions.slackApiUrl / SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  responseUrl(id: string): string {
    return `${this.baseUrl}/response-url/${id}`;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** response_url posts for one command, in order. */
  replies(id: string): Array<Record<string, unknown>> {
    return this.calls
      .filter((c) => c.method === 'response_url' && c.args['url'] === `/response-url/${id}`)
      .map((c) => c.args);
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private nextTs(): string {
    this.tsCounter += 100;
    const text = String(this.tsCounter);
    return `${text.slice(0, 10)}.${text.slice(10)}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
