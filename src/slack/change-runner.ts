/**
 * The one "run changes and report" routine, for commands and forms alike: each change goes to the desk, and
 * the person sees every step (submitted, pending approval, refused, nothing to do, done, failed) on the
 * surface they used, through `show`.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeDraft, SubmitOutcome } from '../core/desk.js';
import type { Actor } from '../core/model.js';
import type { JsonValue } from '../core/ports.js';
import type { ChangeResult } from '../core/snapshot-service.js';
import type { SlackDeps } from './deps.js';

export type ChangeLineState =
  | { kind: 'working' }
  | { kind: 'outcome'; outcome: Exclude<SubmitOutcome, { kind: 'started' }> }
  | { kind: 'submitted'; outcome: Extract<SubmitOutcome, { kind: 'started' }> }
  | { kind: 'finished'; outcome: Extract<SubmitOutcome, { kind: 'started' }>; result: ChangeResult }
  /** Not the user's fault: the log line carries the reference. */
  | { kind: 'error'; reference: string };

export interface ChangeLine {
  draft: ChangeDraft;
  state: ChangeLineState;
}

/** The desk's outcome of a line's change; none while it is being submitted or when it failed unexpectedly. */
export function lineOutcome(line: ChangeLine): SubmitOutcome | undefined {
  return line.state.kind === 'working' || line.state.kind === 'error' ? undefined : line.state.outcome;
}

export interface RunChangesOptions {
  reason?: string | undefined;
  /** Stored with each task or approval request, so a restart can still report (opaque to core). */
  reply?: (draft: ChangeDraft) => JsonValue;
  /** Run at once by break-glass (the desk decides again whether the person may). */
  breakGlass?: boolean | undefined;
}

/**
 * Submits every draft (in parallel: each is its own OVH task) and calls `show` with all lines after each step.
 * Resolves with the final lines once every task ended. Never throws.
 */
export async function runChanges(
  deps: Pick<SlackDeps, 'desk' | 'logger'>,
  actor: Actor,
  drafts: readonly ChangeDraft[],
  options: RunChangesOptions,
  show: (lines: readonly ChangeLine[]) => Promise<void>,
): Promise<readonly ChangeLine[]> {
  const lines: ChangeLine[] = drafts.map((draft) => ({ draft, state: { kind: 'working' } }));
  // The closing update is sent only if a line changed since the last one shown (a reply is never sent twice).
  // Each change of a line's state is a new state object, so comparing them by identity is enough.
  let shown: readonly ChangeLine['state'][] = [];
  const update = async () => {
    const now = lines.map((line) => line.state);
    if (now.length === shown.length && now.every((state, i) => state === shown[i])) return;
    shown = now;
    await show(lines).catch((error: unknown) => deps.logger.debug({ err: error }, 'could not show change progress'));
  };
  await Promise.all(
    lines.map(async (line) => {
      try {
        const outcome = await deps.desk.submit(actor, line.draft, {
          reason: options.reason,
          reply: options.reply?.(line.draft) ?? null,
          together: drafts,
          ...(options.breakGlass === true && { breakGlass: true }),
        });
        if (outcome.kind !== 'started') {
          line.state = { kind: 'outcome', outcome };
          await update();
          return;
        }
        line.state = { kind: 'submitted', outcome };
        await update();
        line.state = { kind: 'finished', outcome, result: await outcome.done };
      } catch (error) {
        const reference = randomUUID().slice(0, 8);
        deps.logger.error({ err: error, reference, userId: actor.userId }, 'change failed unexpectedly');
        line.state = { kind: 'error', reference };
      }
    }),
  );
  await update();
  return lines;
}
