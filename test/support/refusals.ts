import type { AuditRefusal } from '../../src/core/audit-detail.js';

/** A viewer's quick run refused (role too low, a direct grant), as the audit trail keeps it, without a target. */
export const VIEWER_QUICK_REFUSAL = {
  kind: 'policy',
  action: 'snapshot.quick',
  via: 'run',
  required: 'operator',
  has: 'viewer',
  denial: { kind: 'role_too_low', has: 'viewer', via: { kind: 'user' } },
} as const satisfies AuditRefusal;
