import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { QUICK_EXPIRATIONS, QUICK_FIELD } from '../blocks/quick-summary.js';
import type { SlackDeps } from '../deps.js';
import { stateValue } from '../payloads.js';
import { runQuickSnapshots } from '../quick-runner.js';
import { failureText, formError } from './listener-replies.js';
import { expiredForm, modalContext, payloadTranslator } from './modal-context.js';

/** "Take snapshots": plan inline (so mistakes and refusals show on the form), then run after the ack. */
export function createQuickFormSubmission(deps: SlackDeps) {
  return async ({ ack, body }: AllMiddlewareArgs & SlackViewMiddlewareArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, body);
    const ctx = modalContext(deps, body);
    if (ctx === undefined) {
      await ack({ response_action: 'errors', errors: { [QUICK_FIELD.target]: expiredForm(tr) } });
      return;
    }
    const spec = (stateValue(ctx.state, QUICK_FIELD.target, QUICK_FIELD.target) ?? '').trim();
    const label = stateValue(ctx.state, QUICK_FIELD.label, QUICK_FIELD.label);
    const expirationChoice = stateValue(ctx.state, QUICK_FIELD.expiration, QUICK_FIELD.expiration) ?? '7d';
    const reason = stateValue(ctx.state, QUICK_FIELD.reason, QUICK_FIELD.reason);
    if (!(QUICK_EXPIRATIONS as readonly string[]).includes(expirationChoice)) {
      await ack({
        response_action: 'errors',
        errors: { [QUICK_FIELD.expiration]: tr.plain(tr.t('form.chooseExpiration')) },
      });
      return;
    }
    const context = { userId: ctx.actor.userId, form: 'quick' };
    const refuse = (error: unknown) =>
      ack({
        response_action: 'errors',
        errors: { [QUICK_FIELD.target]: formError(failureText(deps, error, context, tr), tr) },
      });
    let run: Awaited<ReturnType<SlackDeps['quick']['plan']>>;
    try {
      run = await deps.quick.plan(ctx.actor, spec, {
        label,
        reason,
        ...(expirationChoice !== 'none' && { expires: expirationChoice }),
      });
      if (expirationChoice === 'none') run.expiration = null;
    } catch (error) {
      await refuse(error);
      return;
    }
    if (!run.items.some((item) => item.state.status === 'queued')) {
      // Nothing may be taken: core audits the refusal and throws it, as data; it is shown on the form.
      try {
        await deps.quick.execute(ctx.actor, run, undefined, () => undefined);
        throw new Error('a quick snapshot run with nothing allowed was not refused');
      } catch (error) {
        await refuse(error);
      }
      return;
    }
    await ack();
    const scope = ctx.actor.channelId === undefined ? `user:${ctx.actor.userId}` : `channel:${ctx.actor.channelId}`;
    await runQuickSnapshots(deps, ctx.actor, run, scope).catch((error: unknown) =>
      deps.logger.error({ err: error }, 'quick snapshots from the form failed'),
    );
  };
}
