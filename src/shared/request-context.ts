import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest } from 'node:http';

/**
 * What an OVH request serves, in the order the request budget serves them: a person's single request (a change,
 * a show, a list of one partition, a form's option load), bulk work a person asked for (a whole service's list,
 * quick-snapshot creations), then background work (task polling nobody waits for, readiness checks).
 */
export type RequestClass = 'interactive' | 'bulk' | 'background';

export const REQUEST_CLASSES: readonly RequestClass[] = ['interactive', 'bulk', 'background'];

/** One request waiting in the budget: where it stands if nothing else arrives. */
export interface QueuedRequest {
  /** Requests of other callers to be sent before this one, and about when this one goes (ms from now). */
  position(): { ahead: number; etaMs: number };
}

/** Hears when requests made in a scope start and stop waiting for the budget (the "waiting" notice). */
export interface WaitWatch {
  queued(request: QueuedRequest): void;
  served(request: QueuedRequest): void;
}

/** Who the OVH requests made in this scope are for, and how urgent they are. */
export interface BudgetScope {
  readonly requestClass: RequestClass;
  /** Whose request (a Slack user id): the budget is fair between people within a class. */
  readonly actor: string | undefined;
  readonly watch?: WaitWatch | undefined;
}

/** The request being served: log lines carry its id; OVH calls its budget scope and freshness. */
export interface RequestContext {
  readonly requestId?: string;
  readonly budget?: BudgetScope;
  /** Reads skip the listing cache (a change's pre-checks, a check after a lost answer): OVH's answer decides. */
  readonly freshReads?: boolean;
  /** Counts the OVH requests sent in this scope (`countOvhRequests`). */
  readonly tally?: RequestTally;
  /** How the Slack request ended when that is not simply "served" (its log line says it): a slot to fill in. */
  readonly outcome?: { outcome?: string; reason?: string };
  /** The one node-ovh call being made in this scope, which sees its HTTP requests (src/ovh/endpoint-agent.ts). */
  readonly ovhCall?: { watch(request: ClientRequest): void; jsonContentType: boolean };
}

interface RequestTally {
  sent: number;
  /** The tally of an enclosing scope, which counts these too. */
  readonly outer: RequestTally | undefined;
}

/**
 * The one AsyncLocalStorage of the bot: on Node 20 every store in use adds its own step to every promise created
 * anywhere in the process (Slack's acks included), so what a scope carries goes in this one.
 */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `work` with `changes` on top of the current context (the rest is inherited). */
export function withContext<T>(changes: RequestContext, work: () => T): T {
  return requestContext.run({ ...requestContext.getStore(), ...changes }, work);
}

/**
 * Runs `work` and counts the OVH API requests sent meanwhile on its behalf (each attempt: retries and clock syncs
 * included, listings served from the cache not), so that what a report says it cost is what it cost.
 */
export async function countOvhRequests<T>(work: () => Promise<T>): Promise<{ value: T; sent: number }> {
  const tally: RequestTally = { sent: 0, outer: requestContext.getStore()?.tally };
  const value = await withContext({ tally }, work);
  return { value, sent: tally.sent };
}

/** The OVH transport, for each request it sends. */
export function noteOvhRequestSent(): void {
  for (let tally = requestContext.getStore()?.tally; tally !== undefined; tally = tally.outer) tally.sent += 1;
}

/** Runs `work` as `requestClass` for `actor`, keeping the scope's wait watch. */
export function withRequestClass<T>(requestClass: RequestClass, actor: string | undefined, work: () => T): T {
  const watch = requestContext.getStore()?.budget?.watch;
  return withContext({ budget: { requestClass, actor, watch } }, work);
}

/** Runs `work` with reads that always ask OVH (the answer is still cached for others). */
export function withFreshReads<T>(work: () => T): T {
  return withContext({ freshReads: true }, work);
}

/** The budget scope of the code running now; none means background work. */
export function currentBudgetScope(): BudgetScope | undefined {
  return requestContext.getStore()?.budget;
}

export function readsMustBeFresh(): boolean {
  return requestContext.getStore()?.freshReads === true;
}

/** Runs `work` with its budget waits reported to `watch` (class and person as they are). */
export function withWaitWatch<T>(watch: WaitWatch, work: () => T): T {
  const budget = currentBudgetScope();
  return withContext(
    { budget: { requestClass: budget?.requestClass ?? 'background', actor: budget?.actor, watch } },
    work,
  );
}

/** The requests of one scope (a command) waiting for the budget, for telling the person why they wait. */
export class BudgetWaits implements WaitWatch {
  private readonly waiting = new Set<QueuedRequest>();

  /** `onQueued`: called each time one of the scope's requests starts waiting. */
  constructor(private readonly onQueued: () => void = () => {}) {}

  queued(request: QueuedRequest): void {
    this.waiting.add(request);
    this.onQueued();
  }

  served(request: QueuedRequest): void {
    this.waiting.delete(request);
  }

  get count(): number {
    return this.waiting.size;
  }

  /**
   * Until the last of the waiting requests goes: how many requests of others go first, and about how long.
   * Undefined when nothing of this scope waits.
   */
  outlook(): { ahead: number; etaMs: number } | undefined {
    let last: { ahead: number; etaMs: number } | undefined;
    for (const request of this.waiting) {
      const position = request.position();
      if (last === undefined || position.etaMs > last.etaMs) last = position;
    }
    return last;
  }
}
