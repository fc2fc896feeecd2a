import { z } from 'zod';
import { DiskTypeSchema, ProtocolSchema, type SnapshotType, SnapshotTypeSchema } from '../models.js';
import { describeZodError } from './api-error.js';

/**
 * The simulator's fixture: services, their partitions, schedules and existing custom snapshots.
 * Objects are strict so a typo in a hand-written seed file fails loudly instead of being ignored.
 */

const IsoDateTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date');

export const SeedCustomSnapshotSchema = z.strictObject({
  name: z.string().min(1),
  expiration: IsoDateTime.nullable().default(null),
  /** Internal only (OVH does not expose it); defaults to the simulator's start time. */
  createdAt: IsoDateTime.optional(),
});

export const SeedPartitionSchema = z
  .strictObject({
    partitionName: z.string().min(1),
    partitionDescription: z.string().nullable().default(null),
    protocol: ProtocolSchema.default('NFS'),
    /** GB; OVH's minimum is 10. */
    size: z.number().int().min(10),
    /** % of the partition used. */
    partitionCapacity: z.number().int().min(0).max(100).nullable().default(0),
    /** % of the partition used by snapshots. */
    usedBySnapshots: z.number().int().min(0).max(100).nullable().default(0),
    /** Enabled automatic snapshot frequencies; OVH enables `hour-1` on a new partition. */
    scheduled: z.array(SnapshotTypeSchema).default(['hour-1']),
    customSnapshots: z.array(SeedCustomSnapshotSchema).default([]),
  })
  .superRefine((partition, ctx) => {
    if (new Set(partition.scheduled).size !== partition.scheduled.length) {
      ctx.addIssue({ code: 'custom', path: ['scheduled'], message: 'duplicate snapshot type' });
    }
    reportDuplicates(
      partition.customSnapshots.map((snap) => snap.name),
      ['customSnapshots'],
      ctx,
    );
  });

export const SeedServiceSchema = z
  .strictObject({
    serviceName: z.string().min(1),
    customName: z.string().nullable().default(null),
    datacenter: z.string().nullable().default('rbx'),
    diskType: DiskTypeSchema.default('hdd'),
    ip: z.ipv4().nullable().default(null),
    monitored: z.boolean().default(false),
    canCreatePartition: z.boolean().default(true),
    /** GB; defaults to the sum of the partition sizes. */
    zpoolSize: z.number().int().positive().optional(),
    /** % of the NAS used; defaults to what the partitions use. */
    zpoolCapacity: z.number().int().min(0).max(100).optional(),
    iamTags: z.record(z.string(), z.string()).nullable().default(null),
    serviceId: z.number().int().positive().optional(),
    /** `services.Service` dates (YYYY-MM-DD). */
    creation: z.iso.date().default('2023-03-14'),
    expiration: z.iso.date().default('2027-03-14'),
    partitions: z.array(SeedPartitionSchema).default([]),
  })
  .superRefine((service, ctx) => {
    reportDuplicates(
      service.partitions.map((partition) => partition.partitionName),
      ['partitions'],
      ctx,
    );
  });

export const SeedSchema = z.strictObject({ services: z.array(SeedServiceSchema) }).superRefine((seed, ctx) => {
  reportDuplicates(
    seed.services.map((service) => service.serviceName),
    ['services'],
    ctx,
  );
});

/** A seed as written by hand (defaults not applied yet). */
export type SimulatorSeed = z.input<typeof SeedSchema>;
export type ParsedSeed = z.output<typeof SeedSchema>;
export type ParsedSeedService = ParsedSeed['services'][number];
export type ParsedSeedPartition = ParsedSeedService['partitions'][number];

/** Validates a seed; the error message names every offending key (`seed.services[0].partitions[2].size: …`). */
export function parseSeed(input: unknown, root = 'seed'): ParsedSeed {
  const result = SeedSchema.safeParse(input);
  if (!result.success) throw new Error(`Invalid simulator seed:\n${describeZodError(result.error, root)}`);
  return result.data;
}

function reportDuplicates(names: readonly string[], path: PropertyKey[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) ctx.addIssue({ code: 'custom', path, message: `duplicate name ${JSON.stringify(name)}` });
    seen.add(name);
  }
}

const DAY_MS = 86_400_000;

/**
 * The default fixture. `now` anchors the relative dates (expirations in the future, creation
 * times in the past) so expiry tests behave the same on any clock.
 */
export function defaultSeed(now: number = Date.now()): SimulatorSeed {
  const iso = (offsetMs: number): string => new Date(now + offsetMs).toISOString();
  return {
    services: [
      {
        serviceName: 'zpool-128310',
        customName: 'Production NAS (RBX)',
        datacenter: 'rbx',
        diskType: 'hdd',
        ip: '198.51.100.24',
        monitored: true,
        zpoolSize: 3600,
        serviceId: 10_128_310,
        iamTags: { environment: 'production' },
        partitions: [
          {
            partitionName: 'data',
            partitionDescription: 'Application data',
            protocol: 'NFS',
            size: 2000,
            partitionCapacity: 71,
            usedBySnapshots: 9,
            scheduled: ['hour-1', 'day-1', 'day-7'],
            customSnapshots: [
              { name: 'snap-data-pre-upgrade', createdAt: iso(-40 * DAY_MS) },
              { name: 'snap-data-2025-12-01T09:30:00.000Z', createdAt: iso(-20 * DAY_MS) },
            ],
          },
          {
            // Already at the 10/10 custom snapshot limit.
            partitionName: 'backups',
            partitionDescription: 'Nightly database dumps',
            protocol: 'NFS',
            size: 1000,
            partitionCapacity: 88,
            usedBySnapshots: 17,
            scheduled: ['hour-1', 'day-1'],
            customSnapshots: Array.from({ length: 10 }, (_, index) => ({
              name: `snap-backups-week-${String(index + 1).padStart(2, '0')}`,
              createdAt: iso(-(70 - index * 7) * DAY_MS),
            })),
          },
          {
            partitionName: 'logs',
            partitionDescription: null,
            protocol: 'CIFS',
            size: 200,
            partitionCapacity: 34,
            usedBySnapshots: 2,
            scheduled: ['hour-1'],
          },
        ],
      },
      {
        serviceName: 'zpool-204117',
        customName: 'Staging NAS (GRA)',
        datacenter: 'gra',
        diskType: 'ssd',
        ip: '198.51.100.77',
        zpoolSize: 3600,
        serviceId: 10_204_117,
        partitions: [
          {
            // Already at the default cap of 4 scheduled types; custom snapshots with expirations.
            partitionName: 'db',
            partitionDescription: 'PostgreSQL data directory',
            protocol: 'NFS',
            size: 800,
            partitionCapacity: 62,
            usedBySnapshots: 21,
            scheduled: ['hour-1', 'hour-6', 'day-1', 'day-7'],
            customSnapshots: [
              { name: 'snap-db-before-migration', expiration: iso(DAY_MS), createdAt: iso(-DAY_MS) },
              { name: 'snap-db-month-end', expiration: iso(30 * DAY_MS), createdAt: iso(-2 * DAY_MS) },
              { name: 'snap-db-keep', expiration: null, createdAt: iso(-90 * DAY_MS) },
            ],
          },
          {
            partitionName: 'uploads',
            partitionDescription: 'User uploads',
            protocol: 'NFS_CIFS',
            size: 500,
            partitionCapacity: 45,
            usedBySnapshots: 5,
            scheduled: ['hour-1', 'day-2'],
            customSnapshots: [{ name: 'snap-uploads-2025-11-20', createdAt: iso(-30 * DAY_MS) }],
          },
          {
            // No automatic snapshots at all.
            partitionName: 'media',
            partitionDescription: 'Encoded video',
            protocol: 'CIFS',
            size: 1000,
            partitionCapacity: 93,
            usedBySnapshots: 3,
            scheduled: [],
          },
          {
            partitionName: 'scratch',
            protocol: 'NFS',
            size: 100,
            partitionCapacity: 12,
            usedBySnapshots: 0,
          },
        ],
      },
      {
        // ~120 partitions, to exercise Slack's option-list limits (100 per static select).
        serviceName: 'zpool-310442',
        customName: 'Bulk volumes (SBG)',
        datacenter: 'sbg',
        diskType: 'hdd',
        ip: '203.0.113.42',
        zpoolSize: 19_200,
        serviceId: 10_310_442,
        partitions: Array.from({ length: 120 }, (_, index) => bulkPartition(index, iso)),
      },
      {
        // A freshly delivered NAS: no partitions, no custom name, no IP yet.
        serviceName: 'zpool-417755',
        datacenter: 'bhs',
        diskType: 'nvme',
        zpoolSize: 1200,
        zpoolCapacity: 0,
        serviceId: 10_417_755,
        partitions: [],
      },
    ],
  };
}

const BULK_PROTOCOLS = ['NFS', 'CIFS', 'NFS_CIFS'] as const;
const BULK_SCHEDULES: readonly SnapshotType[][] = [['hour-1'], ['hour-1', 'day-1'], ['day-7'], ['hour-1', 'hour-6']];

function bulkPartition(index: number, iso: (offsetMs: number) => string): z.input<typeof SeedPartitionSchema> {
  const number = String(index + 1).padStart(3, '0');
  return {
    partitionName: `vol-${number}`,
    partitionDescription: index % 5 === 0 ? `Bulk volume ${number}` : null,
    protocol: BULK_PROTOCOLS[index % BULK_PROTOCOLS.length] ?? 'NFS',
    size: 50 + (index % 7) * 25,
    partitionCapacity: (index * 37) % 100,
    usedBySnapshots: (index * 11) % 20,
    scheduled: [...(BULK_SCHEDULES[index % BULK_SCHEDULES.length] ?? ['hour-1'])],
    customSnapshots: index < 3 ? [{ name: `snap-vol-${number}-baseline`, createdAt: iso(-10 * DAY_MS) }] : [],
  };
}
