import type { Clock } from '../shared/clock.js';
import { readsMustBeFresh } from '../shared/request-context.js';
import { OvhApiError } from './errors.js';
import { type CustomSnapshot, FAILED_TASK_STATUSES, type Task } from './models.js';

/** Listings kept briefly. */
export type CachedListing = 'services' | 'partitions' | 'frequencies' | 'snapshots';
/** What a lookup was for (metrics): a listing, or one custom snapshot's details. */
export type CacheLookup = CachedListing | 'snapshot';
/** The listings the bot's own changes touch. */
export type ChangedListing = Extract<CachedListing, 'frequencies' | 'snapshots'>;

export interface ReadCacheOptions {
  clock: Clock;
  /** How long a listing is served from memory; 0 keeps none (and then no snapshot details either). */
  listingTtlMs: number;
  /** Every lookup: served from memory, or asked of OVH (metrics). */
  onLookup?: (kind: CacheLookup, hit: boolean) => void;
  /**
   * How long a change the bot sent keeps its partition's listing out of the cache when its task's end is never
   * seen (tracking stopped, an answer lost): the longest an OVH task is followed, by default.
   */
  pendingWriteMs?: number;
  /** Bound on listings and on snapshot details kept (each), oldest dropped first. */
  maxEntries?: number;
}

interface Listing {
  value: readonly unknown[];
  storedAt: number;
}

/** A change the bot sent, whose partition's listing is not cached until OVH's task for it ends. */
export interface WriteInFlight {
  /** OVH's answer: the task to wait for (a task already over ends the change at once). */
  sent(task: Task): void;
  /** The change failed; `error` says whether OVH may still have made it. */
  failed(error: unknown): void;
}

const TERMINAL: readonly string[] = ['done', ...FAILED_TASK_STATUSES];
const DEFAULT_PENDING_WRITE_MS = 10 * 60_000;
const DEFAULT_MAX_ENTRIES = 20_000;

/**
 * What the bot remembers of OVH's answers, in this process. A custom snapshot's `{name, expiration}` never
 * changes (OVH has no route to modify one), so its details are kept for as long as its name is listed: a listing
 * without the name, a delete by the bot, or its expiration passing drops them. Listings (services, partitions,
 * frequencies, custom snapshot names) are kept `listingTtlMs`. The bot's own changes drop their partition's
 * listing when sent, keep it out of the cache until the task's end is seen (by the tracker, through the same
 * client), and drop it again then: a listing read right after the bot's own change is always OVH's.
 * Other replicas and OVH's control panel are seen after at most `listingTtlMs`.
 */
export class NashaReadCache {
  private readonly listings = new Map<string, Listing>();
  /** Bumped whenever a listing is dropped: a read that started before does not store its older answer. */
  private readonly generations = new Map<string, number>();
  /** Listing key → changes in flight on it (id → until when at most). */
  private readonly pending = new Map<string, Map<string, number>>();
  /** Service → OVH task id → the listing key it changes. */
  private readonly pendingTasks = new Map<string, Map<number, string>>();
  /** Partition key → name → details. */
  private readonly details = new Map<string, Map<string, CustomSnapshot>>();
  private detailCount = 0;
  private writes = 0;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly pendingWriteMs: number;
  private readonly maxEntries: number;
  private readonly onLookup: ((kind: CacheLookup, hit: boolean) => void) | undefined;

  constructor(options: ReadCacheOptions) {
    this.clock = options.clock;
    this.ttlMs = Math.max(0, options.listingTtlMs);
    this.pendingWriteMs = options.pendingWriteMs ?? DEFAULT_PENDING_WRITE_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.onLookup = options.onLookup;
  }

  /** A listing from memory while it is young enough and nothing of the bot's is changing it; else from OVH. */
  async listing<T>(
    kind: CachedListing,
    service: string,
    partition: string | undefined,
    fetch: () => Promise<T[]>,
  ): Promise<T[]> {
    const key = listingKey(kind, service, partition);
    const cached = this.fresh(key);
    if (cached !== undefined && !readsMustBeFresh()) {
      this.onLookup?.(kind, true);
      return [...cached] as T[];
    }
    this.onLookup?.(kind, false);
    const generation = this.generation(key);
    const value = await fetch();
    if (kind === 'snapshots' && partition !== undefined) this.keepListedOnly(service, partition, value);
    if (this.ttlMs > 0 && this.generation(key) === generation && !this.isPending(key)) {
      this.listings.delete(key);
      this.listings.set(key, { value: [...value], storedAt: this.clock.now() });
      this.bound(this.listings);
    }
    return value;
  }

  /**
   * A custom snapshot's details from memory when the partition's names are cached and list it (and it has not
   * expired); else from OVH, remembered for next time. A 404 forgets it.
   */
  async snapshot(
    service: string,
    partition: string,
    name: string,
    fetch: () => Promise<CustomSnapshot>,
  ): Promise<CustomSnapshot> {
    const where = partitionKey(service, partition);
    const known = this.details.get(where)?.get(name);
    if (known !== undefined && this.isLive(known) && !readsMustBeFresh()) {
      const names = this.fresh(listingKey('snapshots', service, partition));
      if (names?.includes(name)) {
        this.onLookup?.('snapshot', true);
        return { ...known };
      }
    }
    this.onLookup?.('snapshot', false);
    try {
      const snapshot = await fetch();
      if (snapshot.name === name) this.remember(where, snapshot);
      return snapshot;
    } catch (error) {
      if (error instanceof OvhApiError && error.isNotFound) this.forget(where, name);
      throw error;
    }
  }

  /**
   * Called before the bot sends a change to a partition's frequencies or custom snapshots: drops the listing
   * (and a deleted snapshot's details) and keeps it out of the cache until OVH's task ends.
   */
  beginWrite(kind: ChangedListing, service: string, partition: string, deletedName?: string): WriteInFlight {
    const key = listingKey(kind, service, partition);
    const id = `write-${++this.writes}`;
    this.addPending(key, id);
    this.drop(key);
    if (deletedName !== undefined) this.forget(partitionKey(service, partition), deletedName);
    let settled = false;
    return {
      sent: (task) => {
        if (settled) return;
        settled = true;
        this.removePending(key, id);
        if (TERMINAL.includes(task.status)) {
          this.drop(key);
          return;
        }
        this.addPending(key, `task-${task.taskId}`);
        let tasks = this.pendingTasks.get(service);
        if (tasks === undefined) {
          tasks = new Map();
          this.pendingTasks.set(service, tasks);
        }
        tasks.set(task.taskId, key);
        this.drop(key);
      },
      failed: (error) => {
        if (settled) return;
        settled = true;
        // OVH may have made it (no answer, a 5xx…): the listing stays out of the cache until the change expires.
        if (!certainlyNotMade(error)) return;
        this.removePending(key, id);
        this.drop(key);
      },
    };
  }

  /** A task as OVH shows it: one the bot is waiting for that has ended releases its listing. */
  taskSeen(service: string, task: Task): void {
    if (TERMINAL.includes(task.status)) this.taskEnded(service, task.taskId);
  }

  /** Task ids OVH lists as done. */
  tasksDone(service: string, taskIds: readonly number[]): void {
    const tasks = this.pendingTasks.get(service);
    if (tasks === undefined) return;
    for (const taskId of taskIds) if (tasks.has(taskId)) this.taskEnded(service, taskId);
  }

  private taskEnded(service: string, taskId: number): void {
    const tasks = this.pendingTasks.get(service);
    const key = tasks?.get(taskId);
    if (tasks === undefined || key === undefined) return;
    tasks.delete(taskId);
    if (tasks.size === 0) this.pendingTasks.delete(service);
    this.removePending(key, `task-${taskId}`);
    this.drop(key);
  }

  /** The cached listing if young enough and no change of the bot's is in flight on it. */
  private fresh(key: string): readonly unknown[] | undefined {
    const entry = this.listings.get(key);
    if (entry === undefined) return undefined;
    if (this.clock.now() - entry.storedAt >= this.ttlMs || this.isPending(key)) {
      this.listings.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  private drop(key: string): void {
    this.listings.delete(key);
    this.generations.set(key, this.generation(key) + 1);
  }

  private isPending(key: string): boolean {
    const changes = this.pending.get(key);
    if (changes === undefined) return false;
    const now = this.clock.now();
    for (const [id, until] of changes) if (until <= now) changes.delete(id);
    if (changes.size === 0) this.pending.delete(key);
    return changes.size > 0;
  }

  private addPending(key: string, id: string): void {
    let changes = this.pending.get(key);
    if (changes === undefined) {
      changes = new Map();
      this.pending.set(key, changes);
    }
    changes.set(id, this.clock.now() + this.pendingWriteMs);
  }

  private removePending(key: string, id: string): void {
    const changes = this.pending.get(key);
    changes?.delete(id);
    if (changes?.size === 0) this.pending.delete(key);
  }

  private isLive(snapshot: CustomSnapshot): boolean {
    if (snapshot.expiration === null) return true;
    const at = Date.parse(snapshot.expiration);
    return Number.isNaN(at) || at > this.clock.now();
  }

  private remember(where: string, snapshot: CustomSnapshot): void {
    let names = this.details.get(where);
    if (names === undefined) {
      names = new Map();
      this.details.set(where, names);
    }
    if (!names.has(snapshot.name)) this.detailCount++;
    names.set(snapshot.name, { name: snapshot.name, expiration: snapshot.expiration });
    if (this.detailCount > this.maxEntries) {
      const oldest = this.details.keys().next();
      if (oldest.done !== true) {
        this.detailCount -= this.details.get(oldest.value)?.size ?? 0;
        this.details.delete(oldest.value);
      }
    }
  }

  private forget(where: string, name: string): void {
    const names = this.details.get(where);
    if (names?.delete(name) === true) this.detailCount--;
    if (names?.size === 0) this.details.delete(where);
  }

  /**
   * Custom snapshots whose details are in memory and that expire in [from, to): what this process read lately
   * (people's listings, protection scans), without an OVH request. Soonest first.
   */
  knownExpiring(from: number, to: number): Array<{ service: string; partition: string; name: string; at: number }> {
    const out: Array<{ service: string; partition: string; name: string; at: number }> = [];
    for (const [where, names] of this.details) {
      const [service = '', partition = ''] = where.split('\u0000');
      for (const snapshot of names.values()) {
        const at = snapshot.expiration === null ? Number.NaN : Date.parse(snapshot.expiration);
        if (at >= from && at < to) out.push({ service, partition, name: snapshot.name, at });
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** OVH listed the partition's names: details of names no longer there are dropped. */
  private keepListedOnly(service: string, partition: string, listed: readonly unknown[]): void {
    const where = partitionKey(service, partition);
    const names = this.details.get(where);
    if (names === undefined) return;
    const present = new Set(listed);
    for (const name of [...names.keys()]) if (!present.has(name)) this.forget(where, name);
  }

  private bound(map: Map<string, unknown>): void {
    if (map.size <= this.maxEntries) return;
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}

function listingKey(kind: CachedListing, service: string, partition: string | undefined): string {
  return `${kind}\u0000${service}\u0000${partition ?? ''}`;
}

function partitionKey(service: string, partition: string): string {
  return `${service}\u0000${partition}`;
}

/** A failure that shows OVH did not make the change: it refused it (4xx), or it was never sent. */
function certainlyNotMade(error: unknown): boolean {
  if (!(error instanceof OvhApiError)) return false;
  if (error.kind === 'input' || error.kind === 'clock') return true;
  return error.kind === 'http' && error.httpStatus !== undefined && error.httpStatus < 500;
}
