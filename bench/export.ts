/**
 * Benchmark of the nightly export beside its ceiling in the same run:
 *   - data: 2,000,000 schriftje entries (5,000 children × 400 days), generated in PostgreSQL with
 *     one insert … select generate_series;
 *   - ours: `portal export --tables diary_entry` as the cron job runs it (its own process, the real
 *     code path: REPEATABLE READ snapshot, COPY … TO STDOUT per table, sha256, fsync, rename), as
 *     ndjson, csv and ndjson+gzip; wall time of the whole command and peak RSS (`/usr/bin/time -v`);
 *   - ceiling: `psql -c "\copy (select * from diary_entry) to FILE csv"`: PostgreSQL's own COPY of
 *     the same rows to a file, no ordering, no hashing, no fsync.
 *
 *   PORTAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/export.ts [--rows 2000000]
 *     [--keep] [--reuse DATABASE_URL]   (keep the generated data / run again on data kept earlier)
 *
 * Targets: at least 50% of COPY's rows per second; peak RSS under 150 MB.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cliAdmin } from '../core/actor.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { benchPortal, num, secs } from './planning-export.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const CHILDREN = 5000;
const ROWS = Number(values.rows);
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

const bin = fileURLToPath(new URL('../bin/portal.mjs', import.meta.url));

/** Runs `portal export` in a process of its own under /usr/bin/time: wall time and peak RSS. */
async function ours(env: Record<string, string>, out: string, args: string[]) {
  const t = performance.now();
  const { stderr } = await run('/usr/bin/time', ['-v', process.execPath, bin, '--json', 'export', '--out', out, '--tables', 'diary_entry', ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t;
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 'NaN') / 1024;
  const dir = join(out, readdirSync(out).filter((n) => n.startsWith('export-')).sort().pop()!);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const file = manifest.files[0];
  // Streaming only: from the snapshot to the last file written (no process start, no connect).
  const streamMs = Date.parse(manifest.writtenAt) - Date.parse(manifest.snapshotAt);
  rmSync(dir, { recursive: true, force: true });
  return { ms, streamMs, rss, rows: file.rows as number, bytes: file.bytes as number };
}

async function copy(url: string, file: string) {
  const t = performance.now();
  await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy (select * from diary_entry) to '${file}' with (format csv)`]);
  const ms = performance.now() - t;
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  return { ms, bytes };
}

async function main() {
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
    lines.push(`data        ${num(n)} schriftje entries: ${values.reuse ? 'reused' : `generated in ${secs(performance.now() - t)}`}`);

    const env: Record<string, string> = { PORTAL_LOG_LEVEL: 'warn', PORTAL_DATA_DIR: String(db.flags['dataDir']) };
    if (db.flags['database.url']) env['PORTAL_DATABASE_URL'] = String(db.flags['database.url']);
    // Warm the table into the cache for both sides.
    await copy(url, join(out, 'warm.csv'));

    // What the same command costs before it exports a row: the CLI, tsx, the ORM, a connection.
    const idle = await run('/usr/bin/time', ['-v', process.execPath, bin, 'db', 'status'], { env: { ...process.env, ...env } });
    const idleRss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(idle.stderr)?.[1] ?? 'NaN') / 1024;
    lines.push(`baseline    portal db status (same process, no export): peak RSS ${idleRss.toFixed(0)} MB`);

    const ceiling = await copy(url, join(out, 'copy.csv'));
    const rate = (rows: number, ms: number) => rows / (ms / 1000);
    const copyRate = rate(n, ceiling.ms);
    lines.push(`ceiling     psql \\copy (select * from diary_entry) to FILE csv: ${secs(ceiling.ms)}, ${num(Math.round(copyRate))} rows/s, ${(ceiling.bytes / 1e6).toFixed(0)} MB`);
    for (const [label, args] of [
      ['ndjson', []],
      ['csv', ['--format', 'csv']],
      ['ndjson+gzip', ['--gzip']],
    ] as const) {
      const r = await ours(env, out, [...args]);
      if (r.rows !== n) throw new Error(`${label}: exported ${r.rows} rows, expected ${n}`);
      const whole = rate(r.rows, r.ms);
      const stream = rate(r.rows, r.streamMs);
      lines.push(
        `ours        portal export --tables diary_entry ${args.join(' ')}: ${secs(r.ms)} whole command (${secs(r.streamMs)} streaming), ${(r.bytes / 1e6).toFixed(0)} MB, peak RSS ${r.rss.toFixed(0)} MB (+${(r.rss - idleRss).toFixed(0)} MB over db status)`,
        `  ratio     ${((whole / copyRate) * 100).toFixed(0)}% of COPY's rows/s for the whole command (${num(Math.round(whole))} rows/s), ${((stream / copyRate) * 100).toFixed(0)}% streaming only (${num(Math.round(stream))} rows/s); target >= 50%, RSS < 150 MB`,
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
