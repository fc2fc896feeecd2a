/**
 * The bot's vocabulary, shared by core, store and Slack layers. No Slack or OVH imports here. What each action
 * is (role, approval, words) is in the action table, src/core/actions.ts.
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

/** A channel cap: the strongest role usable in a channel, or `none` (the bot refuses everything there). */
export type CapRole = Role | 'none';
export const CAP_ROLES: readonly CapRole[] = [...ROLES, 'none'];

/** One grant of the access configuration (`grants[i]`). */
export interface GrantConfig {
  role: Role;
  /** Slack user IDs (U…/W…). */
  users: readonly string[];
  /** Slack user group IDs (S…). */
  groups: readonly string[];
  /** Target globs: `service`, `service/partition`, `*` = any run of characters except `/`. Never empty. */
  scope: readonly string[];
}

export interface ChannelCapConfig {
  /** Slack channel ID (C…/G…). */
  id: string;
  maxRole: CapRole;
}

/** Everything the policy needs; the configuration parses into it. */
export interface AccessConfig {
  /** In file order; a grant's index is its position in `grants` (shown as `grants[i]`). */
  grants: readonly GrantConfig[];
  /** Unique ids. */
  channels: readonly ChannelCapConfig[];
  /** Cap for channels not in `channels` (and for requests without a channel); `admin` = no cap. */
  unlistedChannels: CapRole;
}

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
  /**
   * Set only by core for the bot acting by itself (a protection policy's plan): never from a Slack payload.
   * The gate allows such an actor what its policy needs on what the policy covers, and nothing else.
   */
  system?: { policy: string } | undefined;
}
