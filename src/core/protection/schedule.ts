/**
 * When plan snapshots are due, what they are called and when OVH deletes them. Pure functions of the plan and
 * a time: the scheduler, the scanner, status and the startup arithmetic all compute the same slots.
 *
 * A class's slots are local wall-clock times in the policy's time zone: every N hours from its `at` time of day
 * (N divides 24), every day at `at`, or every week on `at`'s weekday. A slot shared by several classes is one
 * snapshot, of the class that keeps longest: a weekly taken at 02:00 on Sunday stands for that day's daily.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../shared/duration.js';
import { EXPIRY_MARGIN_MS, type PlanClass } from './model.js';

/** `hourly`, `6h`, `daily`, `weekly`: the word a class is named by, from its period. */
export function classLabel(everyMs: number): string {
  if (everyMs === HOUR_MS) return 'hourly';
  if (everyMs === DAY_MS) return 'daily';
  if (everyMs === 7 * DAY_MS) return 'weekly';
  return `${Math.round(everyMs / HOUR_MS)}h`;
}

/** Periods a class may have: hours dividing a day, a day, a week. */
export const PLAN_PERIODS_MS: readonly number[] = [1, 2, 3, 4, 6, 8, 12]
  .map((h) => h * HOUR_MS)
  .concat(DAY_MS, 7 * DAY_MS);

// ---- time zones ---------------------------------------------------------------------------------------------

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let found = formatters.get(timezone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timezone, found);
  }
  return found;
}

/** Whether Intl knows the zone (`Europe/Paris`, `UTC`). */
export function isKnownTimezone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

function localParts(ms: number, timezone: string): LocalParts {
  if (timezone === 'UTC') {
    const at = new Date(ms);
    return {
      year: at.getUTCFullYear(),
      month: at.getUTCMonth() + 1,
      day: at.getUTCDate(),
      hour: at.getUTCHours(),
      minute: at.getUTCMinutes(),
      weekday: at.getUTCDay(),
    };
  }
  const parts: Record<string, string> = {};
  for (const part of formatter(timezone).formatToParts(ms)) parts[part.type] = part.value;
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    weekday: WEEKDAYS.indexOf((parts['weekday'] ?? 'Sun') as (typeof WEEKDAYS)[number]),
  };
}

/** The zone's offset from UTC at `ms`, in ms (positive east of Greenwich). */
function offsetAt(ms: number, timezone: string): number {
  if (timezone === 'UTC') return 0;
  const p = localParts(ms, timezone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  return asUtc - Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/**
 * The instant of a local wall-clock time. A time the clocks skip (spring forward) is taken as the same moment
 * after the jump; a time that happens twice (fall back) is its first occurrence.
 */
export function localToUtc(
  date: { year: number; month: number; day: number },
  minuteOfDay: number,
  timezone: string,
): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * MINUTE_MS;
  if (timezone === 'UTC') return wall;
  const before = wall - offsetAt(wall - DAY_MS / 2, timezone);
  const after = wall - offsetAt(wall + DAY_MS / 2, timezone);
  const first = Math.min(before, after);
  const second = Math.max(before, after);
  const shows = (ms: number) => {
    const p = localParts(ms, timezone);
    return Date.UTC(p.year, p.month - 1, p.day) + (p.hour * 60 + p.minute) * MINUTE_MS === wall;
  };
  if (shows(first)) return first;
  if (shows(second)) return second;
  // In the gap of a spring-forward: the clocks jumped over it; the same time past the jump.
  return second;
}

// ---- slots --------------------------------------------------------------------------------------------------

/** The class's local times of day, in minutes. */
function timesOfDay(cls: PlanClass): number[] {
  if (cls.everyMs >= DAY_MS) return [cls.minuteOfDay];
  const step = cls.everyMs / MINUTE_MS;
  const first = cls.minuteOfDay % step;
  const times: number[] = [];
  for (let minute = first; minute < 24 * 60; minute += step) times.push(minute);
  return times;
}

/** The class's slots in (fromMs, toMs], oldest first. */
export function slotsBetween(cls: PlanClass, timezone: string, fromMs: number, toMs: number): number[] {
  if (!(toMs > fromMs)) return [];
  const slots: number[] = [];
  const times = timesOfDay(cls);
  // Local calendar days that can hold a slot in the range (a day's slots lie within ±14 h of its UTC midnight).
  const start = localParts(fromMs - DAY_MS, timezone);
  let cursor = Date.UTC(start.year, start.month - 1, start.day);
  const end = toMs + 2 * DAY_MS;
  for (; cursor <= end; cursor += DAY_MS) {
    const day = new Date(cursor);
    const date = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
    if (cls.weekday !== undefined && day.getUTCDay() !== cls.weekday) continue;
    for (const minute of times) {
      const at = localToUtc(date, minute, timezone);
      if (at > fromMs && at <= toMs && slots[slots.length - 1] !== at) slots.push(at);
    }
  }
  return slots.sort((a, b) => a - b);
}

/** The class's latest slot at or before `ms` (a class's slots are never more than a week apart). */
export function latestSlot(cls: PlanClass, timezone: string, ms: number): number {
  const slots = slotsBetween(cls, timezone, ms - cls.everyMs - 2 * DAY_MS, ms);
  const last = slots[slots.length - 1];
  if (last === undefined) throw new Error(`no ${cls.label} slot before ${new Date(ms).toISOString()}`);
  return last;
}

/** The class's first slot after `ms`. */
export function nextSlot(cls: PlanClass, timezone: string, ms: number): number {
  const first = slotsBetween(cls, timezone, ms, ms + cls.everyMs + 2 * DAY_MS)[0];
  if (first === undefined) throw new Error(`no ${cls.label} slot after ${new Date(ms).toISOString()}`);
  return first;
}

/** Whether `slotAt` is one of the class's slots. */
export function isSlotOf(cls: PlanClass, timezone: string, slotAt: number): boolean {
  return slotsBetween(cls, timezone, slotAt - 1, slotAt).length === 1;
}

/**
 * The class that takes the snapshot at a slot of `cls`: the class keeping longest among those due at that very
 * instant (itself when none other is).
 */
export function ownerOf(plan: readonly PlanClass[], cls: PlanClass, timezone: string, slotAt: number): PlanClass {
  let owner = cls;
  for (const other of plan) {
    if (other === cls || retentionMs(other) <= retentionMs(owner)) continue;
    if (isSlotOf(other, timezone, slotAt)) owner = other;
  }
  return owner;
}

export function retentionMs(cls: PlanClass): number {
  return cls.keep * cls.everyMs;
}

/** When OVH deletes the snapshot of a slot: `keep` periods on, a little early so the slot is free in time. */
export function expiresAt(cls: PlanClass, slotAt: number): number {
  return slotAt + retentionMs(cls) - EXPIRY_MARGIN_MS;
}

// ---- names --------------------------------------------------------------------------------------------------

const PLAN_NAME = /^plan-([a-z0-9]+)-(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/;
/** OVH snapshot names are at most 100 characters here (naming.ts). */
const MAX_NAME = 100;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 13);
}

/**
 * `plan-<class>-<partition>-<UTC yyyymmddThhmm>`: recognisable, sorted by time, and the same whichever replica
 * or retry computes it, so OVH itself refuses a second one. A long partition name is cut to fit.
 */
export function planSnapshotName(label: string, partition: string, slotAt: number): string {
  const fixed = `plan-${label}--${stamp(slotAt)}`;
  return `plan-${label}-${partition.slice(0, Math.max(1, MAX_NAME - fixed.length))}-${stamp(slotAt)}`;
}

/** The class label and slot of a plan snapshot name, or undefined for any other name. */
export function parsePlanName(name: string): { label: string; slotAt: number } | undefined {
  const match = PLAN_NAME.exec(name);
  if (match === null) return undefined;
  const [, label = '', , y, mo, d, h, mi] = match;
  const slotAt = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  return Number.isNaN(slotAt) ? undefined : { label, slotAt };
}

// ---- arithmetic ---------------------------------------------------------------------------------------------

/**
 * The most plan snapshots a partition holds at once: for each instant, the slots of the last `keep` periods of
 * each class, a shared slot counted once. Evaluated over the longest retention plus a week of slots, which
 * covers every pattern the allowed periods make.
 */
export function maxLivePlanSnapshots(
  plan: readonly PlanClass[],
  timezone: string,
  from = Date.UTC(2026, 0, 5),
): number {
  if (plan.length === 0) return 0;
  const longest = Math.max(...plan.map(retentionMs));
  const until = from + longest + 14 * DAY_MS;
  const births: Array<{ at: number; until: number }> = [];
  const seen = new Set<number>();
  for (const cls of plan) {
    for (const slot of slotsBetween(cls, timezone, from - longest, until)) {
      if (seen.has(slot)) continue;
      seen.add(slot);
      births.push({ at: slot, until: expiresAt(ownerOf(plan, cls, timezone, slot), slot) });
    }
  }
  births.sort((a, b) => a.at - b.at);
  let most = 0;
  for (const birth of births) {
    if (birth.at < from + longest) continue; // warm-up: every class has filled its window from here
    let live = 0;
    for (const other of births) if (other.at <= birth.at && other.until > birth.at) live += 1;
    most = Math.max(most, live);
  }
  return most;
}
