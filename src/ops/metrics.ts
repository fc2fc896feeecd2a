import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheLookup } from '../ovh/cache.js';
import type { OvhAttemptEvent } from '../ovh/transport.js';
import type { RequestClass } from '../shared/request-context.js';

/** Values read when Prometheus scrapes, from the components that own them. */
export interface MetricSources {
  approvalsPending(): Promise<number>;
  auditOutboxDepth(): Promise<number>;
  auditOutboxOldestMs(): Promise<number>;
  notificationOutboxDepth(): Promise<number>;
  notificationOutboxOldestMs(): Promise<number>;
  notificationDeadLetters(): Promise<number>;
  ovhBudgetTokens(): number;
}

const OUTBOX_HELP = {
  audit: {
    depth: 'Audit records not yet delivered to Slack',
    oldest: 'Age of the oldest undelivered audit change',
  },
  notification: {
    depth: 'Notifications (approval cards, DMs, quick-run summaries) not yet delivered to Slack',
    oldest: 'Age of the oldest undelivered notification change',
  },
} as const;

/**
 * The bot's Prometheus metrics (prom-client, its own registry: nothing global). Counters are fed by
 * hooks (OVH attempts, Slack requests); gauges are read at scrape time from their sources.
 */
export class BotMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'kind' | 'name' | 'result'>;
  private readonly ovhRequests: Counter<'method' | 'route' | 'status'>;
  private readonly ovhLatency: Histogram<'method' | 'route'>;
  private readonly budgetWait: Histogram<'class'>;
  private readonly cacheLookups: Counter<'kind' | 'result'>;
  private sources: MetricSources | undefined;

  constructor() {
    this.requests = new Counter({
      name: 'nasha_slack_requests_total',
      help: 'Slack requests handled, by kind (command, block_actions, view_submission, …), name and result',
      labelNames: ['kind', 'name', 'result'],
      registers: [this.registry],
    });
    this.ovhRequests = new Counter({
      name: 'nasha_ovh_requests_total',
      help: 'HTTP attempts to the OVH API, by method, route template and status (or error kind)',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.ovhLatency = new Histogram({
      name: 'nasha_ovh_request_duration_seconds',
      help: 'Duration of HTTP attempts to the OVH API',
      labelNames: ['method', 'route'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.budgetWait = new Histogram({
      name: 'nasha_ovh_budget_wait_seconds',
      help: 'Time OVH requests waited for a token of the request budget, by class (interactive, bulk, background)',
      labelNames: ['class'],
      buckets: [0.001, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    this.cacheLookups = new Counter({
      name: 'nasha_ovh_cache_lookups_total',
      help: 'Reads of OVH listings and snapshot details, by kind and result (hit: served from memory; miss: asked OVH)',
      labelNames: ['kind', 'result'],
      registers: [this.registry],
    });
    const bound = (): MetricSources | undefined => this.sources;
    const gauge = (name: string, help: string, read: (s: MetricSources) => Promise<number> | number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect(this: Gauge) {
          const sources = bound();
          if (sources !== undefined) this.set(await read(sources));
        },
      });
    [
      gauge('nasha_approvals_pending', 'Approval requests waiting for a decision', (s) => s.approvalsPending()),
      // Each outbox: how much is owed, and for how long.
      ...(['audit', 'notification'] as const).flatMap((outbox) => [
        gauge(`nasha_${outbox}_outbox_depth`, OUTBOX_HELP[outbox].depth, (s) => s[`${outbox}OutboxDepth`]()),
        gauge(
          `nasha_${outbox}_outbox_oldest_seconds`,
          OUTBOX_HELP[outbox].oldest,
          async (s) => (await s[`${outbox}OutboxOldestMs`]()) / 1000,
        ),
      ]),
      gauge(
        'nasha_notification_dead_letters',
        'Notifications given up after retrying for 24 h (kept in the notifications table)',
        (s) => s.notificationDeadLetters(),
      ),
      gauge('nasha_ovh_budget_tokens', 'OVH request budget tokens left', (s) => s.ovhBudgetTokens()),
    ];
  }

  /** Connects the scrape-time gauges to their sources (after the components exist). */
  bind(sources: MetricSources): void {
    this.sources = sources;
  }

  ovhAttempt(event: OvhAttemptEvent): void {
    this.ovhRequests.inc({ method: event.method, route: event.route, status: String(event.outcome) });
    this.ovhLatency.observe({ method: event.method, route: event.route }, event.durationMs / 1000);
  }

  ovhBudgetWait(requestClass: RequestClass, waitedMs: number): void {
    this.budgetWait.observe({ class: requestClass }, waitedMs / 1000);
  }

  ovhCacheLookup(kind: CacheLookup, hit: boolean): void {
    this.cacheLookups.inc({ kind, result: hit ? 'hit' : 'miss' });
  }

  slackRequest(kind: string, name: string, result: 'ok' | 'error'): void {
    this.requests.inc({ kind, name, result });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
