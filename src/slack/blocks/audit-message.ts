/**
 * Block Kit for one audit message. Pure: same record, same message, so the outbox can re-render any version.
 * The detail is rendered from its structured form (`parseAuditDetail`): a person's words only ever verbatim,
 * mentions only from the IDs the record holds. Every piece of text is cut to Slack's limits (with "…") because
 * Slack rejects the whole message otherwise, and an audit message must always go out.
 */
import type { types } from '@slack/bolt';
import { ACTIONS, type SubjectKind } from '../../core/actions.js';
import { type AuditAction, type AuditOutcome, type AuditRecord, shortAuditHash } from '../../core/audit.js';
import {
  type AuditDetail,
  type ProtectionAuditDetail,
  parseAuditDetail,
  type QuickAuditSummary,
} from '../../core/audit-detail.js';
import { formatTarget } from '../../core/model.js';
import { systemActorPolicy } from '../../core/protection/actor.js';
import { formatDuration } from '../../shared/duration.js';
import {
  bold,
  channel,
  code,
  date,
  fallback,
  joinText,
  listOf,
  mrkdwn,
  say,
  type Text,
  text,
  user,
  verbatim,
} from '../text.js';
import { cutMrkdwn } from './limits.js';
import { problemText, refusalText, sentence, storedText, taskFailureText } from './problems.js';
import { protectionProblemText } from './protection.js';
import { settlementText } from './settlements.js';

/** Slack's documented limits that this message could reach. */
export const SLACK_LIMITS = {
  sectionText: 3000,
  fieldCount: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 2000,
  blocks: 50,
  fallbackText: 4000,
} as const;

/** Cuts mrkdwn to a limit without breaking an entity, a token, a surrogate pair or a code span. */
export const cut = cutMrkdwn;

/** Every outcome has its own look: the compiler flags an outcome added to the trail and not shown here. */
const OUTCOME_LOOK: Readonly<Record<AuditOutcome, { emoji: string; label: string }>> = {
  started: { emoji: ':hourglass_flowing_sand:', label: 'Started' },
  succeeded: { emoji: ':white_check_mark:', label: 'Succeeded' },
  partial: { emoji: ':large_orange_circle:', label: 'Partial: some not taken' },
  failed: { emoji: ':x:', label: 'Failed' },
  denied: { emoji: ':no_entry:', label: 'Denied' },
  noop: { emoji: ':information_source:', label: 'No-op: already so, nothing changed' },
  invalid: { emoji: ':grey_exclamation:', label: 'Invalid input: nothing changed' },
  refused: { emoji: ':raised_hand:', label: 'Refused click' },
  requested: { emoji: ':raising_hand:', label: 'Approval requested' },
  approved: { emoji: ':ballot_box_with_check:', label: 'Approved' },
  rejected: { emoji: ':no_entry_sign:', label: 'Rejected' },
  expired: { emoji: ':hourglass:', label: 'Expired' },
  cancelled: { emoji: ':leftwards_arrow_with_hook:', label: 'Cancelled' },
  invalidated: { emoji: ':warning:', label: 'Invalidated: target changed, not executed' },
  not_applied: { emoji: ':heavy_minus_sign:', label: 'Not applied: OVH did not make the change' },
  unknown: { emoji: ':grey_question:', label: 'Unknown: being checked on OVH' },
  alerted: { emoji: ':rotating_light:', label: 'Alert open' },
  resolved: { emoji: ':large_green_circle:', label: 'Resolved' },
};

const ACTION_LABEL: Readonly<Record<AuditAction, string>> = {
  'schedule.add': 'Add snapshot schedule',
  'schedule.remove': 'Remove snapshot schedule',
  'snapshot.create': 'Create snapshot',
  'snapshot.delete': 'Delete snapshot',
  'approval.decide': 'Approval decision',
  'snapshot.quick': 'Quick snapshots',
  'protection.alert': 'Protection alert',
};

/** What the record's subject is, from the action table. */
const SUBJECT_LABEL: Readonly<Record<SubjectKind, string>> = {
  snapshot: 'Snapshot',
  frequency: 'Frequency',
  label: 'Label',
  request: 'Request',
  problem: 'Problem',
};

/** Partitions listed per state in a quick run's detail; more are counted. */
const QUICK_LISTED = 10;

export function auditMessage(record: AuditRecord): { text: string; blocks: types.KnownBlock[] } {
  const look = OUTCOME_LOOK[record.outcome];
  const action = ACTION_LABEL[record.action];
  // A quick run's "target" is what its requester typed: shown literally like any of their words.
  const target = verbatim(formatTarget(record.target));
  const who = actorText(record.actorUserId);
  const detail = parseAuditDetail(record.detail);

  const fields: Text[] = [
    say`${bold('Who')}\n${who}`,
    say`${bold('What')}\n${action} (${code(record.action)})`,
    say`${bold('Target')}\n${target}`,
  ];
  if (record.subject !== null) fields.push(subjectField(record.action, record.subject));
  fields.push(say`${bold('Outcome')}\n${look.emoji} ${look.label}`);
  fields.push(say`${bold('OVH task')}\n${record.taskId === null ? '—' : code(String(record.taskId))}`);
  if (record.channelId !== null) fields.push(say`${bold('Requested in')}\n${channel(record.channelId)}`);
  if (detail?.approvalId !== undefined && ACTIONS[record.action].subject !== 'request')
    fields.push(say`${bold('Approval request')}\n${code(`#${detail.approvalId}`)}`);

  const blocks: types.KnownBlock[] = [
    mrkdwnSection(say`${look.emoji} ${bold(action)} on ${target}: ${bold(look.label)}`),
    {
      type: 'section',
      fields: fields
        .slice(0, SLACK_LIMITS.fieldCount)
        .map((field) => ({ type: 'mrkdwn', text: cut(mrkdwn(field), SLACK_LIMITS.fieldText) })),
    },
  ];
  if (detail !== undefined) blocks.push(...detailSections(record, detail));

  const times: Text[] = [say`Created ${when(record.createdAt)}`];
  if (record.updatedAt !== record.createdAt) times.push(say`Updated ${when(record.updatedAt)}`);
  // The short chain hash lets a reader cross-check this message with `npm run audit:verify`.
  const chain = record.hash === null ? text() : say` · hash ${code(shortAuditHash(record.hash))}`;
  blocks.push({
    type: 'context',
    elements: [...times, say`Audit ${code(record.id)} v${record.version}${chain}`]
      .slice(0, SLACK_LIMITS.contextElements)
      .map((element) => ({ type: 'mrkdwn', text: cut(mrkdwn(element), SLACK_LIMITS.contextText) })),
  });

  const task = record.taskId === null ? text() : say` (OVH task ${record.taskId})`;
  const summary = say`${look.emoji} ${action} on ${target} by ${who}: ${look.label}${task}`;
  return { text: cut(fallback(summary), SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** A person by mention; the bot acting for a protection policy by the policy's name. */
function actorText(actorUserId: string): Text {
  const policy = systemActorPolicy(actorUserId);
  return policy === undefined ? text(user(actorUserId)) : say`nasha-bot, for protection policy ${code(policy)}`;
}

function subjectField(action: AuditAction, subject: string): Text {
  const kind = ACTIONS[action].subject;
  const label = kind === undefined ? 'Subject' : SUBJECT_LABEL[kind];
  // Approval requests are named `#ID` everywhere people see them (cards, replies).
  const value = kind === 'request' ? verbatim(`#${subject}`) : verbatim(subject);
  return say`${bold(label)}\n${value}`;
}

/** Who decided, by what the decision was. */
function decidedLabel(outcome: AuditOutcome): string {
  if (outcome === 'rejected') return 'Rejected by';
  if (outcome === 'cancelled') return 'Cancelled by';
  return 'Approved by';
}

function detailSections(record: AuditRecord, detail: AuditDetail): types.KnownBlock[] {
  const parts: Array<{ label: string; data: unknown; render: () => Text }> = [];
  const { reason, decidedBy, problem, task, settlement, ovh, note, quick } = detail;
  if (reason !== undefined) parts.push({ label: 'Reason', data: reason, render: () => text(verbatim(reason)) });
  if (decidedBy !== undefined && decidedBy.length > 0) {
    const render = () => listOf(decidedBy.map(user), 'and');
    parts.push({ label: decidedLabel(record.outcome), data: decidedBy, render });
  }
  if (problem !== undefined) {
    // A refusal names its own target when it keeps one (a quick run's partition), else the record's.
    const render = () =>
      problem.kind === 'refused' ? sentence(refusalText(problem.refusal, record.target)) : problemText(problem);
    parts.push({ label: 'Why', data: problem, render });
  }
  if (task !== undefined) parts.push({ label: 'Why', data: task, render: () => taskFailureText(task) });
  if (settlement !== undefined) {
    parts.push({ label: 'Reconciliation', data: settlement, render: () => settlementText(settlement) });
  }
  // Written by older versions: OVH's words inside the bot's, and the bot's own note on a reconciled change.
  if (ovh !== undefined) parts.push({ label: 'OVH said', data: ovh, render: () => text(verbatim(ovh)) });
  if (note !== undefined) parts.push({ label: 'Reconciliation', data: note, render: () => text(verbatim(note)) });
  if (quick !== undefined) parts.push({ label: 'Partitions', data: quick, render: () => quickText(quick) });
  const protection = detail.protection;
  if (protection !== undefined) {
    parts.push({ label: 'Protection', data: protection, render: () => protectionDetailText(protection) });
  }
  const legacy = detail.text;
  if (legacy !== undefined) parts.push({ label: 'Detail', data: legacy, render: () => text(verbatim(legacy)) });
  return parts.map(({ label, data, render }) => mrkdwnSection(say`${bold(label)}\n${storedText(render, data)}`));
}

function protectionDetailText(detail: ProtectionAuditDetail): Text {
  const lines: Text[] = [];
  const plan = detail.plan;
  if (plan !== undefined) {
    const late = plan.lateMs >= 60_000 ? say`, taken ${formatDuration(plan.lateMs)} late` : text();
    const missed = plan.missed ? text(' (missed while the bot was down, taken at its start)') : text();
    lines.push(
      say`Plan snapshot ${code(plan.label)} of policy ${code(detail.policy)} for ${date(plan.slotAt)}${late}${missed}`,
    );
  }
  if (detail.problem !== undefined) lines.push(protectionProblemText(detail.problem));
  if (detail.fixedBy !== undefined && detail.fixedBy.length > 0) {
    lines.push(say`Fix pressed by ${listOf(detail.fixedBy.map(user), 'and')}`);
  }
  if (detail.resolution === 'uncovered') lines.push(text('Resolved: the partition is no longer covered by a policy'));
  if (detail.resolution === 'cleared') lines.push(text('Resolved: the problem cleared'));
  return joinText(lines, '\n');
}

function quickText(quick: QuickAuditSummary): Text {
  // Counts and times first: a long list is what a cut takes away.
  const lines: Text[] = [];
  if (quick.pending > 0) lines.push(say`Not finished yet: ${quick.pending}`);
  if (quick.expiration !== null) {
    const at = Date.parse(quick.expiration);
    lines.push(say`Expires ${Number.isNaN(at) ? verbatim(quick.expiration) : date(at)}`);
  }
  const list = (label: string, items: readonly string[]) => {
    if (items.length === 0) return;
    const shown = items.slice(0, QUICK_LISTED).map((item) => verbatim(item));
    const more = items.length > QUICK_LISTED ? say` and ${items.length - QUICK_LISTED} more` : text();
    lines.push(say`${label} (${items.length}): ${joinText(shown, ', ')}${more}`);
  };
  list('Taken', quick.taken);
  list('Failed', quick.failed);
  list('Full (10/10)', quick.full);
  list('Not allowed', quick.denied);
  if (lines.length === 0) lines.push(text('none'));
  return joinText(lines, '\n');
}

function mrkdwnSection(value: Text): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(mrkdwn(value), SLACK_LIMITS.sectionText) } };
}

/** Slack date token (shown in the reader's time zone), with the UTC time to the second beside it. */
function when(epochMs: number): Text {
  const at = new Date(epochMs);
  const iso = Number.isNaN(at.getTime()) ? 'unknown' : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return say`${date(epochMs)} (${iso})`;
}
