import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HeldRequest, Simulator } from '../../src/ovh/simulator/index.js';
import { startSimulator } from '../../src/ovh/simulator/index.js';
import { SQLITE_FILE_NAME } from '../../src/store/database.js';
import {
  APPROVALS_CHANNEL,
  AUDIT_CHANNEL,
  SIGNING_SECRET,
  TEST_CONFIG,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import { type BotProcess, botProcessEnv, spawnBot } from '../support/bot-process.js';
import { FakeSlack } from '../support/fake-slack.js';
import { buttonClick } from '../support/slack-payloads.js';
import { interactivityBody, postSigned, slashCommandBody } from '../support/slack-requests.js';

/**
 * Issue 14: what the bot records is what OVH did, under every fault. Real bot processes (src/main.ts) against
 * the simulator, killed at each step of a change; the simulator holds the request or its answer at that step
 * and tells the test, which then kills the bot. Every change OVH applied must end with a true audit record and
 * a true reply; every change it did not apply must say so.
 */
const SVC = 'zpool-128310';
const CUSTOM = '/dedicated/nasha/{serviceName}/partition/{partitionName}/customSnapshot';
const CUSTOM_ONE = `${CUSTOM}/{name}`;
const TASK = '/dedicated/nasha/{serviceName}/task/{taskId}';
/** Short, so a dead process's lease (OVH_TIMEOUT_MS + 5 s) runs out quickly. */
const OVH_TIMEOUT_MS = 2_000;

let slack: FakeSlack;
let sim: Simulator;
let dir: string;
let bots: BotProcess[] = [];

beforeAll(async () => {
  slack = new FakeSlack();
  await slack.start();
  slack.groups.set('S0SRE', [USERS.operator]);
  sim = await startSimulator({ taskTimings: { doingAfterMs: 100, doneAfterMs: 500 } });
  dir = mkdtempSync(join(tmpdir(), 'nasha-change-faults-'));
  writeFileSync(join(dir, 'ca.pem'), sim.caCertPem);
  writeFileSync(join(dir, 'nasha.yml'), TEST_CONFIG_NO_APPROVALS);
  writeFileSync(join(dir, 'approvals.yml'), TEST_CONFIG);
});

afterAll(async () => {
  await sim?.close();
  await slack?.stop();
});

beforeEach(() => {
  sim.reset();
});

afterEach(async () => {
  await Promise.all(bots.splice(0).map((bot) => bot.stop()));
});

/** A fresh store per test; the same one across that test's restarts. */
function world(options: { approvals?: boolean; timeoutMs?: number } = {}) {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const env = botProcessEnv(
    { slackApiUrl: slack.apiUrl, sim, dir },
    {
      NASHA_DATA_DIR: dataDir,
      OVH_TIMEOUT_MS: String(options.timeoutMs ?? OVH_TIMEOUT_MS),
      ...(options.approvals === true && { NASHA_CONFIG: join(dir, 'approvals.yml') }),
    },
  );
  return {
    dataDir,
    start: async () => {
      const bot = await spawnBot(env);
      bots.push(bot);
      return bot;
    },
  };
}

async function kill(bot: BotProcess): Promise<void> {
  bot.signal('SIGKILL');
  await bot.exited;
  bots = bots.filter((b) => b !== bot);
}

/** `/nasha snapshot create zpool-128310/<partition> <name>` as the admin; returns the reply id. */
async function create(bot: BotProcess, name: string, partition = 'logs'): Promise<string> {
  const replyId = randomUUID();
  const res = await postSigned(
    `http://127.0.0.1:${bot.port}/slack/events`,
    SIGNING_SECRET,
    slashCommandBody({
      text: `snapshot create ${SVC}/${partition} ${name}`,
      user_id: USERS.admin,
      response_url: slack.responseUrl(replyId),
    }),
  );
  expect(res.status).toBe(200);
  return replyId;
}

const held = (filter: (h: HeldRequest) => boolean) => sim.waitForHeld(filter, 15_000);
const lastReply = (replyId: string) => String(slack.replies(replyId).at(-1)?.['text'] ?? '');

/** The audit message about `subject` as it reads now (its last post or update). */
function audit(subject: string): string {
  return String(auditCall(subject)?.args['text'] ?? '');
}

/** The latest audit message about `subject`, blocks and all (the detail sections are in the blocks). */
function auditCall(subject: string) {
  const calls = slack.calls.filter(
    (c) =>
      (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
      c.args['channel'] === AUDIT_CHANNEL &&
      JSON.stringify(c.args).includes(subject),
  );
  return calls.at(-1);
}

async function ends(subject: string, replyId: string | undefined, auditText: RegExp, reply?: RegExp): Promise<void> {
  // Up to the audit outbox's lease (60 s): a process killed while delivering a record holds its channel until then.
  await slack.waitFor(() => auditText.test(audit(subject)), `the audit of ${subject} to match ${auditText}`, 90_000);
  if (replyId !== undefined && reply !== undefined) {
    await slack.waitFor(() => reply.test(lastReply(replyId)), `the reply to match ${reply}`, 30_000);
  }
}

async function snapshots(partition = 'logs'): Promise<string[]> {
  // The simulator shows a change once its task is done (500 ms).
  await new Promise((r) => setTimeout(r, 700));
  return sim.state.listCustomSnapshots(SVC, partition);
}

/** POSTs OVH ran (whatever answer went back). */
const appliedPosts = () => sim.requests.filter((r) => r.method === 'POST' && r.applied).length;

/** The change intents of a store, read while no bot runs on it. */
function intents(dataDir: string): Array<{ sent_at: number | null; task_id: number | null; outcome: string | null }> {
  const db = new SQLite(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
  try {
    return db.prepare('select sent_at, task_id, outcome from change_intents order by created_at').all() as Array<{
      sent_at: number | null;
      task_id: number | null;
      outcome: string | null;
    }>;
  } finally {
    db.close();
  }
}

describe('SIGKILL at each step of a change', () => {
  it('before sending: the next start says "not applied", and nothing reaches OVH', async () => {
    const w = world();
    const first = await w.start();
    // The pre-check's listing is held: the intent is written, the POST not yet sent.
    sim.addFaults({ method: 'GET', path: CUSTOM, fault: { type: 'hold' }, times: 1 });
    const replyId = await create(first, 'snap-kill-before');
    const request = await held((h) => h.method === 'GET');
    await kill(first);
    sim.releaseHeld(request.id, 'drop');
    expect(intents(w.dataDir)).toEqual([{ sent_at: null, task_id: null, outcome: null }]);

    await w.start();
    await ends(
      'snap-kill-before',
      replyId,
      /Not applied: OVH did not make the change/,
      /^Not applied: create snapshot/,
    );
    expect(lastReply(replyId)).not.toMatch(/could not create/i);
    // How it was settled, worded by the Slack layer from the data core recorded.
    expect(JSON.stringify(slack.replies(replyId).at(-1)?.['blocks'])).toContain(
      '>The bot stopped before sending it to OVH; nothing was changed.',
    );
    expect(JSON.stringify(auditCall('snap-kill-before')?.args['blocks'])).toContain(
      '*Reconciliation*\\nThe bot stopped before sending it to OVH; nothing was changed.',
    );
    expect(sim.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(await snapshots()).not.toContain('snap-kill-before');
    expect(intents(w.dataDir)).toMatchObject([{ outcome: 'not_applied' }]);
  }, 120_000);

  it("during OVH's answer: the change OVH made is found, followed, and reported done", async () => {
    const w = world();
    const first = await w.start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'hold', afterApply: true }, times: 1 });
    const replyId = await create(first, 'snap-kill-during');
    const request = await held((h) => h.method === 'POST');
    expect(request.applied).toBe(true);
    await kill(first);
    sim.releaseHeld(request.id);
    // The step is the one meant: sent, no task journaled.
    expect(intents(w.dataDir)).toEqual([{ sent_at: expect.any(Number), task_id: null, outcome: null }]);
    expect(audit('snap-kill-during')).toMatch(/Started/);

    await w.start();
    await ends('snap-kill-during', replyId, /Succeeded \(OVH task \d+\)/, /^Done: create snapshot `snap-kill-during`/);
    expect(JSON.stringify(auditCall('snap-kill-during')?.args['blocks'])).toMatch(
      /\*Reconciliation\*\\nOVH's answer never reached the bot; the bot found OVH task `\d+` for it and followed it\./,
    );
    expect(await snapshots()).toContain('snap-kill-during');
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(intents(w.dataDir)).toMatchObject([{ outcome: 'journaled', task_id: expect.any(Number) }]);
  }, 120_000);

  it('after the answer, before journaling: the task is found on OVH and followed', async () => {
    const w = world();
    const first = await w.start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'hold', afterApply: true }, times: 1 });
    const replyId = await create(first, 'snap-kill-after');
    const request = await held((h) => h.method === 'POST');
    // The store is locked while OVH's answer goes out: the bot has the answer but cannot write it down.
    const lock = new SQLite(join(w.dataDir, SQLITE_FILE_NAME));
    lock.exec('BEGIN IMMEDIATE');
    try {
      sim.releaseHeld(request.id);
      await slack.waitFor(
        () => sim.requests.some((r) => r.method === 'POST' && r.status === 200),
        'the answer to be sent',
        5_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      await kill(first);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect(intents(w.dataDir)).toEqual([{ sent_at: expect.any(Number), task_id: null, outcome: null }]);

    await w.start();
    await ends('snap-kill-after', replyId, /Succeeded \(OVH task \d+\)/, /^Done: create snapshot `snap-kill-after`/);
    expect(await snapshots()).toContain('snap-kill-after');
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  }, 120_000);

  it('after journaling: the next start follows the journaled task to its end', async () => {
    const w = world();
    const first = await w.start();
    sim.addFaults({ method: 'GET', path: TASK, fault: { type: 'hold' }, times: 1 });
    const replyId = await create(first, 'snap-kill-journaled');
    const request = await held((h) => h.method === 'GET' && /\/task\/\d+$/.test(h.path));
    await kill(first);
    sim.releaseHeld(request.id, 'drop');
    expect(intents(w.dataDir)).toMatchObject([{ outcome: 'journaled', task_id: expect.any(Number) }]);

    const second = await w.start();
    await ends(
      'snap-kill-journaled',
      replyId,
      /Succeeded \(OVH task \d+\)/,
      /^Done: create snapshot `snap-kill-journaled`/,
    );
    expect(second.output()).toContain('following OVH tasks left unfinished by the previous run');
    expect(await snapshots()).toContain('snap-kill-journaled');
  }, 120_000);

  it('an approved delete killed during its answer: card, DM and audit end done after the restart', async () => {
    const w = world({ approvals: true });
    const first = await w.start();
    const url = `http://127.0.0.1:${first.port}/slack/events`;
    const requestReply = randomUUID();
    const ack = await postSigned(
      url,
      SIGNING_SECRET,
      slashCommandBody({
        text: `snapshot delete ${SVC}/data/snap-data-pre-upgrade --reason "free space"`,
        user_id: USERS.operator,
        response_url: slack.responseUrl(requestReply),
      }),
    );
    expect(ack.status).toBe(200);
    await slack.waitFor(() => /^Pending approval #/.test(lastReply(requestReply)), 'the pending reply', 20_000);
    const approvalId = lastReply(requestReply).slice(18, 24);
    sim.addFaults({ method: 'DELETE', path: CUSTOM_ONE, fault: { type: 'hold', afterApply: true }, times: 1 });
    const click = await postSigned(
      url,
      SIGNING_SECRET,
      interactivityBody(
        buttonClick({
          user: USERS.approver,
          channel: APPROVALS_CHANNEL,
          actionId: 'nasha_approval_approve',
          value: approvalId,
          responseUrl: slack.responseUrl(randomUUID()),
        }),
      ),
    );
    expect(click.status).toBe(200);
    const request = await held((h) => h.method === 'DELETE');
    await kill(first);
    sim.releaseHeld(request.id);

    await w.start();
    const card = () =>
      JSON.stringify(
        slack.calls
          .filter(
            (c) =>
              (c.method === 'chat.postMessage' || c.method === 'chat.update') &&
              c.args['channel'] === APPROVALS_CHANNEL &&
              String(c.args['text']).startsWith(`Approval #${approvalId}`),
          )
          .at(-1)?.args ?? {},
      );
    await slack.waitFor(() => /Approved → done/.test(card()), 'the card to end done', 30_000);
    await ends('snap-data-pre-upgrade', undefined, /Succeeded \(OVH task \d+\)/);
    await slack.waitFor(
      () =>
        slack
          .callsTo('chat.postMessage')
          .some((c) => c.args['channel'] === USERS.operator && /done/.test(JSON.stringify(c.args))),
      'the DM to the requester',
      10_000,
    );
    expect(await snapshots('data')).not.toContain('snap-data-pre-upgrade');
    expect(sim.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  }, 120_000);
});

describe('SIGTERM with a request OVH never answers', () => {
  it('OVH never ran it: the timeout is checked on OVH before exiting, and reported "not applied"', async () => {
    const w = world();
    const bot = await w.start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'stall' }, times: 1 });
    const replyId = await create(bot, 'snap-term-stalled');
    await slack.waitFor(() => sim.requests.some((r) => r.method === 'POST'), 'the POST to reach OVH', 10_000);
    const stopping = Date.now();
    bot.signal('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_500);
    await ends('snap-term-stalled', replyId, /Not applied/, /^Not applied: create snapshot `snap-term-stalled`/);
    expect(intents(w.dataDir)).toMatchObject([{ outcome: 'not_applied' }]);
    expect(await snapshots()).not.toContain('snap-term-stalled');
  }, 120_000);

  it('OVH ran it, never answers, and cannot be asked before the shutdown bound: the next start finds it done', async () => {
    const w = world();
    const first = await w.start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'stall', afterApply: true }, times: 1 });
    const replyId = await create(first, 'snap-term-applied');
    await slack.waitFor(() => sim.state.listTasks(SVC).length > 0, 'OVH to run the POST', 10_000);
    // From now on OVH holds every listing: the check after the timeout cannot conclude before the bound.
    sim.addFaults({ method: 'GET', path: CUSTOM, fault: { type: 'hold' } });
    const stopping = Date.now();
    first.signal('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(17_000);
    expect(first.output()).toContain('an OVH write was still in flight at shutdown');
    sim.clearFaults();
    for (const request of sim.held) sim.releaseHeld(request.id, 'drop');
    expect(intents(w.dataDir)).toEqual([{ sent_at: expect.any(Number), task_id: null, outcome: null }]);

    await w.start();
    await ends(
      'snap-term-applied',
      replyId,
      /Succeeded \(OVH task \d+\)/,
      /^Done: create snapshot `snap-term-applied`/,
    );
    expect(await snapshots()).toContain('snap-term-applied');
    expect(appliedPosts()).toBe(1);
  }, 120_000);
});

describe('OVH slow, stalled, or failing after commit, with the bot running', () => {
  it('slow (under the deadline): done as usual', async () => {
    const bot = await world().start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'latency', ms: 1_000 }, times: 1 });
    const replyId = await create(bot, 'snap-slow');
    await ends('snap-slow', replyId, /Succeeded \(OVH task \d+\)/, /^Done: create snapshot `snap-slow`/);
  }, 120_000);

  it('stalled after OVH ran it: the timeout is checked, the task found, done', async () => {
    const bot = await world().start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'stall', afterApply: true }, times: 1 });
    const replyId = await create(bot, 'snap-stalled');
    await ends('snap-stalled', replyId, /Succeeded \(OVH task \d+\)/, /^Done: create snapshot `snap-stalled`/);
    expect(slack.replies(replyId).map((r) => String(r['text']))).toContain(
      'Checking on OVH: create snapshot `snap-stalled` on `zpool-128310/logs`',
    );
    expect(await snapshots()).toContain('snap-stalled');
  }, 120_000);

  it('502 after commit: "done", never "could not create"; a 503 before OVH ran it: "not applied"', async () => {
    const bot = await world().start();
    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'html', status: 502, afterApply: true }, times: 1 });
    const committed = await create(bot, 'snap-502');
    await ends('snap-502', committed, /Succeeded \(OVH task \d+\)/, /^Done: create snapshot `snap-502`/);
    expect(slack.replies(committed).some((r) => /could not/i.test(JSON.stringify(r)))).toBe(false);

    sim.addFaults({ method: 'POST', path: CUSTOM, fault: { type: 'status', status: 503 }, times: 1 });
    const refused = await create(bot, 'snap-503');
    await ends('snap-503', refused, /Not applied: OVH did not make the change/, /^Not applied: create snapshot/);
    expect(JSON.stringify(slack.replies(refused).at(-1))).toContain('OVH answered HTTP 503');
    expect(await snapshots()).toEqual(expect.arrayContaining(['snap-502']));
    expect(await snapshots()).not.toContain('snap-503');
    expect(appliedPosts()).toBe(1);
  }, 120_000);
});
