import type { types } from '@slack/bolt';
import { excerpt } from '../../shared/excerpt.js';
import { t } from '../i18n/translate.js';
import { ENGLISH, escapeMrkdwn, fallback, mrkdwn, type RenderContext, Text } from '../text.js';

/** Slack's Block Kit limits the builders respect (docs.slack.dev, @slack/types JSDoc). */
export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3_000,
  field: 2_000,
  fields: 10,
  header: 150,
  context: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2_000,
  optionText: 75,
  optionValue: 150,
  options: 100,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3_000,
  fallbackText: 4_000,
} as const;

export type Block = types.KnownBlock;

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Cuts plain text (plain_text fields, option values) to `max` characters, ending with "…". */
export function truncate(text: string, max: number): string {
  return excerpt(text, max);
}

/** Drops what a cut left half-done at the end: a lone high surrogate, an `&entity`, a `<token`. */
function dropBrokenTail(text: string): string {
  let kept = text;
  const unit = kept.charCodeAt(kept.length - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) kept = kept.slice(0, -1);
  const amp = kept.lastIndexOf('&');
  if (amp >= 0 && amp > kept.lastIndexOf(';') && kept.length - amp < 8) kept = kept.slice(0, amp);
  const open = kept.lastIndexOf('<');
  if (open >= 0 && open > kept.lastIndexOf('>')) kept = kept.slice(0, open);
  return kept;
}

/**
 * Cuts mrkdwn to `max` UTF-16 units (Slack may count code points; this is never more) ending with "…", without
 * splitting a surrogate pair, an &entity; or a <token>, and closing a code span it cut (an open span would let
 * the rest of a user's words format).
 */
export function cutMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = dropBrokenTail(text.slice(0, Math.max(0, max - 1)));
  const backticks = (value: string) => value.match(/`/g)?.length ?? 0;
  if (backticks(kept) % 2 === 1) {
    // Cut one shorter, for the closing backtick (unless what was given up was the span's opening one).
    kept = dropBrokenTail(text.slice(0, Math.max(0, max - 2)));
    if (backticks(kept) % 2 === 1) {
      const open = kept.lastIndexOf('`');
      const inside = kept.slice(open + 1).trimEnd();
      kept = inside === '' ? kept.slice(0, open) : `${kept.slice(0, open + 1)}${inside}\``;
    }
  }
  return `${kept}…`;
}

/** mrkdwn as given, or Text rendered. */
function rendered(text: string | Text): string {
  return text instanceof Text ? mrkdwn(text) : text;
}

export function section(text: string | Text): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cutMrkdwn(rendered(text), LIMITS.sectionText) } };
}

export function fieldsSection(fields: readonly (string | Text)[], text?: string | Text): types.SectionBlock {
  return {
    type: 'section',
    ...(text !== undefined && { text: { type: 'mrkdwn', text: cutMrkdwn(rendered(text), LIMITS.sectionText) } }),
    fields: fields.slice(0, LIMITS.fields).map((f) => ({ type: 'mrkdwn', text: cutMrkdwn(rendered(f), LIMITS.field) })),
  };
}

export function header(text: string): types.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.header), emoji: true } };
}

export function context(...texts: (string | Text)[]): types.ContextBlock {
  return {
    type: 'context',
    elements: texts
      .slice(0, LIMITS.context)
      .map((t) => ({ type: 'mrkdwn', text: cutMrkdwn(rendered(t), LIMITS.sectionText) })),
  };
}

export const divider: types.DividerBlock = { type: 'divider' };

/**
 * Keeps a message under 50 blocks: when too long, the tail is replaced by a context line saying
 * how much was left out (never an API error). The `text` (notification, fallback) is parsed by Slack as mrkdwn:
 * Text is rendered for it with {@link fallback}; a string is taken as plain words and escaped, so nothing in it
 * (a name, a user's words in `plain()` output) can mention, link or ping.
 */
export function message(text: string | Text, blocks: readonly Block[], reader: RenderContext = ENGLISH): SlackMessage {
  const fallbackText = cutMrkdwn(
    text instanceof Text ? fallback(text, reader) : escapeMrkdwn(text),
    LIMITS.fallbackText,
  );
  if (blocks.length <= LIMITS.messageBlocks) return { text: fallbackText, blocks: [...blocks] };
  const kept = blocks.slice(0, LIMITS.messageBlocks - 1);
  const more = t(reader.lang, 'common.moreBlocks', { count: blocks.length - kept.length });
  return { text: fallbackText, blocks: [...kept, context(mrkdwn(more, reader))] };
}

export function plainText(text: string, max: number): types.PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max), emoji: true };
}

/** Lines packed into as few sections as fit (each ≤ 3000 characters): long lists stay under 50 blocks. */
export function chunkSections(rows: readonly (string | Text)[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  for (const row of rows) {
    const line = cutMrkdwn(rendered(row), LIMITS.sectionText);
    if (current.length + line.length + 1 > LIMITS.sectionText) {
      blocks.push(section(current));
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') blocks.push(section(current));
  return blocks;
}
