import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotHarness, startBotHarness, TEST_CONFIG_NO_APPROVALS, USERS } from '../support/bot-harness.js';
import {
  blockSuggestion,
  checkboxes,
  datePicker,
  select,
  staticSelect,
  textInput,
  viewAction,
  viewSubmission,
} from '../support/slack-payloads.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
});
afterAll(async () => {
  await h?.close();
});

type View = {
  callback_id: string;
  private_metadata: string;
  title: { text: string };
  blocks: Array<Record<string, unknown>>;
};

async function openModal(user: string = USERS.admin): Promise<View> {
  const opened = h.slack.callsTo('views.open').length;
  const { ack, triggerId } = await h.command('snapshot', { user });
  expect(ack.status).toBe(200);
  expect(ack.body).toBe('');
  await h.slack.waitFor(() => h.slack.callsTo('views.open').length > opened, 'views.open');
  const call = h.slack.callsTo('views.open').at(-1);
  expect(call?.args['trigger_id']).toBe(triggerId);
  return call?.args['view'] as View;
}

async function options(user: string, actionId: string, query: string, metadata: string, state = {}): Promise<string[]> {
  const res = await h.interact(
    blockSuggestion(user, actionId, query, { callback_id: 'nasha_modal_main', private_metadata: metadata, state }),
  );
  expect(res.status).toBe(200);
  return (res.json() as { options: Array<{ value: string }> }).options.map((o) => o.value);
}

async function lastViewUpdate(predicate: (view: View) => boolean): Promise<View> {
  let found: View | undefined;
  await h.slack.waitFor(() => {
    found = h.slack
      .callsTo('views.update')
      .map((c) => c.args['view'] as View)
      .reverse()
      .find(predicate);
    return found !== undefined;
  }, 'a matching views.update');
  return found as View;
}

const mainState = (service: string, partition: string, action: string) => ({
  service: { service: select(service) },
  partition: { partition: select(partition) },
  action: { action: staticSelect(action) },
});

describe('/nasha snapshot modal', () => {
  it('opens service → partition → action with options loaded from the API (type-ahead, ≤ 100)', async () => {
    const view = await openModal();
    expect(view.callback_id).toBe('nasha_modal_main');
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(await options(USERS.admin, 'service', '', view.private_metadata)).toEqual(
      expect.arrayContaining(['zpool-128310', 'zpool-204117', 'zpool-310442']),
    );
    expect(await options(USERS.admin, 'service', '2041', view.private_metadata)).toEqual(['zpool-204117']);
    const withService = { service: { service: select('zpool-310442') } };
    const all = await options(USERS.admin, 'partition', '', view.private_metadata, withService);
    expect(all).toHaveLength(100);
    expect(await options(USERS.admin, 'partition', 'vol-11', view.private_metadata, withService)).toEqual([
      'vol-110',
      'vol-111',
      'vol-112',
      'vol-113',
      'vol-114',
      'vol-115',
      'vol-116',
      'vol-117',
      'vol-118',
      'vol-119',
    ]);
    // Scoped users only see their scope; forged metadata gets nothing.
    expect(await options(USERS.scoped, 'service', '', view.private_metadata)).toEqual([]);
    const scopedView = await openModal(USERS.scoped);
    expect(await options(USERS.scoped, 'service', '', scopedView.private_metadata)).toEqual(['zpool-204117']);
  });

  it('changing the service resets the partition menu', async () => {
    const view = await openModal();
    const res = await h.interact(
      viewAction(USERS.admin, 'service', 'zpool-204117', {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: { service: { service: select('zpool-204117') } },
      }),
    );
    expect(res.status).toBe(200);
    const updated = await lastViewUpdate((v) => v.callback_id === 'nasha_modal_main');
    expect(updated.blocks.map((b) => b['block_id'])).toContain(
      `partition_${Buffer.from('zpool-204117').toString('base64url')}`,
    );
  });

  it('create: name prefilled, invalid input shown inline, then progress until OVH is done', async () => {
    const view = await openModal(USERS.operator);
    const next = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-128310', 'logs', 'create'),
      }),
    );
    const update = next.json() as { response_action: string; view: View };
    expect(update.response_action).toBe('update');
    expect(update.view.callback_id).toBe('nasha_modal_create');
    expect(JSON.stringify(update.view)).toMatch(/"initial_value":"snap-logs-\d{8}-\d{6}"/);

    const form = { callback_id: 'nasha_modal_create', private_metadata: update.view.private_metadata };
    const bad = await h.interact(
      viewSubmission(USERS.operator, {
        ...form,
        state: { name: { name: textInput('bad name!') }, expiration: { expiration: datePicker('2020-01-01') } },
      }),
    );
    expect(bad.json()).toMatchObject({
      response_action: 'errors',
      errors: {
        name: expect.stringContaining('not a valid snapshot name'),
        expiration: expect.stringContaining('in the past'),
      },
    });

    const good = await h.interact(
      viewSubmission(USERS.operator, {
        ...form,
        state: { name: { name: textInput('from-modal') }, expiration: { expiration: datePicker('2026-12-31') } },
      }),
    );
    expect(good.json()).toMatchObject({ response_action: 'update' });
    const done = await lastViewUpdate((v) => JSON.stringify(v).includes('done (task'));
    expect(JSON.stringify(done)).toContain('create snapshot `from-modal` on `zpool-128310/logs`');
    const created = h.sim.requests.find((r) => r.method === 'POST' && r.path.endsWith('/logs/customSnapshot'));
    expect(created?.status).toBe(200);
  });

  it('schedule: the six frequencies as checkboxes; one add/remove per change', async () => {
    const view = await openModal();
    await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-204117', 'uploads', 'schedule'),
      }),
    );
    const form = await lastViewUpdate((v) => v.callback_id === 'nasha_modal_schedule');
    const element = JSON.stringify(form);
    expect(element).toContain('"initial_options"');
    for (const type of ['hour-1', 'hour-6', 'day-1', 'day-2', 'day-3', 'day-7'])
      expect(element).toContain(`"value":"${type}"`);
    // Enabled now: hour-1, day-2. Wanted: hour-1, day-7 → add day-7, remove day-2.
    const before = h.sim.requests.filter((r) => r.method !== 'GET').length;
    await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: 'nasha_modal_schedule',
        private_metadata: form.private_metadata,
        state: { frequencies: { frequencies: checkboxes(['hour-1', 'day-7']) } },
      }),
    );
    const done = await lastViewUpdate((v) => (JSON.stringify(v).match(/done \(task/g) ?? []).length === 2);
    expect(JSON.stringify(done)).toContain('enable `day-7`');
    expect(JSON.stringify(done)).toContain('disable `day-2`');
    expect(h.sim.requests.filter((r) => r.method !== 'GET').length - before).toBe(2);
  });

  it('delete: choose among the partition’s custom snapshots', async () => {
    const view = await openModal();
    await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-204117', 'db', 'delete'),
      }),
    );
    const form = await lastViewUpdate((v) => v.callback_id === 'nasha_modal_delete');
    expect(JSON.stringify(form)).toContain('snap-db-keep');
    await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: 'nasha_modal_delete',
        private_metadata: form.private_metadata,
        state: { snapshot: { snapshot: staticSelect('snap-db-keep') } },
      }),
    );
    const done = await lastViewUpdate(
      (v) => JSON.stringify(v).includes('delete snapshot `snap-db-keep`') && JSON.stringify(v).includes('done (task'),
    );
    expect(done.callback_id).toBe('nasha_modal_result');
  });

  it('list: shows the listing in the modal', async () => {
    const view = await openModal(USERS.viewer);
    await h.interact(
      viewSubmission(USERS.viewer, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-128310', 'data', 'list'),
      }),
    );
    const result = await lastViewUpdate((v) => JSON.stringify(v).includes('snap-data-pre-upgrade'));
    expect(result.callback_id).toBe('nasha_modal_result');
  });

  it('refuses inline what the user may not do, and validates missing fields', async () => {
    const view = await openModal(USERS.viewer);
    const denied = await h.interact(
      viewSubmission(USERS.viewer, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-128310', 'data', 'create'),
      }),
    );
    expect(denied.json()).toMatchObject({
      response_action: 'errors',
      errors: { action: expect.stringMatching(/You need operator on zpool-128310\/data/) },
    });
    const missing = await h.interact(
      viewSubmission(USERS.viewer, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: { action: { action: staticSelect('list') } },
      }),
    );
    expect(missing.json()).toMatchObject({
      response_action: 'errors',
      errors: { service: 'Choose a service.', partition: 'Choose a partition.' },
    });
    // Metadata issued to the viewer is not valid for someone else.
    const stolen = await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-128310', 'data', 'delete'),
      }),
    );
    expect(stolen.json()).toMatchObject({ response_action: 'errors' });
  });
});
