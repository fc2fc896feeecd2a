import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BotHarness,
  CHANNELS,
  messageText,
  startBotHarness,
  TEST_CONFIG_NO_APPROVALS,
  USERS,
} from '../support/bot-harness.js';
import { buttonClick } from '../support/slack-payloads.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
});
afterAll(async () => {
  await h?.close();
});

const final = (texts: string[]) => texts.some((t) => /^(Done|Failed)/.test(t));
const lastReply = (id: string) => {
  const replies = h.slack.replies(id);
  return messageText(replies.at(-1) ?? {});
};

describe('/nasha commands end to end (signed requests in, fake Slack Web API out, simulator behind)', () => {
  it('acks at once with a "working" reply, then replaces it with the result', async () => {
    const { ack, id } = await h.command('snapshot services');
    expect(ack.status).toBe(200);
    expect(ack.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^Working on/) });
    await h.replies(id, (t) => t.length > 0);
    const reply = h.slack.replies(id)[0] ?? {};
    expect(reply).toMatchObject({ replace_original: true, response_type: 'ephemeral' });
    expect(messageText(reply)).toContain('zpool-128310');
    expect(messageText(reply)).toContain('Production NAS (RBX)');
  });

  it('partitions <service>: size, protocol, usage and snapshot usage', async () => {
    const { id } = await h.command('snapshot partitions zpool-128310');
    await h.replies(id, (t) => t.length > 0);
    const text = lastReply(id);
    expect(text).toContain('`data`');
    expect(text).toMatch(/2000 GB · NFS · 71% used · 9% by snapshots/);
  });

  it('list <service>/<partition> and list <service> <partition> show frequencies and custom snapshots', async () => {
    for (const form of ['zpool-204117/db', 'zpool-204117 db']) {
      const { id } = await h.command(`snapshot list ${form}`);
      await h.replies(id, (t) => t.length > 0);
      const text = lastReply(id);
      expect(text).toContain('`hour-1` `hour-6` `day-1` `day-7`');
      expect(text).toContain('snap-db-before-migration');
      expect(text).toMatch(/expires <!date\^\d+\^/);
      expect(text).toContain('snap-db-keep');
    }
  });

  it('list <service> paginates a long service, and Next shows the following page', async () => {
    const { id } = await h.command('snapshot list zpool-310442');
    await h.replies(id, (t) => t.length > 0);
    const first = h.slack.replies(id)[0] ?? {};
    const blocks = first['blocks'] as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(messageText(first)).toContain('Page 1 of 24 (120 partitions)');
    const next = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === 'nasha_page_next');
    expect(next).toBeDefined();
    const res = await h.interact(
      buttonClick({
        user: USERS.viewer,
        channel: CHANNELS.ops,
        actionId: 'nasha_page_next',
        value: next?.value ?? '',
        responseUrl: h.slack.responseUrl(id),
      }),
    );
    expect(res.status).toBe(200);
    await h.replies(id, (t) => t.length > 1);
    expect(lastReply(id)).toContain('Page 2 of 24');
    expect(lastReply(id)).toContain('vol-006');
  });

  it('schedule add → show → remove, each followed to the end of its OVH task', async () => {
    const add = await h.command('snapshot schedule add zpool-128310/logs day-3');
    const texts = await h.replies(add.id, final);
    expect(texts[0]).toMatch(/^Submitted: enable `day-3` snapshots on `zpool-128310\/logs`/);
    expect(texts.at(-1)).toMatch(/^Done: enable `day-3`/);
    expect(messageText(h.slack.replies(add.id)[0] ?? {})).toMatch(/OVH task `\d+` is `todo`/);

    const show = await h.command('snapshot schedule show zpool-128310/logs day-3');
    await h.replies(show.id, (t) => t.length > 0);
    expect(lastReply(show.id)).toContain('day-3 (every 3 days)');

    const remove = await h.command('snapshot schedule remove zpool-128310 logs day-3');
    expect((await h.replies(remove.id, final)).at(-1)).toMatch(/^Done: disable `day-3`/);
  });

  it('create with a name and --expires 7d, show it, delete it', async () => {
    const create = await h.command('snapshot create zpool-128310/logs before-upgrade --expires 7d');
    expect((await h.replies(create.id, final)).at(-1)).toBe(
      'Done: create snapshot `before-upgrade` on `zpool-128310/logs`',
    );
    const show = await h.command('snapshot show zpool-128310/logs/before-upgrade');
    await h.replies(show.id, (t) => t.length > 0);
    expect(lastReply(show.id)).toMatch(/before-upgrade.*expires <!date\^\d+/s);
    const del = await h.command('snapshot delete zpool-128310/logs before-upgrade');
    expect((await h.replies(del.id, final)).at(-1)).toBe(
      'Done: delete snapshot `before-upgrade` on `zpool-128310/logs`',
    );
  });

  it('create without a name uses a default name', async () => {
    const create = await h.command('snapshot create zpool-128310/logs');
    expect((await h.replies(create.id, final)).at(-1)).toMatch(/^Done: create snapshot `snap-logs-\d{8}-\d{6}` on/);
  });

  it('"did you mean" from the real lists for a service, a partition, a type and a name', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'snapshot list zpool-12831/data',
        /There is no NAS-HA service `zpool-12831` that you can see\. Did you mean `zpool-128310`/,
      ],
      [
        'snapshot list zpool-128310/dat',
        /`zpool-128310` has no partition `dat`, or it is not yours\. Did you mean `data`/,
      ],
      [
        'snapshot show zpool-128310/data/snap-data-pre-upgrad',
        /no custom snapshot named `snap-data-pre-upgrad`\. Did you mean `snap-data-pre-upgrade`/,
      ],
      ['snapshot delete zpool-128310/data/snap-data-pre-upgrad', /Did you mean `snap-data-pre-upgrade`/],
    ];
    for (const [text, expected] of cases) {
      const { id } = await h.command(text);
      await h.replies(id, (t) => t.length > 0);
      expect(lastReply(id)).toMatch(expected);
    }
    const { ack } = await h.command('snapshot schedule add zpool-128310/data day7');
    expect(JSON.stringify(ack.json())).toMatch(/`day7` is not a snapshot frequency\. Did you mean `day-7`/);
    const typo = await h.command('snapshot lsit zpool-128310');
    expect(JSON.stringify(typo.ack.json())).toMatch(/Unknown command `lsit`\. Did you mean `list`/);
  });

  it('says clearly when a partition is at 10/10 custom snapshots, and sends nothing to OVH', async () => {
    const before = h.sim.requests.filter((r) => r.method === 'POST').length;
    const { id } = await h.command('snapshot create zpool-128310/backups one-more');
    await h.replies(id, (t) => t.length > 0);
    expect(lastReply(id)).toContain('`backups` has 10/10 custom snapshots — delete one first');
    expect(h.sim.requests.filter((r) => r.method === 'POST').length).toBe(before);
  });

  it('surfaces OVH’s own refusal and a failed OVH task with its details', async () => {
    h.sim.addTaskOutcomes({
      partition: 'uploads',
      outcome: 'customerError',
      details: 'Quota exceeded on the snapshot reserve',
      count: 1,
    });
    const { id } = await h.command('snapshot create zpool-204117/uploads pre-deploy');
    const texts = await h.replies(id, final);
    expect(texts.at(-1)).toBe('Failed: create snapshot `pre-deploy` on `zpool-204117/uploads`');
    // OVH's status and its own words, verbatim, in the bot's sentence.
    expect(lastReply(id)).toContain("OVH's task ended in `customerError`: `Quota exceeded on the snapshot reserve`.");

    h.sim.addFaults({
      method: 'POST',
      path: '/dedicated/nasha/{serviceName}/partition/{partitionName}/snapshot',
      fault: {
        type: 'status',
        status: 403,
        body: { errorCode: 'NOT_GRANTED_CALL', httpCode: '403 Forbidden', message: 'This call has not been granted' },
      },
      times: 1,
    });
    const refused = await h.command('snapshot schedule add zpool-204117/uploads day-7');
    await h.replies(refused.id, (t) => t.length > 0);
    expect(lastReply(refused.id)).toContain(
      'OVH refused to enable a frequency on `zpool-204117/uploads`: `This call has not been granted`.',
    );
  });

  it('an OVH outage is explained, never a stack trace', async () => {
    h.sim.addFaults({ method: 'GET', path: '/dedicated/nasha', fault: { type: 'status', status: 503 } });
    const { id } = await h.command('snapshot services');
    await h.replies(id, (t) => t.length > 0);
    expect(lastReply(id)).toMatch(/OVH is not answering properly \(HTTP 503\)/);
    expect(lastReply(id)).not.toMatch(/at .*\.ts:\d+/);
    h.sim.clearFaults();
  });

  it('usage errors answer in the ack itself, with an example', async () => {
    const { ack } = await h.command('snapshot schedule add zpool-128310');
    expect(JSON.stringify(ack.json())).toMatch(
      /Usage: `\/nasha snapshot schedule add &lt;service&gt;\/&lt;partition&gt; &lt;type&gt; \[--reason &lt;why&gt;\]`/,
    );
  });
});
