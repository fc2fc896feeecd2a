import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { describe, expect, it } from 'vitest';
import { en, type MessageKey } from '../../../src/slack/i18n/en.js';
import { fr } from '../../../src/slack/i18n/fr.js';
import { formatMessage, type MessageValues, t } from '../../../src/slack/i18n/translate.js';
import { mrkdwn, plain, text } from '../../../src/slack/text.js';

const KEYS = Object.keys(en) as MessageKey[];
const TAGS = new Set(['b', 'i', 'code']);

/**
 * What a message needs from its caller and how it uses it: arguments by kind (a plural's number, a select's
 * choices), and tags. Two languages of one message must agree on all of it; only plural categories may differ
 * (French has `many`).
 */
function signature(source: string): string[] {
  const out = new Set<string>();
  const walk = (elements: readonly MessageFormatElement[]) => {
    for (const element of elements) {
      switch (element.type) {
        case TYPE.argument:
          out.add(`arg:${element.value}`);
          break;
        case TYPE.number:
          out.add(`number:${element.value}`);
          break;
        case TYPE.plural:
          out.add(`${element.pluralType}:${element.value}`);
          for (const option of Object.values(element.options)) walk(option.value);
          break;
        case TYPE.select:
          out.add(`select:${element.value}[${Object.keys(element.options).sort().join(',')}]`);
          for (const option of Object.values(element.options)) walk(option.value);
          break;
        case TYPE.tag:
          out.add(`tag:${element.value}`);
          walk(element.children);
          break;
        case TYPE.date:
        case TYPE.time:
          out.add(`${element.type === TYPE.date ? 'date' : 'time'}:${element.value}`);
          break;
        default:
          break;
      }
    }
  };
  walk(parse(source));
  return [...out].sort();
}

/** Dummy values for every argument a message reads (a plural gets 2, a select its first choice). */
function dummyValues(source: string): MessageValues {
  const values: Record<string, MessageValues[string]> = {};
  for (const entry of signature(source)) {
    const [kind = '', rest = ''] = entry.split(':');
    const name = rest.replace(/\[.*$/, '');
    if (kind === 'tag') continue;
    if (kind === 'select') values[name] = /\[([^,\]]+)/.exec(rest)?.[1] ?? 'other';
    else if (kind === 'arg') values[name] = text(`‹${name}›`);
    else values[name] = 2;
  }
  return values;
}

/** The literal words of a message, outside code spans (which show commands and values as typed). */
function words(source: string): string[] {
  const out: string[] = [];
  const walk = (elements: readonly MessageFormatElement[]) => {
    for (const element of elements) {
      if (element.type === TYPE.literal) out.push(element.value);
      if (element.type === TYPE.plural || element.type === TYPE.select) {
        for (const option of Object.values(element.options)) walk(option.value);
      }
      if (element.type === TYPE.tag && element.value !== 'code') walk(element.children);
    }
  };
  walk(parse(source));
  return out;
}

/** French typography, one problem a line (empty when the message is well written). */
function typographyProblems(source: string): string[] {
  const problems: string[] = [];
  if (source.includes('"')) problems.push('straight double quote: use « … »');
  if (source.includes("'")) problems.push('straight apostrophe: use ’');
  for (const literal of words(source)) {
    if (/ [:;?!]/.test(literal)) problems.push(`plain space before punctuation in ${JSON.stringify(literal)}`);
    if (/[\p{L}\d)»][;?!]/u.test(literal) || /[\p{L})»]:(\s|$)/u.test(literal)) {
      problems.push(`no no-break space before punctuation in ${JSON.stringify(literal)}`);
    }
    if (/«(?![\u00a0\u202f])/.test(literal) || /(?<![\u00a0\u202f])»/.test(literal)) {
      problems.push(`« » without no-break spaces inside in ${JSON.stringify(literal)}`);
    }
  }
  // Punctuation right after an argument: `{name}:` has no room for the space French needs.
  if (/\}[:;?!]/.test(source.replace(/<code>.*?<\/code>/g, ''))) problems.push('punctuation glued to an argument');
  return problems;
}

describe('the catalogs', () => {
  it('French has every English key, and no key English does not have', () => {
    expect(KEYS.filter((key) => fr[key] === undefined)).toEqual([]);
    expect(Object.keys(fr).filter((key) => !(key in en))).toEqual([]);
  });

  it('both languages of every message read the same arguments, plurals, selects and tags', () => {
    const differences = KEYS.flatMap((key) => {
      const english = signature(en[key]);
      const french = signature(fr[key] ?? '');
      return JSON.stringify(english) === JSON.stringify(french) ? [] : [{ key, english, french }];
    });
    expect(differences).toEqual([]);
  });

  it('the comparison sees a renamed argument, a missing plural or an extra tag (the check can fail)', () => {
    expect(signature('{a} and {b}')).not.toEqual(signature('{a} et {c}'));
    expect(signature('{n, plural, one {#} other {#}}')).not.toEqual(signature('{n}'));
    expect(signature('<b>x</b>')).not.toEqual(signature('x'));
    expect(signature('{w, select, self {a} other {b}}')).not.toEqual(signature('{w, select, other {b}}'));
    expect(signature('{n, plural, one {#} other {#}}')).toEqual(signature('{n, plural, one {#} many {#} other {#}}'));
  });

  it('uses only the tags the translator formats', () => {
    const unknown = KEYS.flatMap((key) =>
      [en[key], fr[key] ?? '']
        .flatMap(signature)
        .filter((entry) => entry.startsWith('tag:') && !TAGS.has(entry.slice(4)))
        .map((entry) => `${key}: ${entry}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every message formats in both languages with its arguments', () => {
    for (const key of KEYS) {
      for (const lang of ['en', 'fr'] as const) {
        const source = lang === 'en' ? en[key] : (fr[key] ?? '');
        expect(() => mrkdwn(formatMessage(lang, key, dummyValues(source))), `${lang} ${key}`).not.toThrow();
      }
    }
  });

  it('French is written with French typography', () => {
    const problems = KEYS.flatMap((key) => typographyProblems(fr[key] ?? '').map((p) => `${key}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('the typography check sees what a native reader would (it can fail)', () => {
    expect(typographyProblems('Pourquoi ?')).toHaveLength(1);
    expect(typographyProblems('Pourquoi?')).toHaveLength(1);
    expect(typographyProblems('Motif : x')).toHaveLength(1);
    expect(typographyProblems('Motif: x')).toHaveLength(1);
    expect(typographyProblems('« x »')).toHaveLength(1);
    expect(typographyProblems('"x"')).toHaveLength(1);
    expect(typographyProblems("l'instantané")).toHaveLength(1);
    expect(typographyProblems('{n}\u00a0: x')).toEqual([]);
    expect(typographyProblems('{n}: x')).toHaveLength(1);
    expect(typographyProblems('Motif\u00a0: «\u00a0x\u00a0», pourquoi\u202f? <code>a:b?</code>')).toEqual([]);
  });
});

describe('plurals follow each language’s rules (French: 0 and 1 are singular)', () => {
  const line = (lang: 'en' | 'fr', count: number) => plain(t(lang, 'canI.otherGrants', { count }), { lang });

  it.each([
    [0, '0 other grants do not cover this service', '0 autre autorisation ne couvre pas ce service'],
    [1, '1 other grant does not cover this service', '1 autre autorisation ne couvre pas ce service'],
    [2, '2 other grants do not cover this service', '2 autres autorisations ne couvrent pas ce service'],
    [
      1_000_000,
      '1000000 other grants do not cover this service',
      '1\u202f000\u202f000 autres autorisations ne couvrent pas ce service',
    ],
  ])('%i', (count, english, french) => {
    expect(line('en', count)).toBe(english);
    expect(line('fr', count)).toBe(french);
  });

  it.each([
    [0, '0 full', '0 pleine', 'il faut encore 0 approbation'],
    [1, '1 full', '1 pleine', 'il faut encore 1 approbation'],
    [2, '2 full', '2 pleines', 'il faut encore 2 approbations'],
    [12_345, '12345 full', '12\u202f345 pleines', 'il faut encore 12\u202f345 approbations'],
  ])('%i in summaries and click answers', (count, english, french, approvals) => {
    expect(plain(t('en', 'quick.countFull', { count }))).toBe(english);
    expect(plain(t('fr', 'quick.countFull', { count }))).toBe(french);
    expect(plain(t('fr', 'click.approved', { id: '#A', remaining: count }), { lang: 'fr' })).toContain(approvals);
    expect(plain(t('en', 'click.approved', { id: '#A', remaining: count }))).toContain(
      `needs ${count} more approval(s)`,
    );
  });
});
