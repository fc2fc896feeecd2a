import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_OUTCOMES, AuditDeliveryError, AuditTrail } from '../../../src/core/audit.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { verifyAuditChain } from '../../../src/store/audit-chain.js';
import { AUDIT_CHANNEL, type AuditHarness, auditHarness, input, T0, tempDir } from './harness.js';

let cleanup: () => Promise<void>;
let h: AuditHarness;

beforeEach(async () => {
  const temp = await tempDir();
  cleanup = temp.cleanup;
  h = await auditHarness(temp.dir, { clock: new ManualClock(T0) });
});

afterEach(async () => {
  await h.outbox.stop();
  await h.database.close();
  await cleanup();
});

describe('AuditTrail', () => {
  it('records version 1 with its history row, due for delivery at once', async () => {
    const record = await h.trail.record(input({ taskId: 12 }));
    expect(record).toEqual({
      id: expect.any(String),
      version: 1,
      createdAt: T0,
      updatedAt: T0,
      actorUserId: 'U0ALICE01',
      channelId: 'C0OPS0001',
      action: 'snapshot.create',
      target: { service: 'zpool-123456', partition: 'backups' },
      subject: 'before-upgrade',
      outcome: 'started',
      taskId: 12,
      detail: null,
      auditChannel: AUDIT_CHANNEL,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await h.repo.get(record.id)).toEqual({
      record,
      channel: AUDIT_CHANNEL,
      slackTs: null,
      deliveredVersion: 0,
      attempts: 0,
      nextAttemptAt: T0,
      lastError: null,
      postClaims: 0,
    });
    expect(await h.repo.history(record.id)).toEqual([{ seq: expect.any(Number), record }]);
  });

  it('keeps optional parts absent: no partition, no channel, no subject', async () => {
    const record = await h.trail.record(
      input({
        actor: { userId: 'U0BOB0001', channelId: undefined },
        target: { service: 'zpool-1' },
        subject: undefined,
      }),
    );
    const stored = await h.repo.get(record.id);
    expect(stored?.record.target).toEqual({ service: 'zpool-1' });
    expect(stored?.record).toMatchObject({ channelId: null, subject: null });
  });

  it('each update is a new version with its own history row; undefined keeps a field, null clears it', async () => {
    const record = await h.trail.record(input({ detail: { reason: 'queued' } }));
    h.clock.advance(1_000);
    await h.trail.update(record.id, { taskId: 99 });
    h.clock.advance(1_000);
    const last = await h.trail.update(record.id, { outcome: 'succeeded', detail: null, taskId: undefined });

    expect(last).toMatchObject({ version: 3, outcome: 'succeeded', taskId: 99, detail: null, updatedAt: T0 + 2_000 });
    expect(last.createdAt).toBe(T0);
    const history = await h.repo.history(record.id);
    expect(history.map((e) => [e.record.version, e.record.outcome, e.record.taskId, e.record.detail])).toEqual([
      [1, 'started', null, '{"reason":"queued"}'],
      [2, 'started', 99, '{"reason":"queued"}'],
      [3, 'succeeded', 99, null],
    ]);
    expect(history.map((e) => e.record.updatedAt)).toEqual([T0, T0 + 1_000, T0 + 2_000]);
    const seqs = history.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('a settlement replaces an older version’s note; every version, old text and new JSON, verifies', async () => {
    const record = await h.trail.record(
      input({ outcome: 'unknown', detail: { approvalId: '7RLM5K', note: 'OVH cannot be asked now' } }),
    );
    h.clock.advance(1_000);
    await h.trail.update(record.id, {
      outcome: 'not_applied',
      detail: { settlement: { kind: 'not_sent' }, note: undefined },
    });
    const history = await h.repo.history(record.id);
    expect(history.map((e) => e.record.detail)).toEqual([
      '{"approvalId":"7RLM5K","note":"OVH cannot be asked now"}',
      '{"approvalId":"7RLM5K","settlement":{"kind":"not_sent"}}',
    ]);
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true, problems: [] });
  });

  it('pokes the outbox after every write', async () => {
    let pokes = 0;
    const trail = new AuditTrail({
      repo: h.repo,
      clock: h.clock,
      auditChannel: AUDIT_CHANNEL,
      outbox: { poke: () => pokes++ },
    });
    const record = await trail.record(input());
    await trail.update(record.id, { outcome: 'failed' });
    expect(pokes).toBe(2);
  });

  it('accepts every outcome and refuses malformed input before writing anything', async () => {
    for (const outcome of AUDIT_OUTCOMES) await h.trail.record(input({ outcome }));
    await expect(h.trail.record(input({ action: 'snapshot.explode' as never }))).rejects.toThrow();
    await expect(h.trail.record(input({ actor: { userId: '', channelId: undefined } }))).rejects.toThrow();
    await expect(h.trail.record(input({ taskId: -1 }))).rejects.toThrow();
    expect(await h.outbox.depth()).toBe(AUDIT_OUTCOMES.length);
  });

  it('refuses to update an unknown record', async () => {
    await expect(h.trail.update('no-such-id', { outcome: 'failed' })).rejects.toThrow(/unknown audit record/);
  });

  it('AuditDeliveryError (the outbox DeliveryError) carries Retry-After and permanence', () => {
    const limited = new AuditDeliveryError('ratelimited', { retryAfterMs: 3_000 });
    expect(limited).toMatchObject({ name: 'DeliveryError', retryAfterMs: 3_000, permanent: false });
    expect(new AuditDeliveryError('channel_not_found', { permanent: true }).permanent).toBe(true);
  });
});
