import type { Clock } from '../shared/clock.js';
import {
  type BudgetScope,
  type QueuedRequest,
  REQUEST_CLASSES,
  type RequestClass,
  type WaitWatch,
} from '../shared/request-context.js';

export interface RequestBudgetOptions {
  /** Sustained rate (OVH's fair use is about 60 requests/min per consumer key). */
  requestsPerMinute: number;
  /** Requests that may go out at once after a quiet period. */
  burst: number;
  clock: Clock;
  /**
   * Tokens bulk and background work leave in the bucket, so a person's single request (a token or two) goes at
   * once instead of waiting for a refill behind them. Default: 2, at most burst − 1.
   */
  reserve?: number;
  /**
   * The least share of the budget a waiting lower class gets while higher classes keep it busy: one grant in
   * every `n` (bulk: 4, background: 10), so no class starves.
   */
  shareEvery?: Partial<Record<Exclude<RequestClass, 'interactive'>, number>>;
  /** Every grant, with how long it waited (metrics). */
  onGrant?: (requestClass: RequestClass, waitedMs: number) => void;
}

/** A waiting request. */
interface Ticket extends QueuedRequest {
  readonly requestClass: RequestClass;
  /** Round-robin key within the class. */
  readonly actor: string;
  readonly watch: WaitWatch | undefined;
  readonly queuedAt: number;
  /** Set once it got its token (a request served at once never reports that it waited). */
  granted: boolean;
  readonly grant: () => void;
}

const EPSILON = 1e-9;
const CLASS_INDEX: Readonly<Record<RequestClass, number>> = { interactive: 0, bulk: 1, background: 2 };

/**
 * Waiting requests of one class, one queue per actor, served round-robin: one person's 60 requests cannot hold
 * another person's one. A Map keeps insertion order, so the actor served moves to the back.
 */
class FairQueue {
  private readonly byActor = new Map<string, Ticket[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(ticket: Ticket): void {
    const queue = this.byActor.get(ticket.actor);
    if (queue === undefined) this.byActor.set(ticket.actor, [ticket]);
    else queue.push(ticket);
    this.count++;
  }

  shift(): Ticket | undefined {
    const first = this.byActor.entries().next();
    if (first.done === true) return undefined;
    const [actor, queue] = first.value;
    const ticket = queue.shift();
    this.byActor.delete(actor);
    if (queue.length > 0) this.byActor.set(actor, queue);
    this.count--;
    return ticket;
  }

  clone(): FairQueue {
    const copy = new FairQueue();
    for (const [actor, queue] of this.byActor) copy.byActor.set(actor, [...queue]);
    copy.count = this.count;
    return copy;
  }
}

/** What decides the next grant: the bucket, the queues, and how often each lower class was passed over. */
interface SchedulerState {
  tokens: number;
  queues: FairQueue[];
  /** Grants to higher classes in a row while this class waited (index = class). */
  passedOver: number[];
}

/**
 * The token bucket shared by every OVH call of one consumer key in this process (each replica has its own).
 * Requests are served by class: a person's single requests first, then bulk work, then background work;
 * within a class round-robin between people. Bulk and background take a token only while `reserve` more stay
 * in the bucket, and a class passed over `shareEvery − 1` times in a row gets the next token whatever waits.
 */
export class RequestBudget {
  private state: SchedulerState;
  private lastRefill: number;
  private wakeAt: number | undefined;
  private readonly msPerToken: number;
  private readonly capacity: number;
  private readonly reserve: number;
  private readonly shareEvery: readonly number[];
  private readonly clock: Clock;
  private readonly onGrant: ((requestClass: RequestClass, waitedMs: number) => void) | undefined;

  constructor(options: RequestBudgetOptions) {
    if (!(options.requestsPerMinute > 0) || !(options.burst >= 1)) {
      throw new RangeError('requestsPerMinute must be > 0 and burst >= 1');
    }
    const reserve = options.reserve ?? 2;
    if (!(reserve >= 0)) throw new RangeError('reserve must be >= 0');
    this.msPerToken = 60_000 / options.requestsPerMinute;
    this.capacity = options.burst;
    this.reserve = Math.min(Math.floor(reserve), Math.floor(options.burst) - 1);
    const bulkEvery = options.shareEvery?.bulk ?? 4;
    const backgroundEvery = options.shareEvery?.background ?? 10;
    if (!(bulkEvery >= 1) || !(backgroundEvery >= 1)) throw new RangeError('shareEvery must be >= 1');
    this.shareEvery = [1, bulkEvery, backgroundEvery];
    this.clock = options.clock;
    this.onGrant = options.onGrant;
    this.lastRefill = options.clock.now();
    this.state = {
      tokens: options.burst,
      queues: REQUEST_CLASSES.map(() => new FairQueue()),
      passedOver: REQUEST_CLASSES.map(() => 0),
    };
  }

  /** Tokens available right now (for metrics). */
  available(): number {
    this.refill();
    return Math.floor(this.state.tokens + EPSILON);
  }

  /** Requests waiting for a token. */
  get queued(): number {
    return this.state.queues.reduce((sum, queue) => sum + queue.size, 0);
  }

  /** Requests waiting whose class is `requestClass` or more urgent (a poller gives way to them). */
  queuedAtOrAbove(requestClass: RequestClass): number {
    let count = 0;
    for (let c = 0; c <= CLASS_INDEX[requestClass]; c++) count += this.state.queues[c]?.size ?? 0;
    return count;
  }

  /** Resolves when the caller may send one request; without a scope, the request is background work. */
  take(scope?: BudgetScope): Promise<void> {
    return new Promise((resolve) => {
      const requestClass = scope?.requestClass ?? 'background';
      const queuedAt = this.clock.now();
      const ticket: Ticket = {
        requestClass,
        actor: scope?.actor ?? '',
        watch: scope?.watch,
        queuedAt,
        granted: false,
        grant: () => {
          ticket.granted = true;
          ticket.watch?.served(ticket);
          this.onGrant?.(requestClass, this.clock.now() - queuedAt);
          resolve();
        },
        position: () => this.position(ticket),
      };
      this.queue(ticket).push(ticket);
      this.pump();
      if (!ticket.granted) ticket.watch?.queued(ticket);
    });
  }

  private queue(ticket: Ticket): FairQueue {
    const queue = this.state.queues[CLASS_INDEX[ticket.requestClass]];
    if (queue === undefined) throw new Error(`no queue for ${ticket.requestClass}`);
    return queue;
  }

  /** Grants every token the rules allow now, then sleeps until the next one is due. */
  private pump(): void {
    this.refill();
    for (let next = pick(this.state, this.rules()); next !== undefined; next = pick(this.state, this.rules())) {
      const ticket = grantNext(this.state, next);
      if (ticket === undefined) break;
      ticket.grant();
    }
    this.schedule();
  }

  private rules(): Rules {
    return { reserve: this.reserve, shareEvery: this.shareEvery };
  }

  private schedule(): void {
    const delay = tokensShort(this.state, this.rules()) * this.msPerToken;
    if (!Number.isFinite(delay)) return;
    const wakeAt = this.clock.now() + Math.max(1, Math.ceil(delay));
    if (this.wakeAt !== undefined && this.wakeAt <= wakeAt && this.wakeAt > this.clock.now()) return;
    this.wakeAt = wakeAt;
    void this.clock.sleep(wakeAt - this.clock.now()).then(() => {
      if (this.wakeAt === wakeAt) this.wakeAt = undefined;
      this.pump();
    });
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastRefill;
    if (elapsed > 0) {
      this.state.tokens = Math.min(this.capacity, this.state.tokens + elapsed / this.msPerToken);
      this.lastRefill = now;
    }
  }

  /**
   * Where a waiting request stands if nothing else arrives: the grants are played forward on a copy of the
   * state, refilling as time passes.
   */
  private position(target: Ticket): { ahead: number; etaMs: number } {
    this.refill();
    const rules = this.rules();
    const state: SchedulerState = {
      tokens: this.state.tokens,
      queues: this.state.queues.map((queue) => queue.clone()),
      passedOver: [...this.state.passedOver],
    };
    let elapsedMs = 0;
    let ahead = 0;
    // Each grant may need a refill step first.
    const limit = 2 * (this.queued + 1);
    for (let step = 0; step < limit; step++) {
      const next = pick(state, rules);
      if (next === undefined) {
        const short = tokensShort(state, rules);
        if (!Number.isFinite(short)) break;
        elapsedMs += short * this.msPerToken;
        state.tokens += short;
        continue;
      }
      const ticket = grantNext(state, next);
      if (ticket === target) return { ahead, etaMs: Math.ceil(elapsedMs) };
      if (ticket !== undefined && (ticket.watch === undefined || ticket.watch !== target.watch)) ahead++;
    }
    return { ahead: 0, etaMs: 0 };
  }
}

interface Rules {
  reserve: number;
  shareEvery: readonly number[];
}

/** The class to serve next, if a token may go now. */
function pick(state: SchedulerState, rules: Rules): number | undefined {
  if (state.tokens + EPSILON < 1) return undefined;
  const due = dueClass(state, rules);
  if (due !== undefined) return due;
  if ((state.queues[0]?.size ?? 0) > 0) return 0;
  if (state.tokens + EPSILON < 1 + rules.reserve) return undefined;
  for (let c = 1; c < state.queues.length; c++) if ((state.queues[c]?.size ?? 0) > 0) return c;
  return undefined;
}

/** A lower class that has waited through its share of grants to higher classes. */
function dueClass(state: SchedulerState, rules: Rules): number | undefined {
  for (let c = 1; c < state.queues.length; c++) {
    if ((state.queues[c]?.size ?? 0) > 0 && (state.passedOver[c] ?? 0) >= (rules.shareEvery[c] ?? 1) - 1) return c;
  }
  return undefined;
}

function grantNext(state: SchedulerState, requestClass: number): Ticket | undefined {
  const ticket = state.queues[requestClass]?.shift();
  if (ticket === undefined) return undefined;
  state.tokens -= 1;
  state.passedOver[requestClass] = 0;
  for (let c = requestClass + 1; c < state.queues.length; c++) {
    if ((state.queues[c]?.size ?? 0) > 0) state.passedOver[c] = (state.passedOver[c] ?? 0) + 1;
  }
  return ticket;
}

/** Tokens missing before the next grant (Infinity when nothing waits). */
function tokensShort(state: SchedulerState, rules: Rules): number {
  const waiting = state.queues.some((queue) => queue.size > 0);
  if (!waiting) return Number.POSITIVE_INFINITY;
  const urgent = (state.queues[0]?.size ?? 0) > 0 || dueClass(state, rules) !== undefined;
  const need = urgent ? 1 : 1 + rules.reserve;
  return Math.max(0, need - state.tokens);
}
