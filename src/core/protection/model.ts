/**
 * Protection policies as the bot runs them: which partitions must stay protected, by which automatic
 * frequencies, which custom snapshots the bot takes itself (retention classes), how many custom slots stay free
 * for people, and how old the newest restore point may get. The YAML `protection:` section parses into this
 * (src/config/protection-config.ts). Only data: no I/O, no wording.
 */
import { MAX_CUSTOM_SNAPSHOTS, type SnapshotType } from '../../ovh/models.js';
import type { AuditProblem } from '../audit-detail.js';
import type { Target } from '../model.js';

/** One retention class of a plan: a custom snapshot every `everyMs`, `keep` of them kept (OVH expires them). */
export interface PlanClass {
  /** In names and alerts: `hourly`, `6h`, `daily`, `weekly`. Unique within a plan. */
  label: string;
  everyMs: number;
  keep: number;
  /** Local time of day of the anchor slot, in minutes (0..1439). */
  minuteOfDay: number;
  /** Weekly classes: the day, 0 = Sunday … 6 = Saturday (local). */
  weekday: number | undefined;
}

/** What a policy covers: a scope pattern (as in grants) or the concrete partitions of a target group. */
export type PolicyTarget =
  | { kind: 'scope'; pattern: string }
  | { kind: 'group'; name: string; partitions: readonly Target[] };

export interface ProtectionPolicy {
  /** Lower case, unique: names the policy in status, alerts, metrics and the audit (the system actor). */
  name: string;
  targets: readonly PolicyTarget[];
  /** Automatic frequencies that must stay enabled. */
  frequencies: readonly SnapshotType[];
  /** Longest class last is not required: classes come as written. */
  plan: readonly PlanClass[];
  /** Custom slots always left free for people and incidents (the bot never takes them). */
  reserve: number;
  maxAge: { warnMs: number; criticalMs: number };
  /** Snapshots may use at most this percentage of the partition (OVH's snapshot reserve: at least 15%). */
  snapshotSpacePercent: number;
  /** IANA time zone the plan's `at` times are in (`UTC` unless given). */
  timezone: string;
}

export interface ProtectionConfig {
  scanEveryMs: number;
  /** Slack channel ID where drift and coverage alerts go. */
  alertsChannel: string;
  policies: readonly ProtectionPolicy[];
}

/** Custom snapshots per partition on NAS-HA: the slots plans and people share. */
export const CUSTOM_SLOTS = MAX_CUSTOM_SNAPSHOTS;

/** A plan snapshot expires this long before its slot comes round again, so the next one finds its slot free. */
export const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Every problem the scanner looks for, one alert per partition and kind. */
export const PROTECTION_PROBLEM_KINDS = [
  'frequency_missing',
  'stale',
  'plan_missing',
  'slots',
  'snapshot_space',
] as const;
export type ProtectionProblemKind = (typeof PROTECTION_PROBLEM_KINDS)[number];

/** Why a plan snapshot that should exist does not. */
export type PlanGap =
  /** OVH refused the creation (the problem), or its task failed (OVH's words). */
  | { cause: 'failed'; problem: AuditProblem | undefined; ovh: string | undefined }
  /** No free custom slot beyond the reserve: skipped rather than eat the incident reserve. */
  | { cause: 'reserve'; count: number; reserve: number }
  /** Not taken (the bot was down, or the run has not happened): nothing on record. */
  | { cause: 'not_taken' }
  /** Taken, and no longer on OVH (deleted or expired early). */
  | { cause: 'gone' };

export interface PlanMiss {
  label: string;
  slotAt: number;
  name: string;
  gap: PlanGap;
}

/** A problem of one partition, as data; the Slack layer words it. */
export type ProtectionProblem =
  | { kind: 'frequency_missing'; missing: readonly SnapshotType[]; required: readonly SnapshotType[] }
  | {
      kind: 'stale';
      level: 'warn' | 'critical';
      /** When the newest restore point was taken at the latest; null: there is none at all. */
      newestAt: number | null;
      warnMs: number;
      criticalMs: number;
    }
  /** The latest due snapshot of one or more classes is not on OVH. */
  | { kind: 'plan_missing'; missing: readonly PlanMiss[] }
  | {
      kind: 'slots';
      /** full: 10/10; reserve: the bot's next plan snapshot would eat into the reserve. */
      level: 'full' | 'reserve';
      count: number;
      max: number;
      reserve: number;
      /** The oldest custom snapshot whose age is known (what a person might delete), if any. */
      oldest: { name: string; takenAt: number } | undefined;
    }
  | { kind: 'snapshot_space'; usedPercent: number; limitPercent: number };

export type ProtectionProblemOf<K extends ProtectionProblemKind> = Extract<ProtectionProblem, { kind: K }>;
