import type { Logger } from 'pino';
import { z } from 'zod';
import type { JournalEntry } from '../core/ports.js';
import type { ChangeResult } from '../core/snapshot-service.js';
import { changeFinishedMessage } from './blocks/replies.js';

const ResumeTokenSchema = z.object({ responseUrl: z.url(), description: z.string().max(500).optional() });

/**
 * After a restart, tells the user how a change they started ended, through the response_url
 * stored with the task (valid 30 minutes; after that only the audit channel has it).
 */
export function createResumeReporter(logger: Logger, fetchImpl: typeof fetch = fetch) {
  return async (entry: JournalEntry, result: ChangeResult): Promise<void> => {
    const token = ResumeTokenSchema.safeParse(entry.reply);
    if (!token.success) return;
    const description = token.data.description ?? `${entry.kind} on \`${entry.service}\``;
    const message = changeFinishedMessage(description, result);
    try {
      const response = await fetchImpl(token.data.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ replace_original: true, response_type: 'ephemeral', ...message }),
      });
      if (!response.ok)
        logger.info({ status: response.status, taskId: entry.taskId }, 'response_url no longer accepts the result');
    } catch (error) {
      logger.info({ err: error, taskId: entry.taskId }, 'could not report a resumed task through response_url');
    }
  };
}
