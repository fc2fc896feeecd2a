import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * A real HTTP CONNECT proxy on loopback, as ops teams run (Squid, tinyproxy…), for tests: it opens one
 * TCP tunnel per CONNECT, counts them, and resolves names through `hosts` only, so a name such as
 * `slack.test` (which no DNS resolves) is reachable through the proxy and nowhere else: a test that
 * reaches it proves the traffic went through the proxy.
 */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every tunnel opened, as `host:port` asked for, in order. */
  readonly tunnels: readonly string[];
  /** CONNECTs refused, with the status sent. */
  readonly refused: ReadonlyArray<{ target: string; status: number }>;
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Name → address the proxy connects to; names not listed are refused with 502 (the proxy's DNS failing). */
  hosts: Readonly<Record<string, string>>;
  /** When set, CONNECT without these Basic credentials gets 407. */
  credentials?: { user: string; password: string };
}

export async function startConnectProxy(options: ConnectProxyOptions): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: Array<{ target: string; status: number }> = [];
  const sockets = new Set<Socket>();
  const server: Server = createHttpServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' }).end('CONNECT only');
  });
  const expected =
    options.credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const refuse = (status: number, reason: string) => {
      refused.push({ target, status });
      client.end(
        `HTTP/1.1 ${status} ${reason}\r\n${status === 407 ? 'Proxy-Authenticate: Basic realm="test"\r\n' : ''}\r\n`,
      );
    };
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      refuse(407, 'Proxy Authentication Required');
      return;
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    const address = match?.[1] === undefined ? undefined : options.hosts[match[1].toLowerCase()];
    if (match?.[2] === undefined || address === undefined) {
      refuse(502, 'Bad Gateway');
      return;
    }
    const upstream = connect(Number(match[2]), address);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    let established = false;
    upstream.once('connect', () => {
      established = true;
      tunnels.push(target);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!established) refuse(502, 'Bad Gateway');
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate (its own CA) for `names`, which DNS need not know. */
export async function certificateFor(names: readonly string[]): Promise<{ certPem: string; keyPem: string }> {
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000),
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

/**
 * TLS in front of a plain loopback server (the fake Slack Web API, a ws:// server): what Slack's real
 * https:// and wss:// endpoints look like to the bot.
 */
export async function startTlsFront(
  cert: { certPem: string; keyPem: string },
  backendPort: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
    const backend = connect(backendPort, '127.0.0.1');
    for (const s of [socket, backend]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        socket.destroy();
        backend.destroy();
      });
    }
    socket.pipe(backend).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
