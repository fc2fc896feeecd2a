import { z } from 'zod';

/**
 * zod mirrors of OVH's `/dedicated/nasha` models (../shared/reference/ovh-dedicated-nasha.openapi.json).
 * Objects are not strict: OVH adds fields over time and an unknown field must not break the bot.
 * Fields the bot relies on are required; fields the schema marks nullable accept null.
 */

export const SNAPSHOT_TYPES = ['day-1', 'day-2', 'day-3', 'day-7', 'hour-1', 'hour-6'] as const;
export const SnapshotTypeSchema = z.enum(SNAPSHOT_TYPES);
export type SnapshotType = z.infer<typeof SnapshotTypeSchema>;

export const TASK_STATUSES = ['cancelled', 'customerError', 'doing', 'done', 'init', 'ovhError', 'todo'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
export const PENDING_TASK_STATUSES: readonly TaskStatus[] = ['init', 'todo', 'doing'];
export const FAILED_TASK_STATUSES: readonly TaskStatus[] = ['cancelled', 'customerError', 'ovhError'];

export const TASK_FUNCTIONS = [
  'backupRecursiveDestroy',
  'clusterLeclercAclUpdate',
  'clusterLeclercChangeServiceIp',
  'clusterLeclercCustomSnapCreate',
  'clusterLeclercCustomSnapDelete',
  'clusterLeclercDeleteSnapshotDirectory',
  'clusterLeclercDestroyNasContainer',
  'clusterLeclercPartitionAdd',
  'clusterLeclercPartitionDelete',
  'clusterLeclercPartitionUpdate',
  'clusterLeclercQuotaUpdate',
  'clusterLeclercSetupNasContainer',
  'clusterLeclercSnapshotUpdate',
  'clusterLeclercZfsOptions',
  'nasAclUpdate',
  'nasDeleteSnapshotDirectory',
  'nasPartitionAdd',
  'nasPartitionDelete',
  'nasPartitionUpdate',
  'nasQuotaUpdate',
  'remoteBackupRecursiveDestroy',
] as const;
export const TaskFunctionSchema = z.enum(TASK_FUNCTIONS);
export type TaskFunction = z.infer<typeof TaskFunctionSchema>;

export const PROTOCOLS = ['CIFS', 'NFS', 'NFS_CIFS'] as const;
export const ProtocolSchema = z.enum(PROTOCOLS);
export const DISK_TYPES = ['hdd', 'nvme', 'ssd'] as const;
export const DiskTypeSchema = z.enum(DISK_TYPES);
export const USAGE_TYPES = ['size', 'used', 'usedbysnapshots'] as const;
export const UsageTypeSchema = z.enum(USAGE_TYPES);
export type UsageType = z.infer<typeof UsageTypeSchema>;

/** dedicated.nasha.StorageWithIAM */
export const StorageSchema = z.object({
  serviceName: z.string(),
  customName: z.string().nullable().optional(),
  datacenter: z.string().nullable().optional(),
  diskType: DiskTypeSchema.optional(),
  ip: z.string().nullable().optional(),
  monitored: z.boolean().optional(),
  canCreatePartition: z.boolean().optional(),
  zpoolCapacity: z.number().optional(),
  zpoolSize: z.number().optional(),
  iam: z
    .object({
      id: z.string(),
      urn: z.string(),
      displayName: z.string().nullable().optional(),
      tags: z.record(z.string(), z.string()).nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type Storage = z.infer<typeof StorageSchema>;

/** dedicated.nasha.Partition */
export const PartitionSchema = z.object({
  partitionName: z.string(),
  partitionDescription: z.string().nullable().optional(),
  protocol: ProtocolSchema,
  size: z.number(),
  partitionCapacity: z.number().nullable().optional(),
  usedBySnapshots: z.number().nullable().optional(),
});
export type Partition = z.infer<typeof PartitionSchema>;

/** complexType.UnitAndValue<double> */
export const UnitAndValueSchema = z.object({ unit: z.string(), value: z.number() });
export type UnitAndValue = z.infer<typeof UnitAndValueSchema>;

/** dedicated.nasha.Snapshot: one enabled automatic snapshot frequency. */
export const SnapshotSchema = z.object({ snapshotType: SnapshotTypeSchema });
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** dedicated.nasha.customSnap: OVH keeps only a name and an optional expiration, nothing else. */
export const CustomSnapshotSchema = z.object({ name: z.string(), expiration: z.string().nullable() });
export type CustomSnapshot = z.infer<typeof CustomSnapshotSchema>;

/** dedicated.nasTask.Task, returned by every POST/DELETE on snapshot routes. */
export const TaskSchema = z.object({
  taskId: z.number().int(),
  operation: TaskFunctionSchema,
  status: TaskStatusSchema,
  storageName: z.string().nullable().optional(),
  partitionName: z.string().nullable().optional(),
  details: z.string().nullable().optional(),
  todoDate: z.string().nullable().optional(),
  lastUpdate: z.string().nullable().optional(),
  doneDate: z.string().nullable().optional(),
});
export type Task = z.infer<typeof TaskSchema>;

export const StringListSchema = z.array(z.string());
export const SnapshotTypeListSchema = z.array(SnapshotTypeSchema);
export const TaskIdListSchema = z.array(z.number().int());

/** Body of POST .../customSnapshot. `expiration` is ISO 8601 and optional. */
export interface CustomSnapshotRequest {
  name: string;
  expiration?: string;
}

/** Custom snapshots a partition may hold (OVH FAQ, control panel): a create beyond it fails. */
export const MAX_CUSTOM_SNAPSHOTS = 10;
