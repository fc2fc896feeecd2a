import { webApi } from '@slack/bolt';
import { z } from 'zod';
import { DeliveryError, type OutboxItem, type OutboxPublisher } from '../core/outbox.js';
import type { SlackMessage } from './blocks/limits.js';

/** Slack errors a retry will not fix until someone changes the setup (the row is kept meanwhile). */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'restricted_action',
  'message_not_found',
  'cant_update_message',
  'user_not_found',
  'cannot_dm_bot',
]);

/** Refusals of the channel itself: another channel may take the message. */
const CHANNEL_REFUSED = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);

/** A user id as a channel: the post lands in the app's DM with that user. */
const USER_ID = /^[UW][A-Z0-9]+$/;

const HistorySchema = z.object({
  messages: z.array(z.object({ ts: z.string(), metadata: z.unknown().optional() })),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

const OpenedSchema = z.object({ channel: z.object({ id: z.string().min(1) }) });

/** What one kind of outbox row looks like in Slack. */
export interface SlackMessageKind<Item extends OutboxItem> {
  /** The message metadata's event type: how the bot recognises its own messages of this kind. */
  eventType: string;
  /** The metadata field carrying the row id (`audit_id`, `key`). */
  idField: string;
  /** The message for the row's current version; throws `DeliveryError` if the row cannot be shown. */
  render(record: Item): SlackMessage;
  /** Rows may be posted to a user id (a DM): a look-up opens the conversation first. */
  directMessages?: boolean;
  /** Where the row's message is a thread reply: the parent message's conversation and ts. */
  thread?(record: Item): { channel: string; ts: string } | undefined;
}

export interface SlackPublisherOptions {
  /** Each Web API call is given up after this long (Slack may still act on it: a post is then looked for). */
  callTimeoutMs?: number;
  /** conversations.history pages (200 messages each) read when looking for a lost post. */
  historyPages?: number;
}

/**
 * Posts and edits an outbox's messages with the bot's WebClient, which must not retry by itself
 * (`retryConfig: { retries: 0 }`: a post retried blindly after a lost answer shows twice) and reports rate
 * limits instead of waiting (`rejectRateLimitedCalls`), so the outbox decides every retry, honours
 * Retry-After and paces each channel. Each message carries the row id and version in its metadata; `find`
 * reads it back with conversations.history (scopes channels:history, groups:history; for a DM, posted to a user
 * id, conversations.open finds the conversation first: im:write, im:history).
 */
export function createSlackPublisher<Item extends OutboxItem>(
  client: webApi.WebClient,
  kind: SlackMessageKind<Item>,
  options: SlackPublisherOptions = {},
): OutboxPublisher<Item> {
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const historyPages = options.historyPages ?? 2;
  const MetadataSchema = z.object({
    event_type: z.literal(kind.eventType),
    event_payload: z.object({ version: z.number().int().positive() }).catchall(z.unknown()),
  });
  const metadata = (record: Item) => ({
    event_type: kind.eventType,
    event_payload: { [kind.idField]: record.id, version: record.version },
  });
  const call = <T>(request: () => Promise<T>, post: boolean): Promise<T> =>
    withDeadline(request(), callTimeoutMs).catch((error: unknown) => {
      throw toDeliveryError(error, post ? callTimeoutMs : undefined);
    });
  /** The DM conversations of user ids, once looked up. */
  const dms = new Map<string, string>();
  const conversationOf = async (channel: string): Promise<string> => {
    if (kind.directMessages !== true || !USER_ID.test(channel)) return channel;
    const known = dms.get(channel);
    if (known !== undefined) return known;
    const opened = OpenedSchema.safeParse(await call(() => client.conversations.open({ users: channel }), false));
    if (!opened.success) throw new DeliveryError('conversations.open answered in an unexpected shape');
    dms.set(channel, opened.data.channel.id);
    return opened.data.channel.id;
  };
  return {
    // A look-up (its pages, and opening a DM first), then the post or the edit.
    maxAttemptMs: (historyPages + (kind.directMessages === true ? 2 : 1)) * callTimeoutMs,
    async post(channel, record) {
      const message = kind.render(record);
      const thread = kind.thread?.(record);
      const response = await call(
        () =>
          client.chat.postMessage({
            channel: thread?.channel ?? channel,
            ...(thread !== undefined && { thread_ts: thread.ts }),
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            metadata: metadata(record),
          }),
        true,
      );
      if (typeof response.ts !== 'string') throw new DeliveryError('chat.postMessage returned no ts');
      return { ts: response.ts, ...(typeof response.channel === 'string' && { channel: response.channel }) };
    },
    async update(channel, ts, record) {
      const message = kind.render(record);
      await call(
        () =>
          client.chat.update({ channel, ts, text: message.text, blocks: message.blocks, metadata: metadata(record) }),
        false,
      );
    },
    async find(channel, record, after) {
      const thread = kind.thread?.(record);
      const conversation = thread?.channel ?? (await conversationOf(channel));
      let cursor: string | undefined;
      for (let page = 0; page < historyPages; page++) {
        const pageArgs = {
          channel: conversation,
          include_all_metadata: true,
          limit: 200,
          ...(after !== undefined && { oldest: after }),
          ...(cursor !== undefined && { cursor }),
        };
        // A thread reply is not in the channel's history: it is among the replies to its parent.
        const raw = await call(
          () =>
            thread === undefined
              ? client.conversations.history(pageArgs)
              : client.conversations.replies({ ...pageArgs, ts: thread.ts }),
          false,
        );
        const history = HistorySchema.safeParse(raw);
        if (!history.success) throw new DeliveryError('conversations.history answered in an unexpected shape');
        for (const message of history.data.messages) {
          const meta = MetadataSchema.safeParse(message.metadata);
          if (meta.success && meta.data.event_payload[kind.idField] === record.id) {
            return { ts: message.ts, channel: conversation, version: meta.data.event_payload.version };
          }
        }
        cursor = history.data.response_metadata?.next_cursor;
        if (history.data.has_more !== true || cursor === undefined || cursor === '') return undefined;
      }
      // The lost post would be among the newest messages: not in these pages, it was not made.
      return undefined;
    },
  };
}

class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
}

/** The WebClient's own timeout covers the HTTP request; this one also covers time queued in the client. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(`no answer from Slack within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `unansweredPostMs`: for a post, how long to wait before looking for it when its answer never came. */
function toDeliveryError(error: unknown, unansweredPostMs: number | undefined): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return new DeliveryError('Slack rate limit', {
      retryAfterMs: error.retryAfter * 1_000,
      refused: true,
      cause: error,
    });
  }
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = String(error.data.error);
    return new DeliveryError(`Slack refused: ${code}`, {
      permanent: PERMANENT.has(code),
      refused: true,
      channelRefused: CHANNEL_REFUSED.has(code),
      cause: error,
    });
  }
  if (error instanceof webApi.WebAPIHTTPError) {
    // Slack answered, with an HTTP error: whether a post was made is unknown, but it is known now.
    return new DeliveryError(`Slack answered HTTP ${error.statusCode}`, { cause: error });
  }
  // No answer (a timeout, a connection lost): a post may still land; give it time before looking for it.
  const message = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`Slack unreachable: ${message}`, { minRetryMs: unansweredPostMs, cause: error });
}
