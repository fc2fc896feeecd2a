import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { z } from 'zod';
import { langOfLocale } from '../shared/language.js';
import { type MessageKey, type MessageValues, type Translator, translator } from '../slack/i18n/translate.js';
import {
  appHomeOpenedEvent,
  blockSuggestionPayload,
  globalShortcutPayload,
  homeButtonClick,
  messageButtonClick,
  messageShortcutPayload,
  type PayloadUser,
  type ViewPayloadInput,
  viewSelectAction,
  viewSubmissionPayload,
} from './payloads.js';
import {
  CLEAR,
  choiceLines,
  describeValue,
  editedLines,
  escapeCommandText,
  type FieldValue,
  type FormField,
  type FormOption,
  fieldKey,
  formErrors,
  type MessageRenderOptions,
  type ModalForm,
  modalForm,
  parseAnswer,
  type RenderedButton,
  renderMessage,
  style,
  viewState,
} from './render.js';
import { interactivityBody, postSigned, type SignedResponse, slashCommandBody } from './signed-requests.js';
import type { AnsweredCall, LocalSlackApi } from './slack-api.js';
import { type SandboxUser, type SandboxWorkspace, workspaceNames } from './workspace.js';

/**
 * A terminal chat with the bot, in the spirit of Hubot's shell adapter: what you type goes to the
 * bot exactly as Slack would send it (signed slash commands and interactivity payloads), and what
 * the bot sends to Slack's Web API or to a response_url is shown here — ephemeral replies, channel
 * messages, DMs, modals as forms, buttons by number.
 */

export interface ConsoleOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** A person at a terminal: prompts are redrawn around the bot's messages. Piped input: lines are echoed. */
  terminal: boolean;
  color: boolean;
  /** The bot's Slack request URL (`…/slack/events`). */
  botUrl: string;
  signingSecret: string;
  slack: LocalSlackApi;
  workspace: SandboxWorkspace;
  /** Name of the first user and channel. */
  user: string;
  channel: string;
  /** The bot's log file, for `/logs`. */
  logFile?: string;
  /** Who the bot's own messages come from. */
  botUserId?: string;
  /** The app's shortcuts (from its manifest), for `/shortcut`. */
  shortcuts?: readonly Shortcut[];
  /** How long `/wait` waits (scripts). */
  waitTimeoutMs?: number;
}

/** A shortcut as the app's manifest declares it. */
export interface Shortcut {
  name: string;
  type: 'message' | 'global';
  callbackId: string;
  description: string;
}

const COMMAND = '/nasha';
/** Where the console keeps Home tabs among the messages (no Slack channel has this id). */
const HOME = 'HOME';
const VIEW_UPDATE_WAIT_MS = 3_000;
const FORM_GRACE_MS = 2_000;

/** The console's commands and what each does (the commands themselves are the same in every language). */
function helpLines(tr: Translator): string[] {
  const arg = (key: MessageKey) => `<${tr.plain(tr.t(key))}>`;
  const number = arg('console.arg.number');
  const rows: ReadonlyArray<readonly [string, MessageKey, MessageValues?]> = [
    [`${COMMAND} snapshot help`, 'console.help.botHelp'],
    [number, 'console.help.press', { press: `/press ${number}` }],
    [arg('console.arg.text'), 'console.help.say'],
    [`/shortcut [${number}]`, 'console.help.shortcut'],
    [`/as ${arg('console.arg.name')}`, 'console.help.as', { example: '/as bob' }],
    [`/in ${arg('console.arg.channel')}`, 'console.help.in', { example: '/in general' }],
    ['/users, /channels', 'console.help.users'],
    ['/home', 'console.help.home'],
    ['/logs [n]', 'console.help.logs'],
    [`/wait ${arg('console.arg.text')}`, 'console.help.wait', { text: arg('console.arg.text') }],
    ['/quit', 'console.help.quit'],
  ];
  return [
    tr.plain(tr.t('console.helpHead', { command: COMMAND })),
    ...rows.map(([command, key, values]) => `  ${command.padEnd(26)}${tr.plain(tr.t(key, values))}`),
    tr.plain(tr.t('console.formHelp')),
  ];
}

const CONSOLE_COMMANDS: ReadonlySet<string> = new Set([
  COMMAND.slice(1),
  'as',
  'in',
  'channel',
  'users',
  'channels',
  'whoami',
  'press',
  'logs',
  'shortcut',
  'shortcuts',
  'home',
]);

/** What a response_url stands for: who sees its messages, where, and which message it may replace. */
interface ResponseTarget {
  userId: string;
  channelId: string;
  /** The message a `replace_original` replaces. */
  messageKey: string;
  ephemeral: boolean;
}

interface ShownMessage {
  channelId: string;
  ts: string;
  ephemeral: boolean;
  userId: string | undefined;
  text: unknown;
  blocks: unknown;
  /** As last printed, so an edit shows only what changed. */
  lines: string[];
}

interface ViewRecord {
  id: string;
  view: unknown;
  hash: string | undefined;
  userId: string;
  version: number;
  /** The version last printed as a read-only modal (0: never). */
  shown: number;
  closed: boolean;
}

const HomeArgsSchema = z.object({ user_id: z.string(), view: z.looseObject({ blocks: z.array(z.unknown()) }) });
const MessageArgsSchema = z.looseObject({
  channel: z.string().optional(),
  user: z.string().optional(),
  ts: z.string().optional(),
  text: z.unknown().optional(),
  blocks: z.unknown().optional(),
});
const ResponseArgsSchema = z.looseObject({
  url: z.string(),
  text: z.unknown().optional(),
  blocks: z.unknown().optional(),
  response_type: z.string().optional(),
  replace_original: z.union([z.boolean(), z.string()]).optional(),
  delete_original: z.union([z.boolean(), z.string()]).optional(),
});
const ViewArgsSchema = z.looseObject({
  trigger_id: z.string().optional(),
  view_id: z.string().optional(),
  view: z.unknown(),
});
const ViewAnswerSchema = z.looseObject({
  ok: z.literal(true),
  view: z.looseObject({ id: z.string(), hash: z.string().optional() }),
});
const PostAnswerSchema = z.looseObject({
  ok: z.literal(true),
  ts: z.string().optional(),
  message_ts: z.string().optional(),
});
const SlackErrorSchema = z.looseObject({ ok: z.literal(false), error: z.string() });
const OptionsAnswerSchema = z.looseObject({
  options: z.array(z.object({ text: z.object({ text: z.string() }), value: z.string() })).optional(),
  option_groups: z
    .array(z.object({ options: z.array(z.object({ text: z.object({ text: z.string() }), value: z.string() })) }))
    .optional(),
});
const SubmissionAnswerSchema = z.discriminatedUnion('response_action', [
  z.object({ response_action: z.literal('errors'), errors: z.record(z.string(), z.string()) }),
  z.object({ response_action: z.literal('update'), view: z.unknown() }),
  z.object({ response_action: z.literal('push'), view: z.unknown() }),
  z.object({ response_action: z.literal('clear') }),
]);
const AckMessageSchema = z.looseObject({
  text: z.unknown().optional(),
  blocks: z.unknown().optional(),
  response_type: z.string().optional(),
});

const truthy = (value: boolean | string | undefined): boolean => value === true || value === 'true';

/** `ahead`: the line was typed before its prompt was shown (so the terminal showed it elsewhere). */
type InputEvent = { kind: 'line'; text: string; ahead: boolean } | { kind: 'eof' } | { kind: 'form' };

export class SandboxConsole {
  private readonly options: ConsoleOptions;
  private readonly rl: Interface;
  private readonly render: MessageRenderOptions;
  private readonly lines: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly watchers = new Set<() => void>();
  private user: SandboxUser;
  /** The console speaks the current person's language (as the bot does to them). */
  private tr: Translator;
  private channelId: string;
  private buttonCounter = 0;
  private readonly buttons = new Map<number, { button: RenderedButton; messageKey: string }>();
  private readonly messages = new Map<string, ShownMessage>();
  private readonly responseTargets = new Map<string, ResponseTarget>();
  private readonly triggers = new Map<string, string>();
  private readonly views = new Map<string, ViewRecord>();
  private readonly pendingForms: string[] = [];
  /** The last message in each channel, for message shortcuts. */
  private readonly lastMessages = new Map<string, { ts: string; text: string; userId: string }>();
  private saidHint = false;
  private activeViewId: string | undefined;
  /** What was said to the user (not their own typing): what /wait looks in, from `mark` on. */
  private heard = '';
  private mark = 0;
  private promptText = '';
  private promptShown = false;
  private failures = 0;
  /** A person at a terminal just sent something that may open a form: until then, typed lines wait. */
  private formGraceUntil = 0;
  private quitting = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(options: ConsoleOptions) {
    this.options = options;
    this.user = this.findUser(options.user) ?? this.firstUser();
    this.tr = readerOf(this.user);
    this.channelId = this.findChannel(options.channel)?.id ?? options.workspace.channels[0]?.id ?? 'C0OPS';
    this.render = {
      names: workspaceNames(options.workspace),
      color: options.color,
      nextButtonNumber: () => ++this.buttonCounter,
      tr: this.tr,
    };
    this.rl = createInterface({
      input: options.input,
      ...(options.terminal && { output: options.output }),
      terminal: options.terminal,
    });
    this.rl.on('line', (line) => {
      this.promptShown = false;
      this.lines.push(line);
      this.poke();
    });
    this.rl.on('close', () => {
      this.ended = true;
      this.poke();
    });
    this.rl.on('SIGINT', () => {
      this.write(['^C']);
      this.rl.close();
    });
    this.unsubscribe = options.slack.subscribe((call) => this.onSlackCall(call));
  }

  /** Talks until /quit or end of input; resolves with the exit status (1 when a /wait timed out). */
  async run(): Promise<number> {
    for (;;) {
      this.showPrompt(this.mainPrompt());
      const event = await this.nextEvent(true);
      if (event.kind === 'eof') break;
      if (event.kind === 'form') {
        await this.runPendingForm();
        if (this.quitting) break;
        continue;
      }
      this.echo(event);
      await this.handleLine(event.text.trim()).catch((error: unknown) =>
        this.write([`⚠ ${error instanceof Error ? error.message : String(error)}`]),
      );
      if (this.quitting) break;
    }
    this.close();
    return this.failures > 0 ? 1 : 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.rl.close();
  }

  // ---- input -----------------------------------------------------------------------------------

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async nextEvent(acceptForms: boolean): Promise<InputEvent> {
    let waited = false;
    for (;;) {
      if (acceptForms && this.pendingForms.length > 0) return { kind: 'form' };
      if (acceptForms && this.lines.length > 0 && Date.now() < this.formGraceUntil) {
        // Typed ahead right after a command: the bot may be opening a form those lines are for.
        await this.until(() => this.pendingForms.length > 0, this.formGraceUntil - Date.now());
        this.formGraceUntil = 0;
        continue;
      }
      const line = this.lines.shift();
      if (line !== undefined) return { kind: 'line', text: line, ahead: !waited };
      if (this.ended) return { kind: 'eof' };
      waited = true;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** One line for a form or a question; undefined at end of input or on /quit (the caller gives up). */
  private async ask(prompt: string): Promise<string | undefined> {
    this.showPrompt(prompt);
    const event = await this.nextEvent(false);
    if (event.kind !== 'line') return undefined;
    this.echo(event);
    if (/^\/(quit|exit)$/i.test(event.text.trim())) {
      this.quitting = true;
      return undefined;
    }
    return event.text;
  }

  /**
   * A line typed into a form: an answer, or `/cancel` (undefined), `/wait …`, `/help`; other
   * console commands are refused until the form is done. `accept` rejects other answers at once.
   */
  private async formLine(prompt: string, accept?: RegExp): Promise<string | undefined> {
    for (;;) {
      const line = await this.ask(prompt);
      if (line === undefined) return undefined;
      const typed = line.trim();
      const command = /^\/([a-z]+)\b/i.exec(typed)?.[1]?.toLowerCase();
      if (command === 'cancel') return undefined;
      if (command === 'wait') {
        await this.waitFor(typed.slice('/wait'.length).trim());
        continue;
      }
      if (command === 'help') {
        this.write([`│   ${this.words('console.formHelp')}`]);
        continue;
      }
      if (command !== undefined && CONSOLE_COMMANDS.has(command)) {
        this.write([`│   ${this.words('console.finishForm')}`]);
        continue;
      }
      if (accept !== undefined && !accept.test(typed)) {
        this.write([`│   ${this.words('console.typeYesNo')}`]);
        continue;
      }
      this.mark = this.heard.length;
      return line;
    }
  }

  private mainPrompt(): string {
    return `${style('bold', this.user.name, this.options.color)} in #${this.channelName(this.channelId)} › `;
  }

  private showPrompt(prompt: string): void {
    this.promptText = prompt;
    if (!this.options.terminal) return;
    this.rl.setPrompt(prompt);
    this.rl.prompt();
    this.promptShown = true;
  }

  private clearPrompt(): void {
    if (!this.options.terminal || !this.promptShown) return;
    this.options.output.write('\r\x1b[K');
    this.promptShown = false;
  }

  /**
   * Piped input is not shown by any terminal: write it after its prompt, so the output reads as a
   * chat. At a terminal, only a line typed before its prompt appeared is repeated next to it.
   */
  private echo(event: { text: string; ahead: boolean }): void {
    if (!this.options.terminal) {
      this.emit(`${this.promptText}${event.text}\n`);
    } else if (event.ahead) {
      this.promptShown = false;
      this.emit(`${event.text}\n`);
    }
  }

  // ---- output ----------------------------------------------------------------------------------

  private write(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const text = `${lines.join('\n')}\n`;
    this.heard += stripVTControlCharacters(text);
    if (this.options.terminal && this.promptShown) {
      // Print above the prompt, then redraw the prompt and whatever was being typed.
      this.options.output.write('\r\x1b[K');
      this.emit(text);
      this.rl.prompt(true);
    } else {
      this.emit(text);
    }
  }

  private emit(text: string): void {
    this.options.output.write(text);
    this.notify();
  }

  /** Something was shown: waits re-check their condition. */
  private notify(): void {
    for (const watcher of this.watchers) watcher();
  }

  private labelled(label: string, lines: readonly string[]): string[] {
    const gutter = style('dim', `${label} │`, this.options.color);
    return (lines.length === 0 ? [''] : lines).map((line) => `${gutter} ${line}`);
  }

  /** Waits until `predicate` holds (checked on every output and Slack call), up to `ms`. */
  private until(predicate: () => boolean, ms: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(result);
      };
      const check = () => {
        if (predicate()) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      this.watchers.add(check);
    });
  }

  // ---- commands --------------------------------------------------------------------------------

  private async handleLine(line: string): Promise<void> {
    if (line === '') return;
    if (!line.startsWith('/wait')) this.mark = this.heard.length;
    if (/^\d+$/.test(line)) return this.press(Number(line));
    const [word = '', ...rest] = line.split(/\s+/);
    const argument = rest.join(' ');
    switch (word.toLowerCase()) {
      case COMMAND:
        return this.slashCommand(line.slice(COMMAND.length).trim());
      case '/help':
      case '/?':
        this.write(helpLines(this.tr));
        return;
      case '/as':
        return this.switchUser(argument);
      case '/in':
      case '/channel':
        return this.switchChannel(argument);
      case '/users':
        this.write(
          this.options.workspace.users.map((u) => `  ${u.name.padEnd(7)} ${u.id.padEnd(9)} ${this.words(u.role)}`),
        );
        return;
      case '/channels':
        this.write(this.options.workspace.channels.map((c) => `  #${c.name.padEnd(10)} ${this.words(c.about)}`));
        return;
      case '/whoami':
        this.write([
          this.words('console.whoami', {
            name: this.user.name,
            id: this.user.id,
            role: this.tr.t(this.user.role),
            channel: this.channelName(this.channelId),
          }),
        ]);
        return;
      case '/press':
        return this.press(Number(argument));
      case '/wait':
        return this.waitFor(argument);
      case '/logs':
        return this.showLogs(argument === '' ? 20 : Number(argument));
      case '/shortcut':
      case '/shortcuts':
        return this.shortcut(argument);
      case '/home':
        return this.openHome();
      case '/quit':
      case '/exit':
        this.quitting = true;
        return;
      default:
        if (word.startsWith('/')) {
          this.write([this.words('console.notCommand', { word, command: COMMAND })]);
          return;
        }
        this.say(line);
    }
  }

  /** A message from the current user in the current channel, as others in it would see it. */
  private say(text: string): void {
    const ts = slackTs();
    this.lastMessages.set(this.channelId, { ts, text, userId: this.user.id });
    this.write(this.labelled(`#${this.channelName(this.channelId)}`, [`${this.user.name}: ${text}`]));
    if (!this.saidHint) {
      this.saidHint = true;
      this.write([
        style(
          'dim',
          this.words('console.saidHint', { command: COMMAND, example: `${COMMAND} snapshot help` }),
          this.options.color,
        ),
      ]);
    }
  }

  private async shortcut(argument: string): Promise<void> {
    const shortcuts = this.options.shortcuts ?? [];
    const chosen = /^\d+$/.test(argument) ? shortcuts[Number(argument) - 1] : undefined;
    if (chosen === undefined) {
      const usage = `/shortcut <${this.words('console.arg.number')}>`;
      this.write(
        shortcuts.length === 0
          ? [this.words('console.noShortcuts')]
          : [
              this.words('console.shortcutsHead', { usage }),
              ...shortcuts.map(
                (s, i) =>
                  `  ${this.words('console.shortcutLine', { number: i + 1, name: s.name, type: s.type, description: s.description })}`,
              ),
            ],
      );
      return;
    }
    const triggerId = this.newTrigger(this.user.id);
    let payload: object;
    if (chosen.type === 'global') {
      payload = globalShortcutPayload({
        user: this.payloadUser(),
        callbackId: chosen.callbackId,
        triggerId,
        actionTs: slackTs(),
      });
    } else {
      const message = this.lastMessages.get(this.channelId);
      if (message === undefined) {
        this.write([this.words('console.noMessage', { channel: this.channelName(this.channelId) })]);
        return;
      }
      const key = `eph:${randomUUID()}`;
      payload = messageShortcutPayload({
        user: this.payloadUser(),
        callbackId: chosen.callbackId,
        channel: { id: this.channelId, name: this.channelName(this.channelId) },
        message,
        responseUrl: this.newResponseUrl({
          userId: this.user.id,
          channelId: this.channelId,
          messageKey: key,
          ephemeral: true,
        }),
        triggerId,
        actionTs: slackTs(),
      });
    }
    const ack = await this.post(interactivityBody(payload));
    this.expectForm();
    if (ack.status !== 200) this.write([this.words('console.shortcutHttp', { status: String(ack.status) })]);
  }

  private switchUser(name: string): void {
    const user = this.findUser(name);
    if (user === undefined) {
      const names = this.options.workspace.users.map((u) => u.name).join(', ');
      this.write([this.words('console.noUser', { name, names })]);
      return;
    }
    this.user = user;
    this.tr = readerOf(user);
    this.render.tr = this.tr;
    this.write([this.words('console.nowUser', { name: user.name, role: this.tr.t(user.role) })]);
  }

  private switchChannel(name: string): void {
    const channel = this.findChannel(name);
    if (channel === undefined) {
      const names = this.options.workspace.channels.map((c) => `#${c.name}`).join(', ');
      this.write([this.words('console.noChannel', { name, names })]);
      return;
    }
    this.channelId = channel.id;
    this.write([this.words('console.nowIn', { channel: channel.name, about: this.tr.t(channel.about) })]);
  }

  /**
   * Waits for `text` after the last thing typed. A form opening ends the wait too: the lines that
   * follow are meant for it, and it only shows its choices once it runs.
   */
  private async waitFor(text: string): Promise<void> {
    if (text === '') return;
    const wanted = text.toLowerCase();
    const ms = this.options.waitTimeoutMs ?? 30_000;
    const seen = await this.until(
      () =>
        this.heard.slice(this.mark).toLowerCase().includes(wanted) ||
        (this.activeViewId === undefined && this.pendingForms.length > 0),
      ms,
    );
    if (!seen) {
      this.failures++;
      this.write([this.words('console.waitTimeout', { text, seconds: ms / 1000 })]);
      // The warning quotes the text: a later /wait must not take it for the real thing.
      this.mark = this.heard.length;
    }
  }

  private async showLogs(count: number): Promise<void> {
    if (this.options.logFile === undefined) return;
    const text = await readFile(this.options.logFile, 'utf8').catch(() => '');
    const lines = text
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '');
    const n = Number.isInteger(count) && count > 0 ? count : 20;
    this.write([
      this.words('console.lastLogs', { count: Math.min(n, lines.length), file: this.options.logFile }),
      ...lines.slice(-n).map(logLine),
    ]);
  }

  // ---- talking to the bot ----------------------------------------------------------------------

  private payloadUser(userId: string = this.user.id): PayloadUser {
    return { id: userId, name: this.options.workspace.users.find((u) => u.id === userId)?.name ?? userId };
  }

  private newTrigger(userId: string): string {
    const trigger = `${Date.now()}.${randomBytes(4).toString('hex')}`;
    this.triggers.set(trigger, userId);
    return trigger;
  }

  private newResponseUrl(target: ResponseTarget): string {
    const id = randomUUID();
    this.responseTargets.set(id, target);
    return this.options.slack.responseUrl(id);
  }

  private post(body: string): Promise<SignedResponse> {
    return postSigned(this.options.botUrl, this.options.signingSecret, body);
  }

  /** Scripts use /wait instead: a grace period would slow every scripted command. */
  private expectForm(): void {
    if (this.options.terminal) this.formGraceUntil = Date.now() + FORM_GRACE_MS;
  }

  private async slashCommand(text: string): Promise<void> {
    const key = `eph:${randomUUID()}`;
    const target: ResponseTarget = {
      userId: this.user.id,
      channelId: this.channelId,
      messageKey: key,
      ephemeral: true,
    };
    const body = slashCommandBody({
      command: COMMAND,
      text: escapeCommandText(text, this.options.workspace),
      user_id: this.user.id,
      user_name: this.user.name,
      channel_id: this.channelId,
      channel_name: this.channelName(this.channelId),
      response_url: this.newResponseUrl(target),
      trigger_id: this.newTrigger(this.user.id),
    });
    const ack = await this.post(body);
    this.expectForm();
    if (ack.status !== 200) {
      this.write([this.words('console.dispatchFailed', { command: COMMAND, status: String(ack.status) })]);
      return;
    }
    if (ack.body.trim() === '') return;
    let message: z.infer<typeof AckMessageSchema>;
    try {
      message = AckMessageSchema.parse(JSON.parse(ack.body));
    } catch {
      // Slack shows a plain-text ack as an ephemeral message.
      this.showMessage({ ...target, ephemeral: true }, key, { text: ack.body }, false);
      return;
    }
    const inChannel = message.response_type === 'in_channel';
    this.showMessage({ ...target, ephemeral: !inChannel }, key, message, false);
  }

  /** Opens the bot's Home tab as the current user (`app_home_opened`); the bot draws it with views.publish. */
  private async openHome(): Promise<void> {
    const ts = slackTs();
    const body = JSON.stringify(appHomeOpenedEvent(this.user.id, `Ev${randomBytes(6).toString('hex')}`, ts));
    const ack = await postSigned(this.options.botUrl, this.options.signingSecret, body, {
      contentType: 'application/json',
    });
    if (ack.status !== 200)
      this.write([this.words('console.dispatchFailed', { command: '/home', status: String(ack.status) })]);
  }

  private async press(number: number): Promise<void> {
    const entry = this.buttons.get(number);
    const message = entry === undefined ? undefined : this.messages.get(entry.messageKey);
    if (entry === undefined || message === undefined) {
      this.write([this.words('console.noButton', { number: String(number) })]);
      return;
    }
    const { button } = entry;
    const owner = message.userId ?? (message.ephemeral ? undefined : this.dmUser(message.channelId));
    if (owner !== undefined && owner !== this.user.id) {
      // Ephemeral messages and DMs are only on their owner's screen.
      this.write([this.words('console.buttonNotYours', { number: String(number), owner: this.userName(owner) })]);
      return;
    }
    if (button.url !== undefined) this.write([this.words('console.opensUrl', { url: button.url })]);
    if (button.confirm !== undefined) {
      const { title, text, confirm, deny } = button.confirm;
      this.write([`${style('bold', title, this.options.color)}`, ...text.split('\n').map((l) => `  ${l}`)]);
      const answer = await this.ask(this.words('console.confirmPrompt', { confirm }));
      if (!YES.test(answer?.trim() ?? '')) {
        this.write([this.words('console.nothingSent', { button: deny })]);
        return;
      }
    }
    if (message.channelId === HOME) {
      // A Home tab button: no channel and no response_url; the bot answers by drawing the tab again.
      const click = homeButtonClick({
        user: this.payloadUser(),
        viewId: `VHOME${this.user.id}`,
        button: { actionId: button.actionId, blockId: button.blockId, value: button.value, text: button.text },
        triggerId: this.newTrigger(this.user.id),
        actionTs: slackTs(),
      });
      const ack = await this.post(interactivityBody(click));
      this.expectForm();
      if (ack.status !== 200) this.write([this.words('console.clickHttp', { status: String(ack.status) })]);
      return;
    }
    const target: ResponseTarget = {
      userId: this.user.id,
      channelId: message.channelId,
      messageKey: entry.messageKey,
      ephemeral: message.ephemeral,
    };
    const payload = messageButtonClick({
      user: this.payloadUser(),
      channel: { id: message.channelId, name: this.channelName(message.channelId) },
      messageTs: message.ts,
      isEphemeral: message.ephemeral,
      message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
      button: { actionId: button.actionId, blockId: button.blockId, value: button.value, text: button.text },
      responseUrl: this.newResponseUrl(target),
      triggerId: this.newTrigger(this.user.id),
      actionTs: slackTs(),
    });
    const ack = await this.post(interactivityBody(payload));
    this.expectForm();
    if (ack.status !== 200) this.write([this.words('console.clickHttp', { status: String(ack.status) })]);
  }

  // ---- what the bot sends to Slack -------------------------------------------------------------

  private onSlackCall(call: AnsweredCall): void {
    const error = SlackErrorSchema.safeParse(call.answer);
    if (error.success) {
      const refused = this.words('console.slackRefused', { method: call.method, error: error.data.error });
      this.write([style('dim', refused, this.options.color)]);
    } else {
      this.showSlackCall(call);
    }
    for (const watcher of this.watchers) watcher();
  }

  private showSlackCall(call: AnsweredCall): void {
    switch (call.method) {
      case 'chat.postMessage':
      case 'chat.update': {
        const args = MessageArgsSchema.safeParse(call.args);
        const answer = PostAnswerSchema.safeParse(call.answer);
        const ts = call.method === 'chat.update' ? args.data?.ts : answer.data?.ts;
        if (!args.success || args.data.channel === undefined || ts === undefined) return;
        const channelId = args.data.channel;
        const dmUser = this.dmUser(channelId);
        if (call.method === 'chat.postMessage' && dmUser === undefined) {
          const text = typeof args.data.text === 'string' ? args.data.text : '';
          this.lastMessages.set(channelId, { ts, text, userId: this.options.botUserId ?? 'UBOT' });
        }
        const target: ResponseTarget = {
          userId: dmUser ?? '',
          channelId,
          // A DM is one conversation whether the bot names the user or the D… id Slack answered with.
          messageKey: `${dmUser ?? channelId}:${ts}`,
          ephemeral: false,
        };
        this.showMessage(target, target.messageKey, { ...args.data, ts }, call.method === 'chat.update');
        return;
      }
      case 'chat.postEphemeral': {
        const args = MessageArgsSchema.safeParse(call.args);
        const answer = PostAnswerSchema.safeParse(call.answer);
        if (!args.success || args.data.channel === undefined || args.data.user === undefined) return;
        const key = `eph:${answer.data?.message_ts ?? randomUUID()}`;
        const target = { userId: args.data.user, channelId: args.data.channel, messageKey: key, ephemeral: true };
        this.showMessage(target, key, { ...args.data, ts: answer.data?.message_ts }, false);
        return;
      }
      case 'response_url':
        this.onResponseUrl(call.args);
        return;
      case 'views.open':
      case 'views.push':
      case 'views.update':
        this.onView(call);
        return;
      case 'views.publish': {
        const args = HomeArgsSchema.safeParse(call.args);
        if (!args.success) return;
        // Only its owner sees a Home tab: shown like a message for them alone, its buttons theirs.
        const key = `${HOME}:${args.data.user_id}`;
        const target = { userId: args.data.user_id, channelId: HOME, messageKey: key, ephemeral: true };
        this.showMessage(target, key, { text: '', blocks: args.data.view.blocks }, false);
        return;
      }
      default:
        return;
    }
  }

  private onResponseUrl(raw: Record<string, unknown>): void {
    const args = ResponseArgsSchema.safeParse(raw);
    if (!args.success) return;
    const id = args.data.url.split('/').at(-1) ?? '';
    const target = this.responseTargets.get(id);
    if (target === undefined) return;
    if (truthy(args.data.delete_original)) {
      this.dropButtons(target.messageKey);
      const deleted = style('dim', this.words('console.messageDeleted'), this.options.color);
      this.write(this.labelled(this.label(target), [deleted]));
      return;
    }
    const replace = truthy(args.data.replace_original);
    const inChannel = args.data.response_type === 'in_channel';
    const key = replace ? target.messageKey : `eph:${randomUUID()}`;
    const previous = this.messages.get(target.messageKey);
    // A replaced channel message stays a channel message; otherwise the type decides.
    const ephemeral = replace && previous !== undefined ? previous.ephemeral : !inChannel;
    this.showMessage(
      { ...target, ephemeral },
      key,
      args.data,
      replace && previous !== undefined && !previous.ephemeral,
    );
  }

  private showMessage(
    target: ResponseTarget,
    key: string,
    message: { text?: unknown; blocks?: unknown; ts?: string | undefined; thread_ts?: unknown },
    edited: boolean,
  ): void {
    this.dropButtons(key);
    const shown = renderMessage(message, this.render);
    // A reply in a message's thread (an approval card's reminders and decisions) is marked as one.
    const rendered =
      typeof message.thread_ts === 'string' ? { ...shown, lines: shown.lines.map((line) => `↳ ${line}`) } : shown;
    for (const button of rendered.buttons) this.buttons.set(button.number, { button, messageKey: key });
    const before = this.messages.get(key)?.lines;
    this.messages.set(key, {
      channelId: target.channelId,
      ts: message.ts ?? this.messages.get(key)?.ts ?? slackTs(),
      ephemeral: target.ephemeral,
      userId: target.ephemeral ? target.userId : undefined,
      text: message.text,
      blocks: message.blocks,
      lines: rendered.lines,
    });
    const lines = edited ? editedLines(before ?? [], rendered.lines, this.tr) : rendered.lines;
    if (edited && lines.length === 0) return;
    this.write(this.labelled(this.label(target), lines));
  }

  private dropButtons(messageKey: string): void {
    for (const [number, entry] of this.buttons) if (entry.messageKey === messageKey) this.buttons.delete(number);
  }

  private label(target: ResponseTarget): string {
    if (target.channelId === HOME) return this.words('console.home', { name: this.userName(target.userId) });
    if (target.ephemeral) return this.words('console.only', { name: this.userName(target.userId) });
    const dmUser = this.dmUser(target.channelId);
    if (dmUser !== undefined) return this.words('console.dm', { name: this.userName(dmUser) });
    return `#${this.channelName(target.channelId)}`;
  }

  /** Posting to a user id (or the D… id conversations.open gave) lands in the bot's DM with them. */
  private dmUser(channelId: string): string | undefined {
    if (/^[UW][A-Z0-9]+$/.test(channelId)) return channelId;
    if (/^D[UW][A-Z0-9]+$/.test(channelId)) return channelId.slice(1);
    return undefined;
  }

  // ---- modals ----------------------------------------------------------------------------------

  private onView(call: AnsweredCall): void {
    const args = ViewArgsSchema.safeParse(call.args);
    const answer = ViewAnswerSchema.safeParse(call.answer);
    if (!args.success || !answer.success) return;
    const id = answer.data.view.id;
    if (call.method === 'views.update') {
      const known = this.views.get(id);
      if (known === undefined || known.closed) return;
      known.view = args.data.view;
      known.hash = answer.data.view.hash;
      known.version++;
      const form = modalForm(known.view, this.render);
      if (form?.submit === undefined) this.showReadOnly(known);
      // A form being filled picks the change up itself (its version moved).
      else if (this.activeViewId !== id) this.queueForm(known, form);
      return;
    }
    const trigger = args.data.trigger_id;
    const userId = (trigger === undefined ? undefined : this.triggers.get(trigger)) ?? this.user.id;
    const record: ViewRecord = {
      id,
      view: args.data.view,
      hash: answer.data.view.hash,
      userId,
      version: 1,
      shown: 0,
      closed: false,
    };
    this.views.set(id, record);
    const form = modalForm(record.view, this.render);
    if (form?.submit === undefined) this.showReadOnly(record);
    else this.queueForm(record, form);
  }

  /** A form waits for the input loop (its title is shown at once, so scripts can /wait for it). */
  private queueForm(record: ViewRecord, form: ModalForm): void {
    this.write([this.formTitle(form, record.userId)]);
    if (!this.pendingForms.includes(record.id)) this.pendingForms.push(record.id);
    this.poke();
  }

  /** A modal without a submit button only shows something (a listing, progress, an outcome). */
  private showReadOnly(record: ViewRecord): void {
    const form = modalForm(record.view, this.render);
    if (form === undefined || record.shown === record.version) return;
    record.shown = record.version;
    this.write([this.formTitle(form, record.userId, false), ...form.lines.map((l) => `│ ${l}`), '└']);
  }

  private formTitle(form: ModalForm, userId: string, fillable = true): string {
    const whose = this.words(fillable ? 'console.formFor' : 'console.shownTo', { name: this.userName(userId) });
    return `┌ ${style('bold', form.title, this.options.color)} — ${whose}`;
  }

  private async runPendingForm(): Promise<void> {
    const id = this.pendingForms.shift();
    const record = id === undefined ? undefined : this.views.get(id);
    if (record === undefined || record.closed) return;
    this.clearPrompt();
    this.activeViewId = record.id;
    try {
      await this.fillForm(record);
    } finally {
      this.activeViewId = undefined;
    }
  }

  /**
   * Asks each field in turn, as Slack's client would let the user fill it, then submits. The bot may
   * change the form meanwhile (a select with dispatch_action) or answer with errors, a new view or
   * nothing (the modal closes).
   */
  private async fillForm(record: ViewRecord): Promise<void> {
    const values = new Map<string, FieldValue | undefined>();
    let answered = new Set<string>();
    // What to print before asking: the title was printed when the form opened.
    let fresh: 'lines' | 'all' | 'none' = 'lines';
    let current: ViewRecord = record;
    for (;;) {
      const form = modalForm(current.view, this.render);
      if (form === undefined) return;
      if (form.submit === undefined) return this.showReadOnly(current);
      if (fresh !== 'none') {
        const lines = form.lines.map((l) => `│ ${l}`);
        this.write(fresh === 'all' ? [this.formTitle(form, current.userId), ...lines] : lines);
        if (form.unsupported.length > 0) {
          this.write([`│ ${this.words('console.notFillable', { labels: form.unsupported.join(', ') })}`]);
        }
        fresh = 'none';
      }
      const field = form.fields.find((f) => !answered.has(fieldKey(f)));
      if (field !== undefined) {
        const before = current.version;
        const value = await this.askField(field, values, form, current);
        if (value === 'cancel')
          return this.closeForm(current, this.words('console.formClosed', { button: form.close }));
        const previous = values.has(fieldKey(field)) ? values.get(fieldKey(field)) : field.initial;
        values.set(fieldKey(field), value);
        answered.add(fieldKey(field));
        if (field.dispatchAction && value?.kind === 'option' && describeValue(previous) !== describeValue(value)) {
          await this.dispatchSelect(current, form, field, value.option, values);
          const changing = current;
          await this.until(() => changing.version > before, VIEW_UPDATE_WAIT_MS);
        }
        continue;
      }
      const confirm = await this.formLine(
        `└ ${this.words('console.submitPrompt', { submit: form.submit })}`,
        /^(y|yes|o|oui|n|no|non)?$/i,
      );
      if (confirm === undefined || /^n/i.test(confirm.trim()))
        return this.closeForm(current, this.words('console.nothingSent', { button: form.close }));
      const outcome = await this.submit(current, form, values);
      if (outcome.kind === 'closed') return;
      if (outcome.kind === 'errors') {
        answered = new Set([...answered].filter((key) => !outcome.keys.includes(key)));
        continue;
      }
      current = outcome.view;
      this.activeViewId = current.id;
      answered = new Set();
      fresh = 'all';
    }
  }

  private closeForm(record: ViewRecord, message: string): void {
    record.closed = true;
    this.write([`└ ${message}`]);
  }

  private viewInput(
    record: ViewRecord,
    form: ModalForm,
    values: ReadonlyMap<string, FieldValue | undefined>,
  ): ViewPayloadInput {
    const view = z
      .looseObject({ title: z.object({}).loose().optional(), blocks: z.array(z.unknown()).optional() })
      .safeParse(record.view);
    return {
      id: record.id,
      callback_id: form.callbackId,
      private_metadata: form.privateMetadata,
      ...(view.success && view.data.title !== undefined && { title: view.data.title }),
      ...(view.success && view.data.blocks !== undefined && { blocks: view.data.blocks }),
      state: viewState(form.fields, values),
      ...(record.hash !== undefined && { hash: record.hash }),
    };
  }

  private async askField(
    field: FormField,
    values: Map<string, FieldValue | undefined>,
    form: ModalForm,
    record: ViewRecord,
  ): Promise<FieldValue | undefined | 'cancel'> {
    const current = values.has(fieldKey(field)) ? values.get(fieldKey(field)) : field.initial;
    const shown = describeValue(current, this.tr);
    const prompt = `│ ${this.words('console.fieldPrompt', {
      label: field.label,
      optional: field.optional ? 'yes' : 'no',
      current: shown === '' ? '' : ` [${shown}]`,
    })}`;
    const note = (key: MessageKey) => `│   ${style('dim', this.words(key), this.options.color)}`;
    const notes: string[] = [];
    if (field.hint !== undefined) notes.push(`│   ${style('dim', field.hint, this.options.color)}`);
    if (field.kind === 'datepicker') notes.push(note('console.noteDate'));
    if (field.kind === 'checkboxes') notes.push(note('console.noteCheckboxes'));
    let choices: FormOption[] = field.options;
    if (field.kind === 'external_select') {
      choices = await this.loadOptions(record, form, field, '', values);
      notes.push(note('console.noteExternal'));
    }
    this.write(notes);
    if (field.kind !== 'text' && field.kind !== 'datepicker') this.showChoices(field, choices, current);
    for (;;) {
      const line = await this.formLine(prompt);
      if (line === undefined) return 'cancel';
      const typed = line.trim();
      if (field.kind === 'external_select' && typed !== '' && typed !== CLEAR && !/^\d+$/.test(typed)) {
        choices = await this.loadOptions(record, form, field, typed, values);
        this.showChoices(field, choices, current);
        continue;
      }
      const answer = parseAnswer(field, current, line, choices, this.tr);
      if (!answer.ok) {
        this.write([`│   ✗ ${answer.error}`]);
        continue;
      }
      return answer.keep ? current : answer.value;
    }
  }

  private showChoices(field: FormField, choices: readonly FormOption[], current: FieldValue | undefined): void {
    if (choices.length === 0) {
      const external = field.kind === 'external_select' ? 'yes' : 'no';
      this.write([`│   ${this.words('console.noOptions', { external })}`]);
      return;
    }
    const selected =
      field.kind !== 'checkboxes' ? undefined : current?.kind === 'options' ? current.options.map((o) => o.value) : [];
    this.write(choiceLines(choices, selected).map((l) => `│${l}`));
  }

  /** Slack asks the app for an external select's options (block_suggestion) as the user types. */
  private async loadOptions(
    record: ViewRecord,
    form: ModalForm,
    field: FormField,
    query: string,
    values: ReadonlyMap<string, FieldValue | undefined>,
  ): Promise<FormOption[]> {
    const payload = blockSuggestionPayload(
      this.payloadUser(record.userId),
      this.viewInput(record, form, values),
      { actionId: field.actionId, blockId: field.blockId },
      query,
    );
    const res = await this.post(interactivityBody(payload));
    if (res.status !== 200) {
      this.write([`│   ${this.words('console.optionsFailed', { status: String(res.status) })}`]);
      return [];
    }
    const parsed = OptionsAnswerSchema.safeParse(safeJson(res.body));
    if (!parsed.success) return [];
    return [...(parsed.data.options ?? []), ...(parsed.data.option_groups ?? []).flatMap((g) => g.options)].map(
      (o) => ({ text: o.text.text, value: o.value }),
    );
  }

  private async dispatchSelect(
    record: ViewRecord,
    form: ModalForm,
    field: FormField,
    option: FormOption,
    values: ReadonlyMap<string, FieldValue | undefined>,
  ): Promise<void> {
    const payload = viewSelectAction(
      this.payloadUser(record.userId),
      this.viewInput(record, form, values),
      { type: field.kind, actionId: field.actionId, blockId: field.blockId, selected: option },
      this.newTrigger(record.userId),
      slackTs(),
    );
    const res = await this.post(interactivityBody(payload));
    if (res.status !== 200) this.write([`│   ${this.words('console.botAnswered', { status: String(res.status) })}`]);
  }

  private async submit(
    record: ViewRecord,
    form: ModalForm,
    values: ReadonlyMap<string, FieldValue | undefined>,
  ): Promise<{ kind: 'closed' } | { kind: 'errors'; keys: string[] } | { kind: 'view'; view: ViewRecord }> {
    const before = record.version;
    const payload = viewSubmissionPayload(
      this.payloadUser(record.userId),
      this.viewInput(record, form, values),
      this.newTrigger(record.userId),
    );
    const res = await this.post(interactivityBody(payload));
    if (res.status !== 200) {
      this.write([`│ ${this.words('console.troubleConnecting', { status: String(res.status) })}`]);
      return { kind: 'errors', keys: [] };
    }
    const answer = res.body.trim() === '' ? undefined : SubmissionAnswerSchema.safeParse(safeJson(res.body));
    if (answer === undefined || !answer.success || answer.data.response_action === 'clear') {
      record.closed = true;
      this.write([this.words('console.sentClosed')]);
      return { kind: 'closed' };
    }
    const data = answer.data;
    if (data.response_action === 'errors') {
      const errors = formErrors(form.fields, data.errors);
      this.write(
        errors.map((e) => `│   ✗ ${this.words('console.fieldError', { label: e.label, message: e.message })}`),
      );
      return { kind: 'errors', keys: errors.flatMap((e) => (e.field === undefined ? [] : [fieldKey(e.field)])) };
    }
    if (data.response_action === 'push') {
      const pushed: ViewRecord = {
        id: `VP${randomBytes(3).toString('hex').toUpperCase()}`,
        view: data.view,
        hash: undefined,
        userId: record.userId,
        version: 1,
        shown: 0,
        closed: false,
      };
      this.views.set(pushed.id, pushed);
      return { kind: 'view', view: pushed };
    }
    // A views.update may already have replaced the view while this answer travelled: newest wins.
    if (record.version === before) {
      record.view = data.view;
      record.version++;
    }
    return { kind: 'view', view: record };
  }

  /** A catalog message in the current person's language, as the terminal shows it. */
  private words(key: MessageKey, values?: MessageValues): string {
    return this.tr.plain(this.tr.t(key, values));
  }

  // ---- names -----------------------------------------------------------------------------------

  private findUser(name: string): SandboxUser | undefined {
    const wanted = name.trim().replace(/^@/, '').toLowerCase();
    return this.options.workspace.users.find((u) => u.name === wanted || u.id.toLowerCase() === wanted);
  }

  private firstUser(): SandboxUser {
    const user = this.options.workspace.users[0];
    if (user === undefined) throw new Error('the sandbox workspace has no users');
    return user;
  }

  private findChannel(name: string) {
    const wanted = name.trim().replace(/^#/, '').toLowerCase();
    return this.options.workspace.channels.find((c) => c.name === wanted || c.id.toLowerCase() === wanted);
  }

  private userName(id: string): string {
    return this.options.workspace.users.find((u) => u.id === id)?.name ?? id;
  }

  private channelName(id: string): string {
    return this.options.workspace.channels.find((c) => c.id === id)?.name ?? id;
  }
}

/** Yes in the console's prompts, in English or French (`[y/N]`, `[o/N]`). */
const YES = /^(y|yes|o|oui)$/i;

/** The person's reader, as the bot sees them (their Slack locale and zone). */
function readerOf(user: SandboxUser): Translator {
  return translator({
    lang: langOfLocale(user.locale, 'en'),
    ...(user.tz !== undefined && { tz: user.tz }),
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A Slack-style timestamp (`seconds.micros`) for action_ts and message ts. */
function slackTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

const LogLineSchema = z.looseObject({
  time: z.number().optional(),
  level: z.number().optional(),
  msg: z.string().optional(),
  component: z.string().optional(),
});
const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** A pino JSON line, shortened for reading in the console. */
function logLine(line: string): string {
  const parsed = LogLineSchema.safeParse(safeJson(line));
  if (!parsed.success) return `  ${line}`;
  const { time, level, msg, component } = parsed.data;
  const when = time === undefined ? '' : new Date(time).toISOString().slice(11, 19);
  return `  ${when} ${(LEVELS[level ?? 30] ?? '').padEnd(5)} ${component === undefined ? '' : `[${component}] `}${msg ?? ''}`;
}
