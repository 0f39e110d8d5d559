import { FORMULA_START_CHARACTERS, unneutraliseCell } from '../import/csv-safe.ts';

/**
 * The export's CSV dialect is PostgreSQL's own `COPY … (FORMAT csv, HEADER true)`: comma, LF
 * after each record, `"` around a cell holding a comma, quote, CR or LF, `""` for a quote
 * inside one, UTF-8 without a byte order mark, a header row of column names. Values are
 * PostgreSQL's text forms (`t`/`f`, `2026-11-25 03:30:12.5+00`, JSON as text), so a restore
 * reads them back exactly.
 *
 * NULL and the empty string differ the way COPY writes them: an empty unquoted cell is NULL,
 * `""` is the empty string. Cells that a spreadsheet would run as a formula get the same
 * leading apostrophe as every CSV the portal writes (core/import/csv-safe.ts), added by the
 * server in the SELECT (neutraliseSql); numeric columns are left alone (a negative number is
 * not a formula and must stay a number).
 */

/** Code points of the formula characters: `ascii()` of a text is its first code point (0 for ''). */
const FORMULA_CODES = [...FORMULA_START_CHARACTERS].map((c) => c.codePointAt(0)).join(', ');

/**
 * neutraliseCell (core/import/csv-safe.ts) in SQL, for a text expression: made from the same
 * FORMULA_START_CHARACTERS, and export.test.ts checks that both give the same for tricky values.
 * NULL stays NULL (ascii(NULL) is NULL: the ELSE branch).
 */
export function neutraliseSql(expr: string): string {
  return `case when ascii(${expr}) in (${FORMULA_CODES}) then '''' || ${expr} else ${expr} end`;
}

/** The value a cell stood for, undoing the neutralisation (see neutraliseSql). */
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
