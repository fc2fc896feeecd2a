import { describe, expect, it } from 'vitest';
import { OvhApiError } from '../../src/ovh/errors.js';
import { buildPath, MAX_SEGMENT_LENGTH, segmentProblem } from '../../src/ovh/path.js';

const ROUTE = '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot/{name}';

describe('path segments', () => {
  it('builds a path from valid segments, keeping ":" literal as OVH clients do', () => {
    expect(
      buildPath(ROUTE, { serviceName: 'zpool-1', partitionName: 'data', name: 'snap-data-2024-01-01T00:00:00.000Z' }),
    ).toBe('/dedicated/nasha/zpool-1/partition/data/customSnapshot/snap-data-2024-01-01T00:00:00.000Z');
  });

  it('percent-encodes characters that are legal in a name but special in a URL', () => {
    expect(buildPath('/x/{name}', { name: 'a?b#c%d&e+f' })).toBe('/x/a%3Fb%23c%25d%26e%2Bf');
  });

  it.each([
    ['empty', ''],
    ['slash', 'a/b'],
    ['backslash', 'a\\b'],
    ['dot-dot', '..'],
    ['dot-dot inside', 'a..b'],
    ['single dot', '.'],
    ['space', 'a b'],
    ['tab', 'a\tb'],
    ['newline', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['zero-width space', 'a\u200bb'],
    ['bidi override', 'a\u202eb'],
    ['line separator', 'a\u2028b'],
    ['no-break space', 'a\u00a0b'],
    ['lone surrogate', 'a\ud800b'],
    ['over-long', 'x'.repeat(MAX_SEGMENT_LENGTH + 1)],
  ])('rejects %s before any request', (_label, value) => {
    expect(segmentProblem(value)).toBeDefined();
    expect(() => buildPath(ROUTE, { serviceName: 'zpool-1', partitionName: 'data', name: value })).toThrow(OvhApiError);
  });

  it.each([null, undefined, 42, {}, ['a']])('rejects a non-string (%s) with a clear message', (value) => {
    try {
      buildPath('/dedicated/nasha/{serviceName}', { serviceName: value });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OvhApiError);
      const apiError = error as OvhApiError;
      expect(apiError.kind).toBe('input');
      expect(apiError.ovhMessage).toMatch(/^serviceName expected a string/);
      expect(apiError.operation).toBe('/dedicated/nasha/{serviceName}');
    }
  });

  it('accepts the longest allowed segment', () => {
    expect(segmentProblem('x'.repeat(MAX_SEGMENT_LENGTH))).toBeUndefined();
  });
});
