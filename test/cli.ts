import { beforeAll, expect } from 'vitest';
import type { CliIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { ShiftedClock } from '../core/clock.ts';
import { createTestDatabase, TEST_NOW } from './portal.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The commands of one test file share one clock that starts at the tests' pinned time and runs
 * on, so that each command comes after the one before, as at a terminal.
 */
const cliClock = new ShiftedClock(TEST_NOW);

/**
 * Runs one `portal` command in this process, as a script would (no terminal unless isTTY), on
 * the tests' clock, or on `env.PORTAL_CLOCK` when the test sets it.
 */
export async function runCli(args: string[], env: Record<string, string | undefined>, isTTY = false): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    cwd: process.cwd(),
    clock: env.PORTAL_CLOCK ? undefined : cliClock,
    isTTY,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/**
 * `portal …` against the environment `env()` returns when it runs (set in beforeAll), and its
 * `--json` twin, which fails the test unless the command succeeded and parses its output.
 */
export function cliAgainst(env: () => Record<string, string | undefined>) {
  const cli = (...args: string[]) => runCli(args, env());
  const json = async (...args: string[]) => {
    const r = await cli('--json', ...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout);
  };
  return { cli, json };
}

/**
 * The command lines that make the CLI suites' small organisation: Zon, location Centrum with
 * groups Boomhut and Egeltjes, and Evi (K1) in Boomhut. Suites add what they need after it.
 */
export const ZON_CENTRUM: readonly string[][] = [
  ['init', '--name', 'Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl'],
  ['locations', 'add', '--name', 'Centrum'],
  ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
  ['groups', 'add', '--location', 'Centrum', '--name', 'Egeltjes'],
  ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut', '--start', '2025-01-06'],
];

/** Mia (Boomhut) and Otto (Egeltjes), staff of the Zon organisation above. */
export const ZON_STAFF: readonly string[][] = [
  ['staff', 'add', '--email', 'mia@zon.nl', '--first-name', 'Mia', '--last-name', 'Jansen', '--role', 'staff'],
  ['staff', 'assign', 'mia@zon.nl', '--group', 'Boomhut'],
  ['staff', 'add', '--email', 'otto@zon.nl', '--first-name', 'Otto', '--last-name', 'Smit', '--role', 'staff'],
  ['staff', 'assign', 'otto@zon.nl', '--group', 'Egeltjes'],
];

/**
 * A CLI suite on a database of its own: before its tests, the Zon organisation (ZON_CENTRUM) and
 * then `more` are made through the CLI, each command succeeding. Returns `portal …` and its --json twin.
 */
export function zonSuite(more: readonly string[][]) {
  let dbUrl = '';
  const suite = cliAgainst(() => ({ PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }));
  beforeAll(async () => {
    dbUrl = await createTestDatabase();
    for (const args of [...ZON_CENTRUM, ...more]) {
      const r = await suite.cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
  return suite;
}
