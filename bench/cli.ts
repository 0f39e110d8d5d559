/**
 * What starting `portal` costs, beside starting Node itself, in the same run:
 *   - `node -e 0`: the floor;
 *   - `portal --help`: the command table only (no ORM, no web stack);
 *   - `portal db status`: configuration, the ORM and one query against a running database.
 * Rounds interleave the three, so a busy machine slows all of them alike. Each run is its own
 * process (as bin/portal.mjs is started); wall time from spawn to exit, and peak RSS from
 * `process.resourceUsage().maxRSS`, written at exit by a one-line preload given to all three.
 *
 *   npx tsx bench/cli.ts [--rounds 15]
 *
 * The database: PORTAL_DATABASE_URL when set, else the embedded PostgreSQL in a throwaway data
 * folder, kept running by a `portal serve` for the length of the run (so `db status` measures
 * the command, not starting PostgreSQL).
 *
 * Targets: `--help` at most 3× bare Node and under 100 MB; `db status` under 120 MB.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(values.rounds);
const bin = fileURLToPath(new URL('../bin/portal.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'portal-bench-cli-'));
const rssFile = join(scratch, 'rss');
// A folder of its own: the embedded PostgreSQL (run as user postgres under root) is given it.
const dataDir = mkdtempSync(join(tmpdir(), 'portal-bench-cli-data-'));
const preload = `data:text/javascript,${encodeURIComponent(
  `import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));`,
)}`;

interface Case {
  name: string;
  args: string[];
  /** Exit codes that count as a run (db status is 2 with migrations pending: still measured). */
  ok: number[];
  ms: number[];
  rssMb: number[];
}

const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], ok: [0], ms: [], rssMb: [] },
  { name: 'portal --help', args: [bin, '--help'], ok: [0], ms: [], rssMb: [] },
  { name: 'portal db status', args: [bin, 'db', 'status'], ok: [0, 2], ms: [], rssMb: [] },
];

function once(c: Case, env: NodeJS.ProcessEnv): { ms: number; rssMb: number } {
  rmSync(rssFile, { force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', preload, ...c.args], { env, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (!c.ok.includes(r.status ?? -1)) throw new Error(`${c.name} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

/** Starts `portal serve` on the embedded database of `dataDir`; resolves once it runs. */
function holdEmbedded(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      if (/is running at/.test(output)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`portal serve exited with ${code}:\n${output}`)));
  });
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
/** Nearest rank: with fewer than 100 runs, the slowest. */
const p99 = (xs: number[]) => sorted(xs)[Math.ceil(0.99 * xs.length) - 1]!;

async function main() {
  const embedded = !process.env.PORTAL_DATABASE_URL;
  const env: NodeJS.ProcessEnv = { ...process.env, PORTAL_DATA_DIR: dataDir, PORTAL_LOG_LEVEL: 'warn' };
  let server: ChildProcess | undefined;
  try {
    if (embedded) server = await holdEmbedded({ ...env, PORTAL_DATABASE_URL: '' });
    // A round not counted: builds dist/ when a source changed, warms the file cache.
    for (const c of cases) once(c, env);
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const { ms, rssMb } = once(c, env);
        c.ms.push(ms);
        c.rssMb.push(rssMb);
      }
    }
  } finally {
    if (server) {
      const held = server;
      const exited = new Promise((r) => held.once('exit', r));
      held.kill('SIGTERM');
      await exited;
    }
    rmSync(scratch, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }

  const floor = median(cases[0]!.ms);
  const [, help, status] = cases;
  console.log(`${ROUNDS} rounds, Node ${process.version}, database: ${embedded ? 'embedded (held by portal serve)' : 'PORTAL_DATABASE_URL'}`);
  console.log(`${'command'.padEnd(18)}${'median'.padStart(9)}${'p99'.padStart(9)}${'max RSS'.padStart(10)}${'× node'.padStart(8)}`);
  for (const c of cases) {
    const max = Math.max(...c.rssMb);
    console.log(
      `${c.name.padEnd(18)}${`${median(c.ms).toFixed(0)} ms`.padStart(9)}${`${p99(c.ms).toFixed(0)} ms`.padStart(9)}${`${max.toFixed(0)} MB`.padStart(10)}${(median(c.ms) / floor).toFixed(1).padStart(8)}`,
    );
  }
  const targets: [string, boolean][] = [
    ['--help at most 3× bare node', median(help!.ms) <= 3 * floor],
    ['--help under 100 MB', Math.max(...help!.rssMb) < 100],
    ['db status under 120 MB', Math.max(...status!.rssMb) < 120],
  ];
  for (const [name, met] of targets) console.log(`${met ? 'ok  ' : 'MISS'} ${name}`);
  if (targets.some(([, met]) => !met)) process.exitCode = 1;
}

await main();
