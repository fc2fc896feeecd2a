import type { ManualClock } from '../../src/shared/clock.js';

/** One turn of the event loop: promise chains woken by the clock run to their next wait. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves `clock` forward `steps` times by `ms`, letting woken work run after each step. */
export async function tick(clock: ManualClock, ms: number, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    clock.advance(ms);
    await settle();
  }
}
