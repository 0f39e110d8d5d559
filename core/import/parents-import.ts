import { isStorableText, UNSTORABLE_TEXT } from '../validation.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { inTransaction } from '../db/errors.ts';
import { Organisation } from '../entities/organisation.ts';
import { conflict } from '../errors.ts';
import { type Cell, childNumberCell, emailCell, languageCell, optionalText, phoneCell, requiredText } from './cells.ts';
import { PARENT_COLUMNS, type ParentKey, resolveColumns } from './columns.ts';
import { type CsvRecord, type CsvSource, type Delimiter, readCsvBatches } from './csv.ts';
import { looksLikeFormula, REJECTED_PROBLEMS_HEADER, unneutraliseCell } from './csv-safe.ts';
import { type ParentOccurrence, ParentBook } from './parent-book.ts';
import { admitRecord, collectRejected, parseMapOption } from './planning-import.ts';
import { byLine, emptyReport, type ImportChange, type ImportOptions, type ImportReport, type RowProblem } from './report.ts';
import { sql } from '../db/sql.ts';
import { json, lockImports } from './sql.ts';
import { audit } from '../audit.ts';
import { type ParentState, upsertParents } from './upsert-parents.ts';
import { clockOf } from '../clock.ts';

/**
 * `portal parents import FILE`: a file of parents only (e-mail, names, phone, language, and
 * optionally the number of a child to link). The same checks and all-or-nothing rules as the
 * planning import. Such a file adds: it creates and updates parents and adds links, and never
 * removes a link (it does not claim to list all of a child's parents; the planning export does).
 * A parent with several children has one row per child.
 */

export interface ParentsImportInput {
  source: CsvSource;
  /** Column mapping, as `--map` values: "Mail=email". */
  map?: readonly string[];
  delimiter?: Delimiter;
}

interface Row {
  line: number;
  email: string;
  childNumber: string | null;
  cells: string[] | null;
  invalid: boolean;
}

export async function importParents(
  em: EntityManager,
  actor: Actor,
  input: ParentsImportInput,
  options: ImportOptions = {},
): Promise<ImportReport> {
  requireAdmin(actor, 'directory.manage');
  const started = performance.now();
  const map = parseMapOption(input.map, PARENT_COLUMNS);
  const report = emptyReport('parents', clockOf(em).today(), Boolean(options.dryRun));
  const book = new ParentBook();
  const rows: Row[] = [];
  const invalidCells = new Map<number, string[]>();
  let header: string[] | undefined;
  let index: Partial<Record<ParentKey, number>> = {};
  let columns: ParentOccurrence['columns'] | undefined;

  const onDelimiter = (d: Delimiter) => {
    report.delimiter = d;
  };
  const handle = (record: CsvRecord): boolean => {
    if (!header) {
      header = record.cells.map((h) => h.trim());
      const resolved = resolveColumns(header, PARENT_COLUMNS, map);
      report.columns = resolved.columns;
      report.rowErrors.push(...resolved.problems);
      for (const c of resolved.columns) {
        if (c.key === null && c.header !== '' && c.header !== REJECTED_PROBLEMS_HEADER) {
          report.warnings.push({ line: 1, column: c.header, message: 'is not a column the import knows; it is ignored' });
        }
      }
      if (report.rowErrors.length) return false;
      index = resolved.index;
      const h = (key: ParentKey) => header![index[key]!] ?? key;
      columns = { email: h('email'), firstName: h('firstName'), infix: h('infix'), lastName: h('lastName'), phone: h('phone'), language: h('language') };
      return true;
    }
    const { line } = record;
    const admitted = admitRecord(record, header, report, options);
    if (admitted.kind === 'blank') return true;
    if (admitted.kind === 'bad') {
      report.rowErrors.push(admitted.problem);
      invalidCells.set(line, record.cells);
      return true;
    }
    const cells = admitted.cells;

    const problems: RowProblem[] = [];
    const headerOf = (key: ParentKey) => header![index[key]!] ?? key;
    const cell = (key: ParentKey): string => {
      const i = index[key];
      if (i === undefined) return '';
      const value = unneutraliseCell((cells[i] ?? '').trim());
      if (value.includes('\uFFFD')) problems.push({ line, column: headerOf(key), message: 'has characters that are not UTF-8: save the file as "CSV UTF-8"' });
      // A NUL byte (PostgreSQL refuses it in text): the row is refused here, not by the INSERT.
      else if (!isStorableText(value)) problems.push({ line, column: headerOf(key), message: UNSTORABLE_TEXT });
      if (looksLikeFormula(value) && !(key === 'phone' && /^\+\d/.test(value))) {
        report.warnings.push({ line, column: headerOf(key), message: 'looks like a spreadsheet formula; it is stored as plain text' });
      }
      return value;
    };
    const take = <T>(key: ParentKey, result: Cell<T>): T | undefined => {
      if (result.ok) return result.value;
      problems.push({ line, column: headerOf(key), message: result.message });
      return undefined;
    };
    const email = take('email', emailCell(cell('email')));
    const firstName = take('firstName', requiredText(cell('firstName'), 100));
    const infix = take('infix', optionalText(cell('infix'), 50));
    const lastName = take('lastName', requiredText(cell('lastName'), 100));
    const phone = take('phone', phoneCell(cell('phone')));
    const language = take('language', languageCell(cell('language')));
    const rawChild = cell('childNumber');
    const childNumber = rawChild === '' ? null : take('childNumber', childNumberCell(rawChild));
    if (problems.length) {
      report.rowErrors.push(...problems);
      invalidCells.set(line, cells);
      return true;
    }
    const kept = book.add({
      line,
      email: email!,
      firstName: firstName!,
      infix: infix ?? null,
      lastName: lastName!,
      phone: phone ?? null,
      language: language ?? null,
      columns: columns!,
    });
    rows.push({ line, email: kept, childNumber: childNumber ?? null, cells: options.skipInvalid ? cells : null, invalid: false });
    return true;
  };
  reading: for await (const records of readCsvBatches(input.source, { delimiter: input.delimiter, onDelimiter })) {
    for (const record of records) if (!handle(record)) break reading;
  }
  if (!header) report.rowErrors.push({ line: 1, column: '(header)', message: 'the file is empty' });
  const headerBroken = report.rowErrors.some((p) => p.line === 1);

  if (!headerBroken) {
    const conflicts = book.conflicts();
    report.rowErrors.push(...conflicts.problems);
    for (const r of rows) if (conflicts.lines.has(r.line)) r.invalid = true;
    // The children to link must exist: one query for all of them.
    const numbers = [...new Set(rows.flatMap((r) => (r.childNumber && !r.invalid ? [r.childNumber] : [])))];
    if (numbers.length) {
      const found = new Set(
        (
          await sql<{ child_number: string }>(
            em,
            'select child_number from child where child_number in (select json_array_elements_text(?::json))',
            [json(numbers)],
          )
        ).map((c) => c.child_number),
      );
      const column = header![index.childNumber!]!;
      for (const r of rows) {
        if (r.childNumber && !r.invalid && !found.has(r.childNumber)) {
          report.rowErrors.push({ line: r.line, column, message: `child ${r.childNumber} does not exist; import the children first` });
          r.invalid = true;
        }
      }
    }
  }
  report.rowErrors.sort(byLine);
  const rejectedLines = new Set(report.rowErrors.filter((p) => p.line > 1).map((p) => p.line));
  report.rows.rejected = rejectedLines.size;
  if (headerBroken || (report.rowErrors.length > 0 && !options.skipInvalid)) {
    report.warnings.sort(byLine);
    report.elapsedMs = Math.round(performance.now() - started);
    return report;
  }
  if (options.skipInvalid && rejectedLines.size > 0) {
    const cellsByLine = new Map(invalidCells);
    for (const r of rows) if (r.invalid && r.cells) cellsByLine.set(r.line, r.cells);
    report.rejectedRows = collectRejected(report.rowErrors, (line) => cellsByLine.get(line));
  }
  const invalidLines = new Set(rows.filter((r) => r.invalid).map((r) => r.line));
  const { parents, warnings } = book.merge((line) => !invalidLines.has(line));
  report.warnings.push(...warnings);
  report.warnings.sort(byLine);
  const valid = rows.filter((r) => !r.invalid);
  report.rows.imported = valid.length;

  const org = await em.findOne(Organisation, { id: 1 });
  const changes: ImportChange[] | undefined = options.listChanges ? [] : undefined;
  const batchSize = options.batchSize ?? 2000;
  await inTransaction(em, async (tx) => {
    if (!report.dryRun) await lockImports(tx);
    const st: ParentState = {
      parents,
      defaultLanguage: org?.defaultLanguage ?? 'nl',
      dryRun: report.dryRun,
      report,
      changes,
    };
    const linked = new Set<string>();
    options.onProgress?.({ phase: 'write', done: 0, total: valid.length });
    for (let from = 0; from < valid.length; from += batchSize) {
      const batch = valid.slice(from, from + batchSize);
      await upsertParents(
        tx,
        batch.map((r) => r.email),
        st,
      );
      const pairs = batch.filter((r) => {
        if (!r.childNumber) return false;
        const key = `${r.email}\u0000${r.childNumber}`;
        if (linked.has(key)) return false;
        linked.add(key);
        return true;
      });
      if (pairs.length) await addLinks(tx, pairs, st);
      options.onProgress?.({ phase: 'write', done: Math.min(from + batchSize, valid.length), total: valid.length });
    }
    if (!report.dryRun) {
      audit(tx, { type: 'import.parents', actor, details: { rows: report.rows, created: report.created, updated: report.updated } });
    }
  });
  if (changes) report.changes = changes.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  report.applied = !report.dryRun;
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

async function addLinks(tx: EntityManager, pairs: Row[], st: ParentState): Promise<void> {
  const children = await sql<{ id: number; child_number: string }>(
    tx,
    'select id, child_number from child where child_number in (select json_array_elements_text(?::json))',
    [json([...new Set(pairs.map((p) => p.childNumber!))])],
  );
  const childId = new Map(children.map((c) => [c.child_number, c.id]));
  const existing = await sql<{ email: string; child_id: number }>(
    tx,
    `select p.email, g.child_id from guardianship g join parent p on p.id = g.parent_id
     where g.child_id in (select json_array_elements_text(?::json)::int)`,
    [json(children.map((c) => c.id))],
  );
  const has = new Set(existing.map((l) => `${l.email}\u0000${l.child_id}`));
  const inserts: { parent_id: number; child_id: number }[] = [];
  for (const p of pairs) {
    const child = childId.get(p.childNumber!);
    if (child === undefined) throw conflict(`child ${p.childNumber} was removed while the file was being imported; import again`);
    if (has.has(`${p.email}\u0000${child}`)) {
      st.report.unchanged.links++;
      continue;
    }
    st.report.created.links++;
    st.changes?.push({ line: p.line, kind: 'link', action: 'create', subject: `${p.email} → ${p.childNumber}`, detail: 'parent of the child' });
    const parent = st.parents.get(p.email)?.id;
    if (parent) inserts.push({ parent_id: parent, child_id: child });
  }
  if (!st.dryRun && inserts.length) {
    await sql(
      tx,
      `insert into guardianship (parent_id, child_id, created_at)
       select v.parent_id, v.child_id, ?::timestamptz from json_to_recordset(?::json) as v(parent_id int, child_id int)`,
      [clockOf(tx).now(), json(inserts)],
    );
  }
}
