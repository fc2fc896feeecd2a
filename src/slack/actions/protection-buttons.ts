import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { NashaError } from '../../core/errors.js';
import { statusMessage } from '../blocks/protection.js';
import { problemMessage } from '../blocks/replies.js';
import { lineOutcome, runChanges } from '../change-runner.js';
import type { SlackDeps } from '../deps.js';
import { type Translator, translator } from '../i18n/translate.js';
import { parseJsonButton } from '../payloads.js';
import { answerInvalidButton } from '../unclaimed.js';
import { failureMessage } from '../views/listener-replies.js';
import { payloadTranslator } from '../views/modal-context.js';
import { ephemeralProgress } from './ephemeral-progress.js';

const FixValueSchema = z.object({ a: z.uuid() });
const PageValueSchema = z.object({ q: z.string().max(300), p: z.number().int().min(1).max(10_000) });

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>;
type Click<T> = NonNullable<ReturnType<typeof parseJsonButton<T>>>;

/** Acks, reads the button's value (a stale or malformed one gets the "no longer valid" answer), then `handle`. */
function jsonButton<T>(
  deps: SlackDeps,
  schema: z.ZodType<T>,
  what: string,
  handle: (click: Click<T>, respond: ButtonArgs['respond'], tr: Translator) => Promise<void>,
) {
  return async ({ ack, body, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const click = parseJsonButton(body, schema);
    if (click === undefined) {
      return answerInvalidButton(
        respond,
        deps.logger,
        `malformed ${what} payload`,
        await payloadTranslator(deps, body),
      );
    }
    // The answers are ephemeral, to the clicker: in their language and time zone.
    await handle(click, respond, translator(await deps.readers.person(click.actor.userId)));
  };
}

/**
 * An alert's Fix: the changes its problem calls for, in the clicker's name, each through the desk — so their role
 * decides (an operator's frequency or snapshot runs at once; a delete goes to approval). The button only names
 * the alert. Once the changes ended, the partition is read again, which resolves the alert if it is fixed.
 */
export function createFixButton(deps: SlackDeps) {
  return jsonButton(deps, FixValueSchema, 'protection fix', async ({ actor, value }, respond, tr) => {
    const tell = (message: ReturnType<typeof problemMessage>) =>
      respond({ response_type: 'ephemeral', replace_original: false, ...message }).catch((error: unknown) =>
        deps.logger.warn({ err: error }, 'could not answer a protection fix'),
      );
    const runtime = deps.protection?.runtime;
    if (runtime === undefined) return void (await tell(problemMessage({ kind: 'protection_off' }, tr)));
    let request: Awaited<ReturnType<typeof runtime.requestFix>>;
    try {
      request = await runtime.requestFix(value.a);
    } catch (error) {
      if (!(error instanceof NashaError)) deps.logger.error({ err: error }, 'protection fix failed unexpectedly');
      return void (await tell(failureMessage(deps, error, { userId: actor.userId, button: 'protection-fix' }, tr)));
    }
    const { service, partition } = request.alert;
    // The reason is stored with the changes and read by approvers and the audit channel: written once, in the
    // workspace's language.
    const workspace = translator({ lang: deps.readers.defaultLang });
    const reason = workspace.plain(
      workspace.t('protection.fixReason', { kind: request.alert.kind, target: `${service}/${partition}` }),
    );
    const lines = await runChanges(
      deps,
      actor,
      request.drafts,
      { reason },
      ephemeralProgress(respond, deps.logger, 'a protection fix', tr),
    );
    await runtime
      .fixed(request.alert.id, actor.userId, lines.map(lineOutcome))
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not re-check a partition after its fix'));
  });
}

/** Previous/Next on a status summary: the query again, for the clicking user, in the channel of the message. */
export function createStatusPageButton(deps: SlackDeps) {
  return jsonButton(deps, PageValueSchema, 'status page', async ({ actor, value }, respond, tr) => {
    try {
      const queries = deps.protection?.queries;
      if (queries === undefined) throw new NashaError({ kind: 'protection_off' });
      const answer = await queries.status(actor, value.q === '' ? undefined : value.q, value.p);
      await respond({ replace_original: true, response_type: 'ephemeral', ...statusMessage(answer, tr) });
    } catch (error) {
      await respond({
        replace_original: true,
        response_type: 'ephemeral',
        ...failureMessage(deps, error, { userId: actor.userId, button: 'status-page' }, tr),
      }).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not deliver an error reply'));
    }
  });
}
