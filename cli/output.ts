import type { CliIO } from './io.ts';
import { terminalLine, terminalText } from './terminal-text.ts';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'ja' : 'nee';
  return terminalLine(String(v).replace(/\s+/g, ' '));
};

/** A plain aligned table: readable in a terminal, greppable, no box-drawing to trip up scripts. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => [...row[i]!].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat(widths[i]! - [...v].length)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

export function formatDetails(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cell(v)}`).join('\n') + '\n';
}

export interface Output {
  json: boolean;
  /** --json: the value as JSON; otherwise the human rendering. */
  print<T>(value: T, human: (value: T) => string): void;
  table<T>(rows: T[], columns: Column<T>[], empty: string): void;
  /** After a change: a one-line confirmation for people, the changed record for --json. */
  result<T>(value: T, message: string): void;
}

/**
 * Human output goes through terminal-text.ts: it shows names and values that came from files,
 * forms or parents, and none of them may steer the terminal. JSON is written exactly.
 */
export function createOutput(io: CliIO, json: boolean): Output {
  return {
    json,
    print: (value, human) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : terminalText(human(value))),
    table: (rows, columns, empty) => {
      if (json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else io.stdout(rows.length ? formatTable(rows, columns) : `${empty}\n`);
    },
    result: (value, message) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${terminalText(message)}\n`),
  };
}
