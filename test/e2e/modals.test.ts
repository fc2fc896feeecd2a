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

/** The plain text of a command's refusal (its notification text), from the ack or the reply. */
async function commandRefusal(text: string, user: string): Promise<string> {
  const { ack, id } = await h.command(text, { user });
  const acked = ack.body === '' ? '' : String((ack.json() as { text?: unknown }).text ?? '');
  // The form's inline error is plain text (“…”); the command's notification text has code spans.
  const plainly = (x: string) => x.replace(/`([^`]*)`/g, '“$1”');
  if (acked.startsWith('You ')) return plainly(acked);
  const texts = await h.replies(id, (t) => t.some((x) => x.startsWith('You ')));
  return plainly(texts.find((x) => x.startsWith('You ')) ?? '');
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
        state: { name: { name: textInput('bad name!') }, expiration: { expiration: textInput('2020-01-01') } },
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
        state: { name: { name: textInput('from-modal') }, expiration: { expiration: textInput('2026-12-31') } },
      }),
    );
    expect(good.json()).toMatchObject({ response_action: 'update' });
    // The same lines as the command's reply (one change routine for both).
    const done = await lastViewUpdate((v) => JSON.stringify(v).includes(':white_check_mark: Done:'));
    expect(JSON.stringify(done)).toContain('Done: Create snapshot `from-modal` on `zpool-128310/logs`.');
    expect(JSON.stringify(done)).toMatch(/OVH task `\d+` is done/);
    const created = h.sim.requests.find((r) => r.method === 'POST' && r.path.endsWith('/logs/customSnapshot'));
    expect(created?.status).toBe(200);
  });

  it("create: the expiry takes what --expires takes (12h, a date-time), with the command's messages inline", async () => {
    const view = await openModal(USERS.operator);
    const next = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-204117', 'uploads', 'create'),
      }),
    );
    const createForm = (next.json() as { view: View }).view;
    const expiry = createForm.blocks.find((b) => b['block_id'] === 'expiration');
    expect(expiry).toMatchObject({
      type: 'input',
      optional: true,
      element: { type: 'plain_text_input', action_id: 'expiration' },
      hint: { text: expect.stringContaining('12h') },
    });
    const form = { callback_id: 'nasha_modal_create', private_metadata: createForm.private_metadata };
    const submit = (name: string, expires: string) =>
      h.interact(
        viewSubmission(USERS.operator, {
          ...form,
          state: { name: { name: textInput(name) }, expiration: { expiration: textInput(expires) } },
        }),
      );

    // The command and the form refuse the same input with the same words (the form's are plain text).
    const commandSays = async (expires: string) => {
      const { id } = await h.command(`snapshot create zpool-204117/uploads never-made --expires ${expires}`, {
        user: USERS.operator,
      });
      const texts = await h.replies(id, (t) => t.length > 0);
      return texts.join('\n');
    };
    const formSays = async (expires: string) => {
      const res = await submit('never-made', expires);
      const body = res.json() as { response_action: string; errors: Record<string, string> };
      expect(body.response_action).toBe('errors');
      expect(Object.keys(body.errors)).toEqual(['expiration']);
      return body.errors['expiration'] ?? '';
    };
    const impossible = 'The expiration `2027-02-30` is not a real date: February 2027 has 28 days.';
    expect(await commandSays('2027-02-30')).toContain(impossible);
    expect(await formSays('2027-02-30')).toBe(impossible.replace(/`([^`]*)`/g, '“$1”'));
    const today = new Date(h.clock.now()).toISOString().slice(0, 10);
    const past = `The expiration \`${today}\` (${today} 00:00 UTC) is in the past: it is now `;
    expect(await commandSays(today)).toContain(past);
    expect(await formSays(today)).toContain(past.replace(/`([^`]*)`/g, '“$1”'));
    expect(await formSays('12h1d')).toMatch(/^The expiration “12h1d” puts d after h: write the larger unit first/);
    expect(await formSays('soon')).toMatch(/^“soon” is not an expiration: use a duration from now \(“30m”, “12h”/);
    expect(h.sim.state.listCustomSnapshots('zpool-204117', 'uploads')).not.toContain('never-made');

    // 12h from now: what the date-only picker could not offer.
    const before = h.clock.now();
    expect((await submit('in-12-hours', ' 12 H ')).json()).toMatchObject({ response_action: 'update' });
    const after = h.clock.now();
    await lastViewUpdate((v) => JSON.stringify(v).includes('Done: Create snapshot `in-12-hours`'));
    const expiration = h.sim.state.getCustomSnapshot('zpool-204117', 'uploads', 'in-12-hours').expiration;
    expect(expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    const at = Date.parse(expiration ?? '');
    expect(at - 12 * 3_600_000).toBeGreaterThanOrEqual(before);
    expect(at - 12 * 3_600_000).toBeLessThanOrEqual(after);

    // A date-time with its zone is sent to OVH in UTC; an empty field means no expiration.
    expect((await submit('at-six', '2026-12-31T18:00+01:00')).json()).toMatchObject({ response_action: 'update' });
    expect((await submit('forever', '   ')).json()).toMatchObject({ response_action: 'update' });
    await h.slack.waitFor(
      () => h.sim.state.listCustomSnapshots('zpool-204117', 'uploads').includes('forever'),
      'the snapshot without expiration',
    );
    await h.slack.waitFor(
      () => h.sim.state.listCustomSnapshots('zpool-204117', 'uploads').includes('at-six'),
      'the snapshot at six',
    );
    expect(h.sim.state.getCustomSnapshot('zpool-204117', 'uploads', 'at-six').expiration).toBe('2026-12-31T17:00:00Z');
    expect(h.sim.state.getCustomSnapshot('zpool-204117', 'uploads', 'forever').expiration).toBeNull();
  });

  it('create: a form opened before the expiry became text (a datepicker value) still submits', async () => {
    const view = await openModal(USERS.operator);
    const next = await h.interact(
      viewSubmission(USERS.operator, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-204117', 'uploads', 'create'),
      }),
    );
    const form = {
      callback_id: 'nasha_modal_create',
      private_metadata: (next.json() as { view: View }).view.private_metadata,
    };
    const bad = await h.interact(
      viewSubmission(USERS.operator, {
        ...form,
        state: { name: { name: textInput('old-form') }, expiration: { expiration: datePicker('2027-02-29') } },
      }),
    );
    expect(bad.json()).toEqual({
      response_action: 'errors',
      errors: { expiration: 'The expiration “2027-02-29” is not a real date: February 2027 has 28 days.' },
    });
    const good = await h.interact(
      viewSubmission(USERS.operator, {
        ...form,
        state: { name: { name: textInput('old-form') }, expiration: { expiration: datePicker('2027-01-15') } },
      }),
    );
    expect(good.json()).toMatchObject({ response_action: 'update' });
    await h.slack.waitFor(
      () => h.sim.state.listCustomSnapshots('zpool-204117', 'uploads').includes('old-form'),
      'the snapshot from the old form',
    );
    expect(h.sim.state.getCustomSnapshot('zpool-204117', 'uploads', 'old-form').expiration).toBe(
      '2027-01-15T00:00:00Z',
    );
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
    const done = await lastViewUpdate((v) => (JSON.stringify(v).match(/Done: /g) ?? []).length === 2);
    expect(JSON.stringify(done)).toContain('Done: Enable `day-7` snapshots on `zpool-204117/uploads`.');
    expect(JSON.stringify(done)).toContain('Done: Disable `day-2` snapshots on `zpool-204117/uploads`.');
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
    const done = await lastViewUpdate((v) =>
      JSON.stringify(v).includes('Done: Delete snapshot `snap-db-keep` on `zpool-204117/db`.'),
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
    // Plain text, as Slack shows form errors: the target quoted, no mrkdwn left over.
    expect(denied.json()).toEqual({
      response_action: 'errors',
      errors: { action: 'You need operator on “zpool-128310/data” (you have viewer via a direct grant).' },
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

  it('a refusal on the form is the command’s refusal, word for word (both from the gate’s data)', async () => {
    const view = await openModal(USERS.viewer);
    const choose = async (action: string) => {
      const res = await h.interact(
        viewSubmission(USERS.viewer, {
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          state: mainState('zpool-128310', 'logs', action),
        }),
      );
      return (res.json() as { errors: Record<string, string> }).errors['action'];
    };
    const createRefused = await choose('create');
    const scheduleRefused = await choose('schedule');
    expect(createRefused).toBe('You need operator on “zpool-128310/logs” (you have viewer via a direct grant).');
    expect(scheduleRefused).toBe(createRefused);
    expect(await commandRefusal('snapshot create zpool-128310/logs nope', USERS.viewer)).toBe(createRefused);
    expect(await commandRefusal('snapshot schedule add zpool-128310/logs day-7', USERS.viewer)).toBe(scheduleRefused);
  });

  it('the frequencies form with nothing changed sends nothing', async () => {
    const view = await openModal();
    await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: mainState('zpool-128310', 'backups', 'schedule'),
      }),
    );
    const form = await lastViewUpdate(
      (v) => v.callback_id === 'nasha_modal_schedule' && JSON.stringify(v).includes('zpool-128310/backups'),
    );
    expect(JSON.stringify(form)).not.toContain('"block_id":"reason"'); // approvals are off here
    const before = h.sim.requests.filter((r) => r.method !== 'GET').length;
    const res = await h.interact(
      viewSubmission(USERS.admin, {
        callback_id: 'nasha_modal_schedule',
        private_metadata: form.private_metadata,
        state: { frequencies: { frequencies: checkboxes(['hour-1', 'day-1']) } },
      }),
    );
    expect(JSON.stringify(res.json())).toContain('Nothing to change on `zpool-128310/backups`.');
    expect(h.sim.requests.filter((r) => r.method !== 'GET').length).toBe(before);
  });
});
