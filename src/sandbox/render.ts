import { z } from 'zod';
import { ENGLISH_TRANSLATOR, type MessageKey, type MessageValues, type Translator } from '../slack/i18n/translate.js';
import { unescapeMrkdwn } from '../slack/text.js';

/**
 * Block Kit for a terminal: messages become lines and numbered buttons, modals become forms to fill
 * one field at a time. Pure functions over what the bot sent (parsed leniently: an element the
 * console does not know is shown as such, never fatal).
 */

export interface NameDirectory {
  user(id: string): string | undefined;
  channel(id: string): string | undefined;
  group(id: string): string | undefined;
}

export interface RenderOptions {
  names: NameDirectory;
  /** ANSI bold/dim/colour (a TTY); plain text otherwise. */
  color: boolean;
  /** The console's own words (placeholders for what it cannot draw, dialog defaults): English by default. */
  tr?: Translator;
}

/** The console's own words, in the reader's language. */
function words(tr: Translator | undefined, key: MessageKey, values?: MessageValues): string {
  const translator = tr ?? ENGLISH_TRANSLATOR;
  return translator.plain(translator.t(key, values));
}

// ---- text --------------------------------------------------------------------------------------

const ANSI = { bold: ['\x1b[1m', '\x1b[22m'], dim: ['\x1b[2m', '\x1b[22m'], code: ['\x1b[36m', '\x1b[39m'] } as const;

export function style(kind: keyof typeof ANSI, text: string, color: boolean): string {
  return color ? `${ANSI[kind][0]}${text}${ANSI[kind][1]}` : text;
}

/** The shortcodes the bot uses, and a few common ones; others stay `:as_written:`. */
const EMOJI: Readonly<Record<string, string>> = {
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  white_check_mark: '✅',
  ballot_box_with_check: '☑️',
  heavy_check_mark: '✔️',
  warning: '⚠️',
  x: '❌',
  raising_hand: '🙋',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  arrows_counterclockwise: '🔄',
  leftwards_arrow_with_hook: '↩️',
  mag: '🔍',
  lock: '🔒',
  information_source: 'ℹ️',
  cloud: '☁️',
  boom: '💥',
  rotating_light: '🚨',
  bell: '🔔',
  camera: '📷',
  camera_with_flash: '📸',
  white_circle: '⚪',
  large_blue_circle: '🔵',
  red_circle: '🔴',
  large_green_circle: '🟢',
  calendar: '📆',
  dart: '🎯',
  eyes: '👀',
  floppy_disk: '💾',
  grey_exclamation: '❕',
  grey_question: '❔',
  heavy_minus_sign: '➖',
  inbox_tray: '📥',
  large_orange_circle: '🟠',
  raised_hand: '✋',
  fire: '🔥',
  tada: '🎉',
  '+1': '👍',
  wave: '👋',
};

/** `<@U…>`, `<#C…>`, `<!subteam^S…>`, `<!date^…|fallback>`, `<url|label>` as a reader sees them. */
function replaceTokens(text: string, names: NameDirectory): string {
  return text.replace(/<([^<>\n]+)>/g, (whole, inner: string) => {
    const [target = '', label] = splitOnce(inner, '|');
    if (target.startsWith('@')) {
      const id = target.slice(1);
      return `@${label ?? names.user(id) ?? id}`;
    }
    if (target.startsWith('#')) {
      const id = target.slice(1);
      return `#${label ?? names.channel(id) ?? id}`;
    }
    if (target.startsWith('!subteam^')) {
      const id = target.slice('!subteam^'.length);
      return label ?? `@${names.group(id) ?? id}`;
    }
    if (target.startsWith('!date^')) return label ?? target;
    if (target === '!here' || target === '!channel' || target === '!everyone') return `@${target.slice(1)}`;
    if (/^(https?|mailto):/.test(target)) return label === undefined ? target : `${label} (${target})`;
    return whole;
  });
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

const emojify = (text: string): string => text.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);

/** Emphasis and emoji outside code spans; code spans keep their backticks unless coloured. */
function inline(text: string, color: boolean): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, index) => {
      if (index % 2 === 1) return color ? style('code', part.slice(1, -1), true) : part;
      return part
        .replace(
          /(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g,
          (_m, pre: string, body: string) => `${pre}${style('bold', body, color)}`,
        )
        .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1$2')
        .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1$2')
        .replace(/:[a-z0-9_+-]+:/g, emojify);
    })
    .join('');
}

/** Slack mrkdwn → terminal lines (quotes become a bar). */
export function mrkdwn(text: string, options: RenderOptions): string[] {
  return text.split('\n').map((line) => {
    const quoted = line.startsWith('>');
    const body = inline(unescapeMrkdwn(replaceTokens(quoted ? line.slice(1) : line, options.names)), options.color);
    return quoted ? `▎ ${body}` : body;
  });
}

const TextSchema = z.object({ type: z.string(), text: z.string() });
type TextObject = z.infer<typeof TextSchema>;

/** A text object (plain or mrkdwn) as one line. */
export function textOf(text: TextObject | undefined, options: RenderOptions): string {
  if (text === undefined) return '';
  return text.type === 'mrkdwn' ? mrkdwn(text.text, options).join(' ') : emojify(text.text);
}

// ---- messages ----------------------------------------------------------------------------------

const ConfirmSchema = z.object({
  title: TextSchema.optional(),
  text: TextSchema,
  confirm: TextSchema.optional(),
  deny: TextSchema.optional(),
});

const ButtonSchema = z.object({
  type: z.literal('button'),
  action_id: z.string().optional(),
  text: TextSchema,
  value: z.string().optional(),
  url: z.string().optional(),
  style: z.string().optional(),
  confirm: ConfirmSchema.optional(),
});

const ElementSchema = z.looseObject({ type: z.string() });
const BlockSchema = z.looseObject({ type: z.string(), block_id: z.string().optional() });
const SectionSchema = z.object({
  text: TextSchema.optional(),
  fields: z.array(TextSchema).optional(),
  accessory: ElementSchema.optional(),
});
const HeaderSchema = z.object({ text: TextSchema });
const ContextSchema = z.object({
  elements: z.array(z.looseObject({ type: z.string(), text: z.string().optional(), alt_text: z.string().optional() })),
});
const ActionsSchema = z.object({ elements: z.array(ElementSchema) });
const ImageSchema = z.object({ alt_text: z.string().optional(), title: TextSchema.optional() });

export interface ConfirmDialog {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

export interface RenderedButton {
  number: number;
  actionId: string;
  blockId: string;
  value: string | undefined;
  text: string;
  url: string | undefined;
  confirm: ConfirmDialog | undefined;
}

export interface Rendered {
  lines: string[];
  buttons: RenderedButton[];
}

export interface MessageRenderOptions extends RenderOptions {
  /** Numbers buttons across the whole session, so a number always means one button. */
  nextButtonNumber: () => number;
}

export const DIVIDER = '─'.repeat(40);

/** A message: its blocks when it has any (what Slack shows), else its text. */
export function renderMessage(message: { text?: unknown; blocks?: unknown }, options: MessageRenderOptions): Rendered {
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length === 0) {
    return { lines: typeof message.text === 'string' ? mrkdwn(message.text, options) : [], buttons: [] };
  }
  return renderBlocks(blocks, options);
}

/**
 * An edited message, shortly: its first line (what it is about), then only the lines that are new.
 * Nothing when the edit changed nothing visible.
 */
export function editedLines(
  previous: readonly string[],
  next: readonly string[],
  tr: Translator = ENGLISH_TRANSLATOR,
): string[] {
  const before = new Set(previous);
  const changed = next.filter((line, index) => index > 0 && !before.has(line));
  if (changed.length === 0 && next[0] === previous[0]) return [];
  return [`${words(tr, 'console.edited')} ${next[0] ?? ''}`, ...changed];
}

export function renderBlocks(blocks: readonly unknown[], options: MessageRenderOptions): Rendered {
  const out: Rendered = { lines: [], buttons: [] };
  blocks.forEach((raw, index) => {
    const block = BlockSchema.safeParse(raw);
    if (!block.success) {
      out.lines.push(words(options.tr, 'console.unreadableBlock'));
      return;
    }
    renderBlock(block.data, block.data.block_id ?? `b${index}`, options, out);
  });
  return out;
}

function renderBlock(
  block: z.infer<typeof BlockSchema>,
  blockId: string,
  options: MessageRenderOptions,
  out: Rendered,
) {
  const { color } = options;
  switch (block.type) {
    case 'header': {
      const parsed = HeaderSchema.safeParse(block);
      if (parsed.success) out.lines.push(style('bold', `━━ ${emojify(parsed.data.text.text)} ━━`, color));
      return;
    }
    case 'section': {
      const parsed = SectionSchema.safeParse(block);
      if (!parsed.success) break;
      if (parsed.data.text !== undefined) out.lines.push(...textLines(parsed.data.text, options));
      for (const field of parsed.data.fields ?? []) out.lines.push(fieldLine(field, options));
      if (parsed.data.accessory !== undefined) {
        const rendered = renderElement(parsed.data.accessory, blockId, options, out.buttons);
        if (rendered !== undefined) out.lines.push(`  ${rendered}`);
      }
      return;
    }
    case 'context': {
      const parsed = ContextSchema.safeParse(block);
      if (!parsed.success) break;
      const parts = parsed.data.elements.flatMap((e) =>
        e.text !== undefined ? [textOf({ type: e.type, text: e.text }, options)] : [],
      );
      if (parts.length > 0) out.lines.push(style('dim', parts.join('  ·  '), color));
      return;
    }
    case 'divider':
      out.lines.push(style('dim', DIVIDER, color));
      return;
    case 'actions': {
      const parsed = ActionsSchema.safeParse(block);
      if (!parsed.success) break;
      const rendered = parsed.data.elements.flatMap((e) => renderElement(e, blockId, options, out.buttons) ?? []);
      if (rendered.length > 0) out.lines.push(rendered.join('   '));
      return;
    }
    case 'image': {
      const parsed = ImageSchema.safeParse(block);
      const description =
        (parsed.success ? parsed.data.alt_text : undefined) ?? words(options.tr, 'console.noDescription');
      out.lines.push(words(options.tr, 'console.image', { description }));
      return;
    }
    default:
      break;
  }
  out.lines.push(words(options.tr, 'console.blockNotShown', { type: block.type }));
}

function textLines(text: TextObject, options: RenderOptions): string[] {
  return text.type === 'mrkdwn' ? mrkdwn(text.text, options) : emojify(text.text).split('\n');
}

/** `*Who*\n<@U1>` reads best as `Who: @alice`. */
function fieldLine(field: TextObject, options: RenderOptions): string {
  const label = /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(field.text);
  if (field.type === 'mrkdwn' && label !== null) {
    const value = mrkdwn(label[2] ?? '', options).join(' ');
    return `${style('bold', `${label[1] ?? ''}:`, options.color)} ${value}`;
  }
  return textLines(field, options).join(' ');
}

function renderElement(
  element: z.infer<typeof ElementSchema>,
  blockId: string,
  options: MessageRenderOptions,
  buttons: RenderedButton[],
): string | undefined {
  const button = ButtonSchema.safeParse(element);
  if (!button.success) return words(options.tr, 'console.elementNotShown', { type: element.type });
  const { data } = button;
  const confirm = data.confirm;
  const rendered: RenderedButton = {
    number: options.nextButtonNumber(),
    actionId: data.action_id ?? `button_${buttons.length}`,
    blockId,
    value: data.value,
    text: emojify(data.text.text),
    url: data.url,
    confirm:
      confirm === undefined
        ? undefined
        : {
            title: confirm.title?.text ?? words(options.tr, 'console.areYouSure'),
            text: textOf(confirm.text, options),
            confirm: confirm.confirm?.text ?? words(options.tr, 'console.yes'),
            deny: confirm.deny?.text ?? words(options.tr, 'console.cancel'),
          },
  };
  buttons.push(rendered);
  return style('bold', `[${rendered.number}] ${rendered.text}`, options.color);
}

// ---- modals ------------------------------------------------------------------------------------

const OptionSchema = z.object({ text: TextSchema, value: z.string() });
const OptionsSchema = z.object({
  options: z.array(OptionSchema).optional(),
  option_groups: z.array(z.object({ options: z.array(OptionSchema) })).optional(),
});

const InputBlockSchema = z.object({
  label: TextSchema,
  hint: TextSchema.optional(),
  optional: z.boolean().optional(),
  dispatch_action: z.boolean().optional(),
  element: ElementSchema,
});

const ElementDetailsSchema = z.object({
  action_id: z.string().optional(),
  initial_value: z.string().optional(),
  initial_date: z.string().optional(),
  initial_option: OptionSchema.optional(),
  initial_options: z.array(OptionSchema).optional(),
  multiline: z.boolean().optional(),
  min_length: z.number().optional(),
  max_length: z.number().optional(),
  min_query_length: z.number().optional(),
  placeholder: TextSchema.optional(),
});

const ViewSchema = z.looseObject({
  title: TextSchema,
  submit: TextSchema.optional(),
  close: TextSchema.optional(),
  callback_id: z.string().default(''),
  private_metadata: z.string().default(''),
  blocks: z.array(z.unknown()).default([]),
});

export interface FormOption {
  text: string;
  value: string;
}

export type FieldKind = 'text' | 'static_select' | 'external_select' | 'datepicker' | 'checkboxes' | 'radio_buttons';

export interface FormField {
  kind: FieldKind;
  blockId: string;
  actionId: string;
  label: string;
  hint: string | undefined;
  placeholder: string | undefined;
  optional: boolean;
  /** Slack reports a choice at once (block_actions) instead of waiting for submit. */
  dispatchAction: boolean;
  /** Static choices (selects, checkboxes, radio buttons). */
  options: FormOption[];
  /** What the field holds before the user touches it. */
  initial: FieldValue | undefined;
  multiline: boolean;
  minLength: number | undefined;
  maxLength: number | undefined;
  minQueryLength: number;
}

export type FieldValue =
  | { kind: 'text'; text: string }
  | { kind: 'option'; option: FormOption }
  | { kind: 'date'; date: string }
  | { kind: 'options'; options: FormOption[] };

export interface ModalForm {
  title: string;
  /** Undefined: a read-only modal (nothing to submit). */
  submit: string | undefined;
  close: string;
  callbackId: string;
  privateMetadata: string;
  /** Everything that is not an input, in order (sections, context…). */
  lines: string[];
  fields: FormField[];
  /** Inputs the console cannot fill, by label. */
  unsupported: string[];
}

const FIELD_KINDS: ReadonlySet<string> = new Set<FieldKind>([
  'static_select',
  'external_select',
  'datepicker',
  'checkboxes',
  'radio_buttons',
]);

export function modalForm(view: unknown, options: MessageRenderOptions): ModalForm | undefined {
  const parsed = ViewSchema.safeParse(view);
  if (!parsed.success) return undefined;
  const { data } = parsed;
  const form: ModalForm = {
    title: data.title.text,
    submit: data.submit?.text,
    close: data.close?.text ?? words(options.tr, 'console.close'),
    callbackId: data.callback_id,
    privateMetadata: data.private_metadata,
    lines: [],
    fields: [],
    unsupported: [],
  };
  data.blocks.forEach((raw, index) => {
    const block = BlockSchema.safeParse(raw);
    if (!block.success) return;
    const blockId = block.data.block_id ?? `input_${index}`;
    if (block.data.type !== 'input') {
      const rendered = renderBlocks([raw], options);
      form.lines.push(...rendered.lines);
      return;
    }
    const input = InputBlockSchema.safeParse(block.data);
    if (!input.success) return;
    const field = inputField(input.data, blockId);
    if (field === undefined) form.unsupported.push(input.data.label.text);
    else form.fields.push(field);
  });
  return form;
}

function inputField(input: z.infer<typeof InputBlockSchema>, blockId: string): FormField | undefined {
  const type = input.element.type;
  const kind: FieldKind | undefined =
    type === 'plain_text_input' ? 'text' : FIELD_KINDS.has(type) ? (type as FieldKind) : undefined;
  const details = ElementDetailsSchema.safeParse(input.element);
  if (kind === undefined || !details.success) return undefined;
  const d = details.data;
  const choices = OptionsSchema.safeParse(input.element);
  const options = choices.success
    ? [...(choices.data.options ?? []), ...(choices.data.option_groups ?? []).flatMap((g) => g.options)].map(toOption)
    : [];
  return {
    kind,
    blockId,
    actionId: d.action_id ?? blockId,
    label: input.label.text,
    hint: input.hint?.text,
    placeholder: d.placeholder?.text,
    optional: input.optional === true,
    dispatchAction: input.dispatch_action === true,
    options,
    initial: initialValue(kind, d),
    multiline: d.multiline === true,
    minLength: d.min_length,
    maxLength: d.max_length,
    minQueryLength: d.min_query_length ?? 3,
  };
}

const toOption = (o: z.infer<typeof OptionSchema>): FormOption => ({ text: o.text.text, value: o.value });

function initialValue(kind: FieldKind, d: z.infer<typeof ElementDetailsSchema>): FieldValue | undefined {
  switch (kind) {
    case 'text':
      return d.initial_value === undefined ? undefined : { kind: 'text', text: d.initial_value };
    case 'datepicker':
      return d.initial_date === undefined ? undefined : { kind: 'date', date: d.initial_date };
    case 'checkboxes':
      return d.initial_options === undefined
        ? undefined
        : { kind: 'options', options: d.initial_options.map(toOption) };
    default:
      return d.initial_option === undefined ? undefined : { kind: 'option', option: toOption(d.initial_option) };
  }
}

/** How a value is shown in a prompt's [default] and in the summary. */
export function describeValue(value: FieldValue | undefined, tr: Translator = ENGLISH_TRANSLATOR): string {
  if (value === undefined) return '';
  switch (value.kind) {
    case 'text':
      return value.text;
    case 'date':
      return value.date;
    case 'option':
      return value.option.text;
    case 'options':
      return value.options.map((o) => o.text).join(', ') || words(tr, 'console.none');
  }
}

export type Answer =
  /** Keep what the field holds (Enter). */
  | { ok: true; keep: true }
  /** Empty the field (`-`, optional fields only). */
  | { ok: true; keep: false; value: FieldValue | undefined }
  | { ok: false; error: string };

export const CLEAR = '-';

/**
 * One line typed for one field, checked as Slack's client checks before it lets a form go:
 * required fields, lengths, real dates, choices in range. `choices` are the options on screen
 * (an external select's latest search).
 */
export function parseAnswer(
  field: FormField,
  current: FieldValue | undefined,
  input: string,
  choices: readonly FormOption[] = field.options,
  tr: Translator = ENGLISH_TRANSLATOR,
): Answer {
  const typed = input.trim();
  const refuse = (key: MessageKey, values?: MessageValues): Answer => ({ ok: false, error: words(tr, key, values) });
  if (typed === '') {
    if (current !== undefined || field.optional || field.kind === 'checkboxes') return { ok: true, keep: true };
    return refuse('console.required');
  }
  if (typed === CLEAR) {
    return field.optional || field.kind === 'checkboxes'
      ? { ok: true, keep: false, value: field.kind === 'checkboxes' ? { kind: 'options', options: [] } : undefined }
      : refuse('console.required');
  }
  switch (field.kind) {
    case 'text': {
      // The console reads one line at a time: `\n` typed literally becomes a line break.
      const text = input.replace(/\\n/g, '\n');
      if (field.minLength !== undefined && text.length < field.minLength)
        return refuse('console.atLeast', { count: field.minLength });
      if (field.maxLength !== undefined && text.length > field.maxLength)
        return refuse('console.atMost', { count: field.maxLength });
      return { ok: true, keep: false, value: { kind: 'text', text } };
    }
    case 'datepicker':
      return isCalendarDate(typed)
        ? { ok: true, keep: false, value: { kind: 'date', date: typed } }
        : refuse('console.dateFormat');
    case 'checkboxes': {
      const numbers = typed.split(/[\s,]+/).filter((part) => part !== '');
      const picked: FormOption[] = [];
      for (const number of numbers) {
        const option = pick(choices, number);
        if (option === undefined) return refuse('console.numbersRange', { count: choices.length });
        if (!picked.includes(option)) picked.push(option);
      }
      return { ok: true, keep: false, value: { kind: 'options', options: picked } };
    }
    default: {
      const option = pick(choices, typed);
      return option === undefined
        ? refuse('console.numberRange', { count: choices.length })
        : { ok: true, keep: false, value: { kind: 'option', option } };
    }
  }
}

function pick(choices: readonly FormOption[], typed: string): FormOption | undefined {
  if (!/^\d+$/.test(typed)) return undefined;
  return choices[Number(typed) - 1];
}

function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** One element's entry in `view.state.values`, as Slack reports it. */
export function stateEntry(field: FormField, value: FieldValue | undefined): object {
  const option = (o: FormOption) => ({ text: { type: 'plain_text', text: o.text, emoji: true }, value: o.value });
  switch (field.kind) {
    case 'text':
      return { type: 'plain_text_input', value: value?.kind === 'text' ? value.text : null };
    case 'datepicker':
      return { type: 'datepicker', selected_date: value?.kind === 'date' ? value.date : null };
    case 'checkboxes':
      return { type: 'checkboxes', selected_options: value?.kind === 'options' ? value.options.map(option) : [] };
    default:
      return { type: field.kind, selected_option: value?.kind === 'option' ? option(value.option) : null };
  }
}

/** `view.state.values` for the whole form. */
export function viewState(
  fields: readonly FormField[],
  values: ReadonlyMap<string, FieldValue | undefined>,
): Record<string, Record<string, object>> {
  const state: Record<string, Record<string, object>> = {};
  for (const field of fields) {
    const value = values.has(fieldKey(field)) ? values.get(fieldKey(field)) : field.initial;
    state[field.blockId] = { [field.actionId]: stateEntry(field, value) };
  }
  return state;
}

/** Slack keeps a field's value while its block id and action id stay the same. */
export const fieldKey = (field: Pick<FormField, 'blockId' | 'actionId'>): string =>
  `${field.blockId}\u0000${field.actionId}`;

/** Numbered choices, one a line; with `selected` (checkboxes), each is ticked or not. */
export function choiceLines(choices: readonly FormOption[], selected?: readonly string[]): string[] {
  return choices.map((choice, index) => {
    const mark = selected === undefined ? '' : selected.includes(choice.value) ? '[x] ' : '[ ] ';
    return `    ${String(index + 1).padStart(2)}. ${mark}${choice.text}`;
  });
}

/** The `response_action: errors` of a submission, by field label (unknown block ids kept as is). */
export function formErrors(
  fields: readonly FormField[],
  errors: Readonly<Record<string, string>>,
): Array<{ field: FormField | undefined; label: string; message: string }> {
  return Object.entries(errors).map(([blockId, message]) => {
    const field = fields.find((f) => f.blockId === blockId);
    return { field, label: field?.label ?? blockId, message };
  });
}

/**
 * What Slack sends as a slash command's text when the command escapes (the manifest's
 * `should_escape: true`): &, < and > escaped, and @user, @group and #channel turned into mentions.
 */
export function escapeCommandText(
  text: string,
  workspace: {
    users: ReadonlyArray<{ id: string; name: string }>;
    groups: ReadonlyArray<{ id: string; handle: string }>;
    channels: ReadonlyArray<{ id: string; name: string }>;
  },
): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replace(/(^|\s)([@#])([a-z0-9._-]+)/gi, (whole, pre: string, sigil: string, name: string) => {
      const wanted = name.toLowerCase();
      if (sigil === '#') {
        const channel = workspace.channels.find((c) => c.name === wanted);
        return channel === undefined ? whole : `${pre}<#${channel.id}|${channel.name}>`;
      }
      const user = workspace.users.find((u) => u.name === wanted);
      if (user !== undefined) return `${pre}<@${user.id}|${user.name}>`;
      const group = workspace.groups.find((g) => g.handle === wanted);
      return group === undefined ? whole : `${pre}<!subteam^${group.id}|@${group.handle}>`;
    });
}
