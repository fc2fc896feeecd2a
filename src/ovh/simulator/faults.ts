import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { describeZodError } from './api-error.js';

/**
 * Per-route fault injection: what OVH's front-end can do to a request (slowness, 429/5xx JSON,
 * HTML error pages from a proxy, a request that never answers, a dropped connection), before OVH
 * runs it or after (the answer to a change that was made is lost), and requests held until released.
 */

/**
 * `afterApply`: OVH runs the request first (the change is made, its task exists), then the front-end
 * answers with the fault instead: an answer lost after commit (502, a reset, a stall).
 */
const afterApply = z.boolean().optional();

export const FaultSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('latency'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({
    type: z.literal('status'),
    status: z.number().int().min(100).max(599),
    body: z.unknown().optional(),
    afterApply,
  }),
  z.strictObject({
    type: z.literal('html'),
    status: z.number().int().min(100).max(599),
    body: z.string().optional(),
    afterApply,
  }),
  /** Accept the request and never answer, until the client gives up or the simulator closes. */
  z.strictObject({ type: z.literal('stall'), afterApply }),
  /** Destroy the socket without answering. */
  z.strictObject({ type: z.literal('reset'), afterApply }),
  /**
   * Hold the request until the test releases it (`releaseHeld`, `POST /_sim/held/{id}`): before OVH runs
   * it, or with `afterApply` once it ran and its answer is ready. The test learns it arrived from
   * `waitForHeld` or `GET /_sim/held`, so it can act (kill the bot) at that exact step.
   */
  z.strictObject({ type: z.literal('hold'), afterApply }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const FaultRuleSchema = z.strictObject({
  /** HTTP method (case-insensitive); any method when absent or `*`. */
  method: z.string().optional(),
  /**
   * Path after the `/1.0` base path (a leading `/1.0` is tolerated): a route template such as
   * `/dedicated/nasha/{serviceName}/partition` (`{x}` = one segment) or a glob (`*` = anything).
   */
  path: z.string().regex(/^[/*]/, 'must start with / (or be a glob starting with *)'),
  fault: FaultSchema,
  /** How many matching requests this rule affects; unlimited when absent. */
  times: z.number().int().positive().optional(),
});
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** A fault that replaces the answer (everything but latency). */
export type TerminalFault = Exclude<Fault, { type: 'latency' }>;

/** What releasing a held request does: go on as if it had not been held, or drop the connection. */
export const HeldReleaseSchema = z.strictObject({ action: z.enum(['continue', 'drop']).default('continue') });
export type HeldRelease = z.infer<typeof HeldReleaseSchema>['action'];

export function parseFaultRules(input: unknown, root = 'faults'): FaultRule[] {
  const result = z.array(FaultRuleSchema).safeParse(Array.isArray(input) ? input : [input]);
  if (!result.success) throw new Error(describeZodError(result.error, root));
  return result.data;
}

interface ActiveRule {
  rule: FaultRule;
  pattern: RegExp;
  remaining: number;
}

export class FaultSet {
  private rules: ActiveRule[] = [];

  add(rules: readonly FaultRule[]): void {
    for (const rule of parseFaultRules(rules)) {
      this.rules.push({ rule, pattern: routePattern(rule.path), remaining: rule.times ?? Number.POSITIVE_INFINITY });
    }
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map(({ rule, remaining }) =>
      Number.isFinite(remaining) ? { ...rule, times: remaining } : { ...rule },
    );
  }

  /**
   * Consumes the rules matching one request: the latencies of every matching latency rule add up
   * (they combine with the rest), and the first matching other rule decides the answer.
   */
  take(method: string, apiPath: string): { latencyMs: number; fault: TerminalFault | undefined } {
    let latencyMs = 0;
    let fault: TerminalFault | undefined;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.method !== undefined && rule.method !== '*' && rule.method.toUpperCase() !== method) continue;
      if (!active.pattern.test(apiPath)) continue;
      if (rule.fault.type === 'latency') latencyMs += rule.fault.ms;
      else if (fault === undefined) fault = rule.fault;
      else continue;
      active.remaining -= 1;
    }
    this.rules = this.rules.filter((active) => active.remaining > 0);
    return { latencyMs, fault };
  }
}

/** `/dedicated/nasha/{serviceName}/partition` or `/dedicated/nasha/*` → an anchored RegExp. */
export function routePattern(path: string): RegExp {
  const relative = path === '/1.0' ? '/' : path.startsWith('/1.0/') ? path.slice(4) : path;
  const body = relative
    .split(/(\{[^/}]+\}|\*)/)
    .map((part) => {
      if (part === '*') return '.*';
      if (/^\{[^/}]+\}$/.test(part)) return '[^/]+';
      return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`);
}

const DEFAULT_JSON_BODIES: Readonly<Record<number, { class: string; message: string }>> = {
  429: { class: 'Client::TooManyRequests', message: 'Too many requests' },
  500: { class: 'Server::InternalServerError', message: 'Internal server error' },
  503: { class: 'Server::ServiceUnavailable', message: 'Service unavailable' },
};

const DEFAULT_HTML_BODIES: Readonly<Record<number, string>> = {
  502: '<html><body><h1>502 Bad Gateway</h1></body></html>',
  // The shape haproxy (OVH's front) answers with (kubernetes-sigs/external-dns#1546).
  408: "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>",
};

/** The answer a `status` or `html` fault produces. */
export function faultAnswer(fault: Extract<Fault, { type: 'status' | 'html' }>): {
  status: number;
  contentType: string;
  body: string;
} {
  const reason = STATUS_CODES[fault.status] ?? 'Error';
  if (fault.type === 'html') {
    return {
      status: fault.status,
      contentType: 'text/html',
      body:
        fault.body ??
        DEFAULT_HTML_BODIES[fault.status] ??
        `<html><body><h1>${fault.status} ${reason}</h1></body></html>`,
    };
  }
  const fallback = { class: fault.status >= 500 ? 'Server::Error' : 'Client::Error', message: reason };
  return {
    status: fault.status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(fault.body ?? DEFAULT_JSON_BODIES[fault.status] ?? fallback),
  };
}
