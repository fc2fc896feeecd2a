import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { context, cutMrkdwn, message, section } from '../../src/slack/blocks/limits.js';
import {
  bold,
  capitalized,
  channel,
  code,
  codeSpan,
  date,
  escapeMrkdwn,
  fallback,
  group,
  italic,
  listOf,
  mrkdwn,
  plain,
  say,
  text,
  user,
  verbatim,
} from '../../src/slack/text.js';
import { fuzzParams, hostileString } from '../fuzz/hostile.js';

/** Every `<…>` token Slack would act on. */
const tokens = (value: string) => [...value.matchAll(/<[^>]*>/g)].map((m) => m[0]);

describe('text: the one writer of mrkdwn', () => {
  it('escapes the three characters Slack parses, and nothing else', () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(escapeMrkdwn('&amp;')).toBe('&amp;amp;');
    expect(mrkdwn('the bot’s own words: <@U123> & co')).toBe('the bot’s own words: &lt;@U123&gt; &amp; co');
  });

  it.each([
    ['<@U123>', '`&lt;@U123&gt;`'],
    ['<!channel>', '`&lt;!channel&gt;`'],
    ['<!here|here>', '`&lt;!here|here&gt;`'],
    ['<!subteam^S1>', '`&lt;!subteam^S1&gt;`'],
    ['<#C123>', '`&lt;#C123&gt;`'],
    ['<https://x|y>', '`&lt;https://x|y&gt;`'],
    ['<!date^1^{date}|x>', '`&lt;!date^1^{date}|x&gt;`'],
    ['*bold*', '`*bold*`'],
    ['_i_', '`_i_`'],
    ['~s~', '`~s~`'],
    ['`code` here', '`ˋcodeˋ here`'],
    ['```\nfenced\n```', '`ˋˋˋ ⏎ fenced ⏎ ˋˋˋ`'],
    ['line one\r\nline two\u2028three\u2029four\vfive', '`line one ⏎ line two ⏎ three ⏎ four ⏎ five`'],
    ['&amp; &lt;', '`&amp;amp; &amp;lt;`'],
    ['> quote', '`&gt; quote`'],
    ['  padded  ', '`padded`'],
    ['half \ud83d pair \ude00', '`half \ufffd pair \ufffd`'],
    ['whole \ud83d\ude00', '`whole \ud83d\ude00`'],
    ['', '` `'],
    ['\n\n', '`⏎`'],
    [' \t ', '` `'],
  ])('verbatim(%j) is inert: %s', (input, expected) => {
    expect(mrkdwn(verbatim(input))).toBe(expected);
    expect(mrkdwn(code(input))).toBe(expected);
    expect(codeSpan(input)).toBe(expected);
  });

  it('mentions only from valid IDs; anything else is shown as code', () => {
    expect(mrkdwn(user('U0ALICE'))).toBe('<@U0ALICE>');
    expect(mrkdwn(user('W0ALICE'))).toBe('<@W0ALICE>');
    expect(mrkdwn(group('S0SRE'))).toBe('<!subteam^S0SRE>');
    expect(mrkdwn(channel('C0OPS'))).toBe('<#C0OPS>');
    expect(mrkdwn(channel('G0PRIV'))).toBe('<#G0PRIV>');
    expect(mrkdwn(user('U0ALICE>'))).toBe('`U0ALICE&gt;`');
    expect(mrkdwn(user('<!channel>'))).toBe('`&lt;!channel&gt;`');
    expect(mrkdwn(user('u0alice'))).toBe('`u0alice`');
    expect(mrkdwn(group('U0ALICE'))).toBe('`U0ALICE`');
    expect(mrkdwn(channel('U0ALICE'))).toBe('`U0ALICE`');
    expect(mrkdwn(user('S0SRE|@everyone'))).toBe('`S0SRE|@everyone`');
  });

  it('dates are tokens with a UTC fallback; an impossible date does not throw', () => {
    const at = Date.UTC(2026, 10, 28, 9, 30, 15);
    expect(mrkdwn(date(at))).toBe(`<!date^${at / 1000}^{date_short_pretty} {time}|2026-11-28T09:30Z>`);
    expect(mrkdwn(date(at, 'long'))).toBe(`<!date^${at / 1000}^{date_long_pretty} {time}|2026-11-28T09:30Z>`);
    expect(plain(date(at))).toBe('2026-11-28T09:30Z');
    expect(mrkdwn(date(Number.NaN))).toBe('an unknown time');
    expect(mrkdwn(date(9e15))).toBe('an unknown time');
    expect(plain(date(Number.NaN))).toBe('an unknown time');
  });

  it('builds sentences from the bot’s words and typed pieces', () => {
    const sentence = say`${bold('Rejected')} by ${user('U0BOB')}: ${verbatim('*no*')} (${italic('see')} ${listOf([code('a'), code('b'), code('c')], 'or')}) ${3}`;
    expect(mrkdwn(sentence)).toBe('*Rejected* by <@U0BOB>: `*no*` (_see_ `a`, `b` or `c`) 3');
    expect(plain(sentence)).toBe('Rejected by @U0BOB: “*no*” (see “a”, “b” or “c”) 3');
    expect(fallback(sentence)).toBe('Rejected by <@U0BOB>: `*no*` (see `a`, `b` or `c`) 3');
    expect(mrkdwn(capitalized(say`delete ${code('x')}`))).toBe('Delete `x`');
    expect(text().isEmpty).toBe(true);
  });

  it('plain() shows what was typed as typed (for plain_text and form errors), mentions as IDs', () => {
    expect(
      plain(say`${verbatim('<@U123> *x*')} by ${user('U0BOB')} in ${channel('C0OPS')} for ${group('S0SRE')}`),
    ).toBe('“<@U123> *x*” by @U0BOB in #C0OPS for @S0SRE');
  });

  it('fallback() (a message’s text) keeps user text inert and mentions from IDs', () => {
    expect(fallback(say`${verbatim('<!channel>')} by ${user('U0BOB')}, ${user('<!here>')}`)).toBe(
      '`&lt;!channel&gt;` by <@U0BOB>, `&lt;!here&gt;`',
    );
  });

  it('property: verbatim(x) is one code span with no token, no raw <, > or &, no line break, whatever x is', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(200), fc.string({ unit: 'binary', maxLength: 300 })), (value) => {
        const out = mrkdwn(verbatim(value));
        expect(out).toMatch(/^`[^`\r\n\v\f\u0085\u2028\u2029]+`$/);
        expect(tokens(out)).toEqual([]);
        expect(out).not.toMatch(/[<>]/);
        // Every & starts one of the three entities.
        expect(out.replaceAll(/&(amp|lt|gt);/g, '')).not.toContain('&');
        // Inside the span no edge space (Slack would not see a span) and nothing outside it.
        if (out !== '` `') expect(out).not.toMatch(/^` | `$/);
        // Nothing typed is lost but the characters replaced for safety.
        const kept = value
          .replaceAll('`', 'ˋ')
          .replace(/\s*[\r\n\v\f\u0085\u2028\u2029]+\s*/g, ' ⏎ ')
          .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
          .trim();
        expect(() => encodeURIComponent(out)).not.toThrow();
        if (kept !== '') expect(out).toBe(`\`${escapeMrkdwn(kept)}\``);
      }),
      fuzzParams(1_000),
    );
  });

  it('property: a sentence mixing typed text and IDs has live tokens only from the IDs', () => {
    fc.assert(
      fc.property(hostileString(80), hostileString(80), (a, b) => {
        const out = mrkdwn(say`${bold(verbatim(a))} by ${user('U0BOB')} in ${channel('C0OPS')}: ${verbatim(b)}`);
        expect(tokens(out)).toEqual(['<@U0BOB>', '<#C0OPS>']);
        expect(tokens(fallback(say`${verbatim(a)} ${user(b)}`))).toEqual(
          /^[UW][A-Z0-9]{2,}$/.test(b) ? [`<@${b}>`] : [],
        );
      }),
      fuzzParams(500),
    );
  });
});

describe('limits: cutting mrkdwn and message text', () => {
  it('cutMrkdwn closes a code span it cuts, so the rest of a user’s words cannot format', () => {
    const span = mrkdwn(say`Reason: ${verbatim(`*bold* ${'x'.repeat(5_000)}`)}`);
    const cut = cutMrkdwn(span, 3_000);
    expect(cut.length).toBeLessThanOrEqual(3_000);
    expect(cut.endsWith('`…')).toBe(true);
    expect((cut.match(/`/g) ?? []).length).toBe(2);
    // A cut right after the opening backtick drops the span rather than leave "``".
    expect(cutMrkdwn('abc `defgh`', 6)).toBe('abc …');
    expect(cutMrkdwn('`&amp;&amp;&amp;`', 9)).toBe('`&amp;`…');
  });

  it('property: a cut never leaves an open span, a half entity, a half token or a lone surrogate', () => {
    fc.assert(
      fc.property(fc.array(hostileString(80), { maxLength: 8 }), fc.integer({ min: 1, max: 400 }), (parts, max) => {
        // The bot's own words are well-formed and write no backtick (code spans are pieces); a user's words are
        // made so by verbatim().
        const words = (p: string) => p.replace(/[\ud800-\udfff`]/g, '?');
        const value = mrkdwn(
          say`${user('U0BOB')} ${text(...parts.map((p) => say`${verbatim(p)} ${words(p)} `))}${date(0)}`,
        );
        const out = cutMrkdwn(value, max);
        expect(out.length).toBeLessThanOrEqual(Math.max(max, 1));
        expect((out.match(/`/g) ?? []).length % 2).toBe(0);
        expect(out.replaceAll(/&(amp|lt|gt);/g, '')).not.toContain('&');
        expect(out.replaceAll(/<[^<>]*>/g, '')).not.toMatch(/[<>]/);
        expect(() => encodeURIComponent(out)).not.toThrow();
      }),
      fuzzParams(500),
    );
  });

  it('message(): a string is plain words, escaped for the text field; Text renders with mentions from IDs', () => {
    // Symptom: the sender's own error reply echoed `<!channel>` in its notification text.
    expect(message('“<!channel>” is not a valid snapshot name', []).text).toBe(
      '“&lt;!channel&gt;” is not a valid snapshot name',
    );
    expect(message(say`${verbatim('<!channel>')} asked by ${user('U0BOB')}`, []).text).toBe(
      '`&lt;!channel&gt;` asked by <@U0BOB>',
    );
    expect(message('x'.repeat(5_000), []).text).toHaveLength(4_000);
  });

  it('section() and context() take Text and stay within limits', () => {
    expect(section(say`${bold('Reason')}\n${verbatim('<@U1>')}`)).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*Reason*\n`&lt;@U1&gt;`' },
    });
    const long = context(say`${verbatim('&'.repeat(3_000))}`);
    const element = long.elements[0];
    expect(element && 'text' in element ? element.text.length : 0).toBeLessThanOrEqual(3_000);
  });
});
