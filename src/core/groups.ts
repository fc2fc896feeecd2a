/**
 * Membership of Slack user groups, behind an interface so the policy never talks to Slack itself
 * (the Slack layer passes a function that calls usergroups.users.list).
 */
import type { Clock } from '../shared/clock.js';

/** Why the latest membership of a group is not fresh. */
export interface GroupResolutionProblem {
  groupId: string;
  /** `stale`: an older member list is being used; `unresolved`: treated as having no members (deny). */
  state: 'stale' | 'unresolved';
  /** The error of the latest failed fetch. */
  error: string;
  failedAt: number;
  /** Age of the member list in use, for `stale`. */
  staleForMs: number | undefined;
}

export interface GroupDirectory {
  /** User IDs in the group; an empty set when it cannot be resolved (deny by default). Never rejects. */
  membersOf(groupId: string): Promise<ReadonlySet<string>>;
  /** Set when the latest `membersOf` answer for this group did not come from a fresh fetch. */
  resolutionProblem?(groupId: string): GroupResolutionProblem | undefined;
}

/** The part of a pino logger this module uses. */
export interface GroupDirectoryLogger {
  warn(details: object, message: string): void;
}

export interface CachedGroupDirectoryOptions {
  clock: Clock;
  /** How long a fetched member list is used without asking again. Default 60 s. */
  ttlMs?: number;
  /** How old a member list may be and still be used when refreshing it fails. Default 15 min. */
  maxStaleMs?: number;
  /** After a failed fetch, wait this long before fetching that group again (protects Slack's rate limits). Default 5 s. */
  retryAfterFailureMs?: number;
  logger?: GroupDirectoryLogger;
}

interface Entry {
  members: ReadonlySet<string>;
  fetchedAt: number;
}

interface Failure {
  error: string;
  failedAt: number;
}

const NOBODY: ReadonlySet<string> = new Set();

export class CachedGroupDirectory implements GroupDirectory {
  private readonly fetchMembers: (groupId: string) => Promise<readonly string[]>;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxStaleMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly logger: GroupDirectoryLogger | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly failures = new Map<string, Failure>();

  constructor(fetchMembers: (groupId: string) => Promise<readonly string[]>, options: CachedGroupDirectoryOptions) {
    this.fetchMembers = fetchMembers;
    this.clock = options.clock;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxStaleMs = options.maxStaleMs ?? 15 * 60_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 5_000;
    this.logger = options.logger;
  }

  membersOf(groupId: string): Promise<ReadonlySet<string>> {
    const now = this.clock.now();
    const entry = this.entries.get(groupId);
    if (entry !== undefined && now - entry.fetchedAt < this.ttlMs) return Promise.resolve(entry.members);
    const pending = this.inFlight.get(groupId);
    if (pending !== undefined) return pending;
    const failure = this.failures.get(groupId);
    if (failure !== undefined && now - failure.failedAt < this.retryAfterFailureMs) {
      return Promise.resolve(this.fallback(groupId));
    }
    const fetching = this.refresh(groupId).finally(() => this.inFlight.delete(groupId));
    this.inFlight.set(groupId, fetching);
    return fetching;
  }

  resolutionProblem(groupId: string): GroupResolutionProblem | undefined {
    const failure = this.failures.get(groupId);
    if (failure === undefined) return undefined;
    const entry = this.usableStale(groupId);
    return {
      groupId,
      state: entry === undefined ? 'unresolved' : 'stale',
      error: failure.error,
      failedAt: failure.failedAt,
      staleForMs: entry === undefined ? undefined : this.clock.now() - entry.fetchedAt,
    };
  }

  /** Forgets a group's cached members (e.g. on a subteam_members_changed event) so the next call fetches. */
  invalidate(groupId?: string): void {
    if (groupId === undefined) {
      this.entries.clear();
      this.failures.clear();
    } else {
      this.entries.delete(groupId);
      this.failures.delete(groupId);
    }
  }

  private async refresh(groupId: string): Promise<ReadonlySet<string>> {
    try {
      const members = new Set(await this.fetchMembers(groupId));
      this.entries.set(groupId, { members, fetchedAt: this.clock.now() });
      this.failures.delete(groupId);
      return members;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failures.set(groupId, { error: message, failedAt: this.clock.now() });
      const stale = this.usableStale(groupId);
      this.logger?.warn(
        { groupId, err: message, staleForMs: stale === undefined ? undefined : this.clock.now() - stale.fetchedAt },
        stale === undefined
          ? 'cannot resolve user group; its members are denied until it resolves'
          : 'cannot refresh user group; using its last known members',
      );
      return stale?.members ?? NOBODY;
    }
  }

  private fallback(groupId: string): ReadonlySet<string> {
    return this.usableStale(groupId)?.members ?? NOBODY;
  }

  private usableStale(groupId: string): Entry | undefined {
    const entry = this.entries.get(groupId);
    return entry !== undefined && this.clock.now() - entry.fetchedAt <= this.maxStaleMs ? entry : undefined;
  }
}
