import type { MessageKey } from './en.js';

/**
 * Le catalogue français : les mêmes clés et les mêmes arguments qu’en anglais (un test le vérifie), écrits comme
 * un francophone les écrirait — vouvoiement, espaces insécables (U+00A0 devant `:`, U+202F devant `; ? !`),
 * guillemets « » avec espaces insécables, apostrophe typographique, virgule décimale, `10 Go`. Une clé absente
 * retombe sur l’anglais (et fait échouer un test).
 */
export const fr: Partial<Record<MessageKey, string>> = {
  // ---- mots communs ---------------------------------------------------------------------------------------------
  'time.unknown': 'une heure inconnue',
  'common.listOr': ' ou ',
  'common.listAnd': ' et ',
  'common.listComma': ', ',
  'common.didYouMean': ' Vouliez-vous dire {suggestions}\u202f?',

  // ---- can-i ----------------------------------------------------------------------------------------------------
  'canI.otherGrants':
    '{count, plural, one {# autre autorisation ne couvre pas} other {# autres autorisations ne couvrent pas}} ce service',
};
