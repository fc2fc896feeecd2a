import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChangeDraft } from '../core/desk.js';
import type { ChangeOrigin, JsonValue } from '../core/ports.js';
import type { ChangeResult } from '../core/snapshot-service.js';
import { SnapshotTypeSchema } from '../ovh/models.js';
import { message, type SlackMessage } from './blocks/limits.js';
import { changeText } from './blocks/problems.js';
import { changeResultBlocks, resultHead } from './blocks/replies.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { DEFAULT_READER, ENGLISH_TRANSLATOR, type Translator, translator } from './i18n/translate.js';
import { code, type Text, USER_ID } from './text.js';

const PartitionSchema = z.object({ service: z.string().min(1).max(256), partition: z.string().min(1).max(256) });
/** The change as data (worded when the result is reported), read back like any stored input. */
const ChangeSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('schedule.add'), target: PartitionSchema, type: SnapshotTypeSchema }),
  z.object({ action: z.literal('schedule.remove'), target: PartitionSchema, type: SnapshotTypeSchema }),
  z.object({
    action: z.literal('snapshot.create'),
    target: PartitionSchema,
    name: z.string().max(256).optional(),
    expires: z.string().max(256).optional(),
  }),
  z.object({ action: z.literal('snapshot.delete'), target: PartitionSchema, name: z.string().max(256) }),
]);

/**
 * `description`: mrkdwn written by older versions; not shown (the journal entry says what it was). `user`: who the
 * reply is for (tokens of older versions have none: the workspace's language then).
 */
const ResumeTokenSchema = z.object({
  responseUrl: z.url(),
  user: z.string().regex(USER_ID).optional(),
  change: ChangeSchema.optional(),
  description: z.string().max(500).optional(),
});

/**
 * What a command stores with its task so a restart can still answer through the response_url, in the language and
 * time zone of who it is for.
 */
export function resumeToken(responseUrl: string, change: ChangeDraft, userId?: string): JsonValue {
  return { responseUrl, ...(userId !== undefined && { user: userId }), change: changeJson(change) };
}

function changeJson(change: ChangeDraft): { [key: string]: JsonValue } {
  const target = { service: change.target.service, partition: change.target.partition };
  switch (change.action) {
    case 'schedule.add':
    case 'schedule.remove':
      return { action: change.action, target, type: change.type };
    case 'snapshot.create':
      return {
        action: change.action,
        target,
        ...(change.name !== undefined && { name: change.name }),
        ...(change.expires !== undefined && { expires: change.expires }),
      };
    case 'snapshot.delete':
      return { action: change.action, target, name: change.name };
  }
}

/** How a change ended, in the same words as the reply that followed it before the restart. */
export function changeFinishedMessage(
  what: Text,
  result: ChangeResult,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  return message(
    tr.t('result.headline', { head: resultHead(result.outcome, tr), what }),
    changeResultBlocks(what, result, tr),
    tr.reader,
  );
}

/**
 * After a restart, or once the reconciliation sweep settled a change whose OVH answer never arrived, tells
 * the user how it ended through the response_url stored with it (valid 30 minutes; after that only the audit
 * channel has it).
 */
export function createResumeReporter(
  logger: Logger,
  fetchImpl: typeof fetch = fetch,
  readers?: Pick<ReaderDirectory, 'person' | 'defaultLang'>,
) {
  return async (entry: ChangeOrigin, result: ChangeResult): Promise<void> => {
    const token = ResumeTokenSchema.safeParse(entry.reply);
    if (!token.success) return;
    const { change, user } = token.data;
    // The reply is ephemeral, for the person who typed the command: their language and time zone.
    const tr = translator(
      readers === undefined
        ? DEFAULT_READER
        : user === undefined
          ? { lang: readers.defaultLang }
          : await readers.person(user),
    );
    const what =
      change === undefined
        ? tr.t('change.legacy', { kind: code(entry.kind), service: code(entry.service) })
        : changeText(change, tr);
    const reply = changeFinishedMessage(what, result, tr);
    try {
      const response = await fetchImpl(token.data.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replace_original: true, response_type: 'ephemeral', ...reply }),
      });
      if (!response.ok)
        logger.info({ status: response.status, auditId: entry.auditId }, 'response_url no longer accepts the result');
    } catch (error) {
      logger.info({ err: error, auditId: entry.auditId }, 'could not report a change result through response_url');
    }
  };
}
