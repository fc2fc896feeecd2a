import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadBotConfig, parseBotConfig } from '../../src/config/bot-config.js';

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

/** The problems of an invalid config (fails the test if it parses). */
function problems(text: string): readonly string[] {
  try {
    parseBotConfig(text, 'nasha.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = 'audit:\n  channel: C0AUDIT01\n';

describe('parseBotConfig: valid files', () => {
  it('parses the documented example into camelCase fields with defaults', () => {
    const config = parseBotConfig(EXAMPLE, 'nasha.yml');
    expect(config.version).toBe(1);
    expect(config.audit).toEqual({ channel: 'C0AUDIT01' });
    expect(config.approvals).toEqual({ channel: 'C0APPROV01' });
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
    expect(config.approvals).toBeUndefined();
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
    const text = `${MINIMAL}grants: [{role: admin, users: [U1ADMIN], scope: ["*"]}]\nunlisted_channels: none\n`;
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
      'nasha.yml:3: unlistedChannels: unknown key "unlistedChannels" — did you mean "unlisted_channels"? (allowed here: version, audit, approvals, grants, channels, unlisted_channels, target_groups, quick_snapshot)',
      'nasha.yml:4: foo: unknown key "foo" (allowed here: version, audit, approvals, grants, channels, unlisted_channels, target_groups, quick_snapshot)',
    ]);
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
    const [line, ...rest] = problems('audit:\n  channel: "#ops-audit"\n');
    expect(rest).toEqual([]);
    expect(line).toBe(
      'nasha.yml:2: audit.channel: must be a Slack channel ID like C0123ABCD, not a channel name (got "#ops-audit"): ' +
        'open the channel in Slack, click its name at the top: the ID (C…) is at the bottom of the About tab',
    );
    expect(problems('audit:\n  channel: ops-audit\n')[0]).toContain('not a channel name (got "ops-audit")');
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
    expect(problems(`${MINIMAL}approvals:\n  channel: C0AUDIT01\n`)).toEqual([
      'nasha.yml:4: approvals.channel: must differ from audit.channel (both are C0AUDIT01): give approval requests their own channel so they are not buried in the audit trail',
    ]);
  });

  it('requires the audit channel, even in an empty file', () => {
    const expected = 'is required: add "audit: {channel: C0123ABCD}", the channel where the bot posts its audit trail';
    expect(problems('')).toEqual([`nasha.yml: audit: ${expected}`]);
    expect(problems('grants: []\n')).toEqual([`nasha.yml:1: audit: ${expected}`]);
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
      'nasha.yml:7: quick_snapshot.default_expiration: must be a whole number then m, h, d or w, like "12h" or "7d" (got "7 days")',
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
    const text = `audit:\n  channel: "#audit"\ngrants:\n  - role: boss\n    scope: []\nchannels:\n  - {id: C0A1, max_role: none}\n  - {id: C0A1, max_role: none}\n`;
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
