import { neutraliseCell, unneutraliseCell } from '../import/csv-safe.ts';

/**
 * The export's CSV dialect: RFC 4180 (comma, CRLF, "" for a quote inside a quoted cell), UTF-8
 * without a byte order mark, a header row of column names. Values are PostgreSQL's text forms
 * (`t`/`f`, `2026-11-25 03:30:12.5+00`, JSON as text), so a restore reads them back exactly.
 *
 * NULL and the empty string differ the way PostgreSQL's own CSV does it: an empty unquoted
 * cell is NULL, `""` is the empty string. Cells that a spreadsheet would run as a formula get
 * the same leading apostrophe as every CSV the portal writes (core/import/csv-safe.ts); numeric
 * columns are left alone (a negative number is not a formula and must stay a number).
 */

const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: string | null, neutralise: boolean): string {
  if (value === null) return '';
  const text = neutralise ? neutraliseCell(value) : value;
  if (text === '') return '""';
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record with its CRLF. `neutralise[i]`: whether column i may hold a formula-looking text. */
export function csvRecord(values: readonly (string | null)[], neutralise: readonly boolean[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += csvCell(values[i] ?? null, neutralise[i] ?? true);
  }
  return `${line}\r\n`;
}

/** The value a cell stood for, undoing the neutralisation (see csvCell). */
export function csvValue(cell: string | null, neutralised: boolean): string | null {
  return cell === null || !neutralised ? cell : unneutraliseCell(cell);
}

/**
 * Reads the export's CSV from chunks of text, one record (array of cells, null for an empty
 * unquoted cell) at a time, keeping only the record being read. Strict: a quote inside an
 * unquoted cell or a file ending inside quotes is an error, because the file was written by us.
 */
export async function* readCsvRecords(chunks: AsyncIterable<string>): AsyncGenerator<(string | null)[]> {
  let cells: (string | null)[] = [];
  let field = '';
  let quoted = false; // the current cell started with a quote
  let inQuotes = false; // inside the quoted part
  let pendingQuote = false; // saw a quote inside quotes: either "" or the closing quote
  let cellStarted = false;
  let afterCr = false;
  const endCell = () => {
    cells.push(quoted ? field : field === '' ? null : field);
    field = '';
    quoted = false;
    cellStarted = false;
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (afterCr) {
        afterCr = false;
        if (ch === '\n') continue;
      }
      if (inQuotes) {
        if (pendingQuote) {
          pendingQuote = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false; // the closing quote; ch is read below as after a cell
        } else {
          if (ch === '"') pendingQuote = true;
          else field += ch;
          continue;
        }
      }
      if (ch === ',') {
        endCell();
      } else if (ch === '\r' || ch === '\n') {
        endCell();
        yield cells;
        cells = [];
        afterCr = ch === '\r';
      } else if (ch === '"') {
        if (cellStarted || quoted) throw new Error('CSV: a quote inside an unquoted cell');
        quoted = true;
        inQuotes = true;
        cellStarted = true;
      } else {
        if (quoted) throw new Error('CSV: text after the closing quote of a cell');
        field += ch;
        cellStarted = true;
      }
    }
  }
  if (inQuotes && !pendingQuote) throw new Error('CSV: the file ends inside a quoted cell');
  if (cellStarted || quoted || cells.length > 0) {
    endCell();
    yield cells;
  }
}
