import type { types, webApi } from '@slack/bolt';
import { NashaError } from '../../core/errors.js';
import type { Actor } from '../../core/model.js';
import { type ChangeRequest, type ChangeResult, describeChange } from '../../core/snapshot-service.js';
import type { Block } from '../blocks/limits.js';
import { progressBlocks, resultModal } from '../blocks/modals.js';
import { errorMessage } from '../blocks/replies.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';

type Line = { description: string; state: 'running' | ChangeResult | { failedBeforeOvh: string } };

/**
 * Runs changes from a modal and keeps the (still open) modal up to date: submitted → done or
 * failed, one line per change. If the user closed it, the audit channel still records everything.
 */
export async function runModalChanges(
  deps: SlackDeps,
  client: webApi.WebClient,
  actor: Actor,
  viewId: string,
  metadata: string,
  title: string,
  requests: readonly ChangeRequest[],
  /** Shown above the progress lines (e.g. pending approvals filed from the same form). */
  preamble: readonly Block[] = [],
): Promise<void> {
  const lines: Line[] = requests.map((r) => ({ description: describeChange(r), state: 'running' }));
  const render = () => resultModal(metadata, title, [...preamble, ...renderLines(lines)]);
  const show = (view: types.ModalView) =>
    client.views.update({ view_id: viewId, view }).then(
      () => undefined,
      (error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (modal closed?)'),
    );
  await Promise.all(
    requests.map(async (request, index) => {
      const line = lines[index];
      if (line === undefined) return;
      try {
        const started = await deps.service.change(actor, request);
        await show(render());
        line.state = await started.done;
      } catch (error) {
        const message =
          error instanceof NashaError ? error.message : toErrorMessage(deps, error, { userId: actor.userId }).text;
        line.state = { failedBeforeOvh: message };
      }
      await show(render());
    }),
  );
}

function renderLines(lines: readonly Line[]): Block[] {
  const blocks: Block[] = [];
  for (const line of lines) {
    if (typeof line.state === 'object' && 'failedBeforeOvh' in line.state) {
      blocks.push(
        ...errorMessage({ code: 'ovh_refused', message: `${line.description}: ${line.state.failedBeforeOvh}` }).blocks,
      );
    } else {
      blocks.push(...progressBlocks([{ description: line.description, state: line.state }]));
    }
  }
  return blocks;
}
