import type { webApi } from '@slack/bolt';
import type { Actor } from '../../core/model.js';
import { context, message } from '../blocks/limits.js';
import type { SlackDeps } from '../deps.js';
import { runQuickSnapshots } from '../quick-runner.js';
import type { ParsedCommand } from './parse.js';
import { type Reply, toErrorMessage } from './run-command.js';

/** `/nasha snapshot quick <target> [label]`: plan (permissions, names), then run with a live summary. */
export async function runQuickCommand(
  deps: SlackDeps,
  client: webApi.WebClient,
  actor: Actor,
  command: Extract<ParsedCommand, { kind: 'quick' }>,
  reply: Reply,
): Promise<void> {
  try {
    const run = await deps.quick.plan(actor, command.spec, {
      label: command.label,
      expires: command.expires,
      reason: command.reason,
    });
    // Where the summary is, as soon as it is posted: the run itself may take minutes.
    await runQuickSnapshots(
      deps,
      client,
      actor,
      run,
      actor.channelId === undefined ? undefined : `channel:${actor.channelId}`,
      (where) =>
        reply.replace(
          where.inChannel
            ? message('Quick snapshots: the summary is in this channel.', [
                context(':camera_with_flash: The summary is posted in this channel.'),
              ])
            : message('Quick snapshots: the summary is in your DM.', [
                context(
                  ':camera_with_flash: I could not post in this channel, so the summary is in your DM with me. Invite me (`/invite @nasha`) to share it next time.',
                ),
              ]),
        ),
    );
  } catch (error) {
    await reply.replace(toErrorMessage(deps, error, { userId: actor.userId, command: 'quick' }));
  }
}
