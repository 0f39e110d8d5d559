import { existsSync, readdirSync, statSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../../core/audit.ts';
import type { Actor } from '../../core/actor.ts';
import { isAdmin, requireAdmin } from '../../core/access/index.ts';
import { findLocation } from '../../core/directory/refs.ts';
import { type ILocation, Location } from '../../core/entities/location.ts';
import { DomainError } from '../../core/errors.ts';
import { projectPath } from '../../core/project-root.ts';
import { type MyLocation, myLocations } from '../../core/profile/my-locations.ts';
import { organisationRules, rulesForLocations } from '../../core/schedule/rules.ts';
import { FaqEntry, type FaqLanguage, type IFaqEntry } from './entity.ts';
import { type FaqDraft, type FaqEntryText, type FaqProblem, ORGANISATION_FOLDER, readFaqDir, readScopeFolder, writeFaqDir } from './files.ts';
import { renderMarkdown } from './markdown.ts';
import { fillTemplate, type TemplateRules } from './template.ts';

/**
 * The FAQ's use cases, shared by the pages, Mijn vestiging and `portal faq …` (no HTTP here).
 *
 * Which entries a location shows, per language: the organisation's layer (its own imported
 * entries, or the shipped defaults while it has imported no organisation-wide entry at all),
 * with the location's own entries on top (same slug: replaced; other slugs: added). A reader
 * whose language has no entries gets the Dutch ones: an English reader of a portal that wrote
 * its FAQ only in Dutch should not get shipped English defaults that may contradict it.
 */

export type FaqSource = 'default' | 'organisation' | 'location';

/** An entry as stored or shipped: Markdown with {{placeholders}}. */
export interface FaqSourceEntry extends FaqEntryText {
  source: FaqSource;
}

/** An entry ready to show: numbers filled in, the answer rendered by markdown-it (safe for raw()). */
export interface FaqItem {
  slug: string;
  category: string;
  question: string;
  answerHtml: string;
  source: FaqSource;
}

const DEFAULTS_DIR = projectPath('plugins', 'faq', 'defaults');
let defaults: FaqSourceEntry[] | undefined;

/** The shipped set (plugins/faq/defaults/<lang>/*.md), read once; a broken default is a bug. */
export function defaultEntries(): FaqSourceEntry[] {
  if (!defaults) {
    const problems: FaqProblem[] = [];
    const drafts = existsSync(DEFAULTS_DIR) ? readScopeFolder(DEFAULTS_DIR, 'defaults', problems) : [];
    if (problems.length) throw new Error(`faq defaults: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    defaults = drafts.map((d) => ({ ...strip(d), source: 'default' as const }));
  }
  return defaults;
}

const strip = ({ file: _file, ...d }: FaqDraft) => d;
const byOrder = (a: { position: number; slug: string }, b: { position: number; slug: string }) =>
  a.position - b.position || a.slug.localeCompare(b.slug);

const fromRow = (r: IFaqEntry, source: FaqSource): FaqSourceEntry => ({
  language: r.language as FaqLanguage,
  slug: r.slug,
  category: r.category,
  question: r.question,
  answer: r.answer,
  position: r.position,
  source,
});

/** The organisation layer plus, per location asked for, the location's own entries (one query). */
async function layers(em: EntityManager, locationIds: readonly number[]) {
  const rows = await em.find(FaqEntry, { $or: [{ location: null }, { location: { $in: [...locationIds] } }] });
  const org = rows.filter((r) => r.location == null);
  return {
    organisation: org.length ? org.map((r) => fromRow(r, 'organisation')) : defaultEntries(),
    location: (id: number) => rows.filter((r) => r.location?.id === id).map((r) => fromRow(r, 'location')),
  };
}

function merge(base: FaqSourceEntry[], own: FaqSourceEntry[], lang: FaqLanguage): FaqSourceEntry[] {
  const bySlug = new Map<string, FaqSourceEntry>();
  for (const e of base) if (e.language === lang) bySlug.set(e.slug, e);
  for (const e of own) if (e.language === lang) bySlug.set(e.slug, e);
  return [...bySlug.values()].sort(byOrder);
}

/** The entries in the reader's language, or the Dutch ones when that language has none. */
function inLanguage(base: FaqSourceEntry[], own: FaqSourceEntry[], lang: FaqLanguage): FaqSourceEntry[] {
  const entries = merge(base, own, lang);
  return entries.length || lang === 'nl' ? entries : merge(base, own, 'nl');
}

/** Lowercase, without accents: "Feestdagen" finds "feestdágen", "creche" finds "crèche". */
export const normalize = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** The words of a search (at most 10, each at most 50 characters); empty: no search. */
export function searchTerms(q: string | undefined): string[] {
  return normalize((q ?? '').slice(0, 200))
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 10)
    .map((t) => t.slice(0, 50));
}

/** Fills in the rules, keeps the entries every search word occurs in, renders the answers. */
function present(entries: FaqSourceEntry[], rules: TemplateRules, terms: string[]): FaqItem[] {
  const items: FaqItem[] = [];
  for (const e of entries) {
    const question = fillTemplate(e.question, rules, e.language, false);
    const answer = fillTemplate(e.answer, rules, e.language, true);
    if (terms.length) {
      // Search what the reader reads: the filled-in text, without Markdown's escapes.
      const haystack = normalize(`${question}\n${answer.replace(/\\(.)/g, '$1')}`);
      if (!terms.every((t) => haystack.includes(t))) continue;
    }
    items.push({ slug: e.slug, category: e.category, question, answerHtml: renderMarkdown(answer), source: e.source });
  }
  return items;
}

/**
 * Mijn vestiging: the FAQ of one of the actor's locations. The location must come from
 * myLocations() for the same actor (that is the authorization); its rules fill in the numbers.
 */
export async function faqForMyLocation(em: EntityManager, location: Pick<MyLocation, 'id'>, lang: FaqLanguage, q?: string): Promise<FaqItem[]> {
  const l = await layers(em, [location.id]);
  const rules = (await rulesForLocations(em, [location.id])).get(location.id)!;
  return present(inLanguage(l.organisation, l.location(location.id), lang), rules, searchTerms(q));
}

export interface FaqPageSection {
  /** null: the organisation-wide entries with the organisation's rules. */
  location: { id: number; name: string } | null;
  items: FaqItem[];
}

/**
 * The FAQ page: per location of the actor (a parent's children's locations, a staff member's
 * own), with that location's rules; an administrator, or someone without a location yet, gets
 * the organisation-wide entries with the organisation's rules. Nothing the request says can
 * widen this: there is no location parameter.
 */
export async function faqForActor(em: EntityManager, actor: Actor, lang: FaqLanguage, q?: string): Promise<FaqPageSection[]> {
  const terms = searchTerms(q);
  const locations = isAdmin(actor) ? [] : await myLocations(em, actor);
  const l = await layers(em, locations.map((loc) => loc.id));
  if (locations.length === 0) {
    return [{ location: null, items: present(inLanguage(l.organisation, [], lang), await organisationRules(em), terms) }];
  }
  const rules = await rulesForLocations(em, locations.map((loc) => loc.id));
  return locations.map((loc) => ({
    location: { id: loc.id, name: loc.name },
    items: present(inLanguage(l.organisation, l.location(loc.id), lang), rules.get(loc.id)!, terms),
  }));
}

export interface FaqListRow {
  scope: string;
  language: FaqLanguage;
  slug: string;
  position: number;
  category: string;
  question: string;
  source: FaqSource;
}

/** `portal faq list`: what the organisation (or one location) shows, and where each entry comes from. */
export async function listFaq(em: EntityManager, actor: Actor, options: { location?: string; language?: FaqLanguage } = {}): Promise<FaqListRow[]> {
  requireAdmin(actor, 'faq.manage');
  const loc = options.location === undefined ? null : await findLocation(em, options.location);
  const l = await layers(em, loc ? [loc.id] : []);
  const own = loc ? l.location(loc.id) : [];
  const languages: FaqLanguage[] = options.language ? [options.language] : ['nl', 'en'];
  return languages.flatMap((lang) =>
    merge(l.organisation, own, lang).map((e) => ({
      scope: e.source === 'location' && loc ? loc.name : ORGANISATION_FOLDER,
      language: lang,
      slug: e.slug,
      position: e.position,
      category: e.category,
      question: e.question,
      source: e.source,
    })),
  );
}

export interface FaqImportReport {
  dryRun: boolean;
  /** The scope folders read, as named in DIR. */
  scopes: string[];
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

const problemsError = (dir: string, problems: FaqProblem[]) =>
  new DomainError(
    'validation',
    problems.length === 1 ? `${problems[0]!.path}: ${problems[0]!.message}` : `${problems.length} problems in ${dir}; nothing imported`,
    problems,
  );

/**
 * `portal faq import DIR`: every file checked first (an error anywhere imports nothing); then, in
 * one transaction, each scope folder in DIR becomes that scope's complete set (entries not in the
 * folder are removed; scopes without a folder are untouched). Unchanged entries are not written,
 * so a second run reports 0 changed.
 */
export async function importFaq(em: EntityManager, actor: Actor, dir: string, options: { dryRun?: boolean } = {}): Promise<FaqImportReport> {
  requireAdmin(actor, 'faq.manage');
  const { scopes, problems } = readFaqDir(dir);
  const resolved: { folder: string; location: ILocation | null; drafts: FaqDraft[] }[] = [];
  const seen = new Map<number | null, string>();
  for (const scope of scopes) {
    let location: ILocation | null = null;
    if (scope.folder.toLowerCase() !== ORGANISATION_FOLDER) {
      try {
        location = await findLocation(em, scope.folder);
      } catch {
        problems.push({ path: `${scope.folder}/`, message: `no location "${scope.folder}" (use ${ORGANISATION_FOLDER}/, a location's name or its id)` });
        continue;
      }
    }
    const key = location?.id ?? null;
    const other = seen.get(key);
    if (other !== undefined) problems.push({ path: `${scope.folder}/`, message: `the same scope as ${other}/` });
    seen.set(key, scope.folder);
    resolved.push({ folder: scope.folder, location, drafts: scope.drafts });
  }
  if (problems.length) throw problemsError(dir, problems);

  const report: FaqImportReport = { dryRun: Boolean(options.dryRun), scopes: resolved.map((s) => s.folder), added: 0, changed: 0, removed: 0, unchanged: 0 };
  await em.transactional(async (tx) => {
    for (const scope of resolved) {
      const existing = await tx.find(FaqEntry, { location: scope.location?.id ?? null });
      const byKey = new Map(existing.map((r) => [`${r.language}/${r.slug}`, r]));
      for (const d of scope.drafts) {
        const row = byKey.get(`${d.language}/${d.slug}`);
        byKey.delete(`${d.language}/${d.slug}`);
        if (!row) {
          report.added++;
          if (!report.dryRun) {
            tx.create(FaqEntry, { location: scope.location?.id ?? null, language: d.language, slug: d.slug, category: d.category, question: d.question, answer: d.answer, position: d.position });
          }
        } else if (row.question !== d.question || row.answer !== d.answer || row.category !== d.category || row.position !== d.position) {
          report.changed++;
          if (!report.dryRun) Object.assign(row, { question: d.question, answer: d.answer, category: d.category, position: d.position });
        } else {
          report.unchanged++;
        }
      }
      report.removed += byKey.size;
      if (!report.dryRun) for (const row of byKey.values()) tx.remove(row);
    }
    if (!report.dryRun) {
      const { added, changed, removed } = report;
      audit(tx, { type: 'faq.imported', actor, subject: report.scopes.join(', '), details: { added, changed, removed } });
    }
    await tx.flush();
  });
  return report;
}

/** A location's folder name: its name when that is a plain, unambiguous folder name, else its id. */
export function locationFolder(location: { id: number; name: string }): string {
  const name = location.name.trim();
  const plain =
    name !== '' &&
    !/[/\\:*?"<>|\p{Cc}]/u.test(name) &&
    !name.startsWith('.') &&
    !/^\d+$/.test(name) &&
    name.toLowerCase() !== ORGANISATION_FOLDER &&
    name === location.name;
  return plain ? name : String(location.id);
}

/**
 * `portal faq export DIR`: the organisation's entries (the shipped defaults while it has none,
 * so there is something to start editing) and each location's own, in exactly the layout that
 * import reads. DIR must be new or empty: stale files would otherwise be imported back.
 */
export async function exportFaq(em: EntityManager, actor: Actor, dir: string): Promise<{ files: number; scopes: string[] }> {
  requireAdmin(actor, 'faq.manage');
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new DomainError('conflict', `${dir} is not an empty folder; export into a new or empty one`);
  }
  const rows = await em.find(FaqEntry, {}, { populate: ['location'] });
  const org = rows.filter((r) => r.location == null);
  const scopes: { folder: string; entries: FaqSourceEntry[] }[] = [
    { folder: ORGANISATION_FOLDER, entries: org.length ? org.map((r) => fromRow(r, 'organisation')) : defaultEntries() },
  ];
  const locations = await em.find(Location, { id: { $in: [...new Set(rows.flatMap((r) => (r.location ? [r.location.id] : [])))] } }, { orderBy: { name: 'asc' } });
  for (const loc of locations) {
    scopes.push({ folder: locationFolder(loc), entries: rows.filter((r) => r.location?.id === loc.id).map((r) => fromRow(r, 'location')) });
  }
  const files = writeFaqDir(dir, scopes);
  return { files, scopes: scopes.map((s) => s.folder) };
}
