import { createReadStream, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writePrivateFile } from '../../core/files/private.ts';
import { basename, dirname, extname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { type ColumnSpec, PARENT_COLUMNS, PLANNING_COLUMNS, templateHeaders } from '../../core/import/columns.ts';
import { formatCsvLine } from '../../core/import/csv.ts';
import { formatRejectedCsv } from '../../core/import/csv-safe.ts';
import {
  decodeChunks,
  detectEncoding,
  ENCODING_NAMES,
  ENCODINGS,
  type Encoding,
  type ForcedEncoding,
  forcedEncoding,
} from '../../core/import/encoding.ts';
import { importParents } from '../../core/import/parents-import.ts';
import { importPlanningExport } from '../../core/import/planning-import.ts';
import { formatProblem, type ImportOptions, type ImportProgress, type ImportReport } from '../../core/import/report.ts';
import type { EntityManager } from '../../core/db/orm.ts';
import { conflict, invalid, notFound } from '../../core/errors.ts';
import { action, type CommandContext } from '../context.ts';
import { ExitStatus, UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatTable } from '../output.ts';
import { terminalLine, terminalText } from '../terminal-text.ts';

interface ImportFlags {
  dryRun?: boolean;
  skipInvalid?: boolean;
  rejected?: string;
  map?: string[];
  date?: string;
  template?: boolean;
  english?: boolean;
  encoding?: ForcedEncoding;
  existingOnly?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A dry run of a whole new export lists tens of thousands of changes; people read the start. */
const MAX_CHANGES_SHOWN = 1000;

/** The accepted headers, for --help: what each key is called in Dutch and English. */
function columnsHelp(spec: readonly ColumnSpec[]): string {
  const rows = [['KEY', 'DUTCH HEADER', 'ENGLISH HEADER', ''], ...spec.map((c) => [c.key, c.nl, c.en, c.required ? 'required' : ''])];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => `  ${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd();
  return `\nColumns (headers in Dutch or English; case, spaces and accents do not matter):\n${rows.map(line).join('\n')}\n`;
}

/**
 * A progress bar on stderr for a terminal: rows per second and the time left. cli-progress
 * writes through our CliIO, so tests see what a person would.
 */
function progressBar(ctx: CommandContext): { onProgress?: (p: ImportProgress) => void; stop: () => void } {
  if (!ctx.io.isTTY || ctx.out.json) return { stop: () => {} };
  const stream = {
    isTTY: true,
    columns: process.stderr.columns || 80,
    write: (text: string, callback?: () => void) => {
      ctx.io.stderr(text);
      callback?.();
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'Importing |{bar}| {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started: number | undefined;
  return {
    onProgress: (p) => {
      if (p.phase !== 'write' || p.total === null) return;
      const now = performance.now();
      if (started === undefined) {
        started = now;
        bar.start(p.total, 0, { rate: '-' });
        return;
      }
      const seconds = (now - started) / 1000;
      bar.update(p.done, { rate: seconds > 0 ? Math.round(p.done / seconds).toLocaleString('en') : '-' });
    },
    stop: () => {
      if (started !== undefined) bar.stop();
      started = undefined;
    },
  };
}

/**
 * The file as text: its encoding detected (core/import/encoding.ts, one extra read of the
 * bytes) or forced with --encoding. A file read as anything but UTF-8 gets a notice on stderr,
 * so a wrong guess does not go unseen. For every command that reads a CSV file.
 */
export async function openCsv(
  ctx: CommandContext,
  file: string,
  forced: ForcedEncoding | undefined,
): Promise<{ source: AsyncIterable<string>; encoding: Encoding; close: () => void }> {
  if (!existsSync(file) || !statSync(file).isFile()) throw notFound(`file "${file}"`);
  let encoding: Encoding;
  if (forced) {
    encoding = forcedEncoding(forced);
  } else {
    const bytes = createReadStream(file);
    const detected = await detectEncoding(bytes).finally(() => bytes.destroy());
    if (!detected.ok) {
      throw invalid(file, `cannot be read: ${detected.reason}; save it as "CSV UTF-8", or name its encoding with --encoding`);
    }
    encoding = detected.encoding;
    if (encoding !== 'utf-8') {
      ctx.io.stderr(terminalLine(`notice: ${file} read as ${ENCODING_NAMES[encoding]}; use --encoding to force another`) + '\n');
    }
  }
  const stream = createReadStream(file);
  return { source: decodeChunks(stream, encoding, file), encoding, close: () => stream.destroy() };
}

function writeTemplate(ctx: CommandContext, spec: readonly ColumnSpec[], file: string | undefined, english?: boolean) {
  const line = formatCsvLine(templateHeaders(spec, english ? 'en' : 'nl'), ';');
  if (!file) {
    ctx.io.stdout(`${line}\n`);
    return;
  }
  if (existsSync(file)) throw conflict(`${file} already exists; name a new file for the template`);
  // As Excel writes it, so it opens with the right columns and characters.
  writeFileSync(file, `\uFEFF${line}\r\n`);
  ctx.out.result({ template: resolve(file), headers: templateHeaders(spec, english ? 'en' : 'nl') }, `Template written to ${file}.`);
}

const defaultRejectedPath = (file: string) => join(dirname(file), `${basename(file, extname(file))}.rejected.csv`);

/** What a first import made: the locations and groups that were not there. */
function structureLines(report: ImportReport): string[] {
  const { locations, groups } = report;
  if (!locations.created.length && !groups.created.length) return [];
  const list = (names: string[]) => names.slice(0, 20).join(', ') + (names.length > 20 ? `, … (${names.length - 20} more)` : '');
  const lines = ['', report.dryRun ? 'Would be created, because the file names them and they do not exist:' : 'Created, because the file names them and they did not exist:'];
  if (locations.created.length) lines.push(`  ${locations.created.length} location(s): ${list(locations.created)}`);
  if (groups.created.length) lines.push(`  ${groups.created.length} group(s): ${list(groups.created.map((g) => `${g.location}/${g.name}`))}`);
  lines.push(
    report.dryRun
      ? '  With only their names; --existing-only would refuse them instead.'
      : '  Only their names are set: add address, phone and manager with `portal locations update`, capacity with `portal groups update`.',
  );
  return lines;
}

function summary(report: ImportReport, file: string): string {
  const lines: string[] = [];
  const what = report.kind === 'planning' ? 'row(s)' : 'parent row(s)';
  if (report.dryRun) {
    lines.push(`Dry run of ${file}: nothing was changed. ${report.rows.imported} ${what} would be imported.`);
    lines.push(...structureLines(report));
    if (report.changes?.length) {
      lines.push('', 'Changes:');
      for (const c of report.changes.slice(0, MAX_CHANGES_SHOWN)) {
        const at = c.line === null ? '' : `line ${c.line}: `;
        lines.push(`  ${at}${c.action} ${c.kind} ${c.subject}: ${c.detail}`);
      }
      const more = report.changes.length - MAX_CHANGES_SHOWN;
      if (more > 0) lines.push(`  … and ${more.toLocaleString('en')} more (--json lists every change)`);
    } else {
      lines.push('', 'No changes: the database already matches the file.');
    }
  } else {
    lines.push(`Imported ${file}: ${report.rows.imported} ${what}${report.kind === 'planning' ? `, groups as of ${report.date}` : ''}.`);
    lines.push(...structureLines(report));
  }
  const kinds = (['children', 'parents', 'links', 'placements', 'consents'] as const).filter(
    (k) => report.kind === 'planning' || k === 'parents' || k === 'links',
  );
  lines.push(
    '',
    formatTable(
      kinds.map((k) => ({ k, c: report.created[k], u: report.updated[k], n: report.unchanged[k] })),
      [
        { header: report.dryRun ? 'WOULD BE' : '', value: (r) => r.k },
        { header: 'CREATED', value: (r) => String(r.c) },
        { header: 'UPDATED', value: (r) => String(r.u) },
        { header: 'UNCHANGED', value: (r) => String(r.n) },
      ],
    ).trimEnd(),
  );
  if (report.kind === 'planning') {
    lines.push(
      '',
      `Links removed (parents no longer in the file for their child): ${report.removed.links}`,
      `Children taken out of their group (moved to the group in the file): ${report.removedFromGroup}`,
    );
    if (report.notInFile.length) {
      const shown = report.notInFile.slice(0, 20).join(', ') + (report.notInFile.length > 20 ? ', …' : '');
      lines.push(
        `Not in the file, left as they are: ${report.notInFile.length} child(ren) (${shown}); ` +
          'a child that left ends with `portal children leave`.',
      );
    }
  }
  if (report.rows.duplicates) lines.push(`Rows repeated exactly (imported once): ${report.rows.duplicates}`);
  if (report.rows.rejected) lines.push(`Rows rejected: ${report.rows.rejected}`);
  if (report.warnings.length) lines.push(`Warnings: ${report.warnings.length} (on stderr)`);
  if (!report.dryRun && report.created.parents) {
    lines.push('Nothing was sent. Invite the new parents with `portal parents invite`.');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The common end of both imports: problems, the rejected file, the summary or the JSON report.
 * Everything that echoes the file (headers, cells, names) goes through terminal-text.ts.
 */
async function finish(ctx: CommandContext, report: ImportReport, file: string, f: ImportFlags, encoding: Encoding): Promise<void> {
  const headerBroken = report.rowErrors.some((e) => e.line === 1);
  const refused = report.rowErrors.length > 0 && (!f.skipInvalid || headerBroken);
  const stderr = (line: string) => ctx.io.stderr(`${terminalLine(line)}\n`);
  for (const e of report.rowErrors) stderr(formatProblem(e));
  if (!ctx.out.json) for (const w of report.warnings) stderr(`warning: ${formatProblem(w)}`);

  if (refused) {
    if (ctx.out.json) ctx.io.stdout(`${JSON.stringify({ ...report, encoding }, null, 2)}\n`);
    stderr(
      headerBroken
        ? `portal: the header of ${file} has ${report.rowErrors.length} problem(s); nothing was imported: correct the header, or name the columns with --map`
        : `portal: ${report.rowErrors.length} problem(s) in ${report.rows.rejected} row(s) of ${file}; nothing was imported: ` +
            'correct them, or use --skip-invalid to import the valid rows' +
            (f.existingOnly ? ' (without --existing-only, locations and groups that do not exist are created)' : ''),
    );
    throw new ExitStatus(1);
  }

  let rejectedFile: string | null = null;
  if (report.rejectedRows.length && !report.dryRun) {
    rejectedFile = f.rejected ?? defaultRejectedPath(file);
    const header = report.columns.map((c) => c.header);
    // The rejected rows are children and parents: a private file, replacing an earlier one.
    rmSync(rejectedFile, { force: true });
    await writePrivateFile(rejectedFile, formatRejectedCsv(header, report.rejectedRows, report.delimiter));
  }
  if (ctx.out.json) {
    ctx.io.stdout(`${JSON.stringify({ ...report, encoding, rejectedFile }, null, 2)}\n`);
    return;
  }
  let text = summary(report, file);
  if (report.rejectedRows.length) {
    text += report.dryRun
      ? `The ${report.rejectedRows.length} invalid row(s) would be written to ${f.rejected ?? defaultRejectedPath(file)}.\n`
      : `The ${report.rejectedRows.length} invalid row(s) are in ${rejectedFile}: correct them there and import that file.\n`;
  }
  ctx.io.stdout(terminalText(text));
}

/** What both import commands do around their use case: template, file, progress bar, report. */
async function runImport(
  ctx: CommandContext,
  spec: readonly ColumnSpec[],
  file: string | undefined,
  f: ImportFlags,
  run: (em: EntityManager, source: AsyncIterable<string>, options: ImportOptions) => Promise<ImportReport>,
): Promise<void> {
  if (f.template) return writeTemplate(ctx, spec, file, f.english);
  if (!file) throw new UsageError('name the CSV file to import (or use --template for an empty one)');
  const { source, encoding, close } = await openCsv(ctx, file, f.encoding);
  const bar = progressBar(ctx);
  try {
    const report = await ctx.withPortal((em) =>
      run(em, source, { dryRun: f.dryRun, skipInvalid: f.skipInvalid, listChanges: f.dryRun, onProgress: bar.onProgress }),
    );
    bar.stop();
    await finish(ctx, report, file, f, encoding);
  } finally {
    bar.stop();
    close();
  }
}

export const encodingOption = () =>
  new Option('--encoding <name>', "the file's character encoding, instead of detecting it").choices([...ENCODINGS]);

const ENCODING_HELP =
  '\nEncoding: UTF-8 (with or without byte order mark) and Windows-1252/ISO-8859-1 (Excel\'s plain "CSV")\n' +
  'are detected; a notice on stderr says when a file is read as Windows-1252. --encoding forces one\n' +
  '(latin1 is read as Windows-1252). A file in another encoding is refused as a whole (exit 1).\n';

export function registerImport(program: Command, io: CliIO): void {
  program
    .command('import')
    .description("import children, groups, photo consents and parents from the planning system's export (CSV)")
    .argument('[file]', 'the CSV file (with --template: where to write the template; default: stdout)')
    .option('--dry-run', 'check the file and show exactly what would change; change nothing')
    .option('--skip-invalid', 'import the valid rows and write the invalid ones to the --rejected file')
    .option('--rejected <file>', 'where --skip-invalid writes the invalid rows (default: FILE.rejected.csv beside FILE)')
    .option('--map <header=key>', 'read a column as a key, e.g. --map "Mail verzorger=parent1.email" (repeat for more)', collect)
    .option('--date <date>', 'the day the groups in the file apply from (default today)')
    .option('--existing-only', 'refuse locations and groups that do not exist, instead of creating them')
    .addOption(encodingOption())
    .option('--template', 'write an empty file with the accepted headers, and stop')
    .option('--english', 'with --template: English headers')
    .addHelpText(
      'after',
      '\nOne row per child: the group it is in, its photo consent (Ja/Nee) and up to two parents. The whole\n' +
        'file is checked first; with a problem in any row nothing is imported (exit 1) and every problem is\n' +
        'listed as `line N, column "X": …` (line 1 is the header). One transaction: all or nothing. Importing\n' +
        'the same file again changes nothing. Children not in the file are listed and left alone. Nothing is\n' +
        'e-mailed.\n' +
        '\nLocations and groups: the ones the file names that do not exist yet are created, so the first import\n' +
        'fills an empty portal. Only their names come from the file: add address, phone and manager later with\n' +
        '`portal locations update`, a capacity with `portal groups update`. The summary (and --json, under\n' +
        '"locations" and "groups") lists what was created; --dry-run shows it first. With --existing-only they\n' +
        'are refused instead: one problem per name, with the lines that name it.\n' +
        ENCODING_HELP +
        columnsHelp(PLANNING_COLUMNS),
    )
    .action(
      action(io, (ctx, file: string | undefined, f: ImportFlags) =>
        runImport(ctx, PLANNING_COLUMNS, file, f, (em, source, options) =>
          importPlanningExport(em, ctx.actor, { source, map: f.map, date: f.date, existingOnly: f.existingOnly }, options),
        ),
      ),
    );

  const parents = program.commands.find((c) => c.name() === 'parents') ?? program.command('parents');
  parents
    .command('import')
    .description('import parents from a CSV file (e-mail, names, phone, language, child number to link)')
    .argument('[file]', 'the CSV file (with --template: where to write the template; default: stdout)')
    .option('--dry-run', 'check the file and show exactly what would change; change nothing')
    .option('--skip-invalid', 'import the valid rows and write the invalid ones to the --rejected file')
    .option('--rejected <file>', 'where --skip-invalid writes the invalid rows (default: FILE.rejected.csv beside FILE)')
    .option('--map <header=key>', 'read a column as a key, e.g. --map "Mail=email" (repeat for more)', collect)
    .addOption(encodingOption())
    .option('--template', 'write an empty file with the accepted headers, and stop')
    .option('--english', 'with --template: English headers')
    .addHelpText(
      'after',
      '\nOne row per parent, or per parent and child. Creates and updates parents by e-mail and adds links;\n' +
        'it never removes a link. Same checks and all-or-nothing rules as `portal import`. Nothing is e-mailed.\n' +
        ENCODING_HELP +
        columnsHelp(PARENT_COLUMNS),
    )
    .action(
      action(io, (ctx, file: string | undefined, f: ImportFlags) =>
        runImport(ctx, PARENT_COLUMNS, file, f, (em, source, options) =>
          importParents(em, ctx.actor, { source, map: f.map }, options),
        ),
      ),
    );
}
