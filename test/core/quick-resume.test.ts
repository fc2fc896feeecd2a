import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_RULES } from '../../src/config/bot-config.js';
import { ActionGate } from '../../src/core/gate.js';
import { Policy } from '../../src/core/policy.js';
import { type QuickRun, QuickSnapshotService, type SavedQuickRun } from '../../src/core/quick-snapshots.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { QuickStore } from '../../src/store/quick-store.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';
import { RecordingAudit } from '../support/recording-audit.js';
import { VIEWER_QUICK_REFUSAL } from '../support/refusals.js';

/**
 * QuickSnapshotService.resume over the real client, simulator and store: what a run left by a
 * previous process becomes, partition by partition. (The whole restart, two bot processes, is in
 * test/e2e/quick.test.ts.)
 */
const SVC = 'zpool-310442';
let ovh: OvhHarness | undefined;
let database: Database | undefined;
let dir: string | undefined;

afterEach(async () => {
  await ovh?.close();
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const noGroups = { membersOf: async () => new Set<string>() };

describe('QuickSnapshotService.resume', () => {
  it('follows saved tasks, looks for creations cut short on OVH, reports unstarted ones, then closes the run', async () => {
    ovh = await startOvhHarness();
    dir = await mkdtemp(join(tmpdir(), 'nasha-quick-resume-'));
    database = await openDatabase({ dataDir: dir });
    const store = new QuickStore(database.db);
    const audit = new RecordingAudit();
    const { client, tracker } = ovh.api;
    const quick = new QuickSnapshotService({
      client,
      tracker,
      gate: new ActionGate({
        policy: new Policy({ grants: [], channels: [], unlistedChannels: 'admin' }, noGroups),
        groups: noGroups,
        rules: DEFAULT_APPROVAL_RULES,
        responderGroups: [],
      }),
      policy: { canSeeService: async () => false, filterReadable: async () => [] },
      audit,
      memory: store,
      settings: { targetGroups: new Map(), defaultExpirationMs: undefined },
      clock: ovh.clock,
    });

    // As the previous process left them: a task under way, a creation whose answer was lost after
    // OVH made the snapshot, one whose request never made it, one never started, and one whose answer
    // was lost while OVH still runs it.
    const running = await client.createCustomSnapshot(SVC, 'vol-001', { name: 'inc-vol-001' });
    const lost = await client.createCustomSnapshot(SVC, 'vol-002', { name: 'inc-vol-002' });
    await tracker.track(SVC, lost);
    const unsaved = await client.createCustomSnapshot(SVC, 'vol-006', { name: 'inc-vol-006' });
    const item = (partition: string, state: QuickRun['items'][number]['state']) => ({
      target: { service: SVC, partition },
      name: `inc-${partition}`,
      state,
    });
    const run: QuickRun = {
      id: 'run-1',
      spec: SVC,
      label: 'inc',
      requester: 'U0OPER',
      reason: null,
      expiration: null,
      items: [
        item('vol-001', { status: 'creating', taskId: running.taskId }),
        item('vol-002', { status: 'creating', taskId: null }),
        item('vol-003', { status: 'creating', taskId: null }),
        item('vol-004', { status: 'queued' }),
        item('vol-005', {
          status: 'denied',
          refusal: VIEWER_QUICK_REFUSAL,
        }),
        item('vol-006', { status: 'creating', taskId: null }),
      ],
      startedAt: ovh.clock.now(),
      finishedAt: null,
    };
    await store.saveRun(run, 'audit-run-1', { channel: 'C0INC', ts: '1.2' }, ovh.clock.now());

    const reported = new Promise<SavedQuickRun>((resolve) => {
      void quick.resume(async (saved) => resolve(saved)).then((count) => expect(count).toBe(1));
    });
    const { run: finished, auditId, reply } = await reported;

    expect(auditId).toBe('audit-run-1');
    expect(reply).toEqual({ channel: 'C0INC', ts: '1.2' });
    expect(finished.items.map((i) => i.state)).toEqual([
      { status: 'done', taskId: running.taskId, existed: false },
      { status: 'done', taskId: null, existed: false },
      { status: 'failed', taskId: null, failure: { kind: 'restart', when: 'not_created' } },
      { status: 'failed', taskId: null, failure: { kind: 'restart', when: 'not_started' } },
      {
        status: 'denied',
        refusal: VIEWER_QUICK_REFUSAL,
      },
      { status: 'done', taskId: unsaved.taskId, existed: false },
    ]);
    expect(finished.finishedAt).not.toBeNull();
    expect(audit.patches).toEqual([
      {
        id: 'audit-run-1',
        patch: {
          // 3 of 6 taken: a partial run, not a failed one.
          outcome: 'partial',
          detail: {
            quick: expect.objectContaining({ taken: expect.arrayContaining([expect.stringContaining('inc-vol-001')]) }),
          },
        },
      },
    ]);
    expect(await store.unfinishedRuns()).toEqual([]);
    // Nothing new was created: only the three snapshots made above exist.
    expect(ovh.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
  });
});
