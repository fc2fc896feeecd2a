import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../shared/clock.js';
import type { BotMetrics } from './metrics.js';

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface ReadinessChecks {
  /** The database answers a trivial query. */
  database(): Promise<void>;
  /** OVH answers an authenticated call with our credentials. */
  ovh(): Promise<void>;
  /** Slack: the app is initialized (HTTP) or the Socket Mode connection is up and alive. */
  slack(): CheckResult;
}

/**
 * /readyz: what an on-call engineer needs to know before sending traffic. The OVH check is cached
 * (it costs a request from the shared budget): a probe every few seconds must not exhaust it, and
 * probes that arrive together share the one check in flight.
 */
export class Readiness {
  private ovhCache: { at: number; result: CheckResult } | undefined;
  private ovhInFlight: Promise<CheckResult> | undefined;

  constructor(
    private readonly checks: ReadinessChecks,
    private readonly clock: Clock,
    private readonly ovhCacheMs = 30_000,
  ) {}

  async check(): Promise<{ ready: boolean; checks: Record<'database' | 'ovh' | 'slack', CheckResult> }> {
    const [database, ovh] = await Promise.all([attempt(() => this.checks.database()), this.ovh()]);
    const slack = this.checks.slack();
    return { ready: database.ok && ovh.ok && slack.ok, checks: { database, ovh, slack } };
  }

  private ovh(): Promise<CheckResult> {
    const now = this.clock.now();
    if (this.ovhCache !== undefined && now - this.ovhCache.at < this.ovhCacheMs) {
      return Promise.resolve(this.ovhCache.result);
    }
    this.ovhInFlight ??= attempt(() => this.checks.ovh()).then((result) => {
      this.ovhCache = { at: now, result };
      this.ovhInFlight = undefined;
      return result;
    });
    return this.ovhInFlight;
  }
}

async function attempt(check: () => Promise<void>): Promise<CheckResult> {
  try {
    await check();
    return { ok: true, detail: 'ok' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** /healthz (alive), /readyz (ready for traffic) and /metrics (Prometheus), as Bolt custom routes. */
export function opsRoutes(
  readiness: Readiness,
  metrics: BotMetrics,
): Array<{ path: string; method: string[]; handler: Handler }> {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => json(res, 200, { ok: true }) },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        readiness.check().then(
          (state) => json(res, state.ready ? 200 : 503, state),
          () => json(res, 503, { ready: false }),
        );
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        metrics.text().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      },
    },
  ];
}
