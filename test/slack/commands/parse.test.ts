import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/core/actions.js';
import { type ParsedCommand, parseCommand, usageOf } from '../../../src/slack/commands/parse.js';
import * as textModule from '../../../src/slack/text.js';
import { plain, type Text } from '../../../src/slack/text.js';

/** What the reader sees, with code spans shown as backticks again. */
const shown = (message: Text) => plain(message).replace(/[“”]/g, '`');

describe('parseCommand: approvals', () => {
  it('takes no arguments', () => {
    const parsed = parseCommand('approvals zpool-1');
    expect(parsed.kind).toBe('error');
    if (parsed.kind === 'error') expect(shown(parsed.message)).toContain('`approvals`');
  });
});

describe('parseCommand', () => {
  it.each([
    ['', { kind: 'modal' }],
    ['snapshot', { kind: 'modal' }],
    ['help', { kind: 'help' }],
    ['snapshot help', { kind: 'help' }],
    ['snapshot services', { kind: 'services' }],
    ['services', { kind: 'services' }],
    ['approvals', { kind: 'approvals' }],
    ['snapshot APPROVALS', { kind: 'approvals' }],
    ['snapshot partitions zpool-1', { kind: 'partitions', service: 'zpool-1' }],
    ['snapshot list zpool-1', { kind: 'list', target: { service: 'zpool-1' } }],
    ['snapshot list zpool-1/data', { kind: 'list', target: { service: 'zpool-1', partition: 'data' } }],
    ['snapshot list zpool-1 data', { kind: 'list', target: { service: 'zpool-1', partition: 'data' } }],
    ['  snapshot   LIST   zpool-1/data  ', { kind: 'list', target: { service: 'zpool-1', partition: 'data' } }],
    [
      'snapshot schedule add zpool-1/data day-7',
      { kind: 'schedule', op: 'add', target: { service: 'zpool-1', partition: 'data' }, type: 'day-7' },
    ],
    [
      'snapshot schedule remove zpool-1 data HOUR-6',
      { kind: 'schedule', op: 'remove', target: { service: 'zpool-1', partition: 'data' }, type: 'hour-6' },
    ],
    [
      'snapshot schedule show zpool-1/data day-1',
      { kind: 'schedule', op: 'show', target: { service: 'zpool-1', partition: 'data' }, type: 'day-1' },
    ],
    [
      'snapshot create zpool-1/data',
      { kind: 'create', target: { service: 'zpool-1', partition: 'data' }, name: undefined, expires: undefined },
    ],
    [
      'snapshot create zpool-1/data pre-up --expires 7d',
      { kind: 'create', target: { service: 'zpool-1', partition: 'data' }, name: 'pre-up', expires: '7d' },
    ],
    [
      'snapshot create zpool-1/data --expires 12 H pre-up',
      { kind: 'create', target: { service: 'zpool-1', partition: 'data' }, name: 'pre-up', expires: '12H' },
    ],
    [
      'snapshot create zpool-1 data --expires=2026-12-01 pre-up',
      { kind: 'create', target: { service: 'zpool-1', partition: 'data' }, name: 'pre-up', expires: '2026-12-01' },
    ],
    [
      'snapshot show zpool-1/data/snap-a',
      { kind: 'show', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
    ],
    [
      'snapshot delete zpool-1/data snap-a',
      { kind: 'delete', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
    ],
    [
      'snapshot delete zpool-1 data snap-a',
      { kind: 'delete', target: { service: 'zpool-1', partition: 'data' }, name: 'snap-a' },
    ],
    [
      'can-i delete zpool-1/data',
      {
        kind: 'can-i',
        action: 'snapshot.delete',
        target: { service: 'zpool-1', partition: 'data' },
        userId: undefined,
      },
    ],
    [
      'can-i create zpool-1/data <@U0123ABC|bob>',
      {
        kind: 'can-i',
        action: 'snapshot.create',
        target: { service: 'zpool-1', partition: 'data' },
        userId: 'U0123ABC',
      },
    ],
    ['can-i list zpool-1', { kind: 'can-i', action: 'read', target: { service: 'zpool-1' }, userId: undefined }],
    // The command as it would be sent, pasted after can-i: its snapshot name or frequency is not needed.
    ...[
      'can-i delete zpool-1/data/snap-a',
      'can-i delete zpool-1/data snap-a',
      'can-i snapshot delete zpool-1/data/snap-a',
      'can-i snapshot delete zpool-1 data snap-a',
    ].map((text): [string, ParsedCommand] => [
      text,
      {
        kind: 'can-i',
        action: 'snapshot.delete',
        target: { service: 'zpool-1', partition: 'data' },
        userId: undefined,
      },
    ]),
    [
      'can-i schedule add zpool-1/data day-1 <@U0123ABC>',
      {
        kind: 'can-i',
        action: 'schedule.add',
        target: { service: 'zpool-1', partition: 'data' },
        userId: 'U0123ABC',
      },
    ],
    [
      'can-i schedule-remove zpool-1/data hour-6',
      {
        kind: 'can-i',
        action: 'schedule.remove',
        target: { service: 'zpool-1', partition: 'data' },
        userId: undefined,
      },
    ],
    [
      'can-i snapshot show zpool-1/data/snap-a',
      { kind: 'can-i', action: 'read', target: { service: 'zpool-1', partition: 'data' }, userId: undefined },
    ],
    [
      'can-i schedule show zpool-1/data day-7',
      { kind: 'can-i', action: 'read', target: { service: 'zpool-1', partition: 'data' }, userId: undefined },
    ],
    ['can-i partitions zpool-1', { kind: 'can-i', action: 'read', target: { service: 'zpool-1' }, userId: undefined }],
    [
      'can-i create zpool-1/data before-upgrade',
      {
        kind: 'can-i',
        action: 'snapshot.create',
        target: { service: 'zpool-1', partition: 'data' },
        userId: undefined,
      },
    ],
  ])('%s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['snapshot lst zpool-1', /Unknown command `lst`\. Did you mean `list`/],
    ['snapshot schedule add zpool-1/data day7', /`day7` is not a snapshot frequency\. Did you mean `day-7`/],
    ['snapshot schedule add zpool-1/data', /Which frequency\?/],
    ['snapshot schedule zpool-1/data day-1', /Usage: `\/nasha snapshot schedule add\|remove\|show/],
    ['snapshot schedule add zpool-1 day-1', /The partition is missing/],
    ['snapshot partitions', /Usage: `\/nasha snapshot partitions <service>`/],
    [
      'snapshot delete zpool-1/data',
      /Usage: `\/nasha snapshot delete <service>\/<partition>\/<name> \[--reason <why>\]`/,
    ],
    ['snapshot create zpool-1/data --expires', /`--expires` needs a value/],
    ['snapshot create zpool-1/data --force', /Unknown option `--force`/],
    ['snapshot list zpool-1//data', /is not a valid `service\/partition`/],
    ['snapshot list a/b/c/d', /too many `\/`/],
    ['snapshot list zpool-1/data extra words', /Unexpected `extra words`/],
    ['can-i destroy zpool-1/data', /`destroy` is not an action/],
    ['can-i delete zpool-1/data @bob', /Mention the user/],
    ['can-i schedule add zpool-1/data day-1 extra', /Unexpected `extra`/],
    ['can-i schedule-add zpool-1/data daily', /Unexpected `daily`/],
    ['can-i delete zpool-1/data/snap-a extra', /Unexpected `extra`/],
    ['can-i snapshot', /Usage: `\/nasha can-i <action>/],
    // A word too long to show whole is shown cut, and says so.
    [`snapshot ${'q'.repeat(60)}`, /Unknown command `q{39}…`/],
    ['can-i snapshot destroy zpool-1/data', /`destroy` is not an action/],
  ])('%s → a clear error', (text, message) => {
    const parsed = parseCommand(text);
    expect(parsed.kind).toBe('error');
    expect(parsed.kind === 'error' && shown(parsed.message)).toMatch(message);
  });

  it('refuses huge input without parsing it', () => {
    const parsed = parseCommand(`list ${'x'.repeat(5_000)}`);
    expect(parsed.kind === 'error' && shown(parsed.message)).toMatch(/too long/);
  });

  it('takes --reason where the action table says the command takes it, and names those commands otherwise', () => {
    expect(parseCommand('create zpool-1/data snap --reason before upgrade')).toMatchObject({
      kind: 'create',
      reason: 'before upgrade',
    });
    expect(parseCommand('schedule add zpool-1/data day-7 --reason "more restore points"')).toMatchObject({
      kind: 'schedule',
      op: 'add',
      reason: 'more restore points',
    });
    expect(parseCommand('quick zpool-1 inc-1 --reason db down')).toMatchObject({ kind: 'quick', reason: 'db down' });
    for (const text of ['list zpool-1 --reason x', 'schedule show zpool-1/data day-1 --reason x', '--reason x']) {
      const parsed = parseCommand(text);
      expect(parsed.kind === 'error' && shown(parsed.message)).toMatch(
        /`--reason` goes with `create`, `schedule add`, `delete`, `schedule remove` and `quick`/,
      );
    }
  });

  it('takes --break-glass on the approvable changes, before or after --reason, and names them otherwise', () => {
    expect(parseCommand('delete zpool-1/data/snap --reason "the disk is full, payments down" --break-glass')).toEqual({
      kind: 'delete',
      target: { service: 'zpool-1', partition: 'data' },
      name: 'snap',
      reason: 'the disk is full, payments down',
      breakGlass: true,
    });
    expect(parseCommand('schedule remove zpool-1/data hour-1 --break-glass --reason too many')).toMatchObject({
      kind: 'schedule',
      op: 'remove',
      reason: 'too many',
      breakGlass: true,
    });
    expect(parseCommand('delete zpool-1/data/snap --reason not--break-glass')).not.toHaveProperty('breakGlass');
    for (const text of ['list zpool-1 --break-glass', 'quick zpool-1 inc-1 --break-glass', 'help --break-glass']) {
      const parsed = parseCommand(text);
      expect(parsed.kind === 'error' && shown(parsed.message)).toMatch(
        /`--break-glass` goes with `create`, `schedule add`, `delete` and `schedule remove`/,
      );
    }
  });

  it('shows [--break-glass] in usage only when asked (help, for members)', () => {
    const spec = ACTIONS['snapshot.delete'].commands[0];
    if (spec === undefined) throw new Error('delete has a command');
    expect(usageOf(spec)).toBe('delete <service>/<partition>/<name> [--reason <why>]');
    expect(usageOf(spec, undefined, { breakGlass: true })).toBe(
      'delete <service>/<partition>/<name> [--reason <why>] [--break-glass]',
    );
  });

  it('can-i knows every action of the table, quick included', () => {
    expect(parseCommand('can-i quick zpool-1')).toMatchObject({ kind: 'can-i', action: 'snapshot.quick' });
    expect(parseCommand('can-i approve zpool-1/data')).toMatchObject({ kind: 'can-i', action: 'approval.decide' });
  });

  it('echoes what the user typed inertly (no live mention or channel ping in the error)', () => {
    const parsed = parseCommand('<!channel> now');
    expect(parsed.kind).toBe('error');
    if (parsed.kind !== 'error') return;
    const { mrkdwn } = textModule;
    expect(mrkdwn(parsed.message)).not.toMatch(/<!channel>/);
    expect(mrkdwn(parsed.message)).toContain('&lt;!channel&gt;');
  });
});
