import {
  ACTIONS,
  type ActionId,
  CAN_I_WORDS,
  COMMAND_WORDS,
  type CommandEntry,
  type CommandOption,
  type CommandSpec,
  commandFor,
  commandsWith,
} from '../../core/actions.js';
import type { Target } from '../../core/model.js';
import type { PartitionTarget } from '../../core/snapshot-service.js';
import { suggest } from '../../core/suggest.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { DURATION_UNITS } from '../../shared/duration.js';
import { excerpt } from '../../shared/excerpt.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { code, type Text, text, verbatim } from '../text.js';

/** `/nasha …` text, parsed. Pure: no I/O, so every branch is unit-tested. The grammar is the action table's. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'services' }
  | { kind: 'approvals' }
  | { kind: 'partitions'; service: string }
  | { kind: 'list'; target: Target }
  | {
      kind: 'schedule';
      op: 'add' | 'remove' | 'show';
      target: PartitionTarget;
      type: SnapshotType;
      reason: string | undefined;
      breakGlass?: true;
    }
  | {
      kind: 'create';
      target: PartitionTarget;
      name: string | undefined;
      expires: string | undefined;
      reason: string | undefined;
      breakGlass?: true;
    }
  | { kind: 'show'; target: PartitionTarget; name: string }
  | { kind: 'delete'; target: PartitionTarget; name: string; reason: string | undefined; breakGlass?: true }
  | { kind: 'can-i'; action: ActionId; target: Target; userId: string | undefined }
  | { kind: 'quick'; spec: string; label: string | undefined; expires: string | undefined; reason: string | undefined }
  /** `status [<service>[/<partition>]|<policy>]`: the query as typed (core resolves it). */
  | { kind: 'status'; query: string | undefined }
  /** `restore <service>/<partition> --at <time>`: the moment as typed (core reads it against its clock). */
  | { kind: 'restore'; target: PartitionTarget; at: string | undefined }
  | { kind: 'error'; message: Text };

/** Words that are not actions: help, and the permission check. */
const META_WORDS = ['help', 'can-i'] as const;
export const SUBCOMMANDS: readonly string[] = [...META_WORDS, ...COMMAND_WORDS];

const MAX_TEXT = 2_000;
const EXAMPLE_TARGETS = { service: 'zpool-128310', partition: 'zpool-128310/data' };

/** Placeholder words of usage lines (`<service>`, `<name>`…), in the reader's language. */
const PLACEHOLDERS: Readonly<Record<string, MessageKey>> = {
  service: 'usage.service',
  partition: 'usage.partition',
  name: 'usage.name',
  type: 'usage.type',
  label: 'usage.label',
  group: 'usage.group',
  why: 'usage.why',
  action: 'usage.action',
};

/** `<service>`, `[<name>]`: the words inside `<…>` in the reader's language (the command words never change). */
function placeholders(usage: string, tr: Translator): string {
  return usage.replace(/<([a-z]+)>/g, (whole, word: string) => {
    const key = PLACEHOLDERS[word];
    return key === undefined ? whole : `<${tr.plain(tr.t(key))}>`;
  });
}

/** `/nasha can-i <action> <service>[/<partition>] [@user]` in the reader's words. */
export function canIUsage(tr: Translator = ENGLISH_TRANSLATOR): string {
  return `${placeholders('/nasha can-i <action> <service>[/<partition>]', tr)} [@${tr.plain(tr.t('usage.user'))}]`;
}

/** `create <service>/<partition> [<name>] [--expires <7d|12h|ISO date>] [--reason <why>]`, from the table. */
export function usageOf(
  spec: CommandSpec,
  tr: Translator = ENGLISH_TRANSLATOR,
  /** Show `[--break-glass]` (help does, for members of the rule's break-glass group). */
  show: { breakGlass?: boolean } = {},
): string {
  const target: Record<CommandSpec['target'], string> = {
    none: '',
    service: '<service>',
    'service-or-partition': '<service>[/<partition>]',
    partition: '<service>/<partition>',
    snapshot: '<service>/<partition>/<name>',
    'quick-target': '<service>[/<partition>]|<group>',
    'status-target': '[<service>[/<partition>]|<policy>]',
  };
  const expires = tr.plain(tr.t('parse.expiresHint', { isoDate: tr.t('usage.isoDate') }));
  const options: Record<CommandOption, string> = {
    expires: `[--expires <${expires}>]`,
    reason: '[--reason <why>]',
    at: `--at <${tr.plain(tr.t('usage.atMoment'))}>`,
    break_glass: '[--break-glass]',
  };
  const shown = spec.options.filter((o) => o !== 'break_glass' || show.breakGlass === true);
  return placeholders(
    [...spec.words, target[spec.target], ...spec.args, ...shown.map((o) => options[o])]
      .filter((part) => part !== '')
      .join(' '),
    tr,
  );
}

/** The table's example with a target filled in (`{service}`, `{partition}`). */
export function exampleOf(
  spec: CommandSpec,
  targets: { service: string; partition: string } = EXAMPLE_TARGETS,
): string {
  return spec.example.replaceAll('{partition}', targets.partition).replaceAll('{service}', targets.service);
}

export function parseCommand(rawText: string, tr: Translator = ENGLISH_TRANSLATOR): ParsedCommand {
  if (rawText.length > MAX_TEXT) return error(tr.t('parse.tooLong', { count: rawText.length }));
  // `--break-glass` anywhere (also after `--reason …`): run at once, without waiting for approval.
  const glassFlag = /(^|\s)--break-glass(?=\s|$)/g;
  const breakGlass = glassFlag.test(rawText);
  const parsed = parseWords(breakGlass ? rawText.replace(glassFlag, ' ') : rawText, tr);
  if (!breakGlass) return parsed;
  if (parsed.kind === 'delete' || parsed.kind === 'create' || (parsed.kind === 'schedule' && parsed.op !== 'show')) {
    return { ...parsed, breakGlass: true };
  }
  if (parsed.kind === 'error') return parsed;
  const takers = commandsWith('break_glass').map((c) => code(c.command.words.join(' ')));
  return error(tr.t('parse.breakGlassMisplaced', { commands: tr.list(takers, 'and') }));
}

function parseWords(rawText: string, tr: Translator): ParsedCommand {
  // `--reason` takes the rest of the line (approvals), quotes optional.
  const reasonAt = rawText.search(/(^|\s)--reason(\s|=|$)/);
  const reasonText =
    reasonAt < 0
      ? undefined
      : rawText
          .slice(reasonAt)
          .replace(/^\s*--reason=?\s*/, '')
          .trim()
          .replace(/^["“'](.*)["”']$/s, '$1');
  const words = (reasonAt < 0 ? rawText : rawText.slice(0, reasonAt))
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words[0]?.toLowerCase() === 'snapshot' || words[0]?.toLowerCase() === 'snapshots') words.shift();
  const [first, ...rest] = words;
  if (first === undefined) return reasonText === undefined ? { kind: 'modal' } : reasonMisplaced(tr);
  const sub = first.toLowerCase();
  const entry = sub === 'schedule' ? commandFor(['schedule', (rest[0] ?? '').toLowerCase()]) : commandFor([sub]);
  if (reasonText !== undefined && entry?.command.options.includes('reason') !== true) return reasonMisplaced(tr);
  switch (sub) {
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'can-i':
    case 'cani':
      return parseCanI(rest, tr);
    case 'services':
      return rest.length === 0 ? { kind: 'services' } : error(tr.t('parse.noArguments', { command: code('services') }));
    case 'approvals':
      return rest.length === 0
        ? { kind: 'approvals' }
        : error(tr.t('parse.noArguments', { command: code('approvals') }));
    case 'partitions': {
      const service = rest[0];
      if (service === undefined || rest.length > 1 || service.includes('/')) return usage(entry, tr);
      return { kind: 'partitions', service };
    }
    case 'list': {
      const target = parseTarget(rest, { allowServiceOnly: true }, tr);
      if (!('target' in target)) return usage(entry, tr, target);
      if (target.extra.length > 0) return unexpected(target.extra, 'target', tr);
      return { kind: 'list', target: target.target };
    }
    case 'schedule':
      return parseSchedule(rest, { entry, reason: reasonText, tr });
    case 'create':
      return parseCreate(rest, { entry, reason: reasonText, tr });
    case 'show':
    case 'delete': {
      const target = parseTarget(rest, { allowServiceOnly: false, wantName: true }, tr);
      if (!('target' in target) || target.name === undefined || target.extra.length > 0) {
        return usage(entry, tr, 'target' in target ? undefined : target);
      }
      const partition = target.target as PartitionTarget;
      return sub === 'show'
        ? { kind: 'show', target: partition, name: target.name }
        : { kind: 'delete', target: partition, name: target.name, reason: reasonText };
    }
    case 'quick':
      return parseQuick(rest, { entry, reason: reasonText, tr });
    case 'status':
      if (rest.length > 2 || (rest.length === 2 && (rest[0] ?? '').includes('/'))) return usage(entry, tr);
      return { kind: 'status', query: rest.length === 0 ? undefined : rest.join('/') };
    case 'restore':
      return parseRestore(rest, entry, tr);
    default: {
      const close = suggest(sub, SUBCOMMANDS, 2);
      return error(
        tr.t('parse.unknownCommand', { command: verbatim(excerpt(first, 40)), suggestions: tr.didYouMean(close) }),
      );
    }
  }
}

/** What the words after a command's name are parsed with: its table row, its `--reason`, the reader. */
interface CommandContext {
  entry: CommandEntry | undefined;
  reason: string | undefined;
  tr: Translator;
}

function parseSchedule(words: string[], { entry, reason, tr }: CommandContext): ParsedCommand {
  const [op, ...rest] = words;
  const lower = op?.toLowerCase();
  if (entry === undefined || (lower !== 'add' && lower !== 'remove' && lower !== 'show')) {
    const ops = ['add', 'remove', 'show'].filter((o) => commandFor(['schedule', o]) !== undefined);
    return error(
      tr.t('parse.usage', {
        lead: text(),
        usage: code(placeholders(`/nasha snapshot schedule ${ops.join('|')} <service>/<partition> <type>`, tr)),
        example: code('/nasha snapshot schedule add zpool-128310/data day-7'),
      }),
    );
  }
  const target = parseTarget(rest, { allowServiceOnly: false }, tr);
  if (!('target' in target)) return usage(entry, tr, target);
  const [typeWord, ...extra] = target.extra;
  if (typeWord === undefined) {
    return error(tr.t('parse.whichFrequency', { types: tr.list(SNAPSHOT_TYPES.map(code), 'or') }));
  }
  if (extra.length > 0) return unexpected(extra, 'frequency', tr);
  const type = parseSnapshotType(typeWord, tr);
  if (typeof type !== 'string') return type;
  return { kind: 'schedule', op: lower, target: target.target as PartitionTarget, type, reason };
}

export function parseSnapshotType(
  word: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): SnapshotType | Extract<ParsedCommand, { kind: 'error' }> {
  const lower = word.toLowerCase();
  if ((SNAPSHOT_TYPES as readonly string[]).includes(lower)) return lower as SnapshotType;
  const close = suggest(lower, SNAPSHOT_TYPES, 2);
  return error(
    tr.t('parse.notFrequency', {
      word: verbatim(excerpt(word, 40)),
      suggestions: tr.didYouMean(close),
      types: tr.list(SNAPSHOT_TYPES.map(code), 'and'),
    }),
  );
}

/** Splits `--expires <v>` / `--expires=<v>` out of the words; any other `--option` is an error. */
function takeExpires(
  words: readonly string[],
  entry: CommandEntry | undefined,
  tr: Translator,
): { expires: string | undefined; positional: string[] } | Extract<ParsedCommand, { kind: 'error' }> {
  let expires: string | undefined;
  const positional: string[] = [];
  const known = tr.list(
    (entry?.command.options ?? []).map((o) => code(`--${o}`)),
    'and',
  );
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '--expires' || word === '--expire' || word === '-e') {
      const value = words[i + 1];
      if (value === undefined) {
        return error(tr.t('parse.expiresValue'));
      }
      expires = value;
      i++;
      // `--expires 12 h`: a bare number followed by a unit word is one duration, as in the config.
      const unit = words[i + 1];
      if (/^\d+$/.test(value) && unit !== undefined && DURATION_UNITS[unit.toLowerCase()] !== undefined) {
        expires = `${value}${unit}`;
        i++;
      }
    } else if (word.startsWith('--expires=')) {
      expires = word.slice('--expires='.length);
    } else if (word.startsWith('--')) {
      return error(tr.t('parse.unknownOption', { option: verbatim(excerpt(word, 40)), options: known }));
    } else {
      positional.push(word);
    }
  }
  return { expires, positional };
}

function parseCreate(words: string[], { entry, reason, tr }: CommandContext): ParsedCommand {
  const options = takeExpires(words, entry, tr);
  if ('kind' in options) return options;
  const { expires, positional } = options;
  const target = parseTarget(positional, { allowServiceOnly: false, wantName: true }, tr);
  if (!('target' in target)) return usage(entry, tr, target);
  if (target.extra.length > 0) return unexpected(target.extra, 'name', tr);
  return { kind: 'create', target: target.target as PartitionTarget, name: target.name, expires, reason };
}

function parseQuick(words: string[], { entry, reason, tr }: CommandContext): ParsedCommand {
  const options = takeExpires(words, entry, tr);
  if ('kind' in options) return options;
  const { expires, positional } = options;
  const [spec, label, ...extra] = positional;
  if (spec === undefined) return usage(entry, tr);
  if (extra.length > 0) return error(tr.t('parse.labelOneWord', { words: verbatim(extra.join(' ')) }));
  return { kind: 'quick', spec, label, expires, reason };
}

const TIME_OF_DAY = /^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(z|[+-]\d{2}(:?\d{2})?)?$/i;

/** `restore <target> --at <moment>`: `--at 2026-11-27 14:00Z` (date and time as two words) and `--at 3h ago` too. */
function parseRestore(words: string[], entry: CommandEntry | undefined, tr: Translator): ParsedCommand {
  let at: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '--at' || word.startsWith('--at=')) {
      let value = word === '--at' ? words[++i] : word.slice('--at='.length);
      if (value === undefined || value === '') {
        return error(
          tr.t('parse.atNeedsMoment', {
            at: code('--at'),
            iso: code('2026-11-27T14:00Z'),
            date: code('2026-11-27'),
            ago: code('3h'),
          }),
        );
      }
      const next = words[i + 1];
      if (/^\d{4}-\d{2}-\d{2}$/.test(value) && next !== undefined && TIME_OF_DAY.test(next)) {
        value = `${value}T${next}`;
        i++;
      } else if (next?.toLowerCase() === 'ago') i++;
      at = value;
    } else if (word.startsWith('--')) {
      return error(tr.t('parse.unknownOption', { option: verbatim(excerpt(word, 40)), options: code('--at') }));
    } else positional.push(word);
  }
  const target = parseTarget(positional, { allowServiceOnly: false }, tr);
  if (!('target' in target)) return usage(entry, tr, target);
  if (target.extra.length > 0) return unexpected(target.extra, 'target', tr);
  return { kind: 'restore', target: target.target as PartitionTarget, at };
}

/**
 * The action `can-i` asks about, from its word (`delete`, `schedule-add`) or from the command as it is typed
 * (`snapshot delete`, `schedule add`, `partitions`): a person checks the command they are about to send.
 */
function canIAction(words: readonly string[]): { action: ActionId; rest: string[] } | undefined {
  const [first = '', second, ...others] = words;
  if (second !== undefined) {
    const pair = [first.toLowerCase(), second.toLowerCase()];
    const action = CAN_I_WORDS.get(pair.join('-')) ?? commandFor(pair)?.action.id;
    if (action !== undefined) return { action, rest: others };
  }
  const action = CAN_I_WORDS.get(first.toLowerCase()) ?? commandFor([first.toLowerCase()])?.action.id;
  return action === undefined ? undefined : { action, rest: second === undefined ? others : [second, ...others] };
}

function parseCanI(words: string[], tr: Translator): ParsedCommand {
  const actionWords = words[0]?.toLowerCase() === 'snapshot' ? words.slice(1) : words;
  const actionWord = actionWords[0];
  const usageError = () =>
    error(
      tr.t('parse.usage', {
        lead: text(),
        usage: code(canIUsage(tr)),
        example: code('/nasha can-i delete zpool-128310/data'),
      }),
    );
  if (actionWord === undefined) return usageError();
  const asked = canIAction(actionWords);
  if (asked === undefined) {
    const close = suggest(actionWord.toLowerCase(), CAN_I_WORDS.keys(), 2);
    return error(
      tr.t('parse.notAction', {
        word: verbatim(excerpt(actionWord, 40)),
        suggestions: tr.didYouMean(close),
        actions: tr.list([...CAN_I_WORDS.keys()].map(code), 'and'),
      }),
    );
  }
  const { action, rest } = asked;
  let userId: string | undefined;
  const targetWords: string[] = [];
  for (const word of rest) {
    const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(word) ?? /^([UW][A-Z0-9]{6,})$/.exec(word);
    if (mention) userId = mention[1];
    else if (word.startsWith('@')) return error(tr.t('parse.mentionUser', { word: verbatim(excerpt(word, 40)) }));
    else targetWords.push(word);
  }
  // The rest of the command as it would be sent (a snapshot's name, a frequency) is accepted and not needed:
  // what a person may do is decided per partition, whichever snapshot or frequency it is.
  const commands = ACTIONS[action].commands;
  const wantName = commands.some((c) => c.target === 'snapshot' || c.args.includes('[<name>]'));
  const takesType = commands.some((c) => c.args.includes('<type>'));
  const target = parseTarget(targetWords, { allowServiceOnly: true, wantName }, tr);
  if (!('target' in target)) return usageError();
  const extra = [...target.extra];
  if (takesType && (SNAPSHOT_TYPES as readonly string[]).includes(extra[0]?.toLowerCase() ?? '')) extra.shift();
  if (extra.length > 0) return unexpected(extra, 'none', tr);
  return { kind: 'can-i', action, target: target.target, userId };
}

interface ParsedTarget {
  target: Target;
  name: string | undefined;
  extra: string[];
}

/** Why the words do not form a target. */
type TargetProblem = { problem: Text };

/**
 * `svc/part`, `svc part`, and with a name `svc/part/name`, `svc/part name` or `svc part name`.
 */
function parseTarget(
  words: readonly string[],
  options: { allowServiceOnly: boolean; wantName?: boolean },
  tr: Translator,
): ParsedTarget | TargetProblem {
  const [first, ...rest] = words;
  if (first === undefined) return { problem: tr.t('parse.targetMissing') };
  const parts = first.split('/');
  const shown = verbatim(excerpt(first, 80));
  if (parts.some((p) => p === '')) return { problem: tr.t('parse.notTarget', { words: shown }) };
  const remaining = [...rest];
  const service = parts[0] ?? '';
  let partition = parts[1];
  let name = parts[2];
  if (parts.length > 3) return { problem: tr.t('parse.tooManySlashes', { words: shown }) };
  if (partition === undefined && remaining.length > 0 && !remaining[0]?.startsWith('-')) {
    const next = remaining[0] ?? '';
    // `svc part` as two words, unless the second word is a frequency (schedule … svc type is an error below).
    if (!(SNAPSHOT_TYPES as readonly string[]).includes(next.toLowerCase())) {
      partition = remaining.shift();
    }
  }
  if (partition === undefined) {
    return options.allowServiceOnly
      ? { target: { service }, name: undefined, extra: remaining }
      : { problem: tr.t('parse.partitionMissing') };
  }
  if (options.wantName && name === undefined && remaining.length > 0) name = remaining.shift();
  if (!options.wantName && name !== undefined) return { problem: tr.t('parse.tooManySlashes', { words: shown }) };
  return { target: { service, partition }, name, extra: remaining };
}

function usage(entry: CommandEntry | undefined, tr: Translator, problem?: TargetProblem): ParsedCommand {
  const lead = problem === undefined ? text() : text(problem.problem, ' ');
  if (entry === undefined) return error(tr.t('parse.tryHelp', { lead }));
  return error(
    tr.t('parse.usage', {
      lead,
      usage: code(`/nasha snapshot ${usageOf(entry.command, tr)}`),
      example: code(`/nasha snapshot ${exampleOf(entry.command)}`),
    }),
  );
}

function unexpected(
  words: readonly string[],
  where: 'target' | 'frequency' | 'name' | 'none',
  tr: Translator,
): ParsedCommand {
  return error(tr.t('parse.unexpected', { words: verbatim(words.join(' ')), where }));
}

function reasonMisplaced(tr: Translator): ParsedCommand {
  const takers = commandsWith('reason').map((c) => code(c.command.words.join(' ')));
  return error(tr.t('parse.reasonMisplaced', { commands: tr.list(takers, 'and') }));
}

function error(message: Text): Extract<ParsedCommand, { kind: 'error' }> {
  return { kind: 'error', message };
}
