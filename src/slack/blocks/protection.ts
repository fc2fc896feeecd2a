/**
 * Protection in Slack: the alert messages of the alerts channel (in the channel's language, times as Slack's date
 * tokens), `status` and `restore` replies (in the asker's language and time zone), and the words for protection
 * problems (also used by the audit message). Pure builders from core data; every word from the catalogs.
 */
import type { types } from '@slack/bolt';
import { ACTIONS, type ActionId, type ApprovalRule, commandFor, isApprovable } from '../../core/actions.js';
import { formatTarget } from '../../core/model.js';
import { systemActorPolicy } from '../../core/protection/actor.js';
import type { CustomOrigin, RestorePoint } from '../../core/protection/assess.js';
import { type AlertFixPlan, fixDrafts } from '../../core/protection/fixes.js';
import {
  CUSTOM_SLOTS,
  type PlanClass,
  type PlanGap,
  type ProtectionPolicy,
  type ProtectionProblem,
} from '../../core/protection/model.js';
import type { AlertView } from '../../core/protection/ports.js';
import type { RestoreAnswer, StatusAnswer, StatusLine } from '../../core/protection/queries.js';
import { formatDuration } from '../../shared/duration.js';
import { exampleOf } from '../commands/parse.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { code, date, joinText, say, type Text, text, user, verbatim } from '../text.js';
import {
  type Block,
  context,
  divider,
  header,
  LIMITS,
  message,
  plainText,
  type SlackMessage,
  section,
} from './limits.js';
import { problemText } from './problems.js';

/** Action ids of the protection buttons. */
export const PROTECTION_ACTION = { fix: 'nasha_protection_fix', page: 'nasha_protection_page' } as const;

/** What the Fix button carries: only which alert; what it does is decided again at the click. */
export interface FixButtonValue {
  a: string;
}

/** What a status page button carries: the query as typed and the page; who may see what is decided again. */
export interface StatusPageValue {
  q: string;
  p: number;
}

/**
 * Whether an action runs only once approved: the gate's rule (`ActionGate.approvalRule`, from the configuration).
 * Without one, the action table's defaults (one approver).
 */
export type ApprovalRuleOf = (action: ActionId) => ApprovalRule | undefined;

const DEFAULT_RULES: ApprovalRuleOf = (action) =>
  isApprovable(action) && ACTIONS[action].approvalByDefault
    ? { required: true, quorum: 1, approverGroups: [], ttlMs: 24 * 3_600_000 }
    : undefined;

const PROBLEM_TITLE: Readonly<Record<ProtectionProblem['kind'], MessageKey>> = {
  frequency_missing: 'protection.title.frequencyMissing',
  stale: 'protection.title.stale',
  plan_missing: 'protection.title.planMissing',
  slots: 'protection.title.slots',
  snapshot_space: 'protection.title.snapshotSpace',
};

const PROBLEM_ICON: Readonly<Record<ProtectionProblem['kind'], string>> = {
  frequency_missing: ':rotating_light:',
  stale: ':hourglass:',
  plan_missing: ':calendar:',
  slots: ':inbox_tray:',
  snapshot_space: ':floppy_disk:',
};

/** Short words for a summary line. */
const PROBLEM_SHORT: Readonly<Record<ProtectionProblem['kind'], MessageKey>> = {
  frequency_missing: 'protection.short.frequencyMissing',
  stale: 'protection.short.stale',
  plan_missing: 'protection.short.planMissing',
  slots: 'protection.short.slots',
  snapshot_space: 'protection.short.snapshotSpace',
};

const duration = (ms: number, tr: Translator): string => formatDuration(ms, tr.lang);

function gapText(gap: PlanGap, tr: Translator): Text {
  switch (gap.cause) {
    case 'failed':
      if (gap.problem !== undefined)
        return tr.t('protection.gap.failedWith', { problem: problemText(gap.problem, tr) });
      return gap.ovh === undefined
        ? tr.t('protection.gap.failed')
        : tr.t('protection.gap.failedWith', { problem: verbatim(gap.ovh) });
    case 'reserve':
      return tr.t('protection.gap.reserve', { count: gap.count, reserve: gap.reserve });
    case 'not_taken':
      return tr.t('protection.gap.notTaken');
    case 'gone':
      return tr.t('protection.gap.gone');
  }
}

/** A protection problem in words (for alerts, status and the audit message). */
export function protectionProblemText(problem: ProtectionProblem, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (problem.kind) {
    case 'frequency_missing':
      return tr.t('protection.problem.frequencyMissing', {
        missing: tr.list(problem.missing.map(code), 'and'),
        count: problem.missing.length,
        required: tr.list(problem.required.map(code), 'and'),
      });
    case 'stale': {
      if (problem.newestAt === null) return tr.t('protection.problem.noRestorePoint');
      const limit = problem.level === 'critical' ? problem.criticalMs : problem.warnMs;
      return tr.t('protection.problem.stale', {
        when: date(problem.newestAt),
        limit: duration(limit, tr),
        level: problem.level,
        warn: duration(problem.warnMs, tr),
        critical: duration(problem.criticalMs, tr),
      });
    }
    case 'plan_missing':
      return joinText(
        problem.missing.map((miss) =>
          tr.t('protection.problem.planMissing', {
            label: code(miss.label),
            name: code(miss.name),
            when: date(miss.slotAt),
            gap: gapText(miss.gap, tr),
          }),
        ),
        '\n',
      );
    case 'slots': {
      const oldest =
        problem.oldest === undefined
          ? text()
          : tr.t('protection.problem.oldest', { name: code(problem.oldest.name), when: date(problem.oldest.takenAt) });
      const values = { count: problem.count, max: problem.max, reserve: problem.reserve, oldest };
      return problem.level === 'full'
        ? tr.t('protection.problem.slotsFull', values)
        : tr.t('protection.problem.slots', values);
    }
    case 'snapshot_space':
      return tr.t('protection.problem.snapshotSpace', { used: problem.usedPercent, limit: problem.limitPercent });
  }
}

export function protectionProblemTitle(problem: ProtectionProblem, tr: Translator = ENGLISH_TRANSLATOR): string {
  if (problem.kind === 'stale' && problem.level === 'critical') return tr.plain(tr.t('protection.title.staleCritical'));
  if (problem.kind === 'slots' && problem.level === 'full') return tr.plain(tr.t('protection.title.slotsFull'));
  return tr.plain(tr.t(PROBLEM_TITLE[problem.kind]));
}

/** What the Fix submits and how it runs: the action of its drafts, and the approval rule the gate applies to it. */
function fixRun(fix: AlertFixPlan, rules: ApprovalRuleOf): { action: ActionId; rule: ApprovalRule | undefined } {
  // The drafts are what the button submits: one action per fix (all its drafts alike).
  const action = fixDrafts(fix, { service: '', partition: '' })[0]?.action ?? 'snapshot.create';
  return { action, rule: rules(action) };
}

function fixLabel(fix: AlertFixPlan, rule: ApprovalRule | undefined, tr: Translator): string {
  const label =
    fix.kind === 'add_frequencies'
      ? tr.t('protection.fix.enableLabel', { types: fix.types.join(', ') })
      : fix.kind === 'take_snapshot'
        ? tr.t('protection.fix.takeLabel')
        : tr.t('protection.fix.deleteLabel', { name: fix.name });
  return tr.plain(rule === undefined ? label : text(label, tr.t('protection.fix.labelApproval')));
}

function fixExplanation(fix: AlertFixPlan, run: { action: ActionId; rule: ApprovalRule | undefined }, tr: Translator) {
  const how =
    run.rule === undefined
      ? tr.t('protection.fix.atOnce', { role: ACTIONS[run.action].role })
      : tr.t('protection.fix.withApproval', { quorum: run.rule.quorum });
  switch (fix.kind) {
    case 'add_frequencies':
      return tr.t('protection.fix.enable', { types: tr.list(fix.types.map(code), 'and'), how });
    case 'take_snapshot':
      return fix.name === undefined
        ? tr.t('protection.fix.take', { how })
        : tr.t('protection.fix.takeNamed', { name: code(fix.name), how });
    case 'delete_oldest':
      return tr.t('protection.fix.delete', { name: code(fix.name), how });
  }
}

/** Who pressed an alert's Fix (alerts and the audit message). */
export function fixPressedText(userIds: readonly string[], tr: Translator): Text {
  return tr.t('protection.fixPressedBy', { people: tr.list(userIds.map(user), 'and') });
}

/**
 * One alert's message in the alerts channel, as it stands (edited in place until it resolves), in the channel's
 * language (`tr`, no time zone: dates stay Slack's tokens). What the Fix says about approval is the gate's rule.
 */
export function alertMessage(
  view: AlertView,
  tr: Translator = ENGLISH_TRANSLATOR,
  rules: ApprovalRuleOf = DEFAULT_RULES,
): SlackMessage {
  const { alert, fix } = view;
  const where = code(`${alert.service}/${alert.partition}`);
  const title = protectionProblemTitle(alert.problem, tr);
  const resolved = alert.state === 'resolved';
  const lowered = title.toLocaleLowerCase(tr.lang);
  const head = resolved
    ? text(':white_check_mark: ', tr.t('protection.alert.resolvedOn', { title: lowered, where }))
    : text(`${PROBLEM_ICON[alert.problem.kind]} `, tr.t('protection.alert.on', { title, where }));
  const blocks: Block[] = [section(tr.mrkdwn(head)), section(tr.mrkdwn(protectionProblemText(alert.problem, tr)))];
  const facts: Text[] = [
    tr.t('protection.alert.policy', { policy: code(alert.policy) }),
    tr.t('protection.alert.opened', { when: date(alert.openedAt) }),
  ];
  if (alert.resolvedAt !== null) {
    facts.push(
      tr.t(
        alert.resolution === 'uncovered' ? 'protection.alert.resolvedUncovered' : 'protection.alert.resolvedCleared',
        {
          when: date(alert.resolvedAt),
        },
      ),
    );
  }
  const fixers = [...new Set(alert.fixes.map((f) => f.userId))];
  if (fixers.length > 0) facts.push(fixPressedText(fixers, tr));
  blocks.push(context(tr.mrkdwn(joinText(facts, ' · '))));
  if (!resolved && fix !== undefined) {
    const run = fixRun(fix, rules);
    blocks.push(context(tr.mrkdwn(fixExplanation(fix, run, tr))));
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: PROTECTION_ACTION.fix,
          text: plainText(fixLabel(fix, run.rule, tr), LIMITS.buttonText),
          value: JSON.stringify({ a: alert.id } satisfies FixButtonValue),
          ...(run.rule === undefined && { style: 'primary' }),
        },
      ],
    });
  }
  const summary = resolved
    ? tr.t('protection.alert.summaryResolved', { title: lowered, where })
    : tr.t('protection.alert.summary', { title, where, policy: code(alert.policy) });
  return message(summary, blocks, tr.reader);
}

// ---- status -------------------------------------------------------------------------------------------------

function originText(origin: CustomOrigin, tr: Translator): Text {
  switch (origin.kind) {
    case 'plan':
      return tr.t('protection.origin.plan', { label: code(origin.label) });
    case 'recorded': {
      const policy = systemActorPolicy(origin.by);
      return policy === undefined ? text(user(origin.by)) : tr.t('protection.origin.policy', { policy: code(policy) });
    }
    case 'name':
      return tr.t('protection.origin.name');
    case 'unknown':
      return tr.t('protection.origin.unknown');
  }
}

function pointLine(point: RestorePoint, tr: Translator): Text {
  if (point.kind === 'automatic') {
    return tr.t('protection.point.automatic', { type: code(point.type), age: duration(point.periodMs, tr) });
  }
  const when =
    point.takenAt === null
      ? tr.t('protection.point.timeUnknown')
      : tr.t('protection.point.taken', { when: date(point.takenAt) });
  const expiry =
    point.expiration === undefined
      ? text()
      : point.expiration === null
        ? tr.t('protection.point.keptUntilDeleted')
        : tr.t('protection.point.expires', {
            when: Number.isNaN(Date.parse(point.expiration))
              ? verbatim(point.expiration)
              : date(Date.parse(point.expiration)),
          });
  return tr.t('protection.point.custom', {
    name: code(point.name),
    when,
    origin: originText(point.takenBy, tr),
    expiry,
  });
}

const weekdayFormats = new Map<string, Intl.DateTimeFormat>();

/** A weekday's short name in the reader's language (0 = Sunday), from Intl. */
function weekdayName(weekday: number, tr: Translator): string {
  let format = weekdayFormats.get(tr.lang);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(tr.lang, { weekday: 'short', timeZone: 'UTC' });
    weekdayFormats.set(tr.lang, format);
  }
  // 2023-01-01 was a Sunday.
  return format.format(Date.UTC(2023, 0, 1 + weekday));
}

function classText(cls: PlanClass, tr: Translator): Text {
  const hh = String(Math.floor(cls.minuteOfDay / 60)).padStart(2, '0');
  const mm = String(cls.minuteOfDay % 60).padStart(2, '0');
  const at = `${cls.weekday === undefined ? '' : `${weekdayName(cls.weekday, tr)} `}${hh}:${mm}`;
  return tr.t('protection.class', { label: code(cls.label), keep: cls.keep, at });
}

function policyText(policy: ProtectionPolicy, tr: Translator): Text {
  const frequencies =
    policy.frequencies.length === 0
      ? tr.t('protection.policy.noFrequency')
      : tr.t('protection.policy.requires', { frequencies: tr.list(policy.frequencies.map(code), 'and') });
  const plan =
    policy.plan.length === 0
      ? tr.t('protection.policy.noPlan')
      : tr.t('protection.policy.plan', {
          classes: joinText(
            policy.plan.map((cls) => classText(cls, tr)),
            ', ',
          ),
        });
  return tr.t('protection.policy.line', {
    name: code(policy.name),
    frequencies,
    plan,
    zone: code(policy.timezone),
    reserve: policy.reserve,
    warn: duration(policy.maxAge.warnMs, tr),
    critical: duration(policy.maxAge.criticalMs, tr),
  });
}

function statusLineText(line: StatusLine, now: number, tr: Translator): Text {
  const where = code(`${line.service}/${line.partition}`);
  const icon =
    line.scannedAt === null ? ':grey_question:' : line.problems.length === 0 ? ':white_check_mark:' : ':warning:';
  const newest =
    line.newestAt === null
      ? tr.t('protection.line.noRestorePoint')
      : tr.t('protection.line.newest', { age: duration(Math.max(0, now - line.newestAt), tr) });
  const custom =
    line.customCount === null ? text() : tr.t('protection.line.custom', { count: line.customCount, max: CUSTOM_SLOTS });
  const problems =
    line.problems.length === 0
      ? text()
      : say` · ${joinText(
          line.problems.map((p) => tr.t(PROBLEM_SHORT[p.kind])),
          ', ',
        )}`;
  const scanned =
    line.scannedAt === null
      ? tr.t('protection.line.notScanned')
      : tr.t('protection.line.scanned', { when: date(line.scannedAt) });
  return say`${icon} ${where} (${code(line.policy)}) — ${newest}${custom}${problems}${scanned}`;
}

function pageButtons(
  query: string | undefined,
  page: { page: number; pageCount: number; total: number },
  tr: Translator,
): Block[] {
  if (page.pageCount <= 1) return [];
  const button = (id: 'previous' | 'next', target: number): types.Button => ({
    type: 'button',
    action_id: `${PROTECTION_ACTION.page}_${id}`,
    text: plainText(tr.plain(tr.t(id === 'previous' ? 'replies.previous' : 'replies.next')), LIMITS.buttonText),
    value: JSON.stringify({ q: query ?? '', p: target } satisfies StatusPageValue),
  });
  const buttons: types.Button[] = [];
  if (page.page > 1) buttons.push(button('previous', page.page - 1));
  if (page.page < page.pageCount) buttons.push(button('next', page.page + 1));
  return [
    divider,
    context(tr.mrkdwn(tr.t('replies.page', { page: page.page, pages: page.pageCount, total: page.total }))),
    { type: 'actions', elements: buttons },
  ];
}

/** The command the action table has for `words`, with this partition filled in (what the bot reads back). */
function commandExample(words: readonly string[], target: { service: string; partition: string }): string {
  const entry = commandFor(words);
  if (entry === undefined) throw new Error(`the action table has no ${words.join(' ')} command`);
  return `/nasha snapshot ${exampleOf(entry.command, { service: target.service, partition: formatTarget(target) })}`;
}

export function statusMessage(answer: StatusAnswer, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  if (answer.kind === 'list') {
    const scope =
      answer.scope.kind === 'all'
        ? tr.t('protection.status.scopeAll')
        : answer.scope.kind === 'service'
          ? text(answer.scope.service)
          : tr.t('protection.status.scopePolicy', { policy: answer.scope.policy });
    const title = tr.plain(tr.t('protection.status.title', { scope }));
    const blocks: Block[] = [header(title)];
    const items = answer.page.items;
    const first = items[0];
    if (first === undefined) {
      blocks.push(
        section(tr.mrkdwn(tr.t(answer.inventoryPending ? 'protection.status.pending' : 'protection.status.none'))),
      );
    } else {
      const withProblems = items.filter((line) => line.problems.length > 0);
      blocks.push(
        section(
          tr.mrkdwn(
            tr.t('protection.status.summary', {
              total: answer.page.total,
              troubled: withProblems.length,
              // The example is the first partition with a problem: the one a reader wants details of.
              command: code(commandExample(['status'], withProblems[0] ?? first)),
            }),
          ),
        ),
      );
      // One line each, several per section (a section holds 3000 characters).
      for (let i = 0; i < items.length; i += 10) {
        blocks.push(
          section(
            tr.mrkdwn(
              joinText(
                items.slice(i, i + 10).map((line) => statusLineText(line, answer.now, tr)),
                '\n',
              ),
            ),
          ),
        );
      }
    }
    blocks.push(...pageButtons(answer.query, answer.page, tr));
    return message(title, blocks, tr.reader);
  }
  const where = formatTarget(answer.target);
  const points = answer.assessment.restorePoints;
  const title = tr.plain(tr.t('protection.detail.title', { where }));
  const blocks: Block[] = [header(title)];
  blocks.push(
    section(
      tr.mrkdwn(answer.policy === undefined ? tr.t('protection.detail.noPolicy') : policyText(answer.policy, tr)),
    ),
  );
  blocks.push(
    section(
      tr.mrkdwn(
        points.length === 0
          ? tr.t('protection.detail.pointsNone')
          : tr.t('protection.detail.points', {
              points: joinText(
                points.slice(0, 20).map((point) => pointLine(point, tr)),
                '\n',
              ),
            }),
      ),
    ),
  );
  const oldest = answer.assessment.oldestAt;
  const longestAuto = points.filter((p) => p.kind === 'automatic').reduce((m, p) => Math.max(m, p.periodMs), 0);
  const back: Text[] = [];
  if (oldest !== null) back.push(tr.t('protection.detail.backOldest', { when: date(oldest) }));
  if (longestAuto > 0) back.push(tr.t('protection.detail.backAuto', { age: duration(longestAuto, tr) }));
  blocks.push(
    section(
      tr.mrkdwn(
        back.length === 0
          ? tr.t('protection.detail.backNothing')
          : tr.t('protection.detail.back', { reach: tr.list(back, 'and') }),
      ),
    ),
  );
  const problems = answer.assessment.problems;
  blocks.push(
    section(
      tr.mrkdwn(
        problems.length === 0
          ? tr.t('protection.detail.problemsNone')
          : tr.t('protection.detail.problems', {
              problems: joinText(
                problems.map((p) => text(`${PROBLEM_ICON[p.kind]} `, protectionProblemText(p, tr))),
                '\n',
              ),
            }),
      ),
    ),
  );
  return message(title, blocks, tr.reader);
}

// ---- restore ------------------------------------------------------------------------------------------------

/** A gap to the minute: restore points are minutes apart at best. */
function gapWords(ms: number, tr: Translator): Text {
  return ms < 60_000 ? tr.t('protection.restore.lessThanMinute') : text(duration(Math.round(ms / 60_000) * 60_000, tr));
}

export function restoreMessage(answer: RestoreAnswer, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const where = formatTarget(answer.target);
  const blocks: Block[] = [header(tr.plain(tr.t('protection.restore.title', { where })))];
  const placeholder = (key: MessageKey) => `<${tr.plain(tr.t(key))}>`;
  const best = answer.best;
  let name: string;
  if (best !== undefined && best.takenAt !== null) {
    name = best.name;
    const values = {
      where: code(where),
      at: date(answer.at),
      name: code(best.name),
      taken: date(best.takenAt),
      gap: gapWords(answer.at - best.takenAt, tr),
    };
    blocks.push(section(tr.mrkdwn(text(':dart: ', tr.t('protection.restore.use', values)))));
  } else {
    name = answer.after?.name ?? placeholder('protection.restore.snapshotWord');
    const after = answer.after;
    const words =
      after !== undefined && after.takenAt !== null
        ? tr.t('protection.restore.after', {
            at: date(answer.at),
            name: code(after.name),
            taken: date(after.takenAt),
            gap: gapWords(after.takenAt - answer.at, tr),
          })
        : tr.t('protection.restore.none', { at: date(answer.at) });
    blocks.push(section(tr.mrkdwn(text(':warning: ', words))));
  }
  if (answer.automatic.length > 0) {
    const types = tr.list(
      answer.automatic.map((p) => code(p.type)),
      'and',
    );
    blocks.push(section(tr.mrkdwn(tr.t('protection.restore.automatic', { types, dir: code('.zfs/snapshot/') }))));
  }
  if (answer.undated.length > 0) {
    const names = joinText(answer.undated.slice(0, 10).map(code), ', ');
    blocks.push(context(tr.mrkdwn(tr.t('protection.restore.undated', { names }))));
  }
  blocks.push(section(tr.mrkdwn(tr.t('protection.restore.copy', { dir: code(`.zfs/snapshot/${name}/`) }))));
  const protocol = answer.protocol ?? 'NFS';
  const host = answer.ip ?? placeholder('protection.restore.nasIp');
  const path = placeholder('protection.restore.pathWord');
  const share = placeholder('protection.restore.shareWord');
  const mount = `/mnt/${answer.target.partition}`;
  // The safety snapshot is the action table's own command (its words) that the caller may run, named for what it
  // is for; when they may run none, who can.
  const safetyWords = answer.safety === 'quick' ? ['quick'] : ['create'];
  const safety = `/nasha snapshot ${commandFor(safetyWords)?.command.words.join(' ') ?? safetyWords[0]} ${where} before-restore`;
  const steps: Text[] = [
    answer.safety === 'none'
      ? tr.t('protection.restore.safetyOthers', { n: 1, command: code(safety) })
      : tr.t('protection.restore.safety', { n: 1, command: code(safety) }),
  ];
  if (protocol !== 'CIFS') {
    const rsync = `rsync -av --dry-run ${mount}/.zfs/snapshot/${name}/${path}/ ${mount}/${path}/`;
    steps.push(
      tr.t('protection.restore.nfsDry', { n: 2, mount: code(mount), command: code(rsync) }),
      tr.t('protection.restore.nfsRun', { n: 3, flag: code('--dry-run'), options: code('-av') }),
    );
  }
  if (protocol !== 'NFS') {
    const first = protocol === 'CIFS' ? 2 : 4;
    const robocopy = `robocopy "\\\\${host}\\${share}\\.zfs\\snapshot\\${name}\\${path}" "\\\\${host}\\${share}\\${path}" /E /L`;
    steps.push(
      tr.t('protection.restore.cifsDry', { n: first, flag: code('/L'), command: code(robocopy) }),
      tr.t('protection.restore.cifsRun', { n: first + 1, flag: code('/L') }),
    );
  }
  blocks.push(section(tr.mrkdwn(joinText(steps, '\n'))));
  return message(tr.t('protection.restore.summary', { where: code(where) }), blocks, tr.reader);
}
