/**
 * Protection in Slack: the alert messages of the alerts channel, `status` and `restore` replies, and the words
 * for protection problems (also used by the audit message). Pure builders from core data.
 */
import type { types } from '@slack/bolt';
import { formatTarget } from '../../core/model.js';
import { systemActorPolicy } from '../../core/protection/actor.js';
import type { CustomOrigin, RestorePoint } from '../../core/protection/assess.js';
import type { AlertFixPlan } from '../../core/protection/fixes.js';
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
import { bold, code, date, joinText, listOf, plain, say, type Text, text, user, verbatim } from '../text.js';
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

const PROBLEM_TITLE: Readonly<Record<ProtectionProblem['kind'], string>> = {
  frequency_missing: 'Required frequencies are off',
  stale: 'Restore points are too old',
  plan_missing: 'A plan snapshot is missing',
  slots: 'Custom snapshot slots are running out',
  snapshot_space: 'Snapshots use too much space',
};

const PROBLEM_ICON: Readonly<Record<ProtectionProblem['kind'], string>> = {
  frequency_missing: ':rotating_light:',
  stale: ':hourglass:',
  plan_missing: ':calendar:',
  slots: ':inbox_tray:',
  snapshot_space: ':floppy_disk:',
};

/** Short words for a summary line. */
const PROBLEM_SHORT: Readonly<Record<ProtectionProblem['kind'], string>> = {
  frequency_missing: 'frequencies off',
  stale: 'restore points too old',
  plan_missing: 'plan snapshot missing',
  slots: 'slots running out',
  snapshot_space: 'snapshot space',
};

function gapText(gap: PlanGap): Text {
  switch (gap.cause) {
    case 'failed':
      return gap.problem !== undefined
        ? say`it failed: ${problemText(gap.problem)}`
        : say`it failed${gap.ovh === undefined ? text() : say`: ${verbatim(gap.ovh)}`}`;
    case 'reserve':
      return say`skipped: the partition had ${gap.count} custom snapshots, and ${gap.reserve} slots are kept free for people`;
    case 'not_taken':
      return text('not taken (the bot was down, or has not got to it yet)');
    case 'gone':
      return text('taken, and no longer on OVH (deleted, or expired early)');
  }
}

/** A protection problem in words (for alerts, status and the audit message). */
export function protectionProblemText(problem: ProtectionProblem): Text {
  switch (problem.kind) {
    case 'frequency_missing':
      return say`${listOf(problem.missing.map(code), 'and')} ${problem.missing.length === 1 ? 'is' : 'are'} not enabled; the policy requires ${listOf(problem.required.map(code), 'and')}.`;
    case 'stale': {
      const limit = problem.level === 'critical' ? problem.criticalMs : problem.warnMs;
      return problem.newestAt === null
        ? say`There is no restore point at all: no automatic frequency is enabled and no custom snapshot has a known time.`
        : say`The newest restore point is from ${date(problem.newestAt)} at the latest: more than ${formatDuration(limit)} old (${problem.level === 'critical' ? bold('critical') : 'warning'}; warn at ${formatDuration(problem.warnMs)}, critical at ${formatDuration(problem.criticalMs)}).`;
    }
    case 'plan_missing':
      return joinText(
        problem.missing.map(
          (miss) =>
            say`The ${code(miss.label)} snapshot ${code(miss.name)} due ${date(miss.slotAt)} is not on OVH: ${gapText(miss.gap)}.`,
        ),
        '\n',
      );
    case 'slots': {
      const oldest =
        problem.oldest === undefined
          ? text()
          : say` The oldest with a known time is ${code(problem.oldest.name)} (${date(problem.oldest.takenAt)}).`;
      return problem.level === 'full'
        ? say`${problem.count}/${problem.max} custom snapshots: the partition is full, no plan or incident snapshot can be taken.${oldest}`
        : say`${problem.count}/${problem.max} custom snapshots: the ${problem.reserve} slots kept free for people and incidents are in use, so plan snapshots are skipped until one frees up.${oldest}`;
    }
    case 'snapshot_space':
      return say`Snapshots use ${problem.usedPercent}% of the partition, over the policy's ${problem.limitPercent}%: beyond the snapshot reserve they take the data's space.`;
  }
}

export function protectionProblemTitle(problem: ProtectionProblem): string {
  if (problem.kind === 'stale' && problem.level === 'critical') return 'Restore points are critically old';
  if (problem.kind === 'slots' && problem.level === 'full') return 'Custom snapshot slots are full';
  return PROBLEM_TITLE[problem.kind];
}

function fixLabel(fix: AlertFixPlan): string {
  switch (fix.kind) {
    case 'add_frequencies':
      return `Fix: enable ${fix.types.join(', ')}`;
    case 'take_snapshot':
      return 'Fix: take a snapshot now';
    case 'delete_oldest':
      return `Fix: delete ${fix.name} (with approval)`;
  }
}

function fixExplanation(fix: AlertFixPlan): Text {
  switch (fix.kind) {
    case 'add_frequencies':
      return say`${bold('Fix')} enables ${listOf(fix.types.map(code), 'and')} in your name (operators: at once).`;
    case 'take_snapshot':
      return fix.name === undefined
        ? say`${bold('Fix')} takes a custom snapshot now, in your name (operators: at once).`
        : say`${bold('Fix')} takes ${code(fix.name)} now, in your name (operators: at once).`;
    case 'delete_oldest':
      return say`${bold('Fix')} asks to delete ${code(fix.name)} to free a slot: a second person approves it first.`;
  }
}

/** One alert's message in the alerts channel, as it stands (edited in place until it resolves). */
export function alertMessage(view: AlertView): SlackMessage {
  const { alert, fix } = view;
  const where = code(`${alert.service}/${alert.partition}`);
  const title = protectionProblemTitle(alert.problem);
  const resolved = alert.state === 'resolved';
  const head = resolved
    ? say`:white_check_mark: ${bold(`Resolved: ${title.toLowerCase()}`)} on ${where}`
    : say`${PROBLEM_ICON[alert.problem.kind]} ${bold(title)} on ${where}`;
  const blocks: Block[] = [section(head), section(protectionProblemText(alert.problem))];
  const facts: Text[] = [say`Policy ${code(alert.policy)}`, say`opened ${date(alert.openedAt)}`];
  if (alert.resolvedAt !== null) {
    facts.push(
      alert.resolution === 'uncovered'
        ? say`resolved ${date(alert.resolvedAt)}: the partition is no longer covered by a policy`
        : say`resolved ${date(alert.resolvedAt)}: the problem cleared`,
    );
  }
  const fixers = [...new Set(alert.fixes.map((f) => f.userId))];
  if (fixers.length > 0) facts.push(say`Fix pressed by ${listOf(fixers.map(user), 'and')}`);
  blocks.push(context(joinText(facts, ' · ')));
  if (!resolved && fix !== undefined) {
    blocks.push(context(fixExplanation(fix)));
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: PROTECTION_ACTION.fix,
          text: plainText(fixLabel(fix), LIMITS.buttonText),
          value: JSON.stringify({ a: alert.id } satisfies FixButtonValue),
          ...(fix.kind !== 'delete_oldest' && { style: 'primary' }),
        },
      ],
    });
  }
  const summary = resolved
    ? say`Resolved: ${title.toLowerCase()} on ${where}`
    : say`${title} on ${where} (policy ${code(alert.policy)})`;
  return message(summary, blocks);
}

// ---- status -------------------------------------------------------------------------------------------------

function originText(origin: CustomOrigin): Text {
  switch (origin.kind) {
    case 'plan':
      return say`plan ${code(origin.label)}`;
    case 'recorded': {
      const policy = systemActorPolicy(origin.by);
      return policy === undefined ? text(user(origin.by)) : say`policy ${code(policy)}`;
    }
    case 'name':
      return text('time from its name');
    case 'unknown':
      return text('taken outside the bot, time unknown');
  }
}

function pointLine(point: RestorePoint): Text {
  if (point.kind === 'automatic') {
    return say`• ${code(point.type)} — automatic, at most ${formatDuration(point.periodMs)} old`;
  }
  const when = point.takenAt === null ? text('time unknown') : say`taken ${date(point.takenAt)}`;
  const expiry =
    point.expiration === undefined
      ? text()
      : point.expiration === null
        ? text(' · kept until deleted')
        : Number.isNaN(Date.parse(point.expiration))
          ? say` · expires ${verbatim(point.expiration)}`
          : say` · expires ${date(Date.parse(point.expiration))}`;
  return say`• ${code(point.name)} — ${when} (${originText(point.takenBy)})${expiry}`;
}

function classText(cls: PlanClass): Text {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const hh = String(Math.floor(cls.minuteOfDay / 60)).padStart(2, '0');
  const mm = String(cls.minuteOfDay % 60).padStart(2, '0');
  const at = `${cls.weekday === undefined ? '' : `${days[cls.weekday]} `}${hh}:${mm}`;
  return say`${code(cls.label)} ×${cls.keep} at ${at}`;
}

function policyText(policy: ProtectionPolicy): Text {
  const frequencies =
    policy.frequencies.length === 0
      ? text('no frequency required')
      : say`requires ${listOf(policy.frequencies.map(code), 'and')}`;
  const plan = policy.plan.length === 0 ? text('no plan') : say`plan ${joinText(policy.plan.map(classText), ', ')}`;
  const zone = policy.timezone === 'UTC' ? text(' (UTC)') : say` (${code(policy.timezone)})`;
  return say`Policy ${code(policy.name)}: ${frequencies}; ${plan}${zone}; ${policy.reserve} slots kept free; max age ${formatDuration(policy.maxAge.warnMs)} / ${formatDuration(policy.maxAge.criticalMs)}.`;
}

function statusLineText(line: StatusLine, now: number): Text {
  const where = code(`${line.service}/${line.partition}`);
  const icon =
    line.scannedAt === null ? ':grey_question:' : line.problems.length === 0 ? ':white_check_mark:' : ':warning:';
  const newest =
    line.newestAt === null
      ? text('no restore point')
      : say`newest ≤ ${formatDuration(Math.max(0, now - line.newestAt))} old`;
  const custom = line.customCount === null ? text() : say` · ${line.customCount}/${CUSTOM_SLOTS} custom`;
  const problems =
    line.problems.length === 0
      ? text()
      : say` · ${joinText(
          line.problems.map((p) => PROBLEM_SHORT[p.kind]),
          ', ',
        )}`;
  const scanned = line.scannedAt === null ? text(' · not scanned yet') : say` · scanned ${date(line.scannedAt)}`;
  return say`${icon} ${where} (${code(line.policy)}) — ${newest}${custom}${problems}${scanned}`;
}

function pageButtons(query: string | undefined, page: { page: number; pageCount: number; total: number }): Block[] {
  if (page.pageCount <= 1) return [];
  const button = (label: string, target: number): types.Button => ({
    type: 'button',
    action_id: `${PROTECTION_ACTION.page}_${label.toLowerCase()}`,
    text: plainText(label, LIMITS.buttonText),
    value: JSON.stringify({ q: query ?? '', p: target } satisfies StatusPageValue),
  });
  const buttons: types.Button[] = [];
  if (page.page > 1) buttons.push(button('Previous', page.page - 1));
  if (page.page < page.pageCount) buttons.push(button('Next', page.page + 1));
  return [
    divider,
    context(say`Page ${page.page} of ${page.pageCount} (${page.total} partitions)`),
    { type: 'actions', elements: buttons },
  ];
}

export function statusMessage(answer: StatusAnswer): SlackMessage {
  if (answer.kind === 'list') {
    const scope =
      answer.scope.kind === 'all'
        ? 'all policies'
        : answer.scope.kind === 'service'
          ? answer.scope.service
          : `policy ${answer.scope.policy}`;
    const blocks: Block[] = [header(`Protection status — ${scope}`)];
    const items = answer.page.items;
    if (items.length === 0) {
      blocks.push(section(text('No covered partition you can see here.')));
    } else {
      const troubled = items.filter((line) => line.problems.length > 0).length;
      blocks.push(
        section(
          say`${answer.page.total} protected partition${answer.page.total === 1 ? '' : 's'}; on this page ${troubled} with problems. Details: ${code('/nasha snapshot status <service>/<partition>')}.`,
        ),
      );
      // One line each, several per section (a section holds 3000 characters).
      for (let i = 0; i < items.length; i += 10) {
        blocks.push(
          section(
            joinText(
              items.slice(i, i + 10).map((line) => statusLineText(line, answer.now)),
              '\n',
            ),
          ),
        );
      }
    }
    blocks.push(...pageButtons(answer.query, answer.page));
    return message(`Protection status — ${scope}`, blocks);
  }
  const where = formatTarget(answer.target);
  const points = answer.assessment.restorePoints;
  const blocks: Block[] = [header(`Protection — ${where}`)];
  blocks.push(
    section(
      answer.policy === undefined ? text('No protection policy covers this partition.') : policyText(answer.policy),
    ),
  );
  blocks.push(
    section(
      points.length === 0
        ? say`${bold('Restore points')}: none.`
        : say`${bold('Restore points')}\n${joinText(points.slice(0, 20).map(pointLine), '\n')}`,
    ),
  );
  const oldest = answer.assessment.oldestAt;
  const longestAuto = points.filter((p) => p.kind === 'automatic').reduce((m, p) => Math.max(m, p.periodMs), 0);
  const back: Text[] = [];
  if (oldest !== null) back.push(say`to ${date(oldest)} (the oldest custom snapshot with a known time)`);
  if (longestAuto > 0) back.push(say`automatic snapshots reach at most ${formatDuration(longestAuto)} back`);
  blocks.push(
    section(
      back.length === 0
        ? say`${bold('How far back')}: nothing to restore from.`
        : say`${bold('How far back')}: ${joinText(back, '; ')}.`,
    ),
  );
  const problems = answer.assessment.problems;
  blocks.push(
    section(
      problems.length === 0
        ? say`${bold('Problems')}: none.`
        : say`${bold('Problems')}\n${joinText(
            problems.map((p) => say`${PROBLEM_ICON[p.kind]} ${protectionProblemText(p)}`),
            '\n',
          )}`,
    ),
  );
  return message(`Protection — ${where}`, blocks);
}

// ---- restore ------------------------------------------------------------------------------------------------

/** A gap to the minute: restore points are minutes apart at best. */
function gapWords(ms: number): string {
  return ms < 60_000 ? 'less than a minute' : formatDuration(Math.round(ms / 60_000) * 60_000);
}

export function restoreMessage(answer: RestoreAnswer): SlackMessage {
  const where = formatTarget(answer.target);
  const blocks: Block[] = [header(`Restore help — ${where}`)];
  const best = answer.best;
  let name: string;
  if (best !== undefined && best.takenAt !== null) {
    name = best.name;
    blocks.push(
      section(
        say`:dart: To get ${code(where)} back as it was at ${date(answer.at)}: ${bold('use')} ${code(best.name)}, taken ${date(best.takenAt)} — ${gapWords(answer.at - best.takenAt)} before that moment (what changed in between is not in it).`,
      ),
    );
  } else {
    name = answer.after?.name ?? '<snapshot>';
    blocks.push(
      section(
        answer.after !== undefined && answer.after.takenAt !== null
          ? say`:warning: No custom snapshot is from before ${date(answer.at)}. The oldest, ${code(answer.after.name)}, was taken ${date(answer.after.takenAt)}: ${gapWords(answer.after.takenAt - answer.at)} after that moment, so it already holds later changes.`
          : say`:warning: No custom snapshot with a known time is from before ${date(answer.at)}.`,
      ),
    );
  }
  if (answer.automatic.length > 0) {
    blocks.push(
      section(
        say`Automatic snapshots ${listOf(
          answer.automatic.map((p) => code(p.type)),
          'and',
        )} may also hold that moment: NAS-HA keeps only the latest of each, taken at some time within its period, so look at its date in ${code('.zfs/snapshot/')} before using it.`,
      ),
    );
  }
  if (answer.undated.length > 0) {
    blocks.push(
      context(
        say`Custom snapshots taken outside the bot, time unknown: ${joinText(answer.undated.slice(0, 10).map(code), ', ')}.`,
      ),
    );
  }
  blocks.push(
    section(
      say`${bold('Getting the data back')}: the bot cannot reach the share, so you copy the files yourself. Every snapshot is a read-only directory of the share, ${code(`.zfs/snapshot/${name}/`)}, over NFS and CIFS alike.`,
    ),
  );
  const protocol = answer.protocol ?? 'NFS';
  const host = answer.ip ?? '<NAS IP>';
  const steps: Text[] = [
    say`1. First take a safety snapshot of what is there now: ${code(`/nasha snapshot create ${where} before-restore`)}.`,
  ];
  if (protocol !== 'CIFS') {
    steps.push(
      say`2. NFS, on a host that mounts the partition (say at ${code(`/mnt/${answer.target.partition}`)}): a dry run lists what would change — ${code(`rsync -av --dry-run /mnt/${answer.target.partition}/.zfs/snapshot/${name}/<path>/ /mnt/${answer.target.partition}/<path>/`)}`,
      say`3. Then the same without ${code('--dry-run')}. Keep to ${code('-av')}: OVH warns that other rsync options can break the share's permissions.`,
    );
  }
  if (protocol !== 'NFS') {
    steps.push(
      say`${protocol === 'CIFS' ? '2.' : '4.'} CIFS, from Windows: ${code('/L')} lists what would be copied — ${code(`robocopy "\\\\${host}\\<share>\\.zfs\\snapshot\\${name}\\<path>" "\\\\${host}\\<share>\\<path>" /E /L`)}`,
      say`${protocol === 'CIFS' ? '3.' : '5.'} Then the same without ${code('/L')}.`,
    );
  }
  blocks.push(section(joinText(steps, '\n')));
  return message(plain(say`Restore help for ${where}`), blocks);
}
