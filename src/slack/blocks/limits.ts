import type { types } from '@slack/bolt';

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

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

export function section(text: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

export function fieldsSection(fields: readonly string[], text?: string): types.SectionBlock {
  return {
    type: 'section',
    ...(text !== undefined && { text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } }),
    fields: fields.slice(0, LIMITS.fields).map((f) => ({ type: 'mrkdwn', text: truncate(f, LIMITS.field) })),
  };
}

export function header(text: string): types.HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.header), emoji: true } };
}

export function context(...texts: string[]): types.ContextBlock {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.context).map((t) => ({ type: 'mrkdwn', text: truncate(t, LIMITS.sectionText) })),
  };
}

export const divider: types.DividerBlock = { type: 'divider' };

/**
 * Keeps a message under 50 blocks: when too long, the tail is replaced by a context line saying
 * how much was left out (never an API error).
 */
export function message(text: string, blocks: readonly Block[]): SlackMessage {
  const fallback = truncate(text, LIMITS.fallbackText);
  if (blocks.length <= LIMITS.messageBlocks) return { text: fallback, blocks: [...blocks] };
  const kept = blocks.slice(0, LIMITS.messageBlocks - 1);
  return { text: fallback, blocks: [...kept, context(`…${blocks.length - kept.length} more blocks not shown.`)] };
}

export function plainText(text: string, max: number): types.PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max), emoji: true };
}

/** `<!date^…>` renders in the reader's time zone; the fallback is UTC. */
export function slackDate(ms: number, format = '{date_short_pretty} {time}'): string {
  const fallback = new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback} UTC>`;
}

/** Escapes user-provided text for mrkdwn (Slack needs &, <, > escaped). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Lines packed into as few sections as fit (each ≤ 3000 characters): long lists stay under 50 blocks. */
export function chunkSections(rows: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  for (const row of rows) {
    const line = truncate(row, LIMITS.sectionText);
    if (current.length + line.length + 1 > LIMITS.sectionText) {
      blocks.push(section(current));
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') blocks.push(section(current));
  return blocks;
}
