import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_OPERATIONS,
  ConfigError,
  DEFAULT_APPROVAL_RULES,
  loadBotConfig,
  parseBotConfig,
} from '../../src/config/bot-config.js';
import { configProblems } from '../support/config-problems.js';

const EXAMPLE = `version: 1                       # bumps invalidate pending approvals
audit:
  channel: C0AUDIT01
approvals:
  channel: C0APPROV01
grants:
  - role: admin
    users: [U012ADMIN]
    groups: []
    scope: ["*"]
  - role: operator
    groups: [S0SRE]
    scope: ["zpool-128310/*", "zpool-*/db"]
channels:
  - id: C0GENERAL
    max_role: viewer
  - id: C0INCIDENT
    max_role: operator
unlisted_channels: admin
target_groups:
  payments: ["zpool-1/db", "zpool-2/uploads"]
quick_snapshot:
  default_expiration: 7d
  responder_groups: [S0ONCALL]
`;

const problems = configProblems;

// Two lines, like a bare audit section, so line numbers in the expectations stay readable.
const MINIMAL = 'audit: {channel: C0AUDIT01}\napprovals: {channel: C0APPROV01}\n';
const AUDIT_ONLY = 'audit:\n  channel: C0AUDIT01\n';
/** MINIMAL with `approvals.rules` set to this flow mapping (still two lines). */
const withRules = (rules: string) => `audit: {channel: C0AUDIT01}\napprovals: {channel: C0APPROV01, rules: ${rules}}\n`;

const HOUR = 3_600_000;
/** What the harness config of the e2e tests (no approvals section, leading blank line) runs into. */
const MISSING_CHANNEL =
  'approvals.channel: required because snapshot.delete and schedule.remove need approval ' +
  '(set approvals.channel to a channel ID like C0123ABCD, where approval requests are posted; ' +
  'or turn approvals off with approvals.rules.snapshot.delete.required: false and approvals.rules.schedule.remove.required: false)';

describe('parseBotConfig: valid files', () => {
  it('parses the documented example into camelCase fields with defaults', () => {
    const config = parseBotConfig(EXAMPLE, 'nasha.yml');
    expect(config.version).toBe(1);
    expect(config.audit).toEqual({ channel: 'C0AUDIT01', export: [] });
    expect(config.approvals).toEqual({ channel: 'C0APPROV01', rules: DEFAULT_APPROVAL_RULES });
    expect(config.access).toEqual({
      grants: [
        { role: 'admin', users: ['U012ADMIN'], groups: [], scope: ['*'] },
        { role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-128310/*', 'zpool-*/db'] },
      ],
      channels: [
        { id: 'C0GENERAL', maxRole: 'viewer' },
        { id: 'C0INCIDENT', maxRole: 'operator' },
      ],
      unlistedChannels: 'admin',
    });
    expect([...config.targetGroups]).toEqual([
      [
        'payments',
        [
          { service: 'zpool-1', partition: 'db' },
          { service: 'zpool-2', partition: 'uploads' },
        ],
      ],
    ]);
    expect(config.quickSnapshot).toEqual({
      defaultExpiration: '7d',
      defaultExpirationMs: 7 * 86_400_000,
      responderGroups: ['S0ONCALL'],
    });
    expect(config.warnings).toEqual([]);
    expect(config.configVersion).toMatch(/^1:[0-9a-f]{12}$/);
  });

  it('fills defaults for the optional sections', () => {
    const config = parseBotConfig(
      `${MINIMAL}grants:\n  - {role: viewer, users: [W0ENTERPRISE], scope: [zpool-1]}\n`,
      'x.yml',
    );
    expect(config.version).toBe(1);
    expect(config.approvals).toEqual({
      channel: 'C0APPROV01',
      rules: {
        'snapshot.delete': {
          required: true,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'schedule.remove': {
          required: true,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'snapshot.create': {
          required: false,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'schedule.add': {
          required: false,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
      },
    });
    expect(config.access.channels).toEqual([]);
    expect(config.access.unlistedChannels).toBe('admin');
    expect(config.targetGroups.size).toBe(0);
    expect(config.quickSnapshot).toBeUndefined();
  });

  it('keeps configVersion when only comments, formatting or key order change, and changes it otherwise', () => {
    const base = parseBotConfig(EXAMPLE, 'nasha.yml').configVersion;
    const reformatted = EXAMPLE.replace('# bumps invalidate pending approvals', '# another comment')
      .replace('users: [U012ADMIN]\n    groups: []', 'groups: []\n    users:\n      - U012ADMIN')
      .replace('channel: C0AUDIT01', 'channel: "C0AUDIT01"   # quoted');
    expect(parseBotConfig(reformatted, 'other.yml').configVersion).toBe(base);

    const widened = parseBotConfig(EXAMPLE.replace('"zpool-*/db"', '"zpool-*/*"'), 'nasha.yml').configVersion;
    expect(widened).not.toBe(base);
    const bumped = parseBotConfig(EXAMPLE.replace('version: 1', 'version: 2'), 'nasha.yml').configVersion;
    expect(bumped).toMatch(/^2:/);
    expect(bumped.slice(2)).not.toBe(base.slice(2));
  });

  it('accepts missing or empty grants but warns that everything is denied', () => {
    for (const text of [MINIMAL, `${MINIMAL}grants: []\n`, `${MINIMAL}grants:\n`]) {
      const config = parseBotConfig(text, 'nasha.yml');
      expect(config.access.grants).toEqual([]);
      expect(config.warnings).toEqual([
        expect.stringMatching(/^nasha\.yml: grants: no grants, so every request will be denied/),
      ]);
    }
  });

  it('warns when unlisted_channels is none and no listed channel allows anything', () => {
    // Approvals off: with them on, the unlisted approvals channel would be an error of its own (nobody could approve).
    const text = `${AUDIT_ONLY}approvals: {rules: {snapshot.delete: {required: false}, schedule.remove: {required: false}}}\ngrants: [{role: admin, users: [U1ADMIN], scope: ["*"]}]\nunlisted_channels: none\n`;
    expect(parseBotConfig(text, 'nasha.yml').warnings).toEqual([
      expect.stringContaining('unlisted_channels is none and no channel in channels allows anything'),
    ]);
  });
});

describe('parseBotConfig: every problem names its key, its line and the fix', () => {
  it('rejects an unknown key, suggesting the near one and listing the allowed ones', () => {
    const text = `${MINIMAL}grants:\n  - role: admin\n    users: [U012ADMIN]\n    scopes: ["*"]\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:4: grants[0].scope: is required: the targets this grant covers, e.g. scope: ["zpool-123/*"] (use ["*"] for everything)',
      'nasha.yml:6: grants[0].scopes: unknown key "scopes" — did you mean "scope"? (allowed here: role, users, groups, scope)',
    ]);
  });

  it('rejects unknown top-level keys, one line each, including camelCase spellings', () => {
    expect(problems(`${MINIMAL}unlistedChannels: none\nfoo: 1\n`)).toEqual([
      'nasha.yml:3: unlistedChannels: unknown key "unlistedChannels" — did you mean "unlisted_channels"? (allowed here: version, audit, approvals, grants, channels, unlisted_channels, target_groups, quick_snapshot, language, protection, digest)',
      'nasha.yml:4: foo: unknown key "foo" (allowed here: version, audit, approvals, grants, channels, unlisted_channels, target_groups, quick_snapshot, language, protection, digest)',
    ]);
  });

  it('digest: off by default; channel, time and time zone, each checked with a clear message', () => {
    expect(parseBotConfig(MINIMAL, 'nasha.yml').digest).toBeUndefined();
    expect(parseBotConfig(`${MINIMAL}digest: {channel: C0DIGEST1}\n`, 'nasha.yml').digest).toEqual({
      channel: 'C0DIGEST1',
      minuteOfDay: 9 * 60,
      timezone: 'UTC',
    });
    expect(
      parseBotConfig(`${MINIMAL}digest: {channel: C0DIGEST1, time: "18:45", timezone: Europe/Paris}\n`, 'nasha.yml')
        .digest,
    ).toEqual({ channel: 'C0DIGEST1', minuteOfDay: 18 * 60 + 45, timezone: 'Europe/Paris' });
    expect(problems(`${MINIMAL}digest: {channel: C0DIGEST1, time: "9h", timezone: Mars/Olympus}\n`)).toEqual([
      'nasha.yml:3: digest.time: must be a time of day "HH:MM" (00:00 to 23:59), like "09:00"',
      'nasha.yml:3: digest.timezone: is not a time zone this system knows: use one like "Europe/Paris" or "UTC"',
    ]);
    expect(problems(`${MINIMAL}digest: {time: "09:00", chanel: C0DIGEST1}\n`).join('\n')).toMatch(
      /digest\.channel: .*required|digest\.chanel: unknown key "chanel" — did you mean "channel"\?/,
    );
  });

  it('rejects a misspelt role with a did-you-mean', () => {
    const text = `${MINIMAL}grants:\n  - role: admin\n    users: [U012ADMIN]\n    scope: ["*"]\n  - role: operater\n    groups: [S0SRE]\n    scope: ["*"]\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:7: grants[1].role: must be one of viewer, operator, approver, admin (got "operater") — did you mean "operator"?',
    ]);
  });

  it('rejects a misspelt channel cap role, listing none as an option', () => {
    const text = `${MINIMAL}channels:\n  - id: C0GENERAL\n    max_role: Viewers\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:5: channels[0].max_role: must be one of viewer, operator, approver, admin, none (got "Viewers") — did you mean "viewer"?',
    ]);
  });

  it('rejects a channel name instead of an ID and says how to find the ID', () => {
    const [line, ...rest] = problems('audit:\n  channel: "#ops-audit"\napprovals: {channel: C0APPROV01}\n');
    expect(rest).toEqual([]);
    expect(line).toBe(
      'nasha.yml:2: audit.channel: must be a Slack channel ID like C0123ABCD, not a channel name (got "#ops-audit"): ' +
        'open the channel in Slack, click its name at the top: the ID (C…) is at the bottom of the About tab',
    );
    expect(problems('audit:\n  channel: ops-audit\napprovals: {channel: C0APPROV01}\n')[0]).toContain(
      'not a channel name (got "ops-audit")',
    );
  });

  it('rejects names and emails where user or group IDs belong', () => {
    const text = `${MINIMAL}grants:\n  - role: viewer\n    users: [U012ADMIN, alice@example.com]\n    groups: ["@sre"]\n    scope: ["*"]\n`;
    const found = problems(text);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^nasha\.yml:5: grants\[0\]\.users\[1\]: must be a Slack user ID like U0123ABCD, never a name or email \(got "alice@example\.com"\): .*Copy member ID$/,
    );
    expect(found[1]).toMatch(
      /^nasha\.yml:6: grants\[0\]\.groups\[0\]: must be a Slack user group ID like S0123ABCD, not a group handle or name \(got "@sre"\)/,
    );
  });

  it('rejects a grant without scope or with an empty scope', () => {
    const text = `${MINIMAL}grants:\n  - role: admin\n    users: [U012ADMIN]\n  - role: admin\n    users: [U012ADMIN]\n    scope: []\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:4: grants[0].scope: is required: the targets this grant covers, e.g. scope: ["zpool-123/*"] (use ["*"] for everything)',
      'nasha.yml:8: grants[1].scope: must list at least one target pattern, e.g. ["zpool-123/*"] (use ["*"] for everything)',
    ]);
  });

  it('rejects scope patterns with bad characters or more than one slash', () => {
    const text = `${MINIMAL}grants:\n  - role: admin\n    users: [U012ADMIN]\n    scope: ["zpool-1/data/x", "zpool 1", "a/"]\n`;
    const found = problems(text);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe(
      'nasha.yml:6: grants[0].scope[0]: must be "service", "service/partition" or "*" using letters, digits, - _ . : and * globs, with at most one "/" (got "zpool-1/data/x")',
    );
    expect(found[1]).toContain('grants[0].scope[1]');
    expect(found[2]).toContain('grants[0].scope[2]');
  });

  it('rejects a grant that names neither users nor groups', () => {
    const text = `${MINIMAL}grants:\n  - role: admin\n    users: []\n    scope: ["*"]\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:4: grants[0]: grants nobody: add users: [U0123ABCD] and/or groups: [S0123ABCD]',
    ]);
  });

  it('rejects duplicate channel ids, pointing at the second one', () => {
    const text = `${MINIMAL}channels:\n  - id: C0GENERAL\n    max_role: viewer\n  - id: C0GENERAL\n    max_role: operator\n`;
    expect(problems(text)).toEqual([
      'nasha.yml:6: channels[1].id: duplicate channel C0GENERAL (already capped at channels[0]): keep one entry per channel',
    ]);
  });

  it('rejects an approvals channel equal to the audit channel', () => {
    expect(problems(`${AUDIT_ONLY}approvals:\n  channel: C0AUDIT01\n`)).toEqual([
      'nasha.yml:4: approvals.channel: must differ from audit.channel (both are C0AUDIT01): give approval requests their own channel so they are not buried in the audit trail',
    ]);
  });

  it('requires the audit channel, even in an empty file', () => {
    const expected = 'is required: add "audit: {channel: C0123ABCD}", the channel where the bot posts its audit trail';
    expect(problems('')).toEqual([`nasha.yml: audit: ${expected}`, `nasha.yml: ${MISSING_CHANNEL}`]);
    expect(problems('approvals: {channel: C0APPROV01}\ngrants: []\n')).toEqual([`nasha.yml:1: audit: ${expected}`]);
  });

  it('rejects wrong value types with what was expected and what was found', () => {
    expect(problems(`${MINIMAL}version: "one"\ngrants: {role: admin}\n`)).toEqual([
      'nasha.yml:3: version: must be a whole number, 1 or more (got "one")',
      'nasha.yml:4: grants: must be a list of grants (role, users/groups, scope) (got a mapping)',
    ]);
    expect(problems('- a\n- b\n')).toEqual([
      'nasha.yml:1: (top level): must be a mapping of settings (audit, grants, channels, …) (got a list)',
    ]);
  });

  it('validates the shape of target_groups and quick_snapshot', () => {
    const text = `${MINIMAL}target_groups:\n  payments: ["zpool-1/*"]\n  empty: []\nquick_snapshot:\n  default_expiration: 7 days\n  responder_groups: [S0ONCALL]\n`;
    const found = problems(text);
    expect(found).toEqual([
      'nasha.yml:4: target_groups.payments[0]: must be one concrete partition "service/partition" without wildcards (got "zpool-1/*"): incident snapshots act on exactly the partitions listed',
      'nasha.yml:5: target_groups.empty: must list at least one partition like "zpool-123/data"',
      'nasha.yml:7: quick_snapshot.default_expiration: must be a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), like "12h", "7d" or "2w" (got "7 days", which has an unknown unit "days")',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    const broken = problems('audit:\n  channel: [C0AUDIT01\n');
    expect(broken[0]).toMatch(/^nasha\.yml:\d+: not valid YAML: /);
    expect(problems(`${MINIMAL}audit:\n  channel: C0OTHER\n`)).toEqual([
      'nasha.yml:3: not valid YAML: Map keys must be unique',
    ]);
  });

  it('reports every problem at once, sorted by line', () => {
    const text = `audit:\n  channel: "#audit"\ngrants:\n  - role: boss\n    scope: []\nchannels:\n  - {id: C0A1, max_role: none}\n  - {id: C0A1, max_role: none}\napprovals: {channel: C0APPROV01}\n`;
    const found = problems(text);
    expect(found.map((line) => line.split(': ')[0])).toEqual([
      'nasha.yml:2',
      'nasha.yml:4',
      'nasha.yml:4',
      'nasha.yml:5',
      'nasha.yml:8',
    ]);
    expect(found.join('\n')).toContain('grants[0]: grants nobody');
  });
});

describe('parseBotConfig: approvals', () => {
  const RULES = `audit: {channel: C0AUDIT01}
approvals:
  channel: C0APPROV01
  rules:
    snapshot.delete:  { required: true,  quorum: 1, approver_groups: [S0STORAGE], ttl: 4h }
    schedule.remove:  { required: true,  quorum: 2, ttl: 30m }
    snapshot.create:  { required: false }
    schedule.add:     { required: false }
`;

  it('parses rules per operation, filling every key left out with its default', () => {
    const config = parseBotConfig(RULES, 'nasha.yml');
    expect(config.approvals).toEqual({
      channel: 'C0APPROV01',
      rules: {
        'snapshot.delete': {
          required: true,
          quorum: 1,
          approverGroups: ['S0STORAGE'],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'schedule.remove': {
          required: true,
          quorum: 2,
          approverGroups: [],
          ttlMs: 30 * 60_000,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'snapshot.create': {
          required: false,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
        'schedule.add': {
          required: false,
          quorum: 1,
          approverGroups: [],
          ttlMs: 4 * HOUR,
          remindAfterMs: 30 * 60_000,
          escalateTo: [],
        },
      },
    });
    const partial = parseBotConfig(withRules('{schedule.add: {required: true, ttl: 2d}}'), 'nasha.yml');
    expect(partial.approvals.rules['schedule.add']).toEqual({
      required: true,
      quorum: 1,
      approverGroups: [],
      ttlMs: 48 * HOUR,
      remindAfterMs: 30 * 60_000,
      escalateTo: [],
    });
    expect(partial.approvals.rules['snapshot.delete']).toEqual(DEFAULT_APPROVAL_RULES['snapshot.delete']);
  });

  it('parses reminders and escalation: remind_after (default 30m), escalate_to with escalate_after (default 2h)', () => {
    const parsed = parseBotConfig(
      withRules(
        '{snapshot.delete: {remind_after: 10m, escalate_to: [S0LEADS, S0LEADS], escalate_after: 1h}, schedule.remove: {escalate_to: [S0LEADS]}}',
      ),
      'nasha.yml',
    );
    expect(parsed.approvals.rules['snapshot.delete']).toMatchObject({
      remindAfterMs: 10 * 60_000,
      escalateTo: ['S0LEADS'],
      escalateAfterMs: HOUR,
    });
    expect(parsed.approvals.rules['schedule.remove']).toMatchObject({
      remindAfterMs: 30 * 60_000,
      escalateTo: ['S0LEADS'],
      escalateAfterMs: 2 * HOUR,
    });
    expect(parsed.approvals.rules['snapshot.create'].escalateAfterMs).toBeUndefined();
  });

  it('rejects bad reminder settings, saying what they set', () => {
    const bad = problems(
      withRules(
        '{snapshot.delete: {remind_after: 8d}, schedule.remove: {escalate_after: 1h}, schedule.add: {escalate_to: [leads]}}',
      ),
    );
    expect(bad).toEqual([
      expect.stringMatching(
        /approvals\.rules\.snapshot\.delete\.remind_after: must be from 1m to 7d: how long a request waits before the first reminder.*got "8d"/,
      ),
      expect.stringMatching(/approvals\.rules\.schedule\.remove\.escalate_after: needs escalate_to/),
      expect.stringMatching(/approvals\.rules\.schedule\.add\.escalate_to\[0\]: must be a Slack user group ID/),
    ]);
  });

  it('parses break_glass: {group} per rule; none by default', () => {
    const parsed = parseBotConfig(withRules('{snapshot.delete: {break_glass: {group: S0ONCALL}}}'), 'nasha.yml');
    expect(parsed.approvals.rules['snapshot.delete'].breakGlass).toEqual({ group: 'S0ONCALL' });
    expect(parsed.approvals.rules['schedule.remove'].breakGlass).toBeUndefined();
  });

  it('rejects bad break_glass settings, saying what is expected', () => {
    const bad = problems(
      withRules(
        '{snapshot.delete: {break_glass: true}, schedule.remove: {break_glass: {group: oncall}}, schedule.add: {break_glass: {}}, snapshot.create: {required: false, break_glass: {group: S0ONCALL}}}',
      ),
    );
    expect(bad).toEqual([
      expect.stringMatching(
        /approvals\.rules\.snapshot\.delete\.break_glass: must be a mapping with group, e\.g\. \{group: S0123ABCD\}.*got true/,
      ),
      expect.stringMatching(/approvals\.rules\.schedule\.remove\.break_glass\.group: must be a Slack user group ID/),
      expect.stringMatching(
        /approvals\.rules\.snapshot\.create\.break_glass: only applies to a change that needs approval/,
      ),
      expect.stringMatching(/approvals\.rules\.schedule\.add\.break_glass\.group: is required: a Slack user group ID/),
    ]);
  });

  it('defaults: deleting and removing need one approver within 4 h; creating and adding need none', () => {
    expect(APPROVAL_OPERATIONS.filter((op) => DEFAULT_APPROVAL_RULES[op].required)).toEqual([
      'snapshot.delete',
      'schedule.remove',
    ]);
    for (const op of APPROVAL_OPERATIONS) {
      expect(DEFAULT_APPROVAL_RULES[op]).toMatchObject({
        quorum: 1,
        approverGroups: [],
        ttlMs: 4 * HOUR,
        remindAfterMs: 30 * 60_000,
        escalateTo: [],
      });
    }
    expect(parseBotConfig(withRules(''), 'nasha.yml').approvals.rules).toEqual(DEFAULT_APPROVAL_RULES);
  });

  it('accepts ttl from 5m to 7d in minutes, hours or days, and removes duplicate groups', () => {
    const ttl = (value: string) =>
      parseBotConfig(
        `${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\n  rules:\n    snapshot.delete: {ttl: ${value}, approver_groups: [S0A, S0A, S0B]}\n`,
        'nasha.yml',
      ).approvals.rules['snapshot.delete'];
    expect(ttl('5m').ttlMs).toBe(5 * 60_000);
    expect(ttl('168h').ttlMs).toBe(7 * 24 * HOUR);
    expect(ttl('7d').ttlMs).toBe(7 * 24 * HOUR);
    expect(ttl('1d').approverGroups).toEqual(['S0A', 'S0B']);
  });

  it('reads durations with the same grammar as --expires: any case, a space, weeks, combined parts', () => {
    const rule = (value: string) =>
      parseBotConfig(
        `${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\n  rules:\n    snapshot.delete: {ttl: "${value}"}\n`,
        'nasha.yml',
      ).approvals.rules['snapshot.delete'].ttlMs;
    expect(rule('1w')).toBe(7 * 24 * HOUR);
    expect(rule('4H')).toBe(4 * HOUR);
    expect(rule('12 h')).toBe(12 * HOUR);
    expect(rule('1d12h')).toBe(36 * HOUR);
    expect(rule('2h 30m')).toBe(2.5 * HOUR);
    expect(rule('90min')).toBe(1.5 * HOUR);
    const quick = (value: string) =>
      parseBotConfig(
        `${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\nquick_snapshot:\n  default_expiration: "${value}"\n`,
        'nasha.yml',
      ).quickSnapshot;
    expect(quick('2W')).toMatchObject({ defaultExpiration: '2W', defaultExpirationMs: 14 * 24 * HOUR });
    expect(quick('1d 12h')?.defaultExpirationMs).toBe(36 * HOUR);
  });

  it('refuses a duration it cannot read, or outside its range, saying why and the range', () => {
    const ttlProblems = (value: string) =>
      problems(`${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\n  rules:\n    snapshot.delete: {ttl: "${value}"}\n`);
    const grammar =
      'must be a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), like "30m", "4h" or "2d"';
    expect(ttlProblems('12h1d')).toEqual([
      `nasha.yml:6: approvals.rules.snapshot.delete.ttl: ${grammar} (got "12h1d", which puts d after h: write the larger unit first, like 1d12h)`,
    ]);
    expect(ttlProblems('4')).toEqual([
      `nasha.yml:6: approvals.rules.snapshot.delete.ttl: ${grammar} (got "4", which has no unit after 4)`,
    ]);
    expect(ttlProblems('7q')).toEqual([
      `nasha.yml:6: approvals.rules.snapshot.delete.ttl: ${grammar} (got "7q", which has an unknown unit "q")`,
    ]);
    expect(ttlProblems('1w1m')).toEqual([
      'nasha.yml:6: approvals.rules.snapshot.delete.ttl: must be from 5m to 7d: how long a request may wait for its approvals (got "1w1m")',
    ]);
    expect(
      problems(`${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\nquick_snapshot:\n  default_expiration: 0m\n`),
    ).toEqual([
      'nasha.yml:6: quick_snapshot.default_expiration: must be from 1m to 1825d: how long quick snapshots are kept unless --expires says otherwise (got "0m")',
    ]);
    expect(
      problems(`${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\nquick_snapshot:\n  default_expiration: 261w\n`),
    ).toEqual([
      'nasha.yml:6: quick_snapshot.default_expiration: must be from 1m to 1825d: how long quick snapshots are kept unless --expires says otherwise (got "261w")',
    ]);
  });

  it('needs no channel when no operation requires approval', () => {
    const off = `${AUDIT_ONLY}approvals:\n  rules:\n    snapshot.delete: {required: false}\n    schedule.remove: {required: false}\n`;
    const config = parseBotConfig(off, 'nasha.yml');
    expect(config.approvals.channel).toBeUndefined();
    expect(APPROVAL_OPERATIONS.some((op) => config.approvals.rules[op].required)).toBe(false);
  });

  it('requires the channel as soon as an operation requires approval, saying which and how to turn it off', () => {
    // The e2e harness config: a leading blank line, no approvals section.
    expect(problems(`\nversion: 1\n${AUDIT_ONLY}grants: []\n`)).toEqual([`nasha.yml:2: ${MISSING_CHANNEL}`]);
    expect(problems(`${AUDIT_ONLY}approvals:\n`)).toEqual([`nasha.yml:3: ${MISSING_CHANNEL}`]);
    const one = `${AUDIT_ONLY}approvals:\n  rules:\n    snapshot.delete: {required: false}\n    snapshot.create: {quorum: 2}\n`;
    expect(problems(one)).toEqual([
      'nasha.yml:4: approvals.channel: required because schedule.remove needs approval ' +
        '(set approvals.channel to a channel ID like C0123ABCD, where approval requests are posted; ' +
        'or turn approvals off with approvals.rules.schedule.remove.required: false)',
    ]);
    const added = `${AUDIT_ONLY}approvals:\n  rules:\n    schedule.add: {required: true}\n`;
    expect(problems(added)[0]).toContain(
      'required because snapshot.delete, schedule.remove and schedule.add need approval',
    );
  });

  it('rejects unknown operations with a did-you-mean', () => {
    const text = withRules(
      '{snapshot_delete: {}, delete: {}, snapshot.remove: {}, schedule.delete: {}, snapshot.add: {}, approval.decide: {}}',
    );
    const allowed = '(allowed here: snapshot.delete, schedule.remove, snapshot.create, schedule.add)';
    expect(problems(text)).toEqual([
      `nasha.yml:2: approvals.rules.snapshot_delete: unknown key "snapshot_delete" — did you mean "snapshot.delete"? ${allowed}`,
      `nasha.yml:2: approvals.rules.delete: unknown key "delete" — did you mean "snapshot.delete"? ${allowed}`,
      `nasha.yml:2: approvals.rules.snapshot.remove: unknown key "snapshot.remove" — did you mean "snapshot.delete"? ${allowed}`,
      `nasha.yml:2: approvals.rules.schedule.delete: unknown key "schedule.delete" — did you mean "schedule.remove"? ${allowed}`,
      `nasha.yml:2: approvals.rules.snapshot.add: unknown key "snapshot.add" — did you mean "snapshot.create"? ${allowed}`,
      `nasha.yml:2: approvals.rules.approval.decide: unknown key "approval.decide" ${allowed}`,
    ]);
    expect(problems(`${AUDIT_ONLY}approvals: {channel: C0APPROV01, rule: {}}\n`)).toEqual([
      'nasha.yml:3: approvals.rule: unknown key "rule" — did you mean "rules"? (allowed here: channel, rules)',
    ]);
  });

  it('rejects bad rule values, one line each', () => {
    const text = `${AUDIT_ONLY}approvals:
  channel: C0APPROV01
  rules:
    snapshot.delete:
      required: yes
      quorum: 0
      approver_groups: ["@storage"]
      ttl: 2w
    schedule.remove: {quorum: 6, ttl: 4m}
    snapshot.create: {quorum: 1.5, ttl: 8d, approvers: [S0A]}
    schedule.add: {ttl: 30}
`;
    expect(problems(text)).toEqual([
      'nasha.yml:7: approvals.rules.snapshot.delete.required: must be true or false (got "yes")',
      'nasha.yml:8: approvals.rules.snapshot.delete.quorum: must be a whole number from 1 to 5: the number of different people who must approve (got 0)',
      'nasha.yml:9: approvals.rules.snapshot.delete.approver_groups[0]: must be a Slack user group ID like S0123ABCD, not a group handle or name (got "@storage"): open People → User groups in Slack and pick the group: the ID (S…) is in the page URL',
      'nasha.yml:10: approvals.rules.snapshot.delete.ttl: must be from 5m to 7d: how long a request may wait for its approvals (got "2w")',
      'nasha.yml:11: approvals.rules.schedule.remove.quorum: must be a whole number from 1 to 5: the number of different people who must approve (got 6)',
      'nasha.yml:11: approvals.rules.schedule.remove.ttl: must be from 5m to 7d: how long a request may wait for its approvals (got "4m")',
      'nasha.yml:12: approvals.rules.snapshot.create.quorum: must be a whole number from 1 to 5: the number of different people who must approve (got 1.5)',
      'nasha.yml:12: approvals.rules.snapshot.create.ttl: must be from 5m to 7d: how long a request may wait for its approvals (got "8d")',
      'nasha.yml:12: approvals.rules.snapshot.create.approvers: unknown key "approvers" (allowed here: required, quorum, approver_groups, ttl, remind_after, escalate_after, escalate_to, break_glass)',
      'nasha.yml:13: approvals.rules.schedule.add.ttl: must be a duration like "30m", "4h" or "2d" (got 30)',
    ]);
    expect(problems(`${AUDIT_ONLY}approvals: [C0APPROV01]\n`)).toEqual([
      'nasha.yml:3: approvals: must be a mapping with channel and/or rules (got a list)',
    ]);
    expect(problems(`${AUDIT_ONLY}approvals:\n  channel: C0APPROV01\n  rules:\n    snapshot.delete:\n`)).toEqual([
      'nasha.yml:6: approvals.rules.snapshot.delete: must be a mapping with required, quorum, approver_groups, ttl, remind_after, escalate_after, escalate_to and/or break_glass, e.g. {required: false} (got an empty value)',
    ]);
  });

  it('rejects an approvals channel whose cap leaves nobody able to approve', () => {
    const listed = `${MINIMAL}channels:\n  - {id: C0GENERAL, max_role: admin}\n  - {id: C0APPROV01, max_role: operator}\n`;
    expect(problems(listed)).toEqual([
      'nasha.yml:2: approvals.channel: nobody could approve in C0APPROV01: approving needs approver, but channels[1] caps it to operator; raise that max_role to approver',
    ]);
    expect(problems(`${MINIMAL}unlisted_channels: viewer\n`)).toEqual([
      'nasha.yml:2: approvals.channel: nobody could approve in C0APPROV01: approving needs approver, but unlisted_channels caps it to viewer; list it in channels with max_role: approver',
    ]);
    const approverCap = parseBotConfig(
      `${MINIMAL}unlisted_channels: none\nchannels: [{id: C0APPROV01, max_role: approver}]\ngrants: [{role: admin, users: [U1ADMIN], scope: ["*"]}]\n`,
      'nasha.yml',
    );
    expect(approverCap.warnings).toEqual([]);
  });

  it('covers the approval rules in configVersion, defaults written out or not', () => {
    const base = parseBotConfig(MINIMAL, 'nasha.yml').configVersion;
    const spelledOut = withRules('{snapshot.delete: {required: true, quorum: 1, ttl: 240m}}');
    expect(parseBotConfig(spelledOut, 'nasha.yml').configVersion).toBe(base);
    for (const change of [
      '{schedule.remove: {quorum: 2}}',
      '{snapshot.delete: {ttl: 1h}}',
      '{schedule.add: {required: true}}',
    ]) {
      const text = withRules(change);
      expect(parseBotConfig(text, 'nasha.yml').configVersion, change).not.toBe(base);
    }
    const grouped = withRules('{snapshot.delete: {approver_groups: [S0STORAGE]}}');
    expect(parseBotConfig(grouped, 'nasha.yml').configVersion).not.toBe(base);
  });
});

describe('parseBotConfig: languages', () => {
  it('defaults to English everywhere', () => {
    const config = parseBotConfig(MINIMAL, 'nasha.yml');
    expect(config.language.default).toBe('en');
    expect([...config.language.channels]).toEqual([]);
  });

  it('reads the workspace default and per-channel languages; a language-only entry caps nothing', () => {
    const text = `${MINIMAL}language: fr\nchannels:\n  - {id: C0AUDIT01, language: en}\n  - {id: C0GENERAL, max_role: viewer, language: fr}\n`;
    const config = parseBotConfig(text, 'nasha.yml');
    expect(config.language.default).toBe('fr');
    expect([...config.language.channels]).toEqual([
      ['C0AUDIT01', 'en'],
      ['C0GENERAL', 'fr'],
    ]);
    expect(config.access.channels).toEqual([{ id: 'C0GENERAL', maxRole: 'viewer' }]);
  });

  it('keeps approvals valid across a language change (wording is not authorization)', () => {
    const base = parseBotConfig(MINIMAL, 'nasha.yml').configVersion;
    const french = `${MINIMAL}language: fr\nchannels:\n  - {id: C0APPROV01, language: fr}\n`;
    expect(parseBotConfig(french, 'nasha.yml').configVersion).toBe(base);
  });

  it('rejects a language it does not speak, naming the ones it does', () => {
    expect(problems(`${MINIMAL}language: de\n`)).toEqual([
      'nasha.yml:3: language: must be one of en, fr (got "de"): the language of the bot\'s words (en: English, fr: French)',
    ]);
    expect(problems(`${MINIMAL}language: FR\n`)[0]).toMatch(/got "FR"\) — did you mean "fr"\?/);
    expect(problems(`${MINIMAL}channels:\n  - {id: C0OPS01, language: french}\n`)[0]).toMatch(
      /^nasha\.yml:4: channels\[0\]\.language: must be one of en, fr \(got "french"\)/,
    );
  });

  it('rejects a channel entry that sets nothing', () => {
    expect(problems(`${MINIMAL}channels:\n  - id: C0OPS01\n`)).toEqual([
      'nasha.yml:4: channels[0]: sets nothing for this channel: add max_role (viewer, operator, approver, admin, none) and/or language (en, fr)',
    ]);
  });

  it('checks the approvals channel cap as unlisted when its entry only sets a language', () => {
    const text = `${MINIMAL}unlisted_channels: viewer\nchannels:\n  - {id: C0APPROV01, language: fr}\n`;
    expect(problems(text).join('\n')).toMatch(
      /nobody could approve in C0APPROV01: .*unlisted_channels caps it to viewer/,
    );
  });
});

describe('loadBotConfig', () => {
  it('reads the file and labels problems with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nasha-config-'));
    const path = join(dir, 'nasha.yml');
    writeFileSync(path, EXAMPLE);
    expect(loadBotConfig(path).audit.channel).toBe('C0AUDIT01');
    writeFileSync(path, 'audit:\n  channel: general\n');
    expect(() => loadBotConfig(path)).toThrow(`${path}:2: audit.channel`);
  });

  it('names NASHA_CONFIG and the path when the file is missing', () => {
    const path = join(tmpdir(), 'nasha-missing', 'nasha.yml');
    try {
      loadBotConfig(path);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        `NASHA_CONFIG: the config file ${path} does not exist; set NASHA_CONFIG to the path of your nasha.yml`,
      ]);
    }
  });
});

describe('audit.export', () => {
  const withExport = (sinks: string) =>
    `version: 1\naudit:\n  channel: C0AUDIT01\n  export:\n${sinks}\napprovals:\n  channel: C0APPROV01\ngrants:\n  - role: admin\n    users: [U0ALICE]\n    scope: ["*"]\n`;

  it('parses JSON Lines sinks (a file or stdout) and HTTPS webhooks', () => {
    const config = parseBotConfig(
      withExport(
        '    - { name: file, type: jsonl, path: /var/log/nasha/audit.jsonl }\n    - { name: ship, type: jsonl, stdout: true }\n    - { name: siem, type: webhook, url: "https://siem.example.com/in", timeout_ms: 5000 }',
      ),
      'nasha.yml',
    );
    expect(config.audit.export).toEqual([
      { name: 'file', type: 'jsonl', path: '/var/log/nasha/audit.jsonl' },
      { name: 'ship', type: 'jsonl', stdout: true },
      {
        name: 'siem',
        type: 'webhook',
        url: new URL('https://siem.example.com/in'),
        timeoutMs: 5000,
        caFile: undefined,
      },
    ]);
  });

  it('reports a sink without a destination, a plain-HTTP webhook, an unknown type and a name used twice', () => {
    const problems = (() => {
      try {
        parseBotConfig(
          withExport(
            '    - { name: a, type: jsonl }\n    - { name: b, type: webhook, url: "http://siem.example.com/in" }\n    - { name: a, type: jsonl, stdout: true }\n    - { name: c, type: syslog }',
          ),
          'nasha.yml',
        );
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    })();
    expect(problems).toContain('audit.export[0]: needs exactly one of path (a file to append to) or stdout: true');
    expect(problems).toContain('audit.export[1].url: must be an https:// URL');
    expect(problems).toContain('audit.export[3].type: must be a sink with type: jsonl or type: webhook');
    expect(() =>
      parseBotConfig(
        withExport('    - { name: a, type: jsonl, path: /x }\n    - { name: a, type: jsonl, stdout: true }'),
        'nasha.yml',
      ),
    ).toThrow('audit.export[1].name: is used twice (a): names must differ');
  });

  it('does not change the config version (approvals stay valid when exports are added)', () => {
    const without = parseBotConfig(withExport('    []'), 'nasha.yml');
    const withSink = parseBotConfig(withExport('    - { name: ship, type: jsonl, stdout: true }'), 'nasha.yml');
    expect(withSink.configVersion).toBe(without.configVersion);
  });
});
