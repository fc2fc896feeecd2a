import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Validation against OVH's OpenAPI 3.0 export of `/dedicated/nasha`
 * (test/fixtures/ovh-dedicated-nasha.openapi.json, a copy of shared/reference; S1 in ovh-api.md).
 *
 * Ajv 8 does not accept OpenAPI's `nullable` next to `allOf`/`$ref` (it wants a `type` beside it),
 * so schemas are rewritten first: `nullable: true` becomes `anyOf: [{type: 'null'}, …]`.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  summary?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: JsonSchema }> }>;
  [extension: string]: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export const OPENAPI_FILE = new URL('../fixtures/ovh-dedicated-nasha.openapi.json', import.meta.url);

let documentCache: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  documentCache ??= JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
  return documentCache;
}

/** `/1.0/dedicated/nasha/{serviceName}` and `/dedicated/nasha/{serviceName}` both name the same path. */
function schemaPath(pathTemplate: string): string {
  return pathTemplate.startsWith('/1.0/') ? pathTemplate.slice(4) : pathTemplate;
}

/** The operation object (parameters, requestBody, responses…); throws when the schema lacks it. */
export function operationFor(method: string, pathTemplate: string): OpenApiOperation {
  const path = openApiDocument().paths[schemaPath(pathTemplate)];
  const operation = path?.[method.toLowerCase()];
  if (operation === undefined) {
    const known = path === undefined ? 'no such path' : `path has ${Object.keys(path).join(', ')}`;
    throw new Error(`OpenAPI schema has no ${method.toUpperCase()} ${pathTemplate} (${known})`);
  }
  return operation;
}

/** The JSON schema of a route's response body (default: the 200 response). */
export function responseSchemaFor(method: string, pathTemplate: string, status = '200'): JsonSchema {
  const schema = operationFor(method, pathTemplate).responses[status]?.content?.['application/json']?.schema;
  if (schema === undefined)
    throw new Error(`OpenAPI schema has no ${status} JSON response for ${method} ${pathTemplate}`);
  return schema;
}

/** The JSON schema of a route's request body, or undefined when it takes none. */
export function requestBodySchemaFor(method: string, pathTemplate: string): JsonSchema | undefined {
  return operationFor(method, pathTemplate).requestBody?.content['application/json']?.schema;
}

/** A reference to a model, e.g. `componentSchema('dedicated.nasTask.Task')`. */
export function componentSchema(name: string): JsonSchema {
  if (openApiDocument().components.schemas[name] === undefined) throw new Error(`No component schema ${name}`);
  return { $ref: `#/components/schemas/${name}` };
}

/**
 * The schema path template matching a concrete API path (`/dedicated/nasha/zpool-1/task/42` →
 * `/dedicated/nasha/{serviceName}/task/{taskId}`), or undefined. Literal segments win over parameters.
 */
export function templateFor(method: string, concretePath: string): string | undefined {
  const segments = schemaPath(concretePath.split('?')[0] ?? '').split('/');
  const candidates = Object.entries(openApiDocument().paths)
    .filter(([, operations]) => operations[method.toLowerCase()] !== undefined)
    .map(([template]) => template)
    .filter((template) => {
      const parts = template.split('/');
      return (
        parts.length === segments.length &&
        parts.every((part, index) => /^\{\w+\}$/.test(part) || part === segments[index])
      );
    });
  const literalCount = (template: string) => template.split('/').filter((part) => !part.startsWith('{')).length;
  return candidates.sort((a, b) => literalCount(b) - literalCount(a))[0];
}

export interface ValidateOptions {
  /**
   * Treat every declared property as required and forbid undeclared ones. The schema itself marks
   * nothing required, so use this to check a server that must send complete models (the simulator).
   */
  closed?: boolean | undefined;
}

/** Validates a value; returns one readable line per problem (empty when valid). */
export function validateAgainst(schema: JsonSchema, value: unknown, options: ValidateOptions = {}): string[] {
  const validate = compile(schema, options.closed === true);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeError);
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat(
  'date-time',
  (value: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)),
);
ajv.addFormat('date', (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)));
ajv.addFormat('time', /^\d{2}:\d{2}:\d{2}(\.\d+)?$/);
ajv.addFormat('ipv4', (value: string) => isIPv4(value));
ajv.addFormat('ipv6', (value: string) => isIPv6(value));
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
ajv.addFormat('ip-block', (value: string) => isCidr(value, 'any'));
ajv.addFormat('ipv4-block', (value: string) => isCidr(value, 4));
ajv.addFormat('ipv6-block', (value: string) => isCidr(value, 6));
ajv.addFormat('mac-address', /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i);
ajv.addFormat('password', true);
ajv.addFormat('phone-number', /^\+?[0-9 .()-]+$/);

const validators = new Map<string, ValidateFunction>();

function compile(schema: JsonSchema, closed: boolean): ValidateFunction {
  const key = `${closed}:${JSON.stringify(schema)}`;
  let validate = validators.get(key);
  if (validate === undefined) {
    const components = Object.fromEntries(
      Object.entries(openApiDocument().components.schemas).map(([name, model]) => [name, normalise(model, closed)]),
    );
    // `#/components/schemas/…` refs resolve against this wrapper's root.
    validate = ajv.compile({ ...(normalise(schema, closed) as JsonSchema), components: { schemas: components } });
    validators.set(key, validate);
  }
  return validate;
}

/** OpenAPI 3.0 → what Ajv accepts: `nullable` rewritten, and (closed) objects made exhaustive. */
function normalise(node: unknown, closed: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => normalise(item, closed));
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, ...rest } = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(rest)) {
    // `properties` and `components.schemas` are maps of schemas, every other object value is a schema.
    out[key] =
      key === 'properties' && typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, normalise(sub, closed)]))
        : normalise(value, closed);
  }
  const properties = out['properties'];
  if (closed && typeof properties === 'object' && properties !== null) {
    out['required'] = Object.keys(properties);
    out['additionalProperties'] ??= false;
  }
  return nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const detail =
    error.keyword === 'additionalProperties'
      ? ` (${String(params['additionalProperty'])})`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify(params['allowedValues'])})`
        : '';
  return `${where} ${error.message ?? error.keyword}${detail}`;
}

function isCidr(value: string, family: 4 | 6 | 'any'): boolean {
  const [address = '', prefix, extra] = value.split('/');
  if (extra !== undefined) return false;
  const v4 = isIPv4(address);
  const v6 = isIPv6(address);
  if ((family === 4 && !v4) || (family === 6 && !v6) || (!v4 && !v6)) return false;
  if (prefix === undefined) return true;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
  return bits >= 0 && bits <= (v4 ? 32 : 128);
}
