import { afterEach, describe, expect, it } from 'vitest';
import type { CacheLookup } from '../../src/ovh/cache.js';
import { withFreshReads } from '../../src/shared/request-context.js';
import { type OvhHarness, startOvhHarness } from '../support/ovh-harness.js';

const SVC = 'zpool-128310';
const TTL_MS = 5_000;
let h: OvhHarness;

afterEach(async () => {
  await h?.close();
});

/** OVH requests seen since the last call (method and path), /auth/time left out. */
function sentSince(harness: OvhHarness): () => string[] {
  let seen = harness.sim.requests.length;
  return () => {
    const lines = harness.sim.requests
      .slice(seen)
      .filter((r) => !r.path.endsWith('/auth/time'))
      .map((r) => `${r.method} ${r.path.replace(`/1.0/dedicated/nasha/${SVC}`, '')}`);
    seen = harness.sim.requests.length;
    return lines;
  };
}

/** What `list <service>/<partition>` asks: frequencies, names, then each snapshot's details. */
async function listPartition(harness: OvhHarness, partition: string) {
  const client = harness.api.client;
  const [types, names] = await Promise.all([
    client.listSnapshotTypes(SVC, partition),
    client.listCustomSnapshots(SVC, partition),
  ]);
  const details = await Promise.all(names.map((name) => client.getCustomSnapshot(SVC, partition, name)));
  return { types, names, details };
}

describe('the read cache (NashaClient with createNashaApi)', () => {
  it('serves listings for the configured time, then asks OVH again', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: TTL_MS } });
    const sent = sentSince(h);
    expect(await h.api.client.listServices()).toContain(SVC);
    expect(await h.api.client.listPartitions(SVC)).toContain('data');
    expect(sent()).toEqual(['GET /1.0/dedicated/nasha', 'GET /partition']);
    h.clock.advance(TTL_MS - 1);
    await h.api.client.listServices();
    await h.api.client.listPartitions(SVC);
    expect(sent()).toEqual([]);
    h.clock.advance(1);
    await h.api.client.listPartitions(SVC);
    expect(sent()).toEqual(['GET /partition']);
  });

  it('after warm-up a partition costs its two listings: snapshot details are kept while their names are listed', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: TTL_MS } });
    const sent = sentSince(h);
    const cold = await listPartition(h, 'backups');
    expect(cold.details).toHaveLength(10);
    expect(sent()).toHaveLength(12);
    h.clock.advance(60_000);
    const warm = await listPartition(h, 'backups');
    expect(warm.details).toEqual(cold.details);
    expect(sent()).toEqual(['GET /partition/backups/snapshot', 'GET /partition/backups/customSnapshot']);
    // Within the listing time, nothing at all.
    await listPartition(h, 'backups');
    expect(sent()).toEqual([]);
  });

  it('a show asks OVH unless the partition’s names are cached and list the snapshot', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: TTL_MS } });
    const sent = sentSince(h);
    const name = 'snap-data-pre-upgrade';
    await h.api.client.getCustomSnapshot(SVC, 'data', name);
    await h.api.client.getCustomSnapshot(SVC, 'data', name);
    expect(sent()).toEqual([
      `GET /partition/data/customSnapshot/${name}`,
      `GET /partition/data/customSnapshot/${name}`,
    ]);
    await h.api.client.listCustomSnapshots(SVC, 'data');
    sent();
    await h.api.client.getCustomSnapshot(SVC, 'data', name);
    expect(sent()).toEqual([]);
  });

  it('forgets a snapshot whose name is no longer listed (deleted elsewhere), and one that expired', async () => {
    h = await startOvhHarness({ tuning: { listingCacheMs: TTL_MS } });
    await listPartition(h, 'data');
    // Deleted through OVH's control panel: the bot does not know until a listing lacks it.
    const task = h.sim.state.deleteCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade');
    await h.clock.sleep(10_000);
    expect(h.sim.state.getTask(SVC, task.taskId).status).toBe('done');
    const after = await listPartition(h, 'data');
    expect(after.names).not.toContain('snap-data-pre-upgrade');
    const sent = sentSince(h);
    const error = await h.api.client.getCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade').catch((e: unknown) => e);
    expect(error).toMatchObject({ httpStatus: 404 });
    expect(sent()).toEqual(['GET /partition/data/customSnapshot/snap-data-pre-upgrade']);
  });

  it('does not serve details past their expiration', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: 3_600_000 } });
    const sim = h.sim.state;
    const db = 'zpool-204117';
    const expiring = sim.listCustomSnapshots(db, 'db').find((n) => sim.getCustomSnapshot(db, 'db', n).expiration);
    if (expiring === undefined) throw new Error('the seed has an expiring snapshot on zpool-204117/db');
    await h.api.client.listCustomSnapshots(db, 'db');
    await h.api.client.getCustomSnapshot(db, 'db', expiring);
    const sent = sentSince(h);
    await h.api.client.getCustomSnapshot(db, 'db', expiring);
    expect(sent()).toEqual([]);
    h.clock.set(Date.parse(sim.getCustomSnapshot(db, 'db', expiring).expiration ?? '') + 1);
    await h.api.client.getCustomSnapshot(db, 'db', expiring).catch(() => undefined);
    expect(sent()).toHaveLength(1);
  });

  it('never serves a stale listing after the bot’s own create: uncached while its task runs, fresh once it ends', async () => {
    h = await startOvhHarness({
      tuning: { listingCacheMs: 60_000 },
      sim: { taskTimings: { doingAfterMs: 500, doneAfterMs: 2_000 } },
    });
    expect(await h.api.client.listCustomSnapshots(SVC, 'logs')).toEqual([]);
    const task = await h.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-logs-new' });
    const sent = sentSince(h);
    // While OVH works on it, listings are OVH's (and not kept: the change may land at any moment).
    expect(await h.api.client.listCustomSnapshots(SVC, 'logs')).toEqual([]);
    expect(await h.api.client.listCustomSnapshots(SVC, 'logs')).toEqual([]);
    expect(sent()).toHaveLength(2);
    expect(await h.api.tracker.track(SVC, task)).toMatchObject({ outcome: 'done' });
    sent();
    // The moment the tracker saw it done, well within the listing time.
    expect(await h.api.client.listCustomSnapshots(SVC, 'logs')).toEqual(['snap-logs-new']);
    expect(sent()).toEqual(['GET /partition/logs/customSnapshot']);
    // Then cached again.
    await h.api.client.listCustomSnapshots(SVC, 'logs');
    expect(sent()).toEqual([]);
  });

  it('never serves a deleted snapshot after the bot’s own delete, nor a frequency list after its own change', async () => {
    h = await startOvhHarness({ tuning: { listingCacheMs: 60_000 } });
    const before = await listPartition(h, 'data');
    expect(before.names).toContain('snap-data-pre-upgrade');
    expect(before.types).not.toContain('day-2');
    const tasks = await Promise.all([
      h.api.client.deleteCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade'),
      h.api.client.addSnapshotType(SVC, 'data', 'day-2'),
    ]);
    // Read while OVH works on them: still the old state, which must not outlive the tasks.
    expect((await listPartition(h, 'data')).names).toContain('snap-data-pre-upgrade');
    // Two tasks of one service: the tracker sees them end in the `status=done` list.
    expect((await Promise.all(tasks.map((t) => h.api.tracker.track(SVC, t)))).map((r) => r.outcome)).toEqual([
      'done',
      'done',
    ]);
    const after = await listPartition(h, 'data');
    expect(after.names).not.toContain('snap-data-pre-upgrade');
    expect(after.details.map((d) => d.name)).not.toContain('snap-data-pre-upgrade');
    expect(after.types).toContain('day-2');
  });

  it('a change OVH refused leaves the cache as it was; reads made fresh always ask OVH', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: 60_000 } });
    await h.api.client.listCustomSnapshots(SVC, 'data');
    const refused = await h.api.client
      .createCustomSnapshot(SVC, 'data', { name: 'snap-data-pre-upgrade' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ httpStatus: 409 });
    const sent = sentSince(h);
    await h.api.client.listCustomSnapshots(SVC, 'data');
    await h.api.client.listCustomSnapshots(SVC, 'data');
    expect(sent()).toEqual(['GET /partition/data/customSnapshot']);
    await withFreshReads(() => h.api.client.listCustomSnapshots(SVC, 'data'));
    expect(sent()).toEqual(['GET /partition/data/customSnapshot']);
  });

  it('keeps a partition uncached after a change whose answer was lost (OVH may have made it)', async () => {
    h = await startOvhHarness({ autoAdvance: false, tuning: { listingCacheMs: 60_000, maxRetries: 0 } });
    await h.api.client.listCustomSnapshots(SVC, 'logs');
    h.sim.addFaults({ method: 'POST', path: '/*', fault: { type: 'status', status: 503 }, times: 1 });
    const lost = await h.api.client.createCustomSnapshot(SVC, 'logs', { name: 'snap-lost' }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ httpStatus: 503 });
    const sent = sentSince(h);
    await h.api.client.listCustomSnapshots(SVC, 'logs');
    await h.api.client.listCustomSnapshots(SVC, 'logs');
    expect(sent()).toHaveLength(2);
  });

  it('reports hits and misses by kind', async () => {
    const lookups: Array<[CacheLookup, boolean]> = [];
    const { createNashaApi } = await import('../../src/ovh/index.js');
    h = await startOvhHarness({ autoAdvance: false });
    const api = createNashaApi({
      config: h.config,
      clock: h.clock,
      onCacheLookup: (kind, hit) => lookups.push([kind, hit]),
    });
    try {
      await api.client.listCustomSnapshots(SVC, 'data');
      await api.client.listCustomSnapshots(SVC, 'data');
      await api.client.getCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade');
      await api.client.getCustomSnapshot(SVC, 'data', 'snap-data-pre-upgrade');
    } finally {
      api.transport.close();
    }
    expect(lookups).toEqual([
      ['snapshots', false],
      ['snapshots', true],
      ['snapshot', false],
      ['snapshot', true],
    ]);
  });
});
