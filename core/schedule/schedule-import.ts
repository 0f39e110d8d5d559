import { isStorableText, UNSTORABLE_TEXT } from '../validation.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { parseDate } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import type { DayPart } from '../entities/schedule.ts';
import { childNumberCell } from '../import/cells.ts';
import { type ColumnSpec, normaliseHeader, resolveColumns } from '../import/columns.ts';
import { type CsvRecord, type CsvSource, type Delimiter, readCsvBatches } from '../import/csv.ts';
import { looksLikeFormula, REJECTED_PROBLEMS_HEADER, unneutraliseCell } from '../import/csv-safe.ts';
import { parseMapOption, shapeProblem } from '../import/planning-import.ts';
import { byLine, type RowProblem } from '../import/report.ts';
import { sql } from '../db/sql.ts';
import { json, lockImports } from '../import/sql.ts';
import { clockOf } from '../clock.ts';

/**
 * `portal schedule import FILE`: the contracted days of children from the planning system, one
 * row per child, weekday and day part. The rules of the other imports: the whole file is
 * checked first and every problem reported with its spreadsheet line and column; a file with
 * problems imports nothing; importing the same file again changes nothing; `dryRun` reports
 * what would change. For each child in the file its contracted days are replaced by the file's
 * rows; children not in the file keep theirs.
 */

export const SCHEDULE_COLUMNS = [
  { key: 'childNumber', nl: 'Kindnummer', en: 'Child number', aliases: ['Kind nummer', 'Nummer kind', 'Child id'], required: true },
  { key: 'location', nl: 'Locatie', en: 'Location', aliases: ['Vestiging'] },
  { key: 'group', nl: 'Groep', en: 'Group', aliases: ['Groepsnaam', 'Group name'], required: true },
  { key: 'weekday', nl: 'Dag', en: 'Day', aliases: ['Weekdag', 'Weekday', 'Contractdag'], required: true },
  { key: 'part', nl: 'Dagdeel', en: 'Part', aliases: ['Day part', 'Dagdelen'] },
  { key: 'from', nl: 'Vanaf', en: 'From', aliases: ['Ingangsdatum', 'Startdatum', 'Valid from', 'Start date'] },
  { key: 'until', nl: 'Tot', en: 'Until', aliases: ['Tot en met', 'Einddatum', 'Valid until', 'End date'] },
] as const satisfies readonly ColumnSpec[];
type Key = (typeof SCHEDULE_COLUMNS)[number]['key'];

const WEEKDAYS: Record<string, number> = {};
for (const [n, names] of [
  [1, ['ma', 'maandag', 'mo', 'mon', 'monday', '1']],
  [2, ['di', 'dinsdag', 'tu', 'tue', 'tuesday', '2']],
  [3, ['wo', 'woensdag', 'we', 'wed', 'wednesday', '3']],
  [4, ['do', 'donderdag', 'th', 'thu', 'thursday', '4']],
  [5, ['vr', 'vrijdag', 'fr', 'fri', 'friday', '5']],
] as const) {
  for (const name of names) WEEKDAYS[name] = n;
}
const PARTS: Record<string, DayPart> = {
  '': 'day',
  heledag: 'day',
  dag: 'day',
  day: 'day',
  wholeday: 'day',
  fullday: 'day',
  ochtend: 'morning',
  morgen: 'morning',
  morning: 'morning',
  am: 'morning',
  middag: 'afternoon',
  afternoon: 'afternoon',
  pm: 'afternoon',
};

export interface ScheduleImportInput {
  source: CsvSource;
  map?: readonly string[];
  delimiter?: Delimiter;
}

export interface ScheduleImportReport {
  dryRun: boolean;
  applied: boolean;
  rows: { read: number; blank: number };
  /** Children whose contracted days were set for the first time, changed, or already as in the file. */
  children: { created: number; updated: number; unchanged: number };
  /** Contracted-day rows written (created + updated children). */
  days: number;
  rowErrors: RowProblem[];
  warnings: RowProblem[];
}

interface Row {
  line: number;
  childNumber: string;
  location: string;
  group: string;
  weekday: number;
  part: DayPart;
  from: string | null;
  until: string | null;
}

interface Resolved extends Row {
  childId: number;
  groupId: number;
}

export async function importSchedule(
  em: EntityManager,
  actor: Actor,
  input: ScheduleImportInput,
  options: { dryRun?: boolean } = {},
): Promise<ScheduleImportReport> {
  requireAdmin(actor, 'schedule.manage');
  const map = parseMapOption<Key>(input.map, SCHEDULE_COLUMNS);
  const report: ScheduleImportReport = {
    dryRun: Boolean(options.dryRun),
    applied: false,
    rows: { read: 0, blank: 0 },
    children: { created: 0, updated: 0, unchanged: 0 },
    days: 0,
    rowErrors: [],
    warnings: [],
  };
  const t = clockOf(em).today();
  let header: string[] | undefined;
  let index: Partial<Record<Key, number>> = {};
  const rows: Row[] = [];

  const handle = (record: CsvRecord): boolean => {
    if (!header) {
      header = record.cells.map((h) => h.trim());
      const resolved = resolveColumns(header, SCHEDULE_COLUMNS, map);
      report.rowErrors.push(...resolved.problems);
      for (const c of resolved.columns) {
        if (c.key === null && c.header !== '' && c.header !== REJECTED_PROBLEMS_HEADER) {
          report.warnings.push({ line: 1, column: c.header, message: 'is not a column the import knows; it is ignored' });
        }
      }
      index = resolved.index;
      return report.rowErrors.length === 0;
    }
    const { line } = record;
    if (!record.error && record.cells.every((c) => c.trim() === '')) {
      report.rows.blank++;
      return true;
    }
    report.rows.read++;
    const shape = shapeProblem(record, header);
    if (shape) {
      report.rowErrors.push(shape);
      return true;
    }
    const problems: RowProblem[] = [];
    const headerOf = (key: Key) => header![index[key]!] ?? key;
    const problem = (key: Key, message: string) => problems.push({ line, column: headerOf(key), message });
    const cell = (key: Key): string => {
      const i = index[key];
      if (i === undefined) return '';
      const value = unneutraliseCell((record.cells[i] ?? '').trim());
      if (value.includes('\uFFFD')) problem(key, 'has characters that are not UTF-8: save the file as "CSV UTF-8"');
      // A NUL byte (PostgreSQL refuses it in text): the row is refused here, not by the INSERT.
      else if (!isStorableText(value)) problem(key, UNSTORABLE_TEXT);
      if (looksLikeFormula(value)) report.warnings.push({ line, column: headerOf(key), message: 'looks like a spreadsheet formula; it is read as plain text' });
      return value;
    };
    const number = childNumberCell(cell('childNumber'));
    if (!number.ok) problem('childNumber', number.message);
    const group = cell('group');
    if (group === '') problem('group', 'is empty');
    const rawDay = cell('weekday');
    const weekday = WEEKDAYS[normaliseHeader(rawDay)];
    if (weekday === undefined) problem('weekday', `"${rawDay}" is not a weekday (ma, di, wo, do, vr or the full name, Dutch or English)`);
    const rawPart = cell('part');
    const part = PARTS[normaliseHeader(rawPart)];
    if (part === undefined) problem('part', `"${rawPart}" is not a day part (hele dag, ochtend or middag)`);
    const date = (key: 'from' | 'until'): string | null => {
      const raw = cell(key);
      if (raw === '') return null;
      const parsed = parseDate(raw);
      if (!parsed) problem(key, `"${raw}" is not a date (use DD-MM-YYYY or YYYY-MM-DD)`);
      return parsed ?? null;
    };
    const from = date('from');
    const until = date('until');
    if (from && until && until < from) problem('until', `lies before "${headerOf('from')}"`);
    if (until && until < t && !from) problem('until', 'lies in the past: leave such rows out of the file');
    if (problems.length) {
      report.rowErrors.push(...problems);
      return true;
    }
    rows.push({ line, childNumber: number.ok ? number.value : '', location: cell('location'), group, weekday: weekday!, part: part!, from, until });
    return true;
  };
  reading: for await (const records of readCsvBatches(input.source, { delimiter: input.delimiter })) {
    for (const record of records) if (!handle(record)) break reading;
  }
  if (!header) report.rowErrors.push({ line: 1, column: '(header)', message: 'the file is empty' });
  if (report.rowErrors.some((p) => p.line === 1)) return finish(report);

  // Children, groups and placements: one query each, for the whole file.
  const children = await sql<{ id: number; child_number: string }>(
    em,
    'select id, child_number from child where child_number in (select json_array_elements_text(?::json))',
    [json([...new Set(rows.map((r) => r.childNumber))])],
  );
  const childId = new Map(children.map((c) => [c.child_number, c.id]));
  const groups = await sql<{ id: number; name: string; location: string }>(
    em,
    'select g.id, g.name, l.name as location from care_group g join location l on l.id = g.location_id where g.archived_at is null',
  );
  const placements = await sql<{ child_id: number; group_id: number; start_date: string; end_date: string | null }>(
    em,
    `select child_id, group_id, to_char(start_date, 'YYYY-MM-DD') as start_date, to_char(end_date, 'YYYY-MM-DD') as end_date
       from placement where child_id in (select json_array_elements_text(?::json)::int)`,
    [json(children.map((c) => c.id))],
  );
  const col = (key: Key) => header![index[key]!] ?? key;
  const resolved: Resolved[] = [];
  const seen = new Map<string, Resolved[]>();
  for (const r of rows) {
    const problems: RowProblem[] = [];
    const id = childId.get(r.childNumber);
    if (id === undefined) problems.push({ line: r.line, column: col('childNumber'), message: `child ${r.childNumber} does not exist; import the children first` });
    const candidates = groups.filter(
      (g) => g.name.trim().toLowerCase() === r.group.toLowerCase() && (r.location === '' || g.location.trim().toLowerCase() === r.location.toLowerCase()),
    );
    if (candidates.length === 0) {
      problems.push({ line: r.line, column: col('group'), message: `group "${r.group}"${r.location ? ` at "${r.location}"` : ''} does not exist` });
    } else if (candidates.length > 1) {
      problems.push({ line: r.line, column: col('group'), message: `more than one location has a group "${r.group}": add a "Locatie" column` });
    }
    const groupId = candidates.length === 1 ? candidates[0]!.id : undefined;
    if (id !== undefined && groupId !== undefined) {
      const start = r.from ?? t;
      const placed = placements.some(
        (p) => p.child_id === id && p.group_id === groupId && (r.until === null || p.start_date <= r.until) && (p.end_date === null || p.end_date >= start),
      );
      if (!placed) problems.push({ line: r.line, column: col('group'), message: `child ${r.childNumber} is not placed in group "${r.group}" in that period` });
    }
    if (problems.length) {
      report.rowErrors.push(...problems);
      continue;
    }
    const row = { ...r, childId: id!, groupId: groupId! };
    const key = `${row.childId}/${row.weekday}`;
    const clash = (seen.get(key) ?? []).find(
      (o) => (o.part === 'day' || row.part === 'day' || o.part === row.part) && (o.until ?? '9999') >= (row.from ?? t) && (row.until ?? '9999') >= (o.from ?? t),
    );
    if (clash) {
      report.rowErrors.push({ line: r.line, column: col('weekday'), message: `the same day part as line ${clash.line}, in the same period` });
      continue;
    }
    seen.set(key, [...(seen.get(key) ?? []), row]);
    resolved.push(row);
  }
  if (report.rowErrors.length) return finish(report);

  const byChild = new Map<number, Resolved[]>();
  for (const r of resolved) byChild.set(r.childId, [...(byChild.get(r.childId) ?? []), r]);
  await inTransaction(em, async (tx) => {
    if (!report.dryRun) await lockImports(tx);
    const existing = await sql<{ child_id: number; group_id: number; weekday: number; part: DayPart; valid_from: string; valid_until: string | null }>(
      tx,
      `select child_id, group_id, weekday, part, to_char(valid_from, 'YYYY-MM-DD') as valid_from, to_char(valid_until, 'YYYY-MM-DD') as valid_until
         from contract_day where child_id in (select json_array_elements_text(?::json)::int)`,
      [json([...byChild.keys()])],
    );
    const inserts: { child_id: number; group_id: number; weekday: number; part: DayPart; valid_from: string; valid_until: string | null }[] = [];
    const replaced: number[] = [];
    for (const [child, wanted] of byChild) {
      const have = existing.filter((e) => e.child_id === child);
      // A row without "Vanaf" matches an existing row from any date: its start stays as it was.
      const left = [...have];
      const same =
        have.length === wanted.length &&
        wanted.every((w) => {
          const i = left.findIndex(
            (e) => e.group_id === w.groupId && e.weekday === w.weekday && e.part === w.part && e.valid_until === w.until && (w.from === null || e.valid_from === w.from),
          );
          if (i < 0) return false;
          left.splice(i, 1);
          return true;
        });
      if (same) {
        report.children.unchanged++;
        continue;
      }
      if (have.length) report.children.updated++;
      else report.children.created++;
      replaced.push(child);
      for (const w of wanted) {
        inserts.push({ child_id: child, group_id: w.groupId, weekday: w.weekday, part: w.part, valid_from: w.from ?? t, valid_until: w.until });
      }
    }
    report.days = inserts.length;
    if (report.dryRun || replaced.length === 0) return;
    await sql(tx, 'delete from contract_day where child_id in (select json_array_elements_text(?::json)::int)', [json(replaced)]);
    await sql(
      tx,
      `insert into contract_day (child_id, group_id, weekday, part, valid_from, valid_until, created_at)
       select v.child_id, v.group_id, v.weekday, v.part, v.valid_from, v.valid_until, ?::timestamptz
         from json_to_recordset(?::json) as v(child_id int, group_id int, weekday int, part text, valid_from date, valid_until date)`,
      [clockOf(tx).now(), json(inserts)],
    );
    audit(tx, { type: 'schedule.imported', actor, details: { rows: report.rows.read, children: report.children, days: report.days } });
    await tx.flush();
    report.applied = true;
  });
  return finish(report);
}

function finish(report: ScheduleImportReport): ScheduleImportReport {
  report.rowErrors.sort(byLine);
  report.warnings.sort(byLine);
  return report;
}
