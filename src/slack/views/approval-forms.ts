import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, types } from '@slack/bolt';
import { z } from 'zod';
import type { ChangeDraft } from '../../core/desk.js';
import type { Actor } from '../../core/model.js';
import type { ChangeRequest } from '../../core/snapshot-service.js';
import { SNAPSHOT_TYPES } from '../../ovh/models.js';
import { clickRefusalText } from '../blocks/clicks.js';
import { FIELD, reasonModal } from '../blocks/modals.js';
import type { SlackDeps } from '../deps.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import type { ModalMetadata } from '../metadata.js';
import { stateValue } from '../payloads.js';
import { reasonMissing, runFormChanges } from './form-changes.js';
import { failureText, formError, problemError } from './listener-replies.js';
import { expiredForm, modalContext, payloadTranslator } from './modal-context.js';

type ViewArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs;

/** What a reason form's signed metadata says the change is (only *what*: the desk decides who may). */
type DraftMetadata = Pick<ModalMetadata, 's' | 'p' | 'k' | 'n' | 'e'>;

/** The change in a form's metadata; a resolved request keeps its expiration as the expiry to ask for. */
export function draftMetadata(change: ChangeDraft | ChangeRequest): DraftMetadata {
  const where = { s: change.target.service, p: change.target.partition, k: change.action };
  switch (change.action) {
    case 'schedule.add':
    case 'schedule.remove':
      return { ...where, n: change.type };
    case 'snapshot.delete':
      return { ...where, n: change.name };
    case 'snapshot.create': {
      const expires = 'expires' in change ? change.expires : 'expiration' in change ? change.expiration : undefined;
      return {
        ...where,
        ...(change.name !== undefined && { n: change.name }),
        ...(expires !== undefined && { e: expires }),
      };
    }
  }
}

const TypeSchema = z.enum(SNAPSHOT_TYPES);

/** The change a reason form was opened for, from its signed metadata; undefined if it names none. */
export function draftFromMetadata(metadata: ModalMetadata): ChangeDraft | undefined {
  const { s: service, p: partition, k: action, n: subject, e: expires } = metadata;
  if (service === undefined || partition === undefined) return undefined;
  const target = { service, partition };
  switch (action) {
    case 'schedule.add':
    case 'schedule.remove': {
      const type = TypeSchema.safeParse(subject);
      return type.success ? { action, target, type: type.data } : undefined;
    }
    case 'snapshot.delete':
      return subject === undefined ? undefined : { action, target, name: subject };
    case 'snapshot.create':
      return { action, target, name: subject, expires };
    default:
      return undefined;
  }
}

/**
 * The form that asks why, for a change the desk said needs approval and that came without a reason (the
 * command opens it with the command's trigger_id).
 */
export function reasonFormView(
  deps: Pick<SlackDeps, 'metadata'>,
  actor: Actor,
  change: ChangeDraft | ChangeRequest,
  tr: Translator = ENGLISH_TRANSLATOR,
): types.ModalView {
  const metadata = deps.metadata.encode({ u: actor.userId, c: actor.channelId ?? null, ...draftMetadata(change) });
  return reasonModal(metadata, change, tr);
}

/** Reason given: the change goes to the desk (which files the approval request) and the form shows the outcome. */
export function createReasonSubmission(deps: SlackDeps) {
  return async ({ ack, body, client }: ViewArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, body);
    const ctx = modalContext(deps, body);
    const draft = ctx === undefined ? undefined : draftFromMetadata(ctx.metadata);
    if (ctx === undefined || draft === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: expiredForm(tr) } });
      return;
    }
    const reason = stateValue(ctx.state, FIELD.reason, FIELD.reason)?.trim() ?? '';
    const missing = reasonMissing(deps, [draft], reason);
    if (missing !== undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: problemError(missing, tr) } });
      return;
    }
    const title = tr.plain(tr.t('modal.requestApproval'));
    await runFormChanges(deps, { ack, client }, ctx, title, [draft], reason, tr);
  };
}

/** Reject: a reason is required; core checks the rights again and audits a refusal; it shows on the form. */
export function createRejectSubmission(deps: SlackDeps) {
  return async ({ ack, body }: ViewArgs): Promise<void> => {
    const tr = await payloadTranslator(deps, body);
    const ctx = modalContext(deps, body);
    const requestId = ctx?.metadata.r;
    if (ctx === undefined || requestId === undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: expiredForm(tr) } });
      return;
    }
    const reason = stateValue(ctx.state, FIELD.reason, FIELD.reason) ?? '';
    // Deciding is quick (database + policy): answer inline within Slack's 3 s.
    let error: string | undefined;
    try {
      const result = await deps.approvals.reject(ctx.actor, requestId, reason);
      if (!result.ok) error = formError(clickRefusalText(result.refusal, tr), tr);
    } catch (thrown) {
      error = formError(failureText(deps, thrown, { userId: ctx.actor.userId, approval: requestId }, tr), tr);
    }
    if (error !== undefined) {
      await ack({ response_action: 'errors', errors: { [FIELD.reason]: error } });
      return;
    }
    await ack();
  };
}
