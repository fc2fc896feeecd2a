import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../../src/config/bot-config.js';
import { ActionGate } from '../../../src/core/gate.js';
import type { GroupDirectory } from '../../../src/core/groups.js';
import { Policy } from '../../../src/core/policy.js';
import {
  answerCommandFirst,
  type CommandStartDeps,
  startCommand,
  startedAtEdge,
} from '../../../src/slack/commands/command-start.js';

const groups: GroupDirectory = { membersOf: async () => new Set<string>(), resolutionProblem: () => undefined };
const policy = new Policy({ grants: [], channels: [], unlistedChannels: 'admin' }, groups);

function startDeps(lang: 'en' | 'fr' = 'en'): CommandStartDeps & { warnings: unknown[]; people: string[] } {
  const warnings: unknown[] = [];
  const people: string[] = [];
  return {
    warnings,
    people,
    logger: { warn: (...args: unknown[]) => warnings.push(args) } as CommandStartDeps['logger'],
    readers: {
      defaultLang: 'en',
      person: async (userId) => {
        people.push(userId);
        return { lang };
      },
    },
    gate: new ActionGate({ policy, groups, rules: DEFAULT_APPROVAL_RULES, responderGroups: [] }),
  };
}

const body = (text: string) => ({
  command: '/nasha',
  text,
  user_id: 'U0ALICE',
  channel_id: 'C0OPS',
  trigger_id: '1.2.abc',
  response_url: 'https://hooks.slack.com/commands/T1/1/abc',
});

const shown = (ack: unknown) => JSON.stringify(ack);

describe('startCommand: what a /nasha command is acked with and does next, decided once', () => {
  it('a command to run: acked "working on" it, in the sender’s language, with their words', async () => {
    const en = await startCommand(startDeps(), body('snapshot show zpool-1/data/before-upgrade'));
    expect(en).toMatchObject({ next: 'run', parsed: { kind: 'show', name: 'before-upgrade' } });
    expect(en.ack).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Working on .*before-upgrade/),
    });
    const fr = await startCommand(startDeps('fr'), body('snapshot show zpool-1/data/before-upgrade'));
    expect(fr.next).toBe('run');
    expect(shown(fr.ack)).not.toContain('Working on');
    expect(shown(fr.ack)).toContain('before-upgrade');
  });

  it('words it does not understand: the ack is the answer, and nothing runs', async () => {
    const start = await startCommand(startDeps(), body('snapshot frobnicate zpool-1'));
    expect(start.next).toBe('answered');
    expect(start.ack).toMatchObject({ response_type: 'ephemeral', blocks: [expect.anything()] });
    expect(shown(start.ack)).toContain(':warning:');
  });

  it('/nasha alone: an empty ack, then the form', async () => {
    expect(await startCommand(startDeps(), body(''))).toMatchObject({ next: 'form', ack: undefined });
  });

  it('a change a second person approves, typed without a reason: an empty ack, then the reason form', async () => {
    const start = await startCommand(startDeps(), body('snapshot delete zpool-1/data/old'));
    expect(start).toMatchObject({ next: 'reason', ack: undefined, draft: { action: 'snapshot.delete', name: 'old' } });
    // With a reason it runs (and asks for approval there); a change needing none runs at once.
    const reasoned = await startCommand(startDeps(), body('snapshot delete zpool-1/data/old --reason "disk full"'));
    expect(reasoned.next).toBe('run');
    expect((await startCommand(startDeps(), body('snapshot create zpool-1/data'))).next).toBe('run');
  });

  it('a payload it cannot read: answered so in the default language, without asking who sent it', async () => {
    const deps = startDeps('fr');
    const start = await startCommand(deps, { command: '/nasha', text: 'snapshot services', user_id: 'U0ALICE' });
    expect(start).toMatchObject({ next: 'nothing', ack: { response_type: 'ephemeral', text: expect.any(String) } });
    expect(deps.people).toEqual([]);
    expect(deps.warnings).toHaveLength(1);
  });
});

describe('answerCommandFirst: the edge’s answer and the listener’s start are one decision', () => {
  it('answers /nasha with the start’s ack and hands the same start to the listener', async () => {
    const deps = startDeps();
    const answered = await answerCommandFirst(deps)(body('snapshot services'));
    expect(answered).toBeDefined();
    const start = startedAtEdge(answered?.context ?? {});
    expect(start?.next).toBe('run');
    expect(answered?.ack).toBe(start?.ack);
    expect(deps.people).toEqual(['U0ALICE']);
  });

  it('leaves other commands to their listener, and a context without the edge’s start is none', async () => {
    expect(await answerCommandFirst(startDeps())({ ...body('x'), command: '/other' })).toBeUndefined();
    expect(await answerCommandFirst(startDeps())('not an object')).toBeUndefined();
    expect(startedAtEdge({ nashaCommandStart: { next: 'run', ack: undefined } })).toBeUndefined();
    expect(startedAtEdge({})).toBeUndefined();
  });
});
