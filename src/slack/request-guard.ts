import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  ErrorCode,
  HTTPModuleFunctions,
  type HTTPReceiver,
  isRawBodyError,
  isValidSlackRequest,
  type ReceiverEvent,
  type ReceiverProcessEventErrorHandlerArgs,
  type SocketModeReceiverProcessEventErrorHandlerArgs,
} from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import type { SlackMessage } from './blocks/limits.js';
import { duplicateRequestMessage, requestNotCheckedMessage } from './blocks/replies.js';
import type { ReaderDirectory } from './i18n/readers.js';
import { ENGLISH_TRANSLATOR, type Translator } from './i18n/translate.js';
import { REPLAY_WINDOW_MS, type ReplayGuard } from './replay-guard.js';
import { describeRequest, REQUEST_LOG_MESSAGE, RequestNotRunError } from './request-log.js';
import { payloadTranslator } from './views/modal-context.js';

/**
 * The checks between Bolt's receivers and its routing, in HTTP and Socket Mode alike: a payload the bot cannot
 * read is refused at once (Bolt would wait 3 s and answer 404, or never answer), and a delivery already run is
 * answered as such without running again (a slash command's copy only known to the ledger: stopped after its
 * ack, see `recordedAfter`). At the HTTP edge, two things Bolt's receiver does not do: refuse a
 * timestamp from the future, and survive a signed body that parses to `null`.
 */

/** A signed request whose body is not a Slack payload the bot can route: 400 over HTTP, an empty ack in Socket Mode. */
export class MalformedRequestError extends Error {
  override readonly name = 'MalformedRequestError';
}

type DeliveryKind = 'command' | 'action' | 'view' | 'view_closed' | 'options' | 'shortcut' | 'event';

export type Classification =
  | { ok: true; kind: DeliveryKind; triggerId: string | undefined; hasEffect: boolean }
  | { ok: false; reason: string };

// Identifiers are only required to be present and strings: their content is the listeners' to judge (they
// answer a bad user id or command text with a message of their own).
const User = z.object({ id: z.string() });
const TriggerId = z
  .string()
  .optional()
  .transform((id) => (id === '' ? undefined : id));

const CommandBody = z.object({ command: z.string().min(1), user_id: z.string(), trigger_id: TriggerId });
const EventBody = z.object({ event: z.object({ type: z.string() }), trigger_id: TriggerId });
const OptionsBody = z.object({
  type: z.literal('block_suggestion'),
  action_id: z.string(),
  user: User,
  trigger_id: TriggerId,
});
const ActionsBody = z.object({
  type: z.literal('block_actions'),
  user: User,
  actions: z.array(z.object({ action_id: z.string() })).min(1),
  trigger_id: TriggerId,
});
const ShortcutBody = z.object({
  type: z.enum(['shortcut', 'message_action']),
  callback_id: z.string(),
  user: User,
  trigger_id: TriggerId,
});
const ViewBody = z.object({
  type: z.enum(['view_submission', 'view_closed']),
  user: User,
  view: z.object({ callback_id: z.string() }),
  trigger_id: TriggerId,
});

/**
 * What a payload is, in the order Bolt routes it (helpers.getTypeAndConversation), and whether it has the
 * fields Bolt and the bot rely on. Option loads, closed forms and events change nothing in this bot (it has no
 * event listener; Bolt acknowledges events itself), so copies of them need no ledger: an option load may
 * legitimately repeat, and has no trigger_id to tell two apart.
 */
export function classifyRequest(body: unknown): Classification {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'the payload is not a JSON object' };
  }
  const b = body as Record<string, unknown>;
  if (b['event'] !== undefined) return shape(EventBody, b, 'event', false, 'an event without a type');
  if (b['command'] !== undefined) return shape(CommandBody, b, 'command', true, 'a command without its fields');
  if (b['name'] !== undefined || b['type'] === 'block_suggestion') {
    return shape(OptionsBody, b, 'options', false, 'an options load without a field or a user');
  }
  if (b['actions'] !== undefined || b['type'] === 'dialog_submission') {
    return shape(ActionsBody, b, 'action', true, 'an action without a user or an action id');
  }
  if (b['type'] === 'shortcut' || b['type'] === 'message_action') {
    return shape(ShortcutBody, b, 'shortcut', true, 'a shortcut without a user or a callback id');
  }
  if (b['type'] === 'view_submission') return shape(ViewBody, b, 'view', true, 'a form without a user or a view');
  if (b['type'] === 'view_closed') return shape(ViewBody, b, 'view_closed', false, 'a form without a user or a view');
  return { ok: false, reason: 'not a kind of payload the bot handles' };
}

function shape(
  schema: z.ZodType<{ trigger_id?: string | undefined }>,
  body: Record<string, unknown>,
  kind: DeliveryKind,
  hasEffect: boolean,
  problem: string,
): Classification {
  const parsed = schema.safeParse(body);
  return parsed.success
    ? { ok: true, kind, triggerId: parsed.data.trigger_id, hasEffect }
    : { ok: false, reason: problem };
}

export interface RequestGuardOptions {
  replays: ReplayGuard;
  logger: Logger;
  onResult?: ((kind: string, name: string, result: 'ok' | 'error') => void) | undefined;
  /** Who reads the answers: the command's sender, in their language (without it, English). */
  readers?: Pick<ReaderDirectory, 'person' | 'defaultLang'> | undefined;
  /**
   * The ack of a slash command the edge answers itself, before Bolt routes it, and what its listener is then
   * told in Bolt's context; undefined for a command answered by its listener.
   */
  answerFirst?: ((body: unknown) => Promise<AnsweredFirst | undefined>) | undefined;
}

/** A slash command answered at the edge: its ack, and the context its listener gets. */
export interface AnsweredFirst {
  ack: Parameters<ReceiverEvent['ack']>[0];
  context: Record<string, unknown>;
}

/** Runs `deliver` (Bolt's routing) for a readable delivery not seen before; answers the others itself. */
export type RequestGuard = (event: ReceiverEvent, deliver: (event: ReceiverEvent) => Promise<void>) => Promise<void>;

export function createRequestGuard({
  replays,
  logger,
  onResult,
  readers,
  answerFirst,
}: RequestGuardOptions): RequestGuard {
  const translatorFor = (body: unknown): Promise<Translator> =>
    readers === undefined ? Promise.resolve(ENGLISH_TRANSLATOR) : payloadTranslator({ readers }, body);
  return async (event, deliver) => {
    const found = classifyRequest(event.body);
    // For the log lines of requests the guard ends itself: none is built on a first delivery's way to its ack.
    const summary = () => describeRequest(event.body);
    if (!found.ok) {
      logger.warn({ ...summary(), outcome: 'malformed', reason: found.reason }, REQUEST_LOG_MESSAGE);
      onResult?.('malformed', 'malformed', 'error');
      throw new MalformedRequestError(found.reason);
    }
    if (!found.hasEffect) {
      await deliver(event);
      return;
    }
    // A command's ack is shown to the user, in their language; an interaction's empty ack is all Slack expects.
    const answer = async (words: (tr: Translator) => SlackMessage) =>
      event.ack(
        found.kind === 'command'
          ? { response_type: 'ephemeral', ...words(await translatorFor(event.body)) }
          : undefined,
      );
    const answerCopy = async () => {
      logger.warn(
        {
          ...summary(),
          outcome: 'duplicate',
          reason: 'already received; not run again',
          ...(event.retryNum !== undefined && { retryNum: event.retryNum }),
        },
        REQUEST_LOG_MESSAGE,
      );
      onResult?.(found.kind, 'duplicate', 'ok');
      await answer(duplicateRequestMessage);
    };
    if (found.kind === 'command') {
      const claim = replays.claim(found.kind, found.triggerId, event.body);
      if (claim === undefined) {
        await answerCopy();
        return;
      }
      // Its delivery is recorded after the ack, off the ack's path, before any work: the listener's `await ack()`
      // returns only once the ledger says this is the first delivery anywhere.
      const record = () => replays.record(claim);
      const reader = () => translatorFor(event.body);
      const answered = await answerFirst?.(event.body);
      if (answered === undefined) {
        // The listener reads before its ack (nothing more) and acks.
        await deliver({ ...event, ack: recordedAfter(event.ack, record, reader) });
        return;
      }
      // Answered here, before Bolt's routing and middleware: those run once the acks of the requests that came
      // with this one are out (the ack's `await`, src/slack/app.ts), so a burst's acks wait for no one's
      // routing. The listener's own ack then only records the delivery: Slack has had this answer already.
      await event.ack(answered.ack);
      await deliver({
        ...event,
        ack: recordedAfter(async () => {}, record, reader),
        customProperties: { ...event.customProperties, ...answered.context },
      });
      return;
    }
    let first: boolean;
    try {
      first = await replays.isFirstDelivery(found.kind, found.triggerId, event.body);
    } catch (error) {
      // Without the ledger, a replay could not be told from the original: run nothing.
      logger.error({ ...summary(), outcome: 'not run', err: error }, REQUEST_LOG_MESSAGE);
      onResult?.(found.kind, 'unchecked', 'error');
      await answer(requestNotCheckedMessage);
      return;
    }
    if (!first) {
      await answerCopy();
      return;
    }
    await deliver(event);
  };
}

/**
 * `ack` that, once it has answered, records the delivery and returns only if it is the first: otherwise it
 * throws `RequestNotRunError`, which stops the listener before it runs anything and which the request log
 * ends the request with. A copy recorded by another replica (or by this one, past what it remembers) stays
 * silent after its ack: its response_url is the original's, whose answer is on its way there. When the ledger
 * cannot be reached, the sender is told through the response_url that nothing was run.
 */
function recordedAfter(
  ack: ReceiverEvent['ack'],
  record: () => Promise<boolean>,
  reader: () => Promise<Translator>,
): ReceiverEvent['ack'] {
  let recorded: Promise<void> | undefined;
  return async (response) => {
    await ack(response);
    recorded ??= record().then(
      (first) => {
        if (!first) {
          throw new RequestNotRunError('duplicate', 'recorded by another replica; not run again', {
            name: 'duplicate',
            result: 'ok',
          });
        }
      },
      async (error: unknown) => {
        throw new RequestNotRunError(
          'not run',
          'the delivery could not be recorded',
          { name: 'unchecked', result: 'error' },
          requestNotCheckedMessage(await reader()),
          { cause: error },
        );
      },
    );
    await recorded;
  };
}

const MALFORMED_BODY = 'The request could not be processed.';

/**
 * HTTPReceiver's processEventErrorHandler. A malformed request (already logged by the guard) or one Bolt could
 * not route is the sender's fault: 400 without details, not 500; 401 for authorization. Returning true tells
 * the receiver the request is answered, so its 3-second timer does not log it again.
 */
export async function answerHttpError({
  error,
  logger,
  response,
}: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  if (response.headersSent) {
    logger.error('An error occurred after the request was acknowledged', error);
    return false;
  }
  if (error instanceof MalformedRequestError) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end(MALFORMED_BODY);
    return true;
  }
  if ('code' in error && error.code === ErrorCode.AuthorizationError) {
    response.writeHead(401).end();
    return true;
  }
  logger.warn('Could not process a Slack request', error);
  response.writeHead(400, { 'content-type': 'text/plain' }).end(MALFORMED_BODY);
  return true;
}

/**
 * SocketModeReceiver's processEventErrorHandler: the envelope is acknowledged whatever went wrong, so Slack does
 * not send it again (it would fail the same way). A malformed one was logged by the guard already.
 */
export async function acknowledgeSocketError({
  error,
  logger,
}: SocketModeReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  if (!(error instanceof MalformedRequestError)) logger.warn('Could not process a Slack request', error);
  return true;
}

export interface HttpEdgeOptions {
  signingSecret: string;
  /** The receiver's events path. */
  endpoint: string;
  /** The receiver's body limit: the body is read here first, and Bolt then reuses it without checking again. */
  bodyLimit: number;
  /** The clock Bolt checks a request's age against (the system clock). */
  clock: Clock;
  logger: Logger;
}

/**
 * Puts two checks in front of Bolt's HTTPReceiver for POSTs to the events path. Bolt refuses a timestamp older
 * than 5 minutes and not one further ahead, so a request signed with a clock set forward would stay replayable
 * for longer: refused here the same way, 401. And a signed body that parses to `null` (`payload=null`) makes
 * the receiver throw where nothing catches it, so the request is never answered: 400 here. Everything else
 * goes to Bolt unchanged; it reuses the body read here.
 */
export function guardHttpEdge(receiver: HTTPReceiver, options: HttpEdgeOptions): HTTPReceiver {
  const bolt = receiver.requestListener;
  const guarded: RequestListener = (req, res) => {
    if (req.method !== 'POST' || pathOf(req) !== options.endpoint) {
      bolt(req, res);
      return;
    }
    if (signedInTheFuture(req, options.clock)) {
      options.logger.warn(
        { outcome: 'refused', reason: 'x-slack-request-timestamp is more than 5 minutes in the future' },
        REQUEST_LOG_MESSAGE,
      );
      req.resume();
      res.writeHead(401).end();
      return;
    }
    screenBody(req, res, options)
      .then((pass) => {
        if (pass) bolt(req, res);
      })
      .catch((error: unknown) => {
        options.logger.error({ err: error }, 'could not hand a Slack request to Bolt');
        if (!res.headersSent) res.writeHead(500).end();
      });
  };
  receiver.requestListener = guarded;
  return receiver;
}

function pathOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** Bolt's own rule mirrored: "more than 5 minutes" in whole seconds of the same clock. */
function signedInTheFuture(req: IncomingMessage, clock: Clock): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  const timestamp = typeof header === 'string' ? Number(header) : Number.NaN;
  return Number.isFinite(timestamp) && timestamp > Math.floor(clock.now() / 1000) + REPLAY_WINDOW_MS / 1000;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Whether a form body may have a `payload` field as Node's querystring (Bolt's parser) reads it: a key that
 * decodes to `payload`. Undecodable keys count as maybe; only a sure "no" skips the parse.
 */
export function mayHavePayloadField(form: string): boolean {
  for (const field of form.split('&')) {
    const end = field.indexOf('=');
    const key = end < 0 ? field : field.slice(0, end);
    if (key === 'payload') return true;
    if (key.includes('%') || key.includes('+')) {
      try {
        if (decodeURIComponent(key.replaceAll('+', ' ')) === 'payload') return true;
      } catch {
        return true;
      }
    }
  }
  return false;
}

/** Reads the body as Bolt will; false once this has answered the request itself. */
async function screenBody(req: IncomingMessage, res: ServerResponse, options: HttpEdgeOptions): Promise<boolean> {
  let buffered: Awaited<ReturnType<typeof HTTPModuleFunctions.bufferIncomingMessage>>;
  try {
    buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, options.bodyLimit);
  } catch (error) {
    const tooLarge = isRawBodyError(error) && (error.type === 'entity.too.large' || error.statusCode === 413);
    options.logger.warn(
      { outcome: 'refused', reason: tooLarge ? 'the body is over the size limit' : 'the body could not be read' },
      REQUEST_LOG_MESSAGE,
    );
    // The rest of the body is left unread: the connection cannot carry another request (a pooling proxy's next
    // one would wait behind it, unanswered), so it is closed with the answer.
    res.writeHead(tooLarge ? 413 : 400, { connection: 'close' }).end();
    return false;
  }
  // Only a JSON body or a form's `payload` field can be `null`; a form without one (a slash command) is not
  // parsed here, where Bolt parses it again.
  if (req.headers['content-type'] === FORM_TYPE && !mayHavePayloadField(buffered.rawBody.toString())) return true;
  let parsed: unknown;
  try {
    parsed = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
  } catch {
    return true; // Bolt answers it: 401 if unsigned, else 400.
  }
  if (parsed !== null) return true;
  const signature = req.headers['x-slack-signature'];
  const timestamp = Number(req.headers['x-slack-request-timestamp']);
  const signed =
    typeof signature === 'string' &&
    isValidSlackRequest({
      signingSecret: options.signingSecret,
      body: buffered.rawBody.toString(),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds: options.clock.now(),
    });
  if (!signed) return true; // Bolt refuses it (401) before reading it.
  options.logger.warn({ outcome: 'malformed', reason: 'the payload is null' }, REQUEST_LOG_MESSAGE);
  res.writeHead(400, { 'content-type': 'text/plain' }).end(MALFORMED_BODY);
  return false;
}
