import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';
import { PLANNING_SAMPLE } from '../test/fixtures.ts';
import { windows1252 } from '../test/fixtures/windows-1252.ts';

const samplePath = PLANNING_SAMPLE;
const sample = readFileSync(samplePath, 'utf8');
const header = sample.replace(/^\uFEFF/, '').split('\r\n')[0]!;
const sampleRow = (n: number) => sample.replace(/^\uFEFF/, '').split('\r\n')[n]!;

let dbUrl: string;
let dir: string;

const portal = (args: string[], isTTY = false) =>
  runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }, isTTY);

const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const childCount = async () => JSON.parse((await portal(['--json', 'children', 'list', '--all'])).stdout).length as number;

beforeAll(async () => {
  dbUrl = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'portal-import-cli-'));
  const setup = [
    ['init', '--name', 'Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl'],
    ['locations', 'add', '--name', 'Heerlen Centrum'],
    ['locations', 'add', '--name', 'Maastricht Wyck'],
    ['locations', 'add', '--name', 'Sittard Ophoven'],
    ...['Boomhut', 'Kikkers', 'Zonnestraal'].map((g) => ['groups', 'add', '--location', 'Heerlen Centrum', '--name', g]),
    ...['Egeltjes', 'Vlinders'].map((g) => ['groups', 'add', '--location', 'Maastricht Wyck', '--name', g]),
    ...['Dolfijnen', 'Uiltjes', 'BSO De Ontdekkers'].map((g) => ['groups', 'add', '--location', 'Sittard Ophoven', '--name', g]),
  ];
  for (const args of setup) {
    const r = await portal(args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('portal import', () => {
  it('refuses a file with problems: every problem on stderr as line and column, exit 1, nothing imported', async () => {
    const file = write(
      'bad.csv',
      `\uFEFF${header}\r\n${sampleRow(1).replace('21-01-2025', '2025-13-01')}\r\n${sampleRow(2).replace(';Ja;Ja;', ';Misschien;Ja;')}\r\n${sampleRow(3)
        .split(';')
        .slice(0, 10)
        .join(';')}\r\n`,
    );
    const r = await portal(['import', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('line '))).toEqual([
      'line 2, column "Geboortedatum": "2025-13-01" is not a date (use YYYY-MM-DD or DD-MM-YYYY)',
      'line 3, column "Foto intern": "Misschien" is not yes or no (ja/nee, yes/no)',
      expect.stringMatching(/^line 4, column "Voornaam ouder 1": the row has 10 cells but the header has 19/),
    ]);
    expect(r.stderr).toMatch(/portal: 3 problem\(s\) in 3 row\(s\) of .*bad\.csv; nothing was imported/);
    expect(await childCount()).toBe(0);
  });

  it('shows a dry run and changes nothing', async () => {
    const r = await portal(['import', samplePath, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dry run of .*: nothing was changed\. 43 row\(s\) would be imported\./);
    expect(r.stdout).toContain('line 2: create child K10001: Aylin Visser, born 2025-01-21');
    expect(r.stdout).toMatch(/children\s+43\s+0\s+0/);
    expect(await childCount()).toBe(0);
  });

  it('imports the sample with a readable summary, warnings on stderr', async () => {
    const r = await portal(['import', samplePath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Imported .*planning-export-sample\.csv: 43 row\(s\), groups as of \d{4}-\d\d-\d\d\./);
    for (const [kind, n] of [
      ['children', 43],
      ['parents', 70],
      ['links', 74],
      ['placements', 43],
      ['consents', 43],
    ] as const) {
      expect(r.stdout).toMatch(new RegExp(`\\n${kind}\\s+${n}\\s+0\\s+0\\n`));
    }
    expect(r.stdout).toContain('Nothing was sent. Invite the new parents with `portal parents invite`.');
    expect(r.stderr.trim().split('\n')).toHaveLength(9);
    expect(r.stderr).toContain('warning: line 5, column "E-mail ouder 2": the same e-mail as parent 1 (joost.visser@example.nl)');
    expect(await childCount()).toBe(43);
  });

  it('prints the report as JSON for scripts; a second run changes nothing', async () => {
    const r = await portal(['--json', 'import', samplePath]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      applied: true,
      created: { children: 0, parents: 0, links: 0, placements: 0, consents: 0 },
      updated: { children: 0, parents: 0, links: 0, placements: 0, consents: 0 },
      unchanged: { children: 43, parents: 70, links: 74, placements: 43, consents: 43 },
      removed: { links: 0 },
      removedFromGroup: 0,
      rowErrors: [],
    });
    expect(report.warnings).toHaveLength(9);
  });

  it('imports the valid rows with --skip-invalid and writes the rejected ones, formulas neutralised', async () => {
    const formula = '=HYPERLINK(""http://evil.example"",""klik"")';
    const file = write(
      'partly.csv',
      `\uFEFF${header}\r\n` +
        `Heerlen Centrum;Boomhut;K70001;"${formula}";;Bos;99-99-2020;Ja;Nee;a.bos@example.nl;Anna;;Bos;+31612345678;;;;;\r\n` +
        `Heerlen Centrum;Kikkers;K70002;Tom;;Bos;01-02-2023;Ja;Nee;a.bos@example.nl;Anna;;Bos;0612345678;;;;;\r\n`,
    );
    const r = await portal(['import', file, '--skip-invalid']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('line 2, column "Geboortedatum": "99-99-2020" is not a date');
    const rejectedFile = join(dir, 'partly.rejected.csv');
    expect(r.stdout).toContain(`The 1 invalid row(s) are in ${rejectedFile}`);
    const rejected = readFileSync(rejectedFile, 'utf8');
    expect(rejected.startsWith(`\uFEFF${header};Problems\r\n`)).toBe(true);
    const line = rejected.split('\r\n')[1]!;
    expect(line).toContain(`;"'${formula}";`);
    expect(line).toContain(";'+31612345678;");
    expect(line).toMatch(/;"?line 2: Geboortedatum: ""99-99-2020"" is not a date/);
    const shown = JSON.parse((await portal(['--json', 'children', 'show', 'K70002'])).stdout);
    expect(shown.group).toBe('Heerlen Centrum/Kikkers');

    // The corrected rejected file goes back in as it is: the apostrophes and the extra column are understood.
    writeFileSync(rejectedFile, rejected.replace('99-99-2020', '01-01-2024'));
    const again = await portal(['--json', 'import', rejectedFile]);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.created.children).toBe(1);
    const child = JSON.parse((await portal(['--json', 'children', 'show', 'K70001'])).stdout);
    expect(child.firstName).toBe('=HYPERLINK("http://evil.example","klik")');
    const anna = JSON.parse((await portal(['--json', 'parents', 'show', 'a.bos@example.nl'])).stdout);
    // The file's phone wins, and it came back without the apostrophe that neutralised it.
    expect(anna.phone).toBe('+31612345678');
    const other = write('other.csv', rejected.replace('99-99-2020', 'x'));
    const custom = join(dir, 'fix-me.csv');
    expect((await portal(['import', other, '--skip-invalid', '--rejected', custom])).code).toBe(0);
    expect(existsSync(custom)).toBe(true);
  });

  it('reads other systems with --map, a comma-separated English file, and a --date', async () => {
    const file = write(
      'other-system.csv',
      'Kid,First name,Surname,DOB,Class,Guardian mail,Guardian first name,Guardian surname\n' +
        'K80001,Lotte,Smit,2024-03-01,Maastricht Wyck/Vlinders,lotte.ouder@example.nl,Els,Smit\n',
    );
    const args = ['--map', 'Kid=child.number', '--map', 'DOB=child.birthDate', '--map', 'Class=group'];
    const mapped = [...args, '--map', 'Guardian mail=parent1.email', '--map', 'Guardian first name=parent1.firstName', '--map', 'Guardian surname=parent1.lastName'];
    const r = await portal(['--json', 'import', file, ...mapped, '--map', 'First name=child.firstName', '--map', 'Surname=child.lastName', '--date', '01-11-2026']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const child = JSON.parse((await portal(['--json', 'children', 'show', 'K80001'])).stdout);
    expect(child.placements).toEqual([{ group: 'Vlinders', location: 'Maastricht Wyck', startDate: '2026-11-01', endDate: null }]);
    const bad = await portal(['import', file, '--map', 'Kid=kindje']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--map: "Kid=kindje": "kindje" is not a known key/);
  });

  it('shows a progress bar on a terminal only', async () => {
    const tty = await portal(['import', samplePath], true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/Importing \|.*\| 43\/43 rows \| [\d,-]+ rows\/s \| ETA/);
    const script = await portal(['import', samplePath]);
    expect(script.stderr).not.toContain('Importing');
  });

  it('writes an empty template with the accepted headers', async () => {
    // The sample's columns and the optional Mentor column (a staff e-mail) after the consents.
    const template = header.replace('Foto extern;', 'Foto extern;Mentor;');
    expect(template).not.toBe(header);
    const out = await portal(['import', '--template']);
    expect(out.stdout).toBe(`${template}\n`);
    const file = join(dir, 'template.csv');
    expect((await portal(['import', '--template', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`\uFEFF${template}\r\n`);
    const again = await portal(['import', '--template', file]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already exists/);
    expect((await portal(['import', '--template', '--english'])).stdout).toMatch(/^Location;Group;Child number;/);
  });

  it('reads a Windows-1252 file with a notice, and stores its names as they were meant', async () => {
    const text = `${header}\r\nSittard Ophoven;Uiltjes;K90001;Zoë;;van IJsselstein;01-01-2024;Ja;Nee;rene@example.nl;René;;Gülen;;;;;;\r\n`;
    const file = join(dir, 'excel-plain.csv');
    writeFileSync(file, windows1252(text.replace('Uiltjes', 'Uiltjes €')));
    // € is in Windows-1252 but not in ISO-8859-1: the group "Uiltjes €" is new and is created.
    const r = await portal(['--json', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`notice: ${file} read as Windows-1252; use --encoding to force another\n`);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ encoding: 'windows-1252', groups: { created: [{ location: 'Sittard Ophoven', name: 'Uiltjes €' }] } });
    const child = JSON.parse((await portal(['--json', 'children', 'show', 'K90001'])).stdout);
    expect(child).toMatchObject({ firstName: 'Zoë', lastName: 'van IJsselstein', group: 'Sittard Ophoven/Uiltjes €' });
    expect(JSON.parse((await portal(['--json', 'parents', 'show', 'rene@example.nl'])).stdout).name).toBe('René Gülen');

    // Forced to UTF-8, the same file is refused as a whole: one error, not one per cell.
    const forced = await portal(['import', file, '--encoding', 'utf-8']);
    expect(forced.code).toBe(1);
    expect(forced.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/excel-plain\.csv: is not valid UTF-8 \(line 2 has bytes that are not\): save it as "CSV UTF-8"/),
    ]);
    // Forced to what it is, there is no notice.
    const latin1 = await portal(['import', file, '--encoding', 'latin1', '--dry-run']);
    expect(latin1.code).toBe(0);
    expect(latin1.stderr).toBe('');
    expect((await portal(['import', file, '--encoding', 'ebcdic'])).code).toBe(2);
  });

  it('refuses a file in an encoding it cannot read with one error for the file', async () => {
    const utf16 = join(dir, 'utf16-no-bom.csv');
    writeFileSync(utf16, Buffer.from(`${header}\r\n${sampleRow(1)}\r\n`, 'utf16le'));
    const r = await portal(['import', utf16]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/utf16-no-bom\.csv: cannot be read: it has NUL bytes, so it is UTF-16 without a byte order mark, or not text at all/),
    ]);
    const binary = join(dir, 'photo.csv');
    writeFileSync(binary, Buffer.from(Array.from({ length: 5000 }, (_, i) => 0x80 + ((i * 7919) % 0x80))));
    const b = await portal(['import', binary]);
    expect(b.code).toBe(1);
    expect(b.stderr.trim().split('\n')).toEqual([expect.stringMatching(/photo\.csv: cannot be read: it is neither UTF-8 nor Windows-1252/)]);
  });

  it('echoes what the file says escaped: no terminal control from a header or a cell', async () => {
    const evilHeader = `${header};\u001b[31mRood\u001b[0m`;
    const line = sampleRow(1).replace('K10001', 'K90002').replace(';Aylin;', ';Ali\u202Egpj.exe;').replace('21-01-2025', '\u202E5202-10-12');
    const file = write('escapes.csv', `${evilHeader}\r\n${line};x\r\n`);
    const r = await portal(['import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).not.toContain('\u202e');
    expect(r.stderr).toContain('warning: line 1, column "\\x1b[31mRood\\x1b[0m": is not a column the import knows; it is ignored');
    expect(r.stderr).toContain('line 2, column "Geboortedatum": "\\u202e5202-10-12" is not a date');

    // A valid row with the override: stored as it is, shown escaped.
    const ok = write('escapes-ok.csv', `${header}\r\n${line.replace('\u202E5202-10-12', '12-10-2025')}\r\n`);
    const dry = await portal(['import', ok, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('create child K90002: Ali\\u202egpj.exe Visser');
    expect(dry.stdout).not.toContain('\u202e');
    expect((await portal(['import', ok])).code).toBe(0);
    const shown = await portal(['children', 'show', 'K90002']);
    expect(shown.stdout).toContain('Ali\\u202egpj.exe');
    expect(shown.stdout).not.toContain('\u202e');
    expect(JSON.parse((await portal(['--json', 'children', 'show', 'K90002'])).stdout).firstName).toBe('Ali\u202Egpj.exe');
  });

  it('names a missing file and a missing argument', async () => {
    const missing = await portal(['import', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/file ".*nope\.csv" not found/);
    expect((await portal(['import'])).code).toBe(2);
  });
});

describe('portal parents import', () => {
  it('imports a parents-only file and links children', async () => {
    const file = write('parents.csv', 'E-mail;Voornaam;Achternaam;Taal;Kindnummer\r\nopa.visser@example.nl;Opa;Visser;en;K10001\r\n');
    const r = await portal(['--json', 'parents', 'import', file]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'parents', created: { parents: 1, links: 1 } });
    const opa = JSON.parse((await portal(['--json', 'parents', 'show', 'opa.visser@example.nl'])).stdout);
    expect(opa).toMatchObject({ language: 'en', children: [{ childNumber: 'K10001' }] });
    const bad = await portal(['parents', 'import', write('bad-parents.csv', 'E-mail;Voornaam;Achternaam\r\nnot-an-email;X;Y\r\n')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 2, column "E-mail": "not-an-email" is not a valid e-mail address');
  });

  it('reads a Windows-1252 file too', async () => {
    const file = join(dir, 'parents-1252.csv');
    writeFileSync(file, windows1252('E-mail;Voornaam;Achternaam\r\nbeppie@example.nl;Beppië;Dûbois\r\n'));
    const r = await portal(['parents', 'import', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('read as Windows-1252');
    expect(JSON.parse((await portal(['--json', 'parents', 'show', 'beppie@example.nl'])).stdout).name).toBe('Beppië Dûbois');
  });
});

describe('portal import into an empty portal', () => {
  let freshUrl: string;
  const fresh = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: freshUrl, PORTAL_DATABASE_POOL_MAX: '2' });

  beforeAll(async () => {
    freshUrl = await createTestDatabase();
    const r = await fresh(['init', '--name', 'Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl']);
    expect(r.stderr).toBe('');
  });

  it('with --existing-only refuses: one error per location, with its lines; nothing imported', async () => {
    const r = await fresh(['import', samplePath, '--existing-only']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('line'));
    expect(errors).toEqual([
      'lines 2, 3, 4 and 14 more, column "Locatie": location "Heerlen Centrum" does not exist',
      'lines 19, 20, 21 and 10 more, column "Locatie": location "Maastricht Wyck" does not exist',
      'lines 32, 33, 34 and 10 more, column "Locatie": location "Sittard Ophoven" does not exist',
    ]);
    expect(r.stderr).toContain('without --existing-only, locations and groups that do not exist are created');
    expect((await fresh(['--json', 'locations', 'list'])).stdout.trim()).toBe('[]');
  });

  it('shows in a dry run what it would create, creates it on the real run, and nothing the second time', async () => {
    const dry = await fresh(['import', samplePath, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'Would be created, because the file names them and they do not exist:\n' +
        '  3 location(s): Heerlen Centrum, Maastricht Wyck, Sittard Ophoven\n' +
        '  8 group(s): Heerlen Centrum/Boomhut, Heerlen Centrum/Kikkers, Heerlen Centrum/Zonnestraal, Maastricht Wyck/Egeltjes, ',
    );
    expect(dry.stdout).toContain('line 2: create location Heerlen Centrum: new location, named in the file');
    expect((await fresh(['--json', 'locations', 'list'])).stdout.trim()).toBe('[]');

    const real = await fresh(['import', samplePath]);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('Created, because the file names them and they did not exist:\n  3 location(s): Heerlen Centrum, Maastricht Wyck, Sittard Ophoven\n');
    expect(real.stdout).toContain('`portal locations update`');
    const groups = JSON.parse((await fresh(['--json', 'groups', 'list'])).stdout) as { location: string; name: string }[];
    expect(groups.map((g) => `${g.location}/${g.name}`)).toContain('Sittard Ophoven/BSO De Ontdekkers');
    expect(groups).toHaveLength(8);

    const again = await fresh(['--json', 'import', samplePath]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ locations: { created: [] }, groups: { created: [] }, created: { children: 0, placements: 0 } });
    const text = await fresh(['import', samplePath]);
    expect(text.stdout).not.toContain('Created, because');
    // Now everything exists, --existing-only passes.
    expect((await fresh(['import', samplePath, '--existing-only'])).code).toBe(0);
  });
});
