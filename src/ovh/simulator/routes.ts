import { SNAPSHOT_TYPES, TASK_FUNCTIONS, TASK_STATUSES, USAGE_TYPES } from '../models.js';
import { badRequest } from './api-error.js';
import type { SimulatorState } from './state.js';

/** The `/dedicated/nasha` routes the simulator serves (ovh-api.md §1.1, routes 1-16). */

export interface RouteContext {
  state: SimulatorState;
  /** A decoded path parameter of the matched template. */
  param(name: string): string;
  query: URLSearchParams;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  template: string;
  handle(ctx: RouteContext): unknown;
}

const SERVICE = '/dedicated/nasha/{serviceName}';
const PARTITION = `${SERVICE}/partition/{partitionName}`;
const SNAPSHOT_ENUM = 'dedicated.storage.SnapshotEnum';

const service = (ctx: RouteContext): string => ctx.param('serviceName');
const partition = (ctx: RouteContext): [string, string] => [ctx.param('serviceName'), ctx.param('partitionName')];

export const NASHA_ROUTES: readonly Route[] = [
  { method: 'GET', template: '/dedicated/nasha', handle: (ctx) => ctx.state.listServices() },
  { method: 'GET', template: SERVICE, handle: (ctx) => ctx.state.getService(service(ctx)) },
  { method: 'GET', template: `${SERVICE}/serviceInfos`, handle: (ctx) => ctx.state.getServiceInfos(service(ctx)) },
  { method: 'GET', template: `${SERVICE}/partition`, handle: (ctx) => ctx.state.listPartitions(service(ctx)) },
  { method: 'GET', template: PARTITION, handle: (ctx) => ctx.state.getPartition(...partition(ctx)) },
  {
    method: 'GET',
    template: `${PARTITION}/use`,
    handle: (ctx) => {
      const type = enumValue(
        'type',
        mandatoryQuery(ctx.query, 'type'),
        USAGE_TYPES,
        'dedicated.storage.PartitionUsageTypeEnum',
      );
      return ctx.state.partitionUsage(...partition(ctx), type);
    },
  },
  {
    method: 'GET',
    template: `${PARTITION}/snapshot`,
    handle: (ctx) => ctx.state.listScheduledTypes(...partition(ctx)),
  },
  {
    method: 'POST',
    template: `${PARTITION}/snapshot`,
    handle: (ctx) => {
      const body = objectBody(ctx.body, ['snapshotType']);
      const type = enumValue('snapshotType', mandatoryString(body, 'snapshotType'), SNAPSHOT_TYPES, SNAPSHOT_ENUM);
      return ctx.state.addScheduledType(...partition(ctx), type);
    },
  },
  {
    method: 'GET',
    template: `${PARTITION}/snapshot/{snapshotType}`,
    handle: (ctx) =>
      ctx.state.getScheduledType(
        ...partition(ctx),
        enumValue('snapshotType', ctx.param('snapshotType'), SNAPSHOT_TYPES, SNAPSHOT_ENUM),
      ),
  },
  {
    method: 'DELETE',
    template: `${PARTITION}/snapshot/{snapshotType}`,
    handle: (ctx) =>
      ctx.state.removeScheduledType(
        ...partition(ctx),
        enumValue('snapshotType', ctx.param('snapshotType'), SNAPSHOT_TYPES, SNAPSHOT_ENUM),
      ),
  },
  {
    method: 'GET',
    template: `${PARTITION}/customSnapshot`,
    handle: (ctx) => ctx.state.listCustomSnapshots(...partition(ctx)),
  },
  {
    method: 'POST',
    template: `${PARTITION}/customSnapshot`,
    handle: (ctx) => {
      const body = objectBody(ctx.body, ['name', 'expiration']);
      const name = mandatoryString(body, 'name');
      if (!/^[^\s/\\]{1,128}$/u.test(name))
        throw badRequest(`[name] Given data (${name}) is not a valid snapshot name`);
      return ctx.state.createCustomSnapshot(...partition(ctx), {
        name,
        expiration: optionalString(body, 'expiration'),
      });
    },
  },
  {
    method: 'GET',
    template: `${PARTITION}/customSnapshot/{name}`,
    handle: (ctx) => ctx.state.getCustomSnapshot(...partition(ctx), ctx.param('name')),
  },
  {
    method: 'DELETE',
    template: `${PARTITION}/customSnapshot/{name}`,
    handle: (ctx) => ctx.state.deleteCustomSnapshot(...partition(ctx), ctx.param('name')),
  },
  {
    method: 'GET',
    template: `${SERVICE}/task`,
    handle: (ctx) => {
      const status = ctx.query.get('status');
      const operation = ctx.query.get('operation');
      return ctx.state.listTasks(service(ctx), {
        status: status === null ? undefined : enumValue('status', status, TASK_STATUSES, 'dedicated.TaskStatusEnum'),
        operation:
          operation === null
            ? undefined
            : enumValue('operation', operation, TASK_FUNCTIONS, 'dedicated.storage.TaskFunctionEnum'),
      });
    },
  },
  {
    method: 'GET',
    template: `${SERVICE}/task/{taskId}`,
    handle: (ctx) => {
      const raw = ctx.param('taskId');
      const taskId = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(taskId)) throw badRequest(`[taskId] Given data (${raw}) is not a valid long`);
      return ctx.state.getTask(service(ctx), taskId);
    },
  },
];

export interface RouteMatch {
  route: Route;
  params: ReadonlyMap<string, string>;
}

/**
 * Finds the route for a raw (still percent-encoded) API path. Parameters are decoded one segment
 * at a time, so an encoded `/` stays inside its segment. Undefined means OVH's "invalid URL".
 */
export function matchRoute(routes: readonly Route[], method: string, apiPath: string): RouteMatch | undefined {
  const segments = apiPath.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const template = route.template.split('/');
    if (template.length !== segments.length) continue;
    const params = new Map<string, string>();
    const matched = template.every((part, index) => {
      const segment = segments[index] ?? '';
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part === segment;
      const decoded = safeDecode(segment);
      if (decoded === undefined || decoded === '') return false;
      params.set(name, decoded);
      return true;
    });
    if (matched) return { route, params };
  }
  return undefined;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

// ---- request validation, with OVH-style messages ------------------------------------------

function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Invalid body: a JSON object is expected');
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw badRequest(`[${unknown.join(', ')}] Unknown parameter`);
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  // node-ovh drops null/undefined params; a null sent by another client means "absent" too.
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`[${key}] Given data (${JSON.stringify(value)}) is not a string`);
  return value;
}

function mandatoryString(body: Record<string, unknown>, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined || value === '') throw badRequest(`[${key}] Property is mandatory`);
  return value;
}

function mandatoryQuery(query: URLSearchParams, key: string): string {
  const value = query.get(key);
  if (value === null || value === '') throw badRequest(`[${key}] Property is mandatory`);
  return value;
}

function enumValue<T extends string>(key: string, value: string, values: readonly T[], enumName: string): T {
  if (!(values as readonly string[]).includes(value)) {
    throw badRequest(`[${key}] Given data (${value}) does not belong to the ${enumName} enumeration`);
  }
  return value as T;
}
