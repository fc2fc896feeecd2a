import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ChangeDraft } from '../../core/desk.js';
import type { ActionGate } from '../../core/gate.js';
import type { SlackMessage } from '../blocks/limits.js';
import type { ReaderDirectory } from '../i18n/readers.js';
import { type Translator, translator } from '../i18n/translate.js';
import { SlashCommandSchema } from '../payloads.js';
import type { AnsweredFirst } from '../request-guard.js';
import { type ParsedCommand, parseCommand } from './parse.js';
import { draftOf, problemLikeMessage, workingMessage } from './run-command.js';

/** The slash command the bot serves. */
export const NASHA_COMMAND = '/nasha';

type SlashCommand = z.infer<typeof SlashCommandSchema>;

/** What deciding a start reads: the person's language, and which changes need a second person. */
export interface CommandStartDeps {
  logger: Pick<Logger, 'warn'>;
  readers: Pick<ReaderDirectory, 'person' | 'defaultLang'>;
  gate: Pick<ActionGate, 'approvalRule'>;
}

/** What Slack gets in a command's HTTP response (or its Socket Mode ack): shown only to the sender. */
export type CommandAck = ({ response_type: 'ephemeral' } & (SlackMessage | { text: string })) | undefined;

interface ReadCommand {
  readonly command: SlashCommand;
  readonly tr: Translator;
}

/**
 * How a `/nasha` command starts: what its ack says and what its listener does next, decided once, before
 * anything runs. The edge answers with `ack` before Bolt routes the command (src/slack/request-guard.ts); the
 * listener then does `next`, so what the person is told first is always what the bot goes on to do.
 */
export type CommandStart =
  /** A payload the bot cannot read: the ack says so, and nothing runs. */
  | { readonly next: 'nothing'; readonly ack: CommandAck }
  /** Words the bot does not understand: the ack is the whole answer (what was wrong, what was meant). */
  | (ReadCommand & { readonly next: 'answered'; readonly ack: CommandAck; readonly parsed: ParsedCommand })
  /** `/nasha` alone: an empty ack, then the main form. */
  | (ReadCommand & { readonly next: 'form'; readonly ack: undefined; readonly parsed: ParsedCommand })
  /** A change a second person must approve, typed without a reason: an empty ack, then a form asking why. */
  | (ReadCommand & {
      readonly next: 'reason';
      readonly ack: undefined;
      readonly parsed: ParsedCommand;
      readonly draft: ChangeDraft;
    })
  /** Everything else: acked "working on …", then run, its answer replacing the ack. */
  | (ReadCommand & { readonly next: 'run'; readonly ack: CommandAck; readonly parsed: ParsedCommand });

/** Words for a `text`-only answer (Slack parses it as mrkdwn). */
export function textAnswer(
  tr: Translator,
  words: Parameters<Translator['t']>[0],
  values?: Parameters<Translator['t']>[1],
): NonNullable<CommandAck> {
  return { response_type: 'ephemeral', text: tr.fallback(tr.t(words, values)) };
}

/**
 * Reads a `/nasha` payload: the person's language (cached, bounded, so the ack stays within Slack's 3 s), the
 * command's words, and whether a change needs a reason first. Runs nothing and never rejects.
 */
export async function startCommand(deps: CommandStartDeps, body: unknown): Promise<CommandStart> {
  const payload = SlashCommandSchema.safeParse(body);
  if (!payload.success) {
    deps.logger.warn({ issues: payload.error.issues.map((i) => i.path.join('.')) }, 'malformed slash command payload');
    return { next: 'nothing', ack: textAnswer(translator({ lang: deps.readers.defaultLang }), 'command.malformed') };
  }
  const command = payload.data;
  const tr = translator(await deps.readers.person(command.user_id));
  const parsed = parseCommand(command.text, tr);
  if (parsed.kind === 'error') {
    return {
      next: 'answered',
      command,
      tr,
      parsed,
      ack: { response_type: 'ephemeral', ...problemLikeMessage(parsed.message, tr) },
    };
  }
  if (parsed.kind === 'modal') return { next: 'form', command, tr, parsed, ack: undefined };
  const change = draftOf(parsed);
  if (
    change !== undefined &&
    change.reason === undefined &&
    !change.breakGlass &&
    deps.gate.approvalRule(change.draft.action) !== undefined
  ) {
    return { next: 'reason', command, tr, parsed, draft: change.draft, ack: undefined };
  }
  return { next: 'run', command, tr, parsed, ack: { response_type: 'ephemeral', ...workingMessage(parsed, tr) } };
}

/** A start decided at the edge, as it reaches the listener in Bolt's context. */
class StartedAtEdge {
  constructor(readonly start: CommandStart) {}
}

/** The context key the edge's decision travels under (Bolt's `customProperties`). */
const CONTEXT_KEY = 'nashaCommandStart';

/** The start the edge decided for this delivery, if it did. */
export function startedAtEdge(context: Readonly<Record<string, unknown>>): CommandStart | undefined {
  const found = context[CONTEXT_KEY];
  return found instanceof StartedAtEdge ? found.start : undefined;
}

/**
 * For the request guard: a `/nasha` command's ack, and its start for the listener. Other payloads (other
 * commands among them) are not answered here.
 */
export function answerCommandFirst(deps: CommandStartDeps): (body: unknown) => Promise<AnsweredFirst | undefined> {
  return async (body) => {
    if (typeof body !== 'object' || body === null || (body as { command?: unknown }).command !== NASHA_COMMAND) {
      return undefined;
    }
    const start = await startCommand(deps, body);
    return { ack: start.ack, context: { [CONTEXT_KEY]: new StartedAtEdge(start) } };
  };
}
