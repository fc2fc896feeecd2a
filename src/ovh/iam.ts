import { z } from 'zod';
import { NASHA_ROUTES } from './client.js';
import { OvhApiError } from './errors.js';
import type { HttpMethod, OvhTransport } from './transport.js';

/**
 * Least privilege for a service account through OVH IAM (ovh-api.md, "Service accounts (OAuth2) and IAM
 * policies"): a policy for the account's identity on the exact NAS-HA resource URNs, allowing exactly the actions
 * of the routes the client calls.
 */

const VERBS: Readonly<Record<string, string>> = { GET: 'get', POST: 'create', DELETE: 'delete', PUT: 'edit' };

/**
 * OVH's IAM action of a `/dedicated/nasha` route: `nasHA:apiovh:` + the route's fixed segments below the
 * service + the verb (`POST …/partition/{p}/customSnapshot` → `nasHA:apiovh:partition/customSnapshot/create`).
 * test/ovh/iam.test.ts checks it against every route's `x-iam-actions` in OVH's schema.
 */
export function iamActionOf(method: string, template: string): string {
  const below = template
    .replace(/^\/dedicated\/nasha/, '')
    .split('/')
    .filter((segment) => segment !== '' && !segment.startsWith('{'));
  return `nasHA:apiovh:${[...below, VERBS[method] ?? method.toLowerCase()].join('/')}`;
}

/** Every action the bot uses: one per route the client calls, reads and the snapshot changes. */
export const BOT_IAM_ACTIONS: readonly string[] = [
  ...new Set(Object.values(NASHA_ROUTES).map((route) => iamActionOf(route.method, route.path))),
];

/** What POST /v2/iam/policy takes (the fields the bot sets). */
export interface IamPolicyBody {
  name: string;
  description: string;
  identities: string[];
  resources: Array<{ urn: string }>;
  permissions: { allow: Array<{ action: string }> };
}

const URN = /^urn:v1:([a-z]+):resource:nasHA:([^:]+)$/;

/** The identity URN of a service account: `urn:v1:<region>:identity:credential:<nic>/oauth2-<clientId>`. */
export function serviceAccountIdentity(region: string, nichandle: string, clientId: string): string {
  return `urn:v1:${region}:identity:credential:${nichandle}/oauth2-${clientId}`;
}

/** The least-privilege policy: the bot's actions, for that identity, on those NAS-HA URNs only. */
export function botIamPolicy(options: {
  name: string;
  clientId: string;
  nichandle: string;
  resourceUrns: readonly string[];
}): IamPolicyBody {
  const regions = new Set(options.resourceUrns.map((urn) => URN.exec(urn)?.[1]));
  const [region] = regions;
  if (regions.size !== 1 || region === undefined) {
    throw new RangeError(`NAS-HA URNs of one region expected, got ${options.resourceUrns.join(', ')}`);
  }
  return {
    name: options.name,
    description: `nasha-bot: read NAS-HA, manage snapshots (${options.resourceUrns.length} service(s))`,
    identities: [serviceAccountIdentity(region, options.nichandle, options.clientId)],
    resources: options.resourceUrns.map((urn) => ({ urn })),
    permissions: { allow: BOT_IAM_ACTIONS.map((action) => ({ action })) },
  };
}

const MeSchema = z.object({ nichandle: z.string().min(1) });
const PolicyCreatedSchema = z.object({ id: z.string().min(1), name: z.string() });

/** GET /me: the account the credentials act for (its nichandle names service-account identities). */
export function currentAccount(transport: OvhTransport): Promise<{ nichandle: string }> {
  return transport.call({ method: 'GET', route: '/me', schema: MeSchema });
}

/** The IAM URN OVH gives a NAS-HA service (`iam.urn` of GET /dedicated/nasha/{serviceName}). */
export async function serviceUrn(
  getService: (name: string) => Promise<{ iam?: { urn: string } | null | undefined }>,
  serviceName: string,
): Promise<string> {
  const storage = await getService(serviceName);
  const urn = storage.iam?.urn;
  if (urn === undefined || !URN.test(urn)) {
    throw new OvhApiError({
      kind: 'parse',
      operation: `GET ${NASHA_ROUTES.getService.path}`,
      ovhMessage: `${serviceName} has no NAS-HA IAM URN (iam.urn is ${JSON.stringify(urn ?? null)})`,
    });
  }
  return urn;
}

/** POST /v2/iam/policy. */
export function createIamPolicy(transport: OvhTransport, policy: IamPolicyBody): Promise<{ id: string }> {
  const method: HttpMethod = 'POST';
  return transport.call({ method, route: '/v2/iam/policy', json: { ...policy }, schema: PolicyCreatedSchema });
}
