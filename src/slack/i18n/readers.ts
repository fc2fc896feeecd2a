/**
 * Who reads what, in which language: a person (an ephemeral reply, a form, a DM) reads in their Slack locale
 * and time zone (`users.info` with `include_locale`, cached); a channel's members read in the channel's
 * configured language. Either way, what is not known is the workspace default (`language` in the config).
 */
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { type Lang, langOfLocale } from '../../shared/language.js';
import type { Reader } from './translate.js';

/** What Slack says about a person that matters for reading. */
export interface PersonProfile {
  /** `fr-FR`, `en-US`…; undefined when Slack gives none. */
  locale: string | undefined;
  /** IANA zone (`Europe/Paris`); undefined when Slack gives none or one this runtime does not know. */
  tz: string | undefined;
}

export type ProfileFetcher = (userId: string) => Promise<PersonProfile>;

export interface LanguageSettings {
  /** The workspace default (`language`, default `en`). */
  default: Lang;
  /** Channel ID → its `language` (`channels[].language`). */
  channels: ReadonlyMap<string, Lang>;
}

export interface ReaderDirectoryOptions {
  clock: Clock;
  languages: LanguageSettings;
  /** How long a person's locale and zone are used without asking Slack again. Default 15 min. */
  ttlMs?: number;
  /** After a failed look-up, how long the default is used before asking again. Default 1 min. */
  failureTtlMs?: number;
  /**
   * How long a request waits for a look-up not in the cache (wall-clock: Slack's 3 s do not wait for a virtual
   * clock); past it, the default is used and the answer is cached when it comes. Default 1 s.
   */
  deadlineMs?: number;
  logger?: { warn(details: object, message: string): void };
}

interface Entry {
  reader: Reader;
  until: number;
}

export class ReaderDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Reader>>();
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly deadlineMs: number;

  constructor(
    private readonly fetchProfile: ProfileFetcher,
    private readonly options: ReaderDirectoryOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 15 * 60_000;
    this.failureTtlMs = options.failureTtlMs ?? 60_000;
    this.deadlineMs = options.deadlineMs ?? 1_000;
  }

  get defaultLang(): Lang {
    return this.options.languages.default;
  }

  /** The members of a channel (no one time zone); no channel (a DM, a global shortcut): the default. */
  channel(channelId: string | undefined): Reader {
    const lang = channelId === undefined ? undefined : this.options.languages.channels.get(channelId);
    return { lang: lang ?? this.defaultLang };
  }

  /** One person, by the signed payload's user id. Never rejects; never waits longer than the deadline. */
  async person(userId: string): Promise<Reader> {
    const entry = this.entries.get(userId);
    if (entry !== undefined && this.options.clock.now() < entry.until) return entry.reader;
    let pending = this.inFlight.get(userId);
    if (pending === undefined) {
      pending = this.lookUp(userId).finally(() => this.inFlight.delete(userId));
      this.inFlight.set(userId, pending);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Reader>((resolve) => {
      timer = setTimeout(() => resolve(entry?.reader ?? { lang: this.defaultLang }), this.deadlineMs);
    });
    try {
      return await Promise.race([pending, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets what is cached (all, or one person), e.g. when someone changes their language. */
  invalidate(userId?: string): void {
    if (userId === undefined) this.entries.clear();
    else this.entries.delete(userId);
  }

  private async lookUp(userId: string): Promise<Reader> {
    try {
      const profile = await this.fetchProfile(userId);
      const reader: Reader = {
        lang: langOfLocale(profile.locale, this.defaultLang),
        ...(profile.tz !== undefined && { tz: profile.tz }),
      };
      this.entries.set(userId, { reader, until: this.options.clock.now() + this.ttlMs });
      return reader;
    } catch (error) {
      const reader: Reader = { lang: this.defaultLang };
      this.entries.set(userId, { reader, until: this.options.clock.now() + this.failureTtlMs });
      this.options.logger?.warn(
        { userId, err: error instanceof Error ? error.message : String(error) },
        'could not read the user’s Slack locale (users.info); using the default language',
      );
      return reader;
    }
  }
}

/** A time zone this runtime can format in, or undefined. */
function knownZone(zone: string | undefined): string | undefined {
  if (zone === undefined || zone === '') return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

const UsersInfoSchema = z.object({
  ok: z.literal(true),
  user: z.object({
    id: z.string(),
    locale: z.string().max(40).optional(),
    tz: z.string().max(100).nullable().optional(),
  }),
});

/** Bounded so a slow Slack cannot hold a reply: the directory's deadline uses the default meanwhile. */
const FETCH_TIMEOUT_MS = 2_000;

/** A person's locale and zone through users.info with `include_locale` (scope `users:read`). */
export function createProfileFetcher(client: webApi.WebClient): ProfileFetcher {
  return async (userId) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`users.info took over ${FETCH_TIMEOUT_MS} ms`)), FETCH_TIMEOUT_MS);
    });
    try {
      const response = await Promise.race([client.users.info({ user: userId, include_locale: true }), timeout]);
      const { user } = UsersInfoSchema.parse(response);
      return { locale: user.locale, tz: knownZone(user.tz ?? undefined) };
    } finally {
      clearTimeout(timer);
    }
  };
}
