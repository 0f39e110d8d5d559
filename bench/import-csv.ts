/**
 * Benchmark of `portal import`: generates a planning export of N rows (default 10,000; `--rows
 * 100000`), imports it into a fresh database built by createPortal (an embedded PostgreSQL in a
 * temporary folder, or a new database on the server in PORTAL_DATABASE_URL), imports it a second
 * time (nothing changes), and prints rows/s, elapsed time and peak RSS. Beside it, the ceiling:
 * a bare multi-row INSERT of the same rows (19 text columns) into a scratch table on the same
 * database, and the ratio of the import to it.
 *
 *   npx tsx bench/import-csv.ts [--rows N] [--batch N]
 *
 * Targets: 10,000 rows in under 10 s; peak RSS under 300 MB at 100,000 rows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { cliAdmin } from '../core/actor.ts';
import { addDays, today } from '../core/dates.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { PLANNING_COLUMNS, templateHeaders } from '../core/import/columns.ts';
import { readCsv } from '../core/import/csv.ts';
import { importPlanningExport } from '../core/import/planning-import.ts';
import { createPortal } from '../core/portal.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '2000' },
    // Internal: the re-import, run in a process of its own so its peak RSS is its own.
    reimport: { type: 'string' },
    file: { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
if (!Number.isInteger(ROWS) || ROWS < 1 || !Number.isInteger(BATCH) || BATCH < 1) {
  console.error('usage: npx tsx bench/import-csv.ts [--rows N] [--batch N]');
  process.exit(2);
}

const LOCATIONS = ['Heerlen Centrum', 'Maastricht Wyck', 'Sittard Ophoven', 'Venlo Zuid', 'Roermond Oost', 'Weert Centrum'];
const GROUPS = ['Boomhut', 'Kikkers', 'Zonnestraal', 'Egeltjes', 'Vlinders', 'Dolfijnen', 'Uiltjes', 'BSO De Ontdekkers'];
const FIRST = ['Aylin', 'Evi', 'Thijs', 'Julia', 'Sophie', 'Nora', 'Zoë', 'Liam', 'Siem', 'Sara', 'Finn', 'Mila', 'Noah', 'Levi'];
const PARENT_FIRST = ['Linda', 'Fatima', 'Miriam', 'Inge', 'Sanne', 'Marloes', 'Joost', 'Mark', 'Iris', 'Youssef', 'Esther', 'Bas'];
const LAST: [string, string][] = [
  ['', 'Visser'],
  ['van den', 'Berg'],
  ['', 'Ramdin'],
  ['de', 'Groot'],
  ['', 'Gülen'],
  ["van 't", 'Hof'],
  ['', 'El Amrani'],
  ['van', 'Leeuwen'],
];

const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const num = (n: number) => Math.round(n).toLocaleString('en');

/** A planning export like the real one (BOM, CRLF, `;`, dd-mm-jjjj, Ja/Nee), with siblings sharing parents. */
async function generate(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  const write = async (line: string) => {
    if (!out.write(`${line}\r\n`)) await once(out, 'drain');
  };
  await write(`\uFEFF${templateHeaders(PLANNING_COLUMNS).join(';')}`);
  let family = 0;
  for (let i = 0; i < rows; i++) {
    // Every third child is a sibling of the one before: same family, same parents.
    if (i % 3 !== 2) family++;
    const [infix, last] = LAST[family % LAST.length]!;
    const slug = `${infix}${last}`.toLowerCase().replace(/[^a-z]/g, '');
    const location = LOCATIONS[family % LOCATIONS.length]!;
    const group = GROUPS[(family + i) % GROUPS.length]!;
    const born = new Date(Date.UTC(2017 + (i % 9), i % 12, 1 + (i % 28)));
    const date = `${String(born.getUTCDate()).padStart(2, '0')}-${String(born.getUTCMonth() + 1).padStart(2, '0')}-${born.getUTCFullYear()}`;
    const p1 = PARENT_FIRST[family % PARENT_FIRST.length]!;
    const p2 = PARENT_FIRST[(family + 5) % PARENT_FIRST.length]!;
    const twoParents = family % 4 !== 0;
    const phone = (n: number) => `06${String(10_000_000 + ((family * 7919 + n) % 89_999_999)).padStart(8, '0')}`;
    await write(
      [
        location,
        group,
        `B${String(i + 1).padStart(7, '0')}`,
        FIRST[i % FIRST.length],
        infix,
        last,
        date,
        i % 5 === 0 ? 'Nee' : 'Ja',
        i % 2 === 0 ? 'Ja' : 'Nee',
        `${p1.toLowerCase()}.${slug}.${family}@example.nl`,
        p1,
        infix,
        last,
        phone(1),
        ...(twoParents ? [`${p2.toLowerCase()}.${slug}.${family}@example.nl`, p2, '', 'Jansen', phone(2)] : ['', '', '', '', '']),
      ].join(';'),
    );
  }
  out.end();
  await once(out, 'finish');
}

/** A fresh database: a new one on PORTAL_DATABASE_URL's server, or an embedded PostgreSQL in a temporary folder. */
async function freshDatabase(): Promise<{ flags: Record<string, unknown>; drop: () => Promise<void> }> {
  // Its own folder: the embedded PostgreSQL (run as user postgres when we are root) owns it.
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-bench-data-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const serverUrl = process.env['PORTAL_DATABASE_URL'];
  if (!serverUrl) return { flags: { dataDir }, drop: async () => removeData() };
  const name = `portal_bench_${process.pid}_${Date.now().toString(36)}`;
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = '/postgres';
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    flags: { 'database.url': url.toString(), dataDir },
    drop: async () => {
      await admin(`drop database if exists ${name} with (force)`);
      removeData();
    },
  };
}

interface RunResult {
  ms: number;
  maxRssKb: number;
  created: { children: number; parents: number; links: number; placements: number; consents: number };
  changed: number;
}

/** One import of the file, as `portal import` runs it: a fresh portal, the file streamed. */
async function importOnce(flags: Record<string, unknown>, file: string): Promise<RunResult> {
  const { config } = loadConfig({ env: {}, flags: { 'log.level': 'warn', ...flags } });
  const portal = await createPortal(config);
  try {
    const started = performance.now();
    const report = await importPlanningExport(
      portal.em(),
      cliAdmin('bench'),
      { source: createReadStream(file, { encoding: 'utf8' }), date: addDays(today(), -7) },
      { batchSize: BATCH },
    );
    const ms = performance.now() - started;
    if (report.rowErrors.length || !report.applied) {
      throw new Error(`import refused: ${report.rowErrors.slice(0, 3).map((e) => `line ${e.line} ${e.column}: ${e.message}`).join('; ')}`);
    }
    const changed = Object.values(report.created).reduce((a, b) => a + b, 0) + Object.values(report.updated).reduce((a, b) => a + b, 0);
    return { ms, maxRssKb: process.resourceUsage().maxRSS, created: report.created, changed };
  } finally {
    await portal.close();
  }
}

/** Runs the re-import in a child process (this script with --reimport) and returns its figures. */
function reimportInChild(flags: Record<string, unknown>, file: string): Promise<RunResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--reimport', JSON.stringify(flags), '--file', file, '--batch', String(BATCH)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as RunResult) : reject(new Error(`re-import exited with ${code}`))));
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-bench-import-'));
  const db = await freshDatabase();
  const { config } = loadConfig({ env: {}, flags: { 'log.level': 'warn', ...db.flags } });
  const portal = await createPortal(config);
  const admin = cliAdmin('bench');
  try {
    const em = portal.em();
    await initOrganisation(em, admin, { name: 'Bench', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
    for (const location of LOCATIONS) {
      await addLocation(em, admin, { name: location });
      for (const name of GROUPS) await addGroup(em, admin, { location, name });
    }
    const file = join(dir, 'planning-export.csv');
    let t = performance.now();
    await generate(file, ROWS);
    const generateMs = performance.now() - t;
    const rssBefore = process.resourceUsage().maxRSS;

    const first = await importOnce(db.flags, file);
    const rssImport = first.maxRssKb;
    const second = await reimportInChild(db.flags, file);
    if (second.changed !== 0) throw new Error('the second import changed something');

    // The ceiling: the same rows, parsed by the same reader, into one scratch table with a bare
    // multi-row INSERT (1,000 rows per statement) in one transaction. No checks, no lookups.
    const knex = portal.em().getKnex();
    await knex.raw(`create unlogged table bench_scratch (${Array.from({ length: 19 }, (_, i) => `c${i} text`).join(', ')})`);
    t = performance.now();
    await knex.transaction(async (trx) => {
      let batch: string[][] = [];
      const flush = async () => {
        if (!batch.length) return;
        const placeholders = batch.map(() => `(${Array(19).fill('?').join(',')})`).join(',');
        await trx.raw(`insert into bench_scratch values ${placeholders}`, batch.flat());
        batch = [];
      };
      let header = true;
      for await (const r of readCsv(createReadStream(file, { encoding: 'utf8' }))) {
        if (header) {
          header = false;
          continue;
        }
        batch.push(r.cells);
        if (batch.length === 1000) await flush();
      }
      await flush();
    });
    const ceilingMs = performance.now() - t;

    const c = first.created;
    const lines = [
      `rows               ${num(ROWS)} (generated in ${secs(generateMs)}; ${num(c.parents)} parents, ${num(c.links)} links)`,
      `import             ${secs(first.ms)}  ${num(ROWS / (first.ms / 1000))} rows/s  (created ${num(c.children)} children, ${num(c.placements)} placements, ${num(c.consents)} consents)`,
      `re-import          ${secs(second.ms)}  ${num(ROWS / (second.ms / 1000))} rows/s  (all unchanged)`,
      `peak RSS           ${mb(rssImport)} import (${mb(rssBefore)} before it); ${mb(second.maxRssKb)} re-import (in a process of its own)`,
      `ceiling            ${secs(ceilingMs)}  ${num(ROWS / (ceilingMs / 1000))} rows/s  (bare multi-row INSERT of the same rows into one scratch table)`,
      `ratio              import ${(first.ms / ceilingMs).toFixed(1)}x the ceiling, re-import ${(second.ms / ceilingMs).toFixed(1)}x`,
      `database           ${portal.database.embedded ? 'embedded PostgreSQL' : portal.database.url}`,
      `targets            10,000 rows < 10 s: ${ROWS >= 10_000 ? (first.ms * (10_000 / ROWS) < 10_000 ? 'met (scaled)' : 'MISSED') : 'n/a'}; ` +
        `peak RSS < 300 MB at 100,000 rows: ${ROWS >= 100_000 ? (rssImport / 1024 < 300 ? 'met' : 'MISSED') : 'n/a (run with --rows 100000)'}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await portal.close();
    await db.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.reimport) {
  const result = await importOnce(JSON.parse(values.reimport) as Record<string, unknown>, values.file!);
  process.stdout.write(JSON.stringify(result));
} else {
  await main();
}
