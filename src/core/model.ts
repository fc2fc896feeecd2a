/**
 * The bot's vocabulary, shared by core, store and Slack layers. No Slack or OVH imports here.
 */

/** Roles, weakest first. A role includes every role before it. */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** The strongest of two roles (undefined = no role). */
export function maxRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return roleRank(a) >= roleRank(b) ? a : b;
}

/** The weakest of two roles (undefined = no role, which is weaker than any). */
export function minRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined || b === undefined) return undefined;
  return roleRank(a) <= roleRank(b) ? a : b;
}

/** What a user can ask the bot to do. */
export const ACTIONS = [
  'read',
  'snapshot.create',
  'schedule.add',
  'snapshot.delete',
  'schedule.remove',
  'approval.decide',
] as const;
export type Action = (typeof ACTIONS)[number];

/** The role each action needs on its target to run it directly, without an approval. */
export const ACTION_ROLE: Readonly<Record<Action, Role>> = {
  read: 'viewer',
  'snapshot.create': 'operator',
  'schedule.add': 'operator',
  'snapshot.delete': 'admin',
  'schedule.remove': 'admin',
  'approval.decide': 'approver',
};

/**
 * The role needed to *request* an action that runs only once approved (`Policy.decide(…, { via: 'approval' })`):
 * operator for every change, since an approver vouches for it before it runs. Reading and deciding on an
 * approval are never themselves approved, so they keep their ACTION_ROLE.
 */
export const REQUEST_ROLE: Readonly<Record<Action, Role>> = {
  read: 'viewer',
  'snapshot.create': 'operator',
  'schedule.add': 'operator',
  'snapshot.delete': 'operator',
  'schedule.remove': 'operator',
  'approval.decide': 'approver',
};

/** A NAS-HA service, optionally narrowed to one partition. */
export interface Target {
  service: string;
  partition?: string | undefined;
}

export function formatTarget(target: Target): string {
  return target.partition === undefined ? target.service : `${target.service}/${target.partition}`;
}

/** Who is asking, from the verified Slack payload only. */
export interface Actor {
  userId: string;
  /** Channel the request came from (caps apply); undefined for surfaces without one. */
  channelId: string | undefined;
}
