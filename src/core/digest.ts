/**
 * The daily digest (issue 17.4): once a day, at a configured local time, one message to a configured channel
 * with the open approval requests by age, the open protection problems and yesterday's changes counted by kind
 * (from the audit store). Nothing is sent when there is nothing to say. Sent once per day across restarts and
 * replicas: the message goes to the notification outbox under `digest:<local date>` at version 1, and a second
 * write of that key (another replica, a restart) changes nothing. No Slack here: `send` renders and writes it.
 */

import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { ApprovalRepository, ApprovalRequest } from './approvals.js';
import type { AuditAction } from './audit.js';
import type { BreakGlassQueries, BreakGlassReview } from './break-glass.js';
import { EXPIRING_WINDOW_MS, type ExpiringSnapshot, type ExpiringSnapshots } from './dashboard.js';
import type { ProtectionProblemKind } from './protection/model.js';
import type { ScannedPartition } from './protection/ports.js';
import { localToUtc } from './protection/schedule.js';

export interface DigestConfig {
  /** The channel it is posted in (its configured language). */
  channel: string;
  /** Local time of day, in minutes after midnight. */
  minuteOfDay: number;
  timezone: string;
}

/** Changes the audit trail recorded as made, per kind, in [from, to). */
export interface ChangeCounts {
  changeCounts(from: number, to: number): Promise<ReadonlyArray<{ action: AuditAction; count: number }>>;
}

export interface DigestProblem {
  service: string;
  partition: string;
  kinds: readonly ProtectionProblemKind[];
}

export interface DigestData {
  /** The local date it is for (`YYYY-MM-DD` in the configured zone). */
  date: string;
  now: number;
  /** Open requests, oldest first. */
  approvals: readonly ApprovalRequest[];
  problems: readonly DigestProblem[];
  /** Snapshots known to expire in the next 24 h (soonest first; see {@link ExpiringSnapshots}). */
  expiring: readonly ExpiringSnapshot[];
  /** Yesterday's changes by kind (local day), most first. */
  changes: ReadonlyArray<{ action: AuditAction; count: number }>;
  /** Break-glass changes nobody has acknowledged yet, oldest first. */
  reviews: readonly BreakGlassReview[];
  auditChannel: string;
}

export interface DailyDigestDeps {
  config: DigestConfig;
  auditChannel: string;
  approvals: Pick<ApprovalRepository, 'open'>;
  /** The last scans (the database: no OVH request); undefined without protection. */
  protection: { covered(): Promise<ScannedPartition[]> } | undefined;
  audit: ChangeCounts;
  expiring: ExpiringSnapshots;
  /** Break-glass changes not acknowledged yet (undefined: no break-glass in this bot). */
  breakGlass?: BreakGlassQueries | undefined;
  /** Renders and writes the message under `key` (idempotent on the key). */
  send(key: string, data: DigestData): Promise<void>;
  clock: Clock;
  logger?: Logger | undefined;
}

const DAY_MS = 86_400_000;

/** The local calendar date of `ms` in `timezone`. */
export function localDate(ms: number, timezone: string): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}

const isoDate = (d: { year: number; month: number; day: number }) =>
  `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/** The day after (or before) a calendar date. */
function shift(d: { year: number; month: number; day: number }, days: number) {
  const at = new Date(Date.UTC(d.year, d.month - 1, d.day) + days * DAY_MS);
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate() };
}

export const digestKey = (date: string): string => `digest:${date}`;

export class DailyDigest {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: DailyDigestDeps) {}

  /** When today's digest is due (local time in the zone), and the date it is for. */
  dueOf(now: number): { date: string; at: number } {
    const { minuteOfDay, timezone } = this.deps.config;
    const today = localDate(now, timezone);
    return { date: isoDate(today), at: localToUtc(today, minuteOfDay, timezone) };
  }

  /** What the digest for the day of `now` says (yesterday = the local day before). */
  async collect(now: number): Promise<DigestData> {
    const { timezone } = this.deps.config;
    const today = localDate(now, timezone);
    const from = localToUtc(shift(today, -1), 0, timezone);
    const to = localToUtc(today, 0, timezone);
    const [open, covered, changes, reviews] = await Promise.all([
      this.deps.approvals.open(),
      this.deps.protection?.covered() ?? Promise.resolve([]),
      this.deps.audit.changeCounts(from, to),
      this.deps.breakGlass?.listUnacknowledgedBreakGlass() ?? Promise.resolve([]),
    ]);
    return {
      date: isoDate(today),
      now,
      approvals: [...open].sort((a, b) => a.createdAt - b.createdAt),
      problems: covered
        .filter((p) => (p.scan?.problems.length ?? 0) > 0)
        .map((p) => ({
          service: p.service,
          partition: p.partition,
          kinds: [...new Set((p.scan?.problems ?? []).map((x) => x.kind))],
        })),
      expiring: this.deps.expiring.knownExpiring(now, now + EXPIRING_WINDOW_MS),
      changes: [...changes].filter((c) => c.count > 0).sort((a, b) => b.count - a.count),
      reviews,
      auditChannel: this.deps.auditChannel,
    };
  }

  /** Sends the digest of the day of `now` unless there is nothing to say; true if it had something. */
  async runFor(now: number): Promise<boolean> {
    const data = await this.collect(now);
    const lists = [data.approvals, data.reviews, data.problems, data.expiring, data.changes];
    if (lists.every((list) => list.length === 0)) return false;
    await this.deps.send(digestKey(data.date), data);
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = this.deps.clock.now();
      const due = this.dueOf(now);
      let wakeAt = due.at;
      if (now >= due.at) {
        // Today's is due (or was, while no replica ran): written once under its key, whoever gets there.
        await this.runFor(now).catch((error: unknown) =>
          this.deps.logger?.error({ err: error }, 'the daily digest failed'),
        );
        const tomorrow = shift(localDate(now, this.deps.config.timezone), 1);
        wakeAt = localToUtc(tomorrow, this.deps.config.minuteOfDay, this.deps.config.timezone);
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void this.deps.clock.sleep(Math.max(1_000, wakeAt - now)).then(resolve);
      });
      this.wake = undefined;
    }
  }
}
