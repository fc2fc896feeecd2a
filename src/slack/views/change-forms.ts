import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { NashaError } from '../../core/errors.js';
import { formatTarget } from '../../core/model.js';
import { checkSnapshotName, parseExpiration } from '../../core/naming.js';
import type { ChangeRequest, PartitionTarget } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { approvalPendingMessage } from '../blocks/approval-card.js';
import { type Block, context as contextBlock } from '../blocks/limits.js';
import { FIELD, resultModal } from '../blocks/modals.js';
import { toErrorMessage } from '../commands/run-command.js';
import type { SlackDeps } from '../deps.js';
import { stateOptions, stateValue } from '../payloads.js';
import { EXPIRED_FORM, type ModalContext, modalContext } from './modal-context.js';
import { runModalChanges } from './modal-progress.js';

type ViewArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs;

function targetOf(ctx: ModalContext): PartitionTarget | undefined {
  const { s: service, p: partition } = ctx.metadata;
  return service === undefined || partition === undefined ? undefined : { service, partition };
}

/** Opens a progress view, then runs the changes (after the ack, so Slack's 3 s are kept). */
async function submitChanges(
  deps: SlackDeps,
  args: ViewArgs,
  ctx: ModalContext,
  target: PartitionTarget,
  requests: ChangeRequest[],
) {
  const metadata = deps.metadata.encode({
    u: ctx.actor.userId,
    c: ctx.actor.channelId ?? null,
    s: target.service,
    p: target.partition,
  });
  const title = 'NAS-HA snapshots';
  if (requests.length === 0) {
    await args.ack({
      response_action: 'update',
      view: resultModal(metadata, title, [contextBlock(`Nothing to change on \`${formatTarget(target)}\`.`)]),
    });
    return;
  }
  await args.ack({
    response_action: 'update',
    view: resultModal(metadata, title, [contextBlock(':hourglass_flowing_sand: Submitting to OVH…')]),
  });
  await runModalChanges(deps, args.client, ctx.actor, ctx.viewId, metadata, title, requests);
}

/** Create form: name and optional expiration (as `--expires` takes it), validated inline with its messages. */
export function createCreateSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    if (ctx === undefined || target === undefined) {
      await args.ack({ response_action: 'errors', errors: { [FIELD.name]: EXPIRED_FORM } });
      return;
    }
    const errors: Record<string, string> = {};
    const name = (stateValue(ctx.state, FIELD.name, FIELD.name) ?? '').trim();
    // Typed text (or a date from a form opened before the field became text); blank means no expiration.
    const expires = stateValue(ctx.state, FIELD.expiration, FIELD.expiration)?.trim() || undefined;
    let expiration: string | undefined;
    try {
      checkSnapshotName(name);
    } catch (error) {
      errors[FIELD.name] = plain(error);
    }
    if (expires !== undefined) {
      try {
        expiration = parseExpiration(expires, deps.clock.now());
      } catch (error) {
        errors[FIELD.expiration] = plain(error);
      }
    }
    if (Object.keys(errors).length > 0) {
      await args.ack({ response_action: 'errors', errors });
      return;
    }
    await submitChanges(deps, args, ctx, target, [{ action: 'snapshot.create', target, name, expiration }]);
  };
}

/** Frequencies form: one add or remove per changed checkbox, against the live schedule. */
export function createScheduleSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    if (ctx === undefined || target === undefined) {
      await args.ack({ response_action: 'errors', errors: { [FIELD.frequencies]: EXPIRED_FORM } });
      return;
    }
    const wanted = stateOptions(ctx.state, FIELD.frequencies, FIELD.frequencies).filter((t): t is SnapshotType =>
      (SNAPSHOT_TYPES as readonly string[]).includes(t),
    );
    let current: SnapshotType[];
    try {
      current = await deps.service.enabledFrequencies(ctx.actor, target);
    } catch (error) {
      await args.ack({ response_action: 'errors', errors: { [FIELD.frequencies]: plain(error, deps) } });
      return;
    }
    const requests: ChangeRequest[] = [
      ...wanted.filter((t) => !current.includes(t)).map((type) => ({ action: 'schedule.add' as const, target, type })),
      ...current
        .filter((t) => !wanted.includes(t))
        .map((type) => ({ action: 'schedule.remove' as const, target, type })),
    ];
    // Changes that need a second person become approval requests (with the form's reason); the rest run.
    const approvable = requests.filter((r) => deps.approvals.ruleFor(r.action) !== undefined);
    if (approvable.length === 0) {
      await submitChanges(deps, args, ctx, target, requests);
      return;
    }
    const reason = (stateValue(ctx.state, FIELD.reason, FIELD.reason) ?? '').trim();
    if (reason.length < 3) {
      // The reason box is on the form when removals need approval; otherwise point at the checkboxes.
      const field = ctx.state[FIELD.reason] === undefined ? FIELD.frequencies : FIELD.reason;
      await args.ack({
        response_action: 'errors',
        errors: { [field]: 'These changes need a second person: give a reason, the approvers read it.' },
      });
      return;
    }
    const direct = requests.filter((r) => !approvable.includes(r));
    await requestApprovals(deps, args, ctx, target, approvable, reason, direct);
  };
}

export function createDeleteSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    const name = ctx === undefined ? undefined : stateValue(ctx.state, FIELD.snapshot, FIELD.snapshot);
    if (ctx === undefined || target === undefined || name === undefined) {
      await args.ack({
        response_action: 'errors',
        errors: { [FIELD.snapshot]: ctx === undefined ? EXPIRED_FORM : 'Choose a snapshot.' },
      });
      return;
    }
    const request: ChangeRequest = { action: 'snapshot.delete', target, name };
    if (deps.approvals.ruleFor('snapshot.delete') === undefined) {
      await submitChanges(deps, args, ctx, target, [request]);
      return;
    }
    const reason = (stateValue(ctx.state, FIELD.reason, FIELD.reason) ?? '').trim();
    if (reason.length < 3) {
      await args.ack({
        response_action: 'errors',
        errors: { [FIELD.reason]: 'Give a reason: the approvers read it.' },
      });
      return;
    }
    await requestApprovals(deps, args, ctx, target, [request], reason);
  };
}

/** Files approval requests from a form and shows "pending approval #id" for each. */
async function requestApprovals(
  deps: SlackDeps,
  args: ViewArgs,
  ctx: ModalContext,
  target: PartitionTarget,
  requests: ChangeRequest[],
  reason: string,
  alsoRun: ChangeRequest[] = [],
): Promise<void> {
  const metadata = deps.metadata.encode({
    u: ctx.actor.userId,
    c: ctx.actor.channelId ?? null,
    s: target.service,
    p: target.partition,
  });
  const title = 'NAS-HA snapshots';
  await args.ack({
    response_action: 'update',
    view: resultModal(metadata, title, [contextBlock(':hourglass_flowing_sand: Preparing…')]),
  });
  const blocks: Block[] = [];
  for (const request of requests) {
    try {
      blocks.push(...approvalPendingMessage(await deps.approvals.request(ctx.actor, request, reason)).blocks);
    } catch (error) {
      blocks.push(...toErrorMessage(deps, error, { userId: ctx.actor.userId }).blocks);
    }
  }
  await args.client.views
    .update({ view_id: ctx.viewId, view: resultModal(metadata, title, blocks) })
    .catch((error: unknown) => deps.logger.debug({ err: error }, 'views.update failed (modal closed?)'));
  if (alsoRun.length > 0)
    await runModalChanges(deps, args.client, ctx.actor, ctx.viewId, metadata, title, alsoRun, blocks);
}

function plain(error: unknown, deps?: SlackDeps): string {
  if (error instanceof NashaError) return error.message.replace(/`/g, '').slice(0, 1_900);
  return deps === undefined ? 'Invalid value.' : toErrorMessage(deps, error, {}).text.slice(0, 1_900);
}
