/**
 * The one table of what the bot can do. Every layer reads it: the command parser (words and options), the
 * gate (role, approval, responder groups), `help` and `can-i` (which actions exist and how they are asked for),
 * and the audit formatter (what the subject field is). Adding an action is one row here plus its executor.
 *
 * Only data: no wording for people (the Slack layer owns every sentence), no I/O.
 */
import type { Role } from './model.js';

export const ACTION_IDS = [
  'read',
  'snapshot.create',
  'schedule.add',
  'snapshot.delete',
  'schedule.remove',
  'snapshot.quick',
  'approval.decide',
  'protection.status',
  'protection.restore',
  'protection.alert',
] as const;
export type ActionId = (typeof ACTION_IDS)[number];

/** The rows that only read: never audited, never approvable. */
export const READ_ONLY_ACTIONS = [
  'read',
  'protection.status',
  'protection.restore',
] as const satisfies readonly ActionId[];
export type ReadOnlyAction = (typeof READ_ONLY_ACTIONS)[number];

/** The changes that go through OVH one at a time and may be put to a second person (`approvals.rules`). */
export const APPROVABLE_ACTIONS = ['snapshot.delete', 'schedule.remove', 'snapshot.create', 'schedule.add'] as const;
export type ApprovableAction = (typeof APPROVABLE_ACTIONS)[number];

/** What the `subject` of an audit record is for an action. */
export type SubjectKind = 'snapshot' | 'frequency' | 'label' | 'request' | 'problem';

/** How a command names its target. */
export type TargetForm =
  /** No target (`services`). */
  | 'none'
  /** `<service>`. */
  | 'service'
  /** `<service>[/<partition>]`. */
  | 'service-or-partition'
  /** `<service>/<partition>`. */
  | 'partition'
  /** `<service>/<partition>/<name>` (or the name as the next word). */
  | 'snapshot'
  /** A partition, a service or a target group (`quick`). */
  | 'quick-target'
  /** Nothing, `<service>[/<partition>]` or a protection policy's name (`status`). */
  | 'status-target';

/** `break_glass`: `--break-glass`, shown in help only to members of the rule's break-glass group. */
export type CommandOption = 'expires' | 'reason' | 'at' | 'break_glass';

/** One way to ask for an action with `/nasha snapshot …`. */
export interface CommandSpec {
  /** The words after `/nasha snapshot`, e.g. `['schedule', 'add']`. */
  words: readonly string[];
  target: TargetForm;
  /** Positional arguments after the target, as shown in usage (`<type>`, `[<name>]`, `[<label>]`). */
  args: readonly string[];
  options: readonly CommandOption[];
  /** A complete example (after `/nasha snapshot `); its target is replaced by one the reader can see. */
  example: string;
}

export interface ActionSpec {
  id: ActionId;
  /**
   * read: no change. change: one OVH write, approvable. quick: many creations at once. decide: an approval vote.
   * system: what the bot does by itself (protection alerts), never asked for.
   */
  kind: 'read' | 'change' | 'quick' | 'decide' | 'system';
  /** The role needed on the target to run it directly. */
  role: Role;
  /** Changes that need approval: the role needed to *request* them (an approver vouches before they run). */
  requestRole: Role | undefined;
  /** Whether `quick_snapshot.responder_groups` grant it on every target, whatever the grants say. */
  responders: boolean;
  /** Whether approval is required when the configuration says nothing (`approvals.rules.<id>.required`). */
  approvalByDefault: boolean;
  /** What the audit record's subject is; undefined: the action has none. */
  subject: SubjectKind | undefined;
  /** Words `can-i` accepts for it (the first is the one shown). */
  canIWords: readonly string[];
  commands: readonly CommandSpec[];
}

const ROWS: readonly ActionSpec[] = [
  {
    id: 'read',
    kind: 'read',
    role: 'viewer',
    requestRole: undefined,
    responders: false,
    approvalByDefault: false,
    subject: undefined,
    canIWords: ['read', 'list', 'show'],
    commands: [
      { words: ['services'], target: 'none', args: [], options: [], example: 'services' },
      { words: ['partitions'], target: 'service', args: [], options: [], example: 'partitions {service}' },
      { words: ['list'], target: 'service-or-partition', args: [], options: [], example: 'list {partition}' },
      { words: ['show'], target: 'snapshot', args: [], options: [], example: 'show {partition}/before-upgrade' },
      {
        words: ['schedule', 'show'],
        target: 'partition',
        args: ['<type>'],
        options: [],
        example: 'schedule show {partition} day-1',
      },
      // The requests the reader can decide and their own open ones (what the Home tab lists).
      { words: ['approvals'], target: 'none', args: [], options: [], example: 'approvals' },
    ],
  },
  {
    id: 'snapshot.create',
    kind: 'change',
    role: 'operator',
    requestRole: 'operator',
    responders: false,
    approvalByDefault: false,
    subject: 'snapshot',
    canIWords: ['create'],
    commands: [
      {
        words: ['create'],
        target: 'partition',
        args: ['[<name>]'],
        options: ['expires', 'reason', 'break_glass'],
        example: 'create {partition} before-upgrade --expires 7d',
      },
    ],
  },
  {
    id: 'schedule.add',
    kind: 'change',
    role: 'operator',
    requestRole: 'operator',
    responders: false,
    approvalByDefault: false,
    subject: 'frequency',
    canIWords: ['schedule-add'],
    commands: [
      {
        words: ['schedule', 'add'],
        target: 'partition',
        args: ['<type>'],
        options: ['reason', 'break_glass'],
        example: 'schedule add {partition} day-7',
      },
    ],
  },
  {
    id: 'snapshot.delete',
    kind: 'change',
    role: 'admin',
    requestRole: 'operator',
    responders: false,
    approvalByDefault: true,
    subject: 'snapshot',
    canIWords: ['delete'],
    commands: [
      {
        words: ['delete'],
        target: 'snapshot',
        args: [],
        options: ['reason', 'break_glass'],
        example: 'delete {partition}/before-upgrade --reason upgrade done',
      },
    ],
  },
  {
    id: 'schedule.remove',
    kind: 'change',
    role: 'admin',
    requestRole: 'operator',
    responders: false,
    approvalByDefault: true,
    subject: 'frequency',
    canIWords: ['schedule-remove'],
    commands: [
      {
        words: ['schedule', 'remove'],
        target: 'partition',
        args: ['<type>'],
        options: ['reason', 'break_glass'],
        example: 'schedule remove {partition} hour-1 --reason moving to day-1',
      },
    ],
  },
  {
    id: 'snapshot.quick',
    kind: 'quick',
    role: 'operator',
    requestRole: undefined,
    responders: true,
    approvalByDefault: false,
    subject: 'label',
    canIWords: ['quick'],
    commands: [
      {
        words: ['quick'],
        target: 'quick-target',
        args: ['[<label>]'],
        options: ['expires', 'reason'],
        example: 'quick {service} inc-2041',
      },
    ],
  },
  {
    id: 'approval.decide',
    kind: 'decide',
    role: 'approver',
    requestRole: undefined,
    responders: false,
    approvalByDefault: false,
    subject: 'request',
    canIWords: ['approve'],
    commands: [],
  },
  {
    id: 'protection.status',
    kind: 'read',
    role: 'viewer',
    requestRole: undefined,
    responders: false,
    approvalByDefault: false,
    subject: undefined,
    canIWords: ['status'],
    commands: [{ words: ['status'], target: 'status-target', args: [], options: [], example: 'status {partition}' }],
  },
  {
    id: 'protection.restore',
    kind: 'read',
    role: 'viewer',
    requestRole: undefined,
    responders: false,
    approvalByDefault: false,
    subject: undefined,
    canIWords: ['restore'],
    commands: [
      {
        words: ['restore'],
        target: 'partition',
        args: [],
        options: ['at'],
        example: 'restore {partition} --at 2026-11-27T14:00Z',
      },
    ],
  },
  {
    // Drift and coverage alerts the bot opens, updates and resolves by itself (audited as the policy).
    id: 'protection.alert',
    kind: 'system',
    role: 'admin',
    requestRole: undefined,
    responders: false,
    approvalByDefault: false,
    subject: 'problem',
    canIWords: [],
    commands: [],
  },
];

export const ACTIONS: Readonly<Record<ActionId, ActionSpec>> = Object.fromEntries(
  ROWS.map((row) => [row.id, row]),
) as Record<ActionId, ActionSpec>;

/** Rows in table order (the order help lists them in). */
export const ACTION_LIST: readonly ActionSpec[] = ROWS;

export function isApprovable(action: ActionId): action is ApprovableAction {
  return (APPROVABLE_ACTIONS as readonly string[]).includes(action);
}

/** `can-i` words → action, from the table. */
export const CAN_I_WORDS: ReadonlyMap<string, ActionId> = new Map(
  ROWS.flatMap((row) => row.canIWords.map((word) => [word, row.id] as const)),
);

export interface CommandEntry {
  action: ActionSpec;
  command: CommandSpec;
}

/** Every command, in table order. */
export const COMMANDS: readonly CommandEntry[] = ROWS.flatMap((action) =>
  action.commands.map((command) => ({ action, command })),
);

/** The first words of every command (`schedule`, `list`, …), for "did you mean". */
export const COMMAND_WORDS: readonly string[] = [...new Set(COMMANDS.map((c) => c.command.words[0] ?? ''))];

/** The command spelled by these words (`['schedule', 'add']`), if any. */
export function commandFor(words: readonly string[]): CommandEntry | undefined {
  return COMMANDS.find(
    (entry) => entry.command.words.length === words.length && entry.command.words.every((word, i) => word === words[i]),
  );
}

/** The commands that accept an option (e.g. which take `--reason`). */
export function commandsWith(option: CommandOption): readonly CommandEntry[] {
  return COMMANDS.filter((entry) => entry.command.options.includes(option));
}

/** How one approvable action is approved; defaults are filled in, so every field is always set. */
export interface ApprovalRule {
  /** False: the action runs directly (with its usual role); true: it runs only once approved. */
  required: boolean;
  /** Distinct approvers needed, 1..5. */
  quorum: number;
  /** Slack user group IDs (S…); empty = any approver (or admin) on the target. */
  approverGroups: readonly string[];
  /** How long a request may wait for its quorum, 5 min .. 7 days. */
  ttlMs: number;
  /**
   * Reminders in the card's thread while the request waits: the first this long after it was made, each next one
   * twice as long after the previous (30 min, then 60, 120…). Undefined: no reminders.
   */
  remindAfterMs?: number | undefined;
  /** Slack user group IDs (S…) mentioned from `escalateAfterMs` on, the requester told; empty: no escalation. */
  escalateTo?: readonly string[] | undefined;
  /** How long after the request was made it is escalated to `escalateTo`. */
  escalateAfterMs?: number | undefined;
  /**
   * Break-glass: members of this Slack user group (S…) may run the change at once, without waiting for approval,
   * with a reason; every approver is told at once and one of them acknowledges it afterwards.
   */
  breakGlass?: { group: string } | undefined;
}

export type ApprovalRules = Readonly<Record<ApprovableAction, ApprovalRule>>;
