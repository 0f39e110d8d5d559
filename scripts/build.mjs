// Compiles the `portal` command (cli/main.ts and everything it imports) to JavaScript in dist/,
// so that running it does not start a TypeScript compiler: `npm install` builds it (the
// "prepare" script), and bin/portal.mjs rebuilds first when a source changed since.
//
//   node scripts/build.mjs [--outdir DIR]    build now (default dist/; DIR inside the project,
//                                            where the imports of dependencies resolve)
//
// Layout: dist/build.json names the current build folder (dist/b-…/main.js plus lazy chunks)
// and the modification time of every file that went into it. Each build goes to a new folder
// and build.json is replaced in one rename, so a process never sees half a build, and one that
// still runs an older build (a server) keeps its chunks until two newer builds exist.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const DIST = join(ROOT, 'dist');
const STAMP = 'build.json';
/** Files that shape the build without being bundled into it. */
const SETTINGS = ['package.json', 'tsconfig.json', 'scripts/build.mjs'];
/** Older builds kept for processes still running them (their lazy chunks load late). */
const KEEP = 2;

/**
 * @typedef {{ dir: string; inputs: Record<string, number> }} Stamp
 * @typedef {{ entry: string; built: boolean }} Built
 */

/** @returns {Stamp | undefined} */
function readStamp(outdir) {
  try {
    return JSON.parse(readFileSync(join(outdir, STAMP), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The build is there and no file that went into it changed (one stat per file: a few ms). */
function isCurrent(outdir, stamp) {
  if (!stamp || !existsSync(join(outdir, stamp.dir, 'main.js'))) return false;
  return Object.entries(stamp.inputs).every(([file, mtime]) => statSync(join(ROOT, file), { throwIfNoEntry: false })?.mtimeMs === mtime);
}

const entryOf = (outdir, stamp) => join(outdir, stamp.dir, 'main.js');

/**
 * The entry module of a build that matches the sources, building it first when needed. Two
 * processes that find the build stale at once take turns under a lock; the second then finds
 * the first one's build current. Where dist/ cannot be written (installed read-only) a stale
 * build is used as it is, with a warning.
 * @returns {Promise<Built>}
 */
export async function ensureBuilt({ outdir = DIST } = {}) {
  const stamp = readStamp(outdir);
  if (isCurrent(outdir, stamp)) return { entry: entryOf(outdir, stamp), built: false };
  try {
    mkdirSync(outdir, { recursive: true });
    return await withLock(join(outdir, '.lock'), async () => {
      const again = readStamp(outdir);
      if (isCurrent(outdir, again)) return { entry: entryOf(outdir, again), built: false };
      return { entry: entryOf(outdir, await build({ outdir })), built: true };
    });
  } catch (err) {
    if (!['EACCES', 'EPERM', 'EROFS'].includes(err.code) || !stamp || !existsSync(entryOf(outdir, stamp))) throw err;
    process.stderr.write(`portal: warning: the sources changed but ${outdir} cannot be rebuilt (${err.code}); running the build there\n`);
    return { entry: entryOf(outdir, stamp), built: false };
  }
}

/** Builds into a new folder of `outdir`, then makes it the current build. @returns {Promise<Stamp>} */
export async function build({ outdir = DIST } = {}) {
  const esbuild = await import('esbuild');
  const started = Date.now();
  const dir = `b-${started.toString(36)}-${process.pid}`;
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts' },
    outdir: join(outdir, dir),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies stay in node_modules: bundling them would copy native and CommonJS packages.
    packages: 'external',
    // Each dynamic import() becomes a chunk that loads when it runs: `portal --help` loads no ORM.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    metafile: true,
    logLevel: 'error',
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...SETTINGS]) {
    const mtime = statSync(join(ROOT, file)).mtimeMs;
    // Changed while esbuild read it: which version went in is unknown, so the next run rebuilds.
    inputs[file] = mtime >= started ? 0 : mtime;
  }
  // Generated code is not ours to lint: `biome check .` skips the folder (a nested config).
  writeFileSync(join(outdir, 'biome.json'), '{ "root": false, "extends": "//", "linter": { "enabled": false }, "assist": { "enabled": false } }\n');
  const stamp = { dir, inputs };
  const tmp = join(outdir, `${STAMP}.${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(stamp, null, 1)}\n`);
  renameSync(tmp, join(outdir, STAMP));
  prune(outdir, dir);
  return stamp;
}

/** Removes all but the current build and the KEEP newest before it (b-<start time>-<pid>). */
function prune(outdir, current) {
  const builds = readdirSync(outdir)
    .filter((name) => name.startsWith('b-') && name !== current)
    .map((name) => ({ name, started: Number.parseInt(name.split('-')[1] ?? '', 36) }))
    .sort((a, b) => b.started - a.started);
  for (const { name } of builds.slice(KEEP)) rmSync(join(outdir, name), { recursive: true, force: true });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * One builder at a time (O_EXCL lock file holding the pid; stale when that process is gone).
 * The lock only saves work: each build has its own folder and build.json is replaced in one
 * rename, so two builds that do overlap still leave a whole, current build.
 */
async function withLock(file, fn) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = Number.NaN;
      let age = 0;
      try {
        holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      // No pid yet: its holder is writing it (or died doing so, seconds ago).
      if (Number.isNaN(holder) ? age > 5_000 : !alive(holder)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by pid ${holder})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at > 0 ? resolve(process.argv[at + 1] ?? '') : DIST;
  try {
    mkdirSync(outdir, { recursive: true });
    const stamp = await withLock(join(outdir, '.lock'), () => build({ outdir }));
    process.stdout.write(`built ${join(outdir, stamp.dir)} (${Object.keys(stamp.inputs).length} files)\n`);
  } catch {
    process.exitCode = 1; // esbuild printed the errors
  }
}
