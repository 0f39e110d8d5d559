/**
 * A small streaming CSV reader (RFC 4180, read leniently the way spreadsheets write it):
 * quoted cells with "" for a quote, line breaks inside quoted cells, `;` or `,` (or tab)
 * separators detected from the header line, a UTF-8 byte order mark, CRLF, LF or CR line ends.
 *
 * It works on chunks of text and keeps only the record being read, so a file of any size is
 * read in one pass with memory for one row. Every record carries its spreadsheet line number:
 * the header is line 1 and a record with a line break inside a quoted cell is still one line,
 * as a spreadsheet shows it. Blank lines count (a spreadsheet shows an empty row), and are
 * returned as records with one empty cell so the caller decides to skip them.
 */

export type Delimiter = ';' | ',' | '\t';

export interface CsvRecord {
  /** The line as a spreadsheet numbers it: header 1, first data row 2. */
  line: number;
  cells: string[];
  /** Set when the file ended inside a quoted cell: the cells read so far, and this message. */
  error?: string;
}

export interface CsvOptions {
  /** Force a separator instead of detecting it from the header line. */
  delimiter?: Delimiter;
}

export type CsvSource = string | Iterable<string> | AsyncIterable<string>;

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

const State = {
  /** At the start of a cell: a quote here opens a quoted cell. */
  CellStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** A quote inside a quoted cell: "" (a quote) or the end of the quoted part. */
  QuoteInQuoted: 3,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * The separator of a header line: whichever of `;`, `,` and tab occurs most often outside
 * quotes. Dutch Excel writes `;` (the comma is the decimal sign), most other tools `,`.
 */
export function detectDelimiter(headerLine: string): Delimiter {
  const counts = { ';': 0, ',': 0, '\t': 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ';' || ch === ',' || ch === '\t')) counts[ch]++;
  }
  if (counts['\t'] > counts[';'] && counts['\t'] > counts[',']) return '\t';
  return counts[','] > counts[';'] ? ',' : ';';
}

/** Where the first line ends (outside quotes), or -1 when the text holds no complete line yet. */
function firstLineEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === LF || c === CR)) return i;
  }
  return -1;
}

export class CsvParser {
  private delimiter: Delimiter | undefined;
  private delimiterCode = 0;
  private started = false;
  /** Text held back until the header line is complete (to detect the separator). */
  private head = '';
  private state: State = State.CellStart;
  private field = '';
  private cells: string[] = [];
  private skipLf = false;
  private line = 0;

  constructor(options: CsvOptions = {}) {
    if (options.delimiter) this.setDelimiter(options.delimiter);
  }

  /** The separator in use (known once the header line has been read). */
  get separator(): Delimiter | undefined {
    return this.delimiter;
  }

  private setDelimiter(d: Delimiter) {
    this.delimiter = d;
    this.delimiterCode = d.charCodeAt(0);
  }

  /** Feeds a chunk of text; returns the records completed by it. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let text = chunk;
    if (!this.started) {
      if (text.length === 0) return out;
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.delimiter === undefined) {
      this.head += text;
      const end = firstLineEnd(this.head);
      if (end < 0) return out;
      this.setDelimiter(detectDelimiter(this.head.slice(0, end)));
      text = this.head;
      this.head = '';
    }
    this.scan(text, out);
    return out;
  }

  /** Ends the input; returns the last record (a file need not end with a line break). */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.delimiter === undefined) {
      this.setDelimiter(detectDelimiter(this.head));
      const text = this.head;
      this.head = '';
      this.scan(text, out);
    }
    if (this.state === State.Quoted) {
      this.cells.push(this.field);
      this.line++;
      out.push({
        line: this.line,
        cells: this.cells,
        error: 'a quoted cell is not closed (a " is missing), so the rest of the file is part of it',
      });
    } else if (this.state !== State.CellStart || this.cells.length > 0) {
      this.endRecord(out);
    }
    this.cells = [];
    this.field = '';
    this.state = State.CellStart;
    return out;
  }

  private endRecord(out: CsvRecord[]) {
    this.cells.push(this.field);
    this.field = '';
    this.line++;
    out.push({ line: this.line, cells: this.cells });
    this.cells = [];
    this.state = State.CellStart;
  }

  private scan(text: string, out: CsvRecord[]) {
    const d = this.delimiterCode;
    const n = text.length;
    let i = 0;
    let start = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === LF) {
          i++;
          start = i;
          continue;
        }
      }
      switch (this.state) {
        case State.CellStart:
          if (c === QUOTE) {
            this.state = State.Quoted;
            i++;
            start = i;
          } else {
            this.state = State.Unquoted;
            start = i;
          }
          break;
        case State.Unquoted:
          if (c === d) {
            this.cells.push(this.field + text.slice(start, i));
            this.field = '';
            this.state = State.CellStart;
            i++;
          } else if (c === LF || c === CR) {
            this.field += text.slice(start, i);
            this.endRecord(out);
            if (c === CR) this.skipLf = true;
            i++;
          } else {
            i++;
          }
          break;
        case State.Quoted:
          if (c === QUOTE) {
            this.field += text.slice(start, i);
            this.state = State.QuoteInQuoted;
          }
          i++;
          break;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            // "" inside quotes: one quote character.
            this.field += '"';
            this.state = State.Quoted;
            i++;
            start = i;
          } else {
            // The quoted part ended; anything up to the separator is kept as written.
            this.state = State.Unquoted;
            start = i;
          }
          break;
      }
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.field += text.slice(start, n);
  }
}

/** Reads a whole CSV text at once (tests, templates, small files). */
export function parseCsvText(text: string, options: CsvOptions = {}): { records: CsvRecord[]; delimiter: Delimiter } {
  const parser = new CsvParser(options);
  const records = [...parser.push(text), ...parser.end()];
  return { records, delimiter: parser.separator ?? ';' };
}

/**
 * Reads records from a string, or from chunks of text (a file stream opened with
 * `encoding: 'utf8'`), as the batches of records each chunk completes: one await per chunk, not
 * per record. `onDelimiter` learns the separator once it is known.
 */
export async function* readCsvBatches(
  source: CsvSource,
  options: CsvOptions & { onDelimiter?: (d: Delimiter) => void } = {},
): AsyncGenerator<CsvRecord[]> {
  const parser = new CsvParser(options);
  let told = false;
  const tell = () => {
    if (!told && parser.separator) {
      told = true;
      options.onDelimiter?.(parser.separator);
    }
  };
  const chunks: Iterable<string> | AsyncIterable<string> = typeof source === 'string' ? [source] : source;
  for await (const chunk of chunks) {
    const records = parser.push(typeof chunk === 'string' ? chunk : String(chunk));
    tell();
    if (records.length) yield records;
  }
  const rest = parser.end();
  tell();
  if (rest.length) yield rest;
}

/** Reads records one at a time (see readCsvBatches). */
export async function* readCsv(
  source: CsvSource,
  options: CsvOptions & { onDelimiter?: (d: Delimiter) => void } = {},
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(source, options)) yield* batch;
}

/** Writes one CSV line (no line break) with the separator, quoting cells that need it. */
export function formatCsvLine(cells: readonly string[], delimiter: Delimiter = ';'): string {
  return cells
    .map((cell) =>
      cell.includes(delimiter) || cell.includes('"') || cell.includes('\n') || cell.includes('\r')
        ? `"${cell.replaceAll('"', '""')}"`
        : cell,
    )
    .join(delimiter);
}
