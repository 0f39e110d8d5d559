import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAQ_LANGUAGES, type FaqLanguage } from './entity.ts';
import { checkTemplate } from './template.ts';

/**
 * The FAQ as a folder of Markdown files, the format admins edit and `portal faq import|export`
 * read and write:
 *
 *   DIR/organisatie/nl/01-afmelden.md      organisation-wide, Dutch
 *   DIR/organisatie/en/01-afmelden.md      organisation-wide, English
 *   DIR/Heerlen Centrum/nl/01-afmelden.md  one location (its name, or its id), Dutch
 *
 * A file: front matter with `question:` and `category:`, then the answer in Markdown. The number
 * before the dash orders the questions; the rest of the name is the slug, which is how a
 * location's entry replaces the organisation's.
 */

export const ORGANISATION_FOLDER = 'organisatie';
export const LIMITS = { question: 300, answer: 8000, slug: 80, category: 40, fileBytes: 64 * 1024 } as const;
/** Files without a number come after the numbered ones. */
export const DEFAULT_POSITION = 999;
const FILE_NAME = /^(?:(\d{1,3})-)?([a-z0-9]+(?:-[a-z0-9]+)*)\.md$/;
const CATEGORY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** One question as written: the same fields in a file, in the table and in the shipped defaults. */
export interface FaqEntryText {
  language: FaqLanguage;
  slug: string;
  category: string;
  question: string;
  answer: string;
  position: number;
}

export interface FaqDraft extends FaqEntryText {
  /** Where it came from, relative to DIR, for messages. */
  file: string;
}

export interface FaqProblem {
  /** "organisatie/nl/01-afmelden.md:4", or a folder. */
  path: string;
  message: string;
}

function frontValue(raw: string): string | undefined {
  const v = raw.trim();
  if (v.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(v);
      return typeof parsed === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  if (v.startsWith("'")) return v.length > 1 && v.endsWith("'") ? v.slice(1, -1).replace(/''/g, "'") : undefined;
  return v;
}

/** Parses one file; `file` is its path relative to DIR (language and file name taken from it). */
export function parseFaqFile(file: string, language: FaqLanguage, text: string): { draft?: FaqDraft; problems: FaqProblem[] } {
  const problems: FaqProblem[] = [];
  const at = (line?: number) => (line ? `${file}:${line}` : file);
  const name = file.split('/').pop() ?? file;
  const m = FILE_NAME.exec(name);
  if (!m) {
    problems.push({ path: file, message: 'file name must be lowercase letters, digits and dashes ending in .md, e.g. 01-afmelden.md' });
    return { problems };
  }
  const position = m[1] === undefined ? DEFAULT_POSITION : Number(m[1]);
  const slug = m[2]!;
  if (slug.length > LIMITS.slug) problems.push({ path: file, message: `name longer than ${LIMITS.slug} characters` });

  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') {
    problems.push({ path: at(1), message: 'expected "---" on the first line, then question: and category:, then "---"' });
    return { problems };
  }
  const close = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (close < 0) {
    problems.push({ path: at(1), message: 'front matter is not closed with a "---" line' });
    return { problems };
  }
  const fields: Partial<Record<'question' | 'category', { value: string; line: number }>> = {};
  for (let i = 1; i < close; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const kv = /^([A-Za-z]+)\s*:(.*)$/.exec(line);
    const key = kv?.[1];
    if (!kv || (key !== 'question' && key !== 'category')) {
      problems.push({ path: at(i + 1), message: `unknown line in front matter (expected question: or category:): ${line.trim().slice(0, 40)}` });
      continue;
    }
    if (fields[key]) problems.push({ path: at(i + 1), message: `${key} given twice` });
    const value = frontValue(kv[2]!);
    if (value === undefined) problems.push({ path: at(i + 1), message: `${key}: unbalanced quotes` });
    else fields[key] = { value: value.trim(), line: i + 1 };
  }
  const question = fields.question;
  if (!question || question.value === '') problems.push({ path: at(question?.line ?? 1), message: 'missing question:' });
  else {
    if ([...question.value].length > LIMITS.question) {
      problems.push({ path: at(question.line), message: `question longer than ${LIMITS.question} characters` });
    }
    for (const p of checkTemplate(question.value)) problems.push({ path: at(question.line), message: p.message });
  }
  const category = fields.category?.value || 'algemeen';
  if (!CATEGORY.test(category) || category.length > LIMITS.category) {
    problems.push({
      path: at(fields.category?.line),
      message: `category must be lowercase letters, digits and dashes, at most ${LIMITS.category} (e.g. afmelden)`,
    });
  }
  // The answer: everything after the front matter, with the line numbers of the file.
  const body = lines.slice(close + 1);
  const firstText = body.findIndex((l) => l.trim() !== '');
  const answer = body.join('\n').trim();
  if (answer === '') problems.push({ path: at(close + 1), message: 'no answer after the front matter' });
  else {
    if ([...answer].length > LIMITS.answer) problems.push({ path: file, message: `answer longer than ${LIMITS.answer} characters` });
    const offset = close + 1 + firstText;
    for (const p of checkTemplate(answer)) problems.push({ path: at(offset + p.line), message: p.message });
  }
  if (problems.length) return { problems };
  return { draft: { language, slug, category, question: question!.value, answer, position, file }, problems };
}

export interface ScopeFolder {
  /** The folder's name under DIR: "organisatie", or a location's name or id. */
  folder: string;
  drafts: FaqDraft[];
}

const visible = (name: string) => !name.startsWith('.');

/** Reads every scope folder of DIR, listing every problem (an import imports nothing then). */
export function readFaqDir(dir: string): { scopes: ScopeFolder[]; problems: FaqProblem[] } {
  const problems: FaqProblem[] = [];
  const scopes: ScopeFolder[] = [];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { scopes, problems: [{ path: dir, message: 'no such folder' }] };
  for (const folder of readdirSync(dir).filter(visible).sort()) {
    const scopePath = join(dir, folder);
    if (!statSync(scopePath).isDirectory()) {
      problems.push({ path: folder, message: `unexpected file: put files in ${ORGANISATION_FOLDER}/nl/, ${ORGANISATION_FOLDER}/en/ or <location>/nl/ …` });
      continue;
    }
    scopes.push({ folder, drafts: readScopeFolder(scopePath, folder, problems) });
  }
  return { scopes, problems };
}

/** Reads one scope folder (its nl/ and en/ folders); `folder` names it in problems. */
export function readScopeFolder(scopePath: string, folder: string, problems: FaqProblem[]): FaqDraft[] {
  const drafts: FaqDraft[] = [];
  for (const lang of readdirSync(scopePath).filter(visible).sort()) {
    const langPath = join(scopePath, lang);
    if (!(FAQ_LANGUAGES as readonly string[]).includes(lang) || !statSync(langPath).isDirectory()) {
      problems.push({ path: `${folder}/${lang}`, message: `expected a language folder: ${FAQ_LANGUAGES.join(' or ')}` });
      continue;
    }
    const bySlug = new Map<string, string>();
    for (const name of readdirSync(langPath).filter(visible).sort()) {
      const file = `${folder}/${lang}/${name}`;
      const full = join(langPath, name);
      const stat = statSync(full);
      if (!stat.isFile()) {
        problems.push({ path: file, message: 'unexpected folder: Markdown files go directly in the language folder' });
        continue;
      }
      if (stat.size > LIMITS.fileBytes) {
        problems.push({ path: file, message: `file larger than ${LIMITS.fileBytes / 1024} KB` });
        continue;
      }
      const parsed = parseFaqFile(file, lang as FaqLanguage, readFileSync(full, 'utf8'));
      problems.push(...parsed.problems);
      if (!parsed.draft) continue;
      const other = bySlug.get(parsed.draft.slug);
      if (other) problems.push({ path: file, message: `same slug "${parsed.draft.slug}" as ${other}` });
      else bySlug.set(parsed.draft.slug, file);
      drafts.push(parsed.draft);
    }
  }
  return drafts;
}

const quoteIfNeeded = (v: string) => (/^["'\s]|\s$/.test(v) ? JSON.stringify(v) : v);

/** One file's text, exactly what parseFaqFile reads back. */
export function formatFaqFile(entry: Pick<FaqDraft, 'question' | 'category' | 'answer'>): string {
  return `---\nquestion: ${quoteIfNeeded(entry.question)}\ncategory: ${entry.category}\n---\n${entry.answer}\n`;
}

export const faqFileName = (entry: Pick<FaqDraft, 'position' | 'slug'>) => `${String(entry.position).padStart(2, '0')}-${entry.slug}.md`;

/** Writes scope folders under DIR (which must be empty or new: stale files would be imported back). */
export function writeFaqDir(dir: string, scopes: { folder: string; entries: Omit<FaqDraft, 'file'>[] }[]): number {
  let files = 0;
  for (const scope of scopes) {
    for (const e of scope.entries) {
      const langDir = join(dir, scope.folder, e.language);
      mkdirSync(langDir, { recursive: true });
      writeFileSync(join(langDir, faqFileName(e)), formatFaqFile(e), { flag: 'wx' });
      files++;
    }
  }
  return files;
}
