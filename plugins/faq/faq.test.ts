import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, } from '../../core/dates.ts';
import { addChild } from '../../core/directory/children.ts';
import { addGroup } from '../../core/directory/groups.ts';
import { addLocation } from '../../core/directory/locations.ts';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { linkParent } from '../../core/directory/parents.ts';
import { setRules } from '../../core/schedule/rules.ts';
import { type AppEnv, createApp } from '../../http/app.ts';
import { seedAccount, TestBrowser } from '../../http/testing.ts';
import { runCli } from '../../test/cli.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { FaqEntry } from './entity.ts';
import { defaultEntries, normalize } from './entries.ts';
import { parseFaqFile } from './files.ts';
import { isSafeLink, renderMarkdown } from './markdown.ts';
import { checkTemplate, fillTemplate } from './template.ts';

/**
 * The FAQ: the placeholder language and safe Markdown on their own; then, over a real database
 * and app.request(), the numbers following the rules per location, import/export through the
 * CLI (all-or-nothing, idempotent, round trip, overrides), the search, who sees what, and the
 * plugin switched off.
 */

const PASSWORD = 'een lang wachtwoord 1';
let portal: TestPortal;
let app: Hono<AppEnv>;
let centrumId: number;
const env = () => ({ PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir, PORTAL_LOG_LEVEL: 'silent' });
const RULES = { cancelBefore: '09:00', swapNoticeDays: 1, creditValidWeeks: 8, halfDaysSwappable: true, closedOnPublicHolidays: true };

async function as(email: string): Promise<TestBrowser> {
  const b = new TestBrowser(app);
  expect((await b.login(email, PASSWORD)).status).toBe(303);
  return b;
}
const page = async (b: TestBrowser, path: string) => {
  const res = await b.get(path);
  expect(res.status).toBe(200);
  return await res.text();
};
/** The FAQ section of Mijn vestiging for one location (by its card's heading id). */
const faqOf = (html: string, locationId: number) => {
  const card = html.split(`<h2 id="location-${locationId}">`)[1]?.split('</section>\n</section>')[0] ?? '';
  return card.split('data-section="faq"')[1] ?? '';
};

/** Writes files under a new folder: { 'organisatie/nl/01-x.md': text }. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'faq-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
const entry = (question: string, answer: string, category = 'algemeen') => `---\nquestion: ${question}\ncategory: ${category}\n---\n${answer}\n`;

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Zon', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
  app = createApp(portal, { throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
  centrumId = (await addLocation(em, admin, { name: 'Centrum' })).id;
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Noord', name: 'Egeltjes' });
  const start = addDays(portal.clock.today(), -30);
  await addChild(em, admin, { childNumber: 'C1', firstName: 'Evi', lastName: 'B', birthDate: '2023-01-01', group: 'Boomhut', startDate: start });
  await addChild(em, admin, { childNumber: 'N1', firstName: 'Daan', lastName: 'C', birthDate: '2023-01-01', group: 'Egeltjes', startDate: start });
  await seedAccount(portal, { email: 'centrum@example.nl', password: PASSWORD });
  await seedAccount(portal, { email: 'noord@example.nl', password: PASSWORD });
  await seedAccount(portal, { email: 'english@example.nl', password: PASSWORD, language: 'en' });
  await linkParent(em, admin, 'centrum@example.nl', 'C1');
  await linkParent(em, admin, 'noord@example.nl', 'N1');
  await linkParent(em, admin, 'english@example.nl', 'C1');
}, 60_000);
afterAll(async () => {
  await portal?.destroy();
});

describe('placeholders', () => {
  it('fills in the rules, plural-aware, and keeps or drops the yes/no blocks', () => {
    const text = 'Binnen {{creditValidWeeks}}, {{swapNoticeDays}} vooraf, voor {{cancelBefore}}.{{#halfDaysSwappable}} Halve dagen ook.{{/halfDaysSwappable}}{{^halfDaysSwappable}} Alleen hele dagen.{{/halfDaysSwappable}}';
    expect(fillTemplate(text, RULES, 'nl', false)).toBe('Binnen 8 weken, 1 dag vooraf, voor 09:00. Halve dagen ook.');
    expect(fillTemplate(text, { ...RULES, creditValidWeeks: 1, swapNoticeDays: 2, halfDaysSwappable: false }, 'nl', false)).toBe(
      'Binnen 1 week, 2 dagen vooraf, voor 09:00. Alleen hele dagen.',
    );
    expect(fillTemplate('{{creditValidWeeks}} / {{swapNoticeDays}}', { ...RULES, swapNoticeDays: 1 }, 'en', false)).toBe('8 weeks / 1 day');
    // A block tag alone on its line takes its line along: a conditional list item stays in the list.
    expect(fillTemplate('- a\n{{#halfDaysSwappable}}\n- b\n{{/halfDaysSwappable}}\n- c', RULES, 'nl', true)).toBe('- a\n- b\n- c');
  });

  it('reports unknown names, wrong use, unclosed blocks and stray braces with their line', () => {
    expect(checkTemplate('ok {{creditValidWeeks}}\n{{#closedOnPublicHolidays}}x{{/closedOnPublicHolidays}}')).toEqual([]);
    const problems = checkTemplate('regel 1\n{{creditValidweeks}}\n{{halfDaysSwappable}}\n{{#creditValidWeeks}}\n{{#closedOnPublicHolidays}} open\n{{ cancel before }}');
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]!.message).toContain('unknown placeholder {{creditValidweeks}}');
    expect(problems[1]!.message).toContain('yes/no');
    expect(problems[3]!.message).toContain('not closed');
    expect(problems[4]!.message).toContain('not a placeholder');
  });

  it('the shipped defaults parse, cover the same questions in nl and en, and use the rules', () => {
    const entries = defaultEntries();
    const slugs = (lang: string) => entries.filter((e) => e.language === lang).map((e) => e.slug);
    expect(slugs('nl').length).toBeGreaterThanOrEqual(6);
    expect(slugs('en')).toEqual(slugs('nl'));
    const all = entries.map((e) => e.answer).join('\n');
    for (const name of ['cancelBefore', 'swapNoticeDays', 'creditValidWeeks', '#halfDaysSwappable', '^closedOnPublicHolidays']) {
      expect(all).toContain(`{{${name}}}`);
    }
  });
});

describe('safe Markdown', () => {
  it('leaves scripts, raw HTML and javascript: links inert', () => {
    const out = renderMarkdown(
      '<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> [a](javascript:alert(3)) [b](JaVaScRiPt:alert(4)) [c](data:text/html,x) [d](vbscript:x) ![e](https://x.example/p.png)\n\n[ok](https://example.nl) [tel](tel:0451234567) [mail](mailto:a@example.nl) [rel](/mijn-vestiging)',
    );
    expect(out).not.toMatch(/<script|<img|href="(javascript|data|vbscript)/i);
    expect(out).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('<a href="https://example.nl" rel="noopener noreferrer">ok</a>');
    expect(out).toContain('<a href="tel:0451234567">tel</a>');
    expect(out).toContain('<a href="/mijn-vestiging">rel</a>');
    expect(isSafeLink('//evil.example')).toBe(false);
    expect(isSafeLink('ftp://x')).toBe(false);
  });

  it('a value filled into Markdown cannot add markup', () => {
    // valueText() yields only digits, letters and a colon; a forged rules object still cannot inject.
    const forged = { ...RULES, cancelBefore: '<b>09:00' };
    expect(fillTemplate('{{cancelBefore}}', forged, 'nl', true)).toBe('');
  });
});

describe('the numbers follow the rules', () => {
  it('a Centrum parent reads 8 weken, then 12 after `portal schedule rules Centrum --credit-valid-weeks 12`; Noord keeps 8', async () => {
    const centrum = await as('centrum@example.nl');
    const noord = await as('noord@example.nl');
    const before = faqOf(await page(centrum, '/mijn-vestiging'), centrumId);
    expect(before).toContain('Veelgestelde vragen: afmelden en ruilen');
    expect(before).toContain('<strong>8 weken</strong>');
    expect(before).toContain('<summary>Wat is ruiltegoed en hoe lang is het geldig?</summary>');

    const set = await runCli(['schedule', 'rules', 'Centrum', '--credit-valid-weeks', '12', '--half-days', 'no'], env());
    expect(set.code, set.stderr).toBe(0);

    const after = faqOf(await page(centrum, '/mijn-vestiging'), centrumId);
    expect(after).toContain('<strong>12 weken</strong>');
    expect(after).not.toContain('8 weken');
    // Half days off: the answer's sentence changes with it.
    expect(after).toContain('U meldt altijd een hele dag af');
    expect(after).not.toContain('U kunt ook één dagdeel afmelden');
    const faqPage = await page(centrum, '/p/faq');
    expect(faqPage).toContain('binnen 12 weken na de afgemelde dag');

    const other = await page(noord, '/mijn-vestiging');
    expect(other).toContain('<strong>8 weken</strong>');
    expect(other).toContain('U kunt ook één dagdeel afmelden');
    expect(other).not.toContain('12 weken');

    // The organisation's value moves the locations that do not override it.
    await setRules(portal.em(), admin, undefined, { creditValidWeeks: 6 });
    expect(await page(noord, '/p/faq')).toContain('binnen 6 weken na de afgemelde dag');
    expect(await page(centrum, '/p/faq')).toContain('binnen 12 weken na de afgemelde dag');
  });

  it('in English for a parent whose language is English', async () => {
    const b = await as('english@example.nl');
    const html = await page(b, '/p/faq');
    expect(html).toContain('What is a swap credit and how long is it valid?');
    expect(html).toContain('<strong>12 weeks</strong>');
  });
});

describe('portal faq export and import', () => {
  let exported: string;

  it('export of a portal without own entries writes the defaults in the layout import reads', async () => {
    exported = join(mkdtempSync(join(tmpdir(), 'faq-export-')), 'out');
    const res = await runCli(['faq', 'export', exported], env());
    expect(res.code, res.stderr).toBe(0);
    expect(readdirSync(exported)).toEqual(['organisatie']);
    expect(readdirSync(join(exported, 'organisatie'))).toEqual(['en', 'nl']);
    const file = readFileSync(join(exported, 'organisatie/nl/02-ruiltegoed.md'), 'utf8');
    expect(file).toMatch(/^---\nquestion: Wat is ruiltegoed en hoe lang is het geldig\?\ncategory: ruilen\n---\n/);
    expect(file).toContain('{{creditValidWeeks}}');
    // Not into a folder with files in it: stale files would be imported back.
    expect((await runCli(['faq', 'export', exported], env())).code).toBe(3); // a conflict
  });

  it('a folder with one bad file imports nothing and names file and line of every problem', async () => {
    const dir = folder({
      'organisatie/nl/01-goed.md': entry('Goede vraag?', 'Goed antwoord.'),
      'organisatie/nl/02-fout.md': entry('Vraag?', 'Eerste regel.\n\nGeldig {{creditValidWeks}} lang.'),
      'organisatie/nl/03-leeg.md': '---\ncategory: x\n---\nAntwoord zonder vraag.\n',
      'organisatie/de/01-x.md': entry('Frage?', 'Antwort.'),
      'Zuid/nl/01-x.md': entry('Vraag?', 'Antwoord.'),
      'Centrum/nl/01-dubbel.md': entry('A?', 'a'),
      'Centrum/nl/02-dubbel.md': entry('B?', 'b'),
    });
    const res = await runCli(['faq', 'import', dir], env());
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('organisatie/nl/02-fout.md:7: unknown placeholder {{creditValidWeks}}');
    expect(res.stderr).toContain('organisatie/nl/03-leeg.md:1: missing question:');
    expect(res.stderr).toContain('organisatie/de: expected a language folder');
    expect(res.stderr).toContain('Zuid/: no location "Zuid"');
    expect(res.stderr).toContain('Centrum/nl/02-dubbel.md: same slug "dubbel" as Centrum/nl/01-dubbel.md');
    expect(await portal.em().count(FaqEntry, {})).toBe(0);
  });

  it('parses what it checks: the file name gives position and slug; limits hold', () => {
    const ok = parseFaqFile('organisatie/nl/05-ziek-kind.md', 'nl', entry('"Ziek: wat nu?"', 'Bel ons.', 'ziek'));
    expect(ok.draft).toMatchObject({ position: 5, slug: 'ziek-kind', question: 'Ziek: wat nu?', category: 'ziek', answer: 'Bel ons.' });
    expect(parseFaqFile('x/nl/Hoofdletter.md', 'nl', entry('Q?', 'A')).problems[0]!.message).toContain('file name');
    expect(parseFaqFile('x/nl/01-lang.md', 'nl', entry('Q'.repeat(301), 'A')).problems[0]).toEqual({
      path: 'x/nl/01-lang.md:2',
      message: 'question longer than 300 characters',
    });
  });

  it('imports, with --dry-run first; a second run changes nothing; the export round-trips', async () => {
    const dry = await runCli(['faq', 'import', '--dry-run', exported], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run, nothing changed: would have added 14, changed 0, removed 0');
    expect(await portal.em().count(FaqEntry, {})).toBe(0);

    // An organisation's own wording; the defaults no longer show once it has entries of its own.
    writeFileSync(join(exported, 'organisatie/nl/04-termijnen.md'), entry('Welke termijnen gelden bij De Zon?', 'Afmelden kan tot {{cancelBefore}} uur.', 'termijnen'));
    const first = await runCli(['faq', 'import', exported], env());
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('Added 14, changed 0, removed 0, unchanged 0 (organisatie).\n');
    const second = await runCli(['--json', 'faq', 'import', exported], env());
    expect(JSON.parse(second.stdout)).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 14 });
    // Each real import is in the audit log with its counts; the dry run is not.
    const events = await portal.em().getConnection().execute<{ details: unknown }[]>(`select details from audit_event where type = 'faq.imported' order by id`);
    expect(events.map((e) => e.details)).toEqual([
      { added: 14, changed: 0, removed: 0 },
      { added: 0, changed: 0, removed: 0 },
    ]);

    const again = join(mkdtempSync(join(tmpdir(), 'faq-export-')), 'again');
    expect((await runCli(['faq', 'export', again], env())).code).toBe(0);
    const round = await runCli(['--json', 'faq', 'import', again], env());
    expect(JSON.parse(round.stdout)).toMatchObject({ added: 0, changed: 0, removed: 0 });
    expect(readFileSync(join(again, 'organisatie/nl/04-termijnen.md'), 'utf8')).toBe(readFileSync(join(exported, 'organisatie/nl/04-termijnen.md'), 'utf8'));

    const b = await as('noord@example.nl');
    expect(await page(b, '/p/faq')).toContain('Welke termijnen gelden bij De Zon?');
  });

  it('a location folder overrides the same slug and adds its own, only there; other scopes are untouched', async () => {
    const dir = folder({
      'Centrum/nl/04-termijnen.md': entry('Welke termijnen gelden in Centrum?', 'In Centrum tot {{cancelBefore}} uur.', 'termijnen'),
      'Centrum/nl/20-parkeren.md': entry('Waar parkeer ik bij Centrum?', 'Op het **Marktplein**. <script>alert(1)</script> [klik](javascript:alert(2)) <b>vet</b>'),
    });
    const res = await runCli(['faq', 'import', dir], env());
    expect(res.stdout).toBe('Added 2, changed 0, removed 0, unchanged 0 (Centrum).\n');
    expect(await portal.em().count(FaqEntry, { location: null })).toBe(14);

    const centrum = faqOf(await page(await as('centrum@example.nl'), '/mijn-vestiging'), centrumId);
    expect(centrum).toContain('Welke termijnen gelden in Centrum?');
    expect(centrum).not.toContain('Welke termijnen gelden bij De Zon?');
    expect(centrum).toContain('Op het <strong>Marktplein</strong>.');
    // What an admin's file says is shown as text, never run.
    expect(centrum).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(centrum).toContain('&lt;b&gt;vet&lt;/b&gt;');
    expect(centrum).not.toMatch(/<script>alert|href="javascript/);

    const noord = await page(await as('noord@example.nl'), '/p/faq');
    expect(noord).toContain('Welke termijnen gelden bij De Zon?');
    expect(noord).not.toContain('Centrum');
    expect(noord).not.toContain('parkeer');

    const list = await runCli(['--json', 'faq', 'list', '--location', 'Centrum', '--language', 'nl'], env());
    const rows = JSON.parse(list.stdout) as { slug: string; source: string }[];
    expect(rows.find((r) => r.slug === 'termijnen')?.source).toBe('location');
    expect(rows.find((r) => r.slug === 'afmelden')?.source).toBe('organisation');
    expect(rows.at(-1)?.slug).toBe('parkeren');
  });

  it('an empty language folder of a scope removes that scope’s entries; the plugin switched off is exit 2', async () => {
    const dir = folder({ 'Centrum/nl/.keep': '' });
    const res = await runCli(['faq', 'import', dir], env());
    expect(res.stdout).toBe('Added 0, changed 0, removed 2, unchanged 0 (Centrum).\n');
    expect(await portal.em().count(FaqEntry, { location: centrumId })).toBe(0);
    const file = join(portal.dataDir, 'faq-off.json');
    writeFileSync(file, JSON.stringify({ plugins: { faq: { enabled: false } } }));
    const off = await runCli(['faq', 'list'], { ...env(), PORTAL_CONFIG: file });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('plugin faq is switched off');
  });
});

describe('search and who sees what', () => {
  beforeAll(async () => {
    const dir = folder({ 'Centrum/nl/20-parkeren.md': entry('Waar parkeer ik bij Centrum?', 'Op het Marktplein, naast de crèche.') });
    expect((await runCli(['faq', 'import', dir], env())).code).toBe(0);
  });

  it('a query matching one entry shows only it, open; case and accents do not matter', async () => {
    const b = await as('centrum@example.nl');
    const html = await page(b, '/p/faq?q=CRECHE');
    expect(html.match(/<details /g)).toHaveLength(1);
    expect(html).toContain('<details data-slug="parkeren" open><summary>Waar parkeer ik bij Centrum?</summary>');
    expect(html).toContain('1 antwoord met &quot;CRECHE&quot;.');
    // Search reads the filled-in numbers, not the placeholders.
    const weeks = await page(b, '/p/faq?q=12%20weken');
    expect(weeks).toContain('data-slug="ruiltegoed"');
    expect(weeks).not.toContain('data-slug="parkeren"');
    expect(normalize('Crèche Ä')).toBe('creche a');
  });

  it('no match shows the empty state', async () => {
    const html = await page(await as('centrum@example.nl'), '/p/faq?q=zwembad');
    expect(html).not.toContain('<details');
    expect(html).toContain('Geen antwoorden gevonden met &quot;zwembad&quot;.');
    expect(html).toContain('Alle vragen tonen');
  });

  it('a parent of Noord never sees a Centrum-only entry, whatever the URL says', async () => {
    const b = await as('noord@example.nl');
    for (const path of ['/p/faq?q=parkeer', `/p/faq?q=parkeer&location=${centrumId}`, `/p/faq?location=${centrumId}&locationId=${centrumId}`]) {
      const html = await page(b, path);
      expect(html).not.toContain('Marktplein');
      expect(html).not.toContain('Centrum');
    }
    expect(await page(b, '/mijn-vestiging')).not.toContain('Marktplein');
    // Behind the login gate.
    expect((await new TestBrowser(app).get('/p/faq')).headers.get('Location')).toBe('/login');
  });

  it('a parent without a placement yet reads the organisation-wide entries with the organisation’s rules', async () => {
    await seedAccount(portal, { email: 'nieuw@example.nl', password: PASSWORD });
    const html = await page(await as('nieuw@example.nl'), '/p/faq');
    // The organisation's 6 weeks (set above), not Centrum's 12, and no location's own entry.
    expect(html).toContain('<strong>6 weken</strong>');
    expect(html).not.toContain('12 weken');
    expect(html).not.toContain('Marktplein');
  });
});

describe('languages', () => {
  it('a reader whose language has no entries gets the Dutch ones, not shipped English text', async () => {
    const b = await as('english@example.nl');
    expect(await page(b, '/p/faq')).toContain('What is a swap credit and how long is it valid?');
    const dir = folder({ 'organisatie/nl/01-afmelden.md': entry('Hoe meld ik af bij De Zon?', 'Tot {{cancelBefore}} uur.') });
    expect((await runCli(['faq', 'import', dir], env())).stdout).toBe('Added 0, changed 1, removed 13, unchanged 0 (organisatie).\n');
    const html = await page(b, '/p/faq');
    expect(html).toContain('Hoe meld ik af bij De Zon?');
    expect(html).toContain('Waar parkeer ik bij Centrum?');
    expect(html).not.toContain('What is a swap credit');
  });
});

describe('switched off', () => {
  it('/p/faq is 404, Mijn vestiging has no FAQ section, and the app API has no /faq', async () => {
    const off = await createTestPortal({ 'plugins.faq.enabled': false });
    try {
      const em = off.em();
      await initOrganisation(em, admin, { name: 'Uit', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
      await addLocation(em, admin, { name: 'Centrum' });
      await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
      await addChild(em, admin, { childNumber: 'C1', firstName: 'Evi', lastName: 'B', birthDate: '2023-01-01', group: 'Boomhut', startDate: addDays(portal.clock.today(), -3) });
      await seedAccount(off, { email: 'ouder@example.nl', password: PASSWORD });
      await linkParent(em, admin, 'ouder@example.nl', 'C1');
      const offApp = createApp(off);
      const b = new TestBrowser(offApp);
      expect((await b.login('ouder@example.nl', PASSWORD)).status).toBe(303);
      expect((await b.get('/p/faq')).status).toBe(404);
      const html = await (await b.get('/mijn-vestiging')).text();
      expect(html).toContain('Centrum');
      expect(html).not.toContain('data-section="faq"');
      expect(html).not.toContain('Veelgestelde vragen');
      // Nor in the app API: neither the operation nor its entry in the OpenAPI document.
      const session = await offApp.request('/api/v1/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'ouder@example.nl', password: PASSWORD, deviceName: 'test' }),
      });
      const { token } = (await session.json()) as { token: string };
      expect((await offApp.request('/api/v1/faq', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
      const doc = (await (await offApp.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).not.toContain('/faq');
      expect(Object.keys(doc.paths)).toContain('/helpdesk');
    } finally {
      await off.destroy();
    }
  });
});
