import { describe, expect, it } from 'vitest';
import { ACTION_IDS, ACTION_LIST, type ApprovalRules } from '../../../src/core/actions.js';
import type { ApprovalRequest, ClickEffect, ClickRefusal } from '../../../src/core/approvals.js';
import { ActionGate, type Explanation } from '../../../src/core/gate.js';
import type { GroupDirectory } from '../../../src/core/groups.js';
import type { AccessConfig } from '../../../src/core/model.js';
import { Policy } from '../../../src/core/policy.js';
import type { QuickItem, QuickRun } from '../../../src/core/quick-snapshots.js';
import { LANGUAGES } from '../../../src/shared/language.js';
import { cannotOpenRejectMessage, clickEffectMessage, clickRefusalMessage } from '../../../src/slack/blocks/clicks.js';
import {
  createModal,
  deleteModal,
  mainModal,
  reasonModal,
  rejectModal,
  resultModal,
  scheduleModal,
  staleFormModal,
} from '../../../src/slack/blocks/modals.js';
import { canIMessage, helpMessage } from '../../../src/slack/blocks/permissions.js';
import { quickModal, quickSummary } from '../../../src/slack/blocks/quick-summary.js';
import { parseCommand } from '../../../src/slack/commands/parse.js';
import { problemLikeMessage, workingMessage } from '../../../src/slack/commands/run-command.js';
import { translator } from '../../../src/slack/i18n/translate.js';
import { expectMessageWithinLimits, expectModalWithinLimits } from '../../support/block-limits.js';

const FR = translator({ lang: 'fr', tz: 'Europe/Paris' });
const EN = translator({ lang: 'en' });
const long = (n: number) => 'x'.repeat(n);
const target = { service: 'zpool-128310', partition: 'data' };
const AT = Date.UTC(2026, 10, 28, 9, 30);

const access: AccessConfig = {
  grants: [
    { role: 'admin', users: ['U0ADMIN'], groups: [], scope: ['*'] },
    { role: 'operator', users: [], groups: ['S0SRE'], scope: ['zpool-128310/*'] },
    { role: 'viewer', users: ['U0VIEW'], groups: [], scope: ['zpool-*'] },
  ],
  channels: [{ id: 'C0GENERAL', maxRole: 'viewer' }],
  unlistedChannels: 'admin',
};
const groups: GroupDirectory = { membersOf: async (id) => new Set(id === 'S0SRE' ? ['U0OPER'] : []) };
const rule = { quorum: 2, approverGroups: ['S0STORAGE'], ttlMs: 4 * 3_600_000 };
const rules: ApprovalRules = {
  'snapshot.delete': { required: true, ...rule },
  'schedule.remove': { required: true, ...rule, quorum: 1, approverGroups: [] },
  'snapshot.create': { required: false, ...rule },
  'schedule.add': { required: false, ...rule },
};
const gate = new ActionGate({ policy: new Policy(access, groups), groups, rules, responderGroups: ['S0RESP'] });

/** Every kind of can-i answer: self and others, run, by request, refused, in a capped channel. */
async function explanations(): Promise<Explanation[]> {
  const out: Explanation[] = [];
  for (const [asker, subject, channelId] of [
    ['U0ADMIN', 'U0ADMIN', 'C0OPS'],
    ['U0ADMIN', 'U0OPER', 'C0OPS'],
    ['U0OPER', 'U0OPER', 'C0OPS'],
    ['U0OPER', 'U0OPER', 'C0GENERAL'],
    ['U0VIEW', 'U0VIEW', 'C0OPS'],
    ['U0ADMIN', 'U0NOBODY', 'C0OPS'],
  ] as const) {
    for (const action of ACTION_IDS) {
      const explained = await gate.explain({ userId: asker, channelId }, subject, action, target);
      if ('verdict' in explained) out.push(explained);
    }
  }
  return out;
}

const request = { id: 'ABC234' } as ApprovalRequest;
const refusals: ClickRefusal[] = [
  { kind: 'unknown_request', id: 'ABC234' },
  { kind: 'closed', id: 'ABC234', state: 'rejected' },
  { kind: 'closed', id: 'ABC234', state: 'executing' },
  { kind: 'expired', id: 'ABC234' },
  { kind: 'already_voted', id: 'ABC234', remaining: 1 },
  { kind: 'busy', id: 'ABC234' },
  { kind: 'self_approval', id: 'ABC234' },
];
const effects: ClickEffect[] = [
  { kind: 'running' },
  { kind: 'approved', remaining: 2 },
  { kind: 'rejected' },
  { kind: 'cancelled' },
];

function quickRun(items: QuickItem[]): QuickRun {
  return {
    id: 'q1',
    requester: 'U0ADMIN',
    channelId: 'C0INCIDENT',
    spec: 'payments',
    label: 'inc-2041',
    reason: 'disk alarms',
    expiration: '2026-12-05T09:30:00Z',
    startedAt: AT,
    finishedAt: null,
    items,
  } as unknown as QuickRun;
}

const quickItems: QuickItem[] = [
  { target, name: 'inc-2041-data-20261128T0930', state: { status: 'queued' } },
  { target, name: 'inc-2041-data-20261128T0930', state: { status: 'creating', taskId: 42 } },
  { target, name: 'inc-2041-data-20261128T0930', state: { status: 'done', taskId: 42, existed: true } },
  {
    target,
    name: 'n',
    state: {
      status: 'full',
      snapshots: [
        { name: 'oldest', createdAt: AT, expiration: null },
        { name: 'other', createdAt: null, expiration: '2026-12-01T00:00:00Z' },
      ],
    },
  },
] as unknown as QuickItem[];

describe('every converted view and message, in both languages, stays within Slack’s limits', () => {
  it.each(LANGUAGES)('forms (%s): titles and buttons whole, ≤ 24 characters', (lang) => {
    const tr = translator({ lang, tz: 'Europe/Paris' });
    const views = [
      mainModal('m', undefined, undefined, tr),
      mainModal('m', 'partition_x', 'zpool-with-a-very-long-service-name-indeed', tr),
      createModal('m', 'zpool-1/data', 'snap-data-20261128-090000', 3, true, tr),
      createModal('m', 'zpool-1/data', 'snap-data-20261128-090000', undefined, false, tr),
      scheduleModal('m', 'zpool-1/data', ['hour-1', 'day-7'], ['schedule.add', 'schedule.remove'], tr),
      scheduleModal('m', 'zpool-1/data', [], ['schedule.remove'], tr),
      deleteModal(
        'm',
        'zpool-1/data',
        Array.from({ length: 300 }, (_, i) => `snap-${i}-${long(200)}`),
        true,
        tr,
      ),
      deleteModal('m', 'zpool-1/data', [], false, tr),
      reasonModal('m', { action: 'snapshot.delete', target, name: long(500) }, tr),
      rejectModal('m', 'ABC234', tr),
      staleFormModal(tr),
      quickModal('m', { target: 'payments', label: 'inc', reason: long(400), expiration: '7d' }, tr),
    ];
    for (const view of views) expectModalWithinLimits(view, { whole: true });
    // A caller's own title that is too long is cut, not refused by Slack.
    expectModalWithinLimits(resultModal('m', long(200), [], tr));
  });

  it.each(LANGUAGES)('help, can-i, parse errors, click answers, working lines (%s)', async (lang) => {
    const tr = translator({ lang, tz: 'Europe/Paris' });
    const offers = ACTION_LIST.map(
      (action) => ({ action, mode: action.kind === 'change' ? 'approval' : 'run' }) as const,
    );
    expectMessageWithinLimits(helpMessage(offers, [`zpool-1/${long(300)}`, 'zpool-*'], tr));
    expectMessageWithinLimits(helpMessage([], [], tr));
    for (const explained of await explanations()) expectMessageWithinLimits(canIMessage(explained, 'C0OPS', tr));
    for (const text of [
      long(3_000),
      `create zpool-1/data a b ${long(1_900)}`,
      'schedule add zpool-1/data nope',
      'can-i fly zpool-1',
      `${long(40)} ${long(40)}`,
      'create zpool-1/data --expires',
      'quick payments a b c',
    ]) {
      const parsed = parseCommand(text, tr);
      expect(parsed.kind).toBe('error');
      if (parsed.kind === 'error') expectMessageWithinLimits(problemLikeMessage(parsed.message, tr));
    }
    for (const refusal of refusals) expectMessageWithinLimits(clickRefusalMessage(refusal, tr));
    for (const effect of effects) expectMessageWithinLimits(clickEffectMessage(request, effect, tr));
    expectMessageWithinLimits(cannotOpenRejectMessage(tr));
    expectMessageWithinLimits(workingMessage(parseCommand(`list zpool-1/${long(1_900)}`, tr), tr));
  });

  it.each(LANGUAGES)('the quick-snapshot summary (%s), many partitions and long words', (lang) => {
    const tr = translator({ lang });
    const many = Array.from({ length: 200 }, (_, i) => ({ ...quickItems[i % quickItems.length], target }));
    expectMessageWithinLimits(quickSummary(quickRun(many as QuickItem[]), tr));
    expectMessageWithinLimits(quickSummary(quickRun(quickItems), tr));
  });
});

describe('French words, as a French reader sees them', () => {
  it('help: the same commands, explained in French, placeholders in French', () => {
    const help = helpMessage(
      [
        { action: ACTION_LIST[0], mode: 'run' },
        { action: ACTION_LIST.find((a) => a.id === 'snapshot.delete'), mode: 'approval' },
      ] as never,
      [],
      FR,
    );
    const shown = JSON.stringify(help.blocks);
    expect(help.text).toBe('Aide de nasha-bot');
    expect(shown).toContain('Instantanés NAS-HA');
    expect(shown).toContain('Ce que vous pouvez faire ici. Les commandes commencent par `/nasha snapshot`\u00a0:');
    expect(shown).toContain('`list &lt;service&gt;[/&lt;partition&gt;]`');
    expect(shown).toContain('`delete &lt;service&gt;/&lt;partition&gt;/&lt;nom&gt; [--reason &lt;motif&gt;]`');
    expect(shown).toContain('_une seconde personne doit approuver\u00a0: ajoutez_ `--reason &lt;motif&gt;`');
    expect(shown).toContain('_p. ex._ `/nasha snapshot delete &lt;service&gt;/&lt;partition&gt;/before-upgrade');
    expect(shown).toContain('`/nasha can-i &lt;action&gt; &lt;service&gt;[/&lt;partition&gt;] [@utilisateur]`');
    expect(JSON.stringify(helpMessage([], [], FR).blocks)).toContain('Vous n’avez pas accès à nasha-bot ici.');
  });

  it('can-i: the verdict and what it rests on, in the second or third person', async () => {
    const self = await gate.explain({ userId: 'U0OPER', channelId: 'C0OPS' }, 'U0OPER', 'snapshot.create', target);
    const other = await gate.explain({ userId: 'U0ADMIN', channelId: 'C0OPS' }, 'U0OPER', 'snapshot.delete', target);
    if (!('verdict' in self) || !('verdict' in other)) throw new Error('asked as allowed');
    const mine = canIMessage(self, 'C0OPS', FR);
    expect(mine.text).toMatch(
      /^Oui\u00a0: vous pouvez lancer create sur «\u00a0zpool-128310\/data\u00a0» maintenant, avec le rôle operator de grants\[1\] via l’appartenance à @S0SRE\.$/,
    );
    const theirs = JSON.stringify(canIMessage(other, 'C0OPS', FR).blocks);
    expect(theirs).toContain('*Seulement sur demande* — <@U0OPER> peut demander *delete* sur `zpool-128310/data`');
    expect(theirs).toContain(
      'une fois approuvée par 2 approbateurs différents de <!subteam^S0STORAGE> autres que le demandeur.',
    );
    expect(theirs).toContain('ce que <@U0OPER> a ici\u00a0: *operator*');
  });

  it('parse errors explain the grammar in French; the command words stay', () => {
    const words = (text: string) => {
      const parsed = parseCommand(text, FR);
      return parsed.kind === 'error' ? FR.mrkdwn(parsed.message) : parsed.kind;
    };
    expect(words('lsit')).toBe(
      'Commande inconnue\u00a0: `lsit`. Vouliez-vous dire `list`\u202f? Essayez `/nasha help`.',
    );
    expect(words('schedule add zpool-1/data')).toBe(
      'Quelle fréquence\u202f? L’une de `day-1`, `day-2`, `day-3`, `day-7`, `hour-1` ou `hour-6`.',
    );
    expect(words('create zpool-1')).toBe(
      'Il manque la partition. Syntaxe\u00a0: `/nasha snapshot create &lt;service&gt;/&lt;partition&gt; [&lt;nom&gt;] [--expires &lt;7j|12h|date ISO&gt;] [--reason &lt;motif&gt;]` — par exemple `/nasha snapshot create zpool-128310/data before-upgrade --expires 7d`.',
    );
    expect(words(long(2_001))).toBe(
      'Cette commande est trop longue (2\u202f001\u00a0caractères).'.replace('\u00a0', ' '),
    );
    // French durations are the same grammar: the parser takes them as it takes `12 h`.
    expect(parseCommand('create zpool-1/data --expires 7j', FR)).toMatchObject({ kind: 'create', expires: '7j' });
    expect(parseCommand('create zpool-1/data --expires 12 h', FR)).toMatchObject({ kind: 'create', expires: '12h' });
  });

  it('forms: French titles, labels, hints and options; the values stay the grammar', () => {
    const main = mainModal('m', undefined, undefined, FR);
    expect(main.title.text).toBe('Instantanés NAS-HA');
    expect(main.submit?.text).toBe('Suivant');
    expect(main.close?.text).toBe('Annuler');
    expect(JSON.stringify(main.blocks)).toContain(
      '"text":"Modifier les fréquences automatiques","emoji":true},"value":"schedule"',
    );
    const schedule = JSON.stringify(scheduleModal('m', 'zpool-1/data', [], [], FR));
    expect(schedule).toContain('"text":"day-7 (toutes les semaines)","emoji":true},"value":"day-7"');
    const quick = JSON.stringify(
      quickModal('m', { target: undefined, label: 'inc', reason: undefined, expiration: '7d' }, FR),
    );
    expect(quick).toContain('"text":"Dans 7\u00a0j","emoji":true},"value":"7d"');
    expect(quick).toContain('"text":"Instantané immédiat"');
  });

  it('click answers and the working line', () => {
    expect(clickEffectMessage(request, { kind: 'approved', remaining: 1 }, FR).text).toBe(
      'Vous avez approuvé #ABC234\u202f; il faut encore 1 approbation.',
    );
    expect(clickRefusalMessage({ kind: 'closed', id: 'ABC234', state: 'rejected' }, FR).text).toBe(
      'La demande #ABC234 est déjà refusée.',
    );
    expect(workingMessage(parseCommand('list zpool-1/data', FR), FR).text).toBe(
      'En cours\u00a0: les instantanés de `zpool-1/data`…',
    );
    expect(workingMessage(parseCommand('list zpool-1/data', EN), EN).text).toBe(
      'Working on the snapshots of `zpool-1/data`…',
    );
  });

  it('the quick summary in a French channel: its words, and dates as Slack tokens', () => {
    const summary = quickSummary(quickRun(quickItems), translator({ lang: 'fr' }));
    expect(summary.text).toBe('Instantanés d’incident `inc-2041`\u00a0: 1/4 pris · 2 en cours · 1 pleine');
    const shown = JSON.stringify(summary.blocks);
    expect(shown).toContain('Instantanés d’incident en cours — inc-2041');
    expect(shown).toContain('Demandés par <@U0ADMIN> pour `payments` · expirent <!date^');
    expect(shown).toContain('est pleine (10/10), du plus ancien au plus récent\u00a0:*');
    expect(shown).toContain('"text":"Supprimer le plus ancien (oldest)"');
  });
});
