import type { Logger } from 'pino';
import { type Clock, systemClock } from '../shared/clock.js';
import type { RequestClass } from '../shared/request-context.js';
import { type CacheLookup, NashaReadCache } from './cache.js';
import { NashaClient } from './client.js';
import type { OvhConfig } from './config.js';
import type { OAuth2TokenSource } from './oauth2.js';
import { TaskTracker, type TaskTrackerOptions } from './task-tracker.js';
import { type OvhAttemptEvent, OvhTransport } from './transport.js';

export { type CacheLookup, NashaReadCache } from './cache.js';
export { NASHA_ROUTES, NashaClient, type TaskFilter } from './client.js';
export { ConfigError, type OvhConfig, parseOvhConfig } from './config.js';
export { OvhApiError, type OvhErrorKind } from './errors.js';
export * from './models.js';
export { type TaskResult, TaskTracker } from './task-tracker.js';
export { type OvhAttemptEvent, OvhTransport } from './transport.js';

export interface NashaApi {
  client: NashaClient;
  tracker: TaskTracker;
  transport: OvhTransport;
  /** What the client remembers of OVH's answers (read-only use: snapshots known to expire soon). */
  cache: Pick<NashaReadCache, 'knownExpiring'>;
}

/** How long listings are kept when the tuning does not say (OVH_CACHE_SECONDS). */
export const DEFAULT_LISTING_CACHE_MS = 5_000;

/** Wires transport → cache and client → task tracker for one OVH consumer key. */
export function createNashaApi(options: {
  config: OvhConfig;
  clock?: Clock;
  logger?: Logger;
  onAttempt?: (event: OvhAttemptEvent) => void;
  onBudgetWait?: (requestClass: RequestClass, waitedMs: number) => void;
  onCacheLookup?: (kind: CacheLookup, hit: boolean) => void;
  tracker?: Omit<TaskTrackerOptions, 'client' | 'clock' | 'logger'>;
  /** Service accounts: the token source shared with the startup check (one token fetched, not two). */
  tokens?: OAuth2TokenSource | undefined;
}): NashaApi {
  const clock = options.clock ?? systemClock;
  const transport = new OvhTransport({
    connection: options.config.connection,
    tuning: options.config.tuning,
    clock,
    ...(options.logger && { logger: options.logger }),
    ...(options.onAttempt && { onAttempt: options.onAttempt }),
    ...(options.onBudgetWait && { onBudgetWait: options.onBudgetWait }),
    ...(options.tokens && { tokens: options.tokens }),
  });
  const cache = new NashaReadCache({
    clock,
    listingTtlMs: options.config.tuning.listingCacheMs ?? DEFAULT_LISTING_CACHE_MS,
    ...(options.onCacheLookup && { onLookup: options.onCacheLookup }),
  });
  const client = new NashaClient(transport, cache);
  const tracker = new TaskTracker({
    client,
    clock,
    budget: transport.requestBudget,
    ...(options.logger && { logger: options.logger }),
    ...options.tracker,
  });
  return { client, tracker, transport, cache };
}
