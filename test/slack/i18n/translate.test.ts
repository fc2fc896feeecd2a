import { describe, expect, it } from 'vitest';
import { formatNumber, t, translator } from '../../../src/slack/i18n/translate.js';
import { code, date, fallback, mrkdwn, plain, user, verbatim } from '../../../src/slack/text.js';

const AT = Date.UTC(2026, 10, 28, 9, 30, 15);

describe('t(): catalog messages as Text', () => {
  it('keeps values typed: a user’s words inert, mentions only from IDs', () => {
    const words = t('en', 'common.didYouMean', { suggestions: verbatim('<@U0EVIL> *x*') });
    expect(mrkdwn(words)).toBe(' Did you mean `&lt;@U0EVIL&gt; *x*`?');
    expect(mrkdwn(t('fr', 'common.didYouMean', { suggestions: user('U0ALICE') }))).toBe(
      ' Vouliez-vous dire <@U0ALICE>\u202f?',
    );
    // The bot's own string value is escaped like any of its words: no token survives.
    expect(mrkdwn(t('en', 'common.didYouMean', { suggestions: '<!channel>' }))).toBe(' Did you mean &lt;!channel&gt;?');
  });

  it('writes numbers as each language does', () => {
    expect(formatNumber('en', 2001)).toBe('2001');
    expect(formatNumber('en', 1.5)).toBe('1.5');
    expect(formatNumber('fr', 1234.5)).toBe('1\u202f234,5');
    expect(formatNumber('fr', 10)).toBe('10');
  });

  it('lists with the language’s conjunctions', () => {
    const items = ['a', 'b', 'c'].map(code);
    expect(mrkdwn(translator({ lang: 'en' }).list(items, 'or'))).toBe('`a`, `b` or `c`');
    expect(mrkdwn(translator({ lang: 'fr' }).list(items, 'and'))).toBe('`a`, `b` et `c`');
    expect(mrkdwn(translator({ lang: 'fr' }).list(items.slice(0, 1), 'or'))).toBe('`a`');
    expect(mrkdwn(translator({ lang: 'fr' }).didYouMean([]))).toBe('');
    expect(mrkdwn(translator({ lang: 'fr' }).didYouMean(['x', 'y']))).toBe(' Vouliez-vous dire `x` ou `y`\u202f?');
  });
});

describe('rendering for a reader', () => {
  it('English with no time zone renders as it always did: Slack’s date token, UTC fallback', () => {
    expect(mrkdwn(date(AT))).toBe(`<!date^${AT / 1000}^{date_short_pretty} {time}|2026-11-28T09:30Z>`);
    expect(plain(date(AT))).toBe('2026-11-28T09:30Z');
    expect(plain(verbatim('x'))).toBe('“x”');
  });

  it('a channel (a language, no time zone) keeps Slack’s token so each member sees their own zone', () => {
    const channel = translator({ lang: 'fr' });
    expect(channel.mrkdwn(date(AT))).toBe(`<!date^${AT / 1000}^{date_short_pretty} {time}|2026-11-28T09:30Z>`);
    expect(channel.fallback(date(AT))).toBe(`<!date^${AT / 1000}^{date_short_pretty} {time}|2026-11-28T09:30Z>`);
  });

  it('a person with a known zone reads the time in it, in their language', () => {
    const paris = translator({ lang: 'fr', tz: 'Europe/Paris' });
    expect(paris.mrkdwn(date(AT))).toBe('28 nov. 2026, 10:30 UTC+1');
    expect(paris.plain(date(AT))).toBe('28 nov. 2026, 10:30 UTC+1');
    expect(paris.plain(date(AT, 'long'))).toBe('samedi 28 novembre 2026 à 10:30 UTC+1');
    const newYork = translator({ lang: 'en', tz: 'America/New_York' });
    expect(newYork.plain(date(AT))).toBe('Nov 28, 2026, 04:30 AM EST');
  });

  it('French plain text quotes a user’s words with guillemets', () => {
    expect(plain(verbatim('avant mise à jour'), { lang: 'fr' })).toBe('«\u00a0avant mise à jour\u00a0»');
    expect(fallback(verbatim('<@U1>'), { lang: 'fr' })).toBe('`&lt;@U1&gt;`');
  });

  it('an impossible moment, or a zone Intl does not know, never throws', () => {
    expect(mrkdwn(date(Number.NaN), { lang: 'fr' })).toBe('une heure inconnue');
    expect(plain(date(Number.NaN), { lang: 'en', tz: 'Europe/Paris' })).toBe('an unknown time');
    expect(plain(date(AT), { lang: 'fr', tz: 'Mars/Olympus_Mons' })).toBe('2026-11-28T09:30Z');
  });
});
