import type { webApi } from '@slack/bolt';
import type { Actor } from '../core/model.js';
import type { QuickRun } from '../core/quick-snapshots.js';
import type { SlackMessage } from './blocks/limits.js';
import { quickSummary } from './blocks/quick-summary.js';
import type { SlackDeps } from './deps.js';

/** chat.update is rate limited per channel: one rewrite per second at most, the last one always sent. */
const MIN_UPDATE_INTERVAL_MS = 1_000;

/**
 * Posts the live summary (in the channel, so the whole incident sees it; else in the user's DM)
 * and runs the snapshots, rewriting the summary as results come. Returns where it was posted.
 */
export async function runQuickSnapshots(
  deps: SlackDeps,
  client: webApi.WebClient,
  actor: Actor,
  run: QuickRun,
  scope: string | undefined,
): Promise<{ channel: string; inChannel: boolean }> {
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
  let dirty = false;
  let updating: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      const started = deps.clock.now();
      const message = quickSummary(run);
      await client.chat
        .update({ channel, ts: summaryTs, text: message.text, blocks: message.blocks })
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not update the quick snapshot summary'));
      const wait = MIN_UPDATE_INTERVAL_MS - (deps.clock.now() - started);
      if (dirty && wait > 0) await deps.clock.sleep(wait);
    }
  };
  const onProgress = () => {
    dirty = true;
    updating ??= flush().finally(() => {
      updating = undefined;
    });
  };
  await deps.quick.execute(actor, run, scope, onProgress);
  dirty = true;
  await (updating ?? Promise.resolve());
  await flush();
  return { channel, inChannel };
}

async function post(client: webApi.WebClient, channel: string, message: SlackMessage): Promise<string> {
  const response = await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
  });
  if (typeof response.ts !== 'string') throw new Error('chat.postMessage returned no ts');
  return response.ts;
}
