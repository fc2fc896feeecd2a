import type { MessageKey } from '../slack/i18n/en.js';
import type { NameDirectory } from './render.js';

/**
 * The sandbox's pretend Slack workspace: a few people in different roles and groups, the channels
 * they talk in, and the bot configuration that gives them those roles. Every feature can be tried
 * by switching between them.
 */

export interface SandboxUser {
  id: string;
  name: string;
  /** What this person may do, for the banner and `/users` (a catalog message: the console speaks their language). */
  role: MessageKey;
  /** Their Slack locale and time zone, as users.info answers them (the bot reads them in that language). */
  locale?: string;
  tz?: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
  about: MessageKey;
}

export interface SandboxGroup {
  id: string;
  handle: string;
  members: readonly string[];
}

export interface SandboxWorkspace {
  users: readonly SandboxUser[];
  channels: readonly SandboxChannel[];
  groups: readonly SandboxGroup[];
  auditChannel: string;
  approvalsChannel: string;
  /** The bot configuration (NASHA_CONFIG) matching these people and channels. */
  config: string;
}

const USERS: readonly SandboxUser[] = [
  { id: 'U0ALICE', name: 'alice', role: 'sandbox.role.alice', locale: 'en-US' },
  { id: 'U0BOB', name: 'bob', role: 'sandbox.role.bob', locale: 'en-US' },
  { id: 'U0CAROL', name: 'carol', role: 'sandbox.role.carol', locale: 'en-GB' },
  { id: 'U0DAVE', name: 'dave', role: 'sandbox.role.dave', locale: 'en-US' },
  { id: 'U0ERIN', name: 'erin', role: 'sandbox.role.erin', locale: 'en-US' },
  // Reads the bot in French: her forms, replies and this console speak French, times in Paris time.
  { id: 'U0CAMILLE', name: 'camille', role: 'sandbox.role.camille', locale: 'fr-FR', tz: 'Europe/Paris' },
];

const CHANNELS: readonly SandboxChannel[] = [
  { id: 'C0OPS', name: 'ops', about: 'sandbox.about.ops' },
  { id: 'C0GENERAL', name: 'general', about: 'sandbox.about.general' },
  { id: 'C0INCIDENT', name: 'incident', about: 'sandbox.about.incident' },
  { id: 'C0PARIS', name: 'paris', about: 'sandbox.about.paris' },
  { id: 'C0AUDIT', name: 'audit', about: 'sandbox.about.audit' },
  { id: 'C0APPROVALS', name: 'approvals', about: 'sandbox.about.approvals' },
  { id: 'C0ALERTS', name: 'alerts', about: 'sandbox.about.alerts' },
];

const GROUPS: readonly SandboxGroup[] = [
  { id: 'S0SRE', handle: 'sre', members: ['U0CAROL', 'U0CAMILLE'] },
  { id: 'S0ONCALL', handle: 'oncall', members: ['U0DAVE'] },
  // May delete at once by break-glass (--break-glass), reviewed by an approver afterwards.
  { id: 'S0BREAKGLASS', handle: 'breakglass', members: ['U0CAROL'] },
];

const CONFIG = `# The sandbox's bot configuration (same format as nasha.example.yml).
version: 1
language: en                     # the default; camille's Slack is in French, so the bot speaks French to her
audit:
  channel: C0AUDIT
approvals:
  channel: C0APPROVALS           # delete and schedule remove need a second person (the defaults)
  rules:
    snapshot.delete:
      remind_after: 2m                 # a waiting delete is reminded in its card's thread after 2 min, then 4 more…
      break_glass: { group: S0BREAKGLASS }   # carol may also delete at once with --break-glass (reviewed after)
grants:
  - role: admin
    users: [U0ALICE]
    scope: ["*"]
  - role: approver
    users: [U0BOB]
    scope: ["*"]
  - role: operator
    groups: [S0SRE]
    scope: ["*"]
  - role: viewer
    users: [U0DAVE]
    scope: ["*"]
  - role: operator
    users: [U0ERIN]
    scope: ["zpool-204117/*"]
channels:
  - id: C0GENERAL
    max_role: viewer
  - id: C0INCIDENT
    max_role: operator
  - id: C0PARIS                  # the bot posts in French here (quick-snapshot summaries), whoever asked
    language: fr
target_groups:                   # for incident quick snapshots: /nasha snapshot quick payments inc-1
  payments: ["zpool-128310/data", "zpool-204117/db"]
quick_snapshot:
  default_expiration: 7d
  responder_groups: [S0ONCALL]   # may take quick snapshots anywhere, even without a grant
protection:                      # the bot keeps these partitions protected by itself
  scan_every: 15m
  alerts_channel: C0ALERTS
  policies:
    - name: production
      # zpool-128310/logs has only hour-1: it drifts from day-1, so #alerts has an alert at once.
      targets: ["zpool-128310/data", "zpool-128310/logs", "zpool-204117/db"]
      frequencies: [hour-1, day-1]
      plan:
        - { every: 1d, keep: 3, at: "02:00" }
        - { every: 7d, keep: 2, at: "Sun 02:00" }
      reserve: 2
      max_age: { warn: 2h, critical: 26h }
      snapshot_space: 25
`;

export const SANDBOX_WORKSPACE: SandboxWorkspace = {
  users: USERS,
  channels: CHANNELS,
  groups: GROUPS,
  auditChannel: 'C0AUDIT',
  approvalsChannel: 'C0APPROVALS',
  config: CONFIG,
};

/** Names for ids, as Slack's client shows mentions. */
export function workspaceNames(workspace: SandboxWorkspace): NameDirectory {
  return {
    user: (id) => workspace.users.find((u) => u.id === id)?.name,
    channel: (id) => workspace.channels.find((c) => c.id === id)?.name,
    group: (id) => workspace.groups.find((g) => g.id === id)?.handle,
  };
}
