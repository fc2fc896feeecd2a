import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { NashaError } from '../../core/errors.js';
import { QUICK_EXPIRATIONS, QUICK_FIELD } from '../blocks/quick-summary.js';
import type { SlackDeps } from '../deps.js';
import { stateValue } from '../payloads.js';
import { runQuickSnapshots } from '../quick-runner.js';
import { EXPIRED_FORM, modalContext } from './modal-context.js';

/** "Take snapshots": plan inline (so mistakes show on the form), then run after the ack. */
export function createQuickFormSubmission(deps: SlackDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const ctx = modalContext(deps, body);
    if (ctx === undefined) {
      await ack({ response_action: 'errors', errors: { [QUICK_FIELD.target]: EXPIRED_FORM } });
      return;
    }
    const spec = (stateValue(ctx.state, QUICK_FIELD.target, QUICK_FIELD.target) ?? '').trim();
    const label = stateValue(ctx.state, QUICK_FIELD.label, QUICK_FIELD.label);
    const expirationChoice = stateValue(ctx.state, QUICK_FIELD.expiration, QUICK_FIELD.expiration) ?? '7d';
    const reason = stateValue(ctx.state, QUICK_FIELD.reason, QUICK_FIELD.reason);
    if (!(QUICK_EXPIRATIONS as readonly string[]).includes(expirationChoice)) {
      await ack({ response_action: 'errors', errors: { [QUICK_FIELD.expiration]: 'Choose an expiration.' } });
      return;
    }
    let run: Awaited<ReturnType<SlackDeps['quick']['plan']>>;
    try {
      run = await deps.quick.plan(ctx.actor, spec, {
        label,
        reason,
        ...(expirationChoice !== 'none' && { expires: expirationChoice }),
      });
      if (expirationChoice === 'none') run.expiration = null;
    } catch (error) {
      const message =
        error instanceof NashaError ? error.message.replace(/`/g, '') : 'Could not prepare the snapshots; try again.';
      await ack({ response_action: 'errors', errors: { [QUICK_FIELD.target]: message.slice(0, 1_900) } });
      return;
    }
    if (run.items.every((i) => i.state.status === 'denied')) {
      await deps.quick.execute(ctx.actor, run, undefined, () => undefined).catch(() => undefined); // audits the refusal
      const denied = run.items[0]?.state;
      const why = denied?.status === 'denied' ? denied.reason.replace(/[`*]/g, '') : 'not allowed';
      await ack({
        response_action: 'errors',
        errors: { [QUICK_FIELD.target]: `${why.charAt(0).toUpperCase()}${why.slice(1)}`.slice(0, 1_900) },
      });
      return;
    }
    await ack();
    const scope = ctx.actor.channelId === undefined ? `user:${ctx.actor.userId}` : `channel:${ctx.actor.channelId}`;
    await runQuickSnapshots(deps, client, ctx.actor, run, scope).catch((error: unknown) =>
      deps.logger.error({ err: error }, 'quick snapshots from the form failed'),
    );
  };
}
