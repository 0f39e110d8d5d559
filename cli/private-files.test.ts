import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateDir, refuseNonEmptyDir } from '../core/files/private.ts';
import { runCli } from '../test/cli.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';

/** The permission bits of a file or folder. */
const mode = (path: string) => statSync(path).mode & 0o777;

let portal: TestPortal;
let scratch: string;
const run = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATABASE_POOL_MAX: '2', PORTAL_DATA_DIR: portal.dataDir });

beforeAll(async () => {
  portal = await createTestPortal();
  scratch = mkdtempSync(join(tmpdir(), 'portal-private-'));
  for (const args of [
    ['init', '--name', 'Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl'],
    ['locations', 'add', '--name', 'Centrum'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2025-02-14', '--group', 'Boomhut'],
    ['parents', 'add', '--email', 'anna@example.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1'],
  ]) {
    const r = await run(args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
});
const umask = process.umask();
afterEach(() => {
  process.umask(umask);
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await portal?.destroy();
});

/** Every folder under (and including) `dir` and every file in them. */
function walk(dir: string): { dirs: string[]; files: string[] } {
  const out = { dirs: [dir], files: [] as string[] };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = walk(path);
      out.dirs.push(...sub.dirs);
      out.files.push(...sub.files);
    } else out.files.push(path);
  }
  return out;
}

for (const mask of [0o022, 0o000]) {
  describe(`private files under umask ${mask.toString(8).padStart(3, '0')}`, () => {
    it('portal export: the folders it makes are 0700 and every file 0600', async () => {
      process.umask(mask);
      const out = join(scratch, `export-${mask}`, 'nested', 'backups');
      const r = await run(['--json', 'export', '--out', out, '--gzip']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const folder of [join(scratch, `export-${mask}`), join(scratch, `export-${mask}`, 'nested'), out]) expect(mode(folder), folder).toBe(0o700);
      const { dirs, files } = walk(JSON.parse(r.stdout).dir);
      expect(files.length).toBeGreaterThan(5);
      for (const d of dirs) expect(mode(d), d).toBe(0o700);
      for (const f of files) expect(mode(f), f).toBe(0o600);
    });

    it('portal gdpr export: the ZIP 0600, a folder made for it 0700', async () => {
      process.umask(mask);
      const file = join(scratch, `gdpr-${mask}`, 'avg', 'anna.zip');
      const r = await run(['gdpr', 'export', 'anna@example.nl', '--out', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(mode(file)).toBe(0o600);
      expect(mode(join(scratch, `gdpr-${mask}`))).toBe(0o700);
      expect(mode(join(scratch, `gdpr-${mask}`, 'avg'))).toBe(0o700);
    });

    it('the rows an import rejects (children and parents): 0600, also over an earlier file', async () => {
      process.umask(mask);
      const csv = join(scratch, `planning-${mask}.csv`);
      writeFileSync(
        csv,
        'Locatie;Groep;Kindnummer;Roepnaam kind;Tussenvoegsel kind;Achternaam kind;Geboortedatum;Foto intern;Foto extern;E-mail ouder 1;Voornaam ouder 1;Tussenvoegsel ouder 1;Achternaam ouder 1;Mobiel ouder 1\n' +
          'Centrum;Boomhut;K1;Evi;;Berg;14-02-2025;Ja;Nee;anna@example.nl;Anna;;Berg;0612345678\n' +
          'Centrum;Boomhut;K9;Mees;;Berg;31-02-2025;Ja;Nee;anna@example.nl;Anna;;Berg;0612345678\n',
      );
      const rejected = join(scratch, `planning-${mask}.rejected.csv`);
      writeFileSync(rejected, 'an earlier run', { mode: 0o644 });
      const r = await run(['import', csv, '--skip-invalid']);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(rejected, 'utf8')).toContain('K9');
      expect(mode(rejected)).toBe(0o600);
    });

    it('.eml files (no SMTP): 0600 in a 0700 mail folder', async () => {
      process.umask(mask);
      rmSync(join(portal.dataDir, 'mail'), { recursive: true, force: true });
      const sent = await portal.mail.send({ to: 'anna@example.nl', from: 'portal@zon.nl', subject: 'Uitnodiging', text: 'Wachtwoord: x', html: '<p>x</p>' });
      expect(sent.where.endsWith('.eml')).toBe(true);
      expect(mode(join(portal.dataDir, 'mail'))).toBe(0o700);
      expect(mode(sent.where)).toBe(0o600);
      expect(readFileSync(sent.where, 'utf8')).toContain('Subject: Uitnodiging');
    });
  });
}

describe('private files whatever the umask', () => {
  it('a umask that takes the owner\'s own bits (0o277) still gives 0700 folders, made one inside the other', async () => {
    process.umask(0o277);
    const made = await ensurePrivateDir(join(scratch, 'strict', 'a', 'b'));
    expect(made).toEqual([join(scratch, 'strict'), join(scratch, 'strict', 'a'), join(scratch, 'strict', 'a', 'b')]);
    for (const d of made) expect(mode(d)).toBe(0o700);
  });

  it('a folder that was already there keeps its mode (an admin\'s /var/backups is theirs)', async () => {
    const existing = join(scratch, 'theirs');
    mkdirSync(existing, { mode: 0o750 });
    process.umask(0o022);
    const r = await run(['export', '--out', existing]);
    expect(r.code).toBe(0);
    expect(mode(existing)).toBe(0o750);
  });
});

describe('--out into a folder that holds other things', () => {
  it('portal export refuses it (exit 1), naming what is there and --force; nothing is written', async () => {
    const out = join(scratch, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'photos'));
    const r = await run(['export', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not empty \(it holds notes\.txt, photos\).*--force/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', 'photos']);

    const forced = await run(['export', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readdirSync(out).filter((n) => n.startsWith('export-'))).toHaveLength(1);
  });

  it('earlier exports are expected: the nightly job writes into the same folder every night', async () => {
    const out = join(scratch, 'nightly');
    expect((await run(['export', '--out', out])).code).toBe(0);
    const second = await run(['export', '--out', out]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(readdirSync(out).filter((n) => n.startsWith('export-'))).toHaveLength(2);
  });

  it('a name that only looks like an export is not let through', async () => {
    const out = join(scratch, 'lookalike');
    mkdirSync(join(out, 'export-passwords'), { recursive: true });
    await expect(refuseNonEmptyDir(out, { expected: (n) => n === 'nothing' })).rejects.toThrow(/export-passwords/);
    const r = await run(['export', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/export-passwords/);
  });

  it('portal gdpr export refuses an existing file without --force, and replaces it with', async () => {
    const file = join(scratch, 'existing.zip');
    writeFileSync(file, 'old');
    const r = await run(['gdpr', 'export', 'anna@example.nl', '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(file, 'utf8')).toBe('old');
    const forced = await run(['gdpr', 'export', 'anna@example.nl', '--out', file, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file).subarray(0, 2).toString()).toBe('PK');
    expect(mode(file)).toBe(0o600);
  });
});
