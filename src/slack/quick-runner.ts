import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../core/model.js';
import type { NotificationInput, NotificationOutbox } from '../core/notifications.js';
import type { QuickRun, QuickSnapshotService, SavedQuickRun } from '../core/quick-snapshots.js';
import { quickSummary } from './blocks/quick-summary.js';
import type { SlackDeps } from './deps.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { DEFAULT_READER, type Reader, type Translator, translator } from './i18n/translate.js';
import { storedMessage } from './notification-publisher.js';
import { USER_ID } from './text.js';

/** chat.update is Tier 3 (50+/min): progress is rewritten once per second at most; the final result at once. */
const MIN_UPDATE_INTERVAL_MS = 1_000;

/** Who reads a summary: a channel's members in its language; a DM (posted to a user id) its person. */
type SummaryReaders = Pick<ReaderDirectory, 'channel' | 'person'>;

/**
 * The summary's reader where it is posted: a channel's language (dates as Slack's tokens, the incident's members
 * each see their own zone); the requester's own language and zone in their DM. Without readers, English.
 */
async function summaryReader(readers: SummaryReaders | undefined, channel: string): Promise<Reader> {
  if (readers === undefined) return DEFAULT_READER;
  return USER_ID.test(channel) ? await readers.person(channel) : readers.channel(channel);
}

/** The notification key of a run's summary: one message, rewritten as results come. */
export const quickSummaryKey = (runId: string): string => `quick:${runId}:summary`;

/**
 * Posts the live summary (in the channel, so the whole incident sees it; else in the user's DM) and runs the
 * snapshots, rewriting the summary as results come. The summary goes through the notification outbox: the run
 * never waits for Slack, and what Slack missed meanwhile arrives once it answers again (the newest version).
 */
export async function runQuickSnapshots(
  deps: Pick<SlackDeps, 'clock' | 'logger' | 'notifications'> & {
    quick: Pick<QuickSnapshotService, 'execute'>;
    readers?: SummaryReaders;
  },
  actor: Actor,
  run: QuickRun,
  scope: string | undefined,
  /** Called once the summary is posted, with where (the run may take minutes more). */
  onPosted: (where: { channel: string; inChannel: boolean }) => Promise<void> = async () => {},
): Promise<void> {
  if (!run.items.some((item) => item.state.status === 'queued')) {
    // Nothing may be taken: the core refuses it (audited) and throws; no summary is posted for it.
    await deps.quick.execute(actor, run, scope, () => {});
    throw new Error('a quick snapshot run with nothing allowed was not refused');
  }
  const summary: Omit<NotificationInput, 'message'> = {
    key: quickSummaryKey(run.id),
    channel: actor.channelId ?? actor.userId,
    // A channel the bot may not post in: the user's DM instead.
    ...(actor.channelId !== undefined && { fallbackChannel: actor.userId }),
  };
  // Rendered for where it is posted; a channel the bot may not post in sends it to the DM in the same words.
  const tr: Translator = translator(await summaryReader(deps.readers, summary.channel));
  await deps.notifications.send({ ...summary, version: 1, message: storedMessage(quickSummary(run, tr)) });
  void deps.notifications
    .posted(summary.key)
    .then((where) =>
      where === undefined
        ? undefined
        : onPosted({ channel: where.channel, inChannel: where.channel === actor.channelId }),
    )
    .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not say where the quick snapshot summary is'));
  // The first version already shows the plan: the first rewrite counts from it.
  let lastUpdateAt = deps.clock.now();
  let dirty = false;
  let finished = false;
  let finishNow: (() => void) | undefined;
  const finishedSignal = new Promise<void>((resolve) => {
    finishNow = resolve;
  });
  let updating: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    while (dirty) {
      const wait = lastUpdateAt + MIN_UPDATE_INTERVAL_MS - deps.clock.now();
      // Changes made meanwhile go out together; the final result at once (responders wait for it,
      // and one extra edit fits Slack's tier).
      if (wait > 0 && !finished) await Promise.race([deps.clock.sleep(wait), finishedSignal]);
      dirty = false;
      lastUpdateAt = deps.clock.now();
      await deps.notifications
        .send({ ...summary, message: storedMessage(quickSummary(run, tr)) })
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not update the quick snapshot summary'));
    }
  };
  const onProgress = () => {
    dirty = true;
    updating ??= flush().finally(() => {
      updating = undefined;
    });
  };
  await deps.quick.execute(actor, run, scope, onProgress, { summary: summary.key, channel: summary.channel });
  finished = true;
  finishNow?.();
  dirty = true;
  await (updating ?? Promise.resolve());
  await flush();
}

const SummaryReplySchema = z.union([
  z.object({ summary: z.string().min(1), channel: z.string().min(1) }),
  // Written by versions that posted the summary themselves: the message to edit.
  z.object({ channel: z.string().min(1), ts: z.string().min(1) }),
]);

/** Brings the summary of a run finished after a restart to its final state (through the outbox). */
export function createQuickResumeReporter(
  notifications: Pick<NotificationOutbox, 'send'>,
  logger: Logger,
  readers?: SummaryReaders,
) {
  return async ({ run, reply }: SavedQuickRun): Promise<void> => {
    const where = SummaryReplySchema.safeParse(reply);
    if (!where.success) {
      logger.warn({ runId: run.id }, 'a resumed quick snapshot run has no summary to update');
      return;
    }
    await notifications.send({
      key: quickSummaryKey(run.id),
      channel: where.data.channel,
      message: storedMessage(quickSummary(run, translator(await summaryReader(readers, where.data.channel)))),
      ...('ts' in where.data && { existingTs: where.data.ts }),
    });
  };
}
