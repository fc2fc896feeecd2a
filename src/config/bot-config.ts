/**
 * The bot's YAML configuration (NASHA_CONFIG): who may do what, where, and the channels the bot reports to.
 *
 * The file uses snake_case keys; the parsed {@link BotConfig} uses camelCase. Every problem becomes one line
 * `file:line: key.path: what is wrong — how to fix it`, and all problems are reported at once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Document } from 'yaml';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { APPROVABLE_ACTIONS, type ApprovableAction, type ApprovalRule } from '../core/actions.js';
import type { DigestConfig } from '../core/digest.js';
import type { AccessConfig, CapRole, GrantConfig, Target } from '../core/model.js';
import { CAP_ROLES, ROLES } from '../core/model.js';
import { EXPIRATION_RANGE } from '../core/naming.js';
import type { ProtectionConfig } from '../core/protection/model.js';
import { isKnownTimezone } from '../core/protection/schedule.js';
import { editDistance } from '../core/suggest.js';
import { ConfigError } from '../shared/config-error.js';
import { type DurationRange, HOUR_MS, isWithin, parseDuration } from '../shared/duration.js';
import { LANGUAGES, type Lang } from '../shared/language.js';
import { DURATION_FORMS, durationProblemWords, rangeWords } from './duration-words.js';
import { buildProtection, protectionRelationProblems, protectionSchema } from './protection-config.js';

export { ConfigError };

/** Environment variable naming the config file. */
export const CONFIG_ENV_VAR = 'NASHA_CONFIG';

export type { AccessConfig, CapRole, ChannelCapConfig, GrantConfig } from '../core/model.js';
export { CAP_ROLES } from '../core/model.js';

export interface QuickSnapshotConfig {
  /** As written, e.g. `7d`. */
  defaultExpiration: string | undefined;
  defaultExpirationMs: number | undefined;
  responderGroups: readonly string[];
}

/** The changes whose need for approval is configurable (`approvals.rules`): the approvable rows of the action table. */
export const APPROVAL_OPERATIONS = APPROVABLE_ACTIONS;
export type ApprovalOperation = ApprovableAction;
export type { ApprovalRule };

/** A SIEM export of the audit trail (`audit.export`): JSON Lines to a file or stdout, or an HTTPS webhook. */
export type AuditExportSink =
  | { name: string; type: 'jsonl'; path: string }
  | { name: string; type: 'jsonl'; stdout: true }
  | { name: string; type: 'webhook'; url: URL; timeoutMs: number; caFile: string | undefined };

export interface ApprovalsConfig {
  /** Slack channel ID where requests are posted; undefined only when no rule is `required`. */
  channel: string | undefined;
  rules: Readonly<Record<ApprovalOperation, ApprovalRule>>;
}

/** A waiting request's first reminder, by default (then 60 min after it, 120…); escalation, once configured. */
export const DEFAULT_REMIND_AFTER_MS = 30 * 60_000;
export const DEFAULT_ESCALATE_AFTER_MS = 2 * HOUR_MS;

const defaultRule = (required: boolean): ApprovalRule => ({
  required,
  quorum: 1,
  approverGroups: [],
  ttlMs: 4 * HOUR_MS,
  remindAfterMs: DEFAULT_REMIND_AFTER_MS,
  escalateTo: [],
});

/** Destructive changes need one approval by default; creating and adding do not. */
export const DEFAULT_APPROVAL_RULES: Readonly<Record<ApprovalOperation, ApprovalRule>> = {
  'snapshot.delete': defaultRule(true),
  'schedule.remove': defaultRule(true),
  'snapshot.create': defaultRule(false),
  'schedule.add': defaultRule(false),
};

export const APPROVAL_QUORUM_MAX = 5;
export const APPROVAL_TTL_MIN_MS = 5 * 60_000;
export const APPROVAL_TTL_MAX_MS = 7 * 24 * HOUR_MS;
const APPROVAL_TTL_RANGE: DurationRange = { minMs: APPROVAL_TTL_MIN_MS, maxMs: APPROVAL_TTL_MAX_MS };

/** The bot's languages: the workspace default and the channels that read another one. */
export interface LanguageConfig {
  /** `language` (default `en`): forms and replies for people Slack gives no language the bot speaks, and channels. */
  default: Lang;
  /** `channels[].language`: what the bot posts in that channel (audit, approvals, alerts, digest) is in it. */
  channels: ReadonlyMap<string, Lang>;
}

export interface BotConfig {
  /** `version` from the file (default 1); bump it to invalidate pending approvals. */
  version: number;
  /**
   * `<version>:<12 hex of sha256>` of the normalized config (comments, formatting and key order do not
   * count). Approvals are bound to it so a config change invalidates them.
   */
  configVersion: string;
  audit: { channel: string; export: readonly AuditExportSink[] };
  approvals: ApprovalsConfig;
  access: AccessConfig;
  /** Named lists of concrete partitions, e.g. `payments` → zpool-1/db, zpool-2/uploads. */
  targetGroups: ReadonlyMap<string, readonly Target[]>;
  quickSnapshot: QuickSnapshotConfig | undefined;
  /** Languages are about wording only: they are not part of {@link configVersion} (approvals survive a change). */
  language: LanguageConfig;
  /** `protection:` (policies the bot keeps by itself); undefined when the section is absent. */
  protection: ProtectionConfig | undefined;
  /** `digest:` (a daily message; default 09:00 UTC); undefined when the section is absent (off). */
  digest: DigestConfig | undefined;
  /** Problems that do not stop the bot but the operator should see at startup. */
  warnings: readonly string[];
}

export const USER_ID_RE = /^[UW][A-Z0-9]{2,}$/;
export const GROUP_ID_RE = /^S[A-Z0-9]{2,}$/;
export const CHANNEL_ID_RE = /^[CG][A-Z0-9]{2,}$/;
/** `service` or `service/partition`; each part letters, digits, `-_.:` and `*` globs. */
export const SCOPE_PATTERN_RE = /^[A-Za-z0-9_.:*-]+(?:\/[A-Za-z0-9_.:*-]+)?$/;
const TARGET_RE = /^[A-Za-z0-9_.:-]+\/[A-Za-z0-9_.:-]+$/;
const TARGET_GROUP_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

const FIND_CHANNEL_ID =
  'open the channel in Slack, click its name at the top: the ID (C…) is at the bottom of the About tab';
const FIND_USER_ID = "open the person's profile in Slack, ⋮ More → Copy member ID";
const FIND_GROUP_ID = 'open People → User groups in Slack and pick the group: the ID (S…) is in the page URL';

// ---- messages ---------------------------------------------------------------------------------------------------

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** ` — did you mean "x"?` for a near miss (case and `-`/`_` slips included), else ''. */
export function didYouMean(input: string, options: readonly string[]): string {
  const folded = input.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const option of options) {
    const distance = editDistance(folded, option.toLowerCase());
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 3)));
  return best !== undefined && bestDistance <= limit ? ` — did you mean "${best}"?` : '';
}

/** Error function for a value of the wrong type or a missing one. */
const expected =
  (what: string, whenMissing = `is required: ${what}`) =>
  (issue: { input?: unknown }) =>
    issue.input === undefined ? whenMissing : `must be ${what} (got ${describeValue(issue.input)})`;

function oneOf(options: readonly string[], input: unknown, whenMissing: string): string {
  if (input === undefined) return whenMissing;
  const hint = typeof input === 'string' ? didYouMean(input, options) : '';
  return `must be one of ${options.join(', ')} (got ${describeValue(input)})${hint}`;
}

/**
 * A strict mapping whose unknown-key message has one line per key, in `issue.keys` order; the formatter
 * splits it so each unknown key gets its own path and line number.
 */
function strictMapping<Shape extends z.ZodRawShape>(
  shape: Shape,
  what: string,
  whenMissing?: string,
  suggest: (key: string, allowed: readonly string[]) => string = didYouMean,
) {
  const allowed = Object.keys(shape);
  const missing = whenMissing ?? `is required: ${what}`;
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys
          .map((key) => `unknown key "${key}"${suggest(key, allowed)} (allowed here: ${allowed.join(', ')})`)
          .join('\n');
      }
      return issue.input === undefined ? missing : `must be ${what} (got ${describeValue(issue.input)})`;
    },
  });
}

function channelIdProblem(value: string): string {
  if (value.startsWith('#') || /[a-z]/.test(value)) {
    return `must be a Slack channel ID like C0123ABCD, not a channel name (got "${value}"): ${FIND_CHANNEL_ID}`;
  }
  if (/^D[A-Z0-9]{2,}$/.test(value)) return `must be a channel ID (C… or G…), not a direct message (got "${value}")`;
  return `must be a Slack channel ID: C or G then capital letters and digits, like C0123ABCD (got "${value}"): ${FIND_CHANNEL_ID}`;
}

function userIdProblem(value: string): string {
  if (value.includes('@') || /[a-z\s]/.test(value)) {
    return `must be a Slack user ID like U0123ABCD, never a name or email (got "${value}"): ${FIND_USER_ID}`;
  }
  return `must be a Slack user ID: U or W then capital letters and digits, like U0123ABCD (got "${value}"): ${FIND_USER_ID}`;
}

function groupIdProblem(value: string): string {
  if (value.startsWith('@') || /[a-z\s]/.test(value)) {
    return `must be a Slack user group ID like S0123ABCD, not a group handle or name (got "${value}"): ${FIND_GROUP_ID}`;
  }
  return `must be a Slack user group ID: S then capital letters and digits, like S0123ABCD (got "${value}"): ${FIND_GROUP_ID}`;
}

const slackId = (what: string, re: RegExp, problem: (value: string) => string, whenMissing?: string) =>
  z.string({ error: expected(what, whenMissing) }).superRefine((value, ctx) => {
    if (!re.test(value)) ctx.addIssue({ code: 'custom', message: problem(value) });
  });

// ---- schema -----------------------------------------------------------------------------------------------------

const ChannelId = (purpose: string) =>
  slackId(`a Slack channel ID like C0123ABCD`, CHANNEL_ID_RE, channelIdProblem, `is required: ${purpose}`);
const UserId = slackId('a Slack user ID like U0123ABCD', USER_ID_RE, userIdProblem);
const GroupId = slackId('a Slack user group ID like S0123ABCD', GROUP_ID_RE, groupIdProblem);

const RoleSchema = z.enum(ROLES, {
  error: (issue) => oneOf(ROLES, issue.input, `is required: one of ${ROLES.join(', ')}`),
});
const CapRoleSchema = (whenMissing: string) =>
  z.enum([...ROLES, 'none'], { error: (issue) => oneOf(CAP_ROLES, issue.input, whenMissing) });

const ScopePattern = z
  .string({ error: expected('a target pattern like "zpool-123/data", "zpool-123" or "*"') })
  .superRefine((value, ctx) => {
    if (!SCOPE_PATTERN_RE.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message:
          `must be "service", "service/partition" or "*" using letters, digits, - _ . : and * globs, ` +
          `with at most one "/" (got ${JSON.stringify(value)})`,
      });
    }
  });

const idList = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item, { error: expected(`a list of ${what}, e.g. [${what.includes('group') ? 'S0123ABCD' : 'U0123ABCD'}]`) });

const GrantSchema = strictMapping(
  {
    role: RoleSchema,
    users: idList(UserId, 'Slack user IDs').optional(),
    groups: idList(GroupId, 'Slack user group IDs').optional(),
    scope: z
      .array(ScopePattern, {
        error: expected(
          'a list of target patterns, e.g. ["zpool-123/*"]',
          'is required: the targets this grant covers, e.g. scope: ["zpool-123/*"] (use ["*"] for everything)',
        ),
      })
      .min(1, 'must list at least one target pattern, e.g. ["zpool-123/*"] (use ["*"] for everything)'),
  },
  'a mapping with role, users and/or groups, and scope',
);

const LANGUAGE_NAMES: Readonly<Record<Lang, string>> = { en: 'English', fr: 'French' };
const LanguageSchema = z.enum(LANGUAGES, {
  error: (issue) =>
    `${oneOf(LANGUAGES, issue.input, `is required: one of ${LANGUAGES.join(', ')}`)}: the language of the bot's words (${LANGUAGES.map((l) => `${l}: ${LANGUAGE_NAMES[l]}`).join(', ')})`,
});

const ChannelCapSchema = strictMapping(
  {
    id: ChannelId('the Slack channel ID (C…) this entry applies to'),
    // Optional when the entry only sets a language: such a channel keeps the cap of unlisted channels.
    max_role: CapRoleSchema(
      `is required: the strongest role usable in this channel (${CAP_ROLES.join(', ')})`,
    ).optional(),
    language: LanguageSchema.optional(),
  },
  'a mapping with id and max_role and/or language',
);

const TargetSchema = z.string({ error: expected('a partition like "zpool-123/data"') }).superRefine((value, ctx) => {
  if (!TARGET_RE.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message:
        `must be one concrete partition "service/partition" without wildcards (got ${JSON.stringify(value)}): ` +
        'incident snapshots act on exactly the partitions listed',
    });
  }
});

const SinkName = z
  .string({ error: expected('a name like siem (letters, digits, "-", "_")') })
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a lower-case name like siem or siem-file (letters, digits, "-", "_")');

const JsonlSinkSchema = z
  .strictObject({
    name: SinkName,
    type: z.literal('jsonl'),
    path: z.string().min(1, 'must be a file path').optional(),
    stdout: z.literal(true, { error: 'must be true (or leave it out and give a path)' }).optional(),
  })
  .superRefine((sink, ctx) => {
    if ((sink.path === undefined) === (sink.stdout === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of path (a file to append to) or stdout: true' });
    }
  });

const WebhookSinkSchema = z.strictObject({
  name: SinkName,
  type: z.literal('webhook'),
  url: z
    .url({ error: expected('an https:// URL') })
    .refine((url) => url.startsWith('https://'), 'must be an https:// URL: records are signed, and sent over TLS only'),
  timeout_ms: z
    .number({ error: expected('a whole number of milliseconds, 100 to 120000') })
    .int('must be a whole number of milliseconds, 100 to 120000')
    .min(100, 'must be at least 100 (ms)')
    .max(120_000, 'must be at most 120000 (ms)')
    .optional(),
  ca_file: z.string().min(1).optional(),
});

const AuditExportSchema = z
  .array(
    z.discriminatedUnion('type', [JsonlSinkSchema, WebhookSinkSchema], {
      error: (issue) =>
        issue.input === undefined ? 'is required' : 'must be a sink with type: jsonl or type: webhook',
    }),
    { error: expected('a list of sinks (type: jsonl or type: webhook)') },
  )
  .superRefine((sinks, ctx) => {
    const seen = new Set<string>();
    for (const [index, sink] of sinks.entries()) {
      if (seen.has(sink.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `is used twice (${sink.name}): names must differ`,
        });
      }
      seen.add(sink.name);
    }
  });

/**
 * A duration in the bot's one grammar (src/shared/duration.ts, the same as `--expires`), within `range`;
 * `purpose` says what it sets, in the out-of-range message.
 */
const durationSetting = (examples: string, range: DurationRange, purpose: string) =>
  z.string({ error: expected(`a duration like ${examples}`) }).superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) {
      ctx.addIssue({
        code: 'custom',
        message: `must be ${DURATION_FORMS}, like ${examples} (got ${JSON.stringify(value)}, which ${durationProblemWords(parsed.problem)})`,
      });
    } else if (!isWithin(parsed.ms, range)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be ${rangeWords(range)}: ${purpose} (got ${JSON.stringify(value)})`,
      });
    }
  });

const DefaultExpirationSchema = durationSetting(
  '"12h", "7d" or "2w"',
  EXPIRATION_RANGE,
  'how long quick snapshots are kept unless --expires says otherwise',
);

// Verbs people use for the same change: "snapshot.remove" means snapshot.delete, "schedule.delete" schedule.remove.
const OPERATION_VERB_SYNONYMS: Readonly<Record<string, string>> = { remove: 'delete', add: 'create' };

/** Did-you-mean for an operation key: near spellings first, then `delete` or `snapshot.remove` style slips. */
function suggestOperation(key: string, operations: readonly string[]): string {
  const near = didYouMean(key, operations);
  if (near !== '') return near;
  const parts = key.toLowerCase().split(/[._\s-]+/);
  const verb = parts[parts.length - 1] ?? '';
  const noun = parts.length > 1 ? parts[0]?.replace(/s$/, '') : undefined;
  const canonicalVerb = (v: string) => OPERATION_VERB_SYNONYMS[v] ?? v;
  const fits = (exactVerb: boolean) =>
    operations.filter((operation) => {
      const [opNoun = '', opVerb = ''] = operation.split('.');
      const verbFits = exactVerb ? opVerb === verb : canonicalVerb(opVerb) === canonicalVerb(verb);
      return verbFits && (noun === undefined || opNoun === noun);
    });
  const exact = fits(true);
  const candidates = exact.length > 0 ? exact : fits(false);
  return candidates.length === 1 ? ` — did you mean "${candidates[0]}"?` : '';
}

const Quorum = z
  .number({ error: expected(`a whole number from 1 to ${APPROVAL_QUORUM_MAX}`) })
  .superRefine((value, ctx) => {
    if (!Number.isInteger(value) || value < 1 || value > APPROVAL_QUORUM_MAX) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from 1 to ${APPROVAL_QUORUM_MAX}: the number of different people who must approve (got ${value})`,
      });
    }
  });

const TtlSchema = durationSetting(
  '"30m", "4h" or "2d"',
  APPROVAL_TTL_RANGE,
  'how long a request may wait for its approvals',
);

/** Reminders and escalation of a waiting request (approvals.rules.<action>.remind_after, escalate_after). */
export const APPROVAL_REMINDER_RANGE: DurationRange = { minMs: 60_000, maxMs: 7 * 24 * HOUR_MS };

const RemindAfterSchema = durationSetting(
  '"30m", "1h" or "2h"',
  APPROVAL_REMINDER_RANGE,
  "how long a request waits before the first reminder in its card's thread (each next one waits twice as long)",
);
const EscalateAfterSchema = durationSetting(
  '"1h", "2h" or "1d"',
  APPROVAL_REMINDER_RANGE,
  'how long a request waits before escalate_to is mentioned and the requester told',
);

/** `approvals.rules.<action>.break_glass: {group: S0123ABCD}`: that group's members may run it at once, reviewed after. */
const BreakGlassSchema = strictMapping(
  { group: GroupId },
  'a mapping with group, e.g. {group: S0123ABCD} (the Slack user group whose members may run it at once, reviewed afterwards)',
  'is required: the Slack user group ID (S…) whose members may use break-glass, e.g. {group: S0123ABCD}',
);

const ApprovalRuleSchema = strictMapping(
  {
    required: z.boolean({ error: expected('true or false') }).optional(),
    quorum: Quorum.optional(),
    approver_groups: idList(GroupId, 'Slack user group IDs').optional(),
    ttl: TtlSchema.optional(),
    remind_after: RemindAfterSchema.optional(),
    escalate_after: EscalateAfterSchema.optional(),
    escalate_to: idList(GroupId, 'Slack user group IDs').optional(),
    break_glass: BreakGlassSchema.optional(),
  },
  'a mapping with required, quorum, approver_groups, ttl, remind_after, escalate_after, escalate_to and/or break_glass, e.g. {required: false}',
).superRefine((rule, ctx) => {
  if (rule.escalate_after !== undefined && (rule.escalate_to === undefined || rule.escalate_to.length === 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalate_after'],
      message: 'needs escalate_to: the Slack user group IDs (S…) to mention when the request is escalated',
    });
  }
  if (rule.break_glass !== undefined && rule.required === false) {
    ctx.addIssue({
      code: 'custom',
      path: ['break_glass'],
      message: 'only applies to a change that needs approval: remove break_glass, or remove required: false',
    });
  }
});

const ApprovalRulesSchema = strictMapping(
  {
    'snapshot.delete': ApprovalRuleSchema.optional(),
    'schedule.remove': ApprovalRuleSchema.optional(),
    'snapshot.create': ApprovalRuleSchema.optional(),
    'schedule.add': ApprovalRuleSchema.optional(),
  } satisfies Record<ApprovalOperation, unknown>,
  `a mapping of operation (${APPROVAL_OPERATIONS.join(', ')}) to its rule`,
  undefined,
  suggestOperation,
);

const ProtectionSchema = protectionSchema({
  strictMapping,
  expected,
  oneOf,
  channelId: ChannelId,
  durationSetting,
});

/** `digest:` the daily digest (issue 17.4); off when absent. */
const DigestSchema = strictMapping(
  {
    channel: ChannelId('the Slack channel ID (C…) where the daily digest is posted'),
    time: z
      .string({ error: expected('a time of day "HH:MM" like "09:00"') })
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day "HH:MM" (00:00 to 23:59), like "09:00"')
      .optional(),
    timezone: z
      .string({ error: expected('a time zone like "Europe/Paris" or "UTC"') })
      .refine(isKnownTimezone, 'is not a time zone this system knows: use one like "Europe/Paris" or "UTC"')
      .optional(),
  },
  'a mapping with channel, and optionally time ("09:00") and timezone ("Europe/Paris")',
);

const BotConfigFileSchema = strictMapping(
  {
    version: z
      .number({ error: expected('a whole number, 1 or more') })
      .int('must be a whole number, 1 or more')
      .min(1, 'must be a whole number, 1 or more')
      .optional(),
    audit: strictMapping(
      {
        channel: ChannelId('the Slack channel ID (C…) where the bot posts its audit trail'),
        export: AuditExportSchema.optional(),
      },
      'a mapping with channel (and optionally export)',
      'is required: add "audit: {channel: C0123ABCD}", the channel where the bot posts its audit trail',
    ),
    approvals: strictMapping(
      {
        channel: ChannelId('the Slack channel ID (C…) where approval requests are posted').optional(),
        rules: ApprovalRulesSchema.nullable().optional(),
      },
      'a mapping with channel and/or rules',
    )
      .nullable()
      .optional(),
    grants: z
      .array(GrantSchema, { error: expected('a list of grants (role, users/groups, scope)') })
      .nullable()
      .optional(),
    channels: z
      .array(ChannelCapSchema, { error: expected('a list of channels ({id, max_role and/or language})') })
      .nullable()
      .optional(),
    unlisted_channels: CapRoleSchema(`is required: ${CAP_ROLES.join(', ')}`).optional(),
    target_groups: z
      .record(
        z.string().regex(TARGET_GROUP_NAME_RE, 'group names use lowercase letters, digits, - and _'),
        z.array(TargetSchema, { error: expected('a list of partitions like ["zpool-123/data"]') }).min(1, {
          error: 'must list at least one partition like "zpool-123/data"',
        }),
        { error: expected('a mapping of group name to partitions, e.g. payments: ["zpool-1/db"]') },
      )
      .optional(),
    quick_snapshot: strictMapping(
      {
        default_expiration: DefaultExpirationSchema.optional(),
        responder_groups: idList(GroupId, 'Slack user group IDs').optional(),
      },
      'a mapping with default_expiration and/or responder_groups',
    ).optional(),
    language: LanguageSchema.optional(),
    protection: ProtectionSchema.optional(),
    digest: DigestSchema.optional(),
  },
  'a mapping of settings (audit, grants, channels, …)',
);

type BotConfigFile = z.infer<typeof BotConfigFileSchema>;

// ---- locating problems in the YAML ------------------------------------------------------------------------------

type PathKey = string | number;

function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${key}`;
  return out === '' ? '(top level)' : out;
}

/** 1-based line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PathKey[], unknownKey?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const node = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
    if (unknownKey !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === unknownKey);
      const keyRange = pair !== undefined && isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) return lines.linePos(keyRange[0]).line;
    }
    const range = (node as { range?: [number, number, number] | null } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

interface Problem {
  line: number | undefined;
  text: string;
}

function problem(
  fileName: string,
  doc: Document,
  lines: LineCounter,
  path: readonly PathKey[],
  message: string,
  unknownKey?: string,
): Problem {
  const line = lineOf(doc, lines, path, unknownKey);
  const where = line === undefined ? fileName : `${fileName}:${line}`;
  const fullPath = unknownKey === undefined ? path : [...path, unknownKey];
  return { line, text: `${where}: ${formatPath(fullPath)}: ${message}` };
}

function toPath(path: readonly PropertyKey[]): PathKey[] {
  return path.map((key) => (typeof key === 'number' ? key : String(key)));
}

// Relations between fields, checked on the raw data so they are reported together with shape errors.
function relationProblems(raw: unknown): { path: PathKey[]; message: string }[] {
  const out: { path: PathKey[]; message: string }[] = [];
  const root = asRecord(raw);
  if (root === undefined) return out;

  const auditChannel = asRecord(root['audit'])?.['channel'];
  const approvals = asRecord(root['approvals']);
  const approvalsChannel = approvals?.['channel'];
  if (typeof auditChannel === 'string' && auditChannel === approvalsChannel) {
    out.push({
      path: ['approvals', 'channel'],
      message:
        `must differ from audit.channel (both are ${auditChannel}): ` +
        'give approval requests their own channel so they are not buried in the audit trail',
    });
  }
  // A malformed approvals section is reported by the schema; only a well-formed or missing one is checked here.
  const isAbsent = (value: unknown) => value === undefined || value === null;
  const rawRules = approvals?.['rules'];
  const wellFormed =
    (isAbsent(root['approvals']) || approvals !== undefined) &&
    (isAbsent(rawRules) || asRecord(rawRules) !== undefined);
  if (wellFormed) {
    const needing = APPROVAL_OPERATIONS.filter((operation) => {
      const required = asRecord(asRecord(rawRules)?.[operation])?.['required'];
      return typeof required === 'boolean' ? required : DEFAULT_APPROVAL_RULES[operation].required;
    });
    if (needing.length > 0 && approvalsChannel === undefined) {
      const turnOff = needing.map((operation) => `approvals.rules.${operation}.required: false`).join(' and ');
      out.push({
        path: ['approvals', 'channel'],
        message:
          `required because ${listAnd(needing)} ${needing.length === 1 ? 'needs' : 'need'} approval ` +
          `(set approvals.channel to a channel ID like C0123ABCD, where approval requests are posted; ` +
          `or turn approvals off with ${turnOff})`,
      });
    }
    if (needing.length > 0 && typeof approvalsChannel === 'string') {
      const capProblem = approvalsChannelCapProblem(root, approvalsChannel);
      if (capProblem !== undefined) out.push({ path: ['approvals', 'channel'], message: capProblem });
    }
  }

  const grants = root['grants'];
  if (Array.isArray(grants)) {
    grants.forEach((grant, index) => {
      const entry = asRecord(grant);
      if (entry === undefined) return;
      const isEmpty = (value: unknown) =>
        value === undefined || value === null || (Array.isArray(value) && !value.length);
      if (isEmpty(entry['users']) && isEmpty(entry['groups'])) {
        out.push({
          path: ['grants', index],
          message: 'grants nobody: add users: [U0123ABCD] and/or groups: [S0123ABCD]',
        });
      }
    });
  }

  const channels = root['channels'];
  if (Array.isArray(channels)) {
    const firstIndex = new Map<string, number>();
    channels.forEach((channel, index) => {
      const entry = asRecord(channel);
      if (entry !== undefined && entry['max_role'] === undefined && entry['language'] === undefined) {
        out.push({
          path: ['channels', index],
          message: `sets nothing for this channel: add max_role (${CAP_ROLES.join(', ')}) and/or language (${LANGUAGES.join(', ')})`,
        });
      }
      const id = entry?.['id'];
      if (typeof id !== 'string') return;
      const first = firstIndex.get(id);
      if (first === undefined) firstIndex.set(id, index);
      else {
        out.push({
          path: ['channels', index, 'id'],
          message: `duplicate channel ${id} (already capped at channels[${first}]): keep one entry per channel`,
        });
      }
    });
  }
  out.push(...protectionRelationProblems(root, SCOPE_PATTERN_RE));
  return out;
}

function listAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Approve buttons are clicked in the approvals channel, so its cap must leave room for approver. */
function approvalsChannelCapProblem(root: Record<string, unknown>, channel: string): string | undefined {
  const channels = Array.isArray(root['channels']) ? root['channels'] : [];
  // An entry that only sets a language leaves the channel capped as an unlisted one.
  const index = channels.findIndex(
    (entry) => asRecord(entry)?.['id'] === channel && asRecord(entry)?.['max_role'] !== undefined,
  );
  const listed = index === -1 ? undefined : asRecord(channels[index])?.['max_role'];
  const cap = index === -1 ? (root['unlisted_channels'] ?? 'admin') : listed;
  if (typeof cap !== 'string' || !CAP_ROLES.includes(cap as CapRole)) return undefined;
  if (cap === 'approver' || cap === 'admin') return undefined;
  const fix =
    index === -1
      ? `unlisted_channels caps it to ${cap}; list it in channels with max_role: approver`
      : `channels[${index}] caps it to ${cap}; raise that max_role to approver`;
  return `nobody could approve in ${channel}: approving needs approver, but ${fix}`;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

// ---- normalized result ------------------------------------------------------------------------------------------

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Map) return canonicalJson(Object.fromEntries(value));
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function toTarget(text: string): Target {
  const slash = text.indexOf('/');
  return { service: text.slice(0, slash), partition: text.slice(slash + 1) };
}

/** The value of a duration the schema has already checked. */
function durationMs(text: string): number | undefined {
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.ms : undefined;
}

function build(file: BotConfigFile, fileName: string): BotConfig {
  const version = file.version ?? 1;
  const grants: GrantConfig[] = (file.grants ?? []).map((grant) => ({
    role: grant.role,
    users: grant.users ?? [],
    groups: grant.groups ?? [],
    scope: grant.scope,
  }));
  const access: AccessConfig = {
    grants,
    channels: (file.channels ?? []).flatMap((channel) =>
      channel.max_role === undefined ? [] : [{ id: channel.id, maxRole: channel.max_role }],
    ),
    unlistedChannels: file.unlisted_channels ?? 'admin',
  };
  const targetGroups = new Map<string, readonly Target[]>(
    Object.entries(file.target_groups ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, targets]) => [name, targets.map(toTarget)]),
  );
  const quick = file.quick_snapshot;
  const quickSnapshot: QuickSnapshotConfig | undefined =
    quick === undefined
      ? undefined
      : {
          defaultExpiration: quick.default_expiration,
          defaultExpirationMs:
            quick.default_expiration === undefined ? undefined : durationMs(quick.default_expiration),
          responderGroups: quick.responder_groups ?? [],
        };
  const audit = {
    channel: file.audit.channel,
    export: (file.audit.export ?? []).map((sink): AuditExportSink => {
      if (sink.type === 'webhook') {
        return {
          name: sink.name,
          type: 'webhook',
          url: new URL(sink.url),
          timeoutMs: sink.timeout_ms ?? 10_000,
          caFile: sink.ca_file,
        };
      }
      return sink.path !== undefined
        ? { name: sink.name, type: 'jsonl', path: sink.path }
        : { name: sink.name, type: 'jsonl', stdout: true };
    }),
  };
  const rules = file.approvals?.rules;
  const rule = (operation: ApprovalOperation): ApprovalRule => {
    const given = rules?.[operation];
    const fallback = DEFAULT_APPROVAL_RULES[operation];
    const ttl = given?.ttl === undefined ? undefined : durationMs(given.ttl);
    const remind = given?.remind_after === undefined ? undefined : durationMs(given.remind_after);
    const escalateTo = given?.escalate_to === undefined ? (fallback.escalateTo ?? []) : [...new Set(given.escalate_to)];
    const escalate = given?.escalate_after === undefined ? undefined : durationMs(given.escalate_after);
    return {
      required: given?.required ?? fallback.required,
      quorum: given?.quorum ?? fallback.quorum,
      approverGroups:
        given?.approver_groups === undefined ? fallback.approverGroups : [...new Set(given.approver_groups)],
      ttlMs: ttl ?? fallback.ttlMs,
      remindAfterMs: remind ?? fallback.remindAfterMs,
      escalateTo,
      ...(escalateTo.length > 0 && { escalateAfterMs: escalate ?? DEFAULT_ESCALATE_AFTER_MS }),
      ...(given?.break_glass !== undefined && { breakGlass: { group: given.break_glass.group } }),
    };
  };
  const approvals: ApprovalsConfig = {
    channel: file.approvals?.channel,
    rules: {
      'snapshot.delete': rule('snapshot.delete'),
      'schedule.remove': rule('schedule.remove'),
      'snapshot.create': rule('snapshot.create'),
      'schedule.add': rule('schedule.add'),
    },
  };

  const warnings: string[] = [];
  if (grants.length === 0) {
    warnings.push(
      `${fileName}: grants: no grants, so every request will be denied; ` +
        'add one, e.g. "- {role: admin, users: [U0123ABCD], scope: [\'*\']}"',
    );
  }
  if (access.unlistedChannels === 'none' && !access.channels.some((c) => c.maxRole !== 'none')) {
    warnings.push(
      `${fileName}: unlisted_channels is none and no channel in channels allows anything, ` +
        'so the bot will refuse every request; list the channels it should work in',
    );
  }

  const language: LanguageConfig = {
    default: file.language ?? 'en',
    channels: new Map(
      (file.channels ?? []).flatMap((channel) =>
        channel.language === undefined ? [] : [[channel.id, channel.language]],
      ),
    ),
  };

  // Exports do not change what an approval means: they stay out of the config version.
  const normalized = { version, audit: { channel: audit.channel }, approvals, access, targetGroups, quickSnapshot };
  const hash = createHash('sha256').update(canonicalJson(normalized)).digest('hex').slice(0, 12);
  // Not in the hash: tuning a protection policy must not invalidate approvals waiting for a decision.
  const protection = file.protection === undefined ? undefined : buildProtection(file.protection, targetGroups);
  // Not in the hash either: when and where the digest goes changes no approval.
  const digest = file.digest === undefined ? undefined : digestOf(file.digest);
  return { ...normalized, audit, protection, digest, configVersion: `${version}:${hash}`, language, warnings };
}

function digestOf(digest: NonNullable<BotConfigFile['digest']>): DigestConfig {
  const [hour = 9, minute = 0] = (digest.time ?? '09:00').split(':').map(Number);
  return { channel: digest.channel, minuteOfDay: hour * 60 + minute, timezone: digest.timezone ?? 'UTC' };
}

// ---- entry points -----------------------------------------------------------------------------------------------

/**
 * Parses and validates the YAML text of the config. `fileName` only labels the messages.
 * @throws ConfigError listing every problem, one line each, sorted by line.
 */
export function parseBotConfig(text: string, fileName: string): BotConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const line = lines.linePos(error.pos[0]).line;
        return `${fileName}:${line}: not valid YAML: ${error.message.split('\n')[0] ?? error.code}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    // yaml reports an unresolved alias (`*name`) or an alias bomb only here, as a ReferenceError.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([`${fileName}: not valid YAML: ${message} (check the &anchors and *aliases)`]);
  }

  const problems: Problem[] = [];
  const result = BotConfigFileSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = toPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        const messages = issue.message.split('\n');
        issue.keys.forEach((key, index) => {
          problems.push(problem(fileName, doc, lines, path, messages[index] ?? 'unknown key', key));
        });
      } else if (issue.code === 'invalid_key') {
        const name = path[path.length - 1];
        problems.push(
          problem(
            fileName,
            doc,
            lines,
            path,
            `group name ${JSON.stringify(name)} must use lowercase letters, digits, - and _ (start with a letter or digit)`,
          ),
        );
      } else {
        problems.push(problem(fileName, doc, lines, path, issue.message));
      }
    }
  }
  for (const relation of relationProblems(raw)) {
    problems.push(problem(fileName, doc, lines, relation.path, relation.message));
  }
  if (problems.length > 0 || !result.success) {
    const sorted = problems
      .map((p, order) => ({ ...p, order }))
      .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) || a.order - b.order);
    throw new ConfigError(sorted.map((p) => p.text));
  }
  return build(result.data, fileName);
}

/**
 * Reads the config file synchronously (startup only).
 * @throws ConfigError when the file is missing or unreadable, naming NASHA_CONFIG and the path.
 */
export function loadBotConfig(path: string): BotConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    throw new ConfigError([
      `${CONFIG_ENV_VAR}: the config file ${path} ${reason}; set ${CONFIG_ENV_VAR} to the path of your nasha.yml`,
    ]);
  }
  return parseBotConfig(text, path);
}
