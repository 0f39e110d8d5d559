import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/portal.ts';

/**
 * `portal … | head -1`: the reader leaves before (or while) the command writes. Node ignores
 * SIGPIPE, so the write fails with EPIPE; the command must end quietly with its own exit code
 * instead of a stack trace and exit 1. Real processes, real pipes.
 */

const bin = join(import.meta.dirname, '..', 'bin', 'portal.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'portal-pipe-'));
const outDir = mkdtempSync(join(tmpdir(), 'portal-pipe-out-'));
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  env = { ...process.env, PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: await createTestDatabase(), PORTAL_LOG_LEVEL: 'warn' };
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

/**
 * Runs `portal …` with stdout a pipe whose reading end is closed at once, long before the
 * command (which needs a moment to load) writes to it: every write meets a closed pipe.
 */
function withClosedStdout(...args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portal ${args.join(' ')} did not end within 30 s: ${stderr}`));
    }, 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('output into a pipe that closes early', () => {
  it('portal --help into a closed pipe ends quietly with exit 0', async () => {
    const r = await withClosedStdout('--help');
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('portal --help | head -1 in a shell with pipefail: the first line, exit 0, nothing on stderr', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" --help | head -1`], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Usage: portal [options] [command]\n');
    expect(r.status).toBe(0);
  });

  it('portal --json children list into a closed pipe: the command finishes, closes the database, exit 0', async () => {
    const r = await withClosedStdout('--json', 'children', 'list');
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('portal export into a closed pipe: the export is still complete, exit 0', async () => {
    const r = await withClosedStdout('export', '--out', outDir);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
    // Only the confirmation was lost, not the export: one finished folder, no .partial.
    expect(readdirSync(outDir)).toEqual([expect.stringMatching(/^export-/)]);
  });

  it('a failing command into a closed pipe still reports on stderr with its own exit code', async () => {
    const r = await withClosedStdout('children', 'show', 'K99999');
    expect(r.stderr).toMatch(/^portal: /);
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.code).toBe(3); // not found
  });
});
