/**
 * What the protection work needs from outside core: the database (src/store/protection-store.ts), OVH reads,
 * a pacer for background requests, and the place alerts are shown (src/slack/protection-alerts.ts). Small
 * structural interfaces, so tests and later components (a shared notification outbox, request-budget classes)
 * can stand in.
 */
import type { CustomSnapshot, Partition, SnapshotType, Storage } from '../../ovh/models.js';
import type { Lease } from '../ports.js';
import type { AlertFixPlan } from './fixes.js';
import type { PlanGap, ProtectionProblem, ProtectionProblemKind } from './model.js';

/**
 * Whom an OVH call serves: a person waiting in Slack, or the bot's own background work (scans, plan runs).
 * Background calls go through {@link Pacer} first; a request budget with classes can take the class from here.
 */
export type RequestClass = 'interactive' | 'background';

/** The OVH reads the scanner and the scheduler make. */
export interface ProtectionReads {
  listServices(): Promise<string[]>;
  getService(service: string): Promise<Storage>;
  listPartitions(service: string): Promise<string[]>;
  getPartition(service: string, partition: string): Promise<Partition>;
  listSnapshotTypes(service: string, partition: string): Promise<SnapshotType[]>;
  listCustomSnapshots(service: string, partition: string): Promise<string[]>;
  getCustomSnapshot(service: string, partition: string, name: string): Promise<CustomSnapshot>;
}

/** OVH reads for one request class. */
export type ProtectionOvh = (requestClass: RequestClass) => ProtectionReads;

/** Waits before `requests` background calls until the budget has room beyond what people may need at once. */
export interface Pacer {
  wait(requestClass: RequestClass, requests: number): Promise<void>;
}

/** A partition a policy covers, as the last inventory saw it. */
export interface CoveredPartition {
  service: string;
  partition: string;
  policy: string;
  /** When the bot first saw it covered: plan slots before this are not owed. */
  firstSeenAt: number;
  lastSeenAt: number;
}

/** What the last scan of a partition read from OVH, and what it made of it. */
export interface PartitionScan {
  scannedAt: number;
  frequencies: readonly SnapshotType[];
  custom: readonly string[];
  usedBySnapshots: number | null;
  problems: readonly ProtectionProblem[];
  /** When the newest restore point was taken at the latest (null: none). */
  newestAt: number | null;
}

export interface ScannedPartition extends CoveredPartition {
  scan: PartitionScan | undefined;
}

export const PLAN_RUN_STATES = ['claimed', 'started', 'done', 'failed', 'skipped'] as const;
export type PlanRunState = (typeof PLAN_RUN_STATES)[number];

/** One plan slot of one partition: taken once, by whoever claimed it (the key is service, partition, slot). */
export interface PlanRun {
  service: string;
  partition: string;
  slotAt: number;
  label: string;
  policy: string;
  name: string;
  state: PlanRunState;
  attempts: number;
  owner: string | null;
  leaseUntil: number | null;
  auditId: string | null;
  taskId: number | null;
  /** Why it failed or was skipped. */
  gap: PlanGap | null;
  /** The snapshot was there already (another replica or a person took it). */
  existed: boolean;
  /** How long after its slot the run started. */
  lateMs: number;
  createdAt: number;
  updatedAt: number;
}

export type NewPlanRun = Pick<PlanRun, 'service' | 'partition' | 'slotAt' | 'label' | 'policy' | 'name' | 'lateMs'>;

export type PlanRunPatch = Partial<Pick<PlanRun, 'state' | 'auditId' | 'taskId' | 'gap' | 'existed'>>;

export interface AlertFix {
  userId: string;
  at: number;
}

/** One problem of one partition, from when it was seen until it cleared. */
export interface ProtectionAlert {
  id: string;
  service: string;
  partition: string;
  kind: ProtectionProblemKind;
  policy: string;
  problem: ProtectionProblem;
  state: 'open' | 'resolved';
  /** Why it was resolved: the problem cleared, or the partition is no longer covered. */
  resolution: 'cleared' | 'uncovered' | null;
  /** +1 at every change people should see; the message shows `postedVersion`. */
  version: number;
  postedVersion: number;
  channel: string;
  /** Where the message is (a Slack ts), once posted. */
  messageRef: string | null;
  /** Claims to post it never confirmed: above 1, look for an earlier post before posting again. */
  postClaims: number;
  auditId: string | null;
  fixes: readonly AlertFix[];
  openedAt: number;
  updatedAt: number;
  resolvedAt: number | null;
  lastError: string | null;
}

export type NewAlert = Pick<
  ProtectionAlert,
  'id' | 'service' | 'partition' | 'kind' | 'policy' | 'problem' | 'channel'
>;

export type AlertRevision = Partial<Pick<ProtectionAlert, 'problem' | 'state' | 'resolution' | 'auditId' | 'fixes'>>;

/** The protection tables (migration 0011). Every write that others may race is a compare-and-set. */
export interface ProtectionRepository {
  /**
   * Records the partitions the inventory found covered (new ones get `firstSeenAt = now`) and forgets those of
   * the `listed` services it no longer found, and those of services OVH no longer has (`existing`: all it has).
   */
  syncCovered(
    found: readonly { service: string; partition: string; policy: string }[],
    services: { listed: readonly string[]; existing: readonly string[] },
    now: number,
  ): Promise<void>;
  covered(): Promise<ScannedPartition[]>;
  /** When `syncCovered` last ran (by any replica); undefined: never, so nothing is known of coverage yet. */
  inventoryTakenAt(): Promise<number | undefined>;
  saveScan(service: string, partition: string, scan: PartitionScan): Promise<void>;

  /**
   * Claims a plan slot: inserts it, or takes over one whose claim expired, or retries one that failed or was
   * skipped (`retry`). Undefined when someone else has it or it is settled.
   */
  claimRun(
    run: NewPlanRun,
    lease: Lease,
    now: number,
    retry: { afterMs: number; maxAttempts: number },
  ): Promise<PlanRun | undefined>;
  /** Writes the run's progress if `owner` still holds it; false otherwise. */
  updateRun(key: RunKey, owner: string, patch: PlanRunPatch, now: number): Promise<boolean>;
  runsOf(service: string, partition: string, sinceSlot: number): Promise<PlanRun[]>;

  /** Opens an alert; undefined when one is already open for that partition and kind. */
  openAlert(alert: NewAlert, now: number): Promise<ProtectionAlert | undefined>;
  /** Applies a revision (version + 1) if the alert is still at `version`; undefined on a conflict. */
  reviseAlert(id: string, version: number, revision: AlertRevision, now: number): Promise<ProtectionAlert | undefined>;
  alert(id: string): Promise<ProtectionAlert | undefined>;
  openAlerts(): Promise<ProtectionAlert[]>;
  /** Alerts whose latest version is not shown yet. */
  undelivered(): Promise<ProtectionAlert[]>;
  /** Leases an alert for one delivery attempt (counts a post claim when it has no message yet). */
  claimDelivery(id: string, lease: Lease, now: number): Promise<ProtectionAlert | undefined>;
  markDelivered(id: string, owner: string, version: number, messageRef: string): Promise<void>;
  markUndelivered(id: string, owner: string, error: string, postedNothing: boolean): Promise<void>;

  /** A named lease (the scanner's): taken if free, expired or already ours. */
  takeLease(name: string, lease: Lease, now: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;

  /** Custom snapshots of a partition whose creation the bot recorded: when, and by whom. */
  knownCreations(service: string, partition: string): Promise<Map<string, { at: number; by: string }>>;
}

export interface RunKey {
  service: string;
  partition: string;
  slotAt: number;
}

/** An alert as shown: with the fix its button offers, if there is one. */
export interface AlertView {
  alert: ProtectionAlert;
  fix: AlertFixPlan | undefined;
}

/**
 * Where alerts are shown (the alerts channel), keyed by alert id and version; a post may be made again only
 * after `find` found nothing. Narrow on purpose: a shared notification outbox can stand behind it.
 */
export interface AlertPublisher {
  post(view: AlertView): Promise<{ ref: string }>;
  update(ref: string, view: AlertView): Promise<void>;
  /** The message an earlier, unconfirmed post left, if any. Absent: the publisher cannot look. */
  find?(alert: ProtectionAlert): Promise<string | undefined>;
}
