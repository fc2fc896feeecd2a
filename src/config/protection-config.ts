/**
 * The `protection:` section of the YAML configuration: scan interval, alerts channel and the policies. Checked
 * like the rest of the file (one line per problem, `file:line: key: what is wrong — the fix`), plus what only
 * makes sense across fields: a plan that cannot fit in a partition's custom slots (with the arithmetic), a
 * partition two policies would both cover (naming both), a target group that does not exist.
 *
 * The schema helpers (unknown-key messages, Slack IDs, durations, scope patterns) are bot-config.ts's own,
 * passed in, so every section words its problems the same way.
 */
import { z } from 'zod';
import type { Target } from '../core/model.js';
import {
  CUSTOM_SLOTS,
  type PlanClass,
  type PolicyTarget,
  type ProtectionConfig,
  type ProtectionPolicy,
} from '../core/protection/model.js';
import { classLabel, isKnownTimezone, maxLivePlanSnapshots, PLAN_PERIODS_MS } from '../core/protection/schedule.js';
import { SNAPSHOT_TYPES } from '../ovh/models.js';
import { DAY_MS, type DurationRange, formatDuration, MINUTE_MS, parseDuration } from '../shared/duration.js';

/** The helpers of bot-config.ts this section is built with. */
export interface SchemaKit {
  strictMapping: <Shape extends z.ZodRawShape>(
    shape: Shape,
    what: string,
    whenMissing?: string,
  ) => z.ZodObject<Shape, z.core.$strict>;
  expected: (what: string, whenMissing?: string) => (issue: { input?: unknown }) => string;
  oneOf: (options: readonly string[], input: unknown, whenMissing: string) => string;
  channelId: (purpose: string) => z.ZodType<string>;
  durationSetting: (examples: string, range: DurationRange, purpose: string) => z.ZodType<string>;
}

/** How often the scanner looks at every covered partition. */
export const SCAN_EVERY_RANGE: DurationRange = { minMs: MINUTE_MS, maxMs: DAY_MS };
export const DEFAULT_SCAN_EVERY = '15m';
export const DEFAULT_RESERVE = 2;
export const DEFAULT_MAX_AGE = { warn: '2h', critical: '26h' } as const;
/** OVH's FAQ: the snapshot reserve is at least 15% of the partition. */
export const DEFAULT_SNAPSHOT_SPACE_PERCENT = 15;
/** hour-1 and up to three more frequencies (OVH's get-started guide). */
export const MAX_FREQUENCIES = 4;
const AGE_RANGE: DurationRange = { minMs: MINUTE_MS, maxMs: 365 * DAY_MS };
const POLICY_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const AT_RE = /^(?:([A-Za-z]{3,9})\s+)?(\d{1,2}):(\d{2})$/;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
/** The periods a class may have, as words: from the list that decides (`1h, 2h, … 1d or 7d`). */
const PERIOD_WORDS = ((words: readonly string[]) => `${words.slice(0, -1).join(', ')} or ${words.at(-1) ?? ''}`)(
  PLAN_PERIODS_MS.map((ms) => formatDuration(ms)),
);

/** `Sun 03:00` → weekday 0, minute 180; undefined when it does not read as a time (the schema says why). */
function parseAt(text: string): { weekday: number | undefined; minuteOfDay: number } | undefined {
  const match = AT_RE.exec(text.trim());
  if (match === null) return undefined;
  const [, dayWord, hh = '', mm = ''] = match;
  const hour = Number(hh);
  const minute = Number(mm);
  if (hour > 23 || minute > 59) return undefined;
  let weekday: number | undefined;
  if (dayWord !== undefined) {
    const lower = dayWord.toLowerCase();
    weekday = DAY_NAMES.findIndex((name) => name === lower || name.slice(0, 3) === lower);
    if (weekday < 0) return undefined;
  }
  return { weekday, minuteOfDay: hour * 60 + minute };
}

function periodOf(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parsed = parseDuration(text);
  return parsed.ok && PLAN_PERIODS_MS.includes(parsed.ms) ? parsed.ms : undefined;
}

/** The section's schema, built with bot-config.ts's helpers. */
export function protectionSchema(kit: SchemaKit) {
  const every = z.string({ error: kit.expected(`a period: ${PERIOD_WORDS}`) }).superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok || !PLAN_PERIODS_MS.includes(parsed.ms)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be one of ${PERIOD_WORDS} (got ${JSON.stringify(value)}): a plan snapshot is taken at the same times every day or every week`,
      });
    }
  });
  const keep = z
    .number({ error: kit.expected(`a whole number from 1 to ${CUSTOM_SLOTS}`) })
    .superRefine((value, ctx) => {
      if (!Number.isInteger(value) || value < 1 || value > CUSTOM_SLOTS) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a whole number from 1 to ${CUSTOM_SLOTS}: how many of these snapshots are kept (got ${value})`,
        });
      }
    });
  const at = z.string({ error: kit.expected('a time like "02:00" or "Sun 03:00"') }).superRefine((value, ctx) => {
    if (parseAt(value) === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a time of day "HH:MM" (00:00 to 23:59), with a day first for a weekly class ("Sun 03:00") (got ${JSON.stringify(value)})`,
      });
    }
  });
  const planClass = kit
    .strictMapping(
      { every, keep, at: at.optional() },
      'a mapping like { every: 1d, keep: 7, at: "02:00" }',
      'is required: a retention class like { every: 1d, keep: 7, at: "02:00" }',
    )
    .superRefine((value, ctx) => {
      const period = periodOf(value.every);
      const parsedAt = value.at === undefined ? undefined : parseAt(value.at);
      if (period === undefined || parsedAt === undefined) return;
      if (parsedAt.weekday !== undefined && period !== 7 * DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['at'],
          message: `names a day, but only a weekly class (every: 7d) runs on one day: write "${(value.at ?? '').replace(/^\S+\s+/, '')}"`,
        });
      }
    });
  const percent = z
    .union([z.number(), z.string()], { error: kit.expected('a percentage like 15 or "15%"') })
    .superRefine((value, ctx) => {
      const number = typeof value === 'number' ? value : Number(value.trim().replace(/%$/, ''));
      if (!Number.isFinite(number) || number <= 0 || number > 100) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a percentage above 0 and at most 100, like 15 or "15%" (got ${JSON.stringify(value)})`,
        });
      }
    });
  const timezone = z
    .string({ error: kit.expected('an IANA time zone like "UTC" or "Europe/Paris"') })
    .superRefine((value, ctx) => {
      if (!isKnownTimezone(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an IANA time zone like "UTC" or "Europe/Paris" (got ${JSON.stringify(value)}, which this system does not know)`,
        });
      }
    });
  const frequency = z
    .string({ error: kit.expected(`one of ${SNAPSHOT_TYPES.join(', ')}`) })
    .superRefine((value, ctx) => {
      if (!(SNAPSHOT_TYPES as readonly string[]).includes(value)) {
        ctx.addIssue({ code: 'custom', message: kit.oneOf(SNAPSHOT_TYPES, value, '') });
      }
    });
  const target = z
    .string({ error: kit.expected('a target like "zpool-123/*", "zpool-123/data" or a target group name') })
    .min(1, 'must not be empty: a scope like "zpool-123/*" or a target group name');
  const policy = kit.strictMapping(
    {
      name: z
        .string({ error: kit.expected('a name like "production"', 'is required: a name like "production"') })
        .regex(
          POLICY_NAME_RE,
          'must be lower case letters, digits, - and _ (at most 40, starting with a letter or digit), like "production"',
        ),
      targets: z
        .array(target, {
          error: kit.expected(
            'a list of targets, e.g. ["zpool-123/*", "payments"]',
            'is required: the partitions this policy protects, e.g. targets: ["zpool-123/*"] (scopes as in grants, or target group names)',
          ),
        })
        .min(1, 'must list at least one target, e.g. ["zpool-123/*"]'),
      frequencies: z
        .array(frequency, { error: kit.expected(`a list of frequencies, e.g. [hour-1, day-1]`) })
        .optional(),
      plan: z.array(planClass, { error: kit.expected('a list of retention classes') }).optional(),
      reserve: z
        .number({ error: kit.expected(`a whole number from 0 to ${CUSTOM_SLOTS - 1}`) })
        .superRefine((value, ctx) => {
          if (!Number.isInteger(value) || value < 0 || value >= CUSTOM_SLOTS) {
            ctx.addIssue({
              code: 'custom',
              message: `must be a whole number from 0 to ${CUSTOM_SLOTS - 1}: custom slots always left free for people (got ${value})`,
            });
          }
        })
        .optional(),
      max_age: kit
        .strictMapping(
          {
            warn: kit.durationSetting('"2h" or "1d"', AGE_RANGE, 'the age of the newest restore point that warns'),
            critical: kit.durationSetting('"26h" or "2d"', AGE_RANGE, 'the age that is critical'),
          },
          'a mapping like { warn: 2h, critical: 26h }',
        )
        .optional(),
      snapshot_space: percent.optional(),
      timezone: timezone.optional(),
    },
    'a mapping with name, targets, frequencies, plan, reserve, max_age …',
  );
  return kit.strictMapping(
    {
      scan_every: kit
        .durationSetting('"15m" or "1h"', SCAN_EVERY_RANGE, 'how often every covered partition is checked')
        .optional(),
      alerts_channel: kit.channelId('the Slack channel ID (C…) where drift and coverage alerts go'),
      timezone: timezone.optional(),
      policies: z
        .array(policy, {
          error: kit.expected('a list of policies', 'is required: a list of policies (name, targets, …)'),
        })
        .min(1, 'must list at least one policy'),
    },
    'a mapping with scan_every, alerts_channel and policies',
  );
}

export type ProtectionFile = z.infer<ReturnType<typeof protectionSchema>>;

// ---- relations between fields --------------------------------------------------------------------------------

type PathKey = string | number;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A target as two globs (service, partition; undefined = every partition), or the concrete partitions of a group. */
interface TargetShape {
  text: string;
  index: number;
  parts: Array<{ service: string; partition: string | undefined }>;
}

function scopeParts(pattern: string): { service: string; partition: string | undefined } {
  const slash = pattern.indexOf('/');
  if (slash < 0) return { service: pattern, partition: undefined };
  const partition = pattern.slice(slash + 1);
  return { service: pattern.slice(0, slash), partition: /^\*+$/.test(partition) ? undefined : partition };
}

/**
 * A string both globs match (`*` is any run of characters), or undefined when none exists: a breadth-first
 * walk over pairs of positions, so the witness is short.
 */
export function globIntersection(a: string, b: string): string | undefined {
  const key = (i: number, j: number) => i * (b.length + 1) + j;
  const from = new Map<number, { prev: number; char: string }>();
  const queue: Array<[number, number]> = [[0, 0]];
  from.set(key(0, 0), { prev: -1, char: '' });
  while (queue.length > 0) {
    const [i, j] = queue.shift() as [number, number];
    if (i === a.length && j === b.length) {
      let out = '';
      for (let at = key(i, j); at !== key(0, 0); ) {
        const step = from.get(at);
        if (step === undefined) break;
        out = step.char + out;
        at = step.prev;
      }
      return out;
    }
    const ca = a[i];
    const cb = b[j];
    const moves: Array<[number, number, string]> = [];
    if (ca === '*') moves.push([i + 1, j, '']);
    if (cb === '*') moves.push([i, j + 1, '']);
    if (ca !== undefined && cb !== undefined) {
      if (ca !== '*' && cb !== '*' && ca === cb) moves.push([i + 1, j + 1, ca]);
      else if (ca !== '*' && cb === '*') moves.push([i + 1, j, ca]);
      else if (ca === '*' && cb !== '*') moves.push([i, j + 1, cb]);
    }
    for (const [ni, nj, char] of moves) {
      const k = key(ni, nj);
      if (from.has(k)) continue;
      from.set(k, { prev: key(i, j), char });
      queue.push([ni, nj]);
    }
  }
  return undefined;
}

/** A partition both shapes cover, as `service/partition`, if any. */
function overlap(a: TargetShape['parts'][number], b: TargetShape['parts'][number]): string | undefined {
  const service = globIntersection(a.service, b.service);
  if (service === undefined) return undefined;
  if (a.partition === undefined && b.partition === undefined) return `${service || 'x'}/<any partition>`;
  const partition =
    a.partition === undefined
      ? b.partition?.replaceAll('*', '')
      : b.partition === undefined
        ? a.partition.replaceAll('*', '')
        : globIntersection(a.partition, b.partition);
  if (partition === undefined) return undefined;
  return `${service || 'x'}/${partition || 'x'}`;
}

function targetShapes(policy: Record<string, unknown>, groups: Record<string, unknown> | undefined): TargetShape[] {
  const targets = Array.isArray(policy['targets']) ? policy['targets'] : [];
  const shapes: TargetShape[] = [];
  targets.forEach((entry, index) => {
    if (typeof entry !== 'string' || entry === '') return;
    const group = groups?.[entry];
    if (Array.isArray(group)) {
      const parts = group
        .filter((item): item is string => typeof item === 'string' && item.includes('/'))
        .map((item) => ({ service: item.slice(0, item.indexOf('/')), partition: item.slice(item.indexOf('/') + 1) }));
      shapes.push({ text: entry, index, parts });
    } else shapes.push({ text: entry, index, parts: [scopeParts(entry)] });
  });
  return shapes;
}

function classesOf(policy: Record<string, unknown>): PlanClass[] | undefined {
  const plan = policy['plan'];
  if (plan === undefined || plan === null) return [];
  if (!Array.isArray(plan)) return undefined;
  const classes: PlanClass[] = [];
  for (const entry of plan) {
    const record = asRecord(entry);
    const everyMs = periodOf(record?.['every']);
    const keep = record?.['keep'];
    const atText = record?.['at'];
    const parsedAt = typeof atText === 'string' ? parseAt(atText) : { weekday: undefined, minuteOfDay: 0 };
    if (everyMs === undefined || typeof keep !== 'number' || !Number.isInteger(keep) || parsedAt === undefined) {
      return undefined; // the schema reports it
    }
    classes.push({
      label: classLabel(everyMs),
      everyMs,
      keep,
      minuteOfDay: parsedAt.minuteOfDay,
      weekday: everyMs === 7 * DAY_MS ? (parsedAt.weekday ?? 0) : undefined,
    });
  }
  return classes;
}

/** Problems across fields of `protection`, on the raw data (reported together with shape errors). */
export function protectionRelationProblems(
  root: Record<string, unknown>,
  scopePattern: RegExp,
): { path: PathKey[]; message: string }[] {
  const out: { path: PathKey[]; message: string }[] = [];
  const section = asRecord(root['protection']);
  if (section === undefined) return out;
  const groups = asRecord(root['target_groups']);
  const policies = Array.isArray(section['policies']) ? section['policies'] : [];
  const defaultZone = typeof section['timezone'] === 'string' ? section['timezone'] : 'UTC';
  const names = new Map<string, number>();
  const shapes: Array<{ name: string; index: number; shapes: TargetShape[] }> = [];
  policies.forEach((entry, index) => {
    const policy = asRecord(entry);
    if (policy === undefined) return;
    const base: PathKey[] = ['protection', 'policies', index];
    const name = typeof policy['name'] === 'string' ? policy['name'] : `#${index + 1}`;
    const first = names.get(name);
    if (first !== undefined) {
      out.push({
        path: [...base, 'name'],
        message: `duplicate policy name "${name}" (already used by policies[${first}]): give each policy its own name`,
      });
    } else names.set(name, index);

    const targets = Array.isArray(policy['targets']) ? policy['targets'] : [];
    targets.forEach((target, t) => {
      if (typeof target !== 'string' || target === '' || groups?.[target] !== undefined) return;
      if (!target.includes('/') && !target.includes('*') && /^[a-z][a-z0-9_-]*$/.test(target) && !/\d/.test(target)) {
        out.push({
          path: [...base, 'targets', t],
          message: `"${target}" is not a target group (target_groups lists ${groups === undefined ? 'none' : Object.keys(groups).join(', ') || 'none'}) and does not look like a service name: add it to target_groups, or write a scope like "${target}/*" if it is a service`,
        });
      } else if (!scopePattern.test(target)) {
        out.push({
          path: [...base, 'targets', t],
          message: `must be "service", "service/partition" or "*" using letters, digits, - _ . : and * globs, with at most one "/", or a target group name (got ${JSON.stringify(target)})`,
        });
      }
    });
    shapes.push({ name, index, shapes: targetShapes(policy, groups) });

    const frequencies = Array.isArray(policy['frequencies']) ? policy['frequencies'] : [];
    const seen = new Set<unknown>();
    frequencies.forEach((frequency, f) => {
      if (seen.has(frequency)) {
        out.push({ path: [...base, 'frequencies', f], message: `lists ${String(frequency)} twice: keep one` });
      }
      seen.add(frequency);
    });
    if (seen.size > MAX_FREQUENCIES) {
      out.push({
        path: [...base, 'frequencies'],
        message: `lists ${seen.size} frequencies, and NAS-HA enables at most ${MAX_FREQUENCIES} on a partition (hour-1 and 3 more): keep ${MAX_FREQUENCIES} or fewer`,
      });
    }

    const maxAge = asRecord(policy['max_age']);
    const warn = typeof maxAge?.['warn'] === 'string' ? parseDuration(maxAge['warn']) : undefined;
    const critical = typeof maxAge?.['critical'] === 'string' ? parseDuration(maxAge['critical']) : undefined;
    if (warn?.ok === true && critical?.ok === true && warn.ms >= critical.ms) {
      out.push({
        path: [...base, 'max_age', 'critical'],
        message: `must be longer than warn (${formatDuration(warn.ms)} ≥ ${formatDuration(critical.ms)}): a restore point warns first, then turns critical`,
      });
    }

    const classes = classesOf(policy);
    if (classes === undefined) return;
    const labels = new Map<string, number>();
    classes.forEach((cls, c) => {
      const earlier = labels.get(cls.label);
      if (earlier !== undefined) {
        out.push({
          path: [...base, 'plan', c, 'every'],
          message: `another ${cls.label} class (plan[${earlier}]): one class per period — merge them into one with the larger keep`,
        });
      } else labels.set(cls.label, c);
    });
    const reserveRaw = policy['reserve'];
    const reserve = typeof reserveRaw === 'number' && Number.isInteger(reserveRaw) ? reserveRaw : DEFAULT_RESERVE;
    const zone = typeof policy['timezone'] === 'string' ? policy['timezone'] : defaultZone;
    if (classes.length === 0 || labels.size !== classes.length || !isKnownTimezone(zone)) return;
    const live = maxLivePlanSnapshots(classes, zone);
    if (live + reserve > CUSTOM_SLOTS) {
      const sum = classes.reduce((total, cls) => total + cls.keep, 0);
      const terms = classes.map((cls) => `${cls.label} keep ${cls.keep}`).join(' + ');
      const shared = live < sum ? `, ${live} at once with the slots they share` : '';
      out.push({
        path: [...base, 'plan'],
        message:
          `cannot fit: ${terms} = ${sum} plan snapshots${shared}, plus reserve ${reserve} = ${live + reserve}, ` +
          `but a partition holds ${CUSTOM_SLOTS} custom snapshots (people's included): ` +
          `lower a keep or the reserve so that plan + reserve ≤ ${CUSTOM_SLOTS}`,
      });
    }
  });

  // A partition follows one policy: any partition two policies' targets could both cover is an error.
  for (let a = 0; a < shapes.length; a++) {
    for (let b = a + 1; b < shapes.length; b++) {
      const first = shapes[a];
      const second = shapes[b];
      if (first === undefined || second === undefined) continue;
      const clash = findClash(first.shapes, second.shapes);
      if (clash === undefined) continue;
      out.push({
        path: ['protection', 'policies', second.index, 'targets', clash.second.index],
        message:
          `${clash.partition} would be covered by two policies: "${first.name}" (targets[${clash.first.index}] ${JSON.stringify(clash.first.text)}) ` +
          `and "${second.name}" (targets[${clash.second.index}] ${JSON.stringify(clash.second.text)}): a partition follows one policy — narrow one of the targets`,
      });
    }
  }
  return out;
}

function findClash(
  a: readonly TargetShape[],
  b: readonly TargetShape[],
): { first: TargetShape; second: TargetShape; partition: string } | undefined {
  for (const first of a) {
    for (const second of b) {
      for (const pa of first.parts) {
        for (const pb of second.parts) {
          const partition = overlap(pa, pb);
          if (partition !== undefined) return { first, second, partition };
        }
      }
    }
  }
  return undefined;
}

// ---- the parsed section -------------------------------------------------------------------------------------

function durationOf(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`unchecked duration ${text}`);
  return parsed.ms;
}

function percentOf(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_SNAPSHOT_SPACE_PERCENT;
  return typeof value === 'number' ? value : Number(value.trim().replace(/%$/, ''));
}

/** The checked section as the core uses it (camelCase, durations in ms, target groups resolved). */
export function buildProtection(
  file: ProtectionFile,
  targetGroups: ReadonlyMap<string, readonly Target[]>,
): ProtectionConfig {
  const defaultZone = file.timezone ?? 'UTC';
  const policies: ProtectionPolicy[] = file.policies.map((policy) => {
    const targets: PolicyTarget[] = policy.targets.map((text) => {
      const group = targetGroups.get(text);
      return group === undefined ? { kind: 'scope', pattern: text } : { kind: 'group', name: text, partitions: group };
    });
    const plan: PlanClass[] = (policy.plan ?? []).map((cls) => {
      const everyMs = durationOf(cls.every);
      const at = parseAt(cls.at ?? '00:00') ?? { weekday: undefined, minuteOfDay: 0 };
      return {
        label: classLabel(everyMs),
        everyMs,
        keep: cls.keep,
        minuteOfDay: at.minuteOfDay,
        weekday: everyMs === 7 * DAY_MS ? (at.weekday ?? 0) : undefined,
      };
    });
    return {
      name: policy.name,
      targets,
      frequencies: [...new Set(policy.frequencies ?? [])] as ProtectionPolicy['frequencies'],
      plan,
      reserve: policy.reserve ?? DEFAULT_RESERVE,
      maxAge: {
        warnMs: durationOf(policy.max_age?.warn ?? DEFAULT_MAX_AGE.warn),
        criticalMs: durationOf(policy.max_age?.critical ?? DEFAULT_MAX_AGE.critical),
      },
      snapshotSpacePercent: percentOf(policy.snapshot_space),
      timezone: policy.timezone ?? defaultZone,
    };
  });
  return {
    scanEveryMs: durationOf(file.scan_every ?? DEFAULT_SCAN_EVERY),
    alertsChannel: file.alerts_channel,
    policies,
  };
}
