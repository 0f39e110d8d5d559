import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, TEST_NOW, type TestPortal } from '../../test/portal.ts';
import { addDays, dayOf } from '../dates.ts';
import { addChild, leaveChild, showChild } from '../directory/children.ts';
import { showConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { initOrganisation } from '../directory/organisation.ts';
import { addParent, showParent } from '../directory/parents.ts';
import { DomainError } from '../errors.ts';
import { formatRejectedCsv } from './csv-safe.ts';
import { importPlanningExport } from './planning-import.ts';
import type { ImportReport, KindCounts } from './report.ts';
import { PLANNING_SAMPLE } from '../../test/fixtures.ts';

const samplePath = PLANNING_SAMPLE;
const sampleText = readFileSync(samplePath, 'utf8');
/** The sample's lines without BOM and line ends: [0] is the header. */
const sampleLines = sampleText.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
const header = sampleLines[0]!;
const H = header.split(';');
const csv = (lines: string[]) => `\uFEFF${[header, ...lines].join('\r\n')}\r\n`;
/** A sample row (by child number) with some cells replaced, by header name. */
function row(childNumber: string, changes: Record<string, string> = {}): string {
  const cells = sampleLines.find((l) => l.split(';')[2] === childNumber)!.split(';');
  for (const [column, value] of Object.entries(changes)) cells[H.indexOf(column)] = value;
  return cells.join(';');
}
const sampleWith = (edit: (lines: string[]) => string[]) => csv(edit(sampleLines.slice(1)));

const counts = (c: Partial<KindCounts>): KindCounts => ({ children: 0, parents: 0, links: 0, placements: 0, consents: 0, ...c });
const SAMPLE = counts({ children: 43, parents: 70, links: 74, placements: 43, consents: 43 });
// The test portals' pinned date (test/portal.ts), a month back.
const firstDay = addDays(dayOf(new Date(TEST_NOW)), -30);

let portal: TestPortal;
const q = async (sql: string, params: unknown[] = []) => (await portal.em().getConnection().execute(sql, params)) as Record<string, unknown>[];
/** Every row of the directory tables, to prove that something wrote nothing. */
const snapshot = async () =>
  Promise.all(
    ['child', 'parent', 'guardianship', 'placement', 'consent_record'].map(async (t) =>
      (await q(`select md5(coalesce(string_agg(x::text, ',' order by x::text), '')) as h, count(*) as n from ${t} x`))[0],
    ),
  );

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await initOrganisation(em, admin, {
    name: 'Kinderopvang Zon',
    publicUrl: 'https://ouders.zon.nl',
    helpdeskEmail: 'help@zon.nl',
    defaultLanguage: 'en',
  });
  const groups = {
    'Heerlen Centrum': ['Boomhut', 'Kikkers', 'Zonnestraal'],
    'Maastricht Wyck': ['Egeltjes', 'Vlinders'],
    'Sittard Ophoven': ['Dolfijnen', 'Uiltjes', 'BSO De Ontdekkers'],
  };
  for (const [location, names] of Object.entries(groups)) {
    await addLocation(em, admin, { name: location });
    for (const name of names) await addGroup(em, admin, { location, name });
  }
  // Already in the directory before any import, and in no file: must be left alone.
  await addChild(em, admin, {
    childNumber: 'K99999',
    firstName: 'Bram',
    lastName: 'Thuis',
    birthDate: '2024-01-01',
    group: 'Heerlen Centrum/Boomhut',
    startDate: '2025-01-01',
  });
});
afterAll(() => portal?.destroy());

const run = (text: string, options: Parameters<typeof importPlanningExport>[3] = {}, date = firstDay, map?: string[], existingOnly = false) =>
  importPlanningExport(portal.em(), admin, { source: text, date, map, existingOnly }, options);

describe('importing the planning export', () => {
  let first: ImportReport;

  it('imports the sample file cleanly, with the expected counts', async () => {
    first = await run(sampleText);
    expect(first.rowErrors).toEqual([]);
    expect(first.applied).toBe(true);
    expect(first.rows).toEqual({ read: 43, imported: 43, rejected: 0, duplicates: 0, blank: 0 });
    expect(first.created).toEqual(SAMPLE);
    expect(first.updated).toEqual(counts({}));
    expect(first.unchanged).toEqual(counts({}));
    expect(first.removed).toEqual({ links: 0 });
    expect(first.removedFromGroup).toBe(0);
    expect(first.notInFile).toEqual(['K99999']);
    expect(first.delimiter).toBe(';');

    const aylin = await showChild(portal.em(), admin, 'K10001');
    expect(aylin).toMatchObject({ name: 'Aylin Visser', birthDate: '2025-01-21', group: 'Heerlen Centrum/Boomhut' });
    expect(aylin.placements).toEqual([{ group: 'Boomhut', location: 'Heerlen Centrum', startDate: firstDay, endDate: null }]);
    expect(aylin.parents.map((p) => p.email).sort()).toEqual(['fatima.visser@example.nl', 'linda.visser@example.nl']);
    expect((await showChild(portal.em(), admin, 'K10002')).name).toBe('Evi van den Berg');
    const consent = await showConsent(portal.em(), admin, 'K10002');
    expect(consent.current).toMatchObject({ internal: true, external: true, source: 'import', recordedBy: admin.label });
    // New parents get the organisation's default language.
    const linda = await showParent(portal.em(), admin, 'linda.visser@example.nl');
    expect(linda).toMatchObject({ name: 'Linda Visser', phone: '0678106871', language: 'en' });
    // Stamped with the portal's clock, like every other write: a consent set by hand later must
    // come after the imported one, whatever the database server's own clock says.
    const now = portal.clock.now();
    const [stamps] = await q(
      `select (select count(*) from child where child_number <> 'K99999' and created_at <> ?)::int as children,
              (select count(*) from parent where created_at <> ?)::int as parents,
              (select count(*) from guardianship where created_at <> ?)::int as links,
              (select count(*) from consent_record where recorded_at <> ?)::int as consents,
              (select count(*) from consent_record where recorded_at = ?)::int as stamped`,
      [now, now, now, now, now],
    );
    expect(stamps).toEqual({ children: 0, parents: 0, links: 0, consents: 0, stamped: 43 });
  });

  it('handles the traps of the sample: one e-mail for both parents, and parents copied with drifting details', async () => {
    // K10004: joost.visser@ is parent 1 (Visser) and parent 2 (Wit): one parent, linked once.
    expect((await showChild(portal.em(), admin, 'K10004')).parents).toEqual([{ email: 'joost.visser@example.nl', name: 'Joost Visser' }]);
    // marloes.ramdin@ is "Marloes Groot" on line 4 and "Marloes Bos" on line 20: line 4 wins.
    const marloes = await showParent(portal.em(), admin, 'marloes.ramdin@example.nl');
    expect(marloes).toMatchObject({ name: 'Marloes Groot', phone: '0666255890' });
    expect(marloes.children.map((c) => c.childNumber).sort()).toEqual(['K10003', 'K10019']);
    // Every drift is named, with both lines.
    expect(first.warnings.map((w) => `${w.line}|${w.column}`)).toEqual([
      '5|E-mail ouder 2',
      '20|Achternaam ouder 2',
      '20|Mobiel ouder 2',
      '22|E-mail ouder 2',
      '22|Mobiel ouder 1',
      '29|Mobiel ouder 1',
      '29|Achternaam ouder 2',
      '29|Mobiel ouder 2',
      '30|E-mail ouder 2',
    ]);
    expect(first.warnings.find((w) => w.line === 20 && w.column === 'Achternaam ouder 2')!.message).toMatch(/"Marloes Bos" here but "Marloes Groot" on line 4/);
  });

  it('changes nothing when the same file is imported again', async () => {
    const before = await snapshot();
    const again = await run(sampleText);
    expect(again.rowErrors).toEqual([]);
    expect(again.created).toEqual(counts({}));
    expect(again.updated).toEqual(counts({}));
    expect(again.unchanged).toEqual(SAMPLE);
    expect(again.removed).toEqual({ links: 0 });
    expect(again.removedFromGroup).toBe(0);
    expect(await snapshot()).toEqual(before);
    // Also on another day: the children are still in their groups.
    const later = await run(sampleText, {}, portal.clock.today());
    expect(later.unchanged).toEqual(SAMPLE);
    expect(await snapshot()).toEqual(before);
  });

  it('a dry run reports exactly what a real run then does, and writes nothing', async () => {
    const changed = sampleWith((lines) =>
      lines.map((l) => (l.startsWith('Heerlen Centrum;Boomhut;K10006') ? row('K10006', { 'Roepnaam kind': 'Noortje' }) : l)),
    );
    const before = await snapshot();
    const dry = await run(changed, { dryRun: true, listChanges: true });
    expect(await snapshot()).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, applied: false });
    expect(dry.updated).toEqual(counts({ children: 1 }));
    expect(dry.changes).toEqual([
      { line: 7, kind: 'child', action: 'update', subject: 'K10006', detail: 'first name "Nora" → "Noortje"' },
    ]);
    const real = await run(changed);
    expect(real.applied).toBe(true);
    for (const k of ['created', 'updated', 'unchanged', 'removed', 'removedFromGroup', 'notInFile', 'rows'] as const) {
      expect(real[k], k).toEqual(dry[k]);
    }
    expect((await showChild(portal.em(), admin, 'K10006')).firstName).toBe('Noortje');
  });

  it('a changed file moves a child, updates a name, unlinks a removed parent and records a consent change', async () => {
    const changed = sampleWith((lines) =>
      lines
        .filter((l) => !l.includes(';K10043;'))
        .map((l) => {
          const number = l.split(';')[2]!;
          if (number === 'K10006') return row('K10006', { 'Roepnaam kind': 'Noortje' });
          if (number === 'K10001') return row('K10001', { 'Roepnaam kind': 'Ayla', Groep: 'Kikkers' });
          if (number === 'K10003') {
            return row('K10003', { 'E-mail ouder 2': '', 'Voornaam ouder 2': '', 'Achternaam ouder 2': '', 'Mobiel ouder 2': '' });
          }
          if (number === 'K10005') return row('K10005', { 'Foto intern': 'Ja' });
          return l;
        }),
    );
    const dry = await run(changed, { dryRun: true, listChanges: true }, portal.clock.today());
    const report = await run(changed, {}, portal.clock.today());
    expect(report.rowErrors).toEqual([]);
    expect(report.created).toEqual(counts({ consents: 1 }));
    // marloes.ramdin@ is no longer on line 4, so line 20 names her now: "Marloes Bos".
    expect(report.updated).toEqual(counts({ children: 1, parents: 1, placements: 1 }));
    expect(report.removed).toEqual({ links: 1 });
    expect(report.removedFromGroup).toBe(1);
    expect(report.unchanged).toEqual(counts({ children: 41, parents: 68, links: 72, placements: 41, consents: 41 }));
    expect(report.notInFile).toEqual(['K10043', 'K99999']);
    expect(dry.changes!.map((c) => `${c.line} ${c.kind} ${c.action} ${c.subject}`)).toEqual([
      '2 child update K10001',
      '2 placement remove K10001',
      '2 placement create K10001',
      '4 link remove marloes.ramdin@example.nl → K10003',
      '6 consent create K10005',
      '20 parent update marloes.ramdin@example.nl',
    ]);
    expect(dry.changes!.find((c) => c.kind === 'parent')!.detail).toBe('last name "Groot" → "Bos", phone "0666255890" → "0695421789"');

    const aylin = await showChild(portal.em(), admin, 'K10001');
    expect(aylin).toMatchObject({ firstName: 'Ayla', group: 'Heerlen Centrum/Kikkers' });
    expect(aylin.placements).toEqual([
      { group: 'Boomhut', location: 'Heerlen Centrum', startDate: firstDay, endDate: addDays(portal.clock.today(), -1) },
      { group: 'Kikkers', location: 'Heerlen Centrum', startDate: portal.clock.today(), endDate: null },
    ]);
    expect((await showChild(portal.em(), admin, 'K10003')).parents.map((p) => p.email)).toEqual(['sanne.ramdin@example.nl']);
    // The parent stays (still a parent of K10019); only the link went.
    expect((await showParent(portal.em(), admin, 'marloes.ramdin@example.nl')).children.map((c) => c.childNumber)).toEqual(['K10019']);
    const consent = await showConsent(portal.em(), admin, 'K10005');
    expect(consent.history.map((h) => [h.internal, h.external, h.source])).toEqual([
      [true, false, 'import'],
      [false, false, 'import'],
    ]);
    // Not in the file: left as it was, in its group.
    expect((await showChild(portal.em(), admin, 'K10043')).group).toBe('Sittard Ophoven/BSO De Ontdekkers');
  });
});

describe('children who left', () => {
  it('places a child again who left before the date and is in the file; respects a leave from that day on', async () => {
    await leaveChild(portal.em(), admin, 'K10042', { date: addDays(portal.clock.today(), -1) });
    await leaveChild(portal.em(), admin, 'K10041', { date: portal.clock.today() });
    const report = await run(csv([row('K10042'), row('K10041')]), {}, portal.clock.today());
    expect(report.rowErrors).toEqual([]);
    expect(report.updated.children).toBe(1);
    expect(report.created.placements).toBe(1);
    expect(report.unchanged.placements).toBe(1);
    const back = await showChild(portal.em(), admin, 'K10042');
    expect(back).toMatchObject({ leftOn: null, group: 'Sittard Ophoven/BSO De Ontdekkers' });
    expect(back.placements.at(-1)).toMatchObject({ startDate: portal.clock.today(), endDate: null });
    expect(await showChild(portal.em(), admin, 'K10041')).toMatchObject({ leftOn: portal.clock.today() });
  });
});

describe('a file with problems', () => {
  const bad = csv([
    row('K10001', { Kindnummer: 'K20001', Geboortedatum: '31-02-2024' }),
    row('K10002', { Kindnummer: 'K20002', 'Foto intern': 'Misschien' }),
    row('K10003', { Kindnummer: 'K20003', Groep: 'Olifanten' }),
    row('K10004', { Kindnummer: 'K20004', 'E-mail ouder 1': 'linda.visser@' }),
    row('K10005', { Kindnummer: 'K20005' }).split(';').slice(0, 15).join(';'),
    row('K10006', { Kindnummer: 'K20006' }),
    row('K10007', { Kindnummer: 'K20006' }),
    row('K10008', { Kindnummer: 'K20008' }),
  ]);

  it('imports nothing and names every bad line and column', async () => {
    const before = await snapshot();
    const report = await run(bad, {}, firstDay, undefined, true);
    expect(report.applied).toBe(false);
    expect(await snapshot()).toEqual(before);
    expect(report.rowErrors.map((e) => `line ${e.line}, column "${e.column}": ${e.message}`)).toEqual([
      'line 2, column "Geboortedatum": "31-02-2024" is not a date (use YYYY-MM-DD or DD-MM-YYYY)',
      'line 3, column "Foto intern": "Misschien" is not yes or no (ja/nee, yes/no)',
      'line 4, column "Groep": group "Olifanten" does not exist at Heerlen Centrum',
      'line 5, column "E-mail ouder 1": "linda.visser@" is not a valid e-mail address',
      expect.stringMatching(/^line 6, column "Voornaam ouder 2": the row has 15 cells but the header has 19/),
      'line 7, column "Kindnummer": child K20006 appears again on line 8 with other details',
      'line 8, column "Roepnaam kind": child K20006 is "Zoë" here but "Nora" on line 7',
      'line 8, column "Tussenvoegsel kind": child K20006 is "" here but "van" on line 7',
      'line 8, column "Achternaam kind": child K20006 is "Smeets" here but "Leeuwen" on line 7',
      'line 8, column "Geboortedatum": child K20006 is "2022-09-04" here but "2024-04-10" on line 7',
      'line 8, column "Groep": child K20006 is in another group here than on line 7',
      'line 8, column "Foto intern": child K20006 has consent Nee/Nee here but Ja/Nee on line 7',
      'line 8, column "E-mail ouder 1": child K20006 has parents iris.smeets@example.nl, youssef.smeets@example.nl here but mark.vanleeuwen@example.nl, marloes.vanleeuwen@example.nl on line 7',
    ]);
    expect(report.rows).toMatchObject({ read: 8, rejected: 7, imported: 0 });
    expect(await portal.em().getConnection().execute(`select 1 from child where child_number like 'K2%'`)).toEqual([]);
  });

  it('with skipInvalid imports the good row and returns the bad ones for correction', async () => {
    const withFormula = bad.replace('K20001;Aylin', 'K20001;=HYPERLINK("http://evil.example","klik")');
    const report = await run(withFormula, { skipInvalid: true }, firstDay, undefined, true);
    expect(report.applied).toBe(true);
    expect(report.rows).toMatchObject({ read: 8, rejected: 7, imported: 1 });
    expect(report.created.children).toBe(1);
    expect((await showChild(portal.em(), admin, 'K20008')).group).toBe('Heerlen Centrum/Kikkers');
    expect(report.rejectedRows.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(report.rejectedRows[0]!.cells[3]).toBe('=HYPERLINK("http://evil.example","klik")');
    expect(report.rejectedRows[0]!.problems).toEqual(['Geboortedatum: "31-02-2024" is not a date (use YYYY-MM-DD or DD-MM-YYYY)']);
    const file = formatRejectedCsv(H, report.rejectedRows, report.delimiter);
    expect(file).toContain(`;K20001;'=HYPERLINK(""http://evil.example"",""klik"")";`.replace(`;'=`, `;"'=`));
    expect(file.split('\r\n')[0]).toBe(`\uFEFF${header};Problems`);
  });

  it('reports a missing column once, at line 1, and reads no further', async () => {
    const noGroup = sampleText.replace('Groep;', 'Groepje;');
    const report = await run(noGroup);
    expect(report.rowErrors).toEqual([{ line: 1, column: 'Groep', message: expect.stringMatching(/^is missing/) }]);
    expect(report.warnings).toEqual([{ line: 1, column: 'Groepje', message: 'is not a column the import knows; it is ignored' }]);
  });

  it('refuses a parent e-mail that two rows give to two different people, naming both lines', async () => {
    const text = csv([
      row('K10010', { Kindnummer: 'K30001' }),
      row('K10011', { Kindnummer: 'K30002', 'E-mail ouder 1': 'fatima.degroot@example.nl' }),
    ]);
    const report = await run(text);
    expect(report.applied).toBe(false);
    expect(report.rowErrors.map((e) => `${e.line}|${e.column}|${e.message}`)).toEqual([
      expect.stringMatching(/^2\|Voornaam ouder 1\|parent fatima.degroot@example.nl is "Fatima" here but "Mark" on line 3/),
      expect.stringMatching(/^3\|Voornaam ouder 1\|parent fatima.degroot@example.nl is "Mark" here but "Fatima" on line 2/),
    ]);
  });
});

describe('other shapes of file', () => {
  it('imports a comma-separated file with English headers and no BOM', async () => {
    const text = [
      'Location,Group,Child number,Child first name,Child infix,Child last name,Birth date,Photo consent internal,Photo consent external,Parent 1 e-mail,Parent 1 first name,Parent 1 last name,Parent 1 phone',
      'Maastricht Wyck,Egeltjes,K40001,Lotte,,"Jansen, de",2024-03-01,yes,no,Els.Jansen@Example.nl ,Els,Jansen,+31 6 1234 5678',
      '',
    ].join('\n');
    const report = await run(text);
    expect(report.rowErrors).toEqual([]);
    expect(report.delimiter).toBe(',');
    expect(report.created).toEqual(counts({ children: 1, parents: 1, links: 1, placements: 1, consents: 1 }));
    const child = await showChild(portal.em(), admin, 'K40001');
    expect(child).toMatchObject({ lastName: 'Jansen, de', group: 'Maastricht Wyck/Egeltjes', consent: { internal: true, external: false } });
    expect(child.parents).toEqual([{ email: 'els.jansen@example.nl', name: 'Els Jansen' }]);
    // A phone starting with + is a phone, not a formula: no warning.
    expect(report.warnings).toEqual([]);
  });

  it('reads columns named with --map, and a group written as "Location/Group"', async () => {
    const text = [
      'Nr;Naam;Achternaam;Geb.datum;Klas;Mail verzorger;Voornaam verzorger;Achternaam verzorger',
      'K40002;Sem;Bakker;01-02-2023;Sittard Ophoven/Uiltjes;sem.ouder@example.nl;Ria;Bakker',
    ].join('\r\n');
    const map = [
      'Nr=child.number',
      'Naam=child.firstName',
      'Achternaam=child.lastName',
      'Geb.datum=child.birthDate',
      'Klas=group',
      'Mail verzorger=parent1.email',
      'Voornaam verzorger=parent1.firstName',
      'Achternaam verzorger=parent1.lastName',
    ];
    const unmapped = await run(text);
    expect(unmapped.rowErrors.map((e) => e.column)).toEqual(['Groep', 'Kindnummer', 'Roepnaam kind', 'Achternaam kind', 'Geboortedatum']);
    const report = await run(text, {}, firstDay, map);
    expect(report.rowErrors).toEqual([]);
    expect(report.created).toEqual(counts({ children: 1, parents: 1, links: 1, placements: 1 }));
    expect((await showChild(portal.em(), admin, 'K40002')).group).toBe('Sittard Ophoven/Uiltjes');
    await expect(run(text, {}, firstDay, ['Nr=nonsense'])).rejects.toThrow(DomainError);
  });

  it('stores a formula-looking cell as plain text, with a warning', async () => {
    const formula = '=HYPERLINK("http://evil.example","klik")';
    const text = csv([row('K10009', { Kindnummer: 'K40003', 'Roepnaam kind': `"${formula.replaceAll('"', '""')}"` })]);
    const report = await run(text);
    expect(report.rowErrors).toEqual([]);
    expect(report.warnings).toContainEqual({ line: 2, column: 'Roepnaam kind', message: 'looks like a spreadsheet formula; it is stored as plain text' });
    expect((await showChild(portal.em(), admin, 'K40003')).firstName).toBe(formula);
  });

  it('is for administrators only', async () => {
    const parent = await addParent(portal.em(), admin, { email: 'nosy@example.nl', firstName: 'N', lastName: 'Osy' });
    const id = (await q('select id from parent where email = ?', [parent.email]))[0]!['id'] as number;
    await expect(
      importPlanningExport(portal.em(), { kind: 'parent', label: 'p', parentId: id }, { source: sampleText }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('all or nothing', () => {
  const many = (prefix: string, n: number) =>
    csv(Array.from({ length: n }, (_, i) => row('K10009', { Kindnummer: `${prefix}${String(i).padStart(3, '0')}` })));

  it('rolls everything back when a late row fails in the database', async () => {
    await q(`create function import_test_fail() returns trigger language plpgsql as $$
      begin if new.child_number = 'K50025' then raise exception 'refused by test trigger'; end if; return new; end $$`);
    await q('create trigger import_test_fail before insert on child for each row execute function import_test_fail()');
    try {
      const before = await snapshot();
      await expect(run(many('K50', 30), { batchSize: 10 })).rejects.toThrow(/refused by test trigger/);
      expect(await snapshot()).toEqual(before);
    } finally {
      await q('drop trigger import_test_fail on child');
      await q('drop function import_test_fail()');
    }
  });

  it('leaves nothing behind when the process is killed in the middle of the import', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-kill-'));
    try {
      const file = join(dir, 'export.csv');
      writeFileSync(file, many('K60', 300));
      const before = await snapshot();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'import-then-die.ts'), portal.dbUrl, file],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(out).toMatch(/written 100 of 300 rows, dying/);
      expect(signal).toBe('SIGKILL');
      expect(await snapshot()).toEqual(before);
      // The killed transaction's lock is gone: the next import runs.
      const report = await run(readFileSync(file, 'utf8'));
      expect(report.created.children).toBe(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
