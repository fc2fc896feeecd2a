/**
 * The translator: a catalog message (ICU MessageFormat, through intl-messageformat) in the reader's language,
 * as {@link Text}. Values are text.ts pieces or Text (so a user's words stay inert and mentions come from IDs),
 * numbers (formatted for the language: `1234,5` → `1 234,5` in French) or the bot's own strings (a `select`
 * argument). Tags in messages format the bot's words: `<b>…</b>` bold, `<i>…</i>` italic, `<code>…</code>` a
 * code span. A message missing from a language falls back to English (a test fails on it); a key is never shown.
 */
import { IntlMessageFormat } from 'intl-messageformat';
import type { Lang } from '../../shared/language.js';
import {
  bold,
  code,
  ENGLISH,
  fallback as fallbackText,
  italic,
  mrkdwn as mrkdwnText,
  type Part,
  type Piece,
  plain as plainText,
  type RenderContext,
  type Text,
  text,
} from '../text.js';
import { en, type MessageKey } from './en.js';
import { fr } from './fr.js';

export type { Lang } from '../../shared/language.js';
export type { MessageKey } from './en.js';

/**
 * Who reads: their language and, for one known person, their time zone. A channel's reader has no time zone
 * (dates stay Slack's date tokens, each member sees them in their own).
 */
export type Reader = RenderContext;

/** English, no time zone: the reader before anything is known about them. */
export const DEFAULT_READER: Reader = ENGLISH;

/** A value in a message: the bot's words (a string), typed pieces, other Text, or a number. */
export type MessageValue = Part;
export type MessageValues = Readonly<Record<string, MessageValue>>;

const CATALOGS: Readonly<Record<Lang, Partial<Record<MessageKey, string>>>> = { en, fr };

/** The message as the catalog has it: the language's own, else English. */
export function messageSource(lang: Lang, key: MessageKey): string {
  return CATALOGS[lang][key] ?? en[key];
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/**
 * Numbers as each language writes them. English keeps the bot's historical digits (no grouping: `2001`); French
 * groups with a narrow no-break space and uses a decimal comma (`1 234,5`).
 */
function numberFormat(lang: Lang, options?: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(options ?? {})}`;
  let format = numberFormats.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-US', {
      ...(lang === 'en' && { useGrouping: false }),
      ...options,
    });
    numberFormats.set(key, format);
  }
  return format;
}

export function formatNumber(lang: Lang, value: number): string {
  return numberFormat(lang).format(value);
}

type Chunk = string | Piece | Text;

/** The tags messages may use; each formats the bot's own words between them. */
const TAGS = {
  b: (chunks: Chunk[]) => bold(text(...chunks)),
  i: (chunks: Chunk[]) => italic(text(...chunks)),
  code: (chunks: Chunk[]) => code(chunks.map((c) => (typeof c === 'string' ? c : plainText(c))).join('')),
};

interface Compiled {
  format: IntlMessageFormat;
  /** Arguments a plural or selectordinal reads: they stay numbers (the others are formatted first). */
  pluralNames: ReadonlySet<string>;
}

const compiled = new Map<string, Compiled>();

/** Names of the plural arguments anywhere in a message's syntax tree (inside options and tags too). */
function pluralNamesOf(elements: readonly unknown[], into = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (typeof element !== 'object' || element === null) continue;
    const node = element as { value?: unknown; pluralType?: unknown; options?: unknown; children?: unknown };
    if (node.pluralType !== undefined && typeof node.value === 'string') into.add(node.value);
    if (typeof node.options === 'object' && node.options !== null) {
      for (const option of Object.values(node.options as Record<string, { value?: unknown }>)) {
        if (Array.isArray(option.value)) pluralNamesOf(option.value, into);
      }
    }
    if (Array.isArray(node.children)) pluralNamesOf(node.children, into);
  }
  return into;
}

function compile(lang: Lang, key: MessageKey, source: string): Compiled {
  const cacheKey = `${lang}\u0000${key}\u0000${source}`;
  const known = compiled.get(cacheKey);
  if (known !== undefined) return known;
  const format = new IntlMessageFormat(source, lang === 'fr' ? 'fr-FR' : 'en-US', undefined, {
    formatters: {
      getNumberFormat: (_locales, options) => numberFormat(lang, options as Intl.NumberFormatOptions | undefined),
      getDateTimeFormat: (...args) => new Intl.DateTimeFormat(...args),
      getPluralRules: (...args) => new Intl.PluralRules(...args),
    },
  });
  const entry = { format, pluralNames: pluralNamesOf(format.getAst()) };
  compiled.set(cacheKey, entry);
  return entry;
}

/**
 * The message of `lang` itself (no fallback): throws when it cannot be formatted with these values. For the
 * catalog tests; speaking to people goes through {@link t}.
 */
export function formatMessage(lang: Lang, key: MessageKey, values: MessageValues = {}): Text {
  return formatted(lang, key, messageSource(lang, key), values);
}

function formatted(lang: Lang, key: MessageKey, source: string, values: MessageValues): Text {
  const { format, pluralNames } = compile(lang, key, source);
  const args: Record<string, unknown> = { ...TAGS };
  for (const [name, value] of Object.entries(values)) {
    args[name] = typeof value === 'number' && !pluralNames.has(name) ? formatNumber(lang, value) : value;
  }
  const parts = format.formatToParts<Chunk>(args as Parameters<typeof format.formatToParts<Chunk>>[0]);
  return text(...parts.map((part) => part.value as Chunk));
}

/**
 * One message of the catalog in `lang`. A French message that cannot be formatted (a bug the catalog tests
 * catch) falls back to the English one rather than failing the reply.
 */
export function t(lang: Lang, key: MessageKey, values: MessageValues = {}): Text {
  const own = CATALOGS[lang][key];
  if (own !== undefined && lang !== 'en') {
    try {
      return formatted(lang, key, own, values);
    } catch {
      // The English message below.
    }
  }
  return formatted('en', key, en[key], values);
}

/** Everything a builder needs to speak to one reader: their words, their numbers, their dates. */
export interface Translator {
  readonly reader: Reader;
  readonly lang: Lang;
  t(key: MessageKey, values?: MessageValues): Text;
  /** mrkdwn for this reader: dates in their time zone when it is known, Slack's date tokens otherwise. */
  mrkdwn(value: Text | Part): string;
  /** Plain text (form errors, plain_text fields, option labels). */
  plain(value: Text | Part): string;
  /** A message's notification text. */
  fallback(value: Text | Part): string;
  number(value: number): string;
  /** `a`, `a or b`, `a, b or c` in the reader's language. */
  list(items: readonly Part[], conjunction: 'or' | 'and'): Text;
  /** ` Did you mean `a` or `b`?` (empty without suggestions). */
  didYouMean(suggestions: readonly string[]): Text;
}

const translators = new Map<string, Translator>();

export function translator(reader: Reader = DEFAULT_READER): Translator {
  const cacheKey = `${reader.lang}|${reader.tz ?? ''}`;
  const known = translators.get(cacheKey);
  if (known !== undefined) return known;
  const context: RenderContext = { lang: reader.lang, ...(reader.tz !== undefined && { tz: reader.tz }) };
  const lang = reader.lang;
  const self: Translator = {
    reader: context,
    lang,
    t: (key, values) => t(lang, key, values),
    mrkdwn: (value) => mrkdwnText(value, context),
    plain: (value) => plainText(value, context),
    fallback: (value) => fallbackText(value, context),
    number: (value) => formatNumber(lang, value),
    list: (items, conjunction) => listIn(lang, items, conjunction),
    didYouMean: (suggestions) =>
      suggestions.length === 0
        ? text()
        : t(lang, 'common.didYouMean', { suggestions: listIn(lang, suggestions.map(code), 'or') }),
  };
  translators.set(cacheKey, self);
  return self;
}

function listIn(lang: Lang, items: readonly Part[], conjunction: 'or' | 'and'): Text {
  const out: Part[] = [];
  const last = t(lang, conjunction === 'or' ? 'common.listOr' : 'common.listAnd');
  const comma = t(lang, 'common.listComma');
  items.forEach((item, i) => {
    if (i > 0) out.push(i === items.length - 1 ? last : comma);
    out.push(item);
  });
  return text(...out);
}

/** The English translator (builders' default until every caller passes its reader). */
export const ENGLISH_TRANSLATOR: Translator = translator(DEFAULT_READER);
