import { randomUUID } from 'node:crypto';
import { BREAK_GLASS_MIN_REASON, type ChangeDraft } from '../../core/desk.js';
import { NashaError } from '../../core/errors.js';
import { type Actor, formatTarget } from '../../core/model.js';
import type { JsonValue } from '../../core/ports.js';
import { breakGlassConfirmMessage } from '../blocks/break-glass.js';
import { approvalsMessage } from '../blocks/home.js';
import { context, message, type SlackMessage, section } from '../blocks/limits.js';
import { canIMessage, helpMessage, quickCanIMessage } from '../blocks/permissions.js';
import { restoreMessage, statusMessage } from '../blocks/protection.js';
import {
  changeLinesMessage,
  errorMessage,
  partitionsMessage,
  problemMessage,
  scheduleShowMessage,
  servicesMessage,
  snapshotShowMessage,
  snapshotsMessage,
  unexpectedErrorMessage,
} from '../blocks/replies.js';
import { runChanges } from '../change-runner.js';
import type { SlackDeps } from '../deps.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { code, type Text, text } from '../text.js';
import { draftMetadata } from '../views/approval-forms.js';
import type { ParsedCommand } from './parse.js';

/** Where a command's answer goes; `replace` rewrites the same message. */
export interface Reply {
  replace(message: SlackMessage): Promise<void>;
  /** Stored with OVH tasks so a result can still be reported after a restart. */
  readonly resumeToken: JsonValue;
}

/** What a command is about, for the "working" line. */
export function describeCommand(command: ParsedCommand, tr: Translator = ENGLISH_TRANSLATOR): Text {
  switch (command.kind) {
    case 'services':
      return tr.t('command.describeServices');
    case 'approvals':
      return tr.t('command.describeApprovals');
    case 'partitions':
      return tr.t('command.describePartitions', { service: code(command.service) });
    case 'list':
      return tr.t('command.describeList', { target: code(formatTarget(command.target)) });
    case 'schedule':
      return text(code(`schedule ${command.op} ${formatTarget(command.target)} ${command.type}`));
    case 'create':
      return tr.t('command.describeCreate', { target: code(formatTarget(command.target)) });
    case 'show':
    case 'delete':
      return text(code(`${command.kind} ${formatTarget(command.target)}/${command.name}`));
    case 'can-i':
      return tr.t('command.describeCanI');
    case 'quick':
      return tr.t('command.describeQuick', { spec: code(command.spec) });
    case 'status':
      return command.query === undefined
        ? tr.t('command.describeStatus')
        : tr.t('command.describeStatusOf', { query: code(command.query) });
    case 'restore':
      return tr.t('command.describeRestore', { target: code(formatTarget(command.target)) });
    default:
      return tr.t('command.describeOther');
  }
}

/** The command's first answer, within Slack's 3 s: what it is working on. */
export function workingMessage(command: ParsedCommand, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const words = tr.t('command.working', { what: describeCommand(command, tr) });
  return message(words, [context(`:hourglass_flowing_sand: ${tr.mrkdwn(words)}`)], tr.reader);
}

/** The change a command asks for, if it is one. */
export function draftOf(
  command: ParsedCommand,
): { draft: ChangeDraft; reason: string | undefined; breakGlass: boolean } | undefined {
  const breakGlass = 'breakGlass' in command && command.breakGlass === true;
  const change = changeOf(command);
  return change === undefined ? undefined : { ...change, breakGlass };
}

function changeOf(command: ParsedCommand): { draft: ChangeDraft; reason: string | undefined } | undefined {
  switch (command.kind) {
    case 'schedule':
      if (command.op === 'show') return undefined;
      return {
        draft: {
          action: command.op === 'add' ? 'schedule.add' : 'schedule.remove',
          target: command.target,
          type: command.type,
        },
        reason: command.reason,
      };
    case 'create':
      return {
        draft: { action: 'snapshot.create', target: command.target, name: command.name, expires: command.expires },
        reason: command.reason,
      };
    case 'delete':
      return {
        draft: { action: 'snapshot.delete', target: command.target, name: command.name },
        reason: command.reason,
      };
    default:
      return undefined;
  }
}

/**
 * Runs a parsed command for a verified actor and writes the answer through `reply`. Never throws:
 * problems become their message, anything else a reference to the log line.
 */
export async function runCommand(
  deps: SlackDeps,
  actor: Actor,
  command: ParsedCommand,
  reply: Reply,
  tr: Translator = ENGLISH_TRANSLATOR,
): Promise<void> {
  try {
    await execute(deps, actor, command, reply, tr);
  } catch (error) {
    await reply
      .replace(toErrorMessage(deps, error, { userId: actor.userId, command: command.kind }, tr))
      .catch((e: unknown) => deps.logger.warn({ err: e }, 'could not deliver an error reply'));
  }
}

export function toErrorMessage(
  deps: Pick<SlackDeps, 'logger'>,
  error: unknown,
  context: Record<string, unknown>,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  if (error instanceof NashaError) {
    deps.logger.info(
      { ...context, code: error.code, problem: error.problem.kind, err: error.cause ?? undefined },
      'request refused',
    );
    return errorMessage(error, tr);
  }
  const reference = randomUUID().slice(0, 8);
  deps.logger.error({ ...context, err: error, reference }, 'request failed unexpectedly');
  return unexpectedErrorMessage(reference, tr);
}

async function execute(
  deps: SlackDeps,
  actor: Actor,
  command: ParsedCommand,
  reply: Reply,
  tr: Translator,
): Promise<void> {
  const { service } = deps;
  const now = deps.clock.now();
  const change = draftOf(command);
  if (change?.breakGlass === true) return offerBreakGlass(deps, actor, change.draft, change.reason, reply, tr);
  if (change !== undefined) return runChange(deps, actor, change.draft, change.reason, reply, tr);
  switch (command.kind) {
    case 'help':
      return reply.replace(helpMessage(await deps.gate.offers(actor), await deps.gate.heldPatterns(actor), tr));
    case 'error':
      return reply.replace(problemLikeMessage(command.message, tr));
    case 'modal':
    case 'quick':
      return; // handled by their listeners (they need the Slack client)
    case 'services':
      return reply.replace(servicesMessage(await service.services(actor), tr));
    case 'approvals':
      // The same query and blocks as the Home tab's lists; the buttons are the approval card's.
      return reply.replace(approvalsMessage(await deps.dashboard.approvals(actor), tr));
    case 'partitions':
      return reply.replace(partitionsMessage(command.service, await service.partitions(actor, command.service), tr));
    case 'list':
      return reply.replace(
        snapshotsMessage(command.target.service, await service.snapshots(actor, command.target), now, tr),
      );
    case 'show': {
      const snapshot = await service.showSnapshot(actor, command.target, command.name);
      return reply.replace(snapshotShowMessage(formatTarget(command.target), snapshot, now, tr));
    }
    case 'schedule': {
      const { enabled } = await service.scheduleShow(actor, command.target, command.type);
      return reply.replace(scheduleShowMessage(formatTarget(command.target), command.type, enabled, tr));
    }
    case 'can-i': {
      const subjectId = command.userId ?? actor.userId;
      if (command.action === 'snapshot.quick' && command.target.partition === undefined) {
        // A service or target group: the quick run's own resolution and per-partition verdicts.
        const quick = await deps.quick.explain(actor, subjectId, formatTarget(command.target));
        if ('parts' in quick) return reply.replace(quickCanIMessage(quick, tr));
        return reply.replace(problemMessage({ kind: 'refused', refusal: quick.refusal }, tr));
      }
      const explained = await deps.gate.explain(actor, subjectId, command.action, command.target);
      if ('verdict' in explained) return reply.replace(canIMessage(explained, actor.channelId, tr));
      return reply.replace(problemMessage({ kind: 'refused', refusal: explained.refusal }, tr));
    }
    case 'status':
      return reply.replace(statusMessage(await protectionQueries(deps).status(actor, command.query), tr));
    case 'restore':
      return reply.replace(
        restoreMessage(await protectionQueries(deps).restore(actor, command.target, command.at), tr),
      );
    case 'create':
    case 'delete':
      return;
  }
}

function protectionQueries(deps: SlackDeps): NonNullable<SlackDeps['protection']>['queries'] {
  const queries = deps.protection?.queries;
  if (queries === undefined) throw new NashaError({ kind: 'protection_off' });
  return queries;
}

/** A parse error: the parser's own words, shown like any other invalid input. */
export function problemLikeMessage(words: Text, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  return message(words, [section(`:warning: ${tr.mrkdwn(words)}`)], tr.reader);
}

/**
 * `--break-glass`: a member with a long enough reason is shown what will run, behind a button with a confirm
 * dialog (only the click runs it, and the desk decides again then). Anyone else goes to the desk at once, which
 * refuses and audits it, saying why.
 */
async function offerBreakGlass(
  deps: SlackDeps,
  actor: Actor,
  draft: ChangeDraft,
  reason: string | undefined,
  reply: Reply,
  tr: Translator,
): Promise<void> {
  const verdict = await deps.gate.evaluate(actor, draft.action, draft.target, { breakGlass: true });
  const why = reason?.trim() ?? '';
  if (verdict.kind === 'run' && verdict.basis.kind === 'break_glass' && why.length >= BREAK_GLASS_MIN_REASON) {
    const metadata = deps.metadata.encode({ u: actor.userId, c: actor.channelId ?? null, ...draftMetadata(draft) });
    const value = JSON.stringify({ m: metadata, r: why.slice(0, BREAK_GLASS_MAX_REASON) });
    return reply.replace(breakGlassConfirmMessage(draft, why, verdict.basis.groupId, value, tr));
  }
  return runChange(deps, actor, draft, reason, reply, tr, { breakGlass: true });
}

/** A break-glass reason travels in the button's value (Slack: 2,000 characters): kept to this many. */
export const BREAK_GLASS_MAX_REASON = 700;

/** Submits one change and rewrites the reply at each step (submitted, pending, refused, done…). */
export async function runChange(
  deps: SlackDeps,
  actor: Actor,
  draft: ChangeDraft,
  reason: string | undefined,
  reply: Reply,
  tr: Translator = ENGLISH_TRANSLATOR,
  options: { breakGlass?: boolean } = {},
): Promise<void> {
  const token = reply.resumeToken;
  const resumeToken: JsonValue =
    token !== null && typeof token === 'object' && !Array.isArray(token)
      ? { ...token, change: draft as unknown as JsonValue }
      : token;
  await runChanges(
    deps,
    actor,
    [draft],
    { reason, reply: () => resumeToken, breakGlass: options.breakGlass },
    (lines) => reply.replace(changeLinesMessage(lines, tr)),
  );
}
