import type { AllMiddlewareArgs, AnyMiddlewareArgs, RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { excerpt } from '../shared/excerpt.js';
import { staleFormModal } from './blocks/modals.js';
import { staleInteractionMessage, unknownCommandMessage } from './blocks/replies.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { ENGLISH_TRANSLATOR, type Translator } from './i18n/translate.js';
import { noteRequestOutcome } from './request-log.js';
import { payloadTranslator } from './views/modal-context.js';

/** Which listener kind a payload is for, and the id listeners match on. */
const InteractionSchema = z.union([
  z.object({ command: z.string() }).transform((b) => ({ kind: 'command' as const, id: b.command })),
  z
    .object({
      type: z.literal('block_actions'),
      actions: z.tuple([z.object({ action_id: z.string() })], z.unknown()),
      container: z.object({ type: z.string() }).optional(),
      response_url: z.string().min(1).optional(),
    })
    .transform((b) => ({
      kind: 'action' as const,
      id: b.actions[0].action_id,
      // A button in a message can be answered through its response_url; an element in a form cannot.
      inMessage: b.container?.type === 'message' && b.response_url !== undefined,
    })),
  z
    .object({ type: z.literal('view_submission'), view: z.object({ callback_id: z.string() }) })
    .transform((b) => ({ kind: 'view' as const, id: b.view.callback_id })),
  // Nothing listens for a form being closed (no form asks to be told).
  z
    .object({ type: z.literal('view_closed'), view: z.object({ callback_id: z.string() }) })
    .transform((b) => ({ kind: 'closed' as const, id: b.view.callback_id })),
  z
    .object({ type: z.literal('block_suggestion'), action_id: z.string() })
    .transform((b) => ({ kind: 'options' as const, id: b.action_id })),
  z
    .object({
      type: z.enum(['shortcut', 'message_action']),
      callback_id: z.string(),
      trigger_id: z.string().min(1).optional(),
    })
    .transform((b) => ({ kind: 'shortcut' as const, id: b.callback_id, triggerId: b.trigger_id })),
  // Bolt has acknowledged an event before any middleware runs.
  z
    .object({ type: z.literal('event_callback'), event: z.object({ type: z.string() }) })
    .transform((b) => ({ kind: 'event' as const, id: b.event.type })),
]);

/** A payload the bot's router can place: its kind, the id listeners are registered under, and what answers need. */
export type Route = z.output<typeof InteractionSchema>;
export type RouteKind = Exclude<Route['kind'], 'closed'>;

/** Where a payload goes; undefined if it is not ours to judge (a legacy payload type): Bolt has it as before. */
export function routeOf(body: unknown): Route | undefined {
  const parsed = InteractionSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

type AnyAck = (response?: object) => Promise<void>;

/**
 * Tells whoever clicked a button the bot cannot use — a stale one, or one whose value does not parse — that it
 * did nothing, instead of silence, in their language (`tr`). For the listeners too: they have acknowledged
 * already. `respond` is there for buttons in messages; a form's elements have no response_url.
 */
export async function answerInvalidButton(
  respond: RespondFn | undefined,
  logger: Logger,
  reason: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): Promise<void> {
  noteRequestOutcome('invalid button', reason);
  await respond?.({ response_type: 'ephemeral', replace_original: false, ...staleInteractionMessage(tr) }).catch(
    (error: unknown) => logger.warn({ err: error }, 'could not tell the clicker a button is no longer valid'),
  );
}

/**
 * Answers, at once, what no listener claims: a button or form from an older version of the bot, a
 * shortcut or command the manifest has and the code does not, a form being closed (no form asks to be told).
 * Bolt would answer those only after its 3-second timeout, with a 404 that Slack shows as an error. Changes
 * nothing and decides nothing, so it needs no permission check. It answers in the sender's language
 * (`readers`; without them, English).
 */
export async function answerUnclaimed(
  route: Exclude<Route, { kind: 'event' }>,
  args: AnyMiddlewareArgs & AllMiddlewareArgs,
  logger: Logger,
  readers?: Pick<ReaderDirectory, 'person' | 'defaultLang'>,
): Promise<void> {
  if (!('ack' in args)) return;
  const ack = args.ack as AnyAck;
  const translatorFor = (body: unknown) =>
    readers === undefined ? Promise.resolve(ENGLISH_TRANSLATOR) : payloadTranslator({ readers }, body);
  if (route.kind === 'closed') {
    await ack();
    return;
  }
  const stale = 'no listener claims it; answered as stale';
  if (route.kind !== 'action') noteRequestOutcome('stale', stale);
  switch (route.kind) {
    case 'command': {
      const tr = await translatorFor(args.body);
      await ack({ response_type: 'ephemeral', ...unknownCommandMessage(excerpt(route.id, 40), tr) });
      return;
    }
    case 'view':
      await ack({ response_action: 'update', view: staleFormModal(await translatorFor(args.body)) });
      return;
    case 'options':
      await ack({ options: [] });
      return;
    case 'action':
      await ack();
      await answerInvalidButton(
        route.inMessage && 'respond' in args ? args.respond : undefined,
        logger,
        stale,
        await translatorFor(args.body),
      );
      return;
    case 'shortcut':
      await ack();
      if (route.triggerId !== undefined) {
        await args.client.views
          .open({ trigger_id: route.triggerId, view: staleFormModal(await translatorFor(args.body)) })
          .catch((error: unknown) => logger.warn({ err: error }, 'could not answer a stale shortcut'));
      }
      return;
  }
}
