import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/core/actions.js';
import type { PartitionSnapshots } from '../../../src/core/snapshot-service.js';
import type { Partition, Storage } from '../../../src/ovh/models.js';
import { type Block, LIMITS, message } from '../../../src/slack/blocks/limits.js';
import { createModal, deleteModal, mainModal, resultModal, scheduleModal } from '../../../src/slack/blocks/modals.js';
import { helpMessage } from '../../../src/slack/blocks/permissions.js';
import {
  changeLinesMessage,
  errorMessage,
  partitionsMessage,
  servicesMessage,
  snapshotsMessage,
} from '../../../src/slack/blocks/replies.js';

/** Every Slack limit the builders promise to respect, checked on a built message or view. */
function expectWithinLimits(blocks: readonly unknown[], maxBlocks: number = LIMITS.messageBlocks): void {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const block of blocks) {
    const b = block as unknown as Record<string, unknown>;
    const text = b['text'] as { text?: string } | undefined;
    if (b['type'] === 'section' && text?.text) expect(text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    if (b['type'] === 'header' && text?.text) expect(text.text.length).toBeLessThanOrEqual(LIMITS.header);
    const fields = b['fields'] as Array<{ text: string }> | undefined;
    if (fields) {
      expect(fields.length).toBeLessThanOrEqual(LIMITS.fields);
      for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(LIMITS.field);
    }
    const elements = b['elements'] as unknown[] | undefined;
    if (b['type'] === 'context' && elements) expect(elements.length).toBeLessThanOrEqual(LIMITS.context);
    if (b['type'] === 'actions' && elements) expect(elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
  }
  const json = JSON.stringify(blocks);
  for (const match of json.matchAll(/"options":\[(.*?)\]/g))
    expect((match[1]?.match(/"value"/g) ?? []).length).toBeLessThanOrEqual(LIMITS.options);
}

const NOW = Date.UTC(2026, 10, 28);
const long = (n: number) => 'x'.repeat(n);

describe('reply builders respect Slack limits whatever the input', () => {
  it('a service list of 500 services with huge names stays under 50 blocks and 3000 chars per section', () => {
    const services: Storage[] = Array.from({ length: 500 }, (_, i) => ({
      serviceName: `zpool-${i}`,
      customName: long(400),
      datacenter: 'rbx',
      zpoolSize: 1000,
      zpoolCapacity: 50,
    }));
    const built = servicesMessage(services);
    expectWithinLimits(built.blocks);
    expect(built.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    expect(JSON.stringify(built.blocks)).toMatch(/more blocks not shown/);
  });

  it('partitions and snapshots pages stay within limits, with pager buttons', () => {
    const partitions: Partition[] = Array.from({ length: 10 }, (_, i) => ({
      partitionName: `p${i}`,
      partitionDescription: long(3000),
      protocol: 'NFS',
      size: 10,
      partitionCapacity: 1,
      usedBySnapshots: null,
    }));
    const built = partitionsMessage('zpool-1', { items: partitions, page: 2, pageCount: 5, total: 50 });
    expectWithinLimits(built.blocks);
    const actions = built.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string }>;
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['nasha_page_previous', 'nasha_page_next']);
    expect(JSON.parse(actions.elements[1]?.value ?? '')).toEqual({ view: 'partitions', service: 'zpool-1', page: 3 });

    const items: PartitionSnapshots[] = Array.from({ length: 60 }, (_, i) => ({
      service: 'zpool-1',
      partition: `p${i}`,
      schedule: ['hour-1'],
      custom: Array.from({ length: 10 }, (_unused, j) => ({
        name: `${long(90)}-${j}`,
        expiration: j % 2 ? null : '2026-12-01T00:00:00Z',
      })),
    }));
    expectWithinLimits(snapshotsMessage('zpool-1', { items, page: 1, pageCount: 1, total: 60 }, NOW).blocks);
  });

  it('help lists the commands of the offered actions, marking those that need a second person', () => {
    const read = JSON.stringify(helpMessage([{ action: ACTIONS.read, mode: 'run' }], ['zpool-9/db']).blocks);
    const more = JSON.stringify(
      helpMessage(
        [
          { action: ACTIONS.read, mode: 'run' },
          { action: ACTIONS['snapshot.delete'], mode: 'approval' },
        ],
        ['zpool-9/db'],
      ).blocks,
    );
    expect((read.match(/• `/g) ?? []).length).toBeLessThan((more.match(/• `/g) ?? []).length);
    expect(more).toMatch(/needs a second person/);
    // Examples use the reader's own target, never another service.
    expect(more).toContain('zpool-9/db');
    expect(more).not.toContain('zpool-128310');
    expect(JSON.stringify(helpMessage([], []).blocks)).toMatch(/no access/);
  });

  it('errors and results escape user text and stay short', () => {
    const SCRIPT_FAILURE = { outcome: 'failed', status: 'error', details: '<script>&' } as const;
    const built = errorMessage({ problem: { kind: 'invalid_name', name: `<@U0EVIL> ${long(10_000)}` } });
    expectWithinLimits(built.blocks);
    expect(JSON.stringify(built.blocks)).not.toContain('<@U0EVIL>');
    const failed = changeLinesMessage([
      {
        draft: { action: 'snapshot.create', target: { service: 'zpool-1', partition: 'data' }, name: 'x' },
        state: {
          kind: 'finished',
          outcome: {
            kind: 'started',
            request: { action: 'snapshot.create', target: { service: 'zpool-1', partition: 'data' }, name: 'x' },
            auditId: 'a',
            task: { taskId: 4, status: 'todo' } as never,
            done: Promise.resolve({ outcome: 'failed', taskId: 4, failure: SCRIPT_FAILURE }),
          },
          result: { outcome: 'failed', taskId: 4, failure: SCRIPT_FAILURE },
        },
      },
    ]);
    expect(JSON.stringify(failed.blocks)).toContain('&lt;script&gt;&amp;');
  });

  it('message() never returns more than 50 blocks', () => {
    const blocks: Block[] = Array.from({ length: 120 }, () => ({ type: 'divider' }));
    expect(message('t', blocks).blocks).toHaveLength(50);
  });
});

describe('modal builders', () => {
  it('keep titles and buttons ≤ 24 characters and ≤ 100 options', () => {
    const views = [
      mainModal('m'),
      mainModal('m', 'partition_x', 'zpool-with-a-very-long-service-name-indeed'),
      createModal('m', 'zpool-1/data', 'snap-data-20261128-090000', 3),
      scheduleModal('m', 'zpool-1/data', ['hour-1', 'day-7']),
      deleteModal(
        'm',
        'zpool-1/data',
        Array.from({ length: 300 }, (_, i) => `snap-${i}`),
      ),
      deleteModal('m', 'zpool-1/data', []),
      resultModal(
        'm',
        long(200),
        Array.from({ length: 300 }, () => ({ type: 'divider' }) as Block),
      ),
    ];
    for (const view of views) {
      expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
      if (view.submit) expect(view.submit.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
      if (view.close) expect(view.close.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
      expectWithinLimits(view.blocks, LIMITS.modalBlocks);
    }
  });

  it('the schedule modal checks the enabled frequencies, like OVH’s control panel', () => {
    const json = JSON.stringify(scheduleModal('m', 'zpool-1/data', ['hour-1', 'day-7']));
    expect(json).toMatch(/"initial_options":\[\{[^\]]*"value":"hour-1"[^\]]*"value":"day-7"/);
  });
});
