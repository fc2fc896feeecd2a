import { describe, expect, it } from 'vitest';
import { NASHA_ROUTES } from '../../src/ovh/client.js';
import { SNAPSHOT_TYPES, TASK_FUNCTIONS, TASK_STATUSES, USAGE_TYPES } from '../../src/ovh/models.js';
import { openApiDocument, operationFor, requestBodySchemaFor } from '../support/openapi.js';

/** The client must only use routes and parameters that OVH's published schema has. */
describe("client routes against OVH's schema", () => {
  it.each(Object.entries(NASHA_ROUTES))(
    '%s exists with its method, path parameters and query parameters',
    (_name, route) => {
      const operation = operationFor(route.method, route.path);
      const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = operation.parameters ?? [];
      expect(
        declared
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort(),
      ).toEqual(pathParams.sort());
      const queryNames = declared.filter((p) => p.in === 'query').map((p) => p.name);
      for (const name of route.query) expect(queryNames).toContain(name);
      // Required query parameters are always sent.
      for (const p of declared) if (p.in === 'query' && p.required) expect(route.query).toContain(p.name);
    },
  );

  it.each(Object.entries(NASHA_ROUTES))(
    '%s sends only body fields the schema declares, and all required ones',
    (_name, route) => {
      const body = requestBodySchemaFor(route.method, route.path) as
        | { properties?: Record<string, unknown>; required?: string[] }
        | undefined;
      if (route.body.length === 0) {
        expect(body?.required ?? []).toEqual([]);
        return;
      }
      expect(Object.keys(body?.properties ?? {}).sort()).toEqual([...route.body].sort());
      for (const field of body?.required ?? []) expect(route.body as readonly string[]).toContain(field);
    },
  );

  it('uses the same enums as the schema', () => {
    const values = (name: string) => {
      const schema = openApiDocument().components.schemas[name] as { enum?: string[] } | undefined;
      if (schema?.enum === undefined) throw new Error(`${name} has no enum in the schema`);
      return schema.enum;
    };
    expect([...SNAPSHOT_TYPES].sort()).toEqual(values('dedicated.storage.SnapshotEnum').sort());
    expect([...TASK_STATUSES].sort()).toEqual(values('dedicated.TaskStatusEnum').sort());
    expect([...TASK_FUNCTIONS].sort()).toEqual(values('dedicated.storage.TaskFunctionEnum').sort());
    expect([...USAGE_TYPES].sort()).toEqual(values('dedicated.storage.PartitionUsageTypeEnum').sort());
  });
});
