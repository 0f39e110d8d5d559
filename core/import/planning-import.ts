import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { addDays, parseDate } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { correctedChildNumbers } from '../directory/children.ts';
import { invalid } from '../errors.ts';
import {
  birthDateCell,
  type Cell,
  childNumberCell,
  emailCell,
  optionalText,
  phoneCell,
  requiredText,
  yesNoCell,
} from './cells.ts';
import { PLANNING_COLUMNS, type PlanningKey, parseColumnMap, resolveColumns } from './columns.ts';
import { type CsvRecord, type CsvSource, type Delimiter, readCsvBatches } from './csv.ts';
import { looksLikeFormula, REJECTED_PROBLEMS_HEADER, type RejectedRow, unneutraliseCell } from './csv-safe.ts';
import { type MergedParent, type ParentOccurrence, ParentBook } from './parent-book.ts';
import {
  byLine,
  emptyReport,
  type ImportChange,
  type ImportOptions,
  type ImportReport,
  type RowProblem,
} from './report.ts';
import { sql } from '../db/sql.ts';
import { json, lockImports } from './sql.ts';
import { audit } from '../audit.ts';
import { type ParentState, upsertParents } from './upsert-parents.ts';
import { clockOf } from '../clock.ts';
import { createStructure, type Directory, type GroupRef, loadDirectory, type PlannedGroup } from './structure.ts';
import { loadMentorCandidates, type MentorCandidates, mentorCell } from '../directory/mentor.ts';

/**
 * `portal import FILE`: the planning system's export (one row per child: location, group, child,
 * photo consent, up to two parents) brought into the directory.
 *
 * 1. The whole file is read and checked before anything is written: every problem is reported
 *    with its spreadsheet line and column. A file with problems imports nothing, unless
 *    `skipInvalid` is asked for: then the valid rows are imported and the invalid ones returned
 *    for correction.
 * 2. The valid rows are applied in one transaction, in batches of set-based SQL; a failure, or the
 *    process being killed, leaves the database as it was.
 *
 * Keys: a child by its child number, a parent by the normalised e-mail. Importing the same file
 * twice changes nothing. What the file says about a child in it wins: names, birth date, the
 * group it is in from `date` (default today; a move ends the old placement the day before), its
 * parents (links that the file does not list are removed) and its consent (a new statement,
 * source "import", only when the answer differs). Children absent from the file are left alone
 * and listed in `notInFile`. Locations and groups the file names that do not exist are created
 * (structure.ts), so the first import fills an empty portal; with `existingOnly` they are
 * problems instead, one per name with every line that names it.
 */

export interface PlanningImportInput {
  /** The file's text, or its chunks (a stream opened with encoding utf8). */
  source: CsvSource;
  /** Column mapping, as `--map` values: "E-mail ouder 1=parent1.email". */
  map?: readonly string[];
  /** The day the file's groups apply from (default today): dd-mm-jjjj or YYYY-MM-DD. */
  date?: string;
  /** Force the separator instead of detecting it. */
  delimiter?: Delimiter;
  /** Refuse locations and groups that do not exist instead of creating them. */
  existingOnly?: boolean;
}

interface PlanningRow {
  line: number;
  childNumber: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  birthDate: string;
  groupId: number;
  consent: { internal: boolean; external: boolean } | null;
  /** The parents' e-mails; null when the file has no parent columns (links are then left alone). */
  parents: string[] | null;
  /** The mentor's staff id; null when the file has no Mentor column or the cell is empty (left alone). */
  mentorId: number | null;
}

/*
 * A checked row is kept as one string until it is written: 100,000 rows as objects with their
 * own strings took 1.5 KB each (and kept the file's text alive); packed they take about 150
 * bytes. Cells with control characters are refused, so the separators cannot occur in values.
 */
const FIELD = '\u0001';
const ITEM = '\u0002';
const NO_PARENT_COLUMNS = '\u0003';

function pack(r: PlanningRow): string {
  return [
    r.line,
    r.groupId,
    r.consent ? `${Number(r.consent.internal)}${Number(r.consent.external)}` : '',
    r.childNumber,
    r.firstName,
    r.infix ?? '',
    r.lastName,
    r.birthDate,
    r.parents === null ? NO_PARENT_COLUMNS : r.parents.join(ITEM),
    r.mentorId ?? '',
  ].join(FIELD);
}

function unpack(packed: string): PlanningRow {
  const [line, groupId, consent, childNumber, firstName, infix, lastName, birthDate, parents, mentor] = packed.split(FIELD) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    line: Number(line),
    groupId: Number(groupId),
    consent: consent ? { internal: consent[0] === '1', external: consent[1] === '1' } : null,
    childNumber,
    firstName,
    infix: infix || null,
    lastName,
    birthDate,
    parents: parents === NO_PARENT_COLUMNS ? null : parents ? parents.split(ITEM) : [],
    mentorId: mentor ? Number(mentor) : null,
  };
}

type Columns = Partial<Record<PlanningKey, number>>;

/** Column checks beyond "is it there": columns that only make sense together. */
function headerProblems(index: Columns): RowProblem[] {
  const problems: RowProblem[] = [];
  const spec = (key: PlanningKey) => PLANNING_COLUMNS.find((c) => c.key === key)!;
  const missing = (key: PlanningKey, why: string) =>
    problems.push({ line: 1, column: spec(key).nl, message: `is missing: ${why} (or name it with --map "Header=${key}")` });
  const has = (key: PlanningKey) => index[key] !== undefined;
  if (has('consent.internal') !== has('consent.external')) {
    missing(has('consent.internal') ? 'consent.external' : 'consent.internal', 'a consent statement needs both answers');
  }
  for (const n of [1, 2] as const) {
    const keys = ['email', 'firstName', 'infix', 'lastName', 'phone'].map((k) => `parent${n}.${k}` as PlanningKey);
    if (!keys.some(has)) continue;
    for (const k of ['email', 'firstName', 'lastName'] as const) {
      if (!has(`parent${n}.${k}`)) missing(`parent${n}.${k}`, `the file has other columns of parent ${n}`);
    }
  }
  if (!has('parent1.email') && has('parent2.email')) missing('parent1.email', 'the file has parent 2');
  return problems;
}

type GroupCell = Cell<GroupRef> & { column: 'location' | 'group' };

/** The longest name of a location or group (the directory's limit). */
const MAX_NAME = 200;

/** Checks one data row; collects every problem of the row, not just the first. */
class RowReader {
  private readonly groupCache = new Map<string, GroupCell>();
  /**
   * Problems with a location or group name (one that does not exist, one that is empty): the
   * same for every row that names it, so reported once with all its lines. Key: column + message
   * in lower case.
   */
  readonly nameProblems = new Map<string, RowProblem & { lines: number[] }>();
  private readonly headerOf: (key: PlanningKey) => string;
  /** One columns object per parent slot, shared by every occurrence (memory). */
  private readonly parentColumns: ParentOccurrence['columns'][];
  constructor(
    header: string[],
    private readonly index: Columns,
    private readonly dir: Directory,
    /** The clock's date, once per import: birth dates may not lie after it. */
    private readonly today: string,
    private readonly existingOnly: boolean,
    /** Staff who may be named in the Mentor column (loaded once per import). */
    private readonly mentors: MentorCandidates = new Map(),
  ) {
    this.headerOf = (key) => header[index[key]!] ?? key;
    this.parentColumns = [1, 2].map((n) => ({
      email: this.headerOf(`parent${n}.email` as PlanningKey),
      firstName: this.headerOf(`parent${n}.firstName` as PlanningKey),
      infix: this.headerOf(`parent${n}.infix` as PlanningKey),
      lastName: this.headerOf(`parent${n}.lastName` as PlanningKey),
      phone: this.headerOf(`parent${n}.phone` as PlanningKey),
    }));
  }

  private has(key: PlanningKey): boolean {
    return this.index[key] !== undefined;
  }

  read(record: CsvRecord): { row?: PlanningRow; occurrences: ParentOccurrence[]; problems: RowProblem[]; warnings: RowProblem[] } {
    const problems: RowProblem[] = [];
    const warnings: RowProblem[] = [];
    const { line, cells } = record;
    const problem = (key: PlanningKey, message: string) => problems.push({ line, column: this.headerOf(key), message });
    const cell = (key: PlanningKey): string => {
      const i = this.index[key];
      if (i === undefined) return '';
      const raw = (cells[i] ?? '').trim();
      if (raw.includes('\uFFFD')) problem(key, 'has characters that are not UTF-8: save the file as "CSV UTF-8"');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) problem(key, 'contains a control character (a tab or a line break?)');
      const value = unneutraliseCell(raw);
      if (looksLikeFormula(value) && !(key.endsWith('.phone') && /^\+\d/.test(value))) {
        warnings.push({ line, column: this.headerOf(key), message: 'looks like a spreadsheet formula; it is stored as plain text' });
      }
      return value;
    };
    const take = <T>(key: PlanningKey, result: Cell<T>): T | undefined => {
      if (result.ok) return result.value;
      problem(key, result.message);
      return undefined;
    };

    const childNumber = take('child.number', childNumberCell(cell('child.number')));
    const firstName = take('child.firstName', requiredText(cell('child.firstName'), 100));
    const infix = take('child.infix', optionalText(cell('child.infix'), 50));
    const lastName = take('child.lastName', requiredText(cell('child.lastName'), 100));
    const birthDate = take('child.birthDate', birthDateCell(cell('child.birthDate'), this.today));
    const group = this.group(cell('location'), cell('group'));
    if (!group.ok) this.nameProblem(line, group);

    let consent: PlanningRow['consent'] = null;
    if (this.has('consent.internal')) {
      const internal = take('consent.internal', yesNoCell(cell('consent.internal')));
      const external = take('consent.external', yesNoCell(cell('consent.external')));
      if (internal !== undefined && external !== undefined) consent = { internal, external };
    }

    let parents: string[] | null = null;
    const occurrences: ParentOccurrence[] = [];
    if (this.has('parent1.email')) {
      parents = [];
      let named = false;
      for (const n of [1, 2] as const) {
        const key = (k: string) => `parent${n}.${k}` as PlanningKey;
        const raw = {
          email: cell(key('email')),
          firstName: cell(key('firstName')),
          infix: cell(key('infix')),
          lastName: cell(key('lastName')),
          phone: cell(key('phone')),
        };
        named ||= raw.email !== '';
        if (raw.email === '') {
          if (raw.firstName || raw.infix || raw.lastName || raw.phone) {
            problem(key('email'), `is empty, but the row has other details of parent ${n}`);
          }
          continue;
        }
        const email = take(key('email'), emailCell(raw.email));
        const first = take(key('firstName'), requiredText(raw.firstName, 100));
        const inf = take(key('infix'), optionalText(raw.infix, 50));
        const last = take(key('lastName'), requiredText(raw.lastName, 100));
        const phone = take(key('phone'), phoneCell(raw.phone));
        if (email === undefined || first === undefined || inf === undefined || last === undefined || phone === undefined) continue;
        const occurrence: ParentOccurrence = {
          line,
          email,
          firstName: first,
          infix: inf,
          lastName: last,
          phone,
          columns: this.parentColumns[n - 1]!,
        };
        const other = occurrences.find((o) => o.email === email);
        if (!other) {
          occurrences.push(occurrence);
          parents.push(email);
        } else if (other.firstName.toLowerCase() !== first.toLowerCase()) {
          problem(
            key('firstName'),
            `parent 2 has the same e-mail as parent 1 (${email}) but another first name ("${first}", parent 1: ` +
              `"${other.firstName}"): one e-mail address is one parent account`,
          );
        } else {
          const differs = [
            other.lastName !== last || other.infix !== inf ? `name "${[first, inf, last].filter(Boolean).join(' ')}"` : '',
            phone && phone !== other.phone ? `phone ${phone}` : '',
          ].filter(Boolean);
          warnings.push({
            line,
            column: this.headerOf(key('email')),
            message:
              `the same e-mail as parent 1 (${email}): one parent, with the details of parent 1` +
              (differs.length ? ` (parent 2 has ${differs.join(', ')})` : ''),
          });
          if (!other.phone && phone) other.phone = phone;
        }
      }
      if (!named && !problems.some((p) => p.column === this.headerOf('parent1.email'))) {
        problem('parent1.email', 'is empty: every child needs at least one parent');
      }
    }

    let mentorId: number | null = null;
    if (this.has('child.mentor') && group.ok) mentorId = take('child.mentor', mentorCell(cell('child.mentor'), group.value.id, this.mentors)) ?? null;

    if (problems.length > 0 || !group.ok) return { occurrences: [], problems, warnings };
    return {
      row: {
        line,
        childNumber: childNumber!,
        firstName: firstName!,
        infix: infix ?? null,
        lastName: lastName!,
        birthDate: birthDate!,
        groupId: (group as { value: GroupRef }).value.id,
        consent,
        parents,
        mentorId,
      },
      occurrences,
      problems,
      warnings,
    };
  }

  private nameProblem(line: number, failed: GroupCell & { ok: false }): void {
    // "Olifanten" and "olifanten" are one group: one problem, spelled as its first row does.
    const k = `${failed.column}\u0000${failed.message.toLowerCase()}`;
    const known = this.nameProblems.get(k);
    if (known) known.lines.push(line);
    else this.nameProblems.set(k, { line, lines: [line], column: this.headerOf(failed.column), message: failed.message });
  }

  /** The group a row names, looked up once per distinct location/group pair. */
  private group(location: string, group: string): GroupCell {
    const cacheKey = `${location.toLowerCase()}\u0000${group.toLowerCase()}`;
    let result = this.groupCache.get(cacheKey);
    if (!result) {
      result = this.lookupGroup(location, group);
      this.groupCache.set(cacheKey, result);
    }
    return result;
  }

  private lookupGroup(location: string, group: string): GroupCell {
    const fail = (column: 'location' | 'group', message: string) => ({ ok: false as const, message, column });
    let locationName = location;
    let groupName = group;
    if (!this.has('location') && group.includes('/')) {
      locationName = group.slice(0, group.lastIndexOf('/')).trim();
      groupName = group.slice(group.lastIndexOf('/') + 1).trim();
    }
    const locationColumn = this.has('location') ? 'location' : 'group';
    if (this.has('location') && location === '') return fail('location', 'is empty');
    if (groupName === '') return fail('group', 'is empty');
    if (locationName) {
      const loc = this.dir.locations.get(locationName.toLowerCase());
      const ref = loc && this.dir.groups.get(`${loc.id}/${groupName.toLowerCase()}`);
      if (ref) return { ok: true, value: ref, column: 'group' };
      if (this.existingOnly) {
        return loc
          ? fail('group', `group "${groupName}" does not exist at ${loc.name}`)
          : fail(locationColumn, `location "${locationName}" does not exist`);
      }
      if (!loc && locationName.length > MAX_NAME) return fail(locationColumn, `location "${locationName.slice(0, 40)}…" is longer than ${MAX_NAME} characters`);
      if (groupName.length > MAX_NAME) return fail('group', `group "${groupName.slice(0, 40)}…" is longer than ${MAX_NAME} characters`);
      return { ok: true, value: this.dir.plan(locationName, groupName), column: 'group' };
    }
    const refs = this.dir.groupsByName.get(groupName.toLowerCase()) ?? [];
    if (refs.length === 1) return { ok: true, value: refs[0]!, column: 'group' };
    if (refs.length === 0) {
      return fail(
        'group',
        `group "${groupName}" does not exist, and the file does not say at which location: ` +
          'add a column "Locatie", or write the group as "Location/Group"',
      );
    }
    return fail('group', `there are ${refs.length} groups named "${groupName}": write ${refs.map((r) => `"${r.label}"`).join(' or ')}`);
  }
}

/** What differs between two rows of the same child, as cell problems for the later row. */
function childDifferences(a: PlanningRow, b: PlanningRow, headerOf: (key: PlanningKey) => string): RowProblem[] {
  const out: RowProblem[] = [];
  const diff = (key: PlanningKey, x: string, y: string) => {
    if (x !== y) out.push({ line: b.line, column: headerOf(key), message: `child ${b.childNumber} is "${y}" here but "${x}" on line ${a.line}` });
  };
  diff('child.firstName', a.firstName, b.firstName);
  diff('child.infix', a.infix ?? '', b.infix ?? '');
  diff('child.lastName', a.lastName, b.lastName);
  diff('child.birthDate', a.birthDate, b.birthDate);
  if (a.groupId !== b.groupId) {
    out.push({ line: b.line, column: headerOf('group'), message: `child ${b.childNumber} is in another group here than on line ${a.line}` });
  }
  const yn = (c: PlanningRow['consent']) => (c ? `${c.internal ? 'Ja' : 'Nee'}/${c.external ? 'Ja' : 'Nee'}` : '');
  if (yn(a.consent) !== yn(b.consent)) {
    out.push({
      line: b.line,
      column: headerOf('consent.internal'),
      message: `child ${b.childNumber} has consent ${yn(b.consent)} here but ${yn(a.consent)} on line ${a.line}`,
    });
  }
  const ps = (r: PlanningRow) => [...(r.parents ?? [])].sort().join(', ');
  if (ps(a) !== ps(b)) {
    out.push({
      line: b.line,
      column: headerOf('parent1.email'),
      message: `child ${b.childNumber} has parents ${ps(b) || '(none)'} here but ${ps(a) || '(none)'} on line ${a.line}`,
    });
  }
  return out;
}

function parseDateOption(value: string | undefined, today: string): string {
  if (value === undefined || value.trim() === '') return today;
  const parsed = parseDate(value);
  if (!parsed) throw invalid('date', `"${value}" is not a date (use YYYY-MM-DD or DD-MM-YYYY)`);
  return parsed;
}

export function parseMapOption<K extends string>(values: readonly string[] | undefined, spec: Parameters<typeof parseColumnMap<K>>[1]) {
  try {
    return parseColumnMap(values ?? [], spec);
  } catch (err) {
    throw invalid('--map', (err as Error).message.replace(/^--map /, ''));
  }
}

/** Turns the problems of invalid rows into the rows to write back, each with its problems. */
export function collectRejected(problems: RowProblem[], cellsOf: (line: number) => string[] | undefined): RejectedRow[] {
  const byLineMap = new Map<number, string[]>();
  for (const p of problems) {
    for (const line of p.lines ?? [p.line]) {
      if (line <= 1) continue;
      const list = byLineMap.get(line) ?? [];
      list.push(`${p.column}: ${p.message}`);
      byLineMap.set(line, list);
    }
  }
  return [...byLineMap.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([line, list]) => ({ line, cells: cellsOf(line) ?? [], problems: list }));
}

export async function importPlanningExport(
  em: EntityManager,
  actor: Actor,
  input: PlanningImportInput,
  options: ImportOptions = {},
): Promise<ImportReport> {
  requireAdmin(actor, 'directory.manage');
  const started = performance.now();
  const on = parseDateOption(input.date, clockOf(em).today());
  const map = parseMapOption(input.map, PLANNING_COLUMNS);
  const report = emptyReport('planning', on, Boolean(options.dryRun));
  const dir = await loadDirectory(em);
  const mentors = await loadMentorCandidates(em);

  /** Child number -> its first valid row, packed. Insertion order is file order. */
  const rows = new Map<string, string>();
  /** Child number -> the line of its first row, when that row was invalid. */
  const invalidNumbers = new Map<string, number>();
  /** A row that repeats an earlier one exactly -> that earlier line. */
  const repeats = new Map<number, number>();
  /** Lines that will not be imported. */
  const rejected = new Set<number>();
  /** The cells of each row as read, to write rejected ones back (skipInvalid only). */
  const cellsOf = new Map<number, string[]>();
  const book = new ParentBook();
  let reader: RowReader | undefined;
  let header: string[] | undefined;
  let headerOf: (key: PlanningKey) => string = (k) => k;
  let numberColumn = -1;
  const refuse = (line: number, cells: string[], problems: RowProblem[]) => {
    report.rowErrors.push(...problems);
    rejected.add(line);
    if (options.skipInvalid) cellsOf.set(line, cells);
  };

  const handle = (record: CsvRecord): boolean => {
    if (!header) {
      header = record.cells.map((h) => h.trim());
      if (header.every((h) => h === '')) {
        report.rowErrors.push({ line: 1, column: '(header)', message: 'the first line must be the header with the column names' });
        return false;
      }
      const resolved = resolveColumns(header, PLANNING_COLUMNS, map);
      report.columns = resolved.columns;
      report.rowErrors.push(...resolved.problems, ...(resolved.problems.length ? [] : headerProblems(resolved.index)));
      for (const c of resolved.columns) {
        if (c.key === null && c.header !== '' && c.header !== REJECTED_PROBLEMS_HEADER) {
          report.warnings.push({ line: 1, column: c.header, message: 'is not a column the import knows; it is ignored' });
        }
      }
      if (report.rowErrors.length) return false;
      reader = new RowReader(header, resolved.index, dir, clockOf(em).today(), Boolean(input.existingOnly), mentors);
      const index = resolved.index;
      const names = header;
      headerOf = (key) => names[index[key]!] ?? key;
      numberColumn = index['child.number'] ?? -1;
      return true;
    }

    const { line } = record;
    const admitted = admitRecord(record, header, report, options);
    if (admitted.kind === 'blank') return true;
    if (admitted.kind === 'bad') {
      refuse(line, record.cells, [admitted.problem]);
      return true;
    }
    const cells = admitted.cells;

    const result = reader!.read({ line, cells });
    report.warnings.push(...result.warnings);
    const row = result.row;
    if (!row) {
      refuse(line, cells, result.problems);
      const number = (cells[numberColumn] ?? '').trim();
      if (number && !rows.has(number) && !invalidNumbers.has(number)) invalidNumbers.set(number, line);
      return true;
    }
    if (options.skipInvalid) cellsOf.set(line, cells);
    const firstPacked = rows.get(row.childNumber);
    const invalidFirst = invalidNumbers.get(row.childNumber);
    if (invalidFirst !== undefined) {
      refuse(line, cells, [
        {
          line,
          column: headerOf('child.number'),
          message: `child ${row.childNumber} is also on line ${invalidFirst}, which has errors; one child, one row`,
        },
      ]);
      return true;
    }
    if (firstPacked !== undefined) {
      const first = unpack(firstPacked);
      const diffs = childDifferences(first, row, headerOf);
      if (diffs.length === 0) {
        report.rows.duplicates++;
        repeats.set(line, first.line);
        report.warnings.push({
          line,
          column: headerOf('child.number'),
          message: `repeats line ${first.line} (child ${row.childNumber}); imported once`,
        });
        for (const o of result.occurrences) book.add(o);
        return true;
      }
      refuse(line, cells, diffs);
      if (!rejected.has(first.line)) {
        report.rowErrors.push({
          line: first.line,
          column: headerOf('child.number'),
          message: `child ${row.childNumber} appears again on line ${line} with other details`,
        });
        rejected.add(first.line);
      }
      return true;
    }
    // The parents' e-mails as the book keeps them (one string per parent, whatever the rows).
    if (row.parents) row.parents = result.occurrences.map((o) => book.add(o));
    rows.set(row.childNumber, pack(row));
    return true;
  };
  const batches = readCsvBatches(input.source, {
    delimiter: input.delimiter,
    onDelimiter: (d) => {
      report.delimiter = d;
    },
  });
  reading: for await (const records of batches) {
    for (const record of records) if (!handle(record)) break reading;
  }

  if (!header) report.rowErrors.push({ line: 1, column: '(header)', message: 'the file is empty' });
  const headerBroken = report.rowErrors.some((p) => p.line === 1);

  if (!headerBroken) {
    if (reader) report.rowErrors.push(...reader.nameProblems.values());
    const conflicts = book.conflicts();
    report.rowErrors.push(...conflicts.problems);
    for (const line of conflicts.lines) rejected.add(line);
    // A number corrected since (`children update --child-number`) would add the child twice.
    for (const [old, current] of await correctedChildNumbers(em, [...rows.keys()])) {
      const line = Number(rows.get(old)!.split(FIELD, 1)[0]);
      rejected.add(line);
      report.rowErrors.push({ line, column: headerOf('child.number'), message: `child number ${old} was corrected to ${current}; use the new number` });
    }
    for (const [line, of] of repeats) {
      if (rejected.has(of) && !rejected.has(line)) {
        rejected.add(line);
        report.rowErrors.push({ line, column: headerOf('child.number'), message: `repeats line ${of}, which cannot be imported` });
      }
    }
  }
  report.rowErrors.sort(byLine);
  report.rows.rejected = rejected.size;

  if (headerBroken || (report.rowErrors.length > 0 && !options.skipInvalid)) {
    report.warnings.sort(byLine);
    report.elapsedMs = Math.round(performance.now() - started);
    return report;
  }
  if (rejected.size > 0) report.rejectedRows = collectRejected(report.rowErrors, (line) => cellsOf.get(line));
  cellsOf.clear();

  const { parents, warnings } = book.merge((line) => !rejected.has(line));
  report.warnings.push(...warnings);
  report.warnings.sort(byLine);
  const numbersInFile = [...rows.keys(), ...invalidNumbers.keys()];
  const valid: string[] = [];
  /** The groups to create that valid rows use, each with the first line that uses it. */
  const planned = new Map<number, { group: PlannedGroup; line: number }>();
  for (const packed of rows.values()) {
    const [line, groupId] = packed.split(FIELD, 2).map(Number) as [number, number];
    if (rejected.has(line)) continue;
    valid.push(packed);
    if (groupId < 0 && !planned.has(groupId)) planned.set(groupId, { group: dir.plannedGroup(groupId)!, line });
  }
  rows.clear();
  report.rows.imported = valid.length;

  await applyRows(em, actor, valid, parents, numbersInFile, dir, [...planned.values()], report, options);
  report.applied = !report.dryRun;
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

/** A record that cannot be read as a row: an unclosed quote, or more or fewer cells than the header. */
/**
 * The first look at a data record, the same for every kind of import: blank lines are skipped
 * and counted, read rows counted (with progress every thousand), a row with the wrong number
 * of cells refused; otherwise its cells, trimmed to the header's width (extra cells are empty).
 */
export function admitRecord(
  record: CsvRecord,
  header: string[],
  report: ImportReport,
  options: Pick<ImportOptions, 'onProgress'>,
): { kind: 'blank' } | { kind: 'bad'; problem: RowProblem } | { kind: 'row'; cells: string[] } {
  if (!record.error && record.cells.every((c) => c.trim() === '')) {
    report.rows.blank++;
    return { kind: 'blank' };
  }
  report.rows.read++;
  if (report.rows.read % 1000 === 0) options.onProgress?.({ phase: 'read', done: report.rows.read, total: null });
  const shape = shapeProblem(record, header);
  if (shape) return { kind: 'bad', problem: shape };
  return { kind: 'row', cells: record.cells.length > header.length ? record.cells.slice(0, header.length) : record.cells };
}

export function shapeProblem(record: CsvRecord, header: string[]): RowProblem | undefined {
  const { line, cells } = record;
  if (record.error) return { line, column: header[cells.length - 1] ?? header[0] ?? '?', message: record.error };
  if (cells.length < header.length) {
    return {
      line,
      column: header[cells.length]!,
      message:
        `the row has ${cells.length} cells but the header has ${header.length}, so this column and the ones after it are missing ` +
        '(a separator too few, or a cell with a line break that is not quoted?)',
    };
  }
  if (cells.length > header.length && cells.slice(header.length).some((c) => c.trim() !== '')) {
    return {
      line,
      column: header[header.length - 1]!,
      message:
        `the row has ${cells.length} cells but the header has ${header.length}: there is text after the last column ` +
        `(a separator inside a cell that is not quoted?)`,
    };
  }
  return undefined;
}

interface ChildRow {
  id: number;
  child_number: string;
  first_name: string;
  infix: string | null;
  last_name: string;
  birth_date: string;
  left_on: string | null;
}

interface PlacementRow {
  id: number;
  child_id: number;
  group_id: number;
  start_date: string;
  end_date: string | null;
}

const show = (v: string | null) => (v === null || v === '' ? '(empty)' : `"${v}"`);
const yn = (b: boolean) => (b ? 'ja' : 'nee');

async function applyRows(
  em: EntityManager,
  actor: Actor,
  rows: string[],
  parents: Map<string, MergedParent>,
  numbersInFile: string[],
  dir: Directory,
  planned: { group: PlannedGroup; line: number }[],
  report: ImportReport,
  options: ImportOptions,
): Promise<void> {
  const dryRun = report.dryRun;
  const on = report.date;
  const dayBefore = addDays(on, -1);
  const batchSize = options.batchSize ?? 2000;
  const changes: ImportChange[] | undefined = options.listChanges ? [] : undefined;
  const groupLabel = new Map<number, string>();
  for (const g of dir.groups.values()) groupLabel.set(g.id, g.label);

  await inTransaction(em, async (tx) => {
    if (!dryRun) await lockImports(tx);
    const createdIds = await createStructure(tx, planned, report, changes);
    for (const { group } of planned) groupLabel.set(createdIds.get(group.id) ?? group.id, group.label);
    const st: ParentState = { parents, defaultLanguage: dir.defaultLanguage, dryRun, report, changes };
    options.onProgress?.({ phase: 'write', done: 0, total: rows.length });
    for (let from = 0; from < rows.length; from += batchSize) {
      const batch = rows.slice(from, from + batchSize).map(unpack);
      for (const r of batch) if (r.groupId < 0) r.groupId = createdIds.get(r.groupId) ?? r.groupId;
      await upsertParents(
        tx,
        batch.flatMap((r) => r.parents ?? []),
        st,
      );
      await applyChildren(tx, actor, batch, st, { on, dayBefore, groupLabel, changes });
      options.onProgress?.({ phase: 'write', done: Math.min(from + batchSize, rows.length), total: rows.length });
    }
    const absent = await sql<{ child_number: string }>(
      tx,
      `select child_number from child
       where (left_on is null or left_on >= ?) and child_number not in (select json_array_elements_text(?::json))
       order by child_number`,
      [on, json(numbersInFile)],
    );
    report.notInFile = absent.map((c) => c.child_number);
    if (!dryRun) {
      audit(tx, {
        type: 'import.planning',
        actor,
        details: {
          rows: report.rows,
          locations: report.locations,
          groups: report.groups,
          created: report.created,
          updated: report.updated,
          removed: report.removed,
        },
      });
    }
  });
  // In file order (parents are handled at the start of each batch); stable within a line.
  if (changes) report.changes = changes.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

async function applyChildren(
  tx: EntityManager,
  actor: Actor,
  batch: PlanningRow[],
  st: ParentState,
  ctx: { on: string; dayBefore: string; groupLabel: Map<number, string>; changes?: ImportChange[] },
): Promise<void> {
  const { report, dryRun } = st;
  const { on, dayBefore, changes } = ctx;
  const label = (groupId: number) => ctx.groupLabel.get(groupId) ?? `group ${groupId}`;

  // Children: create the new ones, update changed names and birth dates.
  const existing = await sql<ChildRow>(
    tx,
    `select id, child_number, first_name, infix, last_name, birth_date::text as birth_date, left_on::text as left_on
     from child where child_number in (select json_array_elements_text(?::json))`,
    [json(batch.map((r) => r.childNumber))],
  );
  const byNumber = new Map(existing.map((c) => [c.child_number, c]));
  const creates: PlanningRow[] = [];
  const updates: ChildRow[] = [];
  /** Children who had left before the file's date and are in the file again. */
  const returning = new Set<string>();
  for (const row of batch) {
    const have = byNumber.get(row.childNumber);
    if (!have) {
      creates.push(row);
      report.created.children++;
      changes?.push({
        line: row.line,
        kind: 'child',
        action: 'create',
        subject: row.childNumber,
        detail: `${[row.firstName, row.infix, row.lastName].filter(Boolean).join(' ')}, born ${row.birthDate}`,
      });
      continue;
    }
    const diffs: string[] = [];
    if (have.first_name !== row.firstName) diffs.push(`first name ${show(have.first_name)} → ${show(row.firstName)}`);
    if ((have.infix ?? null) !== row.infix) diffs.push(`infix ${show(have.infix)} → ${show(row.infix)}`);
    if (have.last_name !== row.lastName) diffs.push(`last name ${show(have.last_name)} → ${show(row.lastName)}`);
    if (have.birth_date !== row.birthDate) diffs.push(`birth date ${have.birth_date} → ${row.birthDate}`);
    let leftOn = have.left_on;
    if (leftOn && leftOn < on) {
      diffs.push(`back after leaving on ${leftOn}`);
      returning.add(row.childNumber);
      leftOn = null;
    }
    if (diffs.length === 0) {
      report.unchanged.children++;
      continue;
    }
    report.updated.children++;
    updates.push({
      ...have,
      first_name: row.firstName,
      infix: row.infix,
      last_name: row.lastName,
      birth_date: row.birthDate,
      left_on: leftOn,
    });
    changes?.push({ line: row.line, kind: 'child', action: 'update', subject: row.childNumber, detail: diffs.join(', ') });
  }

  const idOf = new Map<string, number>(existing.map((c) => [c.child_number, c.id]));
  if (!dryRun && creates.length) {
    const inserted = await sql<{ id: number; child_number: string }>(
      tx,
      `insert into child (child_number, first_name, infix, last_name, birth_date, left_on, created_at, updated_at)
       select v.child_number, v.first_name, v.infix, v.last_name, v.birth_date, null, ?::timestamptz, ?::timestamptz
       from json_to_recordset(?::json) as v(child_number text, first_name text, infix text, last_name text, birth_date date)
       returning id, child_number`,
      [
        clockOf(tx).now(),
        clockOf(tx).now(),
        json(
          creates.map((r) => ({
            child_number: r.childNumber,
            first_name: r.firstName,
            infix: r.infix,
            last_name: r.lastName,
            birth_date: r.birthDate,
          })),
        ),
      ],
    );
    for (const c of inserted) idOf.set(c.child_number, c.id);
  }
  if (!dryRun && updates.length) {
    await sql(
      tx,
      `update child as c set first_name = v.first_name, infix = v.infix, last_name = v.last_name,
         birth_date = v.birth_date, left_on = v.left_on, updated_at = ?::timestamptz
       from json_to_recordset(?::json) as v(id int, first_name text, infix text, last_name text, birth_date date, left_on date)
       where c.id = v.id`,
      [clockOf(tx).now(), json(updates)],
    );
  }

  // What the database holds about the children that existed before this batch.
  const existingIds = existing.map((c) => c.id);
  // One connection (the transaction's): the queries run one after the other.
  const ids = json(existingIds);
  const placements = existingIds.length
    ? await sql<PlacementRow>(
        tx,
        `select id, child_id, group_id, start_date::text as start_date, end_date::text as end_date from placement
         where child_id in (select json_array_elements_text(?::json)::int) and (end_date is null or end_date >= ?)`,
        [ids, on],
      )
    : [];
  const links = existingIds.length
    ? await sql<{ id: number; child_id: number; email: string }>(
        tx,
        `select g.id, g.child_id, p.email from guardianship g join parent p on p.id = g.parent_id
         where g.child_id in (select json_array_elements_text(?::json)::int)`,
        [ids],
      )
    : [];
  const consents = existingIds.length
    ? await sql<{ child_id: number; internal: boolean; external: boolean }>(
        tx,
        `select distinct on (child_id) child_id, internal, external from consent_record
         where child_id in (select json_array_elements_text(?::json)::int)
         order by child_id, recorded_at desc, id desc`,
        [ids],
      )
    : [];
  const openOf = groupBy(placements, (p) => p.child_id);
  const linksOf = groupBy(links, (l) => l.child_id);
  const consentOf = new Map(consents.map((c) => [c.child_id, c]));

  const placementEnds: number[] = [];
  const placementDeletes: number[] = [];
  const placementInserts: { child_id: number; group_id: number; start_date: string; end_date: string | null }[] = [];
  const linkDeletes: number[] = [];
  const linkInserts: { parent_id: number; child_id: number }[] = [];
  const consentInserts: { child_id: number; internal: boolean; external: boolean }[] = [];
  const mentorSets: { id: number; mentor_id: number }[] = [];

  for (const row of batch) {
    const have = byNumber.get(row.childNumber);
    const childId = idOf.get(row.childNumber) ?? 0; // 0 only in a dry run, for a child that would be created
    const subject = row.childNumber;

    // Placement: the file says which group the child is in from `on`.
    const open = have ? (openOf.get(have.id) ?? []) : [];
    const current = open.filter((p) => p.start_date <= on);
    const leftOn = have?.left_on && !returning.has(row.childNumber) ? have.left_on : null;
    if (current.some((p) => p.group_id === row.groupId)) {
      report.unchanged.placements++;
    } else {
      for (const p of open) {
        if (p.start_date >= on) placementDeletes.push(p.id);
        else placementEnds.push(p.id);
      }
      const from = current.map((p) => label(p.group_id)).join(', ');
      if (current.length) {
        report.updated.placements++;
        report.removedFromGroup++;
        changes?.push({ line: row.line, kind: 'placement', action: 'remove', subject, detail: `out of ${from} after ${dayBefore}` });
      } else {
        report.created.placements++;
      }
      placementInserts.push({ child_id: childId, group_id: row.groupId, start_date: on, end_date: leftOn && leftOn >= on ? leftOn : null });
      changes?.push({ line: row.line, kind: 'placement', action: 'create', subject, detail: `in ${label(row.groupId)} from ${on}` });
    }

    // Links: the file lists the child's parents; the database follows.
    if (row.parents) {
      const current = have ? (linksOf.get(have.id) ?? []) : [];
      const wanted = new Set(row.parents);
      for (const l of current) {
        if (wanted.has(l.email)) {
          report.unchanged.links++;
          wanted.delete(l.email);
        } else {
          linkDeletes.push(l.id);
          report.removed.links++;
          changes?.push({ line: row.line, kind: 'link', action: 'remove', subject: `${l.email} → ${subject}`, detail: 'not a parent in the file' });
        }
      }
      for (const email of wanted) {
        report.created.links++;
        const parentId = st.parents.get(email)?.id;
        if (parentId) linkInserts.push({ parent_id: parentId, child_id: childId });
        changes?.push({ line: row.line, kind: 'link', action: 'create', subject: `${email} → ${subject}`, detail: 'parent of the child' });
      }
    }

    if (row.mentorId !== null) mentorSets.push({ id: childId, mentor_id: row.mentorId });

    // Consent: a new statement only when the answer differs from the one in force.
    if (row.consent) {
      const latest = have ? consentOf.get(have.id) : undefined;
      if (latest && latest.internal === row.consent.internal && latest.external === row.consent.external) {
        report.unchanged.consents++;
      } else {
        report.created.consents++;
        consentInserts.push({ child_id: childId, ...row.consent });
        changes?.push({
          line: row.line,
          kind: 'consent',
          action: 'create',
          subject,
          detail:
            `internal ${yn(row.consent.internal)}, external ${yn(row.consent.external)}` +
            (latest ? ` (was internal ${yn(latest.internal)}, external ${yn(latest.external)})` : ''),
        });
      }
    }
  }

  if (dryRun) return;
  if (placementEnds.length) {
    await sql(tx, 'update placement set end_date = ? where id in (select json_array_elements_text(?::json)::int)', [
      dayBefore,
      json(placementEnds),
    ]);
  }
  if (placementDeletes.length) {
    await sql(tx, 'delete from placement where id in (select json_array_elements_text(?::json)::int)', [json(placementDeletes)]);
  }
  if (placementInserts.length) {
    await sql(
      tx,
      `insert into placement (child_id, group_id, start_date, end_date, created_at)
       select v.child_id, v.group_id, v.start_date, v.end_date, ?::timestamptz
       from json_to_recordset(?::json) as v(child_id int, group_id int, start_date date, end_date date)`,
      [clockOf(tx).now(), json(placementInserts)],
    );
  }
  if (linkDeletes.length) {
    await sql(tx, 'delete from guardianship where id in (select json_array_elements_text(?::json)::int)', [json(linkDeletes)]);
  }
  if (linkInserts.length) {
    await sql(
      tx,
      `insert into guardianship (parent_id, child_id, created_at)
       select v.parent_id, v.child_id, ?::timestamptz from json_to_recordset(?::json) as v(parent_id int, child_id int)`,
      [clockOf(tx).now(), json(linkInserts)],
    );
  }
  if (mentorSets.length) {
    await sql(
      tx,
      // updated_at too: the nightly export takes changed children by it.
      `update child as c set mentor_id = v.mentor_id, updated_at = ?::timestamptz
       from json_to_recordset(?::json) as v(id int, mentor_id int) where c.id = v.id and c.mentor_id is distinct from v.mentor_id`,
      [clockOf(tx).now(), json(mentorSets)],
    );
  }
  if (consentInserts.length) {
    await sql(
      tx,
      `insert into consent_record (child_id, internal, external, source, recorded_by, note, recorded_at)
       select v.child_id, v.internal, v.external, 'import', ?, null, ?::timestamptz
       from json_to_recordset(?::json) as v(child_id int, internal boolean, external boolean)`,
      [actor.label, clockOf(tx).now(), json(consentInserts)],
    );
  }
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
