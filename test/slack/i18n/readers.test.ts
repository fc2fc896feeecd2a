import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalSlackApi } from '../../../src/sandbox/slack-api.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { langOfLocale } from '../../../src/shared/language.js';
import {
  createProfileFetcher,
  type PersonProfile,
  ReaderDirectory,
  type ReaderDirectoryOptions,
} from '../../../src/slack/i18n/readers.js';

const languages = { default: 'en' as const, channels: new Map([['C0FR', 'fr' as const]]) };

function directory(
  answers: Record<string, PersonProfile | Error | Promise<PersonProfile>>,
  options: Partial<ReaderDirectoryOptions> = {},
) {
  const clock = new ManualClock();
  const asked: string[] = [];
  const warnings: string[] = [];
  const readers = new ReaderDirectory(
    async (userId) => {
      asked.push(userId);
      const answer = answers[userId] ?? new Error('user_not_found');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    { clock, languages, logger: { warn: (_details, message) => warnings.push(message) }, ...options },
  );
  return { readers, clock, asked, warnings };
}

describe('langOfLocale', () => {
  it.each([
    ['fr-FR', 'fr'],
    ['fr-CA', 'fr'],
    ['FR_be', 'fr'],
    ['en-US', 'en'],
    ['en-GB', 'en'],
    ['de-DE', 'en'],
    ['', 'en'],
    [undefined, 'en'],
  ])('%s → %s (the default for a language the bot does not speak)', (locale, lang) => {
    expect(langOfLocale(locale, 'en')).toBe(lang);
  });

  it('falls back to the workspace default, whichever it is', () => {
    expect(langOfLocale('ja-JP', 'fr')).toBe('fr');
    expect(langOfLocale('en-US', 'fr')).toBe('en');
  });
});

describe('ReaderDirectory', () => {
  it('reads a person’s language and zone from Slack, and caches them for the TTL (injected clock)', async () => {
    const { readers, clock, asked } = directory({ U0FR: { locale: 'fr-FR', tz: 'Europe/Paris' } }, { ttlMs: 60_000 });
    expect(await readers.person('U0FR')).toEqual({ lang: 'fr', tz: 'Europe/Paris' });
    expect(await readers.person('U0FR')).toEqual({ lang: 'fr', tz: 'Europe/Paris' });
    expect(asked).toEqual(['U0FR']);
    clock.advance(59_999);
    await readers.person('U0FR');
    expect(asked).toEqual(['U0FR']);
    clock.advance(1);
    await readers.person('U0FR');
    expect(asked).toEqual(['U0FR', 'U0FR']);
  });

  it('asks once for many requests at the same moment', async () => {
    const { readers, asked } = directory({ U0EN: { locale: 'en-US', tz: undefined } });
    const all = await Promise.all([readers.person('U0EN'), readers.person('U0EN'), readers.person('U0EN')]);
    expect(all).toEqual([{ lang: 'en' }, { lang: 'en' }, { lang: 'en' }]);
    expect(asked).toEqual(['U0EN']);
  });

  it('a failed look-up is the workspace default, logged, and asked again only after a while', async () => {
    const { readers, clock, asked, warnings } = directory({}, { failureTtlMs: 10_000 });
    expect(await readers.person('U0GONE')).toEqual({ lang: 'en' });
    await readers.person('U0GONE');
    expect(asked).toEqual(['U0GONE']);
    expect(warnings).toEqual(['could not read the user’s Slack locale (users.info); using the default language']);
    clock.advance(10_000);
    await readers.person('U0GONE');
    expect(asked).toEqual(['U0GONE', 'U0GONE']);
  });

  it('does not hold a request past the deadline: the default now, the answer cached when it comes', async () => {
    let answer: (profile: PersonProfile) => void = () => undefined;
    const late = new Promise<PersonProfile>((resolve) => {
      answer = resolve;
    });
    const { readers, asked } = directory({ U0SLOW: late }, { deadlineMs: 5 });
    expect(await readers.person('U0SLOW')).toEqual({ lang: 'en' });
    answer({ locale: 'fr-FR', tz: undefined });
    await late;
    await new Promise((resolve) => setImmediate(resolve));
    expect(await readers.person('U0SLOW')).toEqual({ lang: 'fr' });
    expect(asked).toEqual(['U0SLOW']);
  });

  it('channels read their configured language, else the default; no channel is the default', () => {
    const { readers } = directory({});
    expect(readers.channel('C0FR')).toEqual({ lang: 'fr' });
    expect(readers.channel('C0OTHER')).toEqual({ lang: 'en' });
    expect(readers.channel(undefined)).toEqual({ lang: 'en' });
    const french = new ReaderDirectory(async () => ({ locale: undefined, tz: undefined }), {
      clock: new ManualClock(),
      languages: { default: 'fr', channels: new Map() },
    });
    expect(french.channel('C0OTHER')).toEqual({ lang: 'fr' });
  });
});

describe('createProfileFetcher: users.info with include_locale', () => {
  let slack: LocalSlackApi | undefined;
  afterEach(async () => {
    await slack?.stop();
  });

  it('reads the locale and zone Slack gives, drops a zone Intl does not know, and throws on Slack errors', async () => {
    slack = new LocalSlackApi();
    await slack.start();
    slack.users.set('U0FR', { locale: 'fr-FR', tz: 'Europe/Paris' });
    slack.users.set('U0ODD', { locale: 'en-US', tz: 'Mars/Olympus_Mons' });
    const client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const fetch = createProfileFetcher(client);
    expect(await fetch('U0FR')).toEqual({ locale: 'fr-FR', tz: 'Europe/Paris' });
    expect(await fetch('U0ODD')).toEqual({ locale: 'en-US', tz: undefined });
    await expect(fetch('U0NOBODY')).rejects.toThrow(/user_not_found/);
    const call = slack.calls.find((c) => c.method === 'users.info');
    expect(call?.args).toMatchObject({ user: 'U0FR', include_locale: 'true' });
  });
});
