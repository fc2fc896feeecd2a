import { z } from 'zod';
import type { Actor } from '../../core/model.js';
import type { SlackDeps } from '../deps.js';
import { type Translator, translator } from '../i18n/translate.js';
import type { ModalMetadata } from '../metadata.js';
import { UserIdSchema, type ViewState, ViewStateSchema } from '../payloads.js';

const ModalPayloadSchema = z.object({
  user: z.object({ id: UserIdSchema }),
  view: z.object({
    id: z.string(),
    hash: z.string().optional(),
    private_metadata: z.string().optional(),
    state: z.object({ values: ViewStateSchema }).optional(),
  }),
});

export interface ModalContext {
  actor: Actor;
  metadata: ModalMetadata;
  state: ViewState;
  viewId: string;
  viewHash: string | undefined;
}

/**
 * The verified user, the signed metadata (only if it was issued to that same user) and the parsed
 * form state of a modal interaction; undefined when anything does not check out.
 */
export function modalContext(deps: SlackDeps, body: unknown): ModalContext | undefined {
  const parsed = ModalPayloadSchema.safeParse(body);
  if (!parsed.success) {
    deps.logger.warn({ issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'malformed modal payload');
    return undefined;
  }
  const { user, view } = parsed.data;
  const metadata = deps.metadata.decode(view.private_metadata, user.id);
  if (metadata === undefined) {
    deps.logger.warn({ userId: user.id }, 'modal metadata missing, forged, expired or issued to another user');
    return undefined;
  }
  return {
    actor: { userId: user.id, channelId: metadata.c ?? undefined },
    metadata,
    state: view.state?.values ?? {},
    viewId: view.id,
    viewHash: view.hash,
  };
}

/** Who sent a payload: an interaction's `user.id`, a slash command's `user_id`. */
const PayloadUserSchema = z.union([
  z.object({ user: z.object({ id: UserIdSchema }) }).transform((b) => b.user.id),
  z.object({ user_id: UserIdSchema }).transform((b) => b.user_id),
]);

/**
 * The translator for whoever sent a payload (the signed payload's user id, even when the rest of it does not
 * check out), or the workspace default when it names nobody.
 */
export async function payloadTranslator(
  deps: { readers: Pick<SlackDeps['readers'], 'person' | 'defaultLang'> },
  body: unknown,
): Promise<Translator> {
  const sender = PayloadUserSchema.safeParse(body);
  return translator(sender.success ? await deps.readers.person(sender.data) : { lang: deps.readers.defaultLang });
}

/** A form that cannot be used (forged, expired, someone else's), as its inline error. */
export function expiredForm(tr: Translator): string {
  return tr.plain(tr.t('form.expired'));
}
