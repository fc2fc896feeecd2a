import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD, MODAL } from '../../../src/slack/blocks/modals.js';
import { PAGE_ACTION } from '../../../src/slack/blocks/replies.js';
import { Arena, DB_EVERYWHERE_USER, type Exchange, ONE_PARTITION_USER } from '../../support/attack-arena.js';
import { CHANNELS, messageText, USERS } from '../../support/bot-harness.js';
import { blockSuggestion, select, staticSelect, viewSubmission } from '../../support/slack-payloads.js';

/**
 * Attack class: information leaks through suggestions, refusals, can-i, option loads, listings, forms and help,
 * for users who may see little — no grant at all, one partition, one partition name on every service, one
 * service. The arena's check at the end reads everything said to each of them (replies, forms, options, DMs,
 * messages about their requests) for a service or partition name outside their grants they did not type.
 */
let arena: Arena;
beforeAll(async () => {
  arena = await Arena.start();
});
afterAll(async () => {
  await arena?.close();
});

/** The answer to a command, once its result is in: the last reply, or the ack when it was the answer. */
async function said(e: Exchange): Promise<string> {
  await arena.answersComplete();
  const last = arena.replies(e).at(-1);
  return last === undefined ? messageText(JSON.parse(e.response) as Record<string, unknown>) : messageText(last);
}

const SERVICE_NAME = /zpool-\d{6}/g;

describe('issue 13.2 from outside: the four disclosures of the report', () => {
  it('no grant, `quick zpool x`: no "did you mean" naming the account’s services', async () => {
    const e = await arena.command('issue 13.2: quick zpool x (no grant)', 'snapshot quick zpool x', {
      user: USERS.nobody,
    });
    const words = await said(e);
    expect(words).toMatch(/neither a NAS-HA service you can see nor a group/);
    expect(words.match(SERVICE_NAME)).toBeNull();
  });

  it('no grant, `quick zpool-204117 x`: "not found, or not yours", no partition named', async () => {
    const e = await arena.command('issue 13.2: quick on a service (no grant)', 'snapshot quick zpool-204117 x', {
      user: USERS.nobody,
    });
    const words = await said(e);
    expect(words).toMatch(/`zpool-204117` was not found, or is not yours/);
    expect(words).not.toMatch(/zpool-204117\/|no grant on/);
  });

  it('a viewer of `zpool-*/db`, `list` on a service without `db`: no suggestion of its other partitions', async () => {
    const e = await arena.command(
      'issue 13.2: list zpool-128310/db (zpool-*/db viewer)',
      'snapshot list zpool-128310/db',
      {
        user: DB_EVERYWHERE_USER,
      },
    );
    const words = await said(e);
    expect(words).toMatch(/has no partition `db`, or it is not yours/);
    expect(words).not.toMatch(/Did you mean|data|backups|logs/);
  });

  it('no grant, `can-i`: the verdict, not the grants of the configuration', async () => {
    for (const target of ['zpool-128310', 'zpool-204117/db']) {
      const e = await arena.command(`issue 13.2: can-i read ${target} (no grant)`, `can-i read ${target}`, {
        user: USERS.nobody,
      });
      const words = await said(e);
      expect(words).toMatch(/^No/);
      expect(words).not.toMatch(/grants\[\d+\]|zpool-\*|on `\*`/);
    }
  });
});

/** Commands that could name something: every suggestion, refusal and listing path. `{L}` is a fresh label. */
const PROBES: readonly string[] = [
  'help',
  'snapshot services',
  'snapshot partitions zpool-128310',
  'snapshot partitions zpool-204117',
  'snapshot partitions zpool-2041',
  'snapshot list zpool-128310',
  'snapshot list zpool-204117',
  'snapshot list zpool-20411',
  'snapshot list zpool-204117/uploa',
  'snapshot list zpool-204117/d',
  'snapshot list zpool-128310/dat',
  'snapshot list zpool-417755/vol-00',
  'snapshot show zpool-204117/db/snap-db-kee',
  'snapshot show zpool-128310/data/snap-data-pre-upgrad',
  'snapshot schedule show zpool-204117/uploads day-1',
  'snapshot schedule show zpool-204117/db day7',
  'snapshot create zpool-128310/logs leak',
  'snapshot create zpool-204117/uploa leak',
  'snapshot delete zpool-204117/uploads/snap-uploads-2025-11-2 --reason leak test',
  'snapshot delete zpool-128310/backups/snap-backups-week-01 --reason leak test',
  'snapshot schedule add zpool-128310/logs day-1',
  'snapshot schedule remove zpool-204117/uploads day-1 --reason leak test',
  'snapshot quick zpool x',
  'snapshot quick zpool-12831 {L}',
  'snapshot quick zpool-128310 {L}',
  'snapshot quick zpool-204117/uploads {L}',
  'snapshot quick paymnts {L}',
  'snapshot quick zpool-128310/data {L}',
  'can-i read zpool-128310',
  'can-i read zpool-128310/data',
  'can-i create zpool-204117/uploads',
  'can-i quick payments',
  'can-i quick zpool-204117',
  'can-i approve zpool-204117/db',
  'can-i delete zpool-417755',
  `can-i read zpool-204117/db <@${USERS.admin}>`,
];

/** Who asks, and the writes their grants do allow among the probes (an operator's quick run on what they may). */
const ASKERS: ReadonlyArray<[string, string, Readonly<Record<string, readonly string[]>>]> = [
  ['no grant', USERS.nobody, {}],
  ['a viewer of zpool-*/db', DB_EVERYWHERE_USER, {}],
  ['an operator on one partition', ONE_PARTITION_USER, {}],
  [
    'an operator on one service',
    USERS.scoped,
    { 'snapshot quick zpool-204117/uploads {L}': ['zpool-204117/partition/uploads/customSnapshot'] },
  ],
];

describe.each(ASKERS)('%s: every reply names only what they may see', (who, user, writes) => {
  it('commands: suggestions, refusals, listings, can-i and help', async () => {
    const sent = await arena.inParallel(
      PROBES.map((probe, i) => () => {
        const text = probe.replace('{L}', `leak-${i}`);
        const attack = `${who}: ${text}`;
        for (const path of writes[probe] ?? []) arena.allow(attack, 'POST', path);
        return arena.command(attack, text, { user, channel: CHANNELS.ops });
      }),
      4,
    );
    for (const e of sent) expect(e.status, e.attack).toBe(200);
  });

  it('the form: service and partition options, and choices outside the grants', async () => {
    const opened = await arena.command(`${who}: open the form`, 'snapshot', { user });
    const form = await arena.openedView(opened);
    const view = { callback_id: MODAL.main, private_metadata: form.private_metadata };
    const services = await arena.interact(`${who}: service options`, blockSuggestion(user, FIELD.service, '', view), {
      owed: 'options',
    });
    const shown = (JSON.parse(services.response) as { options: Array<{ value: string }> }).options.map((o) => o.value);
    expect(shown.length === 0).toBe(user === USERS.nobody);
    for (const service of ['zpool-128310', 'zpool-204117', 'zpool-417755']) {
      for (const query of ['', 'd', 'vol']) {
        await arena.interact(
          `${who}: partition options of ${service} "${query}"`,
          blockSuggestion(user, FIELD.partition, query, { ...view, state: { service: { service: select(service) } } }),
          { owed: 'options' },
        );
      }
    }
    for (const [service, partition, action] of [
      ['zpool-128310', 'data', 'list'],
      ['zpool-204117', 'uploads', 'create'],
      ['zpool-204117', 'uploads', 'delete'],
      ['zpool-417755', 'vol-001', 'schedule'],
    ] as const) {
      await arena.interact(
        `${who}: the form on ${service}/${partition} (${action})`,
        viewSubmission(user, {
          id: `V-${randomUUID()}`,
          ...view,
          state: {
            service: { service: select(service) },
            partition: { partition: select(partition) },
            action: { action: staticSelect(action) },
          },
        }),
        { owed: 'form' },
      );
    }
  });

  it('page buttons of listings outside the grants', async () => {
    for (const value of [
      { view: 'partitions', service: 'zpool-128310', page: 1 },
      { view: 'partitions', service: 'zpool-204117', page: 1 },
      { view: 'partitions', service: 'zpool-417755', page: 2 },
      { view: 'list', service: 'zpool-417755', page: 1 },
    ]) {
      await arena.interact(
        `${who}: page ${value.view} ${value.service} ${value.page}`,
        arena.buttonPayload(user, `${PAGE_ACTION}_next`, JSON.stringify(value), CHANNELS.ops),
        { owed: 'reply' },
      );
    }
  });
});

describe('after every attack of this file', () => {
  it('nothing said to anyone names a service or partition outside their grants; nothing unauthorized written', async () => {
    expect(await arena.violations()).toEqual([]);
    // Not vacuous: the restricted users were told about what they may see.
    const toScoped = arena.exchanges.filter((e) => e.actor === USERS.scoped).flatMap((e) => arena.saidTo(e));
    expect(JSON.stringify(toScoped)).toContain('uploads');
  });
});
