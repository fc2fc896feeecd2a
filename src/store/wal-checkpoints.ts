import type { Logger } from 'pino';
import type { Database } from './database.js';

export interface WalCheckpointOptions {
  database: Pick<Database, 'sqliteCheckpoint'>;
  /** Whether Slack's requests leave room now: none unanswered, none arrived for a moment (src/slack/arrivals.ts). */
  quiet: () => boolean;
  logger: Logger;
  /** How often a checkpoint is considered (real time; default 2 s). */
  intervalMs?: number;
  /** Runs `tick` every `intervalMs`; returns how to stop (tests turn it by hand). */
  every?: (intervalMs: number, tick: () => void) => () => void;
}

/**
 * SQLite's write-ahead log, checkpointed when Slack is quiet rather than in whichever commit fills it: on the bot
 * that is most often the delivery ledger's insert on a request's path, in a burst, and a checkpoint with its
 * fsyncs holds the event loop — every ack behind it — for milliseconds. PostgreSQL: nothing to do.
 */
export function startWalCheckpoints(options: WalCheckpointOptions): () => void {
  const checkpoint = options.database.sqliteCheckpoint;
  if (checkpoint === undefined) return () => {};
  const every =
    options.every ??
    ((ms: number, tick: () => void) => {
      const timer = setInterval(tick, ms);
      timer.unref();
      return () => clearInterval(timer);
    });
  return every(options.intervalMs ?? 2_000, () => {
    if (!options.quiet()) return;
    try {
      checkpoint();
    } catch (error) {
      // SQLite's own checkpoint (the backstop) still runs; the next quiet moment tries again.
      options.logger.warn({ err: error }, 'could not checkpoint the SQLite write-ahead log');
    }
  });
}
