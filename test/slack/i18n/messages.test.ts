import { describe, expect, it } from 'vitest';
import { APPROVAL_STATES, type ApprovalRequest } from '../../../src/core/approvals.js';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditRecord } from '../../../src/core/audit.js';
import { type AuditDetail, type AuditRefusal, serializeAuditDetail } from '../../../src/core/audit-detail.js';
import type { ChangeDraft } from '../../../src/core/desk.js';
import { NashaError } from '../../../src/core/errors.js';
import { parseExpiration } from '../../../src/core/naming.js';
import type { OvhFailure, OvhStep, Problem } from '../../../src/core/problems.js';
import type { Settlement } from '../../../src/core/reconcile.js';
import type { ChangeRequest, ChangeResult } from '../../../src/core/snapshot-service.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { LANGUAGES } from '../../../src/shared/language.js';
import {
  approvalCard,
  approvalOutcomeMessage,
  approvalPendingMessage,
} from '../../../src/slack/blocks/approval-card.js';
import { auditMessage } from '../../../src/slack/blocks/audit-message.js';
import { problemText, refusalText } from '../../../src/slack/blocks/problems.js';
import {
  changeLinesMessage,
  changeResultMessage,
  duplicateRequestMessage,
  partitionsMessage,
  problemMessage,
  requestNotCheckedMessage,
  scheduleShowMessage,
  servicesMessage,
  snapshotShowMessage,
  snapshotsMessage,
  staleInteractionMessage,
  unexpectedErrorMessage,
  unknownCommandMessage,
} from '../../../src/slack/blocks/replies.js';
import { settlementText } from '../../../src/slack/blocks/settlements.js';
import type { ChangeLine } from '../../../src/slack/change-runner.js';
import { ReaderDirectory } from '../../../src/slack/i18n/readers.js';
import { type Translator, translator } from '../../../src/slack/i18n/translate.js';
import { text, user } from '../../../src/slack/text.js';
import { expectMessageWithinLimits } from '../../support/block-limits.js';
import { approvalRequest, auditRecord } from '../../support/records.js';
import { VIEWER_QUICK_REFUSAL } from '../../support/refusals.js';

const FR = translator({ lang: 'fr', tz: 'Europe/Paris' });
/** A French channel: no one time zone, so dates stay Slack's tokens. */
const FR_CHANNEL = translator({ lang: 'fr' });
const T = { service: 'zpool-128310', partition: 'data' };
const T0 = Date.UTC(2026, 10, 28, 9, 30);
const long = (n: number) => 'x'.repeat(n);

const STEPS: OvhStep[] = [
  'list services',
  'read service',
  'list partitions',
  'read partition',
  'read frequencies',
  'list snapshots',
  'read snapshot',
  'create snapshot',
  'delete snapshot',
  'add frequency',
  'remove frequency',
  'read task',
];
const FAILURES: OvhFailure[] = [
  'not_found',
  'unavailable',
  'refused',
  'invalid',
  'timeout',
  'clock',
  'network',
  'parse',
  'unexpected',
];

const VIEWER: AuditRefusal = { ...VIEWER_QUICK_REFUSAL, action: 'snapshot.create' };

/** What the person typed, refused by core with its reason (the calendar's and the grammar's data). */
function expirationProblem(input: string): Problem {
  try {
    parseExpiration(input, T0);
  } catch (error) {
    if (error instanceof NashaError) return error.problem;
  }
  throw new Error(`${input} was accepted`);
}

/**
 * One problem of every kind, with its French words. A Record, so a kind added to core and not worded here fails
 * to compile.
 */
const FRENCH_PROBLEMS: Readonly<Record<Problem['kind'], ReadonlyArray<readonly [Problem, string]>>> = {
  refused: [
    [
      { kind: 'refused', refusal: { kind: 'not_visible', action: 'read', target: T } },
      '`zpool-128310/data` est introuvable, ou ne vous est pas accessible\u00a0: aucune de vos autorisations ne porte dessus.',
    ],
    [
      { kind: 'refused', refusal: { kind: 'approval_required', action: 'snapshot.delete' } },
      'Delete demande l’approbation d’une seconde personne\u00a0: faites-en la demande avec un motif.',
    ],
    [
      { kind: 'refused', refusal: { kind: 'others_permissions' } },
      'Seuls les approbateurs et les administrateurs peuvent vérifier les droits d’un autre utilisateur\u202f; posez plutôt la question pour vous-même.',
    ],
  ],
  quick_refused: [
    [
      { kind: 'quick_refused', refusal: VIEWER, spec: 'payments' },
      'Vous devez avoir le rôle *operator* sur `payments` (vous avez *viewer* via une autorisation directe).',
    ],
  ],
  invalid_name: [
    [
      { kind: 'invalid_name', name: 'bad name' },
      '`bad name` n’est pas un nom d’instantané valide\u00a0: utilisez de 1 à 100 lettres, chiffres, `.`, `_`, `:` ou `-`, en commençant par une lettre ou un chiffre.',
    ],
  ],
  invalid_expiration: [
    [
      expirationProblem('2027-02-30'),
      'L’expiration `2027-02-30` n’est pas une date réelle\u00a0: février 2027 compte 28 jours.',
    ],
    [
      expirationProblem('2027-01-01T12:00'),
      'L’expiration `2027-01-01T12:00` n’a pas de fuseau horaire\u00a0: ajoutez Z pour UTC ou un décalage comme +01:00.',
    ],
    [
      expirationProblem('7 jours'),
      'L’expiration `7 jours` contient une unité inconnue, `jours`. Une durée est un nombre entier suivi d’une unité, m (minutes), h (heures), j (jours) ou sem (semaines), comme `30m`, `12h`, `7j`, `2sem` ou `1j12h`.',
    ],
    [
      expirationProblem('12h1j'),
      'L’expiration `12h1j` met j après h\u00a0: écrivez d’abord la plus grande unité, comme 1j12h. Une durée est un nombre entier suivi d’une unité, m (minutes), h (heures), j (jours) ou sem (semaines), comme `30m`, `12h`, `7j`, `2sem` ou `1j12h`.',
    ],
    [expirationProblem('0m'), 'L’expiration `0m` est trop proche\u00a0: elle doit être dans 1\u00a0min au moins.'],
    [
      expirationProblem('2026-11-27'),
      'L’expiration `2026-11-27` (2026-11-27 00:00 UTC) est dans le passé\u00a0: il est 2026-11-28 09:30 UTC.',
    ],
    [
      expirationProblem('2040-01-01'),
      'L’expiration `2040-01-01` est trop lointaine\u00a0: les expirations sont limitées à 5 ans (jusqu’au 2031-11-27 09:30 UTC)\u202f; omettez-la pour garder l’instantané jusqu’à sa suppression.',
    ],
    [
      expirationProblem('demain'),
      '`demain` n’est pas une expiration\u00a0: indiquez une durée à partir de maintenant (`30m`, `12h`, `7j`, `2sem` ou `1j12h`), une date `2026-12-31` (minuit UTC) ou une date et heure avec son fuseau, `2026-12-31T18:00Z` ou `2026-12-31T18:00+01:00`.',
    ],
    [
      // Written by an older version: its English words, shown as stored.
      { kind: 'invalid_expiration', text: '2027-02-30', why: 'not_a_date', detail: 'is not a real date' },
      'L’expiration `2027-02-30` `is not a real date`.',
    ],
  ],
  reason_required: [
    [
      { kind: 'reason_required', action: 'snapshot.delete' },
      'Cette modification demande une approbation\u00a0: ajoutez `--reason &lt;motif&gt;` (ou lancez la commande sans arguments pour passer par le formulaire).',
    ],
  ],
  reason_too_short: [
    [{ kind: 'reason_too_short', purpose: 'reject' }, 'Un motif est obligatoire pour refuser.'],
    [
      { kind: 'reason_too_short', purpose: 'request' },
      'Un motif est obligatoire (quelques mots que liront les approbateurs).',
    ],
  ],
  frequency_enabled: [
    [{ kind: 'frequency_enabled', target: T, type: 'day-7' }, '`day-7` est déjà activée sur `zpool-128310/data`.'],
  ],
  frequency_not_enabled: [
    [
      { kind: 'frequency_not_enabled', target: T, type: 'day-7', enabled: [] },
      '`day-7` n’est pas activée sur `zpool-128310/data` (activées\u00a0: aucune).',
    ],
    [
      { kind: 'frequency_not_enabled', target: T, type: 'day-7', enabled: ['hour-1', 'day-1'] },
      '`day-7` n’est pas activée sur `zpool-128310/data` (activées\u00a0: `hour-1` et `day-1`).',
    ],
  ],
  snapshot_exists: [
    [
      { kind: 'snapshot_exists', target: T, name: 'avant-maj' },
      '`zpool-128310/data` a déjà un instantané nommé `avant-maj`.',
    ],
  ],
  snapshot_missing: [
    [
      { kind: 'snapshot_missing', target: T, name: 'avnt', suggestions: ['avant-maj'] },
      '`zpool-128310/data` n’a aucun instantané manuel nommé `avnt`. Vouliez-vous dire `avant-maj`\u202f?',
    ],
  ],
  partition_full: [
    [
      { kind: 'partition_full', target: T, count: 10, max: 10 },
      '`data` a 10/10 instantanés manuels — supprimez-en un d’abord (`/nasha snapshot list zpool-128310/data`).',
    ],
  ],
  partition_missing: [
    [
      { kind: 'partition_missing', service: 'zpool-128310', partition: 'dta', suggestions: ['data'] },
      '`zpool-128310` n’a pas de partition `dta`, ou elle ne vous est pas accessible. Vouliez-vous dire `data`\u202f?',
    ],
  ],
  service_missing: [
    [
      { kind: 'service_missing', service: 'zpol', suggestions: [] },
      'Il n’y a aucun service NAS-HA `zpol` visible pour vous.',
    ],
  ],
  quick_target_missing: [
    [{ kind: 'quick_target_missing' }, 'Quelle cible\u202f? Un `service/partition`, un `service` ou un nom de groupe.'],
  ],
  quick_target_invalid: [
    [
      { kind: 'quick_target_invalid', spec: 'a/b/c' },
      '`a/b/c` n’est pas une cible\u00a0: utilisez `service/partition`, `service` ou un nom de groupe.',
    ],
  ],
  quick_target_unknown: [
    [
      { kind: 'quick_target_unknown', spec: 'paymnts', suggestions: ['payments'] },
      '`paymnts` n’est ni un service NAS-HA visible pour vous, ni un groupe. Vouliez-vous dire `payments`\u202f?',
    ],
  ],
  service_empty: [[{ kind: 'service_empty', service: 'zpool-1' }, '`zpool-1` n’a aucune partition.']],
  config_changed: [
    [{ kind: 'config_changed' }, 'La configuration du bot a changé depuis la demande\u202f; refaites-la.'],
  ],
  approval_mismatch: [[{ kind: 'approval_mismatch' }, 'La demande ne correspond pas à ce qui a été approuvé.']],
  snapshot_changed: [
    [
      { kind: 'snapshot_changed', name: 'n', expiration: null, was: '2026-12-01T00:00:00Z' },
      'L’instantané `n` a changé depuis la demande (expiration aucune, auparavant 2026-12-01T00:00:00Z).',
    ],
  ],
  status_target_unknown: [
    [
      { kind: 'status_target_unknown', text: 'prod', policies: ['production'] },
      '`prod` n’est ni une politique de protection (`production`) ni un service NAS-HA qui vous est visible.',
    ],
  ],
  protection_off: [
    [
      { kind: 'protection_off' },
      'Aucune politique de protection n’est configurée (section `protection:` de la configuration du bot).',
    ],
  ],
  alert_not_fixable: [
    [{ kind: 'alert_not_fixable', why: 'resolved' }, 'Cette alerte est déjà résolue\u00a0: rien à corriger.'],
    [{ kind: 'alert_not_fixable', why: 'unknown' }, 'Cette alerte n’existe plus.'],
  ],
  invalid_restore_time: [
    [
      { kind: 'invalid_restore_time', text: '3x', why: 'syntax', now: 0 },
      '`3x` n’est pas un moment\u00a0: indiquez un moment sous la forme `2026-11-27T14:00Z` (date et heure avec le fuseau), `2026-11-27` (minuit UTC) ou une durée écoulée, comme `3h` ou `2d`.',
    ],
    [
      { kind: 'invalid_restore_time', text: '2030-01-01', why: 'future', now: Date.UTC(2026, 11, 2, 17, 0) },
      'Le moment `2030-01-01` est dans le futur\u00a0: il est 2026-12-02 17:00 UTC, et les instantanés ne gardent que le passé.',
    ],
  ],
  ovh: [
    [
      {
        kind: 'ovh',
        failure: 'refused',
        step: 'delete snapshot',
        target: T,
        name: 'avant-maj',
        httpStatus: 403,
        ovhMessage: 'This call has not been granted',
      },
      'OVH a refusé de supprimer l’instantané `avant-maj` sur `zpool-128310/data`\u00a0: `This call has not been granted`.',
    ],
    [
      {
        kind: 'ovh',
        failure: 'unavailable',
        step: 'add frequency',
        target: T,
        name: undefined,
        httpStatus: 503,
        ovhMessage: undefined,
      },
      'OVH ne répond pas correctement (HTTP 503) — impossible d’activer une fréquence sur `zpool-128310/data`. Réessayez dans une minute.',
    ],
  ],
};

/** English words that would say a French message fell back (outside code spans, mentions and quotes). */
const ENGLISH =
  /\b(the|you|your|is|are|was|not|and|with|has|have|of|on|to|by|for|it|none|snapshots?|request|approved|done|failed|unknown)\b/i;
const prose = (mrkdwn: string) =>
  mrkdwn
    .replace(/`[^`]*`/g, '')
    .replace(/<[^>]*>/g, '')
    .replace(/«[^»]*»/g, '')
    .replace(/:[a-z_]+:/g, '');

function texts(message: { text: string; blocks: readonly unknown[] }): string[] {
  const out = [message.text];
  const walk = (node: unknown, key = ''): void => {
    if (typeof node === 'string') {
      if (key === 'text') out.push(node);
    } else if (Array.isArray(node)) {
      for (const child of node) walk(child);
    } else if (typeof node === 'object' && node !== null)
      for (const [k, v] of Object.entries(node)) if (k !== 'action_id' && k !== 'value') walk(v, k);
  };
  walk(message.blocks);
  return out;
}

/** A request with an approval and a decision, as the tests below vary it. */
function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return approvalRequest({
    preview: { kind: 'snapshot', name: 'snap-data-pre-upgrade', expiration: null, customLeft: 1, enabled: [] },
    quorum: 2,
    approverGroups: ['S0STORAGE'],
    approvals: [{ userId: 'U0APPROVER', at: T0 }],
    expiresAt: T0 + 4 * 3_600_000,
    decidedBy: 'U0APPROVER',
    decisionReason: 'not now',
    taskId: 42,
    outcomeDetail: { task: { outcome: 'failed', status: 'error', details: 'quota' } },
    ...overrides,
  });
}

/** An audit record on the partition the tests use, created at T0. */
function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return auditRecord({
    createdAt: T0,
    updatedAt: T0 + 65_000,
    channelId: 'C0OPS',
    target: T,
    subject: 'avant-maj',
    outcome: 'succeeded',
    auditChannel: 'C0AUDIT',
    ...overrides,
  });
}

const SETTLEMENTS: Settlement[] = [
  { kind: 'shown_made', lost: { kind: 'timeout' }, action: 'snapshot.create', subject: 'avant-maj' },
  { kind: 'shown_not_made', lost: { kind: 'http', httpStatus: 502 }, action: 'schedule.add', subject: 'day-7' },
  { kind: 'task_found', lost: { kind: 'network', ovhMessage: 'ECONNRESET' }, taskId: 42 },
  { kind: 'not_sent' },
  {
    kind: 'cannot_ask',
    lost: { kind: 'not_heard' },
    problem: {
      kind: 'ovh',
      failure: 'unavailable',
      step: 'read task',
      target: T,
      name: undefined,
      httpStatus: 503,
      ovhMessage: undefined,
    },
    tries: 1,
    gaveUp: true,
  },
  { kind: 'checking', lost: { kind: 'parse' } },
  { kind: 'other_replica' },
  { kind: 'settled_by_sweep' },
  { kind: 'failed_before_made' },
];

const RESULTS: ChangeResult[] = [
  { outcome: 'succeeded', taskId: 7 },
  { outcome: 'failed', taskId: 7, failure: { outcome: 'timeout', status: 'doing', details: long(3_000) } },
  { outcome: 'applied', taskId: null, settlement: SETTLEMENTS[0] as Settlement },
  { outcome: 'not_applied', taskId: null, settlement: SETTLEMENTS[1] as Settlement },
  { outcome: 'unknown', taskId: null, settlement: SETTLEMENTS[4] as Settlement },
];

const CREATE: ChangeDraft & ChangeRequest = { action: 'snapshot.create', target: T, name: 'avant-maj' };

function started(result: ChangeResult) {
  return {
    kind: 'started' as const,
    request: CREATE,
    auditId: 'a',
    task: { taskId: 7, status: 'todo' } as never,
    done: Promise.resolve(result),
  };
}

/** A change line in every state (the reply of a command, and a form's result). */
function lines(): ChangeLine[][] {
  const all: ChangeLine['state'][] = [
    { kind: 'working' },
    { kind: 'submitted', outcome: { ...started(RESULTS[0] as ChangeResult), task: undefined } },
    { kind: 'submitted', outcome: started(RESULTS[0] as ChangeResult) },
    ...RESULTS.map((result) => ({ kind: 'finished' as const, outcome: started(result), result })),
    { kind: 'error', reference: 'ab12cd34' },
    { kind: 'outcome', outcome: { kind: 'pending', request: CREATE, approval: request({ state: 'pending' }) } },
    {
      kind: 'outcome',
      outcome: { kind: 'already_pending', request: CREATE, approval: request({ state: 'pending' }) },
    },
    {
      kind: 'outcome',
      outcome: {
        kind: 'needs_reason',
        request: CREATE,
        rule: { required: true, quorum: 1, approverGroups: [], ttlMs: 1 },
      },
    },
    {
      kind: 'outcome',
      outcome: { kind: 'noop', request: CREATE, problem: { kind: 'frequency_enabled', target: T, type: 'day-7' } },
    },
    ...Object.values(FRENCH_PROBLEMS)
      .flat()
      .map(([problem]) => ({
        kind: 'outcome' as const,
        outcome: { kind: 'refused' as const, draft: CREATE, problem },
      })),
  ];
  return [...all.map((state) => [{ draft: CREATE, state }]), all.map((state) => ({ draft: CREATE, state }))];
}

describe('every message converted in pass 2, in both languages, stays within Slack’s limits', () => {
  it.each(LANGUAGES)('problems, notices and change lines (%s)', (lang) => {
    const tr = translator({ lang, tz: 'Europe/Paris' });
    for (const [problem] of Object.values(FRENCH_PROBLEMS).flat())
      expectMessageWithinLimits(problemMessage(problem, tr));
    for (const failure of FAILURES) {
      for (const step of STEPS) {
        const problem: Problem = {
          kind: 'ovh',
          failure,
          step,
          target: T,
          name: long(100),
          httpStatus: 500,
          ovhMessage: long(2_000),
        };
        expectMessageWithinLimits(problemMessage(problem, tr));
      }
    }
    for (const message of [
      staleInteractionMessage(tr),
      duplicateRequestMessage(tr),
      requestNotCheckedMessage(tr),
      unknownCommandMessage(long(40), tr),
      unexpectedErrorMessage('ab12cd34', tr),
    ]) {
      expectMessageWithinLimits(message);
    }
    for (const set of lines()) expectMessageWithinLimits(changeLinesMessage(set, tr));
    for (const result of RESULTS) expectMessageWithinLimits(changeResultMessage(CREATE, result, tr));
  });

  it.each(LANGUAGES)('listings (%s), long and many', (lang) => {
    const tr = translator({ lang, tz: 'Europe/Paris' });
    const services = Array.from({ length: 300 }, (_, i) => ({
      serviceName: `zpool-${i}`,
      customName: long(300),
      datacenter: 'rbx',
      diskType: 'hdd' as const,
      zpoolSize: 12_000,
      zpoolCapacity: 50.5,
    }));
    expectMessageWithinLimits(servicesMessage(services, tr));
    expectMessageWithinLimits(servicesMessage([], tr));
    const partitions = Array.from({ length: 60 }, (_, i) => ({
      partitionName: `p${i}`,
      partitionDescription: long(2_000),
      protocol: 'NFS' as const,
      size: 10_000,
      partitionCapacity: 1,
      usedBySnapshots: null,
    }));
    expectMessageWithinLimits(
      partitionsMessage('zpool-1', { items: partitions, page: 2, pageCount: 5, total: 300 }, tr),
    );
    const items = Array.from({ length: 60 }, (_, i) => ({
      service: 'zpool-1',
      partition: `p${i}`,
      schedule: i % 2 === 0 ? (['hour-1', 'day-7'] as const) : ([] as const),
      custom: Array.from({ length: 10 }, (_u, j) => ({
        name: `${long(90)}-${j}`,
        expiration: j % 2 ? null : '2026-12-01T00:00:00Z',
      })),
    }));
    expectMessageWithinLimits(
      snapshotsMessage('zpool-1', { items: items as never, page: 1, pageCount: 2, total: 60 }, T0, tr),
    );
    expectMessageWithinLimits(scheduleShowMessage('zpool-1/p1', 'day-7', ['hour-1', 'day-7'], tr));
    expectMessageWithinLimits(
      snapshotShowMessage('zpool-1/p1', { name: long(100), expiration: null } as never, T0, tr),
    );
  });

  it.each(LANGUAGES)('approval cards, the requester’s messages and audit messages (%s)', (lang) => {
    const channelTr = translator({ lang });
    const personTr = translator({ lang, tz: 'Europe/Paris' });
    for (const state of APPROVAL_STATES) {
      const req = request({
        state,
        reason: long(3_000),
        change: { action: 'snapshot.delete', target: T, name: long(200) },
        decisionReason: long(2_000),
        approverGroups: Array.from({ length: 20 }, (_, i) => `S0GROUP${i}`),
      });
      expectMessageWithinLimits(approvalCard(req, channelTr));
      expectMessageWithinLimits(approvalOutcomeMessage(req, personTr));
      expectMessageWithinLimits(approvalPendingMessage(req, personTr));
    }
    const details: AuditDetail[] = [
      { reason: long(1_000), approvalId: 'ABC', decidedBy: ['U0A', 'U0B'] },
      { problem: { kind: 'refused', refusal: VIEWER } },
      { task: { outcome: 'failed', status: 'error', details: long(2_000) } },
      { settlement: SETTLEMENTS[4] as Settlement },
      {
        quick: {
          label: 'inc',
          expiration: '2026-12-05T09:30:00Z',
          taken: Array.from({ length: 50 }, (_, i) => `${long(60)}-${i}`),
          failed: ['f'],
          full: ['x'],
          denied: ['d'],
          pending: 2,
        },
      },
    ];
    for (const action of AUDIT_ACTIONS) {
      for (const outcome of AUDIT_OUTCOMES) {
        for (const detail of details) {
          expectMessageWithinLimits(
            auditMessage(record({ action, outcome, detail: serializeAuditDetail(detail) }), channelTr),
          );
        }
      }
    }
  });
});

describe('French words, as a French reader sees them (pass 2)', () => {
  it.each(
    Object.entries(FRENCH_PROBLEMS).flatMap(([kind, cases]) =>
      cases.map(([problem, words]) => [kind, problem, words] as const),
    ),
  )('%s', (_kind, problem, words) => {
    expect(FR.mrkdwn(problemText(problem, FR))).toBe(words);
    // The same problem in English is another sentence: nothing fell back.
    expect(FR.mrkdwn(problemText(problem, FR))).not.toBe(translator().mrkdwn(problemText(problem)));
  });

  it('every OVH failure at every step, and every settlement, is French through and through', () => {
    const said: string[] = [];
    for (const failure of FAILURES) {
      for (const step of STEPS) {
        for (const target of [T, undefined]) {
          const problem: Problem = {
            kind: 'ovh',
            failure,
            step,
            target,
            name: undefined,
            httpStatus: 502,
            ovhMessage: undefined,
          };
          said.push(FR.mrkdwn(problemText(problem, FR)));
        }
      }
    }
    for (const settlement of SETTLEMENTS) said.push(FR.mrkdwn(settlementText(settlement, FR)));
    for (const words of said) {
      expect(prose(words), words).not.toMatch(ENGLISH);
      expect(words, words).toMatch(/^[A-ZÀ-Ý]/);
    }
    // Before a vowel, French elides: "impossible d’activer", never "de activer".
    expect(said.join('\n')).not.toMatch(/\bde [aeéiou]/);
    expect(FR.mrkdwn(settlementText(SETTLEMENTS[4] as Settlement, FR))).toBe(
      'La réponse d’OVH n’est jamais parvenue au bot, et OVH ne peut pas être interrogé pour l’instant (HTTP 503 en essayant de lire la tâche de `zpool-128310/data`)\u202f; abandon après 1 essai\u00a0: vérifiez la partition chez OVH.',
    );
  });

  it('a refusal about someone else is in the third person, with a mention (can-i)', () => {
    const other = { who: 'other', person: text(user('U0BOB')) } as const;
    expect(FR.mrkdwn(refusalText(VIEWER, T, FR, other))).toBe(
      '<@U0BOB> doit avoir le rôle *operator* sur `zpool-128310/data` (<@U0BOB> a *viewer* via une autorisation directe)',
    );
    expect(translator().mrkdwn(refusalText(VIEWER, T, translator(), other))).toBe(
      '<@U0BOB> needs *operator* on `zpool-128310/data` (they have *viewer* via a direct grant)',
    );
    expect(FR.mrkdwn(refusalText({ kind: 'not_visible', action: 'read', target: T }, T, FR, other))).toBe(
      '`zpool-128310/data` est introuvable, ou ne lui est pas accessible\u00a0: aucune de ses autorisations ne porte dessus',
    );
  });

  it('a listing: French labels, 10 Go and 50 %, dates in the reader’s zone', () => {
    const services = servicesMessage(
      [{ serviceName: 'zpool-1', customName: 'Prod', datacenter: 'rbx', zpoolSize: 10, zpoolCapacity: 50 } as never],
      FR,
    );
    expect(services.text).toBe('1 service NAS-HA');
    expect(JSON.stringify(services.blocks)).toContain('• `zpool-1` — Prod\\n   rbx · 10\u00a0Go · 50\u00a0% utilisés');
    const listing = snapshotsMessage(
      'zpool-1',
      {
        items: [
          {
            service: 'zpool-1',
            partition: 'data',
            schedule: [],
            custom: [
              { name: 'avant-maj', expiration: '2026-11-28T12:00:00Z' },
              { name: 'garde', expiration: null },
            ],
          },
        ],
        page: 1,
        pageCount: 3,
        total: 1_234,
      },
      T0,
      FR,
    );
    expect(listing.text).toBe('Instantanés de zpool-1');
    const shown = JSON.stringify(listing.blocks);
    expect(shown).toContain('"text":"Instantanés — zpool-1"');
    // Paris is UTC+1 in November: noon UTC is 13:00 there.
    expect(shown).toContain(
      '*data*\\n*Automatiques\u00a0:* _aucun_ :warning:\\n*Manuels (2/10)\u00a0:*\\n• `avant-maj` — expiration\u00a0: 28 nov. 2026, 13:00 UTC+1 :hourglass_flowing_sand:\\n• `garde` — _conservé jusqu’à sa suppression_',
    );
    expect(shown).toContain('Page 1 sur 3 (1\u202f234 partitions)');
    expect(shown).toContain('"text":"Suivant","emoji":true},"value":');
    expect(shown).toContain('"action_id":"nasha_page_next"');
  });

  it('a change result: French head, the change and how OVH’s task ended', () => {
    const failed = changeLinesMessage(
      [
        {
          draft: CREATE,
          state: {
            kind: 'finished',
            outcome: started(RESULTS[1] as ChangeResult),
            result: { outcome: 'failed', taskId: 7, failure: { outcome: 'failed', status: 'error', details: 'quota' } },
          },
        },
      ],
      FR,
    );
    expect(failed.text).toBe('Échec\u00a0: créer l’instantané `avant-maj` sur `zpool-128310/data`');
    expect(failed.blocks[0]).toMatchObject({
      text: {
        text: ':x: Échec\u00a0: Créer l’instantané `avant-maj` sur `zpool-128310/data`.\n>La tâche OVH s’est terminée avec l’état `error`\u00a0: `quota`.',
      },
    });
    const applied = changeResultMessage(CREATE, RESULTS[2] as ChangeResult, FR);
    expect(applied.text).toBe('Appliqué\u00a0: créer l’instantané `avant-maj` sur `zpool-128310/data`');
    expect(JSON.stringify(applied.blocks)).toContain(
      'Appliqué (confirmé chez OVH)\u00a0: Créer l’instantané `avant-maj` sur `zpool-128310/data`.\\n>OVH n’a pas répondu à temps\u202f; OVH montre la modification faite (l’instantané `avant-maj` existe\u202f; aucune tâche OVH trouvée pour elle).',
    );
    for (const set of lines()) {
      for (const words of texts(changeLinesMessage(set, FR))) expect(prose(words), words).not.toMatch(ENGLISH);
    }
  });

  it('an audit message in a French channel: French words, dates as Slack’s tokens (each member’s own zone)', () => {
    // The audit channel's reader as the composition root's ReaderDirectory gives it, from the config.
    const readers = new ReaderDirectory(async () => ({ locale: 'en-US', tz: 'America/New_York' }), {
      clock: new ManualClock(T0),
      languages: { default: 'en', channels: new Map([['C0AUDIT', 'fr']]) },
    });
    const tr: Translator = translator(readers.channel('C0AUDIT'));
    expect(tr.reader).toEqual({ lang: 'fr' });
    const message = auditMessage(
      record({
        outcome: 'denied',
        taskId: null,
        detail: serializeAuditDetail({ problem: { kind: 'refused', refusal: VIEWER }, reason: 'incident <!here>' }),
      }),
      tr,
    );
    expect(message.text).toBe(
      ':no_entry: Création d’instantané sur `zpool-128310/data` par <@U0ALICE01>\u00a0: Refusé',
    );
    const shown = texts(message).join('\n');
    expect(shown).toContain(':no_entry: *Création d’instantané* sur `zpool-128310/data`\u00a0: *Refusé*');
    expect(shown).toContain('*Qui*\n<@U0ALICE01>');
    expect(shown).toContain('*Quoi*\nCréation d’instantané (`snapshot.create`)');
    expect(shown).toContain('*Instantané*\n`avant-maj`');
    expect(shown).toContain('*Demandé dans*\n<#C0OPS>');
    expect(shown).toContain('*Motif*\n`incident &lt;!here&gt;`');
    expect(shown).toContain(
      '*Pourquoi*\nVous devez avoir le rôle *operator* sur `zpool-128310/data` (vous avez *viewer* via une autorisation directe).',
    );
    const seconds = T0 / 1000;
    expect(shown).toContain(
      `Créé\u00a0: <!date^${seconds}^{date_short_pretty} {time}|2026-11-28T09:30Z> (2026-11-28T09:30:00Z)`,
    );
    expect(shown).toContain(
      `Mis à jour\u00a0: <!date^${seconds + 65}^{date_short_pretty} {time}|2026-11-28T09:31Z> (2026-11-28T09:31:05Z)`,
    );
    expect(shown).toContain('Audit `9b2f6c1e-1111-4c1e-9a51-0123456789ab` v2 · empreinte `a3f09c1d2e`');
    // A channel not configured reads the default language.
    expect(translator(readers.channel('C0OTHER')).lang).toBe('en');
  });

  it('an approval card in a French approvals channel, and the requester’s French DM', () => {
    const card = approvalCard(request({ state: 'pending', approvals: [] }), FR_CHANNEL);
    expect(card.text).toBe(
      'Approbation #7RLM5K\u00a0: supprimer l’instantané `snap-data-pre-upgrade` sur `zpool-128310/data` — en attente',
    );
    const shown = texts(card).join('\n');
    expect(shown).toContain('*Demandée par*\n<@U0OPER>');
    expect(shown).toContain(':raising_hand: *En attente d’approbation* — 0/2\u202f; expiration\u00a0: <!date^');
    expect(shown).toContain(
      'Supprime l’instantané manuel `snap-data-pre-upgrade` (conservé jusqu’à sa suppression). 1 instantané manuel restera\u202f; automatiques\u00a0: _aucun_.',
    );
    expect(shown).toContain('Il faut 2 approbateurs autres que le demandeur, parmi <!subteam^S0STORAGE>.');
    expect(shown).toContain(
      'Supprimer l’instantané «\u00a0snap-data-pre-upgrade\u00a0» sur «\u00a0zpool-128310/data\u00a0».',
    );
    for (const words of texts(card)) expect(prose(words), words).not.toMatch(ENGLISH);
    const dm = approvalOutcomeMessage(request({ state: 'failed' }), FR);
    expect(dm.text).toBe('Approbation #7RLM5K\u00a0: en échec');
    expect(texts(dm).join('\n')).toContain(
      '*Approuvée → échec* par <@U0APPROVER> · tâche OVH `42`\nLa tâche OVH s’est terminée avec l’état `error`\u00a0: `quota`.',
    );
  });
});
