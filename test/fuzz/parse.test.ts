import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/model.js';
import { type ParsedCommand, parseCommand } from '../../src/slack/commands/parse.js';
import { mrkdwn, plain } from '../../src/slack/text.js';
import { commandText, fuzzParams, fuzzTimeout, hostileString, NASTY, REAL_WORDS } from './hostile.js';

const KINDS = new Set<ParsedCommand['kind']>([
  'help',
  'modal',
  'services',
  'partitions',
  'list',
  'schedule',
  'create',
  'show',
  'delete',
  'can-i',
  'quick',
  'error',
]);

/** What the rest of the bot relies on from a parse, whatever the input. */
function checkParsed(input: string, parsed: ParsedCommand): void {
  expect(KINDS.has(parsed.kind), parsed.kind).toBe(true);
  if (parsed.kind === 'error') {
    expect(plain(parsed.message).trim().length).toBeGreaterThan(0);
    // Whatever was typed, the reply can carry no live mention, channel ping or link.
    expect(mrkdwn(parsed.message)).not.toMatch(/<[@#!]|<https?:/);
    return;
  }
  // Input over the limit is always refused, never half-parsed.
  expect(input.length).toBeLessThanOrEqual(2_000);
  const words: string[] = [];
  const target = (t: Target) => {
    words.push(t.service);
    if (t.partition !== undefined) words.push(t.partition);
  };
  switch (parsed.kind) {
    case 'partitions':
      words.push(parsed.service);
      break;
    case 'list':
    case 'can-i':
    case 'schedule':
      target(parsed.target);
      break;
    case 'create':
      target(parsed.target);
      if (parsed.name !== undefined) words.push(parsed.name);
      break;
    case 'show':
    case 'delete':
      target(parsed.target);
      words.push(parsed.name);
      break;
    case 'quick':
      words.push(parsed.spec);
      break;
    default:
      break;
  }
  for (const word of words) {
    // Segments are single words: never empty, never whitespace. (A separate word may still hold a `/`, as in
    // `list svc /`: the OVH client refuses such segments before any request, which bot.test.ts checks.)
    expect(word.length, JSON.stringify(input)).toBeGreaterThan(0);
    expect(/\s/.test(word), JSON.stringify(word)).toBe(false);
  }
}

function parseChecked(input: string): void {
  let parsed: ParsedCommand | undefined;
  expect(
    () => {
      parsed = parseCommand(input);
    },
    JSON.stringify(input.slice(0, 200)),
  ).not.toThrow();
  if (parsed !== undefined) checkParsed(input, parsed);
}

describe('parseCommand on hostile text', () => {
  it(
    'never throws and always returns a known kind: arbitrary strings of every kind',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.string({ unit: 'grapheme', maxLength: 100 }),
            fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 30 }),
          ),
          (input) => parseChecked(input),
        ),
        fuzzParams(3_000),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'never throws on command-shaped text mixing real words, targets, `/`, `..`, `%2e` and control characters',
    () => {
      fc.assert(
        fc.property(commandText(), (input) => parseChecked(input)),
        fuzzParams(5_000),
      );
    },
    fuzzTimeout(30_000),
  );

  it('never throws on huge input around the 2 000-character limit, and refuses what is over it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REAL_WORDS),
        hostileString(40),
        fc.integer({ min: 1_990, max: 10_000 }),
        (word, filler, length) => {
          const input = `${word} ${filler.repeat(Math.ceil(length / Math.max(1, filler.length)))}`.slice(0, length);
          parseChecked(input);
          if (input.length > 2_000) expect(parseCommand(input).kind).toBe('error');
        },
      ),
      fuzzParams(300),
    );
    for (const n of [2_000, 2_001, 10_000]) parseChecked(`list ${'a'.repeat(n - 5)}`);
  });

  it('options take their value or refuse; a dangling option is an error, not a crash', () => {
    for (const text of [
      'create zpool-128310/data --expires',
      'create zpool-128310/data -e',
      'quick zpool-128310 --expires',
      'delete zpool-128310/data/x --reason',
      'schedule remove zpool-128310/data day-1 --reason=',
      '--reason',
      '--reason --reason --reason',
      'snapshot',
      'snapshot snapshot',
      '/',
      '//',
      'list /',
      'list //',
      'delete a/b/c/d',
    ]) {
      parseChecked(text);
    }
  });
});
