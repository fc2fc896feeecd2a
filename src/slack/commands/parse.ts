import type { Action, Target } from '../../core/model.js';
import type { PartitionTarget } from '../../core/snapshot-service.js';
import { didYouMean, suggest } from '../../core/suggest.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { DURATION_UNITS } from '../../shared/duration.js';

/** `/nasha …` text, parsed. Pure: no I/O, so every branch is unit-tested. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'services' }
  | { kind: 'partitions'; service: string }
  | { kind: 'list'; target: Target }
  | {
      kind: 'schedule';
      op: 'add' | 'remove' | 'show';
      target: PartitionTarget;
      type: SnapshotType;
      reason: string | undefined;
    }
  | { kind: 'create'; target: PartitionTarget; name: string | undefined; expires: string | undefined }
  | { kind: 'show'; target: PartitionTarget; name: string }
  | { kind: 'delete'; target: PartitionTarget; name: string; reason: string | undefined }
  | { kind: 'can-i'; action: Action; target: Target; userId: string | undefined }
  | { kind: 'quick'; spec: string; label: string | undefined; expires: string | undefined; reason: string | undefined }
  | { kind: 'error'; message: string };

export const SUBCOMMANDS = [
  'help',
  'services',
  'partitions',
  'list',
  'schedule',
  'create',
  'show',
  'delete',
  'can-i',
] as const;

/** Words accepted for `can-i <action>`, mapped to policy actions. */
export const CAN_I_ACTIONS: Readonly<Record<string, Action>> = {
  read: 'read',
  list: 'read',
  show: 'read',
  create: 'snapshot.create',
  delete: 'snapshot.delete',
  'schedule-add': 'schedule.add',
  'schedule-remove': 'schedule.remove',
  approve: 'approval.decide',
};

const MAX_TEXT = 2_000;

export function parseCommand(rawText: string): ParsedCommand {
  if (rawText.length > MAX_TEXT) return error(`That command is too long (${rawText.length} characters).`);
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
  if (first === undefined) return { kind: 'modal' };
  const sub = first.toLowerCase();
  if (reasonText !== undefined && !['delete', 'schedule', 'quick', 'show'].includes(sub)) {
    return error('`--reason` goes with `delete`, `schedule remove` and `quick`.');
  }
  switch (sub) {
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'services':
      return rest.length === 0 ? { kind: 'services' } : error('`services` takes no arguments.');
    case 'partitions': {
      const service = rest[0];
      if (service === undefined || rest.length > 1 || service.includes('/')) {
        return usage('partitions <service>', 'partitions zpool-128310');
      }
      return { kind: 'partitions', service };
    }
    case 'list': {
      const target = parseTarget(rest, { allowServiceOnly: true });
      if (typeof target === 'string') return usage('list <service>[/<partition>]', 'list zpool-128310/data', target);
      if (target.extra.length > 0) return error(`Unexpected \`${target.extra.join(' ')}\` after the target.`);
      return { kind: 'list', target: target.target };
    }
    case 'schedule':
      return withReason(parseSchedule(rest), reasonText);
    case 'create':
      return parseCreate(rest);
    case 'show':
    case 'delete': {
      const target = parseTarget(rest, { allowServiceOnly: false, wantName: true });
      if (typeof target === 'string' || target.name === undefined || target.extra.length > 0) {
        return usage(
          `${sub} <service>/<partition>/<name>`,
          `${sub} zpool-128310/data/snap-data-pre-upgrade`,
          typeof target === 'string' ? target : undefined,
        );
      }
      if (sub === 'show')
        return reasonText === undefined
          ? { kind: 'show', target: target.target as PartitionTarget, name: target.name }
          : error('`--reason` goes with `delete`, `schedule remove` and `quick`.');
      return { kind: 'delete', target: target.target as PartitionTarget, name: target.name, reason: reasonText };
    }
    case 'can-i':
    case 'cani':
      return parseCanI(rest);
    case 'quick':
      return parseQuick(rest, reasonText);
    default: {
      const close = suggest(sub, SUBCOMMANDS, 2);
      return error(`Unknown command \`${first.slice(0, 40)}\`.${didYouMean(close)} Try \`/nasha help\`.`);
    }
  }
}

function parseSchedule(words: string[]): ParsedCommand {
  const [op, ...rest] = words;
  const example = 'schedule add zpool-128310/data day-7';
  const lower = op?.toLowerCase();
  if (lower !== 'add' && lower !== 'remove' && lower !== 'show') {
    return usage('schedule add|remove|show <service>/<partition> <type>', example);
  }
  const target = parseTarget(rest, { allowServiceOnly: false });
  if (typeof target === 'string') return usage(`schedule ${lower} <service>/<partition> <type>`, example, target);
  const [typeWord, ...extra] = target.extra;
  if (typeWord === undefined) {
    return error(`Which frequency? One of ${SNAPSHOT_TYPES.map((t) => `\`${t}\``).join(', ')}.`);
  }
  if (extra.length > 0) return error(`Unexpected \`${extra.join(' ')}\` after the frequency.`);
  const type = parseSnapshotType(typeWord);
  if (typeof type !== 'string' || !(SNAPSHOT_TYPES as readonly string[]).includes(type)) return type as ParsedCommand;
  return { kind: 'schedule', op: lower, target: target.target as PartitionTarget, type, reason: undefined };
}

function withReason(command: ParsedCommand, reason: string | undefined): ParsedCommand {
  if (command.kind === 'quick') return command;
  if (reason === undefined || command.kind === 'error') return command;
  if (command.kind === 'schedule' && command.op === 'remove') return { ...command, reason };
  return error('`--reason` goes with `delete`, `schedule remove` and `quick`.');
}

export function parseSnapshotType(word: string): SnapshotType | ParsedCommand {
  const lower = word.toLowerCase();
  if ((SNAPSHOT_TYPES as readonly string[]).includes(lower)) return lower as SnapshotType;
  const close = suggest(lower, SNAPSHOT_TYPES, 2);
  return error(
    `\`${word.slice(0, 40)}\` is not a snapshot frequency.${didYouMean(close)} Frequencies: ${SNAPSHOT_TYPES.map((t) => `\`${t}\``).join(', ')}.`,
  );
}

/** Splits `--expires <v>` / `--expires=<v>` out of the words; any other `--option` is an error. */
function takeExpires(
  words: readonly string[],
  known: string,
): { expires: string | undefined; positional: string[] } | ParsedCommand {
  let expires: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '--expires' || word === '--expire' || word === '-e') {
      const value = words[i + 1];
      if (value === undefined) return error('`--expires` needs a value: `7d`, `12h` or an ISO 8601 date.');
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
      return error(`Unknown option \`${word.slice(0, 40)}\` (${known}).`);
    } else {
      positional.push(word);
    }
  }
  return { expires, positional };
}

function parseCreate(words: string[]): ParsedCommand {
  const options = takeExpires(words, 'only `--expires`');
  if ('kind' in options) return options;
  const { expires, positional } = options;
  const target = parseTarget(positional, { allowServiceOnly: false, wantName: true });
  const example = 'create zpool-128310/data before-upgrade --expires 7d';
  if (typeof target === 'string')
    return usage('create <service>/<partition> [<name>] [--expires <7d|12h|ISO date>]', example, target);
  if (target.extra.length > 0) return error(`Unexpected \`${target.extra.join(' ')}\` after the name.`);
  return { kind: 'create', target: target.target as PartitionTarget, name: target.name, expires };
}

function parseQuick(words: string[], reason: string | undefined): ParsedCommand {
  const options = takeExpires(words, '`--expires`, `--reason`');
  if ('kind' in options) return options;
  const { expires, positional } = options;
  const [spec, label, ...extra] = positional;
  if (spec === undefined) {
    return usage(
      'quick <service>[/<partition>]|<group> [<label>] [--expires 7d] [--reason <why>]',
      'quick zpool-128310 inc-2041',
    );
  }
  if (extra.length > 0) return error(`Unexpected \`${extra.join(' ')}\`: the label is one word (e.g. \`inc-2041\`).`);
  return { kind: 'quick', spec, label, expires, reason };
}

function parseCanI(words: string[]): ParsedCommand {
  const [actionWord, ...rest] = words;
  const example = 'can-i delete zpool-128310/data';
  if (actionWord === undefined) return usage('can-i <action> <service>[/<partition>] [@user]', example);
  const action = CAN_I_ACTIONS[actionWord.toLowerCase()];
  if (action === undefined) {
    const close = suggest(actionWord.toLowerCase(), Object.keys(CAN_I_ACTIONS), 2);
    return error(
      `\`${actionWord.slice(0, 40)}\` is not an action.${didYouMean(close)} Actions: ${Object.keys(CAN_I_ACTIONS)
        .map((a) => `\`${a}\``)
        .join(', ')}.`,
    );
  }
  let userId: string | undefined;
  const targetWords: string[] = [];
  for (const word of rest) {
    const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(word) ?? /^([UW][A-Z0-9]{6,})$/.exec(word);
    if (mention) userId = mention[1];
    else if (word.startsWith('@'))
      return error(`Mention the user so Slack sends their ID (got \`${word.slice(0, 40)}\` as plain text).`);
    else targetWords.push(word);
  }
  const target = parseTarget(targetWords, { allowServiceOnly: true });
  if (typeof target === 'string') return usage('can-i <action> <service>[/<partition>] [@user]', example, target);
  if (target.extra.length > 0) return error(`Unexpected \`${target.extra.join(' ')}\`.`);
  return { kind: 'can-i', action, target: target.target, userId };
}

interface ParsedTarget {
  target: Target;
  name: string | undefined;
  extra: string[];
}

/**
 * `svc/part`, `svc part`, and with a name `svc/part/name`, `svc/part name` or `svc part name`.
 * Returns a problem string when the words do not form a target.
 */
function parseTarget(
  words: readonly string[],
  options: { allowServiceOnly: boolean; wantName?: boolean },
): ParsedTarget | string {
  const [first, ...rest] = words;
  if (first === undefined) return 'a target is missing';
  const parts = first.split('/');
  if (parts.some((p) => p === '')) return `\`${first.slice(0, 80)}\` is not a valid \`service/partition\``;
  const remaining = [...rest];
  const service = parts[0] ?? '';
  let partition = parts[1];
  let name = parts[2];
  if (parts.length > 3) return `\`${first.slice(0, 80)}\` has too many \`/\``;
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
      : 'the partition is missing';
  }
  if (options.wantName && name === undefined && remaining.length > 0) name = remaining.shift();
  if (!options.wantName && name !== undefined) return `\`${first.slice(0, 80)}\` has too many \`/\``;
  return { target: { service, partition }, name, extra: remaining };
}

function usage(form: string, example: string, problem?: string): ParsedCommand {
  const lead = problem ? `${problem.charAt(0).toUpperCase()}${problem.slice(1)}. ` : '';
  return error(`${lead}Usage: \`/nasha snapshot ${form}\` — for example \`/nasha snapshot ${example}\`.`);
}

function error(message: string): ParsedCommand {
  return { kind: 'error', message };
}
