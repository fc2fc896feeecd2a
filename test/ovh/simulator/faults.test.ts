import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../src/shared/clock.js';
import { controlCall, httpsCall } from '../../support/ovh-signing.js';
import { api, P128, startTestSimulator } from './harness.js';

describe('fault injection', () => {
  it('answers 429 with the default body, `times` then runs out', async () => {
    const sim = await startTestSimulator({
      faults: [
        {
          method: 'GET',
          path: '/dedicated/nasha/{serviceName}/partition',
          fault: { type: 'status', status: 429 },
          times: 2,
        },
      ],
    });
    const call = api(sim);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await call.get(`${P128}/partition`);
      expect(res.status).toBe(429);
      expect(res.json).toEqual({ class: 'Client::TooManyRequests', message: 'Too many requests' });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-ovh-queryid']).toMatch(/^SIM\.\d+$/);
    }
    expect((await call.get(`${P128}/partition`)).status).toBe(200);
    expect(sim.requests.map((entry) => [entry.status, entry.fault])).toEqual([
      [429, 'status'],
      [429, 'status'],
      [200, null],
    ]);
  });

  it('answers 500/503 with OVH-like default bodies, or the configured one', async () => {
    const sim = await startTestSimulator();
    const call = api(sim);
    sim.addFaults(
      { path: '/dedicated/nasha', fault: { type: 'status', status: 500 }, times: 1 },
      { path: '/dedicated/nasha', fault: { type: 'status', status: 503 }, times: 1 },
      { path: '/dedicated/nasha', fault: { type: 'status', status: 500, body: { message: 'custom' } }, times: 1 },
    );
    expect((await call.get('/dedicated/nasha')).json).toEqual({
      class: 'Server::InternalServerError',
      message: 'Internal server error',
    });
    expect((await call.get('/dedicated/nasha')).json).toEqual({
      class: 'Server::ServiceUnavailable',
      message: 'Service unavailable',
    });
    expect((await call.get('/dedicated/nasha')).json).toEqual({ message: 'custom' });
    expect((await call.get('/dedicated/nasha')).status).toBe(200);
  });

  it('serves HTML error pages (502, 408) as text/html', async () => {
    const sim = await startTestSimulator({
      faults: [
        { path: '/dedicated/nasha', fault: { type: 'html', status: 502 }, times: 1 },
        { path: '/dedicated/nasha', fault: { type: 'html', status: 408 }, times: 1 },
      ],
    });
    const bad = await api(sim).get('/dedicated/nasha');
    expect(bad.status).toBe(502);
    expect(bad.headers['content-type']).toBe('text/html');
    expect(bad.text).toBe('<html><body><h1>502 Bad Gateway</h1></body></html>');
    expect(bad.json).toBeUndefined();
    const timeout = await api(sim).get('/dedicated/nasha');
    expect(timeout.status).toBe(408);
    expect(timeout.text).toContain('408 Request Time-out');
  });

  it('matches by method, template and glob, and hits before authentication', async () => {
    const sim = await startTestSimulator();
    const call = api(sim);
    sim.addFaults(
      {
        method: 'post',
        path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot',
        fault: { type: 'status', status: 503 },
      },
      { path: '/1.0/auth/*', fault: { type: 'status', status: 500 } },
    );
    expect((await call.get(`${P128}/partition/logs/snapshot`)).status).toBe(200);
    expect((await call.post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).status).toBe(503);
    expect((await call.post(`${P128}/partition/logs/snapshot`, {}, { appKey: 'wrong' })).status).toBe(503);
    expect((await httpsCall(sim, { path: '/1.0/auth/time' })).status).toBe(500);
    // `{x}` is one segment only.
    expect((await call.post(`${P128}/partition/logs/customSnapshot`, { name: 'snap-a' })).status).toBe(200);
  });

  it('adds latency before answering, combined with other faults (checked by completion order)', async () => {
    const sim = await startTestSimulator({
      faults: [{ path: '/dedicated/nasha', fault: { type: 'latency', ms: 400 } }],
    });
    const call = api(sim);
    const slow = call.get('/dedicated/nasha');
    const fast = call.get(P128);
    expect((await fast).status).toBe(200);
    expect((await slow).status).toBe(200);
    expect(sim.requests.map((entry) => [entry.path, entry.fault])).toEqual([
      ['/1.0/dedicated/nasha/zpool-128310', null],
      ['/1.0/dedicated/nasha', 'latency'],
    ]);

    sim.clearRequests();
    sim.addFaults({ path: '/dedicated/nasha', fault: { type: 'status', status: 503 }, times: 1 });
    const slowError = call.get('/dedicated/nasha');
    const fastAgain = call.get(P128);
    await fastAgain;
    expect((await slowError).status).toBe(503);
    expect(sim.requests.map((entry) => [entry.path, entry.status])).toEqual([
      ['/1.0/dedicated/nasha/zpool-128310', 200],
      ['/1.0/dedicated/nasha', 503],
    ]);
  });

  it('stalls until the client gives up, and close() still returns promptly', async () => {
    const sim = await startTestSimulator({ faults: [{ path: '/dedicated/nasha', fault: { type: 'stall' } }] });
    const call = api(sim);
    await expect(call.get('/dedicated/nasha', { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TEST_TIMEOUT' });

    const hanging = call.get('/dedicated/nasha'); // no client timeout: only close() can end it
    const outcome = hanging.then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await vi.waitFor(() => expect(sim.requests.filter((entry) => entry.fault === 'stall')).toHaveLength(2));
    expect(sim.requests.every((entry) => entry.status === 0)).toBe(true);

    const closing = sim.close();
    const deadline = new Promise((resolve) => setTimeout(() => resolve('close() hung'), 2_000).unref());
    expect(await Promise.race([closing.then(() => 'closed'), deadline])).toBe('closed');
    expect(await outcome).toBe('ECONNRESET');
  });

  it('resets the connection', async () => {
    const sim = await startTestSimulator({
      faults: [{ path: '/dedicated/nasha', fault: { type: 'reset' }, times: 1 }],
    });
    await expect(api(sim).get('/dedicated/nasha')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sim.requests).toMatchObject([{ path: '/1.0/dedicated/nasha', status: 0, fault: 'reset' }]);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(200);
  });

  it('rejects invalid fault rules, naming the key', async () => {
    const sim = await startTestSimulator();
    // @ts-expect-error: deliberately invalid (latency without ms)
    expect(() => sim.addFaults({ path: '/x', fault: { type: 'latency' } })).toThrow(/faults\[0\]\.fault\.ms/);
  });
});

describe('control endpoint /_sim/', () => {
  it('adds, lists and clears faults', async () => {
    const sim = await startTestSimulator();
    const added = await controlCall(sim, 'POST', '/faults', {
      path: '/dedicated/nasha',
      fault: { type: 'status', status: 503 },
      times: 1,
    });
    expect(added.status).toBe(200);
    expect(added.json).toEqual([{ path: '/dedicated/nasha', fault: { type: 'status', status: 503 }, times: 1 }]);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(503);
    expect((await controlCall(sim, 'GET', '/faults')).json).toEqual([]);

    const glob = await controlCall(sim, 'POST', '/faults', [{ path: '*', fault: { type: 'html', status: 502 } }]);
    expect(glob.status).toBe(200);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(502);
    expect((await controlCall(sim, 'DELETE', '/faults')).json).toEqual([]);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(200);

    const invalid = await controlCall(sim, 'POST', '/faults', { path: '/x', fault: { type: 'latency', ms: -1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({
      class: 'Client::BadRequest',
      message: expect.stringContaining('faults[0].fault.ms'),
    });
  });

  it('injects task outcomes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startTestSimulator({ clock });
    const rule = { partition: 'logs', outcome: 'ovhError', details: 'backend unreachable', count: 1 };
    expect((await controlCall(sim, 'POST', '/task-outcomes', rule)).json).toEqual([rule]);
    const task = (await api(sim).post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' })).json as {
      taskId: number;
    };
    clock.advance(5_000);
    expect((await api(sim).get(`${P128}/task/${task.taskId}`)).json).toMatchObject({
      status: 'ovhError',
      details: 'backend unreachable',
    });
    expect((await controlCall(sim, 'GET', '/task-outcomes')).json).toEqual([]);
    await controlCall(sim, 'POST', '/task-outcomes', [{ outcome: 'cancelled', details: 'x' }]);
    expect((await controlCall(sim, 'DELETE', '/task-outcomes')).json).toEqual([]);
    expect((await controlCall(sim, 'POST', '/task-outcomes', { outcome: 'done', details: 'x' })).status).toBe(400);
  });

  it('sets the skew and exposes the request log', async () => {
    const sim = await startTestSimulator({ authNow: () => 1_800_000_000_000 });
    expect((await controlCall(sim, 'POST', '/skew', { seconds: 120 })).json).toEqual({ skewSeconds: 120 });
    expect((await httpsCall(sim, { path: '/1.0/auth/time' })).json).toBe(1_800_000_120);
    expect((await controlCall(sim, 'POST', '/skew', { seconds: 'soon' })).status).toBe(400);

    await api(sim).get(`${P128}/task?status=todo`, { timestamp: 1_800_000_120 });
    const log = (await controlCall(sim, 'GET', '/requests')).json;
    expect(log).toEqual([
      expect.objectContaining({ method: 'GET', path: '/1.0/auth/time', query: {}, status: 200, at: 1_800_000_000_000 }),
      expect.objectContaining({ path: `/1.0${P128}/task`, query: { status: 'todo' }, status: 200 }),
    ]);
    expect(log).toEqual(JSON.parse(JSON.stringify(sim.requests)));
    expect((await controlCall(sim, 'DELETE', '/requests')).json).toEqual([]);
    expect(sim.requests).toHaveLength(0);
  });

  it('resets to the startup configuration', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const startupFault = {
      path: '/dedicated/nasha/{serviceName}/serviceInfos',
      fault: { type: 'status', status: 503 },
    } as const;
    const sim = await startTestSimulator({ clock, faults: [startupFault], skewSeconds: 5 });
    await api(sim).post(`${P128}/partition/logs/snapshot`, { snapshotType: 'day-1' });
    clock.advance(5_000);
    sim.addFaults({ path: '/dedicated/nasha', fault: { type: 'status', status: 500 } });
    sim.setSkew(50);
    expect(sim.state.listScheduledTypes('zpool-128310', 'logs')).toEqual(['hour-1', 'day-1']);

    expect((await controlCall(sim, 'POST', '/reset')).status).toBe(200);
    expect(sim.state.listScheduledTypes('zpool-128310', 'logs')).toEqual(['hour-1']);
    expect(sim.faults).toEqual([startupFault]);
    expect(sim.skewSeconds).toBe(5);
    expect(sim.requests).toHaveLength(0);
    expect((await api(sim).get('/dedicated/nasha')).status).toBe(200);
  });

  it('answers 404 for an unknown control path and never logs control calls', async () => {
    const sim = await startTestSimulator();
    const res = await controlCall(sim, 'GET', '/nothing');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ class: 'Client::NotFound' });
    const malformed = await httpsCall(sim, { method: 'POST', path: '/_sim/faults', body: '{not json' });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toEqual({ class: 'Client::BadRequest', message: 'Invalid JSON body' });
    expect(sim.requests).toHaveLength(0);
  });
});

describe('faults after OVH ran the request (the answer to a change is lost)', () => {
  const CUSTOM = `${P128}/partition/logs/customSnapshot`;
  const ROUTE = '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot';

  it('afterApply 502: the snapshot task exists, the client gets the gateway page', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startTestSimulator({
      clock,
      faults: [{ method: 'POST', path: ROUTE, fault: { type: 'html', status: 502, afterApply: true }, times: 1 }],
    });
    const call = api(sim);
    const lost = await call.post(CUSTOM, { name: 'snap-after-commit' });
    expect(lost.status).toBe(502);
    expect(lost.text).toContain('502 Bad Gateway');
    expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', status: 502, fault: 'html', applied: true });
    const tasks = (await call.get(`${P128}/task?operation=clusterLeclercCustomSnapCreate`)).json as number[];
    expect(tasks).toHaveLength(1);
    clock.advance(5_000);
    expect((await call.get(CUSTOM)).json).toContain('snap-after-commit');
  });

  it('a fault before OVH ran it changes nothing; an afterApply reset or stall still applies', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startTestSimulator({ clock });
    const call = api(sim);
    sim.addFaults({ method: 'POST', path: ROUTE, fault: { type: 'html', status: 502 }, times: 1 });
    expect((await call.post(CUSTOM, { name: 'snap-before' })).status).toBe(502);
    expect(sim.requests.at(-1)).toMatchObject({ status: 502, applied: false });

    sim.addFaults({ method: 'POST', path: ROUTE, fault: { type: 'reset', afterApply: true }, times: 1 });
    await expect(call.post(CUSTOM, { name: 'snap-reset' })).rejects.toMatchObject({ code: 'ECONNRESET' });
    sim.addFaults({ method: 'POST', path: ROUTE, fault: { type: 'stall', afterApply: true }, times: 1 });
    await expect(call.post(CUSTOM, { name: 'snap-stall' }, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'TEST_TIMEOUT',
    });
    clock.advance(5_000);
    expect(((await call.get(CUSTOM)).json as string[]).sort()).toEqual(['snap-reset', 'snap-stall']);
    expect(sim.requests.filter((r) => r.method === 'POST').map((r) => [r.fault, r.applied])).toEqual([
      ['html', false],
      ['reset', true],
      ['stall', true],
    ]);
  });

  it('a 4xx from OVH under an afterApply fault is not applied', async () => {
    const sim = await startTestSimulator();
    sim.addFaults({ method: 'POST', path: ROUTE, fault: { type: 'status', status: 503, afterApply: true } });
    expect((await api(sim).post(CUSTOM, { name: 'bad name with spaces' })).status).toBe(503);
    expect(sim.requests.at(-1)).toMatchObject({ status: 503, applied: false });
  });
});

describe('held requests', () => {
  const CUSTOM = `${P128}/partition/logs/customSnapshot`;
  const ROUTE = '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot';

  it('holds before OVH runs it: continue runs and answers it, drop changes nothing', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startTestSimulator({
      clock,
      faults: [{ method: 'POST', path: ROUTE, fault: { type: 'hold' }, times: 2 }],
    });
    const call = api(sim);
    const first = call.post(CUSTOM, { name: 'snap-held' });
    const held = await sim.waitForHeld((h) => h.method === 'POST');
    expect(held).toMatchObject({ method: 'POST', path: `/1.0${CUSTOM}`, applied: false });
    expect(sim.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(sim.releaseHeld(held.id)).toBe(true);
    expect((await first).status).toBe(200);
    expect(sim.releaseHeld(held.id)).toBe(false);

    const second = call.post(CUSTOM, { name: 'snap-dropped' });
    const again = await sim.waitForHeld();
    sim.releaseHeld(again.id, 'drop');
    await expect(second).rejects.toMatchObject({ code: 'ECONNRESET' });
    clock.advance(5_000);
    expect((await call.get(CUSTOM)).json).toEqual(['snap-held']);
    expect(sim.held).toEqual([]);
  });

  it('holds after OVH ran it; the client leaving does not undo the change', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startTestSimulator({
      clock,
      faults: [{ method: 'POST', path: ROUTE, fault: { type: 'hold', afterApply: true }, times: 1 }],
    });
    const call = api(sim);
    const gone = call.post(CUSTOM, { name: 'snap-answer-held' }, { timeoutMs: 300 });
    const held = await sim.waitForHeld();
    expect(held.applied).toBe(true);
    await expect(gone).rejects.toMatchObject({ code: 'TEST_TIMEOUT' });
    sim.releaseHeld(held.id);
    await vi.waitFor(() => expect(sim.requests.some((r) => r.method === 'POST')).toBe(true));
    expect(sim.requests.find((r) => r.method === 'POST')).toMatchObject({ fault: 'hold', applied: true });
    clock.advance(5_000);
    expect((await call.get(CUSTOM)).json).toEqual(['snap-answer-held']);
  });

  it('a held request is released before OVH runs it when the simulator closes; waiting times out', async () => {
    const sim = await startTestSimulator({ faults: [{ path: '/dedicated/nasha', fault: { type: 'hold' } }] });
    await expect(sim.waitForHeld(() => true, 50)).rejects.toThrow(/no matching request was held/);
    const hanging = api(sim)
      .get('/dedicated/nasha')
      .then(
        () => 'answered',
        (error: NodeJS.ErrnoException) => error.code,
      );
    await sim.waitForHeld();
    await sim.close();
    expect(await hanging).toBe('ECONNRESET');
  });

  it('is listed and released through /_sim/held', async () => {
    const sim = await startTestSimulator();
    await controlCall(sim, 'POST', '/faults', { path: '/dedicated/nasha', fault: { type: 'hold' }, times: 1 });
    const pending = api(sim).get('/dedicated/nasha');
    await sim.waitForHeld();
    const listed = (await controlCall(sim, 'GET', '/held')).json as Array<{ id: number; applied: boolean }>;
    expect(listed).toMatchObject([{ method: 'GET', path: '/1.0/dedicated/nasha', applied: false }]);
    expect((await controlCall(sim, 'POST', `/held/${listed[0]?.id}`, { action: 'sideways' })).status).toBe(400);
    expect((await controlCall(sim, 'POST', `/held/${listed[0]?.id}`, { action: 'continue' })).json).toEqual({
      released: listed[0]?.id,
      action: 'continue',
    });
    expect((await pending).status).toBe(200);
    expect((await controlCall(sim, 'POST', '/held/999', {})).status).toBe(404);
  });
});
