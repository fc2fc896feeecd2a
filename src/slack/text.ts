/**
 * The one module that writes Slack mrkdwn. Wording is built as {@link Text}: the bot's words plus typed pieces
 * (a code span, a user's own words, a mention built from an ID, a date), then rendered as mrkdwn for messages or
 * as plain text for places Slack shows verbatim (form errors, notification text). Nothing is ever stripped back
 * out, and text a user typed can only appear inert: escaped, in a code span, with no mention, link, channel
 * ping or formatting.
 */

import type { Lang } from '../shared/language.js';
import { en } from './i18n/en.js';
import { fr } from './i18n/fr.js';

/** Slack IDs the bot itself mentions; anything else is shown as text. */
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

export type Piece =
  /** The bot's own words. */
  | string
  | { kind: 'code'; value: string }
  /** Words a person typed (a reason, a label, a name that failed validation): shown literally. */
  | { kind: 'verbatim'; value: string }
  | { kind: 'bold'; value: Text }
  | { kind: 'italic'; value: Text }
  | { kind: 'user'; id: string }
  | { kind: 'group'; id: string }
  | { kind: 'channel'; id: string }
  /** A moment, shown in the reader's time zone (the fallback is UTC). */
  | { kind: 'date'; epochMs: number; format: 'short' | 'long' };

export class Text {
  constructor(readonly pieces: readonly Piece[]) {}

  /** This text, then more. */
  concat(...more: readonly (Text | Piece)[]): Text {
    return new Text([...this.pieces, ...more.flatMap((m) => (m instanceof Text ? m.pieces : [m]))]);
  }

  get isEmpty(): boolean {
    return this.pieces.every((p) => p === '');
  }
}

export type Part = Text | Piece | number;

function pieces(part: Part): readonly Piece[] {
  if (part instanceof Text) return part.pieces;
  if (typeof part === 'number') return [String(part)];
  return [part];
}

/** A sentence: the template's words are the bot's; `${…}` parts are typed pieces or other Text. */
export function say(strings: TemplateStringsArray, ...parts: Part[]): Text {
  const out: Piece[] = [];
  strings.forEach((s, i) => {
    if (s !== '') out.push(s);
    const part = parts[i];
    if (part !== undefined) out.push(...pieces(part));
  });
  return new Text(out);
}

export function text(...parts: Part[]): Text {
  return new Text(parts.flatMap(pieces));
}

export const code = (value: string): Piece => ({ kind: 'code', value });
export const verbatim = (value: string): Piece => ({ kind: 'verbatim', value });
export const bold = (value: Part): Piece => ({ kind: 'bold', value: text(value) });
export const italic = (value: Part): Piece => ({ kind: 'italic', value: text(value) });
export const user = (id: string): Piece => ({ kind: 'user', id });
export const group = (id: string): Piece => ({ kind: 'group', id });
export const channel = (id: string): Piece => ({ kind: 'channel', id });
export const date = (epochMs: number, format: 'short' | 'long' = 'short'): Piece => ({
  kind: 'date',
  epochMs,
  format,
});

/** `a`, `a or b`, `a, b or c` (`and` likewise). */
export function listOf(items: readonly Part[], conjunction: 'or' | 'and'): Text {
  const out: Part[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(i === items.length - 1 ? ` ${conjunction} ` : ', ');
    out.push(item);
  });
  return text(...out);
}

export function joinText(items: readonly Part[], separator: string): Text {
  const out: Part[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(separator);
    out.push(item);
  });
  return text(...out);
}

/** Slack's three mrkdwn escapes: no `<…>` token (mention, link, `<!channel>`) survives them. */
export function escapeMrkdwn(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The inverse of `escapeMrkdwn`: what Slack's escaped text (a command's text, a message) stands for. */
export function unescapeMrkdwn(value: string): string {
  return value.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** Every line break Slack may honour (a span split over lines is no longer one span). */
const LINE_BREAKS = /\s*[\r\n\v\f\u0085\u2028\u2029]+\s*/g;

/** Half a UTF-16 pair (typed text cut badly somewhere): not text Slack can show or JSON can carry cleanly. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Inline code: escaped, no backtick that could end the span early, one line, no broken UTF-16, and no space at
 * either edge (a span that Slack does not recognise as one would let its content format).
 */
export function codeSpan(value: string): string {
  const inner = escapeMrkdwn(
    value.replaceAll('`', 'ˋ').replace(LINE_BREAKS, ' ⏎ ').replace(LONE_SURROGATE, '\ufffd').trim(),
  );
  return inner === '' ? '` `' : `\`${inner}\``;
}

/** The UTC minute, or undefined for a moment no Date can hold (NaN, beyond ±275,000 years). */
function isoMinute(epochMs: number): string | undefined {
  const at = new Date(epochMs);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
}

/**
 * Who reads a rendering: their language and, when it is known (a person, from Slack), their time zone. A
 * channel's readers have no one time zone: dates stay Slack's date tokens, which each reader sees in their own.
 */
export interface RenderContext {
  lang: Lang;
  /** IANA time zone (`Europe/Paris`); set only for one known person (ephemeral replies, forms, DMs). */
  tz?: string | undefined;
}

/** English, no time zone: how everything rendered before the bot spoke other languages. */
export const ENGLISH: RenderContext = { lang: 'en' };

/** Words text.ts itself needs, from the catalogs (plain data: no import back into this module). */
function catalogWord(lang: Lang, key: 'time.unknown'): string {
  return (lang === 'fr' ? fr[key] : undefined) ?? en[key];
}

/** Quotes around a user's words in plain text (French: guillemets with no-break spaces inside). */
const QUOTES: Readonly<Record<Lang, readonly [string, string]>> = {
  en: ['“', '”'],
  fr: ['«\u00a0', '\u00a0»'],
};

const DATE_FORMATS: Readonly<Record<'short' | 'long', Intl.DateTimeFormatOptions>> = {
  short: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' },
  long: {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  },
};
const dateFormats = new Map<string, Intl.DateTimeFormat | null>();

/** The moment in the reader's time zone and language, or undefined (no time zone, or one Intl does not know). */
function localDate(epochMs: number, format: 'short' | 'long', context: RenderContext): string | undefined {
  if (context.tz === undefined || !Number.isFinite(new Date(epochMs).getTime())) return undefined;
  const key = `${context.lang}|${context.tz}|${format}`;
  let formatter = dateFormats.get(key);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat(context.lang, { ...DATE_FORMATS[format], timeZone: context.tz });
    } catch {
      formatter = null;
    }
    dateFormats.set(key, formatter);
  }
  return formatter?.format(epochMs);
}

export function mrkdwn(value: Text | Part, context: RenderContext = ENGLISH): string {
  return pieces(value instanceof Text ? value : text(value))
    .map((piece) => mrkdwnPiece(piece, context))
    .join('');
}

function mrkdwnPiece(piece: Piece, context: RenderContext): string {
  if (typeof piece === 'string') return escapeMrkdwn(piece);
  switch (piece.kind) {
    case 'code':
    case 'verbatim':
      return codeSpan(piece.value);
    case 'bold':
      return `*${mrkdwn(piece.value, context)}*`;
    case 'italic':
      return `_${mrkdwn(piece.value, context)}_`;
    case 'user':
      return USER_ID.test(piece.id) ? `<@${piece.id}>` : codeSpan(piece.id);
    case 'group':
      return GROUP_ID.test(piece.id) ? `<!subteam^${piece.id}>` : codeSpan(piece.id);
    case 'channel':
      return CHANNEL_ID.test(piece.id) ? `<#${piece.id}>` : codeSpan(piece.id);
    case 'date': {
      const iso = isoMinute(piece.epochMs);
      if (iso === undefined) return escapeMrkdwn(catalogWord(context.lang, 'time.unknown'));
      const local = localDate(piece.epochMs, piece.format, context);
      if (local !== undefined) return escapeMrkdwn(local);
      const seconds = Math.floor(piece.epochMs / 1000);
      const format = piece.format === 'long' ? '{date_long_pretty} {time}' : '{date_short_pretty} {time}';
      return `<!date^${seconds}^${format}|${iso}>`;
    }
  }
}

/**
 * A message's top-level `text` (the notification, and what clients without blocks show). Slack parses it as
 * mrkdwn, so it is rendered like {@link mrkdwn} (user text inert, mentions only from IDs) but without bold or
 * italic, which notifications would show as stray `*` and `_`.
 */
export function fallback(value: Text | Part, context: RenderContext = ENGLISH): string {
  const flat = (pieces_: readonly Piece[]): Piece[] =>
    pieces_.flatMap((piece) =>
      typeof piece !== 'string' && (piece.kind === 'bold' || piece.kind === 'italic')
        ? flat(piece.value.pieces)
        : [piece],
    );
  return mrkdwn(new Text(flat(pieces(value instanceof Text ? value : text(value)))), context);
}

/**
 * Plain text, for places Slack does not render mrkdwn (form errors, plain_text fields, notification text).
 * Mentions become the ID with its sigil: Slack shows plain text as typed.
 */
export function plain(value: Text | Part, context: RenderContext = ENGLISH): string {
  return pieces(value instanceof Text ? value : text(value))
    .map((piece) => plainPiece(piece, context))
    .join('');
}

function plainPiece(piece: Piece, context: RenderContext): string {
  if (typeof piece === 'string') return piece;
  switch (piece.kind) {
    case 'code':
    case 'verbatim': {
      const [open, close] = QUOTES[context.lang];
      return `${open}${piece.value}${close}`;
    }
    case 'bold':
    case 'italic':
      return plain(piece.value, context);
    case 'user':
      return `@${piece.id}`;
    case 'group':
      return `@${piece.id}`;
    case 'channel':
      return `#${piece.id}`;
    case 'date':
      return (
        localDate(piece.epochMs, piece.format, context) ??
        isoMinute(piece.epochMs) ??
        catalogWord(context.lang, 'time.unknown')
      );
  }
}

/** The first letter in upper case (sentences built from fragments). */
export function capitalized(value: Text): Text {
  const [first, ...rest] = value.pieces;
  if (typeof first !== 'string' || first === '') return value;
  return new Text([first.charAt(0).toUpperCase() + first.slice(1), ...rest]);
}
