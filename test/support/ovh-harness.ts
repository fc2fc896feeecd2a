import type { OvhApplicationKeyConnection, OvhClientTuning } from '../../src/ovh/config.js';
import { createNashaApi, type NashaApi } from '../../src/ovh/index.js';
import {
  type Simulator,
  type SimulatorOptions,
  simulatorConnection,
  startSimulator,
} from '../../src/ovh/simulator/index.js';
import type { TaskTrackerOptions } from '../../src/ovh/task-tracker.js';
import { ManualClock } from '../../src/shared/clock.js';

export interface OvhHarness {
  sim: Simulator;
  api: NashaApi;
  clock: ManualClock;
  config: SimulatorOvhConfig;
  /** OVH routes the simulator saw (method + path, no query), /auth/time included. */
  requestLines(): string[];
  close(): Promise<void>;
}

export const FAST_TUNING: OvhClientTuning = { timeoutMs: 5_000, requestsPerMinute: 6_000, burst: 1_000, maxRetries: 3 };

/** An OVH config with the simulator's application key. */
export interface SimulatorOvhConfig {
  connection: OvhApplicationKeyConnection;
  tuning: OvhClientTuning;
}

/** OVH config pointing at a running simulator, trusting its CA for that endpoint only. */
export function simulatorConfig(sim: Simulator, tuning: Partial<OvhClientTuning> = {}): SimulatorOvhConfig {
  return {
    connection: simulatorConnection(sim),
    tuning: { ...FAST_TUNING, ...tuning },
  };
}

/**
 * The real client (node-ovh over HTTPS, real signatures) against a simulator. One ManualClock
 * drives both the simulator's tasks and the client's budget, back-off and polling, with
 * auto-advance, so polling runs in virtual time and tests never sleep.
 */
export async function startOvhHarness(
  options: {
    sim?: SimulatorOptions;
    tuning?: Partial<OvhClientTuning>;
    tracker?: Omit<TaskTrackerOptions, 'client' | 'clock' | 'logger'>;
    /** false: time moves only when the test calls clock.advance(). */
    autoAdvance?: boolean;
  } = {},
): Promise<OvhHarness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9, 0, 0), { autoAdvance: options.autoAdvance ?? true });
  const sim = await startSimulator({ clock, ...options.sim });
  const config = simulatorConfig(sim, options.tuning);
  const api = createNashaApi({ config, clock, ...(options.tracker && { tracker: options.tracker }) });
  return {
    sim,
    api,
    clock,
    config,
    requestLines: () => sim.requests.map((r) => `${r.method} ${r.path}`),
    close: async () => {
      api.transport.close();
      await sim.close();
    },
  };
}
