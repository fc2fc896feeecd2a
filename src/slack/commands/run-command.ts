import { randomUUID } from 'node:crypto';
import { NashaError } from '../../core/errors.js';
import { type Actor, formatTarget } from '../../core/model.js';
import { defaultSnapshotName, parseExpiration } from '../../core/naming.js';
import type { JsonValue } from '../../core/ports.js';
import { type ChangeRequest, type ChangeStarted, describeChange } from '../../core/snapshot-service.js';
import { approvalPendingMessage } from '../blocks/approval-card.js';
import type { SlackMessage } from '../blocks/limits.js';
import {
  canIMessage,
  changeFinishedMessage,
  changeSubmittedMessage,
  errorMessage,
  helpMessage,
  partitionsMessage,
  scheduleShowMessage,
  servicesMessage,
  snapshotShowMessage,
  snapshotsMessage,
  unexpectedErrorMessage,
} from '../blocks/replies.js';
import type { SlackDeps } from '../deps.js';
import type { ParsedCommand } from './parse.js';

/** Where a command's answer goes; `replace` rewrites the same message. */
export interface Reply {
  replace(message: SlackMessage): Promise<void>;
  /** Stored with OVH tasks so a result can still be reported after a restart. */
  readonly resumeToken: JsonValue;
}

/** Human description of a command, for the "working" line. */
export function describeCommand(command: ParsedCommand): string {
  switch (command.kind) {
    case 'services':
      return 'the list of services';
    case 'partitions':
      return `the partitions of \`${command.service}\``;
    case 'list':
      return `the snapshots of \`${formatTarget(command.target)}\``;
    case 'schedule':
      return `\`schedule ${command.op} ${formatTarget(command.target)} ${command.type}\``;
    case 'create':
      return `a snapshot of \`${formatTarget(command.target)}\``;
    case 'show':
    case 'delete':
      return `\`${command.kind} ${formatTarget(command.target)}/${command.name}\``;
    case 'can-i':
      return 'the permission check';
    case 'quick':
      return `quick snapshots of \`${command.spec}\``;
    default:
      return 'your request';
  }
}

/**
 * Runs a parsed command for a verified actor and writes the answer through `reply`. Never throws:
 * user errors become their message, anything else a reference to the log line.
 */
export async function runCommand(deps: SlackDeps, actor: Actor, command: ParsedCommand, reply: Reply): Promise<void> {
  try {
    await execute(deps, actor, command, reply);
  } catch (error) {
    await reply
      .replace(toErrorMessage(deps, error, { userId: actor.userId, command: command.kind }))
      .catch((e: unknown) => deps.logger.warn({ err: e }, 'could not deliver an error reply'));
  }
}

export function toErrorMessage(deps: SlackDeps, error: unknown, context: Record<string, unknown>): SlackMessage {
  if (error instanceof NashaError) {
    deps.logger.info({ ...context, code: error.code, err: error.cause ?? undefined }, 'request refused');
    return errorMessage(error);
  }
  const reference = randomUUID().slice(0, 8);
  deps.logger.error({ ...context, err: error, reference }, 'request failed unexpectedly');
  return unexpectedErrorMessage(reference);
}

async function execute(deps: SlackDeps, actor: Actor, command: ParsedCommand, reply: Reply): Promise<void> {
  const { service } = deps;
  const now = deps.clock.now();
  switch (command.kind) {
    case 'help':
      return reply.replace(helpMessage(await deps.policy.bestRoleAnywhere(actor)));
    case 'error':
      return reply.replace(errorMessage({ code: 'invalid_input', message: command.message }));
    case 'modal':
    case 'quick':
      return; // handled by their listeners (they need the Slack client)
    case 'services':
      return reply.replace(servicesMessage(await service.services(actor)));
    case 'partitions':
      return reply.replace(partitionsMessage(command.service, await service.partitions(actor, command.service)));
    case 'list':
      return reply.replace(
        snapshotsMessage(command.target.service, await service.snapshots(actor, command.target), now),
      );
    case 'show': {
      const snapshot = await service.showSnapshot(actor, command.target, command.name);
      return reply.replace(snapshotShowMessage(formatTarget(command.target), snapshot, now));
    }
    case 'can-i':
      return canI(deps, actor, command, reply);
    case 'schedule':
      if (command.op === 'show') {
        const { enabled } = await service.scheduleShow(actor, command.target, command.type);
        return reply.replace(scheduleShowMessage(formatTarget(command.target), command.type, enabled));
      }
      return runOrRequest(
        deps,
        actor,
        {
          action: command.op === 'add' ? 'schedule.add' : 'schedule.remove',
          target: command.target,
          type: command.type,
        },
        command.reason,
        reply,
      );
    case 'create': {
      const expiration = command.expires === undefined ? undefined : parseExpiration(command.expires, now);
      const name = command.name ?? defaultSnapshotName(command.target.partition, now);
      return runChange(deps, actor, { action: 'snapshot.create', target: command.target, name, expiration }, reply);
    }
    case 'delete':
      return runOrRequest(
        deps,
        actor,
        { action: 'snapshot.delete', target: command.target, name: command.name },
        command.reason,
        reply,
      );
  }
}

/** Changes that need a second person become approval requests; the others run at once. */
async function runOrRequest(
  deps: SlackDeps,
  actor: Actor,
  request: ChangeRequest,
  reason: string | undefined,
  reply: Reply,
): Promise<void> {
  if (deps.approvals.ruleFor(request.action) === undefined) return runChange(deps, actor, request, reply);
  if (reason === undefined) {
    throw new NashaError(
      'invalid_input',
      'This change needs approval: add `--reason <why>` (or run it without arguments in the form).',
    );
  }
  const pending = await deps.approvals.request(actor, request, reason, reply.resumeToken);
  return reply.replace(approvalPendingMessage(pending));
}

/** Submits a change, shows "submitted", then rewrites the reply when OVH's task ends. */
export async function runChange(deps: SlackDeps, actor: Actor, request: ChangeRequest, reply: Reply): Promise<void> {
  const description = describeChange(request);
  const token = reply.resumeToken;
  const resumeToken =
    token !== null && typeof token === 'object' && !Array.isArray(token) ? { ...token, description } : token;
  const started: ChangeStarted = await deps.service.change(actor, request, resumeToken);
  await reply.replace(changeSubmittedMessage(description, started.task));
  const result = await started.done;
  await reply.replace(changeFinishedMessage(description, result));
}

async function canI(
  deps: SlackDeps,
  actor: Actor,
  command: Extract<ParsedCommand, { kind: 'can-i' }>,
  reply: Reply,
): Promise<void> {
  const subjectId = command.userId ?? actor.userId;
  const decision = await deps.policy.canI(actor, subjectId, command.action, command.target);
  const who = subjectId === actor.userId ? 'you' : `<@${subjectId}>`;
  return reply.replace(canIMessage(decision, `can ${who} *${command.action}* on \`${formatTarget(command.target)}\`?`));
}
