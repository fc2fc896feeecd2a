import { describe, expect, it } from 'vitest';
import { InFlightWork } from '../../src/shared/in-flight.js';

describe('InFlightWork', () => {
  it('is drained once tracked work settles, including work tracked while waiting, and rejections count', async () => {
    const work = new InFlightWork();
    let finishFirst = () => {};
    const first = work.track(new Promise<void>((resolve) => (finishFirst = resolve)));
    const failed = work.track(Promise.reject(new Error('write failed')));
    await expect(failed).rejects.toThrow('write failed');
    let finishSecond = () => {};
    const drained = work.drained(5_000);
    void first.then(() => work.track(new Promise<void>((resolve) => (finishSecond = resolve))));
    finishFirst();
    await first;
    let settled = false;
    void drained.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    finishSecond();
    expect(await drained).toBe(true);
  });

  it('gives up after the timeout when work never settles', async () => {
    const work = new InFlightWork();
    work.track(new Promise(() => {}));
    expect(await work.drained(10)).toBe(false);
    expect(await new InFlightWork().drained(0)).toBe(true);
  });
});
