import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChangeOrigin } from '../core/ports.js';
import type { ChangeResult } from '../core/snapshot-service.js';
import { changeFinishedMessage } from './blocks/replies.js';

const ResumeTokenSchema = z.object({ responseUrl: z.url(), description: z.string().max(500).optional() });

/**
 * After a restart, or once the reconciliation sweep settled a change whose OVH answer never arrived, tells
 * the user how it ended through the response_url stored with it (valid 30 minutes; after that only the audit
 * channel has it).
 */
export function createResumeReporter(logger: Logger, fetchImpl: typeof fetch = fetch) {
  return async (entry: ChangeOrigin, result: ChangeResult): Promise<void> => {
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
        logger.info({ status: response.status, auditId: entry.auditId }, 'response_url no longer accepts the result');
    } catch (error) {
      logger.info({ err: error, auditId: entry.auditId }, 'could not report a change result through response_url');
    }
  };
}
