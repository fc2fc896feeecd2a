import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type WebSocket, WebSocketServer } from 'ws';
import type { FakeSlack } from './fake-slack.js';

/** A frame the bot sent over the link (an envelope ack, mostly), with when it arrived. */
export interface ReceivedFrame {
  message: Record<string, unknown>;
  at: number;
}

/** Slack's side of Socket Mode on loopback: `apps.connections.open` on the fake Web API, then the WebSocket. */
export interface SocketLink {
  readonly port: number;
  /** Every connection the bot opened, oldest first. */
  readonly sockets: WebSocket[];
  /** Every JSON frame the bot sent, in order. */
  readonly frames: ReceivedFrame[];
  /** The newest connection (what Slack would send envelopes on). */
  latest(): WebSocket | undefined;
  /** The frame acknowledging an envelope, once the bot has sent it. */
  ackOf(envelopeId: string): ReceivedFrame | undefined;
  close(): Promise<void>;
}

export interface SocketLinkOptions {
  /** The URL `apps.connections.open` returns (default `ws://127.0.0.1:<port>/link`), e.g. behind a TLS front. */
  publicUrl?: (port: number) => string | Promise<string>;
  /** While false, `apps.connections.open` answers `internal_error` (Slack refusing new connections). */
  accepting?: () => boolean;
  /** Called for each new connection after Slack's `hello` (to ping it, say). */
  onConnection?: (socket: WebSocket) => void;
}

export async function startSocketLink(slack: FakeSlack, options: SocketLinkOptions = {}): Promise<SocketLink> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const url = await (options.publicUrl?.(port) ?? `ws://127.0.0.1:${port}/link`);
  const accepting = options.accepting ?? (() => true);
  slack.on('apps.connections.open', () =>
    accepting() ? { body: { ok: true, url } } : { body: { ok: false, error: 'internal_error' } },
  );
  const sockets: WebSocket[] = [];
  const frames: ReceivedFrame[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      frames.push({ message: JSON.parse(String(data)) as Record<string, unknown>, at: performance.now() });
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        connection_info: { app_id: 'A1' },
        debug_info: { host: 'local' },
      }),
    );
    options.onConnection?.(socket);
  });
  return {
    port,
    sockets,
    frames,
    latest: () => sockets.at(-1),
    ackOf: (envelopeId) => frames.find((frame) => frame.message['envelope_id'] === envelopeId),
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
