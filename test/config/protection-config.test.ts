import { describe, expect, it } from 'vitest';
import { parseBotConfig } from '../../src/config/bot-config.js';
import { globIntersection } from '../../src/config/protection-config.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/shared/duration.js';
import { configProblems } from '../support/config-problems.js';

const HEAD = `audit: {channel: C0AUDIT01}
approvals: {channel: C0APPROV01}
target_groups:
  payments: ["zpool-1/db", "zpool-2/uploads"]
protection:
`;

/** A config whose protection section is `body` (indented two spaces under `protection:`, from line 6). */
function config(body: string): string {
  return HEAD + body;
}

const problems = configProblems;

const GOOD = config(`  scan_every: 15m
  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-128310/*", "payments"]
      frequencies: [hour-1, day-1, day-7]
      plan:
        - { every: 1d, keep: 5, at: "02:00" }
        - { every: 7d, keep: 3, at: "Sun 02:00" }
      reserve: 2
      max_age: { warn: 2h, critical: 26h }
`);

describe('protection config', () => {
  it('parses a policy into durations, classes and resolved target groups', () => {
    const parsed = parseBotConfig(GOOD, 'nasha.yml');
    expect(parsed.protection).toEqual({
      scanEveryMs: 15 * MINUTE_MS,
      alertsChannel: 'C0ALERTS',
      policies: [
        {
          name: 'production',
          targets: [
            { kind: 'scope', pattern: 'zpool-128310/*' },
            {
              kind: 'group',
              name: 'payments',
              partitions: [
                { service: 'zpool-1', partition: 'db' },
                { service: 'zpool-2', partition: 'uploads' },
              ],
            },
          ],
          frequencies: ['hour-1', 'day-1', 'day-7'],
          plan: [
            { label: 'daily', everyMs: DAY_MS, keep: 5, minuteOfDay: 120, weekday: undefined },
            { label: 'weekly', everyMs: 7 * DAY_MS, keep: 3, minuteOfDay: 120, weekday: 0 },
          ],
          reserve: 2,
          maxAge: { warnMs: 2 * HOUR_MS, criticalMs: 26 * HOUR_MS },
          snapshotSpacePercent: 15,
          timezone: 'UTC',
        },
      ],
    });
  });

  it('is optional, and leaves the approvals config version alone', () => {
    const without = parseBotConfig(HEAD.replace('protection:\n', ''), 'nasha.yml');
    const withIt = parseBotConfig(GOOD, 'nasha.yml');
    expect(without.protection).toBeUndefined();
    expect(withIt.configVersion).toBe(without.configVersion);
  });

  it('refuses a plan that cannot fit in 10 − reserve slots, with the arithmetic', () => {
    // The issue's own example: 7 dailies and 4 weeklies at different times, plus 2 reserved, is 13 > 10.
    const text = config(`  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-128310/*"]
      plan:
        - { every: 1d, keep: 7, at: "02:00" }
        - { every: 7d, keep: 4, at: "Sun 03:00" }
      reserve: 2
`);
    expect(problems(text)).toEqual([
      "nasha.yml:11: protection.policies[0].plan: cannot fit: daily keep 7 + weekly keep 4 = 11 plan snapshots, plus reserve 2 = 13, but a partition holds 10 custom snapshots (people's included): lower a keep or the reserve so that plan + reserve ≤ 10",
    ]);
  });

  it('counts a weekly that stands for the daily at the same time once', () => {
    // daily keep 7 + weekly keep 4 at the same hour: 10 at once (a week of dailies always holds a Sunday, the weekly's).
    const fits = config(`  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-128310/*"]
      plan:
        - { every: 1d, keep: 7, at: "02:00" }
        - { every: 7d, keep: 4, at: "Sun 02:00" }
      reserve: 0
`);
    expect(parseBotConfig(fits, 'nasha.yml').protection?.policies[0]?.reserve).toBe(0);
    expect(problems(fits.replace('reserve: 0', 'reserve: 1'))).toEqual([
      "nasha.yml:11: protection.policies[0].plan: cannot fit: daily keep 7 + weekly keep 4 = 11 plan snapshots, 10 at once with the slots they share, plus reserve 1 = 11, but a partition holds 10 custom snapshots (people's included): lower a keep or the reserve so that plan + reserve ≤ 10",
    ]);
  });

  it('names both policies when a partition would be covered twice', () => {
    const text = config(`  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-1*/*"]
    - name: databases
      targets: ["zpool-9/db", "payments"]
`);
    expect(problems(text)).toEqual([
      'nasha.yml:11: protection.policies[1].targets[1]: zpool-1/db would be covered by two policies: "production" (targets[0] "zpool-1*/*") and "databases" (targets[1] "payments"): a partition follows one policy — narrow one of the targets',
    ]);
  });

  it('reports every shape problem on its line, with the fix', () => {
    const text = config(`  scan_every: 0m
  alerts_channel: "#alerts"
  policies:
    - name: Production
      targets: ["paymentz", "zpool-1/a/b"]
      frequencies: [hour-1, hour-1, day-9]
      plan:
        - { every: 2d, keep: 7 }
        - { every: 1d, keep: 11, at: "Mon 02:00" }
        - { every: 6h, keep: 3, at: "25:00" }
      reserve: 10
      max_age: { warn: 3h, critical: 2h }
      timezone: Mars/Olympus
      frequncies: []
`);
    expect(problems(text)).toEqual([
      'nasha.yml:6: protection.scan_every: must be from 1m to 1d: how often every covered partition is checked (got "0m")',
      expect.stringMatching(
        /^nasha\.yml:7: protection\.alerts_channel: must be a Slack channel ID like C0123ABCD, not a channel name/,
      ),
      'nasha.yml:9: protection.policies[0].name: must be lower case letters, digits, - and _ (at most 40, starting with a letter or digit), like "production"',
      'nasha.yml:10: protection.policies[0].targets[0]: "paymentz" is not a target group (target_groups lists payments) and does not look like a service name: add it to target_groups, or write a scope like "paymentz/*" if it is a service',
      'nasha.yml:10: protection.policies[0].targets[1]: must be "service", "service/partition" or "*" using letters, digits, - _ . : and * globs, with at most one "/", or a target group name (got "zpool-1/a/b")',
      'nasha.yml:11: protection.policies[0].frequencies[2]: must be one of day-1, day-2, day-3, day-7, hour-1, hour-6 (got "day-9")',
      'nasha.yml:11: protection.policies[0].frequencies[1]: lists hour-1 twice: keep one',
      'nasha.yml:13: protection.policies[0].plan[0].every: must be one of 1h, 2h, 3h, 4h, 6h, 8h, 12h, 1d or 7d (got "2d"): a plan snapshot is taken at the same times every day or every week',
      'nasha.yml:14: protection.policies[0].plan[1].keep: must be a whole number from 1 to 10: how many of these snapshots are kept (got 11)',
      'nasha.yml:14: protection.policies[0].plan[1].at: names a day, but only a weekly class (every: 7d) runs on one day: write "02:00"',
      'nasha.yml:15: protection.policies[0].plan[2].at: must be a time of day "HH:MM" (00:00 to 23:59), with a day first for a weekly class ("Sun 03:00") (got "25:00")',
      'nasha.yml:16: protection.policies[0].reserve: must be a whole number from 0 to 9: custom slots always left free for people (got 10)',
      'nasha.yml:17: protection.policies[0].max_age.critical: must be longer than warn (3h ≥ 2h): a restore point warns first, then turns critical',
      'nasha.yml:18: protection.policies[0].timezone: must be an IANA time zone like "UTC" or "Europe/Paris" (got "Mars/Olympus", which this system does not know)',
      'nasha.yml:19: protection.policies[0].frequncies: unknown key "frequncies" — did you mean "frequencies"? (allowed here: name, targets, frequencies, plan, reserve, max_age, snapshot_space, timezone)',
    ]);
  });

  it('refuses duplicate policy names and two classes of one period', () => {
    const text = config(`  alerts_channel: C0ALERTS
  policies:
    - name: production
      targets: ["zpool-1/*"]
      plan:
        - { every: 1d, keep: 2 }
        - { every: 24h, keep: 3 }
    - name: production
      targets: ["zpool-2/*"]
`);
    expect(problems(text)).toEqual([
      'nasha.yml:12: protection.policies[0].plan[1].every: another daily class (plan[0]): one class per period — merge them into one with the larger keep',
      'nasha.yml:13: protection.policies[1].name: duplicate policy name "production" (already used by policies[0]): give each policy its own name',
    ]);
  });

  it('needs the alerts channel and at least one policy', () => {
    expect(problems(config('  scan_every: 15m\n'))).toEqual([
      'nasha.yml:6: protection.alerts_channel: is required: the Slack channel ID (C…) where drift and coverage alerts go',
      'nasha.yml:6: protection.policies: is required: a list of policies (name, targets, …)',
    ]);
  });
});

describe('globIntersection', () => {
  it('finds a string both globs match, or none', () => {
    expect(globIntersection('zpool-1*', 'zpool-12')).toBe('zpool-12');
    expect(globIntersection('*-db', 'zpool-*')).toMatch(/^zpool-.*-db$|^zpool-db$/);
    expect(globIntersection('a*', 'b*')).toBeUndefined();
    expect(globIntersection('*', 'x')).toBe('x');
    expect(globIntersection('ab', 'ab')).toBe('ab');
    expect(globIntersection('ab', 'abc')).toBeUndefined();
  });
});
