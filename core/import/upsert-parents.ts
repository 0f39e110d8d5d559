import type { EntityManager } from '@mikro-orm/postgresql';
import type { Language } from '../entities/organisation.ts';
import type { MergedParent } from './parent-book.ts';
import type { ImportChange, ImportReport } from './report.ts';
import { sql } from '../db/sql.ts';
import { json } from './sql.ts';
import { clockOf } from '../clock.ts';

interface ParentRow {
  id: number;
  email: string;
  first_name: string;
  infix: string | null;
  last_name: string;
  phone: string | null;
  language: Language;
}

export interface ParentState {
  /** The file's parents, one per e-mail; `id` is set once a batch has handled the parent. */
  parents: Map<string, MergedParent>;
  /** New parents get this language unless the file gives one (the organisation default). */
  defaultLanguage: Language;
  dryRun: boolean;
  report: ImportReport;
  changes?: ImportChange[];
}

const show = (v: string | null) => (v === null || v === '' ? '(empty)' : `"${v}"`);

/**
 * Creates or updates the parents with these e-mails that earlier batches did not handle yet.
 * A file's name wins over the database's (the planning system is the source); an empty phone or
 * language in the file leaves the one in the database alone (parents keep what they set
 * themselves under "mijn gegevens"). New parents are only created: nothing is sent.
 */
export async function upsertParents(tx: EntityManager, emails: Iterable<string>, st: ParentState): Promise<void> {
  const todo = [...new Set(emails)].filter((e) => st.parents.get(e)!.id === undefined);
  if (todo.length === 0) return;
  const existing = await sql<ParentRow>(
    tx,
    'select id, email, first_name, infix, last_name, phone, language from parent where email in (select json_array_elements_text(?::json))',
    [json(todo)],
  );
  const byEmail = new Map(existing.map((p) => [p.email, p]));
  const creates: MergedParent[] = [];
  const updates: ParentRow[] = [];
  for (const email of todo) {
    const want = st.parents.get(email)!;
    const have = byEmail.get(email);
    if (!have) {
      creates.push(want);
      st.report.created.parents++;
      st.changes?.push({
        line: want.line,
        kind: 'parent',
        action: 'create',
        subject: email,
        detail: [want.firstName, want.infix, want.lastName].filter(Boolean).join(' ') + (want.phone ? `, ${want.phone}` : ''),
      });
      continue;
    }
    want.id = have.id;
    const next: ParentRow = {
      ...have,
      first_name: want.firstName,
      infix: want.infix,
      last_name: want.lastName,
      phone: want.phone ?? have.phone,
      language: want.language ?? have.language,
    };
    const diffs: string[] = [];
    if (next.first_name !== have.first_name) diffs.push(`first name ${show(have.first_name)} → ${show(next.first_name)}`);
    if ((next.infix ?? null) !== (have.infix ?? null)) diffs.push(`infix ${show(have.infix)} → ${show(next.infix)}`);
    if (next.last_name !== have.last_name) diffs.push(`last name ${show(have.last_name)} → ${show(next.last_name)}`);
    if (next.phone !== have.phone) diffs.push(`phone ${show(have.phone)} → ${show(next.phone)}`);
    if (next.language !== have.language) diffs.push(`language ${have.language} → ${next.language}`);
    if (diffs.length === 0) {
      st.report.unchanged.parents++;
      continue;
    }
    updates.push(next);
    st.report.updated.parents++;
    st.changes?.push({ line: want.line, kind: 'parent', action: 'update', subject: email, detail: diffs.join(', ') });
  }

  if (st.dryRun) {
    for (const p of creates) p.id = null;
    return;
  }
  if (creates.length) {
    const inserted = await sql<{ id: number; email: string }>(
      tx,
      `insert into parent (email, first_name, infix, last_name, phone, language, created_at, updated_at)
       select v.email, v.first_name, v.infix, v.last_name, v.phone, v.language, ?::timestamptz, ?::timestamptz
       from json_to_recordset(?::json) as v(email text, first_name text, infix text, last_name text, phone text, language text)
       returning id, email`,
      [
        clockOf(tx).now(),
        clockOf(tx).now(),
        json(
          creates.map((p) => ({
            email: p.email,
            first_name: p.firstName,
            infix: p.infix,
            last_name: p.lastName,
            phone: p.phone,
            language: p.language ?? st.defaultLanguage,
          })),
        ),
      ],
    );
    for (const p of inserted) st.parents.get(p.email)!.id = p.id;
  }
  if (updates.length) {
    await sql(
      tx,
      `update parent as p set first_name = v.first_name, infix = v.infix, last_name = v.last_name, phone = v.phone,
         language = v.language, updated_at = ?::timestamptz
       from json_to_recordset(?::json) as v(id int, first_name text, infix text, last_name text, phone text, language text)
       where p.id = v.id`,
      [clockOf(tx).now(), json(updates)],
    );
  }
}
