import { describe, expect, it } from 'vitest';
import { SlashCommandSchema } from '../../src/slack/payloads.js';
import { unescapeMrkdwn } from '../../src/slack/text.js';

describe('unescapeMrkdwn: the command text as the person typed it', () => {
  it.each([
    ['R&amp;D: old &lt;tmp&gt; data', 'R&D: old <tmp> data'],
    // Typed literally as `&lt;`: Slack sends `&amp;lt;`, which is not an escaped `<`.
    ['&amp;lt;b&amp;gt;', '&lt;b&gt;'],
    ['ask <@U0123ABC|bob> in <#C0OPS|ops>', 'ask <@U0123ABC|bob> in <#C0OPS|ops>'],
    ['no entities at all', 'no entities at all'],
  ])('%s → %s', (sent, typed) => {
    expect(unescapeMrkdwn(sent)).toBe(typed);
  });

  it('is what the slash command schema gives the bot', () => {
    const parsed = SlashCommandSchema.parse({
      user_id: 'U0ADMIN',
      channel_id: 'C0OPS',
      text: 'snapshot delete zpool-1/data/a --reason R&amp;D &gt; 2 &lt;3',
      trigger_id: '1.2.3',
      response_url: 'https://hooks.slack.com/commands/T1/1/abc',
    });
    expect(parsed.text).toBe('snapshot delete zpool-1/data/a --reason R&D > 2 <3');
  });
});
