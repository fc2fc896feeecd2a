/**
 * Block Kit for one audit message, in the audit channel's language (`tr`; dates are Slack's tokens, so each member
 * sees their own time zone). Pure: same record, same message, so the outbox can re-render any version.
 * The detail is rendered from its structured form (`parseAuditDetail`): a person's words only ever verbatim,
 * mentions only from the IDs the record holds. Every piece of text is cut to Slack's limits (with "…") because
 * Slack rejects the whole message otherwise, and an audit message must always go out.
 */
import type { types } from '@slack/bolt';
import { ACTIONS, type SubjectKind } from '../../core/actions.js';
import { type AuditAction, type AuditOutcome, type AuditRecord, shortAuditHash } from '../../core/audit.js';
import {
  type AuditDetail,
  type BreakGlassAuditDetail,
  type ProtectionAuditDetail,
  parseAuditDetail,
  type QuickAuditSummary,
} from '../../core/audit-detail.js';
import { formatTarget } from '../../core/model.js';
import { systemActorPolicy } from '../../core/protection/actor.js';
import { formatDuration } from '../../shared/duration.js';
import { ENGLISH_TRANSLATOR, type MessageKey, type Translator } from '../i18n/translate.js';
import { bold, channel, code, date, group, joinText, type Piece, type Text, text, user, verbatim } from '../text.js';
import { cutMrkdwn } from './limits.js';
import { problemText, refusalText, sentence, storedText, taskFailureText } from './problems.js';
import { fixPressedText, protectionProblemText } from './protection.js';
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
const OUTCOME_LOOK: Readonly<Record<AuditOutcome, { emoji: string; label: MessageKey }>> = {
  started: { emoji: ':hourglass_flowing_sand:', label: 'audit.outcome.started' },
  succeeded: { emoji: ':white_check_mark:', label: 'audit.outcome.succeeded' },
  partial: { emoji: ':large_orange_circle:', label: 'audit.outcome.partial' },
  failed: { emoji: ':x:', label: 'audit.outcome.failed' },
  denied: { emoji: ':no_entry:', label: 'audit.outcome.denied' },
  noop: { emoji: ':information_source:', label: 'audit.outcome.noop' },
  invalid: { emoji: ':grey_exclamation:', label: 'audit.outcome.invalid' },
  refused: { emoji: ':raised_hand:', label: 'audit.outcome.refused' },
  requested: { emoji: ':raising_hand:', label: 'audit.outcome.requested' },
  approved: { emoji: ':ballot_box_with_check:', label: 'audit.outcome.approved' },
  rejected: { emoji: ':no_entry_sign:', label: 'audit.outcome.rejected' },
  expired: { emoji: ':hourglass:', label: 'audit.outcome.expired' },
  cancelled: { emoji: ':leftwards_arrow_with_hook:', label: 'audit.outcome.cancelled' },
  invalidated: { emoji: ':warning:', label: 'audit.outcome.invalidated' },
  not_applied: { emoji: ':heavy_minus_sign:', label: 'audit.outcome.notApplied' },
  unknown: { emoji: ':grey_question:', label: 'audit.outcome.unknown' },
  alerted: { emoji: ':rotating_light:', label: 'audit.outcome.alerted' },
  resolved: { emoji: ':large_green_circle:', label: 'audit.outcome.resolved' },
  acknowledged: { emoji: ':eyes:', label: 'audit.outcome.acknowledged' },
};

const ACTION_LABEL: Readonly<Record<AuditAction, MessageKey>> = {
  'schedule.add': 'audit.action.scheduleAdd',
  'schedule.remove': 'audit.action.scheduleRemove',
  'snapshot.create': 'audit.action.snapshotCreate',
  'snapshot.delete': 'audit.action.snapshotDelete',
  'approval.decide': 'audit.action.approvalDecide',
  'snapshot.quick': 'audit.action.snapshotQuick',
  'protection.alert': 'audit.action.protectionAlert',
};

/** What the record's subject is, from the action table. */
const SUBJECT_LABEL: Readonly<Record<SubjectKind, MessageKey>> = {
  snapshot: 'audit.subject.snapshot',
  frequency: 'audit.subject.frequency',
  label: 'audit.subject.label',
  request: 'audit.subject.request',
  problem: 'audit.subject.problem',
};

/** Partitions listed per state in a quick run's detail; more are counted. */
const QUICK_LISTED = 10;

/** `*Label*` over its value: one field or section of the message. */
function labelled(label: Text, value: Text | Piece): Text {
  return text(bold(label), '\n', value);
}

export function auditMessage(
  record: AuditRecord,
  tr: Translator = ENGLISH_TRANSLATOR,
): { text: string; blocks: types.KnownBlock[] } {
  const look = OUTCOME_LOOK[record.outcome];
  const outcome = tr.t(look.label);
  const action = tr.t(ACTION_LABEL[record.action]);
  // A quick run's "target" is what its requester typed: shown literally like any of their words.
  const target = verbatim(formatTarget(record.target));
  const who = actorText(record.actorUserId, tr);
  const detail = parseAuditDetail(record.detail);
  const field = (key: MessageKey, value: Text | Piece) => labelled(tr.t(key), value);

  const fields: Text[] = [
    field('audit.field.who', who),
    field('audit.field.what', tr.t('audit.what', { action, id: code(record.action) })),
    field('audit.field.target', target),
  ];
  if (record.subject !== null) fields.push(subjectField(record.action, record.subject, tr));
  fields.push(field('audit.field.outcome', text(`${look.emoji} `, outcome)));
  fields.push(field('audit.field.task', record.taskId === null ? '—' : code(String(record.taskId))));
  if (record.channelId !== null) fields.push(field('audit.field.requestedIn', channel(record.channelId)));
  if (detail?.approvalId !== undefined && ACTIONS[record.action].subject !== 'request')
    fields.push(field('audit.field.approval', code(`#${detail.approvalId}`)));

  const glass = detail?.breakGlass;
  const blocks: types.KnownBlock[] = [
    // A break-glass change stands out: its own first line, before anything else.
    ...(glass === undefined ? [] : [mrkdwnSection(breakGlassLine(glass, tr), tr)]),
    mrkdwnSection(text(`${look.emoji} `, tr.t('audit.headline', { action, target, outcome })), tr),
    {
      type: 'section',
      fields: fields
        .slice(0, SLACK_LIMITS.fieldCount)
        .map((field) => ({ type: 'mrkdwn', text: cut(tr.mrkdwn(field), SLACK_LIMITS.fieldText) })),
    },
  ];
  if (detail !== undefined) blocks.push(...detailSections(record, detail, tr));

  const times: Text[] = [tr.t('audit.created', { when: when(record.createdAt, tr) })];
  if (record.updatedAt !== record.createdAt) times.push(tr.t('audit.updated', { when: when(record.updatedAt, tr) }));
  // The short chain hash lets a reader cross-check this message with `npm run audit:verify`.
  const chain = record.hash === null ? text() : tr.t('audit.hash', { hash: code(shortAuditHash(record.hash)) });
  blocks.push({
    type: 'context',
    elements: [...times, tr.t('audit.record', { id: code(record.id), version: String(record.version), chain })]
      .slice(0, SLACK_LIMITS.contextElements)
      .map((element) => ({ type: 'mrkdwn', text: cut(tr.mrkdwn(element), SLACK_LIMITS.contextText) })),
  });

  const task = record.taskId === null ? text() : tr.t('audit.withTask', { task: String(record.taskId) });
  const summary = text(
    glass === undefined ? '' : ':rotating_light: ',
    `${look.emoji} `,
    tr.t('audit.summary', { action, target, who, outcome, task }),
  );
  return { text: cut(tr.fallback(summary), SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** ":rotating_light: Break-glass: run without approval (member of @group) — acknowledged by @x / awaiting review". */
function breakGlassLine(glass: BreakGlassAuditDetail, tr: Translator): Text {
  const review =
    glass.acknowledgedBy === undefined
      ? tr.t('audit.breakGlass.awaiting')
      : tr.t('audit.breakGlass.acknowledged', { who: user(glass.acknowledgedBy) });
  return text(':rotating_light: ', tr.t('audit.breakGlass.line', { group: group(glass.group), review }));
}

/** A person by mention; the bot acting for a protection policy by the policy's name. */
function actorText(actorUserId: string, tr: Translator): Text {
  const policy = systemActorPolicy(actorUserId);
  return policy === undefined ? text(user(actorUserId)) : tr.t('audit.actorPolicy', { policy: code(policy) });
}

function subjectField(action: AuditAction, subject: string, tr: Translator): Text {
  const kind = ACTIONS[action].subject;
  const label = tr.t(kind === undefined ? 'audit.subject.other' : SUBJECT_LABEL[kind]);
  // Approval requests are named `#ID` everywhere people see them (cards, replies).
  const value = kind === 'request' ? verbatim(`#${subject}`) : verbatim(subject);
  return labelled(label, value);
}

/** Who decided, by what the decision was. */
function decidedLabel(outcome: AuditOutcome): MessageKey {
  if (outcome === 'rejected') return 'audit.rejectedBy';
  if (outcome === 'cancelled') return 'audit.cancelledBy';
  return 'audit.approvedBy';
}

function detailSections(record: AuditRecord, detail: AuditDetail, tr: Translator): types.KnownBlock[] {
  const parts: Array<{ label: MessageKey; data: unknown; render: () => Text }> = [];
  const { reason, decidedBy, problem, task, settlement, ovh, note, quick } = detail;
  if (reason !== undefined) parts.push({ label: 'audit.reason', data: reason, render: () => text(verbatim(reason)) });
  if (decidedBy !== undefined && decidedBy.length > 0) {
    const render = () => tr.list(decidedBy.map(user), 'and');
    parts.push({ label: decidedLabel(record.outcome), data: decidedBy, render });
  }
  if (problem !== undefined) {
    // A refusal names its own target when it keeps one (a quick run's partition), else the record's.
    const render = () =>
      problem.kind === 'refused' ? sentence(refusalText(problem.refusal, record.target, tr)) : problemText(problem, tr);
    parts.push({ label: 'audit.why', data: problem, render });
  }
  if (task !== undefined) parts.push({ label: 'audit.why', data: task, render: () => taskFailureText(task, tr) });
  if (settlement !== undefined) {
    parts.push({ label: 'audit.reconciliation', data: settlement, render: () => settlementText(settlement, tr) });
  }
  // Written by older versions: OVH's words inside the bot's, and the bot's own note on a reconciled change.
  if (ovh !== undefined) parts.push({ label: 'audit.ovhSaid', data: ovh, render: () => text(verbatim(ovh)) });
  if (note !== undefined) parts.push({ label: 'audit.reconciliation', data: note, render: () => text(verbatim(note)) });
  if (quick !== undefined) parts.push({ label: 'audit.partitions', data: quick, render: () => quickText(quick, tr) });
  const protection = detail.protection;
  if (protection !== undefined) {
    parts.push({ label: 'audit.protection', data: protection, render: () => protectionDetailText(protection, tr) });
  }
  const legacy = detail.text;
  if (legacy !== undefined) {
    parts.push({ label: 'audit.detail', data: legacy, render: () => text(verbatim(legacy)) });
  }
  return parts.map(({ label, data, render }) => mrkdwnSection(labelled(tr.t(label), storedText(render, data, tr)), tr));
}

function protectionDetailText(detail: ProtectionAuditDetail, tr: Translator): Text {
  const lines: Text[] = [];
  const plan = detail.plan;
  if (plan !== undefined) {
    const late =
      plan.lateMs >= 60_000
        ? tr.t('audit.protection.late', { duration: formatDuration(plan.lateMs, tr.lang) })
        : text();
    const missed = plan.missed ? tr.t('audit.protection.missed') : text();
    lines.push(
      tr.t('audit.protection.plan', {
        label: code(plan.label),
        policy: code(detail.policy),
        when: date(plan.slotAt),
        late,
        missed,
      }),
    );
  }
  if (detail.problem !== undefined) lines.push(protectionProblemText(detail.problem, tr));
  if (detail.fixedBy !== undefined && detail.fixedBy.length > 0) lines.push(fixPressedText(detail.fixedBy, tr));
  if (detail.resolution === 'uncovered') lines.push(tr.t('audit.protection.uncovered'));
  if (detail.resolution === 'cleared') lines.push(tr.t('audit.protection.cleared'));
  return joinText(lines, '\n');
}

const QUICK_STATES: ReadonlyArray<readonly [MessageKey, 'taken' | 'failed' | 'full' | 'denied']> = [
  ['audit.quick.taken', 'taken'],
  ['audit.quick.failed', 'failed'],
  ['audit.quick.full', 'full'],
  ['audit.quick.denied', 'denied'],
];

function quickText(quick: QuickAuditSummary, tr: Translator): Text {
  // Counts and times first: a long list is what a cut takes away.
  const lines: Text[] = [];
  if (quick.pending > 0) lines.push(tr.t('audit.quick.pending', { count: quick.pending }));
  if (quick.expiration !== null) {
    const at = Date.parse(quick.expiration);
    lines.push(tr.t('audit.quick.expires', { when: Number.isNaN(at) ? verbatim(quick.expiration) : date(at) }));
  }
  for (const [label, state] of QUICK_STATES) {
    const items = quick[state];
    if (items.length === 0) continue;
    const shown = items.slice(0, QUICK_LISTED).map((item) => verbatim(item));
    const more =
      items.length > QUICK_LISTED ? tr.t('audit.quick.more', { count: items.length - QUICK_LISTED }) : text();
    lines.push(
      tr.t('audit.quick.line', { label: tr.t(label), count: items.length, items: joinText(shown, ', '), more }),
    );
  }
  if (lines.length === 0) lines.push(tr.t('common.none'));
  return joinText(lines, '\n');
}

function mrkdwnSection(value: Text, tr: Translator): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(tr.mrkdwn(value), SLACK_LIMITS.sectionText) } };
}

/** Slack date token (shown in the reader's time zone), with the UTC time to the second beside it. */
function when(epochMs: number, tr: Translator): Text {
  const at = new Date(epochMs);
  const iso = Number.isNaN(at.getTime()) ? tr.t('audit.unknownTime') : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return tr.t('audit.when', { date: date(epochMs), iso });
}
