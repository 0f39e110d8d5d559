import { LANGUAGES, type Language } from '../../core/entities/organisation.ts';
import { en } from './en.ts';
import { type MessageKey, nl } from './nl.ts';

export { LANGUAGES, type Language, type MessageKey };

export const DEFAULT_LANGUAGE: Language = 'nl';

export type MessageParams = Record<string, string | number>;

/** Looks up a text in one language. TypeScript callers get their keys checked; templates pass strings. */
export type Translate = (key: MessageKey | (string & {}), params?: MessageParams) => string;

const catalogues: Record<Language, Record<MessageKey, string>> = { nl, en };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Plugins' texts (keys `<plugin id>.…`), added when the app mounts them (plugins/mount.ts). */
const pluginCatalogues: Record<Language, Map<string, string>> = { nl: new Map(), en: new Map() };

export function registerMessages(messages: Record<Language, Record<string, string>>): void {
  for (const lang of LANGUAGES) {
    for (const [key, text] of Object.entries(messages[lang])) pluginCatalogues[lang].set(key, text);
  }
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(nl, key);
}

/**
 * Returns plain text with `{param}` filled in. Escaping is the template's job (`<%= %>`), so a
 * parameter such as an organisation name can never inject markup. An unknown key shows up as
 * the key itself rather than failing the page; a test checks every key the templates use.
 * `{count|dag|dagen}` picks the word for 1 or for any other number (Dutch and English plurals
 * both work this way), so texts never need "dag(en)".
 */
export function translate(lang: Language, key: string, params?: MessageParams): string {
  const text = isMessageKey(key) ? catalogues[lang][key] : (pluginCatalogues[lang].get(key) ?? key);
  if (!params) return text;
  return text
    .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (match, name: string, one: string, other: string) =>
      Object.hasOwn(params, name) ? (Number(params[name]) === 1 ? one : other) : match,
    )
    .replace(/\{(\w+)\}/g, (match, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : match));
}

/** `t(key, params)` bound to one language, as handed to templates and handlers. */
export function translator(lang: Language): Translate {
  return (key, params) => translate(lang, key, params);
}
