import { describe, expect, it } from 'vitest';
import type { ApprovalRule } from '../../../src/core/actions.js';
import type { ChangeOrigin } from '../../../src/core/ports.js';
import type { AlertFixPlan } from '../../../src/core/protection/fixes.js';
import type { ProtectionPolicy, ProtectionProblem } from '../../../src/core/protection/model.js';
import type { AlertView, ProtectionAlert } from '../../../src/core/protection/ports.js';
import type { RestoreAnswer, StatusAnswer, StatusLine } from '../../../src/core/protection/queries.js';
import { LANGUAGES } from '../../../src/shared/language.js';
import { createLogger } from '../../../src/shared/logger.js';
import { auditMessage } from '../../../src/slack/blocks/audit-message.js';
import {
  alertMessage,
  protectionProblemText,
  restoreMessage,
  statusMessage,
} from '../../../src/slack/blocks/protection.js';
import { budgetWaitMessage } from '../../../src/slack/blocks/replies.js';
import { t, translator } from '../../../src/slack/i18n/translate.js';
import { createResumeReporter, resumeToken } from '../../../src/slack/resume-reply.js';
import { code, plain, text } from '../../../src/slack/text.js';
import { expectMessageWithinLimits } from '../../support/block-limits.js';

const NOW = Date.UTC(2026, 10, 28, 9);
const HOUR = 3_600_000;
const long = (n: number) => 'x'.repeat(n);
const FR_CHANNEL = translator({ lang: 'fr' });
const EN_CHANNEL = translator({ lang: 'en' });
const all = (message: { text: string; blocks: unknown[] }) => `${message.text}\n${JSON.stringify(message.blocks)}`;

function alert(problem: ProtectionProblem, over: Partial<ProtectionAlert> = {}): ProtectionAlert {
  return {
    id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    service: 'zpool-1',
    partition: 'data',
    kind: problem.kind,
    policy: 'production',
    problem,
    state: 'open',
    resolution: null,
    version: 2,
    postedVersion: 1,
    channel: 'C0ALERTS',
    messageRef: null,
    postClaims: 0,
    auditId: null,
    fixes: [],
    openedAt: NOW,
    updatedAt: NOW,
    resolvedAt: null,
    lastError: null,
    ...over,
  };
}

const PROBLEMS: ProtectionProblem[] = [
  { kind: 'frequency_missing', missing: ['day-7'], required: ['hour-1', 'day-1', 'day-7'] },
  { kind: 'frequency_missing', missing: ['day-1', 'day-7'], required: ['hour-1', 'day-1', 'day-7'] },
  { kind: 'stale', level: 'warn', newestAt: NOW - 30 * HOUR, warnMs: 24 * HOUR, criticalMs: 48 * HOUR },
  { kind: 'stale', level: 'critical', newestAt: NOW - 50 * HOUR, warnMs: 24 * HOUR, criticalMs: 48 * HOUR },
  { kind: 'stale', level: 'critical', newestAt: null, warnMs: 24 * HOUR, criticalMs: 48 * HOUR },
  {
    kind: 'plan_missing',
    missing: [
      { label: 'daily', slotAt: NOW, name: long(200), gap: { cause: 'failed', problem: undefined, ovh: long(3_000) } },
      { label: 'daily', slotAt: NOW, name: 'plan-daily-1', gap: { cause: 'reserve', count: 8, reserve: 2 } },
      { label: 'daily', slotAt: NOW, name: 'plan-daily-2', gap: { cause: 'not_taken' } },
      { label: 'daily', slotAt: NOW, name: 'plan-daily-3', gap: { cause: 'gone' } },
    ],
  } as ProtectionProblem,
  { kind: 'slots', level: 'full', count: 10, max: 10, reserve: 2, oldest: { name: long(200), takenAt: NOW } },
  { kind: 'slots', level: 'reserve', count: 9, max: 10, reserve: 2, oldest: undefined } as ProtectionProblem,
  { kind: 'snapshot_space', usedPercent: 31.5, limitPercent: 25 } as ProtectionProblem,
];

const FIXES: (AlertFixPlan | undefined)[] = [
  undefined,
  { kind: 'add_frequencies', types: ['day-1', 'day-7'] },
  { kind: 'take_snapshot', name: undefined, expires: '2026-12-05T09:00:00Z' },
  { kind: 'take_snapshot', name: long(200), expires: '2026-12-05T09:00:00Z' },
  { kind: 'delete_oldest', name: long(200) },
];

const APPROVAL: ApprovalRule = { required: true, quorum: 2, approverGroups: [], ttlMs: HOUR };
const EVERYTHING_APPROVED = () => APPROVAL;
const NOTHING_APPROVED = () => undefined;

const POLICY: ProtectionPolicy = {
  name: 'production',
  targets: [],
  frequencies: ['hour-1', 'day-1', 'day-7'],
  plan: [
    { label: 'daily', everyMs: 24 * HOUR, keep: 3, minuteOfDay: 120, weekday: undefined },
    { label: 'weekly', everyMs: 7 * 24 * HOUR, keep: 4, minuteOfDay: 150, weekday: 1 },
  ],
  reserve: 2,
  maxAge: { warnMs: 24 * HOUR, criticalMs: 48 * HOUR },
  snapshotSpacePercent: 25,
  timezone: 'Europe/Paris',
};

function statusLine(i: number): StatusLine {
  return {
    service: `zpool-${i}`,
    partition: long(60),
    policy: 'production',
    scannedAt: i % 3 === 0 ? null : NOW,
    problems: i % 2 === 0 ? PROBLEMS.slice(0, 5) : [],
    newestAt: i % 4 === 0 ? null : NOW - HOUR,
    customCount: i % 5 === 0 ? null : 7,
    frequencies: ['hour-1'],
  };
}

const LIST: StatusAnswer = {
  kind: 'list',
  scope: { kind: 'policy', policy: 'production' },
  query: 'production',
  page: { items: Array.from({ length: 25 }, (_, i) => statusLine(i)), page: 2, pageCount: 5, total: 120 },
  inventoryPending: false,
  now: NOW,
};

const DETAIL: StatusAnswer = {
  kind: 'partition',
  target: { service: 'zpool-1', partition: 'data' },
  policy: POLICY as unknown as Extract<StatusAnswer, { kind: 'partition' }>['policy'],
  assessment: {
    restorePoints: [
      { kind: 'automatic', type: 'hour-1', periodMs: HOUR },
      { kind: 'automatic', type: 'day-7', periodMs: 7 * 24 * HOUR },
      ...Array.from({ length: 10 }, (_, i) => ({
        kind: 'custom' as const,
        name: `${long(150)}-${i}`,
        takenAt: i === 0 ? null : NOW - i * HOUR,
        takenBy:
          i % 4 === 0
            ? { kind: 'plan' as const, label: 'daily' }
            : i % 4 === 1
              ? { kind: 'recorded' as const, by: 'protection:production' }
              : i % 4 === 2
                ? { kind: 'name' as const }
                : { kind: 'unknown' as const },
        expiration: i % 3 === 0 ? null : i % 3 === 1 ? '2026-12-01T00:00:00Z' : undefined,
      })),
    ],
    newestAt: NOW - HOUR,
    oldestAt: NOW - 9 * HOUR,
    problems: PROBLEMS,
  },
  runs: [],
  firstSeenAt: NOW - 100 * HOUR,
  now: NOW,
} as StatusAnswer;

const PARTITION = DETAIL as Extract<StatusAnswer, { kind: 'partition' }>;

function restore(over: Partial<RestoreAnswer>): RestoreAnswer {
  return {
    target: { service: 'zpool-1', partition: 'media' },
    at: NOW,
    now: NOW + HOUR,
    best: {
      kind: 'custom',
      name: 'plan-daily-media-20261128T0200',
      takenAt: NOW - 7 * HOUR,
      takenBy: { kind: 'plan', label: 'daily' },
    },
    after: undefined,
    automatic: [{ kind: 'automatic', type: 'day-1', periodMs: 24 * HOUR }],
    undated: Array.from({ length: 15 }, (_, i) => `${long(100)}-${i}`),
    protocol: 'NFS_CIFS',
    ip: '198.51.100.7',
    safety: 'create',
    ...over,
  };
}

const BEST = restore({}).best;
const RESTORES: RestoreAnswer[] = [
  restore({}),
  ...(BEST === undefined ? [] : [restore({ protocol: 'NFS', ip: null, best: { ...BEST, takenAt: NOW - 10_000 } })]),
  restore({
    protocol: 'CIFS',
    best: undefined,
    after: { kind: 'custom', name: 'later', takenAt: NOW + 2 * HOUR, takenBy: { kind: 'unknown' } },
  }),
  restore({ protocol: undefined, best: undefined, after: undefined, automatic: [], undated: [] }),
  restore({ safety: 'quick' }),
  restore({ safety: 'none' }),
];

describe('protection messages, in both languages, stay within Slack’s limits', () => {
  it.each(LANGUAGES)('alerts: every problem × fix × approval rule, open and resolved (%s)', (lang) => {
    const tr = translator({ lang });
    for (const problem of PROBLEMS) {
      for (const fix of FIXES) {
        for (const rules of [EVERYTHING_APPROVED, NOTHING_APPROVED]) {
          const open: AlertView = { alert: alert(problem), fix };
          expectMessageWithinLimits(alertMessage(open, tr, rules));
          const fixes = Array.from({ length: 30 }, (_, i) => ({ userId: `U0${i}AAAA`, at: NOW }));
          for (const resolution of ['uncovered', 'cleared'] as const) {
            const resolved = alert(problem, { state: 'resolved', resolution, resolvedAt: NOW + HOUR, fixes });
            expectMessageWithinLimits(alertMessage({ alert: resolved, fix }, tr, rules));
          }
        }
      }
    }
  });

  it.each(LANGUAGES)('status (list and partition) and restore help (%s)', (lang) => {
    const tr = translator({ lang, tz: 'Europe/Paris' });
    expectMessageWithinLimits(statusMessage(LIST, tr));
    expectMessageWithinLimits(statusMessage({ ...LIST, page: { items: [], page: 1, pageCount: 1, total: 0 } }, tr));
    expectMessageWithinLimits(
      statusMessage({ ...LIST, page: { items: [], page: 1, pageCount: 1, total: 0 }, inventoryPending: true }, tr),
    );
    expectMessageWithinLimits(statusMessage({ ...LIST, scope: { kind: 'all' } }, tr));
    expectMessageWithinLimits(statusMessage(DETAIL, tr));
    expectMessageWithinLimits(
      statusMessage(
        {
          ...PARTITION,
          policy: undefined,
          assessment: { ...PARTITION.assessment, restorePoints: [], oldestAt: null, problems: [] },
        },
        tr,
      ),
    );
    for (const answer of RESTORES) expectMessageWithinLimits(restoreMessage(answer, tr));
  });

  it.each(LANGUAGES)('the budget wait notice (%s)', (lang) => {
    const tr = translator({ lang });
    expectMessageWithinLimits(budgetWaitMessage(text(code(long(3_000))), { ahead: 1_000_000, etaMs: 3_600_000 }, tr));
  });
});

describe('French protection words, as a French reader sees them', () => {
  it('an alert in a French channel: French words and typography, dates as Slack’s tokens', () => {
    const view: AlertView = {
      alert: alert(PROBLEMS[0] as ProtectionProblem),
      fix: { kind: 'add_frequencies', types: ['day-7'] },
    };
    const text = all(alertMessage(view, FR_CHANNEL, NOTHING_APPROVED));
    expect(text).toContain('*Des fréquences requises sont désactivées* sur `zpool-1/data`');
    expect(text).toContain(
      'La fréquence `day-7` n’est pas activée\u202f; la politique exige `hour-1`, `day-1` et `day-7`.',
    );
    expect(text).toContain('Politique `production` · ouverte\u00a0: <!date^');
    expect(text).toContain('Corriger\u00a0: activer day-7');
    expect(text).not.toMatch(/Required|Fix|Policy|opened/);
  });

  it('what the Fix says about approval is the gate’s rule, not a guess from the fix kind', () => {
    const deleteFix: AlertFixPlan = { kind: 'delete_oldest', name: 'old' };
    const full = PROBLEMS[6] as ProtectionProblem;
    const approved = all(alertMessage({ alert: alert(full), fix: deleteFix }, EN_CHANNEL, EVERYTHING_APPROVED));
    expect(approved).toContain('Fix: delete old (with approval)');
    expect(approved).toContain('*Fix* deletes `old` to free a slot, in your name, once 2 other people approve it.');
    expect(approved).not.toContain('"style":"primary"');
    // The same delete, with approvals turned off for it: at once, with the role the action table gives it.
    const direct = all(alertMessage({ alert: alert(full), fix: deleteFix }, EN_CHANNEL, NOTHING_APPROVED));
    expect(direct).toContain('"text":"Fix: delete old"');
    // Deleting is the table's admin row.
    expect(direct).toContain('in your name (at once with the *admin* role).');
    expect(direct).toContain('"style":"primary"');
    // And a frequency whose adding needs approval here.
    const enable: AlertView = {
      alert: alert(PROBLEMS[0] as ProtectionProblem),
      fix: { kind: 'add_frequencies', types: ['day-7'] },
    };
    expect(all(alertMessage(enable, FR_CHANNEL, () => ({ ...APPROVAL, quorum: 1 })))).toContain(
      'en votre nom, après l’approbation d’une autre personne.',
    );
    // Without a gate: the action table's defaults (delete needs one approver; adding a frequency does not).
    expect(all(alertMessage({ alert: alert(full), fix: deleteFix }))).toContain('(with approval)');
    expect(all(alertMessage(enable))).toContain('(at once with the *operator* role)');
  });

  it('status and restore to a French person: French words, times in their zone, commands as the table has them', () => {
    const fr = translator({ lang: 'fr', tz: 'Europe/Paris' });
    const list = all(statusMessage(LIST, fr));
    expect(list).toContain('État de la protection — politique production');
    expect(list).toContain('120 partitions protégées\u202f; sur cette page, 13 avec des problèmes.');
    expect(list).toContain('`/nasha snapshot status zpool-0/');
    expect(list).toContain('Page 2 sur 5 (120 partitions)');
    expect(list).toContain('"text":"Précédent"');
    expect(list).toContain('"action_id":"nasha_protection_page_previous"');
    const detail = all(statusMessage(DETAIL, fr));
    expect(detail).toContain('Politique `production`\u00a0: exige `hour-1`, `day-1` et `day-7`');
    expect(detail).toContain('`weekly` ×4 à lun. 02:30');
    expect(detail).toContain('`hour-1` — automatique, au plus 1\u00a0h d’ancienneté');
    expect(detail).toContain('*Problèmes*');
    expect(detail).not.toContain('<!date^');
    expect(detail).toMatch(/UTC\+1|CET/);
    const help = all(restoreMessage(RESTORES[0] as RestoreAnswer, fr));
    expect(help).toContain('*utilisez* `plan-daily-media-20261128T0200`');
    expect(help).toContain('7\u00a0h avant ce moment');
    expect(help).toContain('`/nasha snapshot create zpool-1/media before-restore`');
    expect(help).toContain('&lt;chemin&gt;');
    expect(help).not.toContain('<!date^');
    expect(help).not.toMatch(/Restore help|the share/);
  });

  it('the protection lines of a French audit message', () => {
    const message = auditMessage(
      {
        id: 'a1',
        version: 2,
        createdAt: NOW,
        updatedAt: NOW,
        actorUserId: 'protection:production',
        channelId: null,
        action: 'protection.alert',
        target: { service: 'zpool-1', partition: 'data' },
        subject: 'frequency_missing',
        outcome: 'resolved',
        taskId: null,
        detail: JSON.stringify({
          protection: {
            policy: 'production',
            plan: { label: 'daily', slotAt: NOW - 7 * HOUR, lateMs: 7 * HOUR, missed: true },
            problem: PROBLEMS[0],
            fixedBy: ['U0OPER'],
            resolution: 'cleared',
          },
        }),
        auditChannel: 'C0AUDIT',
        hash: null,
      },
      FR_CHANNEL,
    );
    const text = all(message);
    expect(text).toContain('nasha-bot, pour la politique de protection `production`');
    expect(text).toContain('pris avec 7\u00a0h de retard (manqué pendant l’arrêt du bot, pris à son démarrage)');
    expect(text).toContain('Correction demandée par <@U0OPER>');
    expect(text).toContain('Résolu\u00a0: le problème a disparu');
    expect(text).not.toMatch(/taken|Fix pressed|Resolved:/);
    expectMessageWithinLimits(message);
  });
});

describe('plurals and numbers for 0, 1, 2 and many, in both languages', () => {
  const fr = (text: ReturnType<typeof t>) => plain(text, { lang: 'fr' });
  it.each([
    [0, '0 requests ahead', '0 requête avant la vôtre'],
    [1, '1 request ahead', '1 requête avant la vôtre'],
    [2, '2 requests ahead', '2 requêtes avant la vôtre'],
    [12_345, '12345 requests ahead', '12\u202f345 requêtes avant la vôtre'],
  ])('the budget wait: %i requests ahead', (ahead, english, french) => {
    const words = (lang: 'en' | 'fr') =>
      budgetWaitMessage(text(code('list')), { ahead, etaMs: 1_500 }, translator({ lang }));
    expect(words('en').text).toContain(english);
    expect(words('en').text).toContain('about 2 s.');
    // French: 0 and 1 are singular; a no-break space before the colon and the unit.
    expect(words('fr').text).toContain(french);
    expect(words('fr').text).toContain('`list`\u00a0: en attente du quota de requêtes OVH');
    expect(words('fr').text).toContain('environ 2\u00a0s.');
  });

  it.each([
    [0, '0 protected partitions', '0 partition protégée'],
    [1, '1 protected partition', '1 partition protégée'],
    [2, '2 protected partitions', '2 partitions protégées'],
    [1_000_000, '1000000 protected partitions', '1\u202f000\u202f000 partitions protégées'],
  ])('status: %i partitions', (total, english, french) => {
    const values = { total, troubled: 0, command: code('x') };
    expect(plain(t('en', 'protection.status.summary', values))).toContain(english);
    expect(fr(t('fr', 'protection.status.summary', values))).toContain(french);
  });

  it.each([
    [0, 'had 0 custom snapshots, and 0 slots are kept', '0 instantané personnalisé, et 0 emplacement reste réservé'],
    [1, 'had 1 custom snapshot, and 1 slot is kept', '1 instantané personnalisé, et 1 emplacement reste réservé'],
    [
      2,
      'had 2 custom snapshots, and 2 slots are kept',
      '2 instantanés personnalisés, et 2 emplacements restent réservés',
    ],
    [
      10_000,
      'had 10000 custom snapshots, and 10000 slots are kept',
      '10\u202f000 instantanés personnalisés, et 10\u202f000 emplacements restent réservés',
    ],
  ])('a skipped plan snapshot: %i', (count, english, french) => {
    expect(plain(t('en', 'protection.gap.reserve', { count, reserve: count }))).toContain(english);
    expect(fr(t('fr', 'protection.gap.reserve', { count, reserve: count }))).toContain(french);
  });

  it('a decimal comma and a no-break space before % in French', () => {
    const space = PROBLEMS[8] as ProtectionProblem;
    expect(plain(protectionProblemText(space, FR_CHANNEL), { lang: 'fr' })).toContain('31,5\u00a0% de la partition');
    expect(plain(protectionProblemText(space, EN_CHANNEL))).toContain('31.5% of the partition');
  });

  it.each([
    [0, '0m', '0\u00a0min'],
    [60_000, '1m', '1\u00a0min'],
    [2 * HOUR, '2h', '2\u00a0h'],
    [50 * HOUR, '2d2h', '2\u00a0j 2\u00a0h'],
  ])('durations in a stale restore point: %i ms', (ms, english, french) => {
    const problem: ProtectionProblem = { kind: 'stale', level: 'warn', newestAt: NOW, warnMs: ms, criticalMs: ms };
    expect(plain(protectionProblemText(problem, EN_CHANNEL))).toContain(`more than ${english} old`);
    expect(plain(protectionProblemText(problem, FR_CHANNEL), { lang: 'fr' })).toContain(`a plus de ${french}`);
  });
});

describe('a result told after a restart reads in the language of who typed the command', () => {
  const CREATE = { action: 'snapshot.create' as const, target: { service: 'zpool-1', partition: 'data' }, name: 'n' };
  const entry = (reply: ChangeOrigin['reply']): ChangeOrigin => ({
    service: 'zpool-1',
    kind: 'snapshot.create',
    auditId: 'a1',
    reply,
  });
  async function told(reply: ChangeOrigin['reply']): Promise<{ text: string; blocks: unknown[] }> {
    const sent: string[] = [];
    const fetchImpl = (async (_url: string, init: { body: string }) => {
      sent.push(init.body);
      return new Response('ok');
    }) as unknown as typeof fetch;
    const readers = {
      defaultLang: 'fr' as const,
      person: async (userId: string) =>
        userId === 'U0CAMILLE' ? { lang: 'fr' as const, tz: 'Europe/Paris' } : { lang: 'en' as const },
    };
    await createResumeReporter(
      createLogger({ level: 'silent' }),
      fetchImpl,
      readers,
    )(entry(reply), {
      outcome: 'succeeded',
      taskId: 42,
    });
    return JSON.parse(sent[0] ?? '{}');
  }

  it('the token names the person: their language', async () => {
    const french = await told(resumeToken('https://hooks.slack.test/a', CREATE, 'U0CAMILLE'));
    expect(french.text).toBe('Fait\u00a0: créer l’instantané `n` sur `zpool-1/data`');
    const english = await told(resumeToken('https://hooks.slack.test/a', CREATE, 'U0BOB'));
    expect(english.text).toBe('Done: create snapshot `n` on `zpool-1/data`');
  });

  it('a token from an older version names no one: the workspace default, never a key', async () => {
    const old = await told({ responseUrl: 'https://hooks.slack.test/a' });
    expect(old.text).toBe('Fait\u00a0: `snapshot.create` sur `zpool-1`');
  });
});
