import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../core/model.js';
import type { QuickRun, QuickSnapshotService, SavedQuickRun } from '../core/quick-snapshots.js';
import type { SlackMessage } from './blocks/limits.js';
import { quickSummary } from './blocks/quick-summary.js';
import type { SlackDeps } from './deps.js';

/** chat.update is Tier 3 (50+/min): progress is rewritten once per second at most; the final result at once. */
const MIN_UPDATE_INTERVAL_MS = 1_000;

/** The part of the Web API the summary needs. */
export interface SummaryClient {
  chat: Pick<webApi.WebClient['chat'], 'postMessage' | 'update'>;
}

/**
 * Posts the live summary (in the channel, so the whole incident sees it; else in the user's DM)
 * and runs the snapshots, rewriting the summary as results come. Returns where it was posted.
 */
export async function runQuickSnapshots(
  deps: Pick<SlackDeps, 'clock' | 'logger'> & { quick: Pick<QuickSnapshotService, 'execute'> },
  client: SummaryClient,
  actor: Actor,
  run: QuickRun,
  scope: string | undefined,
  /** Called once the summary is posted (the run may take minutes more). */
  onPosted: (where: { channel: string; inChannel: boolean }) => Promise<void> = async () => {},
): Promise<{ channel: string; inChannel: boolean }> {
  if (!run.items.some((item) => item.state.status === 'queued')) {
    // Nothing may be taken: the core refuses it (audited) and throws; no summary is posted for it.
    await deps.quick.execute(actor, run, scope, () => {});
    throw new Error('a quick snapshot run with nothing allowed was not refused');
  }
  const first = quickSummary(run);
  let channel = actor.channelId ?? actor.userId;
  let inChannel = actor.channelId !== undefined;
  let ts: string | undefined;
  try {
    ts = await post(client, channel, first);
  } catch (error) {
    if (!inChannel) throw error;
    deps.logger.info({ err: error, channelId: channel }, 'cannot post in the channel; using a DM');
    channel = actor.userId;
    inChannel = false;
    ts = await post(client, channel, first);
  }
  const summaryTs = ts;
  await onPosted({ channel, inChannel });
  // The posted message already shows the plan: the first rewrite counts from it.
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
      const message = quickSummary(run);
      await client.chat
        .update({ channel, ts: summaryTs, text: message.text, blocks: message.blocks })
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not update the quick snapshot summary'));
    }
  };
  const onProgress = () => {
    dirty = true;
    updating ??= flush().finally(() => {
      updating = undefined;
    });
  };
  await deps.quick.execute(actor, run, scope, onProgress, { channel, ts: summaryTs });
  finished = true;
  finishNow?.();
  dirty = true;
  await (updating ?? Promise.resolve());
  await flush();
  return { channel, inChannel };
}

async function post(client: SummaryClient, channel: string, message: SlackMessage): Promise<string> {
  const response = await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
  });
  if (typeof response.ts !== 'string') throw new Error('chat.postMessage returned no ts');
  return response.ts;
}

const SummaryReplySchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

/** Rewrites the summary of a run finished after a restart (where `runQuickSnapshots` posted it). */
export function createQuickResumeReporter(client: SummaryClient, logger: Logger) {
  return async ({ run, reply }: SavedQuickRun): Promise<void> => {
    const where = SummaryReplySchema.safeParse(reply);
    if (!where.success) {
      logger.warn({ runId: run.id }, 'a resumed quick snapshot run has no summary to update');
      return;
    }
    const message = quickSummary(run);
    await client.chat.update({ ...where.data, text: message.text, blocks: message.blocks });
  };
}
