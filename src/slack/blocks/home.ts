import type { types } from '@slack/bolt';
import type { ApprovalRequest } from '../../core/approvals.js';
import type { BreakGlassReview } from '../../core/break-glass.js';
import type { ApprovalsOverview, ExpiringSnapshot, HomeData, ProtectionOverview } from '../../core/dashboard.js';
import type { Translator } from '../i18n/translate.js';
import { channel, code, date, joinText, user, verbatim } from '../text.js';
import { approveButton, cancelButton, outcomeLine, rejectButton } from './approval-card.js';
import {
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
import { changeText, target } from './problems.js';

/**
 * Pure builders for the App Home tab and `/nasha approvals` (the reader's language and time zone: `tr`).
 * The Home tab is a list of sections (`HOME_SECTIONS`): adding one (e.g. break-glass changes awaiting review)
 * is one more function there and its data in `HomeData`.
 */

export const HOME_ACTION = {
  /** Another page of the request lists; the value is only a page number (parsed, never trusted for rights). */
  page: 'nasha_home_page',
  openForm: 'nasha_home_open_form',
  quickSnapshot: 'nasha_home_quick',
} as const;

/** Requests per Home page (2 blocks each): with the other sections, well within a view's 100 blocks. */
export const HOME_ITEMS_PER_PAGE = 20;
/** Requests per list in `/nasha approvals` (a message: 50 blocks). */
export const COMMAND_ITEMS_PER_LIST = 10;

export interface HomeOptions {
  page: number;
  /** The answer to the last click made in the tab (shown on top until the tab is opened again). */
  notice?: SlackMessage | undefined;
}

type Item = { kind: 'decide' | 'own'; request: ApprovalRequest };

function decideItem(request: ApprovalRequest, tr: Translator): types.KnownBlock[] {
  const line = tr.t('home.item', {
    id: `#${request.id}`,
    change: changeText(request.change, tr),
    requester: user(request.requester.userId),
    expires: date(request.expiresAt),
    reason: verbatim(request.reason),
  });
  return [
    section(tr.mrkdwn(line)),
    {
      type: 'actions',
      block_id: `home_${request.id}`,
      elements: [approveButton(request, tr), rejectButton(request, tr)],
    },
  ];
}

function ownItem(request: ApprovalRequest, tr: Translator): types.KnownBlock[] {
  const line = tr.t('home.ownItem', {
    id: `#${request.id}`,
    change: changeText(request.change, tr),
    line: outcomeLine(request, tr),
  });
  // Only a pending request can still be cancelled (the service checks it again at the click).
  if (request.state !== 'pending') return [section(tr.mrkdwn(line))];
  return [
    section(tr.mrkdwn(line)),
    { type: 'actions', block_id: `home_${request.id}`, elements: [cancelButton(request, tr)] },
  ];
}

function itemBlocks(item: Item, tr: Translator): types.KnownBlock[] {
  return item.kind === 'decide' ? decideItem(item.request, tr) : ownItem(item.request, tr);
}

/** One list (to decide, or own) for the items of this page that belong to it. */
function listBlocks(
  kind: Item['kind'],
  all: readonly ApprovalRequest[],
  shown: readonly Item[],
  tr: Translator,
): types.KnownBlock[] {
  const title = kind === 'decide' ? 'home.toDecide' : 'home.yours';
  const none = kind === 'decide' ? 'home.toDecideNone' : 'home.yoursNone';
  const items = shown.filter((i) => i.kind === kind);
  const blocks: types.KnownBlock[] = [section(tr.mrkdwn(tr.t(title, { count: all.length })))];
  if (all.length === 0) blocks.push(context(tr.mrkdwn(tr.t(none))));
  for (const item of items) blocks.push(...itemBlocks(item, tr));
  return blocks;
}

function recentBlocks(recent: readonly ApprovalRequest[], tr: Translator): types.KnownBlock[] {
  if (recent.length === 0) return [];
  const rows = recent.map((r) =>
    tr.mrkdwn(tr.t('home.recentItem', { id: `#${r.id}`, change: changeText(r.change, tr), line: outcomeLine(r, tr) })),
  );
  return [section(tr.mrkdwn(tr.t('home.recent'))), ...chunkSections(rows)];
}

/** Every request of the two lists, in order: those to decide first (oldest first), then one's own. */
function itemsOf(overview: ApprovalsOverview): Item[] {
  return [
    ...overview.decidable.map((request) => ({ kind: 'decide' as const, request })),
    ...overview.own.map((request) => ({ kind: 'own' as const, request })),
  ];
}

export function pageCountOf(overview: ApprovalsOverview, perPage = HOME_ITEMS_PER_PAGE): number {
  return Math.max(1, Math.ceil(itemsOf(overview).length / perPage));
}

function pageBlocks(page: number, pages: number, tr: Translator): types.KnownBlock[] {
  if (pages <= 1) return [];
  const next = page < pages ? page + 1 : 1;
  return [
    context(tr.mrkdwn(tr.t('home.page', { page, pages }))),
    {
      type: 'actions',
      block_id: 'home_pages',
      elements: [
        {
          type: 'button',
          action_id: HOME_ACTION.page,
          text: plainText(tr.plain(tr.t(page < pages ? 'home.more' : 'home.first')), LIMITS.buttonText),
          value: String(next),
        },
      ],
    },
  ];
}

function approvalSections(data: HomeData, tr: Translator, page: number): types.KnownBlock[] {
  const overview = data.approvals;
  const pages = pageCountOf(overview);
  const current = Math.min(Math.max(1, page), pages);
  const shown = itemsOf(overview).slice((current - 1) * HOME_ITEMS_PER_PAGE, current * HOME_ITEMS_PER_PAGE);
  return [
    ...listBlocks('decide', overview.decidable, shown, tr),
    divider,
    ...listBlocks('own', overview.own, shown, tr),
    ...pageBlocks(current, pages, tr),
    ...recentBlocks(overview.recent, tr),
  ];
}

/** Open problems first (one line a partition), then a one-line summary. */
export function protectionBlocks(overview: ProtectionOverview | undefined, tr: Translator): types.KnownBlock[] {
  if (overview === undefined) return [];
  const rows = overview.problems.map((line) =>
    tr.mrkdwn(
      tr.t('home.protectionLine', {
        target: target({ service: line.service, partition: line.partition }),
        problems: joinText(
          [...new Set(line.problems.map((p) => p.kind))].map((kind) => tr.t(`home.problem.${kind}`)),
          ', ',
        ),
      }),
    ),
  );
  const summary = tr.t('home.protectionSummary', {
    total: overview.total,
    healthy: overview.healthy,
    problems: overview.problems.length,
    unscanned: overview.unscanned,
  });
  return [section(tr.mrkdwn(tr.t('home.protection'))), ...chunkSections(rows), context(tr.mrkdwn(summary))];
}

/** Snapshots known to expire within 24 h (the digest shows the same list). */
export function expiringBlocks(expiring: readonly ExpiringSnapshot[], tr: Translator): types.KnownBlock[] {
  if (expiring.length === 0) return [];
  const rows = expiring.map((s) =>
    tr.mrkdwn(tr.t('home.expiringLine', { snapshot: code(`${s.service}/${s.partition}/${s.name}`), when: date(s.at) })),
  );
  return [
    section(tr.mrkdwn(tr.t('home.expiring', { count: expiring.length }))),
    ...chunkSections(rows),
    context(tr.mrkdwn(tr.t('home.expiringNote'))),
  ];
}

/** Break-glass changes nobody has acknowledged yet (the digest shows the same list); at most `limit` lines. */
export function breakGlassReviewBlocks(
  reviews: readonly BreakGlassReview[],
  tr: Translator,
  limit = DIGEST_REVIEW_LINES,
): types.KnownBlock[] {
  if (reviews.length === 0) return [];
  const rows = reviews.slice(0, limit).map(
    (review) =>
      `:rotating_light: ${tr.mrkdwn(
        tr.t('home.reviewLine', {
          id: `#${review.id}`,
          change: changeText(review.change, tr),
          actor: user(review.actor.userId),
          when: date(review.createdAt),
          reason: verbatim(review.reason.slice(0, 200)),
        }),
      )}`,
  );
  const cards = [...new Set(reviews.map((review) => review.channel))].map(channel);
  return [
    section(tr.mrkdwn(tr.t('home.reviews', { count: reviews.length }))),
    ...chunkSections(rows),
    context(tr.mrkdwn(tr.t('home.reviewsNote', { channels: tr.list(cards, 'or') }))),
  ];
}
const DIGEST_REVIEW_LINES = 20;

function shortcutBlocks(data: HomeData, tr: Translator): types.KnownBlock[] {
  const may = (id: string) => data.offers.some((o) => o.action.id === id);
  const buttons: types.Button[] = [];
  // The form offers reads and changes: anyone with a role somewhere. The quick form: whoever may take one.
  if (data.offers.length > 0) {
    buttons.push({
      type: 'button',
      action_id: HOME_ACTION.openForm,
      text: plainText(tr.plain(tr.t('home.openForm')), LIMITS.buttonText),
      value: 'form',
    });
  }
  if (may('snapshot.quick')) {
    buttons.push({
      type: 'button',
      action_id: HOME_ACTION.quickSnapshot,
      text: plainText(tr.plain(tr.t('home.quickSnapshot')), LIMITS.buttonText),
      value: 'quick',
    });
  }
  if (buttons.length === 0) return [];
  return [
    section(tr.mrkdwn(tr.t('home.shortcuts'))),
    { type: 'actions', block_id: 'home_shortcuts', elements: buttons },
  ];
}

/** The Home tab's sections, in order (a new section is one more entry). */
const HOME_SECTIONS: readonly ((data: HomeData, tr: Translator, page: number) => types.KnownBlock[])[] = [
  (data, tr) => shortcutBlocks(data, tr),
  (data, tr, page) => approvalSections(data, tr, page),
  (data, tr) => breakGlassReviewBlocks(data.reviews, tr),
  (data, tr) => protectionBlocks(data.protection, tr),
  (data, tr) => expiringBlocks(data.expiring, tr),
];

/** The Home tab for one person: always within a view's 100 blocks (requests beyond a page are paginated). */
export function homeView(data: HomeData, tr: Translator, options: HomeOptions): types.HomeView {
  const blocks: types.KnownBlock[] = [header(tr.plain(tr.t('home.title')))];
  if (options.notice !== undefined) blocks.push(...options.notice.blocks, divider);
  for (const build of HOME_SECTIONS) {
    const part = build(data, tr, options.page);
    if (part.length > 0) blocks.push(...part, divider);
  }
  if (blocks.at(-1)?.type === 'divider') blocks.pop();
  return { type: 'home', blocks: blocks.slice(0, LIMITS.modalBlocks) };
}

/** `/nasha approvals`: the same two lists with the same buttons, the first of each, then where the rest are. */
export function approvalsMessage(overview: ApprovalsOverview, tr: Translator): SlackMessage {
  const decide = overview.decidable
    .slice(0, COMMAND_ITEMS_PER_LIST)
    .map((request) => ({ kind: 'decide' as const, request }));
  const own = overview.own.slice(0, COMMAND_ITEMS_PER_LIST).map((request) => ({ kind: 'own' as const, request }));
  const left = overview.decidable.length + overview.own.length - decide.length - own.length;
  const blocks: types.KnownBlock[] = [
    section(tr.mrkdwn(tr.t('approvals.title'))),
    ...listBlocks('decide', overview.decidable, decide, tr),
    divider,
    ...listBlocks('own', overview.own, own, tr),
  ];
  if (left > 0) blocks.push(context(tr.mrkdwn(tr.t('home.moreInHome', { count: left }))));
  return message(tr.t('approvals.notification'), blocks, tr.reader);
}
