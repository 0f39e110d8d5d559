import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';
import { createProgram, loadAllCommands } from './program.ts';

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});

const portal = (args: string[], env: Record<string, string> = {}, isTTY = false) =>
  runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2', ...env }, isTTY);

const json = async (args: string[]) => {
  const r = await portal(['--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

/** Table rows of `list` output, as arrays of cells split on the column gaps. */
const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/));

describe('portal provisioning from the terminal', () => {
  beforeAll(async () => {
    const init = await portal(['init', '--name', 'Kinderopvang Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl']);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/Organisation set up/);
    for (const args of [
      ['locations', 'add', '--name', 'Heerlen Centrum', '--phone', '045 123 45 67', '--opening-hours', 'ma-vr 7:00-18:30'],
      ['groups', 'add', '--location', 'Heerlen Centrum', '--name', 'Boomhut', '--capacity', '12'],
      ['groups', 'add', '--location', 'Heerlen Centrum', '--name', 'Kikkers'],
      ['children', 'add', '--number', 'K10001', '--first-name', 'Aylin', '--last-name', 'Visser', '--birth-date', '21-01-2025', '--group', 'Boomhut', '--start', '2025-06-01'],
      ['children', 'add', '--number', 'K10002', '--first-name', 'Evi', '--infix', 'van den', '--last-name', 'Berg', '--birth-date', '2025-02-14', '--group', 'Heerlen Centrum/Kikkers', '--start', '2025-06-01'],
      ['parents', 'add', '--email', 'Linda.Visser@Example.nl', '--first-name', 'Linda', '--last-name', 'Visser', '--child', 'K10001'],
      ['staff', 'add', '--email', 'mia@zon.nl', '--first-name', 'Mia', '--last-name', 'Bos', '--role', 'staff'],
      ['staff', 'add', '--email', 'hoofd@zon.nl', '--first-name', 'Hans', '--last-name', 'Hoofd', '--role', 'manager'],
    ]) {
      const r = await portal(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  });

  it('prints readable tables', async () => {
    const r = await portal(['children', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NUMBER\s+NAME\s+BORN\s+GROUP\s+INTERNAL\s+EXTERNAL$/);
    expect(rows(r.stdout)).toEqual([
      ['K10002', 'Evi van den Berg', '2025-02-14', 'Heerlen Centrum/Kikkers', 'nee', 'nee'],
      ['K10001', 'Aylin Visser', '2025-01-21', 'Heerlen Centrum/Boomhut', 'nee', 'nee'],
    ]);
  });

  it('prints JSON for scripts', async () => {
    const groups = await json(['groups', 'list']);
    expect(groups.map((g: { name: string; children: number }) => [g.name, g.children])).toEqual([
      ['Boomhut', 1],
      ['Kikkers', 1],
    ]);
    const parent = await json(['parents', 'show', 'linda.visser@example.nl']);
    expect(parent.children).toEqual([{ childNumber: 'K10001', name: 'Aylin Visser' }]);
  });

  it('records consent with history', async () => {
    expect((await portal(['consent', 'set', 'K10001', '--internal', 'ja', '--external', 'nee'])).code).toBe(0);
    expect((await portal(['consent', 'set', 'K10001', '--internal', 'nee', '--external', 'nee', '--note', 'ingetrokken door moeder'])).code).toBe(0);
    const c = await json(['consent', 'show', 'K10001']);
    expect(c.current).toMatchObject({ internal: false, external: false, source: 'cli', note: 'ingetrokken door moeder' });
    expect(c.current.recordedBy).toMatch(/^cli:/);
    expect(c.history).toHaveLength(2);
    const missing = await json(['consent', 'list', '--missing']);
    expect(missing.map((x: { childNumber: string }) => x.childNumber).sort()).toEqual(['K10001', 'K10002']);
  });

  it('links parents, assigns staff, moves a child and sets a manager', async () => {
    expect((await portal(['parents', 'link', 'LINDA.VISSER@example.nl', 'K10002'])).code).toBe(0);
    expect((await json(['parents', 'show', 'linda.visser@example.nl'])).children).toHaveLength(2);
    expect((await portal(['parents', 'unlink', 'linda.visser@example.nl', 'K10002'])).code).toBe(0);
    expect((await portal(['staff', 'assign', 'mia@zon.nl', '--group', 'Boomhut'])).stdout).toMatch(/now works at Boomhut/);
    expect((await portal(['locations', 'update', 'Heerlen Centrum', '--manager', 'hoofd@zon.nl'])).code).toBe(0);
    const staff = await json(['staff', 'list', '--location', 'Heerlen Centrum']);
    expect(staff.map((s: { email: string; assignments: string[] }) => [s.email, s.assignments])).toEqual([
      ['mia@zon.nl', ['Heerlen Centrum/Boomhut']],
      ['hoofd@zon.nl', ['Heerlen Centrum']],
    ]);
    const moved = await json(['children', 'move', 'K10002', '--group', 'Boomhut']);
    expect(moved.group).toBe('Heerlen Centrum/Boomhut');
    expect(moved.placements).toHaveLength(2);
  });

  it('refuses to remove a group with children, and needs --yes in a script', async () => {
    const noYes = await portal(['groups', 'remove', 'Kikkers']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const busy = await portal(['groups', 'remove', 'Boomhut', '--yes']);
    expect(busy.code).toBe(3); // a conflict
    expect(busy.stderr).toMatch(/still has 2 current or planned placement/);
    expect((await portal(['groups', 'remove', 'Kikkers', '--yes'])).code).toBe(0);
    expect((await json(['groups', 'list'])).map((g: { name: string }) => g.name)).toEqual(['Boomhut']);
  });
});

describe('bad input: one clear line, non-zero exit, nothing written', () => {
  // The exit code: 1 for invalid input, 3 for not found or a conflict.
  const cases: [string, string[], RegExp, number][] = [
    ['unknown group', ['children', 'add', '--number', 'K9', '--first-name', 'A', '--last-name', 'B', '--birth-date', '2024-01-01', '--group', 'Nergens'], /group "Nergens" not found/, 3],
    ['birth date in the future', ['children', 'add', '--number', 'K9', '--first-name', 'A', '--last-name', 'B', '--birth-date', '01-01-2999'], /birthDate: lies in the future/, 1],
    ['impossible date', ['children', 'add', '--number', 'K9', '--first-name', 'A', '--last-name', 'B', '--birth-date', '31-02-2024'], /birthDate: "31-02-2024" is not a date/, 1],
    ['duplicate e-mail in another case', ['parents', 'add', '--email', ' LINDA.visser@EXAMPLE.NL', '--first-name', 'L', '--last-name', 'V'], /already exists/, 3],
    ['consent other than yes/no', ['consent', 'set', 'K10001', '--internal', 'misschien', '--external', 'nee'], /internal: "misschien" is not yes or no/, 1],
    ['invalid e-mail', ['staff', 'add', '--email', 'not-an-address', '--first-name', 'A', '--last-name', 'B', '--role', 'staff'], /email: is not a valid e-mail address/, 1],
    ['unknown role', ['staff', 'add', '--email', 'x@zon.nl', '--first-name', 'A', '--last-name', 'B', '--role', 'boss'], /role: must be one of staff, manager, admin/, 1],
  ];
  for (const [name, args, message, code] of cases) {
    it(name, async () => {
      const before = await json(['children', 'list', '--all']);
      const beforeParents = await json(['parents', 'list']);
      const r = await portal(args);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await json(['children', 'list', '--all'])).toEqual(before);
      expect(await json(['parents', 'list'])).toEqual(beforeParents);
    });
  }

  it('a missing required option is a usage error (exit 2)', async () => {
    const r = await portal(['locations', 'add']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '--name <name>' not specified/);
  });

  it('init in a script without the flags says which are missing', async () => {
    const fresh = await createTestDatabase();
    const r = await portal(['init', '--name', 'X'], { PORTAL_DATABASE_URL: fresh });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --url, --helpdesk-email/);
  });

  it('an invalid setting lists every problem with key, value and source (exit 2)', async () => {
    const r = await portal(['locations', 'list'], { PORTAL_PORT: 'abc', PORTAL_LOG_LEVEL: 'loud' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/server\.port = "abc" \(PORTAL_PORT\): expected a whole number/);
    expect(r.stderr).toMatch(/log\.level = "loud" \(PORTAL_LOG_LEVEL\)/);
  });

  it('an unreachable database is exit 2 (configuration) with the address, without the password', async () => {
    const r = await portal(['locations', 'list'], { PORTAL_DATABASE_URL: 'postgres://u:s3cret@127.0.0.1:1/x' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/);
    expect(r.stderr).not.toMatch(/s3cret/);
  });
});

describe('help', () => {
  it('every command has a description and its own --help', async () => {
    // Commands load lazily: load them all to walk every subcommand.
    const program = await loadAllCommands(createProgram({ stdout() {}, stderr() {}, env: {}, cwd: '.', isTTY: false }));
    const walk = (cmd: Command, path: string[]): string[][] =>
      cmd.commands.flatMap((c) => [[...path, c.name()], ...walk(c, [...path, c.name()])]);
    const paths = walk(program, []);
    expect(paths.length).toBeGreaterThan(25);
    for (const path of paths) {
      const r = await portal([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/^Usage: portal /);
      const cmd = path.reduce<Command>((c, name) => c.commands.find((x) => x.name() === name)!, program);
      expect(cmd.description(), path.join(' ')).not.toBe('');
    }
    const top = await portal(['--help']);
    expect(top.stdout).toMatch(/Exit codes:/);
  });
});

