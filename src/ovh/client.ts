import { z } from 'zod';
import type { ChangedListing, NashaReadCache, WriteInFlight } from './cache.js';
import { OvhApiError } from './errors.js';
import {
  type CustomSnapshot,
  type CustomSnapshotRequest,
  CustomSnapshotSchema,
  type Partition,
  PartitionSchema,
  type Snapshot,
  SnapshotSchema,
  type SnapshotType,
  SnapshotTypeListSchema,
  type Storage,
  StorageSchema,
  StringListSchema,
  type Task,
  type TaskFunction,
  TaskIdListSchema,
  TaskSchema,
  type TaskStatus,
  type UnitAndValue,
  UnitAndValueSchema,
  type UsageType,
} from './models.js';
import { segmentProblem } from './path.js';
import type { HttpMethod, OvhTransport } from './transport.js';

/**
 * Every OVH route the bot calls, with the query/body parameters it may send. The conformance test
 * checks each entry against OVH's published schema.
 */
export const NASHA_ROUTES = {
  listServices: { method: 'GET', path: '/dedicated/nasha', query: [], body: [] },
  getService: { method: 'GET', path: '/dedicated/nasha/{serviceName}', query: [], body: [] },
  listPartitions: { method: 'GET', path: '/dedicated/nasha/{serviceName}/partition', query: [], body: [] },
  getPartition: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}',
    query: [],
    body: [],
  },
  getPartitionUsage: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/use',
    query: ['type'],
    body: [],
  },
  listSnapshotTypes: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot',
    query: [],
    body: [],
  },
  addSnapshotType: {
    method: 'POST',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot',
    query: [],
    body: ['snapshotType'],
  },
  getSnapshotType: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot/{snapshotType}',
    query: [],
    body: [],
  },
  removeSnapshotType: {
    method: 'DELETE',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot/{snapshotType}',
    query: [],
    body: [],
  },
  listCustomSnapshots: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
    query: [],
    body: [],
  },
  createCustomSnapshot: {
    method: 'POST',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
    query: [],
    body: ['name', 'expiration'],
  },
  getCustomSnapshot: {
    method: 'GET',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot/{name}',
    query: [],
    body: [],
  },
  deleteCustomSnapshot: {
    method: 'DELETE',
    path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot/{name}',
    query: [],
    body: [],
  },
  listTasks: { method: 'GET', path: '/dedicated/nasha/{serviceName}/task', query: ['status', 'operation'], body: [] },
  getTask: { method: 'GET', path: '/dedicated/nasha/{serviceName}/task/{taskId}', query: [], body: [] },
} as const satisfies Record<
  string,
  { method: HttpMethod; path: string; query: readonly string[]; body: readonly string[] }
>;

type RouteName = keyof typeof NASHA_ROUTES;

export interface TaskFilter {
  status?: TaskStatus;
  operation?: TaskFunction;
}

/**
 * Typed NAS-HA API v6 calls. Inputs are validated by the transport before anything is sent. With a cache,
 * listings and custom snapshot details are served from it (see NashaReadCache), and the bot's own changes and
 * the tasks it sees end keep it true.
 */
export class NashaClient {
  constructor(
    private readonly transport: OvhTransport,
    private readonly cache?: NashaReadCache,
  ) {}

  listServices(): Promise<string[]> {
    return this.listed('services', '', undefined, () => this.call('listServices', {}, StringListSchema));
  }

  getService(serviceName: string): Promise<Storage> {
    return this.call('getService', { serviceName }, StorageSchema);
  }

  listPartitions(serviceName: string): Promise<string[]> {
    return this.listed('partitions', serviceName, undefined, () =>
      this.call('listPartitions', { serviceName }, StringListSchema),
    );
  }

  getPartition(serviceName: string, partitionName: string): Promise<Partition> {
    return this.call('getPartition', { serviceName, partitionName }, PartitionSchema);
  }

  getPartitionUsage(serviceName: string, partitionName: string, type: UsageType): Promise<UnitAndValue> {
    return this.call('getPartitionUsage', { serviceName, partitionName }, UnitAndValueSchema, { type });
  }

  /** Automatic snapshot frequencies enabled on a partition. */
  listSnapshotTypes(serviceName: string, partitionName: string): Promise<SnapshotType[]> {
    return this.listed('frequencies', serviceName, partitionName, () =>
      this.call('listSnapshotTypes', { serviceName, partitionName }, SnapshotTypeListSchema),
    );
  }

  addSnapshotType(serviceName: string, partitionName: string, snapshotType: SnapshotType): Promise<Task> {
    return this.change('frequencies', serviceName, partitionName, undefined, () =>
      this.call('addSnapshotType', { serviceName, partitionName }, TaskSchema, { snapshotType }),
    );
  }

  getSnapshotType(serviceName: string, partitionName: string, snapshotType: SnapshotType): Promise<Snapshot> {
    return this.call('getSnapshotType', { serviceName, partitionName, snapshotType }, SnapshotSchema);
  }

  removeSnapshotType(serviceName: string, partitionName: string, snapshotType: SnapshotType): Promise<Task> {
    return this.change('frequencies', serviceName, partitionName, undefined, () =>
      this.call('removeSnapshotType', { serviceName, partitionName, snapshotType }, TaskSchema),
    );
  }

  listCustomSnapshots(serviceName: string, partitionName: string): Promise<string[]> {
    return this.listed('snapshots', serviceName, partitionName, () =>
      this.call('listCustomSnapshots', { serviceName, partitionName }, StringListSchema),
    );
  }

  /** `expiration` is ISO 8601 (a date or a date-time with offset); omit it to keep the snapshot. */
  async createCustomSnapshot(
    serviceName: string,
    partitionName: string,
    request: CustomSnapshotRequest,
  ): Promise<Task> {
    const operation = `POST ${NASHA_ROUTES.createCustomSnapshot.path}`;
    // The name later travels in the path of GET/DELETE, so it must be a valid segment from the start.
    const nameProblem = segmentProblem(request?.name);
    if (nameProblem !== undefined)
      throw new OvhApiError({ kind: 'input', operation, ovhMessage: `name ${nameProblem}` });
    if (request.expiration !== undefined && !ExpirationSchema.safeParse(request.expiration).success) {
      throw new OvhApiError({
        kind: 'input',
        operation,
        ovhMessage: 'expiration must be an ISO 8601 date or date-time with offset, e.g. 2026-12-01T12:00:00Z',
      });
    }
    return this.change('snapshots', serviceName, partitionName, undefined, () =>
      this.call('createCustomSnapshot', { serviceName, partitionName }, TaskSchema, {
        name: request.name,
        expiration: request.expiration,
      }),
    );
  }

  getCustomSnapshot(serviceName: string, partitionName: string, name: string): Promise<CustomSnapshot> {
    const fetch = () => this.call('getCustomSnapshot', { serviceName, partitionName, name }, CustomSnapshotSchema);
    return this.cache === undefined ? fetch() : this.cache.snapshot(serviceName, partitionName, name, fetch);
  }

  deleteCustomSnapshot(serviceName: string, partitionName: string, name: string): Promise<Task> {
    return this.change('snapshots', serviceName, partitionName, name, () =>
      this.call('deleteCustomSnapshot', { serviceName, partitionName, name }, TaskSchema),
    );
  }

  async listTasks(serviceName: string, filter: TaskFilter = {}): Promise<number[]> {
    const ids = await this.call('listTasks', { serviceName }, TaskIdListSchema, {
      status: filter.status,
      operation: filter.operation,
    });
    if (filter.status === 'done') this.cache?.tasksDone(serviceName, ids);
    return ids;
  }

  async getTask(serviceName: string, taskId: number): Promise<Task> {
    if (!Number.isSafeInteger(taskId) || taskId <= 0) {
      throw new OvhApiError({
        kind: 'input',
        operation: `GET ${NASHA_ROUTES.getTask.path}`,
        ovhMessage: 'taskId must be a positive integer',
      });
    }
    const task = await this.call('getTask', { serviceName, taskId: String(taskId) }, TaskSchema);
    this.cache?.taskSeen(serviceName, task);
    return task;
  }

  private listed<T>(
    kind: 'services' | 'partitions' | 'frequencies' | 'snapshots',
    serviceName: string,
    partitionName: string | undefined,
    fetch: () => Promise<T[]>,
  ): Promise<T[]> {
    return this.cache === undefined ? fetch() : this.cache.listing(kind, serviceName, partitionName, fetch);
  }

  /** A change to a partition: its listing leaves the cache until OVH's task for it ends. */
  private async change(
    kind: ChangedListing,
    serviceName: string,
    partitionName: string,
    deletedName: string | undefined,
    send: () => Promise<Task>,
  ): Promise<Task> {
    const write: WriteInFlight | undefined = this.cache?.beginWrite(kind, serviceName, partitionName, deletedName);
    try {
      const task = await send();
      write?.sent(task);
      return task;
    } catch (error) {
      write?.failed(error);
      throw error;
    }
  }

  private call<T>(
    name: RouteName,
    segments: Readonly<Record<string, unknown>>,
    schema: z.ZodType<T>,
    params?: Readonly<Record<string, string | number | undefined>>,
  ): Promise<T> {
    const route = NASHA_ROUTES[name];
    return this.transport.call({
      method: route.method,
      route: route.path,
      segments,
      schema,
      ...(params && { params }),
    });
  }
}

const ExpirationSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
