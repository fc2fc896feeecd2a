import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/slack/commands/parse.js';
import { plain } from '../../../src/slack/text.js';

const error = (text: string) => {
  const parsed = parseCommand(text);
  return parsed.kind === 'error' ? plain(parsed.message) : `parsed as ${parsed.kind}`;
};

describe('status and restore, from the action table', () => {
  it('status takes nothing, a service, a partition (one word or two) or a policy name', () => {
    expect(parseCommand('snapshot status')).toEqual({ kind: 'status', query: undefined });
    expect(parseCommand('status production')).toEqual({ kind: 'status', query: 'production' });
    expect(parseCommand('status zpool-1/data')).toEqual({ kind: 'status', query: 'zpool-1/data' });
    expect(parseCommand('status zpool-1 data')).toEqual({ kind: 'status', query: 'zpool-1/data' });
    expect(error('status a b c')).toContain('Usage: “/nasha snapshot status [<service>[/<partition>]|<policy>]”');
  });

  it('restore takes a partition and --at, in its several spellings', () => {
    const target = { service: 'zpool-1', partition: 'data' };
    expect(parseCommand('restore zpool-1/data --at 2026-11-27T14:00Z')).toEqual({
      kind: 'restore',
      target,
      at: '2026-11-27T14:00Z',
    });
    expect(parseCommand('restore zpool-1 data --at 2026-11-27 14:00Z')).toEqual({
      kind: 'restore',
      target,
      at: '2026-11-27T14:00Z',
    });
    expect(parseCommand('restore zpool-1/data --at 3h ago')).toEqual({ kind: 'restore', target, at: '3h' });
    expect(parseCommand('restore zpool-1/data --at=2d')).toEqual({ kind: 'restore', target, at: '2d' });
    expect(parseCommand('restore zpool-1/data')).toEqual({ kind: 'restore', target, at: undefined });
    expect(error('restore zpool-1/data --at')).toContain('“--at” needs a moment');
    expect(error('restore zpool-1/data --at 3h --force')).toContain('Unknown option “--force”');
    expect(error('restore zpool-1')).toContain('The partition is missing.');
    expect(error('restore zpool-1/data --reason x')).toContain('“--reason” goes with');
  });
});
