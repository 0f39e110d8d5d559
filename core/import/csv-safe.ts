import { type Delimiter, formatCsvLine } from './csv.ts';

/**
 * CSV injection: a spreadsheet runs a cell that starts with = + - @ (or a tab or carriage
 * return before one) as a formula, so `=HYPERLINK("https://evil", "klik")` typed as a child's
 * name by anyone becomes a live link in the admin's Excel. We store such values as the plain
 * text they are, and neutralise them whenever we write CSV: a leading apostrophe makes the
 * spreadsheet show the text instead of running it (OWASP's advice).
 */

/**
 * The characters a formula starts with. The one definition of the rule: the regular expression
 * below and the SQL of `portal export --format csv` (core/export/csv.ts) are both made from it.
 */
export const FORMULA_START_CHARACTERS = '=+-@\t\r';

const FORMULA_START = new RegExp(`^[${FORMULA_START_CHARACTERS.replace(/[\\\]^-]/g, '\\$&')}]`);

/** Whether a spreadsheet would read the cell as a formula. */
export function looksLikeFormula(cell: string): boolean {
  return FORMULA_START.test(cell);
}

/** The cell as it is safe to write into a CSV file that someone will open in a spreadsheet. */
export function neutraliseCell(cell: string): string {
  return looksLikeFormula(cell) ? `'${cell}` : cell;
}

/** One CSV line with every cell neutralised and quoted where needed. */
export function formatSafeCsvLine(cells: readonly string[], delimiter: Delimiter = ';'): string {
  return formatCsvLine(cells.map(neutraliseCell), delimiter);
}

/** The extra last column of a rejected-rows file; an import ignores it, so the corrected file can go back in. */
export const REJECTED_PROBLEMS_HEADER = 'Problems';

/**
 * Undoes `neutraliseCell` on the way in: a rejected-rows file corrected in a spreadsheet comes
 * back with "'=..." and "'+31 6...", and those values mean "=..." and "+31 6...".
 */
export function unneutraliseCell(cell: string): string {
  return cell.length > 1 && cell.charCodeAt(0) === 0x27 && looksLikeFormula(cell.slice(1)) ? cell.slice(1) : cell;
}

export interface RejectedRow {
  /** The line in the imported file. */
  line: number;
  /** The cells as they were in the file. */
  cells: string[];
  problems: string[];
}

/**
 * The rejected rows of an import as a file to correct and import again: the original header
 * plus a last column with what is wrong, in the file's own separator, with a byte order mark and
 * CRLF so Excel opens it as UTF-8. Every cell is neutralised.
 */
export function formatRejectedCsv(header: readonly string[], rows: readonly RejectedRow[], delimiter: Delimiter = ';'): string {
  const lines = [
    formatSafeCsvLine([...header, REJECTED_PROBLEMS_HEADER], delimiter),
    ...rows.map((r) => formatSafeCsvLine([...r.cells, `line ${r.line}: ${r.problems.join('; ')}`], delimiter)),
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
