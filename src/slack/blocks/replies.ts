import type { types } from '@slack/bolt';
import type { NashaError } from '../../core/errors.js';
import { type Role, roleRank } from '../../core/model.js';
import type { ChangeResult, Page, PartitionSnapshots } from '../../core/snapshot-service.js';
import type { CustomSnapshot, Partition, SnapshotType, Storage, Task } from '../../ovh/models.js';
import {
  type Block,
  chunkSections,
  context,
  divider,
  escapeMrkdwn,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
  slackDate,
  truncate,
} from './limits.js';

/** Pure builders for every reply the bot sends. Inputs are plain data; no I/O. */

const code = (text: string): string => `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;

const FREQUENCY_LABEL: Readonly<Record<SnapshotType, string>> = {
  'hour-1': 'every hour',
  'hour-6': 'every 6 hours',
  'day-1': 'every day',
  'day-2': 'every 2 days',
  'day-3': 'every 3 days',
  'day-7': 'every week',
};

export function frequencyLabel(type: SnapshotType): string {
  return `${type} (${FREQUENCY_LABEL[type]})`;
}

interface HelpEntry {
  role: Role;
  usage: string;
  example: string;
}

const HELP: readonly HelpEntry[] = [
  { role: 'viewer', usage: 'services', example: '/nasha snapshot services' },
  { role: 'viewer', usage: 'partitions <service>', example: '/nasha snapshot partitions zpool-128310' },
  { role: 'viewer', usage: 'list <service>[/<partition>]', example: '/nasha snapshot list zpool-128310/data' },
  {
    role: 'viewer',
    usage: 'schedule show <service>/<partition> <type>',
    example: '/nasha snapshot schedule show zpool-128310/data day-1',
  },
  {
    role: 'viewer',
    usage: 'show <service>/<partition>/<name>',
    example: '/nasha snapshot show zpool-128310/data/snap-data-pre-upgrade',
  },
  {
    role: 'operator',
    usage: 'create <service>/<partition> [<name>] [--expires 7d|12h|<ISO date>]',
    example: '/nasha snapshot create zpool-128310/data before-upgrade --expires 7d',
  },
  {
    role: 'operator',
    usage: 'schedule add <service>/<partition> <type>',
    example: '/nasha snapshot schedule add zpool-128310/data day-7',
  },
  {
    role: 'admin',
    usage: 'schedule remove <service>/<partition> <type>',
    example: '/nasha snapshot schedule remove zpool-128310/data day-7',
  },
  {
    role: 'admin',
    usage: 'delete <service>/<partition>/<name>',
    example: '/nasha snapshot delete zpool-128310/data/before-upgrade',
  },
];

/** Help lists only what the caller may do (their strongest role anywhere, capped by the channel). */
export function helpMessage(role: Role | undefined): SlackMessage {
  if (role === undefined) {
    return message('You have no access to nasha-bot here.', [
      section(
        ':lock: You have no access to nasha-bot here. Ask an admin to grant you a role, or check with `/nasha can-i read <service>`.',
      ),
    ]);
  }
  const entries = HELP.filter((e) => roleRank(e.role) <= roleRank(role));
  const lines = entries.map((e) => `• \`${e.usage}\`\n   _e.g._ \`${e.example}\``);
  return message(`nasha-bot help (${role})`, [
    header('NAS-HA snapshots'),
    section(`Your role here: *${role}*. Commands start with \`/nasha snapshot\`:\n${lines.join('\n')}`),
    section(
      '• `/nasha snapshot` alone opens a form.\n• `/nasha can-i <action> <service>/<partition> [@user]` explains a permission decision.',
    ),
    context(
      `Frequencies: ${Object.keys(FREQUENCY_LABEL)
        .map((t) => `\`${t}\``)
        .join(' ')}`,
    ),
  ]);
}

export function servicesMessage(services: readonly Storage[]): SlackMessage {
  if (services.length === 0) {
    return message('No NAS-HA services you can see.', [
      section('You cannot see any NAS-HA service (none exist, or none is in your scope).'),
    ]);
  }
  const rows = services.map((s) => {
    const name = s.customName ? ` — ${escapeMrkdwn(s.customName)}` : '';
    const details = [
      s.datacenter,
      s.diskType,
      s.zpoolSize !== undefined ? `${s.zpoolSize} GB` : undefined,
      s.zpoolCapacity !== undefined ? `${s.zpoolCapacity}% used` : undefined,
    ]
      .filter((x) => x !== undefined && x !== null)
      .join(' · ');
    return `• ${code(s.serviceName)}${name}${details ? `\n   ${details}` : ''}`;
  });
  return message(`${services.length} NAS-HA services`, [header('NAS-HA services'), ...chunkSections(rows)]);
}

export function partitionsMessage(service: string, page: Page<Partition>): SlackMessage {
  const rows = page.items.map((p) => {
    const usage =
      p.partitionCapacity !== null && p.partitionCapacity !== undefined
        ? `${p.partitionCapacity}% used`
        : 'usage unknown';
    const snaps =
      p.usedBySnapshots !== null && p.usedBySnapshots !== undefined
        ? `${p.usedBySnapshots}% by snapshots`
        : 'snapshot usage unknown';
    const description = p.partitionDescription ? ` — ${escapeMrkdwn(p.partitionDescription)}` : '';
    return `• ${code(p.partitionName)}${description}\n   ${p.size} GB · ${p.protocol} · ${usage} · ${snaps}`;
  });
  const blocks: Block[] = [header(`Partitions of ${service}`)];
  if (rows.length === 0) blocks.push(section(`${code(service)} has no partition you can see.`));
  blocks.push(...chunkSections(rows), ...pager('partitions', service, page));
  return message(`Partitions of ${service}`, blocks);
}

export function snapshotsMessage(service: string, page: Page<PartitionSnapshots>, now: number): SlackMessage {
  const blocks: Block[] = [header(`Snapshots — ${service}`)];
  if (page.items.length === 0) blocks.push(section('No partition you can see.'));
  for (const item of page.items) {
    const schedule = item.schedule.length === 0 ? '_none_ :warning:' : item.schedule.map((t) => code(t)).join(' ');
    const custom =
      item.custom.length === 0
        ? '_none_'
        : item.custom.map((c) => `• ${code(c.name)} ${expirationText(c, now)}`).join('\n');
    blocks.push(
      section(
        `*${escapeMrkdwn(item.partition)}*\n*Automatic:* ${schedule}\n*Custom (${item.custom.length}/10):*\n${custom}`,
      ),
    );
  }
  blocks.push(...pager('list', service, page));
  return message(`Snapshots of ${service}`, blocks);
}

function expirationText(snapshot: CustomSnapshot, now: number): string {
  if (snapshot.expiration === null) return '— _kept until deleted_';
  const at = Date.parse(snapshot.expiration);
  if (Number.isNaN(at)) return `— expires ${escapeMrkdwn(snapshot.expiration)}`;
  const soon = at - now < 86_400_000 ? ' :hourglass_flowing_sand:' : '';
  return `— expires ${slackDate(at)}${soon}`;
}

export function scheduleShowMessage(
  target: string,
  type: SnapshotType,
  enabled: readonly SnapshotType[],
): SlackMessage {
  return message(`${type} is enabled on ${target}`, [
    section(`:white_check_mark: ${code(frequencyLabel(type))} is enabled on ${code(target)}.`),
    context(`All frequencies enabled: ${enabled.map((t) => code(t)).join(' ')}`),
  ]);
}

export function snapshotShowMessage(target: string, snapshot: CustomSnapshot, now: number): SlackMessage {
  return message(`Snapshot ${snapshot.name}`, [
    section(`*${code(snapshot.name)}* on ${code(target)} ${expirationText(snapshot, now)}`),
    context('Read-only copy under `.zfs/snapshot/` on the share; OVH has no restore API.'),
  ]);
}

export function workingMessage(what: string): SlackMessage {
  return message(`Working on ${what}…`, [context(`:hourglass_flowing_sand: Working on ${truncate(what, 500)}…`)]);
}

export function changeSubmittedMessage(description: string, task: Task): SlackMessage {
  return message(`Submitted: ${description}`, [
    section(`:arrows_counterclockwise: Submitted to OVH: ${description}.`),
    context(
      `OVH task \`${task.taskId}\` is \`${task.status}\`; this message updates when it ends (usually within a minute).`,
    ),
  ]);
}

export function changeFinishedMessage(description: string, result: ChangeResult): SlackMessage {
  if (result.outcome === 'succeeded') {
    return message(`Done: ${description}`, [
      section(`:white_check_mark: Done: ${description}.`),
      context(`OVH task \`${result.taskId}\` is done.`),
    ]);
  }
  return message(`Failed: ${description}`, [
    section(`:x: Failed: ${description}.\n>${escapeMrkdwn(result.detail)}`),
    context(`OVH task \`${result.taskId}\`.`),
  ]);
}

const ERROR_ICON: Readonly<Record<NashaError['code'], string>> = {
  denied: ':no_entry:',
  not_found: ':mag:',
  invalid_input: ':warning:',
  conflict: ':information_source:',
  limit_reached: ':warning:',
  ovh_refused: ':x:',
  ovh_unavailable: ':cloud:',
};

export function errorMessage(error: Pick<NashaError, 'code' | 'message'>): SlackMessage {
  return message(error.message, [section(`${ERROR_ICON[error.code]} ${error.message}`)]);
}

/** A button the bot cannot use: one this version does not know (an older message), or a value it cannot read. */
export function staleInteractionMessage(): SlackMessage {
  const text =
    'This button is no longer valid (it is from an older version of nasha-bot, or its message has changed), so it did nothing. Run the command again.';
  return message(text, [section(`:information_source: ${text}`)]);
}

/** A copy of a command already received (a replay, or a delivery sent twice): not run again. */
export function duplicateRequestMessage(): SlackMessage {
  const text = 'This request was already received, so it was not run again.';
  return message(text, [section(`:information_source: ${text}`)]);
}

/** The bot could not check that a request is not a copy of one already run, so it did not run it. */
export function requestNotCheckedMessage(): SlackMessage {
  const text =
    'nasha-bot could not accept this request just now (its database did not answer); nothing was done. Try again in a moment.';
  return message(text, [section(`:warning: ${text}`)]);
}

/** A slash command the app manifest routes here and this version does not handle. */
export function unknownCommandMessage(command: string): SlackMessage {
  const text = `This version of nasha-bot does not handle \`${escapeMrkdwn(command.replace(/`/g, ''))}\`. Use \`/nasha help\`.`;
  return message(text, [section(`:information_source: ${text}`)]);
}

/** For errors that are not the user's: no detail, but a reference to find the log line. */
export function unexpectedErrorMessage(reference: string): SlackMessage {
  return message('Something went wrong.', [
    section(`:boom: Something went wrong on our side. Nothing was changed. Reference: \`${reference}\`.`),
  ]);
}

export function canIMessage(
  decision: { allowed: boolean; summary: string; explanation: readonly string[] },
  subject: string,
): SlackMessage {
  const verdict = decision.allowed ? ':white_check_mark: *Yes*' : ':no_entry: *No*';
  return message(`${decision.allowed ? 'Yes' : 'No'}: ${decision.summary}`, [
    section(`${verdict} — ${subject}: ${decision.summary}`),
    ...(decision.explanation.length > 0 ? [section(decision.explanation.map((l) => `• ${l}`).join('\n'))] : []),
  ]);
}

/** One section per ~3000 characters of rows, so long lists stay within block limits. */
export const PAGE_ACTION = 'nasha_page';

/** What a page button carries: only what to show next, never who may see it. */
export interface PageButtonValue {
  view: 'partitions' | 'list';
  service: string;
  page: number;
}

function pager(view: PageButtonValue['view'], service: string, page: Page<unknown>): Block[] {
  if (page.pageCount <= 1) return [];
  const buttons: types.Button[] = [];
  const button = (label: string, target: number): types.Button => ({
    type: 'button',
    action_id: `${PAGE_ACTION}_${label.toLowerCase()}`,
    text: plainText(label, LIMITS.buttonText),
    value: JSON.stringify({ view, service, page: target } satisfies PageButtonValue),
  });
  if (page.page > 1) buttons.push(button('Previous', page.page - 1));
  if (page.page < page.pageCount) buttons.push(button('Next', page.page + 1));
  return [
    divider,
    context(`Page ${page.page} of ${page.pageCount} (${page.total} partitions)`),
    { type: 'actions', elements: buttons },
  ];
}
