import type { types } from '@slack/bolt';
import type { ChangeDraft } from '../../core/desk.js';
import type { NashaError } from '../../core/errors.js';
import { type Problem, type ProblemCode, problemCode } from '../../core/problems.js';
import type { ChangeResult, Page, PartitionSnapshots } from '../../core/snapshot-service.js';
import type { CustomSnapshot, Partition, SnapshotType, Storage } from '../../ovh/models.js';
import type { ChangeLine } from '../change-runner.js';
import { capitalized, fallback, mrkdwn, plain, say, type Text, user } from '../text.js';
import { approvalPendingMessage } from './approval-card.js';
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
import { changeText, problemText, taskFailureText } from './problems.js';
import { settlementText } from './settlements.js';

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

/** The "working" line of a command that waits for the OVH request budget: why, and about how long. */
export function budgetWaitMessage(what: Text, wait: { ahead: number; etaMs: number }): SlackMessage {
  const seconds = Math.max(1, Math.ceil(wait.etaMs / 1_000));
  const words = say`Working on ${what}… waiting for the OVH request budget: ${wait.ahead} ${wait.ahead === 1 ? 'request' : 'requests'} ahead, about ${seconds} s.`;
  return message(words, [context(`:hourglass_flowing_sand: ${mrkdwn(words)}`)]);
}

const ERROR_ICON: Readonly<Record<ProblemCode, string>> = {
  denied: ':no_entry:',
  not_found: ':mag:',
  invalid_input: ':warning:',
  conflict: ':information_source:',
  limit_reached: ':warning:',
  ovh_refused: ':x:',
  ovh_unavailable: ':cloud:',
};

/** A problem core returned, as the person reads it (the same words as the audit record and the form error). */
export function problemMessage(problem: Problem): SlackMessage {
  const words = problemText(problem);
  return message(words, [section(`${ERROR_ICON[problemCode(problem)]} ${mrkdwn(words)}`)]);
}

export function errorMessage(error: Pick<NashaError, 'problem'>): SlackMessage {
  return problemMessage(error.problem);
}

/** One line per change: where each one stands. */
export function changeLineBlocks(line: ChangeLine): Block[] {
  const state = line.state;
  const what = capitalized(
    changeText(state.kind === 'submitted' || state.kind === 'finished' ? state.outcome.request : line.draft),
  );
  switch (state.kind) {
    case 'working':
      return [section(`:hourglass_flowing_sand: ${mrkdwn(what)}: working on it…`)];
    case 'submitted': {
      const task = state.outcome.task;
      if (task === undefined) {
        return [
          section(`:mag: Sent to OVH: ${mrkdwn(what)}, but OVH's answer was lost.`),
          context('Checking on OVH whether it was made; this updates with what OVH shows.'),
        ];
      }
      return [
        section(`:arrows_counterclockwise: Submitted to OVH: ${mrkdwn(what)}.`),
        context(
          `OVH task \`${task.taskId}\` is \`${escapeMrkdwn(task.status)}\`; this updates when it ends (usually within a minute).`,
        ),
      ];
    }
    case 'finished':
      return changeResultBlocks(what, state.result);
    case 'error':
      return unexpectedErrorMessage(state.reference).blocks;
    case 'outcome': {
      const outcome = state.outcome;
      switch (outcome.kind) {
        case 'pending':
          return approvalPendingMessage(outcome.approval).blocks;
        case 'already_pending':
          return [
            section(
              `:information_source: ${mrkdwn(what)} is already waiting for approval as *#${outcome.approval.id}* (asked by ${mrkdwn(user(outcome.approval.requester.userId))}); nothing new was filed.`,
            ),
          ];
        case 'needs_reason':
          return problemMessage({ kind: 'reason_required', action: outcome.request.action }).blocks;
        case 'noop':
          return [section(`:information_source: Nothing to do: ${mrkdwn(problemText(outcome.problem))}`)];
        case 'refused':
        case 'failed':
          return problemMessage(outcome.problem).blocks;
      }
    }
  }
}

/** How a change ended, as OVH says: done, failed, or (after a lost answer) applied / not applied / unknown. */
export function changeResultBlocks(what: Text, result: ChangeResult): Block[] {
  const quote = (detail: Text) => `\n>${mrkdwn(detail)}`;
  switch (result.outcome) {
    case 'succeeded':
      return [section(`:white_check_mark: Done: ${mrkdwn(what)}.`), context(`OVH task \`${result.taskId}\` is done.`)];
    case 'failed':
      return [
        section(`:x: Failed: ${mrkdwn(what)}.${quote(taskFailureText(result.failure))}`),
        context(`OVH task \`${result.taskId}\`.`),
      ];
    case 'applied':
      return [
        section(
          `:white_check_mark: Applied (confirmed on OVH): ${mrkdwn(what)}.${quote(settlementText(result.settlement))}`,
        ),
      ];
    case 'not_applied':
      return [
        section(`:heavy_minus_sign: Not applied: ${mrkdwn(what)}.${quote(settlementText(result.settlement))}`),
        context('Nothing was changed on OVH; run it again if it is still needed.'),
      ];
    case 'unknown':
      return [
        section(`:grey_question: Unknown, being checked: ${mrkdwn(what)}.${quote(settlementText(result.settlement))}`),
        context('Do not run it again yet: this message and the audit record update once OVH says.'),
      ];
  }
}

/** The first word of a result's notification text. */
export const RESULT_HEAD: Readonly<Record<ChangeResult['outcome'], string>> = {
  succeeded: 'Done',
  failed: 'Failed',
  applied: 'Applied',
  not_applied: 'Not applied',
  unknown: 'Unknown',
};

/** A change's final result as a whole message (a result reported after a restart). */
export function changeResultMessage(draft: ChangeDraft, result: ChangeResult): SlackMessage {
  const what = capitalized(changeText(draft));
  return {
    text: `${RESULT_HEAD[result.outcome]}: ${fallback(changeText(draft))}`,
    blocks: changeResultBlocks(what, result),
  };
}

export function changeLinesMessage(lines: readonly ChangeLine[]): SlackMessage {
  const blocks = lines.flatMap(changeLineBlocks);
  const first = lines[0];
  return message(first === undefined ? 'Nothing to change.' : lineHeadline(first), blocks);
}

/** The notification text of a change's line: where it stands, first. */
function lineHeadline(line: ChangeLine): string | Text {
  const state = line.state;
  // Once sent, the change as the bot resolved it (a default name is known by then).
  const change = state.kind === 'submitted' || state.kind === 'finished' ? state.outcome.request : line.draft;
  const what = changeText(change);
  switch (state.kind) {
    case 'working':
      return say`Working on ${what}…`;
    case 'submitted':
      return state.outcome.task === undefined ? say`Checking on OVH: ${what}` : say`Submitted: ${what}`;
    case 'finished':
      return changeResultMessage(change, state.result).text;
    case 'error':
      return 'Something went wrong.';
    case 'outcome': {
      const outcome = state.outcome;
      switch (outcome.kind) {
        case 'pending':
          return `Pending approval #${outcome.approval.id}`;
        case 'already_pending':
          return `Already pending approval #${outcome.approval.id}`;
        case 'noop':
          return `Nothing to do: ${plain(problemText(outcome.problem))}`;
        case 'needs_reason':
          return problemText({ kind: 'reason_required', action: outcome.request.action });
        case 'refused':
        case 'failed':
          return problemText(outcome.problem);
      }
    }
  }
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
