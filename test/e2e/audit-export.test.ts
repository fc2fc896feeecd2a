import { timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { webhookSignature } from '../../src/export/sinks.js';
import { generateLoopbackCertificate } from '../../src/ovh/simulator/index.js';
import { SQLITE_FILE_NAME } from '../../src/store/database.js';
import { runAuditVerify } from '../../src/tools/audit-verify.js';
import { AUDIT_CHANNEL, type BotHarness, startBotHarness, USERS } from '../support/bot-harness.js';

/**
 * The SIEM export end to end: the real bot writes audit records, the audit outbox exports every version to a
 * JSON Lines file and to a real HTTPS webhook on loopback that first fails (500), then stalls past the bot's
 * deadline, then recovers. Nothing is lost, each version is accepted once (the receiver keeps one per
 * idempotency key, as a SIEM would), every delivery is signed, and both copies verify against the database.
 */
const SECRET = 'audit-webhook-secret-0123456789';

interface Delivery {
  key: string;
  body: string;
  signature: string;
  timestamp: string;
  answered: number | 'stalled';
}

/** An HTTPS receiver that answers as told: `fail` (500), `stall` (no answer) or `ok` (200, one per key). */
class Receiver {
  mode: 'fail' | 'stall' | 'ok' = 'ok';
  readonly deliveries: Delivery[] = [];
  readonly accepted = new Map<string, string>();
  private server: Server | undefined;
  private readonly stalled: ServerResponse[] = [];
  port = 0;
  caPem = '';

  async start(): Promise<void> {
    const cert = await generateLoopbackCertificate();
    this.caPem = cert.certPem;
    this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const delivery: Delivery = {
        key: String(req.headers['idempotency-key']),
        body,
        signature: String(req.headers['x-nasha-signature']),
        timestamp: String(req.headers['x-nasha-timestamp']),
        answered: 'stalled',
      };
      this.deliveries.push(delivery);
      if (this.mode === 'stall') {
        this.stalled.push(res);
        return;
      }
      delivery.answered = this.mode === 'fail' ? 500 : 200;
      if (this.mode === 'ok' && !this.accepted.has(delivery.key)) this.accepted.set(delivery.key, body);
      res.writeHead(delivery.answered, { 'Content-Type': 'application/json' }).end('{}');
    });
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let h: BotHarness | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));

describe('audit export to a SIEM', () => {
  it('delivers every version once to a failing, stalling, then recovering webhook and to a file; both verify', async () => {
    receiver = new Receiver();
    await receiver.start();
    receiver.mode = 'fail';
    const dir = mkdtempSync(join(tmpdir(), 'nasha-export-'));
    const caFile = join(dir, 'siem-ca.pem');
    writeFileSync(caFile, receiver.caPem);
    const file = join(dir, 'audit.jsonl');
    h = await startBotHarness({
      env: { auditWebhookSecret: SECRET },
      config: `
version: 1
audit:
  channel: ${AUDIT_CHANNEL}
  export:
    - { name: siem-file, type: jsonl, path: ${JSON.stringify(file)} }
    - { name: siem, type: webhook, url: "https://127.0.0.1:${receiver.port}/nasha", timeout_ms: 300, ca_file: ${JSON.stringify(caFile)} }
approvals:
  channel: C0APPROVALS
grants:
  - role: admin
    users: [${USERS.admin}]
    scope: ["*"]
`,
    });
    const harness = h;
    // Two changes, each a record in several versions (started, then succeeded with its OVH task).
    for (const name of ['siem-one', 'siem-two']) {
      const create = await harness.command(`snapshot create zpool-128310/logs ${name}`);
      await harness.replies(create.id, final);
    }
    const history = () => readHistory(harness);
    await receiver.waitFor(() => receiver?.deliveries.some((d) => d.answered === 500) === true, 'a refused delivery');
    // The file sink does not wait for the webhook.
    await receiver.waitFor(() => lines(file).length === history().length, 'every version in the file');

    receiver.mode = 'stall';
    const stalledBefore = receiver.deliveries.length;
    await receiver.waitFor(
      () => (receiver?.deliveries.length ?? 0) > stalledBefore + 1,
      'retries after a delivery timed out',
    );
    receiver.mode = 'ok';
    await receiver.waitFor(() => receiver?.accepted.size === history().length, 'every version accepted');
    // The outbox marks the last one delivered once its 200 is back, just after the receiver counted it.
    await vi.waitFor(async () => expect(await harness.bot.exportOutbox?.depth()).toBe(0), { timeout: 5_000 });

    // Once per version: every history row, each accepted once, in chain order, and never a change in content.
    const expectedKeys = history().map((row) => `${row.audit_id}:${row.version}`);
    expect([...receiver.accepted.keys()]).toEqual(expectedKeys);
    for (const delivery of receiver.deliveries) {
      expect(delivery.body).toBe(receiver.accepted.get(delivery.key));
      const expected = Buffer.from(webhookSignature(SECRET, delivery.timestamp, delivery.body));
      expect(timingSafeEqual(Buffer.from(delivery.signature), expected)).toBe(true);
    }
    expect(receiver.deliveries.filter((d) => d.answered === 500).length).toBeGreaterThan(0);
    expect(receiver.deliveries.filter((d) => d.answered === 'stalled').length).toBeGreaterThan(0);
    expect(lines(file).map((line) => JSON.parse(line).idempotency_key)).toEqual(expectedKeys);

    // Each copy carries the chain fields: audit:verify checks it against the database.
    const siemCopy = join(dir, 'siem.jsonl');
    writeFileSync(siemCopy, [...receiver.accepted.values()].map((body) => `${body}\n`).join(''));
    const verify = async (copy: string) => {
      const out: string[] = [];
      const code = await runAuditVerify(
        ['--export', copy],
        { NASHA_DATA_DIR: harness.dataDir },
        {
          out: (text) => out.push(text),
          err: (text) => out.push(text),
        },
      );
      return { code, text: out.join('') };
    };
    for (const copy of [file, siemCopy]) {
      const result = await verify(copy);
      expect(result.text).toContain(`Export OK: ${expectedKeys.length} record version(s)`);
      expect(result.code).toBe(0);
    }
    // A SIEM copy edited afterwards no longer verifies.
    writeFileSync(siemCopy, readFileSync(siemCopy, 'utf8').replace('"outcome":"succeeded"', '"outcome":"failed"'));
    const edited = await verify(siemCopy);
    expect(edited.code).toBe(1);
    expect(edited.text).toMatch(/was edited: its fields do not match its hash/);
  }, 60_000);
});

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The audit history rows (one per version), in chain order, as the bot's database holds them. */
function readHistory(harness: BotHarness): Array<{ audit_id: string; version: number }> {
  const db = new SQLite(join(harness.dataDir, SQLITE_FILE_NAME), { readonly: true });
  try {
    return db.prepare('select audit_id, version from audit_history order by seq').all() as Array<{
      audit_id: string;
      version: number;
    }>;
  } finally {
    db.close();
  }
}
