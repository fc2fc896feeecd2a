import { describe, expect, it } from 'vitest';
import type { AlertView, ProtectionAlert } from '../../../src/core/protection/ports.js';
import type { StatusLine } from '../../../src/core/protection/queries.js';
import { auditMessage } from '../../../src/slack/blocks/audit-message.js';
import {
  alertMessage,
  protectionProblemText,
  restoreMessage,
  statusMessage,
} from '../../../src/slack/blocks/protection.js';
import { mrkdwn } from '../../../src/slack/text.js';

const NOW = Date.UTC(2026, 10, 28, 9);

function alert(over: Partial<ProtectionAlert> = {}): ProtectionAlert {
  return {
    id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    service: 'zpool-1',
    partition: 'data',
    kind: 'frequency_missing',
    policy: 'production',
    problem: { kind: 'frequency_missing', missing: ['day-7'], required: ['hour-1', 'day-7'] },
    state: 'open',
    resolution: null,
    version: 2,
    postedVersion: 1,
    channel: 'C0ALERTS',
    messageRef: null,
    postClaims: 0,
    auditId: null,
    fixes: [],
    openedAt: NOW,
    updatedAt: NOW,
    resolvedAt: null,
    lastError: null,
    ...over,
  };
}

const RESTORE_BASE = {
  target: { service: 'zpool-1', partition: 'media' },
  at: NOW,
  now: NOW + 3_600_000,
  best: undefined,
  after: undefined,
  automatic: [],
  undated: [],
  protocol: 'NFS',
  ip: null,
};
const all = (message: { text: string; blocks: unknown[] }) => `${message.text}\n${JSON.stringify(message.blocks)}`;

describe('protection blocks', () => {
  it('an open alert names the problem and offers its fix; the button carries only the alert id', () => {
    const view: AlertView = { alert: alert(), fix: { kind: 'add_frequencies', types: ['day-7'] } };
    const message = alertMessage(view);
    const text = all(message);
    expect(text).toContain('Required frequencies are off');
    expect(text).toContain('`day-7` is not enabled; the policy requires `hour-1` and `day-7`.');
    expect(text).toContain('"action_id":"nasha_protection_fix"');
    expect(text).toContain('"value":"{\\"a\\":\\"7c9e6679-7425-40de-944b-e07fc1f90ae7\\"}"');
    expect(text).toContain('Fix: enable day-7');
  });

  it('a resolved alert keeps its words, says when it ended and loses the button', () => {
    const view: AlertView = {
      alert: alert({
        state: 'resolved',
        resolution: 'cleared',
        resolvedAt: NOW + 60_000,
        fixes: [{ userId: 'U0OPER', at: NOW }],
      }),
      fix: undefined,
    };
    const text = all(alertMessage(view));
    expect(text).toContain('Resolved: required frequencies are off');
    expect(text).toContain('the problem cleared');
    expect(text).toContain('Fix pressed by <@U0OPER>');
    expect(text).not.toContain('nasha_protection_fix');
  });

  it('words what OVH said verbatim, inert', () => {
    const words = mrkdwn(
      protectionProblemText({
        kind: 'plan_missing',
        missing: [
          {
            label: 'daily',
            slotAt: NOW,
            name: 'plan-daily-data-20261128T0900',
            gap: { cause: 'failed', problem: undefined, ovh: 'zfs: <!channel> out of *space*' },
          },
        ],
      }),
    );
    expect(words).toContain('`zfs: &lt;!channel&gt; out of *space*`');
    expect(words).not.toContain('<!channel>');
  });

  it('restore help: the snapshot to use, the directory, a dry run first, a safety snapshot, and that the bot cannot reach the share', () => {
    const message = restoreMessage({
      target: { service: 'zpool-1', partition: 'media' },
      at: NOW,
      now: NOW + 3_600_000,
      best: {
        kind: 'custom',
        name: 'plan-daily-media-20261128T0200',
        takenAt: NOW - 7 * 3_600_000,
        takenBy: { kind: 'plan', label: 'daily' },
      },
      after: undefined,
      automatic: [],
      undated: [],
      protocol: 'NFS_CIFS',
      ip: '198.51.100.7',
      safety: 'create',
    });
    const text = all(message);
    expect(text).toContain('*use* `plan-daily-media-20261128T0200`');
    expect(text).toContain('7h before that moment');
    expect(text).toContain('`.zfs/snapshot/plan-daily-media-20261128T0200/`');
    expect(text).toContain('rsync -av --dry-run');
    expect(text).toContain('robocopy');
    expect(text).toContain('\\\\\\\\198.51.100.7\\\\&lt;share&gt;');
    expect(text).toContain('the bot cannot reach the share');
    expect(text).toContain(
      'First take a safety snapshot of what is there now: `/nasha snapshot create zpool-1/media before-restore`',
    );
    // Only a command the reader may run: an on-call viewer gets the quick snapshot, someone with neither is told who.
    const quick = all(restoreMessage({ ...RESTORE_BASE, safety: 'quick' }));
    expect(quick).toContain('`/nasha snapshot quick zpool-1/media before-restore`');
    expect(quick).not.toContain('snapshot create');
    const none = all(restoreMessage({ ...RESTORE_BASE, safety: 'none' }));
    expect(none).toContain('by someone who may create snapshots here (you may not)');
  });

  it('the audit message names the policy as the actor and says a plan run was late and why', () => {
    const message = auditMessage({
      id: 'a1',
      version: 2,
      createdAt: NOW,
      updatedAt: NOW,
      actorUserId: 'protection:production',
      channelId: null,
      action: 'snapshot.create',
      target: { service: 'zpool-1', partition: 'data' },
      subject: 'plan-daily-data-20261128T0200',
      outcome: 'succeeded',
      taskId: 4000001,
      detail: JSON.stringify({
        protection: {
          policy: 'production',
          plan: { label: 'daily', slotAt: NOW - 7 * 3_600_000, lateMs: 7 * 3_600_000, missed: true },
        },
      }),
      auditChannel: 'C0AUDIT',
      hash: null,
    });
    const text = all(message);
    expect(text).toContain('nasha-bot, for protection policy `production`');
    expect(text).toContain('taken 7h late (missed while the bot was down, taken at its start)');
    expect(text).not.toContain('<@protection');
  });
});

describe('the status summary', () => {
  const line = (partition: string, problems: StatusLine['problems']): StatusLine => ({
    service: 'zpool-1',
    partition,
    policy: 'production',
    scannedAt: NOW,
    problems,
    newestAt: NOW - 60_000,
    customCount: 2,
    frequencies: ['hour-1'],
  });
  const summary = (items: StatusLine[]) =>
    all(
      statusMessage({
        kind: 'list',
        scope: { kind: 'all' },
        query: undefined,
        page: { items, page: 1, pageCount: 1, total: items.length },
        inventoryPending: false,
        now: NOW,
      }),
    );

  it('points its details example at the first partition with a problem, or the first one when none has', () => {
    const missing: StatusLine['problems'][number] = {
      kind: 'frequency_missing',
      missing: ['day-1'],
      required: ['hour-1', 'day-1'],
    };
    expect(summary([line('backups', []), line('logs', [missing])])).toContain(
      '1 with problems. Details: `/nasha snapshot status zpool-1/logs`',
    );
    expect(summary([line('backups', []), line('logs', [])])).toContain(
      '0 with problems. Details: `/nasha snapshot status zpool-1/backups`',
    );
  });
});
