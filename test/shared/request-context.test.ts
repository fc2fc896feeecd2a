import { describe, expect, it } from 'vitest';
import { countOvhRequests, noteOvhRequestSent, withRequestClass } from '../../src/shared/request-context.js';

describe('countOvhRequests', () => {
  it('counts the requests sent in its scope, across awaits and nested scopes, and none outside it', async () => {
    noteOvhRequestSent(); // outside any tally: counted nowhere
    const outer = await countOvhRequests(async () => {
      noteOvhRequestSent();
      const inner = await countOvhRequests(async () => {
        await Promise.all([1, 2].map(async () => withRequestClass('background', undefined, noteOvhRequestSent)));
        return 'inner';
      });
      await new Promise((resolve) => setTimeout(resolve, 1));
      noteOvhRequestSent();
      return inner;
    });
    expect(outer.value).toEqual({ value: 'inner', sent: 2 });
    expect(outer.sent).toBe(4);
  });
});
