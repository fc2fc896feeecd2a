/**
 * `help` and `can-i`, worded from the gate's own answers: what help lists is what the gate would not refuse,
 * and what can-i says is the verdict the gate gives when the action is tried.
 */
import type { ActionSpec } from '../../core/actions.js';
import type { Explanation, Offer } from '../../core/gate.js';
import { formatTarget } from '../../core/model.js';
import type { CapMatch, Decision, GrantCheck, GrantVia } from '../../core/policy.js';
import type { QuickExplanation } from '../../core/quick-snapshots.js';
import { SNAPSHOT_TYPES } from '../../ovh/models.js';
import { canIUsage, exampleOf, usageOf } from '../commands/parse.js';
import { ENGLISH_TRANSLATOR, type Translator } from '../i18n/translate.js';
import { bold, channel, code, group, joinText, type Piece, type Text, text, user, verbatim } from '../text.js';
import { context, header, message, type SlackMessage, section } from './limits.js';
import { actionWords, BREAK_GLASS_OPTION, reasonOption, refusalText, usageWord } from './problems.js';

/** Example targets taken from the reader's own grants (never a service they cannot see). */
export function exampleTargets(
  patterns: readonly string[],
  tr: Translator = ENGLISH_TRANSLATOR,
): { service: string; partition: string } {
  const concrete = patterns.filter((p) => !p.includes('*'));
  const partition = concrete.find((p) => p.includes('/'));
  if (partition !== undefined) return { service: partition.slice(0, partition.indexOf('/')), partition };
  const word = (key: 'usage.service' | 'usage.partition') => `<${tr.plain(tr.t(key))}>`;
  const service = concrete[0];
  if (service !== undefined) return { service, partition: `${service}/${word('usage.partition')}` };
  return { service: word('usage.service'), partition: `${word('usage.service')}/${word('usage.partition')}` };
}

/** Help lists exactly the actions the gate would let the reader use here, and says which need approval. */
export function helpMessage(
  offers: readonly Offer[],
  heldPatterns: readonly string[],
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  if (offers.length === 0) {
    const words = tr.t('help.noAccess', { check: code(`/nasha can-i read ${usageWord(tr, 'usage.service')}`) });
    return message(tr.plain(words), [section(`:lock: ${tr.mrkdwn(words)}`)]);
  }
  const targets = exampleTargets(heldPatterns, tr);
  const lines = offers.flatMap((offer) =>
    offer.action.commands.map((command) => {
      const glass = offer.breakGlass === true && command.options.includes('break_glass');
      const approval =
        offer.mode === 'approval'
          ? text(
              tr.t('help.needsApproval', { option: reasonOption(tr) }),
              glass ? tr.t('help.breakGlass', { option: code(BREAK_GLASS_OPTION) }) : text(),
            )
          : text();
      return tr.mrkdwn(
        tr.t('help.command', {
          usage: code(usageOf(command, tr, { breakGlass: glass })),
          approval,
          example: code(`/nasha snapshot ${exampleOf(command, targets)}`),
        }),
      );
    }),
  );
  return message(tr.plain(tr.t('help.notification')), [
    header(tr.plain(tr.t('help.title'))),
    section(tr.mrkdwn(tr.t('help.intro')) + lines.join('\n')),
    section(tr.mrkdwn(tr.t('help.more', { canI: code(canIUsage(tr)) }))),
    context(tr.mrkdwn(tr.t('help.frequencies', { types: joinText(SNAPSHOT_TYPES.map(code), ' ') }))),
  ]);
}

/** The person asked about: oneself ("you") or someone else, by mention. */
interface Person {
  who: 'self' | 'other';
  person: Text;
  self: boolean;
}

function viaText(via: GrantVia, tr: Translator): Text {
  return via.kind === 'user' ? tr.t('canI.viaUser') : tr.t('canI.viaGroup', { group: group(via.groupId) });
}

function approversText(explained: Explanation, tr: Translator): Text {
  const rule = explained.rule;
  if (rule === undefined) return tr.t('canI.anApprover');
  return tr.t('canI.approvers', {
    quorum: rule.quorum,
    groups: rule.approverGroups.length === 0 ? 'none' : 'some',
    groupList: tr.list(rule.approverGroups.map(group), 'or'),
  });
}

/** The verdict in one sentence: yes / yes, with approval / only by request / no, because … */
function verdictLine(explained: Explanation, person: Person, tr: Translator): { icon: string; head: Text; body: Text } {
  const verdict = explained.verdict;
  const what = tr.t('canI.what', {
    action: actionWords(explained.action.id),
    target: code(formatTarget(explained.target)),
  });
  const someone = { who: person.who, person: person.person };
  switch (verdict.kind) {
    case 'run': {
      const basis =
        verdict.basis.kind === 'responder'
          ? tr.t('canI.basisResponder', { group: group(verdict.basis.groupId) })
          : verdict.basis.kind === 'protection'
            ? tr.t('canI.basisProtection', { policy: code(verdict.basis.policy) })
            : grantBasis(verdict.basis.decision, tr);
      return {
        icon: ':white_check_mark:',
        head: tr.t('canI.yes'),
        body: tr.t('canI.run', { ...someone, what, basis }),
      };
    }
    case 'approval': {
      const direct = explained.decision.effectiveRole;
      const wouldRun = direct !== undefined && roleAtLeast(direct, explained.action.role);
      const body = tr.t('canI.request', {
        ...someone,
        what,
        option: reasonOption(tr),
        approvers: approversText(explained, tr),
        quorum: explained.rule?.quorum ?? 0,
      });
      // A member of the rule's break-glass group may also run it at once (reviewed afterwards).
      const glass =
        verdict.breakGlass === undefined
          ? text()
          : tr.t('canI.breakGlass', {
              ...someone,
              option: code(BREAK_GLASS_OPTION),
              group: group(verdict.breakGlass.group),
            });
      return {
        icon: ':ballot_box_with_check:',
        head: tr.t(wouldRun ? 'canI.yesWithApproval' : 'canI.onlyByRequest'),
        body: text(body, glass),
      };
    }
    case 'refused':
      return {
        icon: ':no_entry:',
        head: tr.t('canI.no'),
        // The refusal's own words, about the person asked about ("you need …", or "@bob needs …").
        body: tr.t('canI.because', {
          reason: refusalText(
            verdict.refusal,
            explained.target,
            tr,
            person.self ? { who: 'self' } : { who: 'other', person: person.person },
          ),
        }),
      };
  }
}

function grantBasis(decision: Decision, tr: Translator): Text {
  const grant = decision.grant;
  if (grant === undefined || decision.effectiveRole === undefined) return text();
  const capped =
    decision.userRole !== undefined && decision.userRole !== decision.effectiveRole
      ? tr.t('canI.capped', { role: decision.userRole })
      : text();
  return tr.t('canI.basisGrant', {
    role: decision.effectiveRole,
    index: String(grant.index),
    via: viaText(grant.via, tr),
    capped,
  });
}

function roleAtLeast(role: string, needed: string): boolean {
  const order = ['viewer', 'operator', 'approver', 'admin'];
  return order.indexOf(role) >= order.indexOf(needed);
}

function requirementLine(explained: Explanation, tr: Translator): Text {
  const spec: ActionSpec = explained.action;
  const where = code(formatTarget(explained.target));
  const word = code(spec.canIWords[0] ?? spec.id);
  const rule = explained.rule;
  if (rule?.required === true && spec.requestRole !== undefined) {
    return tr.t('canI.requirementApproval', {
      action: word,
      target: where,
      rule: `approvals.rules.${spec.id}`,
      requestRole: spec.requestRole,
      approvers: approversText(explained, tr),
      minutes: Math.round(rule.ttlMs / 60_000),
    });
  }
  const responders =
    explained.responders !== undefined && explained.responders.groups.length > 0
      ? tr.t('canI.requirementResponders', { groups: tr.list(explained.responders.groups.map(group), 'or') })
      : text();
  return tr.t('canI.requirement', { action: word, target: where, role: spec.role, responders });
}

function grantLine(check: GrantCheck, where: Piece, tr: Translator): Text {
  const head = tr.t('canI.grantHead', {
    index: String(check.index),
    role: check.role,
    patterns: joinText(check.patterns.map(code), ', '),
  });
  if (check.coverage === 'none') return tr.t('canI.grantNone', { head, target: where });
  if (check.coverage === 'some_partitions') return tr.t('canI.grantSome', { head, target: where });
  if (check.holder?.kind === 'user') return tr.t('canI.grantUser', { head });
  if (check.holder?.kind === 'group') {
    const stale =
      check.holderIssue?.state === 'stale' && check.holderIssue.staleForMs !== undefined
        ? tr.t('canI.grantStale', {
            minutes: Math.round(check.holderIssue.staleForMs / 60_000),
            error: verbatim(check.holderIssue.error),
          })
        : text();
    return tr.t('canI.grantGroup', { head, group: group(check.holder.groupId), stale });
  }
  const parts: Text[] = [];
  if (check.listsUsers) parts.push(tr.t('canI.notListed'));
  if (check.notIn.length > 0) {
    parts.push(
      tr.t('canI.notIn', { groups: tr.list(check.notIn.map(group), 'or'), stale: check.notInStale ? 'yes' : 'no' }),
    );
  }
  for (const issue of check.unresolved) {
    parts.push(tr.t('canI.unresolved', { group: group(issue.groupId), error: verbatim(issue.error) }));
  }
  return tr.t('canI.grantNotApplying', { head, reasons: joinText(parts, '; ') });
}

function capLine(cap: CapMatch | undefined, channelId: string | undefined, tr: Translator): Text {
  const place =
    channelId === undefined ? tr.t('canI.noChannel') : tr.t('canI.channel', { channel: channel(channelId) });
  if (cap === undefined) return tr.t('canI.capNone', { place });
  const max = cap.maxRole === 'none' ? tr.t('canI.capNothing') : tr.t('canI.capAtMost', { role: cap.maxRole });
  return tr.t(cap.listed ? 'canI.capListed' : 'canI.capUnlisted', { place, max });
}

/** `can-i`: the verdict, then what it rests on (only grants that touch the target's service are named). */
export function canIMessage(
  explained: Explanation,
  channelId?: string,
  tr: Translator = ENGLISH_TRANSLATOR,
): SlackMessage {
  const person: Person = explained.self
    ? { who: 'self', person: text(), self: true }
    : { who: 'other', person: text(user(explained.subjectId)), self: false };
  const someone = { who: person.who, person: person.person };
  const line = verdictLine(explained, person, tr);
  const where = code(formatTarget(explained.target));
  const decision = explained.decision;
  const others = decision.grantCount - decision.grants.length;
  const reasons: Text[] = [requirementLine(explained, tr)];
  if (explained.verdict.kind !== 'refused' || explained.verdict.refusal.kind !== 'not_visible') {
    reasons.push(...decision.grants.map((g) => grantLine(g, where, tr)));
  }
  if (decision.grantCount === 0) reasons.push(tr.t('canI.noGrants'));
  else if (others > 0) reasons.push(tr.t('canI.otherGrants', { count: others }));
  if (explained.responders !== undefined && explained.responders.memberOf !== undefined) {
    reasons.push(tr.t('canI.responder', { ...someone, group: group(explained.responders.memberOf) }));
  }
  for (const right of explained.approvals ?? []) {
    const limited =
      right.groups.length === 0
        ? text()
        : tr.t('canI.approveLimited', { groups: tr.list(right.groups.map(group), 'or') });
    reasons.push(
      tr.t(right.allowed ? 'canI.canApprove' : 'canI.cannotApprove', {
        ...someone,
        action: actionWords(right.action),
        limited,
      }),
    );
  }
  reasons.push(capLine(decision.cap, channelId ?? decision.cap?.channelId, tr));
  reasons.push(
    tr.t('canI.role', {
      ...someone,
      role: decision.effectiveRole === undefined ? tr.t('canI.noRole') : bold(decision.effectiveRole),
    }),
  );
  const verdict = tr.t('canI.verdict', { head: line.head, body: line.body });
  return message(tr.plain(tr.t('canI.notification', { head: line.head, body: line.body })), [
    section(`${line.icon} ${tr.mrkdwn(verdict)}`),
    section(reasons.map((r) => `• ${tr.mrkdwn(r)}`).join('\n')),
  ]);
}

/** Partition lines shown in `can-i quick <service>`; the rest are counted. */
const QUICK_LINES_SHOWN = 20;
const QUICK_LINES_PER_SECTION = 10;

/**
 * `can-i quick <service or group>`: what the quick run would do, partition by partition — the plan's own
 * verdicts (QuickSnapshotService.explain), so "yes on 1 of 3" is the one partition the run would take.
 */
export function quickCanIMessage(explained: QuickExplanation, tr: Translator = ENGLISH_TRANSLATOR): SlackMessage {
  const parts = explained.parts;
  const taken = parts.filter((part) => part.verdict.kind === 'run').length;
  const person: Person = explained.self
    ? { who: 'self', person: text(), self: true }
    : { who: 'other', person: text(user(explained.subjectId)), self: false };
  const [icon, head] =
    taken === parts.length
      ? [':white_check_mark:', tr.t('canI.yes')]
      : taken > 0
        ? [':warning:', tr.t('canI.partly')]
        : [':no_entry:', tr.t('canI.no')];
  const body = tr.t('canI.quickTakes', {
    spec: code(explained.spec),
    taken,
    seen: parts.length,
    who: person.who,
    person: person.person,
  });
  const lines = parts.slice(0, QUICK_LINES_SHOWN).map((part) => {
    const line = verdictLine(part, person, tr);
    return `${line.icon} ${tr.mrkdwn(tr.t('canI.quickPart', { target: code(formatTarget(part.target)), head: line.head, body: line.body }))}`;
  });
  const sections = [];
  for (let i = 0; i < lines.length; i += QUICK_LINES_PER_SECTION) {
    sections.push(section(lines.slice(i, i + QUICK_LINES_PER_SECTION).join('\n')));
  }
  const more = parts.length - QUICK_LINES_SHOWN;
  const verdict = tr.t('canI.verdict', { head, body });
  return message(tr.plain(tr.t('canI.notification', { head, body })), [
    section(`${icon} ${tr.mrkdwn(verdict)}`),
    ...sections,
    ...(more > 0 ? [context(tr.t('canI.quickMore', { count: more }))] : []),
  ]);
}
