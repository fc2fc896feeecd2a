import type { AllMiddlewareArgs, GlobalShortcut, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { sanitizeLabel } from '../../core/quick-snapshots.js';
import { quickModal } from '../blocks/quick-summary.js';
import type { SlackDeps } from '../deps.js';
import { translator } from '../i18n/translate.js';
import { ChannelIdSchema, UserIdSchema } from '../payloads.js';

const MessageShortcutSchema = z.object({
  trigger_id: z.string().min(1),
  user: z.object({ id: UserIdSchema }),
  channel: z.object({ id: ChannelIdSchema, name: z.string().max(200).optional() }),
  message: z.object({ ts: z.string().min(1) }),
});

const GlobalShortcutSchema = z.object({ trigger_id: z.string().min(1), user: z.object({ id: UserIdSchema }) });

/**
 * "Snapshot now" on a message in an incident channel: the label comes from the channel name, the
 * reason links the message, the target is the last one used in that channel. Permissions are
 * checked when the form is submitted.
 */
export function createQuickMessageShortcut(deps: SlackDeps) {
  return async ({
    ack,
    body,
    client,
  }: AllMiddlewareArgs & SlackShortcutMiddlewareArgs<MessageShortcut>): Promise<void> => {
    await ack();
    const payload = MessageShortcutSchema.safeParse(body);
    if (!payload.success) {
      deps.logger.warn('malformed message shortcut payload');
      return;
    }
    const { user, channel, message, trigger_id: triggerId } = payload.data;
    // Only lookups that answer fast: the trigger id expires 3 s after the click.
    const [permalink, target, reader] = await Promise.all([
      client.chat
        .getPermalink({ channel: channel.id, message_ts: message.ts })
        .then((r) => (typeof r.permalink === 'string' ? r.permalink : undefined))
        .catch(() => undefined),
      deps.quick.lastTarget(`channel:${channel.id}`).catch(() => undefined),
      deps.readers.person(user.id),
    ]);
    const tr = translator(reader);
    const metadata = deps.metadata.encode({ u: user.id, c: channel.id });
    const view = quickModal(
      metadata,
      {
        target,
        label: sanitizeLabel(channel.name ?? 'incident'),
        reason: permalink === undefined ? undefined : tr.plain(tr.t('quick.incidentMessage', { link: permalink })),
        expiration: '7d',
      },
      tr,
    );
    await client.views
      .open({ trigger_id: triggerId, view })
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'views.open failed'));
  };
}

/** "Snapshot now" from the shortcuts menu: no channel, so the summary goes to the user's DM. */
export function createQuickGlobalShortcut(deps: SlackDeps) {
  return async ({
    ack,
    body,
    client,
  }: AllMiddlewareArgs & SlackShortcutMiddlewareArgs<GlobalShortcut>): Promise<void> => {
    await ack();
    const payload = GlobalShortcutSchema.safeParse(body);
    if (!payload.success) {
      deps.logger.warn('malformed global shortcut payload');
      return;
    }
    await openQuickForm(deps, client, payload.data.user.id, payload.data.trigger_id);
  };
}

/** The quick-snapshot form with no channel (its summary goes to the user's DM): the global shortcut, the Home tab. */
export async function openQuickForm(
  deps: SlackDeps,
  client: AllMiddlewareArgs['client'],
  userId: string,
  triggerId: string,
): Promise<void> {
  const [target, reader] = await Promise.all([
    deps.quick.lastTarget(`user:${userId}`).catch(() => undefined),
    deps.readers.person(userId),
  ]);
  const view = quickModal(
    deps.metadata.encode({ u: userId, c: null }),
    { target, label: 'incident', reason: undefined, expiration: '7d' },
    translator(reader),
  );
  await client.views
    .open({ trigger_id: triggerId, view })
    .catch((error: unknown) => deps.logger.warn({ err: error }, 'views.open failed'));
}
