/**
 * Block Kit for one audit message. Pure: same record, same message, so the outbox can re-render any version.
 * Every piece of text is cut to Slack's limits (with "…") because Slack rejects the whole message otherwise,
 * and an audit message must always go out.
 */
import type { types } from '@slack/bolt';
import { type AuditAction, type AuditOutcome, type AuditRecord, shortAuditHash } from '../../core/audit.js';
import { formatTarget } from '../../core/model.js';

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

const OUTCOME_LOOK: Readonly<Record<AuditOutcome, { emoji: string; label: string }>> = {
  started: { emoji: ':hourglass_flowing_sand:', label: 'Started' },
  succeeded: { emoji: ':white_check_mark:', label: 'Succeeded' },
  failed: { emoji: ':x:', label: 'Failed' },
  denied: { emoji: ':no_entry:', label: 'Denied' },
  requested: { emoji: ':raising_hand:', label: 'Approval requested' },
  approved: { emoji: ':ballot_box_with_check:', label: 'Approved' },
  rejected: { emoji: ':no_entry_sign:', label: 'Rejected' },
  expired: { emoji: ':hourglass:', label: 'Expired' },
  cancelled: { emoji: ':leftwards_arrow_with_hook:', label: 'Cancelled' },
  invalidated: { emoji: ':warning:', label: 'Invalidated: target changed, not executed' },
  not_applied: { emoji: ':heavy_minus_sign:', label: 'Not applied: OVH did not make the change' },
  unknown: { emoji: ':grey_question:', label: 'Unknown: being checked on OVH' },
};

const ACTION_LABEL: Readonly<Record<AuditAction, string>> = {
  'schedule.add': 'Add snapshot schedule',
  'schedule.remove': 'Remove snapshot schedule',
  'snapshot.create': 'Create snapshot',
  'snapshot.delete': 'Delete snapshot',
  'approval.decide': 'Approval decision',
  'snapshot.quick': 'Quick snapshots',
};

export function auditMessage(record: AuditRecord): { text: string; blocks: types.KnownBlock[] } {
  const look = OUTCOME_LOOK[record.outcome];
  const action = ACTION_LABEL[record.action];
  const target = code(formatTarget(record.target));
  const who = mention('@', /^[UW][A-Z0-9]{2,}$/, record.actorUserId);

  const fields: string[] = [
    `*Who*\n${who}`,
    `*What*\n${escapeMrkdwn(action)} (${code(record.action)})`,
    `*Target*\n${target}`,
  ];
  if (record.subject !== null)
    fields.push(`*${record.action.startsWith('schedule.') ? 'Frequency' : 'Snapshot'}*\n${code(record.subject)}`);
  fields.push(`*Outcome*\n${look.emoji} ${look.label}`);
  fields.push(`*OVH task*\n${record.taskId === null ? '—' : code(String(record.taskId))}`);
  if (record.channelId !== null)
    fields.push(`*Requested in*\n${mention('#', /^[CGD][A-Z0-9]{2,}$/, record.channelId)}`);

  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(`${look.emoji} *${escapeMrkdwn(action)}* on ${target}: *${look.label}*`, SLACK_LIMITS.sectionText),
      },
    },
    {
      type: 'section',
      fields: fields
        .slice(0, SLACK_LIMITS.fieldCount)
        .map((text) => ({ type: 'mrkdwn', text: cut(text, SLACK_LIMITS.fieldText) })),
    },
  ];
  if (record.detail !== null) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(`*Detail*\n${withMentions(escapeMrkdwn(record.detail))}`, SLACK_LIMITS.sectionText),
      },
    });
  }
  const times = [`Created ${when(record.createdAt)}`];
  if (record.updatedAt !== record.createdAt) times.push(`Updated ${when(record.updatedAt)}`);
  // The short chain hash lets a reader cross-check this message with `npm run audit:verify`.
  const chain = record.hash === null ? '' : ` · hash ${code(shortAuditHash(record.hash))}`;
  blocks.push({
    type: 'context',
    elements: [...times, `Audit ${code(record.id)} v${record.version}${chain}`]
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: 'mrkdwn', text: cut(text, SLACK_LIMITS.contextText) })),
  });

  const task = record.taskId === null ? '' : ` (OVH task ${record.taskId})`;
  const text = cut(
    `${look.emoji} ${escapeMrkdwn(action)} on ${escapeMrkdwn(formatTarget(record.target))} by ${who}: ${look.label}${task}`,
    SLACK_LIMITS.fallbackText,
  );
  return { text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** Slack date token (shown in the reader's time zone) with the UTC ISO time as fallback and beside it. */
function when(epochMs: number): string {
  const iso = new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} {time}|${iso}> (${iso})`;
}

/** A Slack mention if the id looks like one; otherwise plain text, so a bad id cannot inject markup. */
function mention(sigil: '@' | '#', pattern: RegExp, id: string): string {
  return pattern.test(id) ? `<${sigil}${id}>` : escapeMrkdwn(id);
}

/** Slack mrkdwn needs only these three escaped. */
function escapeMrkdwn(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Inline code; a backtick inside would end it early. */
function code(value: string): string {
  return `\`${escapeMrkdwn(value.replaceAll('`', "'"))}\``;
}

/**
 * Cuts to `max` UTF-16 units (Slack may count code points; this is never more) ending with "…", without
 * splitting a surrogate pair, an &entity; or a <token>.
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const unit = text.charCodeAt(end - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) end -= 1;
  let kept = text.slice(0, end);
  const amp = kept.lastIndexOf('&');
  if (amp >= 0 && amp > kept.lastIndexOf(';') && kept.length - amp < 8) kept = kept.slice(0, amp);
  const open = kept.lastIndexOf('<');
  if (open >= 0 && open > kept.lastIndexOf('>')) kept = kept.slice(0, open);
  return `${kept}…`;
}

/** Details are escaped, but user mentions the bot wrote itself (`<@U…>`, a valid id only) stay mentions. */
function withMentions(escaped: string): string {
  return escaped.replace(/&lt;@([UW][A-Z0-9]{2,})&gt;/g, '<@$1>');
}
