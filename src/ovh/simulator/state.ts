import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../shared/clock.js';
import type { SnapshotType, TaskFunction, TaskStatus, UsageType } from '../models.js';
import { SnapshotTypeSchema, TaskFunctionSchema } from '../models.js';
import { badRequest, conflict, notFound, objectNotFound } from './api-error.js';
import { defaultSeed, type ParsedSeed, type ParsedSeedService, parseSeed, type SimulatorSeed } from './seed.js';

/**
 * In-memory NAS-HA model, free of HTTP. Time comes from the injected clock and is evaluated lazily:
 * every public method first moves tasks along and sweeps expired custom snapshots, so a
 * ManualClock makes the whole lifecycle deterministic.
 */

export interface TaskTimings {
  /** Delay after creation before a task shows `doing`. */
  doingAfterMs: number;
  /** Delay after creation before a task ends (and its change becomes visible). */
  doneAfterMs: number;
}
export const DEFAULT_TASK_TIMINGS: Readonly<TaskTimings> = { doingAfterMs: 2_000, doneAfterMs: 5_000 };

export interface SimulatorLimits {
  /** Custom snapshots per partition, pending creations included (OVH FAQ and Manager: 10). */
  maxCustomSnapshots: number;
  /** Scheduled types per partition, pending additions included (unknown upstream; hour-1 + 3). */
  maxScheduledTypes: number;
}
export const DEFAULT_LIMITS: Readonly<SimulatorLimits> = { maxCustomSnapshots: 10, maxScheduledTypes: 4 };

export const TASK_FAILURE_STATUSES = ['ovhError', 'customerError', 'cancelled'] as const;
export type TaskFailureStatus = (typeof TASK_FAILURE_STATUSES)[number];

/** Makes the next matching task(s) fail: they end in `outcome` with `details`, and change nothing. */
export const TaskOutcomeRuleSchema = z.strictObject({
  service: z.string().optional(),
  partition: z.string().optional(),
  operation: TaskFunctionSchema.optional(),
  outcome: z.enum(TASK_FAILURE_STATUSES),
  details: z.string(),
  /** How many tasks this rule applies to; unlimited when absent. */
  count: z.number().int().positive().optional(),
});
export type TaskOutcomeRule = z.infer<typeof TaskOutcomeRuleSchema>;

/**
 * A change made behind the bot's back, as OVH's control panel or another API client would leave it, applied at
 * once (no task): the frequencies enabled, custom snapshots gone, the snapshot space used.
 */
export const PartitionDriftSchema = z.strictObject({
  scheduled: z.array(SnapshotTypeSchema).optional(),
  removeCustom: z.array(z.string().min(1)).optional(),
  usedBySnapshots: z.number().int().min(0).max(100).optional(),
});
export type PartitionDrift = z.infer<typeof PartitionDriftSchema>;

/** dedicated.nasTask.Task, with every field present as OVH sends it. */
export interface SimTask {
  taskId: number;
  operation: TaskFunction;
  status: TaskStatus;
  storageName: string;
  partitionName: string;
  details: string | null;
  todoDate: string;
  lastUpdate: string | null;
  doneDate: string | null;
}

/** dedicated.nasha.StorageWithIAM */
export interface SimStorage {
  serviceName: string;
  customName: string | null;
  datacenter: string | null;
  diskType: 'hdd' | 'nvme' | 'ssd';
  ip: string | null;
  monitored: boolean;
  canCreatePartition: boolean;
  zpoolCapacity: number;
  zpoolSize: number;
  iam: { id: string; urn: string; displayName: string | null; tags: Record<string, string> | null };
}

/** dedicated.nasha.Partition */
export interface SimPartition {
  partitionName: string;
  partitionDescription: string | null;
  protocol: 'CIFS' | 'NFS' | 'NFS_CIFS';
  size: number;
  partitionCapacity: number | null;
  usedBySnapshots: number | null;
}

/** services.Service */
export interface SimServiceInfos {
  canDeleteAtExpiration: boolean;
  contactAdmin: string;
  contactBilling: string;
  contactTech: string;
  creation: string;
  domain: string;
  engagedUpTo: string | null;
  expiration: string;
  possibleRenewPeriod: number[] | null;
  renew: { automatic: boolean; deleteAtExpiration: boolean; forced: boolean; manualPayment: boolean; period: number };
  renewalType: 'automaticV2016';
  serviceId: number;
  status: 'ok';
}

/** dedicated.nasha.customSnap */
export interface SimCustomSnapshot {
  name: string;
  expiration: string | null;
}

export interface SimUsage {
  unit: string;
  value: number;
}

export interface TaskFilter {
  status?: TaskStatus | undefined;
  operation?: TaskFunction | undefined;
}

/** Like Partial, but also accepts explicit `undefined` (handy for option bags built from parsed config). */
export type PartialOptions<T> = { [K in keyof T]?: T[K] | undefined };

export interface SimulatorStateOptions {
  /** Default: `defaultSeed(clock.now())`. */
  seed?: SimulatorSeed | undefined;
  clock?: Clock | undefined;
  taskTimings?: PartialOptions<TaskTimings> | undefined;
  limits?: PartialOptions<SimulatorLimits> | undefined;
  taskOutcomes?: readonly TaskOutcomeRule[] | undefined;
}

/** Real task ids are large; starting high catches 32-bit or small-int assumptions. */
export const FIRST_TASK_ID = 4_000_000;

interface CustomRecord {
  name: string;
  expiration: string | null;
  /** Parsed `expiration`, cached for the sweep. */
  expiresAt: number | null;
  createdAt: number;
}

interface PartitionRecord {
  info: SimPartition;
  scheduled: Set<SnapshotType>;
  custom: Map<string, CustomRecord>;
}

type Change =
  | { kind: 'addType'; type: SnapshotType }
  | { kind: 'removeType'; type: SnapshotType }
  | { kind: 'createCustom'; name: string; expiration: string | null }
  | { kind: 'deleteCustom'; name: string };

interface TaskRecord {
  task: SimTask;
  createdAt: number;
  partition: PartitionRecord;
  change: Change;
  failure: { status: TaskFailureStatus; details: string } | null;
  settled: boolean;
}

interface ServiceRecord {
  storage: SimStorage;
  infos: SimServiceInfos;
  partitions: Map<string, PartitionRecord>;
  tasks: Map<number, TaskRecord>;
}

interface OutcomeRuleRecord {
  rule: TaskOutcomeRule;
  remaining: number;
}

export class SimulatorState {
  readonly clock: Clock;
  readonly taskTimings: Readonly<TaskTimings>;
  readonly limits: Readonly<SimulatorLimits>;
  private readonly seed: ParsedSeed;
  private readonly initialOutcomes: readonly TaskOutcomeRule[];
  private services = new Map<string, ServiceRecord>();
  /** Unsettled tasks in creation order, so changes apply in the order they were requested. */
  private pending: TaskRecord[] = [];
  private outcomeRules: OutcomeRuleRecord[] = [];
  private nextTaskId = FIRST_TASK_ID;

  constructor(options: SimulatorStateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.taskTimings = { ...DEFAULT_TASK_TIMINGS, ...definedOnly(options.taskTimings) };
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options.limits) };
    this.seed = parseSeed(options.seed ?? defaultSeed(this.clock.now()));
    this.initialOutcomes = (options.taskOutcomes ?? []).map((rule) => TaskOutcomeRuleSchema.parse(rule));
    this.reset();
  }

  /** Back to the seed and the startup outcome rules. Task ids keep increasing so stale ids never alias. */
  reset(): void {
    this.services = new Map(this.seed.services.map((service) => [service.serviceName, this.buildService(service)]));
    this.pending = [];
    this.outcomeRules = [];
    this.addTaskOutcomes(this.initialOutcomes);
  }

  addTaskOutcomes(rules: readonly TaskOutcomeRule[]): void {
    for (const rule of rules) {
      this.outcomeRules.push({ rule: { ...rule }, remaining: rule.count ?? Number.POSITIVE_INFINITY });
    }
  }

  clearTaskOutcomes(): void {
    this.outcomeRules = [];
  }

  get taskOutcomes(): TaskOutcomeRule[] {
    return this.outcomeRules.map(({ rule, remaining }) =>
      Number.isFinite(remaining) ? { ...rule, count: remaining } : { ...rule },
    );
  }

  // ---- reads -------------------------------------------------------------------------------

  listServices(): string[] {
    this.sync();
    return [...this.services.keys()];
  }

  getService(serviceName: string): SimStorage {
    return structuredClone(this.service(serviceName).storage);
  }

  getServiceInfos(serviceName: string): SimServiceInfos {
    return structuredClone(this.service(serviceName).infos);
  }

  listPartitions(serviceName: string): string[] {
    return [...this.service(serviceName).partitions.keys()];
  }

  getPartition(serviceName: string, partitionName: string): SimPartition {
    return { ...this.partition(serviceName, partitionName).info };
  }

  /** GET …/partition/{p}/use?type=: derived from the seeded size and percentages. */
  partitionUsage(serviceName: string, partitionName: string, type: UsageType): SimUsage {
    const { info } = this.partition(serviceName, partitionName);
    const percent = type === 'size' ? 100 : type === 'used' ? info.partitionCapacity : info.usedBySnapshots;
    return { unit: 'GB', value: Math.round(info.size * (percent ?? 0)) / 100 };
  }

  listScheduledTypes(serviceName: string, partitionName: string): SnapshotType[] {
    return [...this.partition(serviceName, partitionName).scheduled];
  }

  getScheduledType(serviceName: string, partitionName: string, type: SnapshotType): { snapshotType: SnapshotType } {
    if (!this.partition(serviceName, partitionName).scheduled.has(type)) throw objectNotFound('type', type);
    return { snapshotType: type };
  }

  listCustomSnapshots(serviceName: string, partitionName: string): string[] {
    return [...this.partition(serviceName, partitionName).custom.keys()];
  }

  getCustomSnapshot(serviceName: string, partitionName: string, name: string): SimCustomSnapshot {
    const snap = this.partition(serviceName, partitionName).custom.get(name);
    if (snap === undefined) throw objectNotFound('name', name);
    return { name: snap.name, expiration: snap.expiration };
  }

  listTasks(serviceName: string, filter: TaskFilter = {}): number[] {
    const ids: number[] = [];
    for (const { task } of this.service(serviceName).tasks.values()) {
      if (filter.status !== undefined && task.status !== filter.status) continue;
      if (filter.operation !== undefined && task.operation !== filter.operation) continue;
      ids.push(task.taskId);
    }
    return ids;
  }

  getTask(serviceName: string, taskId: number): SimTask {
    const record = this.service(serviceName).tasks.get(taskId);
    if (record === undefined) throw objectNotFound('taskId', taskId);
    return { ...record.task };
  }

  // ---- writes (each returns the new task; the change shows only once it is done) ------------

  addScheduledType(serviceName: string, partitionName: string, type: SnapshotType): SimTask {
    const partition = this.partition(serviceName, partitionName);
    const pendingAdds = this.pendingChanges(partition, 'addType');
    if (partition.scheduled.has(type) || pendingAdds.some((change) => change.type === type)) {
      throw conflict(`Snapshot type ${type} is already enabled (or being enabled) on partition ${partitionName}`);
    }
    if (partition.scheduled.size + pendingAdds.length >= this.limits.maxScheduledTypes) {
      throw badRequest(
        `Partition ${partitionName} already has the maximum of ${this.limits.maxScheduledTypes} snapshot types`,
      );
    }
    return this.createTask(serviceName, partition, 'clusterLeclercSnapshotUpdate', { kind: 'addType', type });
  }

  removeScheduledType(serviceName: string, partitionName: string, type: SnapshotType): SimTask {
    const partition = this.partition(serviceName, partitionName);
    if (!partition.scheduled.has(type)) throw objectNotFound('type', type);
    if (this.pendingChanges(partition, 'removeType').some((change) => change.type === type)) {
      throw conflict(`Snapshot type ${type} is already being removed from partition ${partitionName}`);
    }
    return this.createTask(serviceName, partition, 'clusterLeclercSnapshotUpdate', { kind: 'removeType', type });
  }

  createCustomSnapshot(
    serviceName: string,
    partitionName: string,
    request: { name: string; expiration?: string | null | undefined },
  ): SimTask {
    const partition = this.partition(serviceName, partitionName);
    const expiration = request.expiration ?? null;
    if (expiration !== null && Number.isNaN(Date.parse(expiration))) {
      throw badRequest(`[expiration] Given data (${expiration}) is not a valid date`);
    }
    const pendingCreates = this.pendingChanges(partition, 'createCustom');
    if (partition.custom.has(request.name) || pendingCreates.some((change) => change.name === request.name)) {
      throw conflict(
        `A snapshot named ${request.name} already exists (or is being created) on partition ${partitionName}`,
      );
    }
    if (partition.custom.size + pendingCreates.length >= this.limits.maxCustomSnapshots) {
      throw badRequest(
        `Partition ${partitionName} already has the maximum of ${this.limits.maxCustomSnapshots} custom snapshots`,
      );
    }
    return this.createTask(serviceName, partition, 'clusterLeclercCustomSnapCreate', {
      kind: 'createCustom',
      name: request.name,
      expiration,
    });
  }

  deleteCustomSnapshot(serviceName: string, partitionName: string, name: string): SimTask {
    const partition = this.partition(serviceName, partitionName);
    if (!partition.custom.has(name)) throw objectNotFound('name', name);
    if (this.pendingChanges(partition, 'deleteCustom').some((change) => change.name === name)) {
      throw conflict(`Snapshot ${name} is already being deleted from partition ${partitionName}`);
    }
    return this.createTask(serviceName, partition, 'clusterLeclercCustomSnapDelete', { kind: 'deleteCustom', name });
  }

  /** Applies a drift at once (see PartitionDriftSchema); returns the partition's frequencies and snapshots after it. */
  drift(
    serviceName: string,
    partitionName: string,
    drift: PartitionDrift,
  ): { scheduled: SnapshotType[]; custom: string[] } {
    const partition = this.partition(serviceName, partitionName);
    if (drift.scheduled !== undefined) partition.scheduled = new Set(drift.scheduled);
    for (const name of drift.removeCustom ?? []) partition.custom.delete(name);
    if (drift.usedBySnapshots !== undefined) partition.info.usedBySnapshots = drift.usedBySnapshots;
    return { scheduled: [...partition.scheduled], custom: [...partition.custom.keys()] };
  }

  // ---- internals ---------------------------------------------------------------------------

  private service(serviceName: string): ServiceRecord {
    this.sync();
    const service = this.services.get(serviceName);
    if (service === undefined) throw notFound('This service does not exist');
    return service;
  }

  private partition(serviceName: string, partitionName: string): PartitionRecord {
    const partition = this.service(serviceName).partitions.get(partitionName);
    if (partition === undefined) throw objectNotFound('partitionName', partitionName);
    return partition;
  }

  private pendingChanges<K extends Change['kind']>(
    partition: PartitionRecord,
    kind: K,
  ): Extract<Change, { kind: K }>[] {
    return this.pending
      .filter((record) => record.partition === partition && record.change.kind === kind)
      .map((record) => record.change as Extract<Change, { kind: K }>);
  }

  private createTask(
    serviceName: string,
    partition: PartitionRecord,
    operation: TaskFunction,
    change: Change,
  ): SimTask {
    const service = this.service(serviceName);
    const createdAt = this.clock.now();
    const task: SimTask = {
      taskId: this.nextTaskId++,
      operation,
      status: 'todo',
      storageName: serviceName,
      partitionName: partition.info.partitionName,
      details: null,
      todoDate: formatOvhDate(createdAt),
      lastUpdate: null,
      doneDate: null,
    };
    const record: TaskRecord = {
      task,
      createdAt,
      partition,
      change,
      failure: this.takeOutcome(serviceName, partition.info.partitionName, operation),
      settled: false,
    };
    service.tasks.set(task.taskId, record);
    this.pending.push(record);
    return { ...task };
  }

  private takeOutcome(serviceName: string, partitionName: string, operation: TaskFunction): TaskRecord['failure'] {
    const match = this.outcomeRules.find(
      ({ rule }) =>
        (rule.service === undefined || rule.service === serviceName) &&
        (rule.partition === undefined || rule.partition === partitionName) &&
        (rule.operation === undefined || rule.operation === operation),
    );
    if (match === undefined) return null;
    match.remaining -= 1;
    if (match.remaining <= 0) this.outcomeRules = this.outcomeRules.filter((rule) => rule !== match);
    return { status: match.rule.outcome, details: match.rule.details };
  }

  /** Moves tasks along the clock, applies finished changes, then sweeps expired custom snapshots. */
  private sync(): void {
    const now = this.clock.now();
    const { doingAfterMs, doneAfterMs } = this.taskTimings;
    for (const record of this.pending) {
      const { task } = record;
      const doneAt = record.createdAt + doneAfterMs;
      const doingAt = record.createdAt + doingAfterMs;
      if (now >= doneAt) {
        task.status = record.failure?.status ?? 'done';
        task.details = record.failure?.details ?? null;
        task.lastUpdate = formatOvhDate(doneAt);
        task.doneDate = formatOvhDate(doneAt);
        if (record.failure === null) applyChange(record.partition, record.change, doneAt);
        record.settled = true;
      } else if (now >= doingAt && task.status === 'todo') {
        task.status = 'doing';
        task.lastUpdate = formatOvhDate(doingAt);
      }
    }
    this.pending = this.pending.filter((record) => !record.settled);

    for (const service of this.services.values()) {
      for (const partition of service.partitions.values()) {
        for (const [name, snap] of partition.custom) {
          if (snap.expiresAt !== null && snap.expiresAt <= now) partition.custom.delete(name);
        }
      }
    }
  }

  private buildService(seed: ParsedSeedService): ServiceRecord {
    const now = this.clock.now();
    const partitions = new Map<string, PartitionRecord>();
    let usedGb = 0;
    let totalGb = 0;
    for (const partition of seed.partitions) {
      totalGb += partition.size;
      usedGb += (partition.size * (partition.partitionCapacity ?? 0)) / 100;
      const custom = new Map<string, CustomRecord>();
      for (const snap of partition.customSnapshots) {
        custom.set(snap.name, {
          name: snap.name,
          expiration: snap.expiration,
          expiresAt: snap.expiration === null ? null : Date.parse(snap.expiration),
          createdAt: snap.createdAt === undefined ? now : Date.parse(snap.createdAt),
        });
      }
      partitions.set(partition.partitionName, {
        info: {
          partitionName: partition.partitionName,
          partitionDescription: partition.partitionDescription,
          protocol: partition.protocol,
          size: partition.size,
          partitionCapacity: partition.partitionCapacity,
          usedBySnapshots: partition.usedBySnapshots,
        },
        scheduled: new Set(partition.scheduled),
        custom,
      });
    }
    const zpoolSize = seed.zpoolSize ?? Math.max(totalGb, 1);
    const serviceId = seed.serviceId ?? (Number.parseInt(seed.serviceName.replace(/\D/g, ''), 10) || 1);
    return {
      storage: {
        serviceName: seed.serviceName,
        customName: seed.customName,
        datacenter: seed.datacenter,
        diskType: seed.diskType,
        ip: seed.ip,
        monitored: seed.monitored,
        canCreatePartition: seed.canCreatePartition,
        zpoolCapacity: seed.zpoolCapacity ?? Math.min(100, Math.round((usedGb / zpoolSize) * 100)),
        zpoolSize,
        iam: {
          id: stableUuid(seed.serviceName),
          urn: `urn:v1:eu:resource:nasHA:${seed.serviceName}`,
          displayName: seed.customName,
          tags: seed.iamTags,
        },
      },
      infos: {
        canDeleteAtExpiration: true,
        contactAdmin: 'ab12345-ovh',
        contactBilling: 'ab12345-ovh',
        contactTech: 'ab12345-ovh',
        creation: seed.creation,
        domain: seed.serviceName,
        engagedUpTo: null,
        expiration: seed.expiration,
        possibleRenewPeriod: [1, 3, 6, 12],
        renew: { automatic: true, deleteAtExpiration: false, forced: false, manualPayment: false, period: 1 },
        renewalType: 'automaticV2016',
        serviceId,
        status: 'ok',
      },
      partitions,
      tasks: new Map(),
    };
  }
}

function applyChange(partition: PartitionRecord, change: Change, at: number): void {
  switch (change.kind) {
    case 'addType':
      partition.scheduled.add(change.type);
      return;
    case 'removeType':
      partition.scheduled.delete(change.type);
      return;
    case 'createCustom':
      partition.custom.set(change.name, {
        name: change.name,
        expiration: change.expiration,
        expiresAt: change.expiration === null ? null : Date.parse(change.expiration),
        createdAt: at,
      });
      return;
    case 'deleteCustom':
      partition.custom.delete(change.name);
      return;
  }
}

/** OVH dates are second-precision ISO 8601 with an explicit offset (`2026-01-01T00:00:00+00:00`). */
export function formatOvhDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

/** A UUID derived from the service name, so IAM ids are stable across runs. */
function stableUuid(name: string): string {
  const hex = createHash('sha1').update(`nasha-simulator:${name}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Drops `undefined` values so they do not override defaults when spread. */
export function definedOnly<T extends object>(value: T | undefined): { [K in keyof T]?: Exclude<T[K], undefined> } {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
