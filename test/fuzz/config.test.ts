import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type BotConfig, ConfigError, parseBotConfig } from '../../src/config/bot-config.js';
import { ROLES } from '../../src/core/model.js';
import { TEST_CONFIG } from '../support/bot-harness.js';
import { fuzzParams, fuzzTimeout, hostileString } from './hostile.js';

const EXAMPLE = readFileSync(new URL('../../nasha.example.yml', import.meta.url), 'utf8');

/** A config or a ConfigError with at least one non-empty problem line; anything else fails the property. */
function parseOrConfigError(text: string): BotConfig | ConfigError | undefined {
  try {
    return parseBotConfig(text, 'fuzz.yml');
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw new Error(`not a ConfigError for ${JSON.stringify(text.slice(0, 300))}: ${String(error)}`, {
        cause: error,
      });
    }
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) {
      expect(typeof problem).toBe('string');
      expect(problem.trim().length).toBeGreaterThan(0);
    }
    return error;
  }
}

const slackId = (prefix: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(new RegExp(`^${prefix}[A-Z0-9]{2,12}$`)) },
    { weight: 1, arbitrary: hostileString(20) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );

const leaf = fc.oneof(hostileString(20), fc.jsonValue({ maxDepth: 2 }));
const role = fc.oneof(fc.constantFrom(...ROLES, 'none', 'Admin', 'root'), leaf);
const scope = fc.oneof(fc.constantFrom('*', 'zpool-*/db', 'zpool-128310', 'zpool-128310/*', '*/*'), hostileString(20));
const duration = fc.oneof(fc.constantFrom('7d', '5m', '4h', '0m', '8d', '1w', '999999d'), leaf);

/** Objects shaped like the configuration (every key optional, some values hostile), plus stray keys. */
const configLike = fc.record(
  {
    version: fc.oneof(fc.constant(1), fc.constant(2), leaf),
    audit: fc.oneof(fc.record({ channel: slackId('C') }, { requiredKeys: [] }), leaf),
    approvals: fc.oneof(
      fc.record(
        {
          channel: slackId('C'),
          rules: fc.dictionary(
            fc.oneof(
              fc.constantFrom('snapshot.delete', 'schedule.remove', 'snapshot.create', 'schedule.add'),
              fc.string(),
            ),
            fc.oneof(
              fc.record(
                {
                  required: fc.oneof(fc.boolean(), leaf),
                  quorum: fc.oneof(fc.integer({ min: -2, max: 9 }), leaf),
                  approver_groups: fc.array(slackId('S'), { maxLength: 3 }),
                  ttl: duration,
                },
                { requiredKeys: [] },
              ),
              leaf,
            ),
            { maxKeys: 5 },
          ),
        },
        { requiredKeys: [] },
      ),
      leaf,
    ),
    grants: fc.oneof(
      fc.array(
        fc.record(
          {
            role,
            users: fc.oneof(fc.array(slackId('U'), { maxLength: 3 }), leaf),
            groups: fc.oneof(fc.array(slackId('S'), { maxLength: 3 }), leaf),
            scope: fc.oneof(fc.array(scope, { maxLength: 3 }), leaf),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      leaf,
    ),
    channels: fc.oneof(
      fc.array(fc.record({ id: slackId('C'), max_role: role }, { requiredKeys: [] }), { maxLength: 3 }),
      leaf,
    ),
    unlisted_channels: role,
    target_groups: fc.oneof(fc.dictionary(hostileString(20), fc.array(scope, { maxLength: 3 }), { maxKeys: 3 }), leaf),
    quick_snapshot: fc.oneof(
      fc.record(
        { default_expiration: duration, responder_groups: fc.array(slackId('S'), { maxLength: 2 }) },
        { requiredKeys: [] },
      ),
      leaf,
    ),
    [`x_${'stray'}`]: leaf,
  },
  { requiredKeys: [] },
);

/** A real configuration with a few random edits: lines dropped, duplicated or spliced, characters changed. */
const mutatedConfig = fc
  .tuple(
    fc.constantFrom(TEST_CONFIG, EXAMPLE),
    fc.array(
      fc.tuple(fc.constantFrom('drop', 'dup', 'insert', 'char', 'indent'), fc.nat(), fc.nat(), hostileString(15)),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([base, edits]) => {
    const lines = base.split('\n');
    for (const [kind, at, offset, text] of edits) {
      const i = at % lines.length;
      const line = lines[i] ?? '';
      if (kind === 'drop') lines.splice(i, 1);
      else if (kind === 'dup') lines.splice(i, 0, line);
      else if (kind === 'insert') lines.splice(i, 0, text);
      else if (kind === 'indent') lines[i] = ` ${line}`;
      else {
        const j = line.length === 0 ? 0 : offset % line.length;
        lines[i] = line.slice(0, j) + text + line.slice(j + 1);
      }
    }
    return lines.join('\n');
  });

describe('parseBotConfig on hostile files', () => {
  it(
    'arbitrary text: a config or a ConfigError, never another exception',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 }), hostileString(200)),
          (text) => {
            parseOrConfigError(text);
          },
        ),
        fuzzParams(1_000),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'YAML and JSON of random values and of config-shaped objects with hostile leaves',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.jsonValue({ maxDepth: 4 }), configLike),
          fc.constantFrom('yaml', 'json', 'flow'),
          (value, format) => {
            const text =
              format === 'json'
                ? JSON.stringify(value)
                : stringify(value, format === 'flow' ? { collectionStyle: 'flow' } : {});
            parseOrConfigError(text);
          },
        ),
        fuzzParams(500),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'real configurations with random edits',
    () => {
      fc.assert(
        fc.property(mutatedConfig, (text) => {
          parseOrConfigError(text);
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(30_000),
  );

  it("an unresolved alias or an alias bomb is a ConfigError (was: yaml's ReferenceError escaped)", () => {
    for (const text of ['*bold*', 'version: 1\naudit: *nowhere\n', billionLaughs()]) {
      expect(() => parseBotConfig(text, 'fuzz.yml')).toThrow(ConfigError);
    }
  });

  it('resource-exhaustion and YAML-feature attacks are refused as configuration errors', () => {
    const cases = [
      billionLaughs(),
      `version: 1\ngrants: ${'['.repeat(5_000)}${']'.repeat(5_000)}`,
      `version: 1\naudit: {channel: C0AUDIT}\n${'k: v\n'.repeat(3)}`,
      'version: 1\naudit: !!binary aGVsbG8=\n',
      'version: 1\naudit: !!js/function "function(){}"\n',
      'version: 1\n<<: {audit: {channel: C0AUDIT}}\n',
      'version: 1\n__proto__: {polluted: true}\naudit: {channel: C0AUDIT}\n',
      `version: 1\n${'x'.repeat(100_000)}: 1\n`,
      '%YAML 1.1\n---\nversion: 1\n---\nversion: 2\n',
      '\ufeffversion: 1\n',
      'version: 1\naudit:\n  channel: C0AUDIT\n\tgrants: []\n',
    ];
    for (const text of cases) parseOrConfigError(text);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

/** Each level refers to the previous one ten times: 10^12 nodes if expanded. */
function billionLaughs(): string {
  const name = (i: number) => String.fromCharCode(97 + i);
  const lines = [`${name(0)}: &${name(0)} [x, x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i < 12; i++)
    lines.push(
      `${name(i)}: &${name(i)} [${Array(10)
        .fill(`*${name(i - 1)}`)
        .join(', ')}]`,
    );
  return lines.join('\n');
}
