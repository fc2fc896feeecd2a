import { randomUUID } from 'node:crypto';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from 'pino';
import { type RequestContext, requestContext } from '../shared/request-context.js';
import type { SlackMessage } from './blocks/limits.js';

/** The message of every request's log line, wherever it is written (here, or by the request guard). */
export const REQUEST_LOG_MESSAGE = 'slack request';

/** How a request ended when that is not simply "served": set by whoever answered it, reported on its one line. */
type RequestOutcome = NonNullable<RequestContext['outcome']>;

/**
 * Marks the request being served as answered without being run (a stale or invalid button, an unclaimed
 * payload): its log line says so, at warn level, instead of a second line about it.
 */
export function noteRequestOutcome(outcome: string, reason: string): void {
  const slot = requestContext.getStore()?.outcome;
  if (slot !== undefined) Object.assign(slot, { outcome, reason });
}

/**
 * Thrown by a listener's `ack()` once the request is answered, to stop the listener before it runs anything:
 * the delivery turned out to be a copy, or could not be checked (src/slack/request-guard.ts). The request log
 * ends the request with it, on its one line: not a failure of the listener.
 */
export class RequestNotRunError extends Error {
  override readonly name = 'RequestNotRunError';
  constructor(
    /** On the request's log line: `duplicate` or `not run`. */
    readonly outcome: 'duplicate' | 'not run',
    readonly reason: string,
    /** The metric's name for it and whether it counts as an error. */
    readonly metric: { name: string; result: 'ok' | 'error' },
    /** What the sender is told through the response_url, replacing the ack (none: the ack stands). */
    readonly notice?: SlackMessage,
    options?: ErrorOptions,
  ) {
    super(`${outcome}: ${reason}`, options);
  }
}

/**
 * One log line per Slack request, with a correlation id that every log line written while serving
 * it carries too (OVH calls included, through the logger's AsyncLocalStorage mixin). The same context tells
 * the OVH request budget whom the work is for: a person's request, unless core says it is bulk work.
 */
export function createRequestLogMiddleware(
  logger: Logger,
  onRequest?: (delta: 1 | -1) => void,
  onResult?: (kind: string, name: string, result: 'ok' | 'error') => void,
): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { body, next } = args;
    onRequest?.(1);
    const requestId = randomUUID().slice(0, 12);
    const started = performance.now();
    const slot: RequestOutcome = {};
    const summary = describeRequest(body);
    const actor = typeof summary['userId'] === 'string' ? summary['userId'] : undefined;
    await requestContext.run({ requestId, budget: { requestClass: 'interactive', actor }, outcome: slot }, async () => {
      try {
        await next();
        const line = { ...summary, ...slot, durationMs: Math.round(performance.now() - started) };
        if (slot.outcome === undefined) logger.info(line, REQUEST_LOG_MESSAGE);
        else logger.warn(line, REQUEST_LOG_MESSAGE);
        onResult?.(String(summary['kind'] ?? 'unknown'), metricName(summary), 'ok');
      } catch (error) {
        const durationMs = Math.round(performance.now() - started);
        if (error instanceof RequestNotRunError) {
          const line = { ...summary, outcome: error.outcome, reason: error.reason, durationMs };
          if (error.metric.result === 'error') logger.error({ ...line, err: error.cause }, REQUEST_LOG_MESSAGE);
          else logger.warn(line, REQUEST_LOG_MESSAGE);
          onResult?.(String(summary['kind'] ?? 'unknown'), error.metric.name, error.metric.result);
          if (error.notice !== undefined && 'respond' in args && args.respond !== undefined) {
            await args
              .respond({ replace_original: true, response_type: 'ephemeral', ...error.notice })
              .catch((failure: unknown) => logger.warn({ err: failure }, 'could not tell a request was not run'));
          }
          return;
        }
        logger.error({ ...summary, err: error, durationMs }, 'slack request failed');
        onResult?.(String(summary['kind'] ?? 'unknown'), metricName(summary), 'error');
        throw error;
      } finally {
        onRequest?.(-1);
      }
    });
  };
}

/** A low-cardinality name for metrics: the subcommand, callback or action id — never user input. */
function metricName(summary: Record<string, unknown>): string {
  const command = typeof summary['command'] === 'string' ? summary['command'].split(' ') : [];
  const sub = command[0] === 'snapshot' ? command[1] : command[0];
  const known = /^(help|services|partitions|list|schedule|create|show|delete|quick|can-i)$/;
  if (summary['kind'] === 'command')
    return sub !== undefined && known.test(sub) ? sub : sub === undefined ? 'modal' : 'other';
  const id = summary['callbackId'] ?? summary['actionId'];
  return typeof id === 'string' && /^nasha_[a-z_]+$|^(service|partition)$/.test(id) ? id : 'other';
}

/** What a request's log line says about it: who, where, what — bounded, whatever the body holds. */
export function describeRequest(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const user = (b['user'] as { id?: unknown } | undefined)?.id ?? b['user_id'];
  const view = b['view'] as { callback_id?: unknown } | undefined;
  const actions = b['actions'] as Array<{ action_id?: unknown }> | undefined;
  return {
    kind: b['command'] !== undefined ? 'command' : short(b['type']),
    userId: short(user),
    channelId: short(
      typeof b['channel_id'] === 'string' ? b['channel_id'] : (b['channel'] as { id?: unknown } | undefined)?.id,
    ),
    // The command's first words only: arguments may be long, but say what was asked.
    command: typeof b['text'] === 'string' ? b['text'].split(/\s+/).slice(0, 3).join(' ').slice(0, 60) : undefined,
    callbackId: short(view?.callback_id),
    actionId: short(Array.isArray(actions) ? actions[0]?.action_id : b['action_id']),
  };
}

/** A string field as logged: at most 100 characters; anything else is left out. */
function short(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 100) : undefined;
}
