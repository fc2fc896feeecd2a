/**
 * The English catalog: the source of every word the bot shows (ICU MessageFormat). Keys are `area.what`;
 * `MessageKey` comes from here, and fr.ts must have every key with the same arguments and tags (a test checks).
 *
 * Arguments: `{name}` is a value (text.ts pieces, Text, a number formatted for the reader, or the bot's own
 * words); plurals are `{n, plural, one {…} other {…}}` with `#` for the number; tags `<b>`, `<i>` and `<code>`
 * format the bot's own words. A literal `<`, `{` or `'` before them is written `'<'`, `'{'`, `''`.
 */
export const en = {
  // ---- shared words ---------------------------------------------------------------------------------------------
  'time.unknown': 'an unknown time',
  'common.listOr': ' or ',
  'common.listAnd': ' and ',
  'common.listComma': ', ',
  'common.didYouMean': ' Did you mean {suggestions}?',

  // ---- can-i ----------------------------------------------------------------------------------------------------
  'canI.otherGrants': '{count, plural, one {# other grant does} other {# other grants do}} not cover this service',
} as const;

export type MessageKey = keyof typeof en;
