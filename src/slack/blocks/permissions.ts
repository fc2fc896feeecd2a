/**
 * `help` and `can-i`, worded from the gate's own answers: what help lists is what the gate would not refuse,
 * and what can-i says is the verdict the gate gives when the action is tried.
 */
import type { ActionSpec } from '../../core/actions.js';
import type { Explanation, Offer } from '../../core/gate.js';
import { formatTarget } from '../../core/model.js';
import type { CapMatch, Decision, GrantCheck, GrantVia } from '../../core/policy.js';
import { SNAPSHOT_TYPES } from '../../ovh/models.js';
import { exampleOf, usageOf } from '../commands/parse.js';
import {
  bold,
  channel,
  code,
  group,
  italic,
  joinText,
  listOf,
  mrkdwn,
  type Piece,
  plain,
  say,
  Text,
  text,
  user,
} from '../text.js';
import { context, header, message, type SlackMessage, section } from './limits.js';
import { actionWords, refusalText } from './problems.js';

/** Example targets taken from the reader's own grants (never a service they cannot see). */
export function exampleTargets(patterns: readonly string[]): { service: string; partition: string } {
  const concrete = patterns.filter((p) => !p.includes('*'));
  const partition = concrete.find((p) => p.includes('/'));
  if (partition !== undefined) return { service: partition.slice(0, partition.indexOf('/')), partition };
  const service = concrete[0];
  if (service !== undefined) return { service, partition: `${service}/<partition>` };
  return { service: '<service>', partition: '<service>/<partition>' };
}

/** Help lists exactly the actions the gate would let the reader use here, and says which need approval. */
export function helpMessage(offers: readonly Offer[], heldPatterns: readonly string[]): SlackMessage {
  if (offers.length === 0) {
    const words = say`You have no access to nasha-bot here. Ask an admin to grant you a role, or check with ${code('/nasha can-i read <service>')}.`;
    return message(plain(words), [section(`:lock: ${mrkdwn(words)}`)]);
  }
  const targets = exampleTargets(heldPatterns);
  const lines = offers.flatMap((offer) =>
    offer.action.commands.map((command) => {
      const approval =
        offer.mode === 'approval' ? say` — ${italic('needs a second person: add')} ${code('--reason <why>')}` : text();
      return mrkdwn(
        say`• ${code(usageOf(command))}${approval}\n   ${italic('e.g.')} ${code(`/nasha snapshot ${exampleOf(command, targets)}`)}`,
      );
    }),
  );
  return message('nasha-bot help', [
    header('NAS-HA snapshots'),
    section(mrkdwn(say`What you can do here. Commands start with ${code('/nasha snapshot')}:\n`) + lines.join('\n')),
    section(
      mrkdwn(
        say`• ${code('/nasha snapshot')} alone opens a form.\n• ${code('/nasha can-i <action> <service>[/<partition>] [@user]')} tells what would happen if you tried.`,
      ),
    ),
    context(mrkdwn(say`Frequencies: ${joinText(SNAPSHOT_TYPES.map(code), ' ')}`)),
  ]);
}

/** How to speak of the person asked about: "you" or their mention, in the third person. */
interface Person {
  name: Text;
  self: boolean;
}

function has(person: Person): string {
  return person.self ? 'have' : 'has';
}

function can(person: Person, rest: Text): Text {
  return say`${person.name} can ${rest}`;
}

function viaText(via: GrantVia): Text {
  return via.kind === 'user' ? text('a direct grant') : say`membership of ${group(via.groupId)}`;
}

function approversText(explained: Explanation): Text {
  const rule = explained.rule;
  if (rule === undefined) return text('an approver');
  const count = rule.quorum === 1 ? text('one approver') : say`${rule.quorum} different approvers`;
  const groups = rule.approverGroups.length === 0 ? text() : say` in ${listOf(rule.approverGroups.map(group), 'or')}`;
  return say`${count}${groups}`;
}

/** The verdict in one sentence: yes / yes, with approval / only by request / no, because … */
function verdictLine(explained: Explanation, person: Person): { icon: string; head: string; body: Text } {
  const verdict = explained.verdict;
  const what = say`${bold(actionWords(explained.action.id))} on ${code(formatTarget(explained.target))}`;
  switch (verdict.kind) {
    case 'run': {
      const basis =
        verdict.basis.kind === 'responder'
          ? say`as a member of the responder group ${group(verdict.basis.groupId)}`
          : verdict.basis.kind === 'protection'
            ? say`as protection policy ${code(verdict.basis.policy)}`
            : grantBasis(verdict.basis.decision);
      return { icon: ':white_check_mark:', head: 'Yes', body: can(person, say`run ${what} now, ${basis}.`) };
    }
    case 'approval': {
      const direct = explained.decision.effectiveRole;
      const wouldRun = direct !== undefined && roleAtLeast(direct, explained.action.role);
      const body = can(
        person,
        say`request ${what} (add ${code('--reason <why>')}); it runs once ${approversText(explained)} other than the requester approve${explained.rule?.quorum === 1 ? 's' : ''}.`,
      );
      return wouldRun
        ? { icon: ':ballot_box_with_check:', head: 'Yes, with approval', body }
        : { icon: ':ballot_box_with_check:', head: 'Only by request', body };
    }
    case 'refused':
      return {
        icon: ':no_entry:',
        head: 'No',
        body: say`because ${thirdPerson(refusalText(verdict.refusal, explained.target), person)}.`,
      };
  }
}

function grantBasis(decision: Decision): Text {
  const grant = decision.grant;
  if (grant === undefined || decision.effectiveRole === undefined) return text();
  const capped =
    decision.userRole !== undefined && decision.userRole !== decision.effectiveRole
      ? say` (capped from ${bold(decision.userRole)} in this channel)`
      : text();
  return say`with ${bold(decision.effectiveRole)} from grants[${grant.index}] via ${viaText(grant.via)}${capped}`;
}

function roleAtLeast(role: string, needed: string): boolean {
  const order = ['viewer', 'operator', 'approver', 'admin'];
  return order.indexOf(role) >= order.indexOf(needed);
}

/** The refusal words are in the second person; about someone else they are in the third. */
function thirdPerson(words: Text, person: Person): Text {
  if (person.self) return words;
  const them = plain(person.name);
  return new Text(
    words.pieces.map((piece) =>
      typeof piece === 'string'
        ? piece
            .replace(/\byou have\b/g, `${them} has`)
            .replace(/\byou need\b/g, `${them} needs`)
            .replace(/\byour\b/g, 'their')
            .replace(/\byou are\b/g, `${them} is`)
            .replace(/\bof yours\b/g, 'of theirs')
        : piece,
    ),
  );
}

function requirementLine(explained: Explanation): Text {
  const spec: ActionSpec = explained.action;
  const where = code(formatTarget(explained.target));
  const word = code(spec.canIWords[0] ?? spec.id);
  const rule = explained.rule;
  if (rule?.required === true && spec.requestRole !== undefined) {
    return say`${word} on ${where} needs approval (approvals.rules.${spec.id}): ${bold(spec.requestRole)} to request it, ${approversText(explained)} to approve it; the request waits ${Math.round(rule.ttlMs / 60_000)} min`;
  }
  const responders =
    explained.responders !== undefined && explained.responders.groups.length > 0
      ? say`, or membership of a responder group (${listOf(explained.responders.groups.map(group), 'or')})`
      : text();
  return say`${word} on ${where} needs ${bold(spec.role)}${responders}`;
}

function grantLine(check: GrantCheck, where: Piece): Text {
  const head = say`grants[${check.index}] (${bold(check.role)} on ${joinText(check.patterns.map(code), ', ')})`;
  if (check.coverage === 'none') return say`${head}: does not cover ${where}`;
  if (check.coverage === 'some_partitions') return say`${head}: covers only some partitions of ${where}`;
  if (check.holder?.kind === 'user') return say`${head}: applies, listed in its users`;
  if (check.holder?.kind === 'group') {
    const stale =
      check.holderIssue?.state === 'stale' && check.holderIssue.staleForMs !== undefined
        ? say`; membership from a copy ${Math.round(check.holderIssue.staleForMs / 60_000)} min old, refreshing it failed (${check.holderIssue.error})`
        : text();
    return say`${head}: applies, via ${group(check.holder.groupId)}${stale}`;
  }
  const parts: Text[] = [];
  if (check.listsUsers) parts.push(text('not listed in its users'));
  if (check.notIn.length > 0) {
    parts.push(
      say`not in ${listOf(check.notIn.map(group), 'or')}${check.notInStale ? ' (some member lists are from an old copy: refreshing them failed)' : ''}`,
    );
  }
  for (const issue of check.unresolved)
    parts.push(say`could not resolve group ${group(issue.groupId)} (${issue.error})`);
  return say`${head}: does not apply: ${joinText(parts, '; ')}`;
}

function capLine(cap: CapMatch | undefined, channelId: string | undefined): Text {
  const place = channelId === undefined ? text('no channel') : say`channel ${channel(channelId)}`;
  if (cap === undefined) return say`${place}: not listed in channels, no cap (unlisted_channels: admin)`;
  const max = cap.maxRole === 'none' ? say`${bold('none')} (nothing allowed)` : say`at most ${bold(cap.maxRole)}`;
  return cap.listed
    ? say`${place}: capped to ${max} (channels)`
    : say`${place}: not listed in channels, capped to ${max} (unlisted_channels)`;
}

/** `can-i`: the verdict, then what it rests on (only grants that touch the target's service are named). */
export function canIMessage(explained: Explanation, channelId?: string): SlackMessage {
  const person: Person = explained.self
    ? { name: text('you'), self: true }
    : { name: text(user(explained.subjectId)), self: false };
  const line = verdictLine(explained, person);
  const where = code(formatTarget(explained.target));
  const decision = explained.decision;
  const others = decision.grantCount - decision.grants.length;
  const reasons: Text[] = [requirementLine(explained)];
  if (explained.verdict.kind !== 'refused' || explained.verdict.refusal.kind !== 'not_visible') {
    reasons.push(...decision.grants.map((g) => grantLine(g, where)));
  }
  if (decision.grantCount === 0) reasons.push(text('no grants in the bot config: everything is denied'));
  else if (others > 0)
    reasons.push(
      say`${others} other grant${others === 1 ? '' : 's'} do${others === 1 ? 'es' : ''} not cover this service`,
    );
  if (explained.responders !== undefined && explained.responders.memberOf !== undefined) {
    reasons.push(
      say`${person.name} ${person.self ? 'are' : 'is'} in the responder group ${group(explained.responders.memberOf)}`,
    );
  }
  for (const right of explained.approvals ?? []) {
    const limited = right.groups.length === 0 ? text() : say` (limited to ${listOf(right.groups.map(group), 'or')})`;
    reasons.push(
      right.allowed
        ? say`requests to ${actionWords(right.action)}${limited}: ${person.name} can approve them, except ${person.self ? 'your' : 'their'} own`
        : say`requests to ${actionWords(right.action)}${limited}: ${person.name} cannot approve them`,
    );
  }
  reasons.push(capLine(decision.cap, channelId ?? decision.cap?.channelId));
  reasons.push(
    say`what ${person.name} ${has(person)} there: ${decision.effectiveRole === undefined ? 'no role' : bold(decision.effectiveRole)}`,
  );
  const verdict = say`${bold(line.head)} — ${line.body}`;
  return message(`${line.head}: ${plain(line.body)}`, [
    section(`${line.icon} ${mrkdwn(verdict)}`),
    section(reasons.map((r) => `• ${mrkdwn(r)}`).join('\n')),
  ]);
}
