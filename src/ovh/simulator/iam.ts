import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { SimulatorApiError } from './api-error.js';
import { globToRegExp } from './auth.js';

/**
 * OVH service accounts (OAuth2 client credentials) and IAM policies (ovh-api.md, "Service accounts (OAuth2) and
 * IAM policies"): the token endpoint, Bearer authentication, and policy evaluation on actions such as
 * `nasHA:apiovh:partition/customSnapshot/create` and resource URNs. Deny unless a policy allows; a deny wins.
 */

export interface ServiceAccountSpec {
  clientId: string;
  clientSecret: string;
}

/** The service account the simulator accepts by default (and prints from the CLI). */
export const SANDBOX_SERVICE_ACCOUNT: Readonly<ServiceAccountSpec> = {
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
};

/** The account owning everything (GET /me `nichandle`; the identity URNs' account). */
export const SANDBOX_NICHANDLE = 'sim42-ovh';

const ActionSchema = z.strictObject({ action: z.string().min(1).max(200) });
/** Body of POST /v2/iam/policy (the fields the simulator models; others are refused as OVH refuses unknowns). */
export const IamPolicyInputSchema = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,100}$/, 'name must be 1 to 100 letters, digits, "_", "." or "-"'),
  description: z.string().max(300).optional(),
  identities: z.array(z.string().startsWith('urn:v1:')).min(1),
  resources: z.array(z.strictObject({ urn: z.string().startsWith('urn:v1:') })).min(1),
  permissions: z.strictObject({
    allow: z.array(ActionSchema).optional(),
    except: z.array(ActionSchema).optional(),
    deny: z.array(ActionSchema).optional(),
  }),
});
export type IamPolicyInput = z.infer<typeof IamPolicyInputSchema>;

export interface IamPolicy extends IamPolicyInput {
  id: string;
  readOnly: boolean;
  createdAt: string;
}

/** The identity URN of a service account, as OVH writes it. */
export function serviceAccountUrn(nichandle: string, clientId: string, region = 'eu'): string {
  return `urn:v1:${region}:identity:credential:${nichandle}/oauth2-${clientId}`;
}

/** `*` in an action matches any run of characters (`nasHA:apiovh:*`, `*`), as in access rules. */
function actionMatches(pattern: string, action: string): boolean {
  return globToRegExp(pattern).test(action);
}

export const IAM_ERRORS = {
  notGranted: (action: string) =>
    new SimulatorApiError(403, {
      class: 'Client::Forbidden',
      message: 'User not granted for this request',
      details: { unauthorizedActionsByIAM: action },
    }),
  invalidToken: () =>
    new SimulatorApiError(401, { class: 'Client::Unauthorized', message: 'Invalid or expired access token' }),
};

/** What the token endpoint answers (RFC 6749 §5.1/§5.2), with the status. */
export type TokenAnswer = { status: number; body: Record<string, unknown> };

export class IamStore {
  readonly nichandle: string;
  private readonly accounts = new Map<string, ServiceAccountSpec>();
  private readonly tokens = new Map<string, { clientId: string; expiresAtMs: number }>();
  private readonly policies: IamPolicy[] = [];
  private nextPolicy = 1;

  constructor(
    options: {
      nichandle: string;
      serviceAccounts: readonly ServiceAccountSpec[];
      policies: readonly IamPolicyInput[];
      tokenLifetimeSeconds: number;
    },
    private readonly now: () => number,
  ) {
    this.nichandle = options.nichandle;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds;
    for (const account of options.serviceAccounts) this.accounts.set(account.clientId, { ...account });
    for (const policy of options.policies) this.addPolicy(policy);
  }

  private readonly tokenLifetimeSeconds: number;

  /** Tokens issued so far (tests count fetches). */
  issued = 0;

  identityOf(clientId: string): string {
    return serviceAccountUrn(this.nichandle, clientId);
  }

  addPolicy(input: IamPolicyInput): IamPolicy {
    const policy: IamPolicy = {
      ...structuredClone(input),
      id: `00000000-0000-4000-8000-${String(this.nextPolicy++).padStart(12, '0')}`,
      readOnly: false,
      createdAt: new Date(this.now()).toISOString(),
    };
    this.policies.push(policy);
    return policy;
  }

  listPolicies(): IamPolicy[] {
    return structuredClone(this.policies);
  }

  /** Every token issued so far stops working (a revoked secret, a rotated key). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** POST /auth/oauth2/token: client credentials in HTTP Basic or in the form, `grant_type=client_credentials`. */
  issueToken(headers: IncomingHttpHeaders, rawBody: string): TokenAnswer {
    const form = new URLSearchParams(rawBody);
    const contentType = String(headers['content-type'] ?? '');
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'form-encoded body expected' } };
    }
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(String(headers.authorization ?? ''));
    if (basic !== null) {
      const [id, ...secret] = Buffer.from(basic[1] ?? '', 'base64')
        .toString('utf8')
        .split(':');
      const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
      clientId = decode(id ?? '');
      clientSecret = decode(secret.join(':'));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'client_credentials only' } };
    }
    const account = clientId === undefined ? undefined : this.accounts.get(clientId);
    if (account === undefined || account.clientSecret !== clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
    }
    const scope = form.get('scope');
    if (scope !== null && scope !== 'all') {
      return { status: 400, body: { error: 'invalid_scope', error_description: 'only the scope "all" exists' } };
    }
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { clientId: account.clientId, expiresAtMs: this.now() + this.tokenLifetimeSeconds * 1_000 });
    this.issued += 1;
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, scope: 'all' },
    };
  }

  /** The identity URN of a valid Bearer token; throws OVH's 401 otherwise. */
  authenticate(authorization: string): string {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const entry = token === undefined ? undefined : this.tokens.get(token);
    if (entry === undefined || entry.expiresAtMs <= this.now()) throw IAM_ERRORS.invalidToken();
    return this.identityOf(entry.clientId);
  }

  /** Whether `identity` may do `action` on `resourceUrn`: some policy allows it (minus `except`), none denies it. */
  allows(identity: string, action: string, resourceUrn: string): boolean {
    const applicable = this.policies.filter(
      (p) => p.identities.includes(identity) && p.resources.some((r) => r.urn === resourceUrn),
    );
    const any = (list: readonly { action: string }[] | undefined) =>
      (list ?? []).some((entry) => actionMatches(entry.action, action));
    if (applicable.some((p) => any(p.permissions.deny))) return false;
    return applicable.some((p) => any(p.permissions.allow) && !any(p.permissions.except));
  }

  /** Throws OVH's 403 unless allowed. */
  authorize(identity: string, action: string, resourceUrn: string): void {
    if (!this.allows(identity, action, resourceUrn)) throw IAM_ERRORS.notGranted(action);
  }
}
