import type { types } from '@slack/bolt';
import type { DigestData } from '../../core/digest.js';
import type { Translator } from '../i18n/translate.js';
import { channel, date, joinText, user } from '../text.js';
import { breakGlassReviewBlocks, expiringBlocks } from './home.js';
import { chunkSections, context, header, LIMITS, message, type SlackMessage, section } from './limits.js';
import { changeText, target } from './problems.js';

/** Lines per list: the whole digest stays one message well within 50 blocks. */
export const DIGEST_LINES_PER_LIST = 25;

/** The daily digest, in the digest channel's language (`tr`); dates as Slack's tokens (each reader's zone). */
export function digestMessage(data: DigestData, tr: Translator): SlackMessage {
  const blocks: types.KnownBlock[] = [
    header(tr.plain(tr.t('digest.title', { date: data.date })).slice(0, LIMITS.header)),
  ];
  const list = (title: types.KnownBlock, rows: readonly string[]) => {
    blocks.push(title, ...chunkSections(rows.slice(0, DIGEST_LINES_PER_LIST)));
    if (rows.length > DIGEST_LINES_PER_LIST) {
      blocks.push(context(tr.mrkdwn(tr.t('digest.more', { count: rows.length - DIGEST_LINES_PER_LIST }))));
    }
  };
  if (data.approvals.length > 0) {
    list(
      section(tr.mrkdwn(tr.t('digest.approvals', { count: data.approvals.length }))),
      data.approvals.map((r) =>
        tr.mrkdwn(
          tr.t('digest.approval', {
            id: `#${r.id}`,
            change: changeText(r.change, tr),
            requester: user(r.requester.userId),
            since: date(r.createdAt),
          }),
        ),
      ),
    );
  }
  blocks.push(...breakGlassReviewBlocks(data.reviews, tr, DIGEST_LINES_PER_LIST));
  if (data.problems.length > 0) {
    list(
      section(tr.mrkdwn(tr.t('digest.problems', { count: data.problems.length }))),
      data.problems.map((p) =>
        tr.mrkdwn(
          tr.t('home.protectionLine', {
            target: target({ service: p.service, partition: p.partition }),
            problems: joinText(
              p.kinds.map((kind) => tr.t(`home.problem.${kind}`)),
              ', ',
            ),
          }),
        ),
      ),
    );
  }
  blocks.push(...expiringBlocks(data.expiring.slice(0, DIGEST_LINES_PER_LIST), tr));
  if (data.changes.length > 0) {
    blocks.push(
      section(tr.mrkdwn(tr.t('digest.changes'))),
      section(
        tr.mrkdwn(
          joinText(
            data.changes.map((c) => tr.t('digest.change', { kind: tr.t(`digest.kind.${c.action}`), count: c.count })),
            ' · ',
          ),
        ),
      ),
    );
  }
  blocks.push(context(tr.mrkdwn(tr.t('digest.auditLink', { channel: channel(data.auditChannel) }))));
  return message(tr.t('digest.notification', { date: data.date }), blocks, tr.reader);
}
