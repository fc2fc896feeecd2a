/**
 * The languages the bot speaks. Data only: the words are in src/slack/i18n; the configuration (`language`) and
 * the duration formatter need the list too, so it lives here.
 */
export const LANGUAGES = ['en', 'fr'] as const;
export type Lang = (typeof LANGUAGES)[number];

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * A Slack locale (`fr-FR`, `en-US`, `fr-CA`, …) as one of the bot's languages: the language part decides, and a
 * language the bot does not speak (or no locale) is `fallback`.
 */
export function langOfLocale(locale: string | undefined, fallback: Lang): Lang {
  const language = locale?.trim().split(/[-_]/)[0]?.toLowerCase();
  return isLang(language) ? language : fallback;
}
