import { describe, expect, it } from 'vitest';
import type { JournalEntry, JsonValue } from '../../src/core/ports.js';
import { createLogger } from '../../src/shared/logger.js';
import type { Block } from '../../src/slack/blocks/limits.js';
import { createResumeReporter, resumeToken } from '../../src/slack/resume-reply.js';

const URL = 'https://hooks.slack.test/actions/T1/1/abc';

function entry(reply: JsonValue): JournalEntry {
  return { service: 'zpool-128310', taskId: 4242, auditId: 'a1', kind: 'snapshot.delete', reply, deadlineAt: 0 };
}

/** Posts through the reporter and returns what it sent to the response_url (fetch is its injected transport). */
async function report(reply: JsonValue, result: Parameters<ReturnType<typeof createResumeReporter>>[1]) {
  const sent: Array<{ url: string; body: { text: string; blocks: Block[]; replace_original: boolean } }> = [];
  const fetchImpl = (async (url: string, init: { body: string }) => {
    sent.push({ url, body: JSON.parse(init.body) });
    return new Response('ok');
  }) as unknown as typeof fetch;
  await createResumeReporter(createLogger({ level: 'silent' }), fetchImpl)(entry(reply), result);
  return sent;
}

const sectionTexts = (blocks: Block[]) =>
  blocks.flatMap((b) =>
    b.type === 'section' && b.text
      ? [b.text.text]
      : b.type === 'context'
        ? b.elements.map((e) => ('text' in e ? e.text : ''))
        : [],
  );

describe('resume reply: how a change ended, after a restart', () => {
  it('words the change from the stored data, and OVH’s words verbatim', async () => {
    const token = resumeToken(URL, {
      action: 'snapshot.delete',
      target: { service: 'zpool-128310', partition: 'data' },
      name: 'snap-data-pre-upgrade',
    });
    const done = await report(token, { outcome: 'succeeded', taskId: 4242 });
    expect(done).toHaveLength(1);
    expect(done[0]?.url).toBe(URL);
    expect(done[0]?.body.replace_original).toBe(true);
    expect(sectionTexts(done[0]?.body.blocks ?? [])).toEqual([
      ':white_check_mark: Done: delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data`.',
      'OVH task `4242` is done.',
    ]);
    const failed = await report(token, {
      outcome: 'failed',
      taskId: 4242,
      failure: { outcome: 'failed', status: 'error', details: '<!channel>' },
    });
    expect(sectionTexts(failed[0]?.body.blocks ?? [])[0]).toBe(
      ":x: Failed: delete snapshot `snap-data-pre-upgrade` on `zpool-128310/data`.\n>OVH's task ended in `error`: `&lt;!channel&gt;`.",
    );
    expect(failed[0]?.body.text).not.toContain('<!channel>');
  });

  it('a token from an older version (mrkdwn description) is not shown: the journal entry says what it was', async () => {
    const sent = await report(
      { responseUrl: URL, description: 'delete snapshot `x` <!channel>' },
      { outcome: 'succeeded', taskId: 7 },
    );
    expect(sectionTexts(sent[0]?.body.blocks ?? [])[0]).toBe(
      ':white_check_mark: Done: `snapshot.delete` on `zpool-128310`.',
    );
  });

  it('sends nothing without a usable token', async () => {
    expect(await report(null, { outcome: 'succeeded', taskId: 7 })).toEqual([]);
    expect(await report({ responseUrl: 'not a url' }, { outcome: 'succeeded', taskId: 7 })).toEqual([]);
    expect(
      await report(
        { responseUrl: URL, change: { action: 'snapshot.delete', target: {} } },
        { outcome: 'succeeded', taskId: 7 },
      ),
    ).toEqual([]);
  });
});
