import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { ChangeDraft } from '../../core/desk.js';
import { NashaError } from '../../core/errors.js';
import { checkSnapshotName, parseExpiration } from '../../core/naming.js';
import type { PartitionTarget } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES, type SnapshotType } from '../../ovh/models.js';
import { context as contextBlock } from '../blocks/limits.js';
import { FIELD, resultModal } from '../blocks/modals.js';
import { target as targetCode } from '../blocks/problems.js';
import type { SlackDeps } from '../deps.js';
import type { Translator } from '../i18n/translate.js';
import { stateOptions, stateValue } from '../payloads.js';
import { reasonMissing, runFormChanges } from './form-changes.js';
import { failureText, formError, problemError } from './listener-replies.js';
import { expiredForm, type ModalContext, modalContext, payloadTranslator } from './modal-context.js';

type ViewArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs;

/** The title of the forms' result view. */
function title(tr: Translator): string {
  return tr.plain(tr.t('modal.mainTitle'));
}

function targetOf(ctx: ModalContext): PartitionTarget | undefined {
  const { s: service, p: partition } = ctx.metadata;
  return service === undefined || partition === undefined ? undefined : { service, partition };
}

/** The reason box, or `fallback` on a form opened without one (the configuration changed meanwhile). */
function reasonField(ctx: ModalContext, fallback: string): string {
  return ctx.state[FIELD.reason] === undefined ? fallback : FIELD.reason;
}

function reasonOf(ctx: ModalContext): string {
  return stateValue(ctx.state, FIELD.reason, FIELD.reason)?.trim() ?? '';
}

/** Create form: name and optional expiration (as `--expires` takes it), validated inline with its messages. */
export function createCreateSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, args.body);
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    if (ctx === undefined || target === undefined) {
      await args.ack({ response_action: 'errors', errors: { [FIELD.name]: expiredForm(tr) } });
      return;
    }
    const errors: Record<string, string> = {};
    const name = (stateValue(ctx.state, FIELD.name, FIELD.name) ?? '').trim();
    // Typed text (or a date from a form opened before the field became text); blank means no expiration.
    const expires = stateValue(ctx.state, FIELD.expiration, FIELD.expiration)?.trim() || undefined;
    const draft: ChangeDraft = { action: 'snapshot.create', target, name, expires };
    // Slips are shown under their field (not audited, nothing submitted); the desk checks everything again.
    const slip = (field: string, check: () => unknown) => {
      try {
        check();
      } catch (error) {
        if (!(error instanceof NashaError)) throw error;
        errors[field] = problemError(error.problem, tr);
      }
    };
    slip(FIELD.name, () => checkSnapshotName(name));
    if (expires !== undefined) slip(FIELD.expiration, () => parseExpiration(expires, deps.clock.now()));
    const missing = reasonMissing(deps, [draft], reasonOf(ctx));
    if (missing !== undefined) errors[reasonField(ctx, FIELD.name)] = problemError(missing, tr);
    if (Object.keys(errors).length > 0) {
      await args.ack({ response_action: 'errors', errors });
      return;
    }
    await runFormChanges(deps, args, ctx, title(tr), [draft], reasonOf(ctx), tr);
  };
}

/** Frequencies form: one add or remove per changed checkbox, against the live schedule, submitted together. */
export function createScheduleSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, args.body);
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    if (ctx === undefined || target === undefined) {
      await args.ack({ response_action: 'errors', errors: { [FIELD.frequencies]: expiredForm(tr) } });
      return;
    }
    const wanted = stateOptions(ctx.state, FIELD.frequencies, FIELD.frequencies).filter((t): t is SnapshotType =>
      (SNAPSHOT_TYPES as readonly string[]).includes(t),
    );
    let current: SnapshotType[];
    try {
      current = await deps.service.enabledFrequencies(ctx.actor, target);
    } catch (error) {
      const words = failureText(deps, error, { userId: ctx.actor.userId, form: 'schedule' }, tr);
      await args.ack({ response_action: 'errors', errors: { [FIELD.frequencies]: formError(words, tr) } });
      return;
    }
    const drafts: ChangeDraft[] = [
      ...wanted.filter((t) => !current.includes(t)).map((type) => ({ action: 'schedule.add' as const, target, type })),
      ...current
        .filter((t) => !wanted.includes(t))
        .map((type) => ({ action: 'schedule.remove' as const, target, type })),
    ];
    if (drafts.length === 0) {
      const metadata = deps.metadata.encode({ u: ctx.actor.userId, c: ctx.actor.channelId ?? null });
      await args.ack({
        response_action: 'update',
        view: resultModal(
          metadata,
          title(tr),
          [contextBlock(tr.mrkdwn(tr.t('form.nothingToChange', { target: targetCode(target) })))],
          tr,
        ),
      });
      return;
    }
    const missing = reasonMissing(deps, drafts, reasonOf(ctx));
    if (missing !== undefined) {
      await args.ack({
        response_action: 'errors',
        errors: { [reasonField(ctx, FIELD.frequencies)]: problemError(missing, tr) },
      });
      return;
    }
    // One submission: the additions run, the changes that need approval are filed, and each approval's
    // preview counts the others (what will be left once all of them are done).
    await runFormChanges(deps, args, ctx, title(tr), drafts, reasonOf(ctx), tr);
  };
}

export function createDeleteSubmission(deps: SlackDeps) {
  return async (args: ViewArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, args.body);
    const ctx = modalContext(deps, args.body);
    const target = ctx === undefined ? undefined : targetOf(ctx);
    const name = ctx === undefined ? undefined : stateValue(ctx.state, FIELD.snapshot, FIELD.snapshot);
    if (ctx === undefined || target === undefined || name === undefined) {
      await args.ack({
        response_action: 'errors',
        errors: { [FIELD.snapshot]: ctx === undefined ? expiredForm(tr) : tr.plain(tr.t('form.chooseSnapshot')) },
      });
      return;
    }
    const draft: ChangeDraft = { action: 'snapshot.delete', target, name };
    const missing = reasonMissing(deps, [draft], reasonOf(ctx));
    if (missing !== undefined) {
      await args.ack({
        response_action: 'errors',
        errors: { [reasonField(ctx, FIELD.snapshot)]: problemError(missing, tr) },
      });
      return;
    }
    await runFormChanges(deps, args, ctx, title(tr), [draft], reasonOf(ctx), tr);
  };
}
