/**
 * Benchmark of the nightly export beside its ceiling, interleaved in the same run:
 *   - data: 2,000,000 schriftje entries (5,000 children × 400 days), generated in PostgreSQL with
 *     one insert … select generate_series;
 *   - ours: `portal export --tables diary_entry` as the cron job runs it, in a process of its own
 *     (the real code path: REPEATABLE READ snapshot, COPY … TO STDOUT, ndjson lines built from
 *     COPY's text format, sha256, fsync, rename), as ndjson and ndjson+gzip (csv with --csv);
 *     wall time of the whole command, the streaming part alone (the manifest's snapshotAt to
 *     writtenAt: no process start, no connect), and the process's peak RSS (`/usr/bin/time -v`,
 *     the kernel's maximum resident set of that process);
 *   - ceiling: `psql -c "\copy (select * from diary_entry) to FILE csv"`: PostgreSQL's own COPY of
 *     the same rows to a file, no JSON, no hashing, no fsync.
 * Each round runs COPY, then ours, for each format in turn (COPY, ndjson, COPY, gzip, …), so a
 * busy machine slows both sides alike; min, median and max (p99 of so few runs) of each, the
 * ratio of the medians.
 *
 *   PORTAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/export.ts [--rows 2000000]
 *     [--rounds 3] [--csv] [--keep] [--reuse DATABASE_URL]   (keep the generated data / run again on data kept earlier)
 *
 * The command runs from a build of its own (node_modules/.cache/portal-bench-export), made once
 * at the start: bin/portal.mjs rebuilds dist/ when a source changed, and a rebuild inside a
 * measured run would count the compiler's time and memory as the export's.
 *
 * Targets: ndjson and gzip at least 0.5× COPY's rows per second; peak RSS at most 150 MB.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cliAdmin } from '../core/actor.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
// @ts-expect-error: a JavaScript module without types
import { ensureBuilt } from '../scripts/build.mjs';
import { benchPortal, num, secs } from './planning-export.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '3' },
    csv: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const CHILDREN = 5000;
const ROWS = Number(values.rows);
const ROUNDS = Number(values.rounds);
const DAYS = Math.ceil(ROWS / CHILDREN);

const GENERATE = [
  `insert into location (name, created_at, updated_at) values ('Bench', now(), now())`,
  `insert into care_group (location_id, name, created_at, updated_at) values (1, 'Bench', now(), now())`,
  `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at)
     select 'K' || i, 'Kind' || i, 'Bench', date '2023-01-01' + (i % 700), now(), now() from generate_series(1, ${CHILDREN}) i`,
  // What a day's entry looks like: a few sentences, two structured lines, no photos.
  `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
     select gen_random_uuid(), c, current_date - d, 'staff', 'Mia',
            'Vandaag goed gespeeld in de zandbak, lekker gegeten en een uur geslapen. Bij het ophalen was ze vrolijk.',
            '[{"label":"Slapen","text":"12:30-13:30"},{"label":"Eten en drinken","text":"alles op"}]'::jsonb, '[]'::jsonb, 1,
            now() - d * interval '1 day', now() - d * interval '1 day'
       from generate_series(0, ${DAYS - 1}) d, generate_series(1, ${CHILDREN}) c
      limit ${ROWS}`,
  'analyze',
];

/**
 * The command as an administrator's cron job runs it: bin/portal.mjs, which builds dist/ when a
 * source changed and sets the memory flags `portal export` runs with (so the bench measures them).
 */
const PORTAL_BIN = fileURLToPath(new URL('../bin/portal.mjs', import.meta.url));
const portalArgs = (args: string[]) => [PORTAL_BIN, ...args];

const maxRss = (stderr: string) => Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 'NaN') / 1024;

interface Sample {
  ms: number;
  streamMs: number;
  rss: number;
  rows: number;
  bytes: number;
}

/** Runs `portal export` in a process of its own under /usr/bin/time: wall time and peak RSS. */
async function ours(env: Record<string, string>, out: string, args: string[]): Promise<Sample> {
  const t = performance.now();
  const { stderr } = await run('/usr/bin/time', ['-v', process.execPath, ...portalArgs(['--json', 'export', '--out', out, '--tables', 'diary_entry', ...args])], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t;
  const dir = join(out, readdirSync(out).filter((n) => n.startsWith('export-')).sort().pop()!);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const file = manifest.files[0];
  rmSync(dir, { recursive: true, force: true });
  return { ms, streamMs: Date.parse(manifest.writtenAt) - Date.parse(manifest.snapshotAt), rss: maxRss(stderr), rows: file.rows as number, bytes: file.bytes as number };
}

async function copy(url: string, file: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy (select * from diary_entry) to '${file}' with (format csv)`]);
  const ms = performance.now() - t;
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  return { ms, bytes };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: number[]) => `min ${secs(Math.min(...xs))}, median ${secs(median(xs))}, max ${secs(Math.max(...xs))}`;

async function main() {
  // Built before the first sample, so no sample pays for a build.
  await ensureBuilt();
  const { db, portal } = await benchPortal(values.reuse);
  const out = mkdtempSync(join(tmpdir(), 'portal-bench-export-'));
  const lines: string[] = [];
  try {
    const connection = portal.em().getConnection();
    const t = performance.now();
    if (!values.reuse) {
      await initOrganisation(portal.em(), cliAdmin('bench'), { name: 'Bench', publicUrl: 'http://127.0.0.1', helpdeskEmail: 'help@example.nl' });
      for (const sql of GENERATE) await connection.execute(sql);
    }
    if (values.keep) console.log(`database kept: ${portal.database.url}`);
    const [{ n }] = (await connection.execute('select count(*)::int as n from diary_entry')) as [{ n: number }];
    // portal.database.url hides the password (embedded PostgreSQL has one); psql needs it.
    const url = String(portal.orm.config.get('clientUrl'));
    lines.push(`data        ${num(n)} schriftje entries: ${values.reuse ? 'reused' : `generated in ${secs(performance.now() - t)}`}; ${ROUNDS} rounds`);

    const env: Record<string, string> = { PORTAL_LOG_LEVEL: 'warn', PORTAL_DATA_DIR: String(db.flags['dataDir']) };
    if (db.flags['database.url']) env['PORTAL_DATABASE_URL'] = String(db.flags['database.url']);
    // Warm the table into the cache for both sides.
    await copy(url, join(out, 'warm.csv'));

    // What the same command costs before it exports a row: node, the CLI, the ORM, a connection.
    // (`db status` exits 2 while a migration is pending: its memory is measured all the same.)
    const idle = await run('/usr/bin/time', ['-v', process.execPath, ...portalArgs(['db', 'status'])], { env: { ...process.env, ...env } }).catch(
      (err: { stderr: string }) => err,
    );
    const idleRss = maxRss(idle.stderr);
    lines.push(`baseline    portal db status (same command, no export): peak RSS ${idleRss.toFixed(0)} MB`);

    const formats: [string, string[]][] = [
      ['ndjson', []],
      ['ndjson+gzip', ['--gzip']],
      ...(values.csv ? ([['csv', ['--format', 'csv']]] as [string, string[]][]) : []),
    ];
    const copies: number[] = [];
    let copyBytes = 0;
    const samples = new Map<string, Sample[]>(formats.map(([label]) => [label, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [label, args] of formats) {
        const c = await copy(url, join(out, 'copy.csv'));
        copies.push(c.ms);
        copyBytes = c.bytes;
        const r = await ours(env, out, args);
        if (r.rows !== n) throw new Error(`${label}: exported ${r.rows} rows, expected ${n}`);
        samples.get(label)!.push(r);
        process.stderr.write(`round ${round}: COPY ${secs(c.ms)}, ${label} ${secs(r.ms)} (${secs(r.streamMs)} streaming), RSS ${r.rss.toFixed(0)} MB\n`);
      }
    }
    const rate = (ms: number) => n / (ms / 1000);
    const copyMedian = median(copies);
    lines.push(
      `ceiling     psql \\copy (select * from diary_entry) to FILE csv, ${copies.length} runs: ${spread(copies)}; ${num(rate(copyMedian))} rows/s at the median, ${(copyBytes / 1e6).toFixed(0)} MB`,
    );
    for (const [label, args] of formats) {
      const s = samples.get(label)!;
      const whole = s.map((x) => x.ms);
      const stream = s.map((x) => x.streamMs);
      const rss = s.map((x) => x.rss);
      lines.push(
        `ours        portal export --tables diary_entry ${args.join(' ')} (${label}), ${s.length} runs, ${(s[0]!.bytes / 1e6).toFixed(0)} MB:`,
        `  whole     ${spread(whole)}`,
        `  streaming ${spread(stream)}`,
        `  peak RSS  max ${Math.max(...rss).toFixed(0)} MB, median ${median(rss).toFixed(0)} MB (+${(Math.max(...rss) - idleRss).toFixed(0)} MB over db status); target <= 150 MB`,
        `  ratio     of medians: ${(copyMedian / median(whole)).toFixed(2)}× COPY's rows/s for the whole command (${num(rate(median(whole)))} rows/s), ${(copyMedian / median(stream)).toFixed(2)}× streaming only (${num(rate(median(stream)))} rows/s); target >= 0.5×`,
      );
    }
    console.log(lines.join('\n'));
  } finally {
    rmSync(out, { recursive: true, force: true });
    await portal.close();
    if (!values.keep) await db.drop().catch(() => {});
  }
}

await main();
