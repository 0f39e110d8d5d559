import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { en } from '../views/i18n/en.ts';
import { translate, translator } from '../views/i18n/index.ts';
import { nl } from '../views/i18n/nl.ts';
import { ERROR_KINDS } from './errors.ts';
import { fromAcceptLanguage } from './middleware/language.ts';

const viewsDir = fileURLToPath(new URL('../views/', import.meta.url));

function templates(dir = viewsDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return templates(path);
    return entry.name.endsWith('.eta') ? [path] : [];
  });
}

describe('message catalogues', () => {
  it('every key a template uses exists, and every error kind has a title and a text', () => {
    const used = new Set<string>();
    for (const file of templates()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([\w.]+)'\s*[,)]/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(10);
    for (const kind of ERROR_KINDS) used.add(`error.${kind}.title`).add(`error.${kind}.text`);
    const missing = [...used].filter((key) => !Object.hasOwn(nl, key));
    expect(missing).toEqual([]);
  });

  it('English has exactly the Dutch keys, each with a text of its own', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(nl).sort());
    for (const [key, text] of Object.entries(en)) expect(text.trim(), key).not.toBe('');
  });

  it('Dutch texts speak to parents formally (u, not je/jij)', () => {
    const informal = Object.entries(nl).filter(([, text]) => /\b(je|jij|jou|jouw|jullie)\b/i.test(text));
    expect(informal).toEqual([]);
  });

  it('t fills in parameters as plain text and leaves unknown ones visible', () => {
    const t = translator('nl');
    expect(t('login.intro', { organisation: 'De <Boomhut>' })).toContain('van De <Boomhut> heeft');
    expect(translate('en', 'error.reference', { requestId: 'abc' })).toBe('Error code: abc');
    expect(t('error.reference')).toBe('Foutcode: {requestId}');
    expect(t('no.such.key')).toBe('no.such.key');
  });

  it('picks the singular for 1 and the plural for any other number, in both languages', () => {
    expect(translate('nl', 'swaps.balance', { count: 1 })).toBe('U heeft 1 ruildag tegoed.');
    expect(translate('nl', 'swaps.balance', { count: 0 })).toBe('U heeft 0 ruildagen tegoed.');
    expect(translate('nl', 'swaps.balance', { count: 3 })).toBe('U heeft 3 ruildagen tegoed.');
    expect(translate('en', 'swaps.section.open', { count: 1 })).toBe('1 request pending');
    expect(translate('en', 'swaps.section.open', { count: 2 })).toBe('2 requests pending');
    // Without the parameter the form stays visible, like an unknown {param}.
    expect(translate('nl', 'swaps.balance')).toBe('U heeft {count} {count|ruildag|ruildagen} tegoed.');
  });
});

describe('templates', () => {
  it('hold no inline script, style or event handler (the CSP would block them)', () => {
    for (const file of templates()) {
      const text = readFileSync(file, 'utf8').replace(/<%\/\*[\s\S]*?\*\/%>/g, ''); // minus comments
      // The one exception: the layout's inlined stylesheet, allowed by its hash (http/inline-style.ts).
      expect(text.replace('<style><%~ it.inlineCss %></style>', ''), file).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|hx-on/i);
    }
  });
});

describe('Accept-Language', () => {
  it.each([
    [undefined, undefined],
    ['nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7', 'nl'],
    ['en-US,en;q=0.9', 'en'],
    ['de-DE, fr;q=0.8', undefined],
    ['de, en;q=0.5, nl;q=0.6', 'nl'],
    ['en;q=0, nl;q=0.1', 'nl'],
    ['EN-gb', 'en'],
    ['*', undefined],
  ])('%s → %s', (header, expected) => {
    expect(fromAcceptLanguage(header)).toBe(expected);
  });
});
