import type { Delimiter } from './csv.ts';
import type { RejectedRow } from './csv-safe.ts';

/** How many records of each kind an import created, updated, left as they were, or removed. */
export interface KindCounts {
  children: number;
  parents: number;
  /** Parent-child links (guardianships). */
  links: number;
  /** Group placements: created for children without a group, updated when a child moved. */
  placements: number;
  /** Consent statements (a new statement is recorded only when the file's answer differs). */
  consents: number;
}

/** A problem or remark about one cell: `line 7, column "Geboortedatum": …`. Line 1 is the header. */
export interface RowProblem {
  line: number;
  column: string;
  message: string;
  /**
   * A problem with a name rather than a row (a location that does not exist): reported once,
   * with every line that names it; `line` is the first of them.
   */
  lines?: number[];
}

/** One change an import makes (listed for a dry run, so the admin sees exactly what would happen). */
export interface ImportChange {
  /** The line of the file that causes it (null: found in the database, not in the file). */
  line: number | null;
  kind: 'location' | 'group' | 'child' | 'parent' | 'link' | 'placement' | 'consent';
  action: 'create' | 'update' | 'remove';
  /** The child number or e-mail (links: "e-mail → child number"; groups: "Location/Group"). */
  subject: string;
  detail: string;
}

export interface ImportReport {
  kind: 'planning' | 'parents';
  dryRun: boolean;
  /**
   * Whether the changes were written: false for a dry run, and false when the file has invalid
   * rows and skipInvalid was not asked for (then nothing at all was written).
   */
  applied: boolean;
  /** The day the file's groups apply from (new placements start, moves happen). */
  date: string;
  delimiter: Delimiter;
  /** Each column of the file and what it was read as (null: not used). */
  columns: { header: string; key: string | null }[];
  rows: {
    /** Data rows in the file (blank lines not counted). */
    read: number;
    /** Valid rows that were (or in a dry run would be) imported. */
    imported: number;
    /** Invalid rows: listed in rowErrors and rejectedRows. */
    rejected: number;
    /** Rows that repeat an earlier row exactly; imported once. */
    duplicates: number;
    blank: number;
  };
  /** Locations the file names that did not exist: created by the import (planning import only). */
  locations: { created: string[] };
  /** Groups the file names that did not exist: created by the import (planning import only). */
  groups: { created: { location: string; name: string }[] };
  created: KindCounts;
  updated: KindCounts;
  unchanged: KindCounts;
  removed: { links: number };
  /** Children taken out of the group they were in, because the file puts them in another one. */
  removedFromGroup: number;
  /**
   * Children in the database (not left) whose number is not in the file. They are left as they
   * are: the file may be one location's export, and a child leaves with `portal children leave`.
   */
  notInFile: string[];
  rowErrors: RowProblem[];
  warnings: RowProblem[];
  /** Invalid rows with their cells, to write back for correction (`--rejected`). */
  rejectedRows: RejectedRow[];
  /** Every change, when asked for (dry runs). */
  changes?: ImportChange[];
  elapsedMs: number;
}

export const zeroCounts = (): KindCounts => ({ children: 0, parents: 0, links: 0, placements: 0, consents: 0 });

export function emptyReport(kind: ImportReport['kind'], date: string, dryRun: boolean): ImportReport {
  return {
    kind,
    dryRun,
    applied: false,
    date,
    delimiter: ';',
    columns: [],
    rows: { read: 0, imported: 0, rejected: 0, duplicates: 0, blank: 0 },
    locations: { created: [] },
    groups: { created: [] },
    created: zeroCounts(),
    updated: zeroCounts(),
    unchanged: zeroCounts(),
    removed: { links: 0 },
    removedFromGroup: 0,
    notInFile: [],
    rowErrors: [],
    warnings: [],
    rejectedRows: [],
    elapsedMs: 0,
  };
}

export const byLine = (a: RowProblem, b: RowProblem) => a.line - b.line;

/**
 * `line 7, column "Geboortedatum": "31-02-2024" is not a date`; a problem on many lines:
 * `lines 2, 5, 9 and 40 more, column "Locatie": location "De Boomhut" does not exist`.
 */
export function formatProblem(p: RowProblem): string {
  const lines = p.lines ?? [p.line];
  return `${lines.length > 1 ? `lines ${listLines(lines)}` : `line ${lines[0]}`}, column "${p.column}": ${p.message}`;
}

/** "2, 5, 9 and 40 more": the first three lines, and how many others. */
export function listLines(lines: readonly number[]): string {
  const shown = lines.slice(0, 3).join(', ');
  const more = lines.length - 3;
  if (more > 0) return `${shown} and ${more.toLocaleString('en')} more`;
  return lines.length > 1 ? `${lines.slice(0, -1).join(', ')} and ${lines.at(-1)}` : shown;
}

export interface ImportProgress {
  /** read: checking the file (total unknown); write: applying the valid rows. */
  phase: 'read' | 'write';
  done: number;
  total: number | null;
}

export interface ImportOptions {
  /** Check everything and report what would change; write nothing. */
  dryRun?: boolean;
  /** Import the valid rows and report the invalid ones, instead of importing nothing. */
  skipInvalid?: boolean;
  /** List every change in the report (dry runs). */
  listChanges?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** Rows per database round (default 2000). */
  batchSize?: number;
}
