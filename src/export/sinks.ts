/**
 * Where the SIEM copy of the audit trail goes (`audit.export`): JSON Lines appended to a file or written to
 * stdout (for a log shipper), or POSTed to an HTTPS webhook signed with HMAC-SHA256. Each sink delivers one
 * document (src/core/audit-export.ts) per call and never retries by itself: the audit outbox retries, with
 * back-off, from the durable cursor (src/store/audit-export-store.ts), so an outage loses nothing.
 */
import { createHmac } from 'node:crypto';
import { open } from 'node:fs/promises';
import { request } from 'node:https';
import { AuditDeliveryError, type AuditPublisher, type AuditRecord } from '../core/audit.js';
import { type AuditExportDocument, auditExportDocument, exportIdempotencyKey } from '../core/audit-export.js';
import { parseRetryAfter } from '../shared/backoff.js';

/** How much of a JSON Lines file's end is searched for a line whose delivery went unrecorded. */
const HOLDS_WINDOW_BYTES = 1024 * 1024;

export interface ExportSink {
  readonly name: string;
  /** Delivers one version; throws AuditDeliveryError. */
  deliver(document: AuditExportDocument, line: string): Promise<void>;
  /** Whether this version is already there (a delivery whose outcome was lost); undefined: cannot tell. */
  holds?(key: string): Promise<boolean>;
  readonly maxAttemptMs: number;
}

/** Errors a retry cannot fix soon: the outbox keeps the row and retries rarely (and logs it as an error). */
const PERMANENT_FILE_ERRORS = new Set(['EACCES', 'EPERM', 'EISDIR', 'ENOENT', 'ENOTDIR', 'EROFS']);

/** Appends one line per version to a file, flushed to disk before it counts as delivered. */
export class JsonlFileSink implements ExportSink {
  readonly maxAttemptMs = 10_000;
  constructor(
    readonly name: string,
    private readonly path: string,
  ) {}

  async deliver(_document: AuditExportDocument, line: string): Promise<void> {
    try {
      const file = await open(this.path, 'a', 0o640);
      try {
        await file.write(line);
        await file.datasync();
      } finally {
        await file.close();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AuditDeliveryError(`audit export ${this.name}: cannot append to ${this.path} (${code})`, {
        permanent: PERMANENT_FILE_ERRORS.has(code),
        cause: error,
      });
    }
  }

  /** Looks for the key among the file's last lines (a line written just before a crash, not yet recorded). */
  async holds(key: string): Promise<boolean> {
    let tail: string;
    try {
      // Only the end can hold it: the file only grows, so reading all of it would cost more each time.
      const file = await open(this.path, 'r');
      try {
        const { size } = await file.stat();
        const length = Math.min(size, HOLDS_WINDOW_BYTES);
        const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, size - length);
        tail = buffer.toString('utf8', 0, bytesRead);
      } finally {
        await file.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new AuditDeliveryError(`audit export ${this.name}: cannot read ${this.path}`, { cause: error });
    }
    return tail.includes(`"idempotency_key":${JSON.stringify(key)}`);
  }
}

/** Writes one line per version to a stream (stdout, collected by the platform's log shipper). */
export class JsonlStreamSink implements ExportSink {
  readonly maxAttemptMs = 10_000;
  constructor(
    readonly name: string,
    private readonly stream: NodeJS.WritableStream,
  ) {}

  deliver(_document: AuditExportDocument, line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(line, (error) => {
        if (error) reject(new AuditDeliveryError(`audit export ${this.name}: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }
}

export const SIGNATURE_HEADER = 'X-Nasha-Signature';
export const TIMESTAMP_HEADER = 'X-Nasha-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * The webhook signature: `v1=` + hex HMAC-SHA256 of `<timestamp>.<body>` with the shared secret. The timestamp
 * (Unix seconds, also sent in X-Nasha-Timestamp) lets a receiver refuse old replays.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** Statuses worth retrying; any other 4xx is a refusal a retry will not change (wrong secret, bad URL). */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** POSTs each version as JSON, signed, with its idempotency key, within `timeoutMs`. */
export class WebhookSink implements ExportSink {
  readonly maxAttemptMs: number;
  constructor(
    readonly name: string,
    private readonly options: {
      url: URL;
      secret: string;
      timeoutMs: number;
      /** Extra CA (PEM) trusted for this receiver. */
      ca?: string | undefined;
      /** Unix seconds for the signature's timestamp. */
      now: () => number;
    },
  ) {
    this.maxAttemptMs = options.timeoutMs;
  }

  deliver(document: AuditExportDocument, line: string): Promise<void> {
    // The document as one JSON text: the JSON Lines line without its newline (serialised once, by the caller).
    const body = line.trimEnd();
    const timestamp = String(Math.floor(this.options.now() / 1000));
    const { url, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const fail = (message: string, extra: ConstructorParameters<typeof AuditDeliveryError>[1] = {}) =>
        reject(new AuditDeliveryError(`audit export ${this.name}: ${message}`, extra));
      const req = request(url, {
        method: 'POST',
        // A connection of its own each time: a receiver that stalls holds nothing afterwards.
        agent: false,
        ...(this.options.ca !== undefined && { ca: this.options.ca }),
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'nasha-bot audit export',
          [IDEMPOTENCY_HEADER]: document.idempotency_key,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(this.options.secret, timestamp, body),
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        // It may have arrived: the retry carries the same idempotency key.
        fail(`no answer from ${url.host} within ${timeoutMs} ms`);
      }, timeoutMs);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
          fail(`${url.host} answered HTTP ${status}`, {
            permanent: !RETRYABLE.has(status),
            refused: true,
            retryAfterMs,
          });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(`${url.host}: ${error.code ?? error.message}`, { cause: error });
      });
      req.end(body);
    });
  }
}

/**
 * The outbox's publisher for exports: its "channel" is the sink's name. A first delivery and a later one are
 * the same act (one document per version), so `update` delivers too; `find` asks the sink whether a version is
 * already there when an earlier attempt's outcome was lost.
 */
export function createExportPublisher(sinks: readonly ExportSink[]): AuditPublisher {
  const byName = new Map(sinks.map((sink) => [sink.name, sink]));
  const sinkFor = (name: string): ExportSink => {
    const sink = byName.get(name);
    if (sink === undefined) throw new AuditDeliveryError(`no audit export sink named ${name}`, { permanent: true });
    return sink;
  };
  const deliver = async (name: string, record: AuditRecord) => {
    const document = auditExportDocument(record);
    await sinkFor(name).deliver(document, `${JSON.stringify(document)}\n`);
  };
  return {
    async post(channel, record) {
      await deliver(channel, record);
      return { ts: exportIdempotencyKey(record) };
    },
    update: (channel, _ts, record) => deliver(channel, record),
    async find(channel, record) {
      const sink = sinkFor(channel);
      if (sink.holds === undefined) return undefined;
      const key = exportIdempotencyKey(record);
      return (await sink.holds(key)) ? { ts: key, version: record.version } : undefined;
    },
    maxAttemptMs: Math.max(10_000, ...sinks.map((sink) => sink.maxAttemptMs)),
  };
}
