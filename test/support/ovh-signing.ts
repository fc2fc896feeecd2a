import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

/**
 * A minimal OVH v6 client for tests: real HTTPS, signing done here from the documented formula
 * (ovh-api.md §3.1), independent of both node-ovh and the simulator's own implementation.
 */

export interface HttpsTarget {
  host: string;
  port: number;
  caCertPem: string;
}

export interface OvhTarget extends HttpsTarget {
  credentials: { appKey: string; appSecret: string; consumerKey: string };
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

/** `"$1$" + sha1hex(AS+"+"+CK+"+"+METHOD+"+"+URL+"+"+BODY+"+"+TS)` */
export function signOvhRequest(parts: {
  appSecret: string;
  consumerKey: string;
  method: string;
  url: string;
  body: string;
  timestamp: number | string;
}): string {
  const payload = `${parts.appSecret}+${parts.consumerKey}+${parts.method}+${parts.url}+${parts.body}+${parts.timestamp}`;
  return `$1$${createHash('sha1').update(payload).digest('hex')}`;
}

export interface OvhCallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | undefined;
  /** Path after the base path, query string included, e.g. `/dedicated/nasha/x/task?status=todo`. */
  path: string;
  /** JSON-serialised unless already a string (sent verbatim). */
  body?: unknown;
  /** null omits the header. */
  appKey?: string | null | undefined;
  appSecret?: string | undefined;
  /** null omits X-Ovh-Consumer (and the signature). */
  consumerKey?: string | null | undefined;
  /** false sends only X-Ovh-Application (+ timestamp), like node-ovh for `/auth` paths. */
  sign?: boolean | undefined;
  /** Unix seconds; default the local wall clock, like node-ovh with a zero time delta. */
  timestamp?: number | undefined;
  /** Host inside the signed URL; default the target host (node-ovh never includes the port). */
  signatureHost?: string | undefined;
  /** Overrides the computed signature. */
  signature?: string | undefined;
  basePath?: string | undefined;
  timeoutMs?: number | undefined;
}

/** A signed OVH call over HTTPS. */
export function ovhCall(target: OvhTarget, options: OvhCallOptions): Promise<HttpResult> {
  const method = options.method ?? 'GET';
  const url = `${options.basePath ?? '/1.0'}${options.path}`;
  const body =
    options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const appKey = options.appKey === undefined ? target.credentials.appKey : options.appKey;
  if (appKey !== null) headers['X-Ovh-Application'] = appKey;
  const timestamp = options.timestamp ?? Math.round(Date.now() / 1000);
  headers['X-Ovh-Timestamp'] = String(timestamp);
  const consumerKey = options.consumerKey === undefined ? target.credentials.consumerKey : options.consumerKey;
  if (options.sign !== false && consumerKey !== null) {
    headers['X-Ovh-Consumer'] = consumerKey;
    headers['X-Ovh-Signature'] =
      options.signature ??
      signOvhRequest({
        appSecret: options.appSecret ?? target.credentials.appSecret,
        consumerKey,
        method,
        url: `https://${options.signatureHost ?? target.host}${url}`,
        body,
        timestamp,
      });
  }
  return httpsCall(target, { method, path: url, body, headers, timeoutMs: options.timeoutMs });
}

export interface RawCallOptions {
  method?: string | undefined;
  /** Full path, query included (`/1.0/auth/time`, `/_sim/faults`). */
  path: string;
  body?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** Abort (destroying the socket) after this long; rejects with code `TEST_TIMEOUT`. */
  timeoutMs?: number | undefined;
}

/** One HTTPS request trusting the simulator's certificate, on a fresh connection. */
export function httpsCall(target: HttpsTarget, options: RawCallOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? '';
    const headers: Record<string, string | number> = { ...options.headers };
    if (body !== '') headers['Content-Length'] = Buffer.byteLength(body);
    const req = request(
      {
        host: target.host,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        ca: target.caCertPem,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
        });
      },
    );
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => {
        req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'TEST_TIMEOUT' }));
      });
    }
    req.on('error', reject);
    req.end(body);
  });
}

/** Unauthenticated call to the simulator's `/_sim/` control endpoint. */
export function controlCall(target: HttpsTarget, method: string, path: string, body?: unknown): Promise<HttpResult> {
  return httpsCall(target, {
    method,
    path: `/_sim${path}`,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
