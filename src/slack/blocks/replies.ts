import type { types } from '@slack/bolt';
import type { ChangeDraft } from '../../core/desk.js';
import type { NashaError } from '../../core/errors.js';
import { type Problem, type ProblemCode, problemCode } from '../../core/problems.js';
import type { ChangeResult, Page, PartitionSnapshots } from '../../core/snapshot-service.js';
import type { CustomSnapshot, Partition, SnapshotType, Storage } from '../../ovh/models.js';
import type { ChangeLine } from '../change-runner.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { capitalized, code, date, italic, joinText, type Text, text, user } from '../text.js';
import { approvalPendingMessage } from './approval-card.js';
import {
  type Block,
  chunkSections,
  context,
  divider,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
} from './limits.js';
import { frequencyLabel } from './modals.js';
import { changeText, problemText, taskFailureText } from './problems.js';
import { settlementText } from './settlements.js';

/** Pure builders for every reply the bot sends, in the reader's language. Inputs are plain data; no I/O. */

/** ` — words` after a name (OVH's descriptions), or nothing. */
function described(words: string | null | undefined): Text {
  // OVH's data as the bot's words (escaped), as listings always showed it.
  return words ? text(' — ', words) : text();
}

export function servicesMessage(services: readonly Storage[], tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  if (services.length === 0) {
    return message(tr.t('replies.noServices'), [section(tr.mrkdwn(tr.t('replies.noServicesSeen')))], tr.reader);
  }
  const rows = services.map((s) => {
    const details = joinText(
      [
        s.datacenter,
        s.diskType,
        s.zpoolSize !== undefined ? tr.t('replies.size', { size: s.zpoolSize }) : undefined,
        s.zpoolCapacity !== undefined ? tr.t('replies.used', { percent: s.zpoolCapacity }) : undefined,
      ].filter((x): x is string | Text => x !== undefined && x !== null && x !== ''),
      ' · ',
    );
    return tr.mrkdwn(
      text('• ', code(s.serviceName), described(s.customName), details.isEmpty ? text() : text('\n   ', details)),
    );
  });
  return message(
    tr.t('replies.servicesCount', { count: services.length }),
    [header(tr.plain(tr.t('replies.servicesTitle'))), ...chunkSections(rows)],
    tr.reader,
  );
}

export function partitionsMessage(
  service: string,
  page: Page<Partition>,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const rows = page.items.map((p) => {
    const usage =
      p.partitionCapacity !== null && p.partitionCapacity !== undefined
        ? tr.t('replies.used', { percent: p.partitionCapacity })
        : tr.t('replies.usageUnknown');
    const snaps =
      p.usedBySnapshots !== null && p.usedBySnapshots !== undefined
        ? tr.t('replies.bySnapshots', { percent: p.usedBySnapshots })
        : tr.t('replies.snapshotUsageUnknown');
    const details = joinText([tr.t('replies.size', { size: p.size }), p.protocol, usage, snaps], ' · ');
    return tr.mrkdwn(text('• ', code(p.partitionName), described(p.partitionDescription), '\n   ', details));
  });
  const title = tr.t('replies.partitionsOf', { service });
  const blocks: Block[] = [header(tr.plain(title))];
  if (rows.length === 0) blocks.push(section(tr.mrkdwn(tr.t('replies.noPartition', { service: code(service) }))));
  blocks.push(...chunkSections(rows), ...pager('partitions', service, page, tr));
  return message(title, blocks, tr.reader);
}

export function snapshotsMessage(
  service: string,
  page: Page<PartitionSnapshots>,
  now: number,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const blocks: Block[] = [header(tr.plain(tr.t('replies.snapshotsTitle', { service })))];
  if (page.items.length === 0) blocks.push(section(tr.mrkdwn(tr.t('replies.noPartitionSeen'))));
  const none = text(italic(tr.t('replies.none')));
  for (const item of page.items) {
    const schedule =
      item.schedule.length === 0
        ? text(none, ' :warning:')
        : joinText(
            item.schedule.map((type) => code(type)),
            ' ',
          );
    const custom =
      item.custom.length === 0
        ? none
        : joinText(
            item.custom.map((c) => text('• ', code(c.name), ' ', expirationText(c, now, tr))),
            '\n',
          );
    blocks.push(
      section(
        tr.mrkdwn(
          tr.t('replies.partitionSnapshots', {
            partition: item.partition,
            schedule,
            count: item.custom.length,
            custom,
          }),
        ),
      ),
    );
  }
  blocks.push(...pager('list', service, page, tr));
  return message(tr.t('replies.snapshotsOf', { service }), blocks, tr.reader);
}

function expirationText(snapshot: CustomSnapshot, now: number, tr: Translator): Text {
  if (snapshot.expiration === null) return tr.t('replies.keptUntilDeleted');
  const at = Date.parse(snapshot.expiration);
  // OVH's text when it is not a date: the bot's words around it, escaped as they always were.
  if (Number.isNaN(at)) return tr.t('replies.expires', { when: snapshot.expiration, soon: '' });
  return tr.t('replies.expires', { when: date(at), soon: at - now < 86_400_000 ? ' :hourglass_flowing_sand:' : '' });
}

export function scheduleShowMessage(
  target: string,
  type: SnapshotType,
  enabled: readonly SnapshotType[],
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  return message(
    tr.t('replies.enabledOn', { type, target }),
    [
      section(
        `:white_check_mark: ${tr.mrkdwn(tr.t('replies.enabledOn', { type: code(frequencyLabel(type, tr)), target: code(target) }))}.`,
      ),
      context(
        tr.mrkdwn(
          tr.t('replies.allEnabled', {
            types: joinText(
              enabled.map((e) => code(e)),
              ' ',
            ),
          }),
        ),
      ),
    ],
    tr.reader,
  );
}

export function snapshotShowMessage(
  target: string,
  snapshot: CustomSnapshot,
  now: number,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  return message(
    tr.t('replies.snapshotTitle', { name: snapshot.name }),
    [
      section(
        tr.mrkdwn(
          tr.t('replies.snapshotOn', {
            name: code(snapshot.name),
            target: code(target),
            expiration: expirationText(snapshot, now, tr),
          }),
        ),
      ),
      context(tr.mrkdwn(tr.t('replies.readOnlyCopy'))),
    ],
    tr.reader,
  );
}

/** The "working" line of a command that waits for the OVH request budget: why, and about how long. */
export function budgetWaitMessage(
  what: Text,
  wait: { ahead: number; etaMs: number },
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const seconds = Math.max(1, Math.ceil(wait.etaMs / 1_000));
  const words = tr.t('replies.budgetWait', { what, ahead: wait.ahead, seconds });
  return message(words, [context(`:hourglass_flowing_sand: ${tr.mrkdwn(words)}`)], tr.reader);
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
export function problemMessage(problem: Problem, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const words = problemText(problem, tr);
  return message(words, [section(`${ERROR_ICON[problemCode(problem)]} ${tr.mrkdwn(words)}`)], tr.reader);
}

export function errorMessage(error: Pick<NashaError, 'problem'>, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return problemMessage(error.problem, tr);
}

/** One line per change: where each one stands. */
export function changeLineBlocks(line: ChangeLine, tr: Translator = ENGLISH_TRANSLATOR): Block[] {
  const state = line.state;
  const what = capitalized(
    changeText(state.kind === 'submitted' || state.kind === 'finished' ? state.outcome.request : line.draft, tr),
  );
  switch (state.kind) {
    case 'working':
      return [section(`:hourglass_flowing_sand: ${tr.mrkdwn(tr.t('line.working', { what }))}`)];
    case 'submitted': {
      const task = state.outcome.task;
      if (task === undefined) {
        return [
          section(`:mag: ${tr.mrkdwn(tr.t('line.answerLost', { what }))}`),
          context(tr.mrkdwn(tr.t('line.checking'))),
        ];
      }
      return [
        section(`:arrows_counterclockwise: ${tr.mrkdwn(tr.t('line.submitted', { what }))}`),
        context(tr.mrkdwn(tr.t('line.taskStatus', { task: code(String(task.taskId)), status: code(task.status) }))),
      ];
    }
    case 'finished':
      return changeResultBlocks(what, state.result, tr);
    case 'error':
      return unexpectedErrorMessage(state.reference, tr).blocks;
    case 'outcome': {
      const outcome = state.outcome;
      switch (outcome.kind) {
        case 'pending':
          return approvalPendingMessage(outcome.approval, tr).blocks;
        case 'already_pending':
          return [
            section(
              `:information_source: ${tr.mrkdwn(
                tr.t('line.alreadyPending', {
                  what,
                  id: `#${outcome.approval.id}`,
                  requester: user(outcome.approval.requester.userId),
                }),
              )}`,
            ),
          ];
        case 'needs_reason':
          return problemMessage({ kind: 'reason_required', action: outcome.request.action }, tr).blocks;
        case 'noop':
          return [
            section(
              `:information_source: ${tr.mrkdwn(tr.t('line.nothingToDo', { problem: problemText(outcome.problem, tr) }))}`,
            ),
          ];
        case 'refused':
        case 'failed':
          return problemMessage(outcome.problem, tr).blocks;
      }
    }
  }
}

/** How a change ended, as OVH says: done, failed, or (after a lost answer) applied / not applied / unknown. */
export function changeResultBlocks(what: Text, result: ChangeResult, tr: Translator = ENGLISH_TRANSLATOR): Block[] {
  const head = (key: MessageKey) => tr.mrkdwn(tr.t(key, { what }));
  const quote = (detail: Text) => `\n>${tr.mrkdwn(detail)}`;
  switch (result.outcome) {
    case 'succeeded':
      return [
        section(`:white_check_mark: ${head('result.done')}`),
        context(tr.mrkdwn(tr.t('result.taskDone', { task: code(String(result.taskId)) }))),
      ];
    case 'failed':
      return [
        section(`:x: ${head('result.failed')}${quote(taskFailureText(result.failure, tr))}`),
        context(tr.mrkdwn(tr.t('result.task', { task: code(String(result.taskId)) }))),
      ];
    case 'applied':
      return [section(`:white_check_mark: ${head('result.applied')}${quote(settlementText(result.settlement, tr))}`)];
    case 'not_applied':
      return [
        section(`:heavy_minus_sign: ${head('result.notApplied')}${quote(settlementText(result.settlement, tr))}`),
        context(tr.mrkdwn(tr.t('result.nothingChanged'))),
      ];
    case 'unknown':
      return [
        section(`:grey_question: ${head('result.unknown')}${quote(settlementText(result.settlement, tr))}`),
        context(tr.mrkdwn(tr.t('result.doNotRunAgain'))),
      ];
  }
}

const RESULT_HEAD_KEY: Readonly<Record<ChangeResult['outcome'], MessageKey>> = {
  succeeded: 'result.head.succeeded',
  failed: 'result.head.failed',
  applied: 'result.head.applied',
  not_applied: 'result.head.notApplied',
  unknown: 'result.head.unknown',
};

/** The first word of a result's notification text, in the reader's language. */
export function resultHead(outcome: ChangeResult['outcome'], tr: Translator = ENGLISH_TRANSLATOR): Text {
  return tr.t(RESULT_HEAD_KEY[outcome]);
}

/** A result's notification text: "Done: create snapshot `x` on `svc/part`". */
function resultHeadline(what: Text, result: ChangeResult, tr: Translator): Text {
  return tr.t('result.headline', { head: resultHead(result.outcome, tr), what });
}

/** A change's final result as a whole message (a result reported after a restart). */
export function changeResultMessage(
  draft: ChangeDraft,
  result: ChangeResult,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  return {
    text: tr.fallback(resultHeadline(changeText(draft, tr), result, tr)),
    blocks: changeResultBlocks(capitalized(changeText(draft, tr)), result, tr),
  };
}

export function changeLinesMessage(lines: readonly ChangeLine[], tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const blocks = lines.flatMap((line) => changeLineBlocks(line, tr));
  const first = lines[0];
  return message(first === undefined ? tr.t('line.nothingToChange') : lineHeadline(first, tr), blocks, tr.reader);
}

/** The notification text of a change's line: where it stands, first. */
function lineHeadline(line: ChangeLine, tr: Translator): Text {
  const state = line.state;
  // Once sent, the change as the bot resolved it (a default name is known by then).
  const change = state.kind === 'submitted' || state.kind === 'finished' ? state.outcome.request : line.draft;
  const what = changeText(change, tr);
  switch (state.kind) {
    case 'working':
      return tr.t('command.working', { what });
    case 'submitted':
      return tr.t(state.outcome.task === undefined ? 'line.headChecking' : 'line.headSubmitted', { what });
    case 'finished':
      return resultHeadline(what, state.result, tr);
    case 'error':
      return tr.t('replies.somethingWrong');
    case 'outcome': {
      const outcome = state.outcome;
      const id = `#${'approval' in outcome ? outcome.approval.id : ''}`;
      switch (outcome.kind) {
        case 'pending':
          return tr.t('approval.pendingNotification', { id });
        case 'already_pending':
          return tr.t('line.headAlreadyPending', { id });
        case 'noop':
          // Plain words inside the notification (as it always was: no code span in a notification line).
          return tr.t('line.nothingToDo', { problem: tr.plain(problemText(outcome.problem, tr)) });
        case 'needs_reason':
          return problemText({ kind: 'reason_required', action: outcome.request.action }, tr);
        case 'refused':
        case 'failed':
          return problemText(outcome.problem, tr);
      }
    }
  }
}

/** A notice with an icon: the words as the section and as the notification. */
function notice(icon: string, words: Text, tr: Translator): SlackMessage {
  return message(words, [section(`${icon} ${tr.mrkdwn(words)}`)], tr.reader);
}

/** A button the bot cannot use: one this version does not know (an older message), or a value it cannot read. */
export function staleInteractionMessage(tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return notice(':information_source:', tr.t('replies.staleButton'), tr);
}

/** A copy of a command already received (a replay, or a delivery sent twice): not run again. */
export function duplicateRequestMessage(tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return notice(':information_source:', tr.t('replies.duplicate'), tr);
}

/** The bot could not check that a request is not a copy of one already run, so it did not run it. */
export function requestNotCheckedMessage(tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return notice(':warning:', tr.t('replies.notChecked'), tr);
}

/** A slash command the app manifest routes here and this version does not handle. */
export function unknownCommandMessage(command: string, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return notice(
    ':information_source:',
    tr.t('replies.unknownCommand', { command: code(command.replace(/`/g, '')) }),
    tr,
  );
}

/** For errors that are not the user's: no detail, but a reference to find the log line. */
export function unexpectedErrorMessage(reference: string, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return message(
    tr.t('replies.somethingWrong'),
    [section(`:boom: ${tr.mrkdwn(tr.t('form.somethingWrong', { reference: code(reference) }))}`)],
    tr.reader,
  );
}

/** One section per ~3000 characters of rows, so long lists stay within block limits. */
export const PAGE_ACTION = 'nasha_page';

/** What a page button carries: only what to show next, never who may see it. */
export interface PageButtonValue {
  view: 'partitions' | 'list';
  service: string;
  page: number;
}

function pager(view: PageButtonValue['view'], service: string, page: Page<unknown>, tr: Translator): Block[] {
  if (page.pageCount <= 1) return [];
  const buttons: types.Button[] = [];
  // The action id is the same in every language: listeners match on it.
  const button = (direction: 'previous' | 'next', target: number): types.Button => ({
    type: 'button',
    action_id: `${PAGE_ACTION}_${direction}`,
    text: plainText(tr.plain(tr.t(direction === 'previous' ? 'replies.previous' : 'replies.next')), LIMITS.buttonText),
    value: JSON.stringify({ view, service, page: target } satisfies PageButtonValue),
  });
  if (page.page > 1) buttons.push(button('previous', page.page - 1));
  if (page.page < page.pageCount) buttons.push(button('next', page.page + 1));
  return [
    divider,
    context(
      tr.mrkdwn(tr.t('replies.page', { page: String(page.page), pages: String(page.pageCount), total: page.total })),
    ),
    { type: 'actions', elements: buttons },
  ];
}
