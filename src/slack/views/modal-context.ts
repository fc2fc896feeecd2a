import { z } from 'zod';
import type { Actor } from '../../core/model.js';
import type { SlackDeps } from '../deps.js';
import type { ModalMetadata } from '../metadata.js';
import { UserIdSchema, type ViewState, ViewStateSchema } from '../payloads.js';
import { code, plain, say } from '../text.js';

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

export const EXPIRED_FORM = plain(
  say`This form has expired or was not opened for you. Run ${code('/nasha snapshot')} again.`,
);
