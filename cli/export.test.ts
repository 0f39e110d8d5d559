import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

let source: string;
let target: string;
let out: string;
const run = (db: string, args: string[]) => runCli(args, { PORTAL_DATABASE_URL: db, PORTAL_DATABASE_POOL_MAX: '2' });

beforeAll(async () => {
  source = await createTestDatabase();
  target = await createTestDatabase();
  out = mkdtempSync(join(tmpdir(), 'portal-cli-export-'));
  for (const args of [
    ['init', '--name', 'Kinderopvang Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl'],
    ['locations', 'add', '--name', 'Centrum'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2025-02-14', '--group', 'Boomhut'],
    ['parents', 'add', '--email', 'anna@example.nl', '--first-name', '=HYPERLINK("x")', '--last-name', 'Berg', '--child', 'K1'],
  ]) {
    const r = await run(source, args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('portal export / restore from cron', () => {
  let dir: string;

  it('exports, prints where, exits 0', async () => {
    const r = await run(source, ['--json', 'export', '--out', out, '--format', 'csv', '--gzip']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    dir = result.dir;
    expect(result.complete).toBe(true);
    expect(result.files.find((f: { table: string }) => f.table === 'parent')).toMatchObject({ file: 'parent.csv.gz', rows: 1 });
    expect(readdirSync(out)).toEqual([dir.split('/').pop()]);
  });

  it('fails with one line on stderr and no folder when it cannot write', async () => {
    const file = join(out, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await run(source, ['export', '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^portal: out: cannot write into .*not-a-folder/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await run(source, ['export', '--out', out, '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^portal: --format: "xml" is not ndjson or csv\n$/);
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('restores into an empty database, and refuses one that is not', async () => {
    const r = await run(target, ['restore', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Restored \d+ row\(s\) in \d+ table\(s\)/);
    const list = await run(target, ['--json', 'parents', 'list']);
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ email: 'anna@example.nl', firstName: '=HYPERLINK("x")' });
    const again = await run(target, ['restore', dir]);
    expect(again.code).toBe(3); // a conflict
    expect(again.stderr).toMatch(/^portal: the database is not empty .*\n$/);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
  });
});
