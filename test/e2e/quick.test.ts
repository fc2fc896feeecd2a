import { afterEach, describe, expect, it } from 'vitest';
import { compareOldest, quickSnapshotName, sanitizeLabel } from '../../src/core/quick-snapshots.js';
import {
  type BotHarness,
  type BotHarnessOptions,
  CHANNELS,
  messageText,
  startBotHarness,
  TEST_CONFIG,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick, textInput, viewSubmission } from '../support/slack-payloads.js';
import { interactivityBody } from '../support/slack-requests.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

async function start(options: BotHarnessOptions = {}): Promise<BotHarness> {
  h = await startBotHarness({ config: TEST_CONFIG, ...options });
  return h;
}

/** The harness clock starts at 2026-11-28 09:00 UTC; background pacing may move it a little. */
const STAMP = '20261128T09\\d\\d';
const has = (text: string, pattern: string) => new RegExp(pattern).test(text);

/** The latest rendering of the quick-snapshot summary in a channel. */
function summary(channel: string): string {
  const calls = h.slack.calls.filter(
    (c) =>
      (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
      c.args['channel'] === channel &&
      /^Quick snapshots /.test(String(c.args['text'])),
  );
  return messageText(calls.at(-1)?.args ?? {});
}

async function quick(
  text: string,
  user: string = USERS.operator,
  channel: string = CHANNELS.incident,
): Promise<string> {
  const { id, ack } = await h.command(`snapshot quick ${text}`, { user, channel });
  expect(ack.status).toBe(200);
  const texts = await h.replies(id, (t) => t.length > 0);
  return texts.join('\n') + messageText(h.slack.replies(id).at(-1) ?? {});
}

async function finalSummary(channel: string = CHANNELS.incident): Promise<string> {
  await h.slack.waitFor(
    () =>
      /^# ?|Quick snapshots — /.test(summary(channel)) &&
      !/in progress/.test(summary(channel)) &&
      /done/.test(summary(channel)),
    'the final summary',
  );
  return summary(channel);
}

const posts = () => h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/customSnapshot'));

describe('incident quick snapshots', () => {
  it('a whole service: every partition in parallel, deterministic names, one live summary, one audit record', async () => {
    await start();
    expect(await quick('zpool-204117 inc-2041')).toContain('The summary is posted in this channel');
    const done = await finalSummary();
    for (const partition of ['db', 'uploads', 'media', 'scratch']) {
      expect(has(done, `\`inc-2041-${partition}-${STAMP}\``)).toBe(true);
    }
    expect(done).toContain('4/4 done');
    // One message, rewritten in place.
    expect(h.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === CHANNELS.incident)).toHaveLength(1);
    // Expiration from the config default (7 days).
    expect(posts().length).toBe(4);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some((m) => /Quick snapshots/.test(JSON.stringify(m.args)) && /Succeeded/.test(String(m.args['text']))),
      'the audit record of the run',
    );
    const audit = JSON.stringify(
      h
        .auditMessages()
        .filter((m) => /Quick snapshots/.test(JSON.stringify(m.args)))
        .at(-1)?.args,
    );
    expect(audit).toContain('inc-2041');
    expect(has(audit, `zpool-204117/db/inc-2041-db-${STAMP}`)).toBe(true);
  });

  it('a single partition, and a named group from the config', async () => {
    await start();
    await quick('zpool-128310/logs hotfix --expires 2d');
    expect(has(await finalSummary(), `hotfix-logs-${STAMP}`)).toBe(true);
    await quick('payments db-failover', USERS.operator, CHANNELS.ops);
    const group = await finalSummary(CHANNELS.ops);
    expect(has(group, `\`db-failover-data-${STAMP}\``)).toBe(true);
    expect(has(group, `\`db-failover-db-${STAMP}\``)).toBe(true);
  });

  it('is idempotent within the same minute: a re-run makes no duplicates', async () => {
    await start();
    await quick('zpool-128310/logs retry');
    await finalSummary();
    await quick('zpool-128310/logs retry');
    await h.slack.waitFor(() => /already taken this minute/.test(summary(CHANNELS.incident)), 'the second summary');
    const list = await h.command('snapshot list zpool-128310/logs');
    await h.replies(list.id, (t) => t.length > 0);
    const listed = messageText(h.slack.replies(list.id)[0] ?? {});
    expect(listed.match(new RegExp(`retry-logs-${STAMP}`, 'g'))).toHaveLength(1);
  });

  it('a partition at 10/10 is reported with its snapshots oldest first and a "delete oldest" button through approval', async () => {
    await start();
    await quick('zpool-128310 inc-full');
    const done = await finalSummary();
    expect(done).toContain('`zpool-128310/backups` — 10/10 custom snapshots');
    expect(done).toContain('2/3 done');
    // The seed made week-01 first (70 days ago): unknown to the bot, so ordered by expiration then name.
    const listStart = done.indexOf('is full (10/10), oldest first');
    expect(done.indexOf('snap-backups-week-01', listStart)).toBeLessThan(
      done.indexOf('snap-backups-week-02', listStart),
    );
    const button = /"action_id":"nasha_quick_delete_oldest".*?"value":"((?:[^"\\]|\\.)*)"/.exec(done);
    expect(button).not.toBeNull();
    const value = JSON.parse(`"${button?.[1]}"`) as string;
    expect(JSON.parse(value)).toMatchObject({ s: 'zpool-128310', p: 'backups', n: 'snap-backups-week-01' });
    const deletesBefore = h.sim.requests.filter((r) => r.method === 'DELETE').length;
    const res = await h.interact(
      buttonClick({
        user: USERS.operator,
        channel: CHANNELS.incident,
        actionId: 'nasha_quick_delete_oldest',
        value,
        responseUrl: h.slack.responseUrl('oldest'),
      }),
    );
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.replies('oldest').length > 0, 'the answer');
    // An ordinary delete through the desk: by default it needs a second person, so it is filed, not run.
    const answer = messageText(h.slack.replies('oldest')[0] ?? {});
    expect(answer).toMatch(/pending approval #[A-Z0-9]{6}/);
    expect(answer).toContain('snapshot `snap-backups-week-01` on `zpool-128310/backups`');
    expect(h.sim.requests.filter((r) => r.method === 'DELETE').length).toBe(deletesBefore); // nothing deleted automatically
  });

  it('one OVH task failing does not stop the others', async () => {
    await start();
    h.sim.addTaskOutcomes({
      partition: 'uploads',
      outcome: 'ovhError',
      details: 'zfs: out of space in the snapshot reserve',
    });
    await quick('zpool-204117 inc-mixed');
    const done = await finalSummary();
    expect(done).toContain('3/4 done');
    expect(done).toContain(
      "`zpool-204117/uploads` — failed: OVH's task ended in `ovhError`: `zfs: out of space in the snapshot reserve`",
    );
  });

  it('a user without rights is refused and it is audited; a responder-group member is allowed', async () => {
    await start();
    const refused = await quick('zpool-204117 nope', USERS.viewer);
    // The first partition's refusal, naming the partition (the viewer's grant covers it), never "on it".
    expect(refused).toMatch(/You need \*operator\* on `zpool-204117\/[a-z]+` \(you have \*viewer\* via /);
    expect(posts()).toHaveLength(0);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some((m) => /Quick snapshots/.test(JSON.stringify(m.args)) && /Denied/.test(String(m.args['text']))),
      'the refusal audited',
    );
    await quick('zpool-128310/logs responders', USERS.responder);
    expect(has(await finalSummary(), `responders-logs-${STAMP}`)).toBe(true);
  });

  it('"Snapshot now" on a message: label from the channel name, reason links the message, last target prefilled', async () => {
    await start();
    await quick('zpool-128310/logs first'); // remembered as the channel's last target
    await finalSummary();
    h.slack.on('chat.getPermalink', () => ({
      body: { ok: true, permalink: 'https://acme.slack.com/archives/C0INCIDENT/p1700000000000100' },
    }));
    const shortcut = {
      type: 'message_action',
      callback_id: 'nasha_quick_message',
      trigger_id: '1337.99.abc',
      team: { id: 'T1', domain: 'acme' },
      user: { id: USERS.operator, name: 'carol' },
      channel: { id: CHANNELS.incident, name: 'inc-2042-DB outage' },
      message: { type: 'message', ts: '1700000000.000100', text: 'db is down' },
      message_ts: '1700000000.000100',
      response_url: h.slack.responseUrl('shortcut'),
      action_ts: '1700000002.000000',
      token: 'legacy',
    };
    expect((await h.interact(shortcut)).status).toBe(200);
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > 0, 'the form');
    const view = h.slack.callsTo('views.open')[0]?.args['view'] as { callback_id: string; private_metadata: string };
    const form = JSON.stringify(view);
    expect(form).toContain('"initial_value":"zpool-128310/logs"');
    expect(form).toContain('"initial_value":"inc-2042-db-outage"');
    expect(form).toContain('p1700000000000100');
    const submit = await h.interact(
      viewSubmission(USERS.operator, {
        ...view,
        state: {
          quick_target: { quick_target: textInput('zpool-204117/db') },
          quick_label: { quick_label: textInput('inc-2042-db-outage') },
          quick_expiration: { quick_expiration: { type: 'static_select', selected_option: { value: '3d' } } },
          quick_reason: {
            quick_reason: textInput('Incident message: https://acme.slack.com/archives/C0INCIDENT/p1700000000000100'),
          },
        },
      }),
    );
    expect(submit.body).toBe('');
    await h.slack.waitFor(
      () => /inc-2042-db-outage-db-/.test(summary(CHANNELS.incident)) && /1\/1 done/.test(summary(CHANNELS.incident)),
      'the summary from the form',
    );
    expect(summary(CHANNELS.incident)).toContain('p1700000000000100');
    // A bad target is shown on the form itself.
    const bad = await h.interact(
      viewSubmission(USERS.operator, {
        ...view,
        state: {
          quick_target: { quick_target: textInput('zpool-20411') },
          quick_label: { quick_label: textInput('x') },
        },
      }),
    );
    expect(bad.json()).toMatchObject({
      response_action: 'errors',
      // Plain text, as Slack shows form errors: what was typed and the suggestions quoted.
      errors: {
        quick_target: expect.stringMatching(
          /^“zpool-20411” is neither a NAS-HA service you can see nor a group\. Did you mean “zpool-204117”/,
        ),
      },
    });
  });

  it('runs partitions in parallel: with slow OVH answers, all creations start before the first one returns', async () => {
    await start();
    h.sim.addFaults({
      method: 'POST',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot',
      fault: { type: 'latency', ms: 300 },
    });
    const arrivals: number[] = [];
    const before = h.sim.requests.length;
    await quick('zpool-204117 inc-parallel');
    await finalSummary();
    const created = h.sim.requests.slice(before).filter((r) => r.method === 'POST');
    for (const r of created) arrivals.push(r.at);
    expect(created).toHaveLength(4);
    // Each POST waits 300 ms at OVH: sequential would spread arrivals over ≥ 900 ms.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(300);
    // Requests: the creations, then one request per polling round (not one GET per task).
    const taskGets = h.sim.requests.slice(before).filter((r) => /\/task\/\d+$/.test(r.path));
    const polls = h.sim.requests.slice(before).filter((r) => r.path.endsWith('/task'));
    // A round is one `done` list, or one GET when a single task is left; a task missing from the
    // list three rounds running costs a GET (or the todo/doing lists when many are). Per-task polling
    // would cost one GET per task per round.
    const rounds = polls.filter((r) => r.query['status'] === 'done').length + taskGets.length;
    expect(taskGets.length + polls.length).toBeLessThan(created.length * rounds);
  });

  it('a restart mid-run: the next process follows the tasks again and finishes the summary and audit record', async () => {
    // Tasks that take two days: virtual time advances by at most a second per wake-up, so they cannot
    // end before the restart; the clock is then moved on by hand.
    const taskMs = 2 * 86_400_000;
    const patient = { tracker: { defaultTimeoutMs: 3 * 86_400_000 } };
    await start({ sim: { taskTimings: { doingAfterMs: 1_000, doneAfterMs: taskMs } }, overrides: patient });
    await quick('zpool-204117 inc-restart');
    await h.slack.waitFor(() => posts().filter((r) => r.status === 200).length === 4, 'the four creations');
    expect(summary(CHANNELS.incident)).toMatch(/0\/4 done/);
    // A graceful stop waits for creations and saves under way, so the saved run has every task id.
    await h.restart(patient);
    h.clock.set(h.clock.now() + taskMs);
    const done = await finalSummary();
    expect(done).toContain('4/4 done');
    for (const partition of ['db', 'uploads', 'media', 'scratch']) {
      expect(has(done, `\`inc-restart-${partition}-${STAMP}\``)).toBe(true);
    }
    expect(posts()).toHaveLength(4); // followed again, never created twice
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some((m) => /inc-restart/.test(JSON.stringify(m.args)) && /Succeeded/.test(String(m.args['text']))),
      'the audit record of the run, completed by the new process',
    );
    expect(h.logLines.some((l) => l.includes('finishing quick snapshot runs left by the previous run'))).toBe(true);
  });

  it('"Snapshot now" from the shortcuts menu: a refusal is shown on the form, and audited', async () => {
    await start();
    const shortcut = {
      type: 'shortcut',
      callback_id: 'nasha_quick_global',
      trigger_id: '1337.98.abc',
      team: { id: 'T1', domain: 'acme' },
      user: { id: USERS.viewer, name: 'vera' },
      action_ts: '1700000003.000000',
      token: 'legacy',
    };
    expect((await h.interact(shortcut)).status).toBe(200);
    await h.slack.waitFor(() => h.slack.callsTo('views.open').length > 0, 'the form');
    const view = h.slack.callsTo('views.open')[0]?.args['view'] as { callback_id: string; private_metadata: string };
    const refused = await h.interact(
      viewSubmission(USERS.viewer, {
        ...view,
        state: {
          quick_target: { quick_target: textInput('zpool-204117') },
          quick_label: { quick_label: textInput('nope') },
        },
      }),
    );
    expect(refused.json()).toMatchObject({
      response_action: 'errors',
      errors: {
        quick_target: expect.stringMatching(
          /^You need operator on “zpool-204117\/[a-z]+” \(you have viewer via a direct grant\)\.$/,
        ),
      },
    });
    expect(posts()).toHaveLength(0);
    await h.slack.waitFor(
      () =>
        h
          .auditMessages()
          .some(
            (m) =>
              /Quick snapshots/.test(JSON.stringify(m.args)) &&
              /Denied/.test(String(m.args['text'])) &&
              JSON.stringify(m.args).includes(`<@${USERS.viewer}>`),
          ),
      'the refusal audited',
    );
  });

  it('rejects malformed shortcut payloads quietly', async () => {
    await start();
    const res = await h.interact({ type: 'message_action', callback_id: 'nasha_quick_message', user: { id: 'bad' } });
    expect(res.status).toBeLessThan(500);
    expect(interactivityBody({})).toBe('payload=%7B%7D');
  });
});

describe('naming and ordering', () => {
  it('names are <label>-<partition>-<UTC yyyymmddThhmm> in OVH’s characters', () => {
    expect(quickSnapshotName('inc-2041', 'db', Date.UTC(2026, 10, 28, 9, 5, 59))).toBe('inc-2041-db-20261128T0905');
    expect(sanitizeLabel('#INC 2041: DB/outage!')).toBe('inc-2041-db-outage');
    expect(sanitizeLabel('!!!')).toBe('incident');
    expect(quickSnapshotName('x'.repeat(200), 'p', 0).length).toBeLessThanOrEqual(100);
  });

  it('orders by the time the bot recorded, then expiration, then name', () => {
    const list = [
      { name: 'c', expiration: null, createdAt: null },
      { name: 'b', expiration: '2026-12-01T00:00:00Z', createdAt: null },
      { name: 'a', expiration: '2026-12-05T00:00:00Z', createdAt: null },
      { name: 'z', expiration: null, createdAt: 5 },
      { name: 'y', expiration: null, createdAt: 3 },
    ];
    expect([...list].sort(compareOldest).map((s) => s.name)).toEqual(['y', 'z', 'b', 'a', 'c']);
  });
});
