import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANNING_SAMPLE } from '../../test/fixtures.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { showChild } from '../directory/children.ts';
import { initOrganisation } from '../directory/organisation.ts';
import { importPlanningExport } from './planning-import.ts';
import { formatProblem } from './report.ts';

/** The first import into an empty portal: the locations and groups the file names are created. */

const sampleText = readFileSync(PLANNING_SAMPLE, 'utf8');
const sampleLines = sampleText.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
const header = sampleLines[0]!;
const csv = (lines: string[]) => `${[header, ...lines].join('\r\n')}\r\n`;
/** Sample row `n` (1-based) with another child number and the location and group replaced. */
const rowAt = (n: number, number: string, location?: string, group?: string) => {
  const cells = sampleLines[n]!.split(';');
  cells[2] = number;
  if (location !== undefined) cells[0] = location;
  if (group !== undefined) cells[1] = group;
  return cells.join(';');
};

const SAMPLE_LOCATIONS = ['Heerlen Centrum', 'Maastricht Wyck', 'Sittard Ophoven'];
const SAMPLE_GROUPS = [
  ['Heerlen Centrum', 'Boomhut'],
  ['Heerlen Centrum', 'Kikkers'],
  ['Heerlen Centrum', 'Zonnestraal'],
  ['Maastricht Wyck', 'Egeltjes'],
  ['Maastricht Wyck', 'Vlinders'],
  ['Sittard Ophoven', 'Dolfijnen'],
  ['Sittard Ophoven', 'Uiltjes'],
  ['Sittard Ophoven', 'BSO De Ontdekkers'],
].map(([location, name]) => ({ location: location!, name: name! }));

let portal: TestPortal;
const q = async (sql: string, params: unknown[] = []) => (await portal.em().getConnection().execute(sql, params)) as Record<string, unknown>[];
const structure = async () => ({
  locations: (await q('select name, messages_read_at, address, manager_id from location order by id')).map((r) => ({ ...r })),
  groups: (await q('select l.name as location, g.name, g.capacity from care_group g join location l on l.id = g.location_id order by g.id')).map(
    (r) => ({ ...r }),
  ),
});
const counts = async () => (await q(`select (select count(*) from child)::int as children, (select count(*) from location)::int as locations,
  (select count(*) from care_group)::int as groups, (select count(*) from placement)::int as placements`))[0];
const run = (text: string, options: Parameters<typeof importPlanningExport>[3] = {}, existingOnly = false) =>
  importPlanningExport(portal.em(), admin, { source: text, existingOnly }, options);

beforeAll(async () => {
  portal = await createTestPortal();
  await initOrganisation(portal.em(), admin, { name: 'Zon', publicUrl: 'https://ouders.zon.nl', helpdeskEmail: 'help@zon.nl' });
});
afterAll(() => portal?.destroy());

describe('the first import into an empty portal', () => {
  it('refuses unknown locations with existingOnly: one problem per name, with every line, nothing written', async () => {
    const report = await run(sampleText, {}, true);
    expect(report.applied).toBe(false);
    expect(report.rowErrors.map(formatProblem)).toEqual([
      'lines 2, 3, 4 and 14 more, column "Locatie": location "Heerlen Centrum" does not exist',
      'lines 19, 20, 21 and 10 more, column "Locatie": location "Maastricht Wyck" does not exist',
      'lines 32, 33, 34 and 10 more, column "Locatie": location "Sittard Ophoven" does not exist',
    ]);
    expect(report.rowErrors[0]!.lines).toHaveLength(17);
    expect(report.rows.rejected).toBe(43);
    expect(await counts()).toEqual({ children: 0, locations: 0, groups: 0, placements: 0 });
  });

  it('a dry run lists the locations and groups it would create, first use first, and creates none', async () => {
    const dry = await run(sampleText, { dryRun: true, listChanges: true });
    expect(dry.rowErrors).toEqual([]);
    expect(dry.locations.created).toEqual(SAMPLE_LOCATIONS);
    expect(dry.groups.created).toEqual(SAMPLE_GROUPS);
    expect(dry.created.placements).toBe(43);
    const structural = dry.changes!.filter((c) => c.kind === 'location' || c.kind === 'group');
    expect(structural.slice(0, 3)).toEqual([
      { line: 2, kind: 'location', action: 'create', subject: 'Heerlen Centrum', detail: 'new location, named in the file' },
      { line: 2, kind: 'group', action: 'create', subject: 'Heerlen Centrum/Boomhut', detail: 'new group at Heerlen Centrum' },
      { line: 8, kind: 'group', action: 'create', subject: 'Heerlen Centrum/Kikkers', detail: 'new group at Heerlen Centrum' },
    ]);
    expect(dry.changes!.find((c) => c.kind === 'placement')).toMatchObject({ line: 2, detail: expect.stringMatching(/^in Heerlen Centrum\/Boomhut from /) });
    expect(await counts()).toEqual({ children: 0, locations: 0, groups: 0, placements: 0 });
  });

  it('creates them with their names and defaults, and places every child in its group', async () => {
    const report = await run(sampleText);
    expect(report.rowErrors).toEqual([]);
    expect(report.applied).toBe(true);
    expect(report.locations.created).toEqual(SAMPLE_LOCATIONS);
    expect(report.groups.created).toEqual(SAMPLE_GROUPS);
    expect(report.created).toMatchObject({ children: 43, placements: 43 });
    const { locations, groups } = await structure();
    expect(locations).toEqual(SAMPLE_LOCATIONS.map((name) => ({ name, messages_read_at: '12:00', address: null, manager_id: null })));
    expect(groups).toEqual(SAMPLE_GROUPS.map((g) => ({ ...g, capacity: null })));
    expect((await showChild(portal.em(), admin, 'K10001')).group).toBe('Heerlen Centrum/Boomhut');
    expect((await showChild(portal.em(), admin, 'K10043')).group).toBe('Sittard Ophoven/BSO De Ontdekkers');
    const audit = await q(`select details from audit_event where type = 'import.planning' order by id desc limit 1`);
    expect(JSON.stringify(audit[0]?.['details'])).toContain('"Sittard Ophoven"');
  });

  it('creates nothing when the same file comes again, and now passes existingOnly', async () => {
    const before = await structure();
    const again = await run(sampleText);
    expect(again.locations.created).toEqual([]);
    expect(again.groups.created).toEqual([]);
    expect(again.unchanged.placements).toBe(43);
    expect(await structure()).toEqual(before);
    const strict = await run(sampleText, {}, true);
    expect(strict.rowErrors).toEqual([]);
    expect(strict.applied).toBe(true);
  });
});

describe('names in later files', () => {
  it('matches names without regard to case, and spells a new one as its first row does', async () => {
    const report = await run(
      csv([
        rowAt(1, 'S1', 'heerlen centrum', 'boomhut'),
        rowAt(2, 'S2', 'De Speeltuin', 'Rupsen'),
        rowAt(3, 'S3', 'de speeltuin', 'RUPSEN'),
        rowAt(4, 'S4', 'DE SPEELTUIN', 'Bijen'),
        rowAt(5, 'S5', 'Heerlen Centrum', 'Mieren'),
      ]),
    );
    expect(report.rowErrors).toEqual([]);
    expect(report.locations.created).toEqual(['De Speeltuin']);
    expect(report.groups.created).toEqual([
      { location: 'De Speeltuin', name: 'Rupsen' },
      { location: 'De Speeltuin', name: 'Bijen' },
      { location: 'Heerlen Centrum', name: 'Mieren' },
    ]);
    expect((await showChild(portal.em(), admin, 'S1')).group).toBe('Heerlen Centrum/Boomhut');
    expect((await showChild(portal.em(), admin, 'S3')).group).toBe('De Speeltuin/Rupsen');
    expect((await showChild(portal.em(), admin, 'S5')).group).toBe('Heerlen Centrum/Mieren');
  });

  it('creates only what valid rows use, when invalid rows are skipped', async () => {
    const bad = rowAt(6, 'S6', 'Nergens', 'Niets').replace(/;\d\d-\d\d-\d{4};/, ';99-99-2020;');
    const report = await run(csv([bad, rowAt(7, 'S7', 'Ergens', 'Iets')]), { skipInvalid: true });
    expect(report.rows).toMatchObject({ imported: 1, rejected: 1 });
    expect(report.locations.created).toEqual(['Ergens']);
    expect(await q(`select 1 from location where name = 'Nergens'`)).toEqual([]);
  });

  it('with existingOnly names an unknown group at a known location once, and a known location is no problem', async () => {
    const lines = Array.from({ length: 5 }, (_, i) => rowAt(1, `S8${i}`, 'Heerlen Centrum', i % 2 ? 'Olifanten' : 'olifanten'));
    const report = await run(csv([...lines, rowAt(2, 'S90', 'Heerlen Centrum', 'Boomhut')]), { skipInvalid: true }, true);
    expect(report.rowErrors.map(formatProblem)).toEqual([
      'lines 2, 3, 4 and 2 more, column "Groep": group "olifanten" does not exist at Heerlen Centrum',
    ]);
    // One problem per name as the admin reads it: "Olifanten" and "olifanten" are the same group.
    expect(report.rowErrors).toHaveLength(1);
    expect(report.rowErrors[0]).toMatchObject({ line: 2, lines: [2, 3, 4, 5, 6], column: 'Groep' });
    expect(report.rows).toMatchObject({ imported: 1, rejected: 5 });
    // The rejected file gives each line its problem.
    expect(report.rejectedRows.map((r) => r.problems)).toEqual(
      Array.from({ length: 5 }, () => ['Groep: group "olifanten" does not exist at Heerlen Centrum']),
    );
    expect(await q(`select 1 from care_group where lower(name) = 'olifanten'`)).toEqual([]);
  });

  it('cannot create a group when the file does not say where: one problem for the name', async () => {
    const text = ['Kindnummer;Roepnaam kind;Achternaam kind;Geboortedatum;Groep', 'S91;A;B;01-01-2024;Giraffen', 'S92;C;D;01-01-2024;Giraffen', ''].join('\r\n');
    const report = await run(text);
    expect(report.rowErrors.map(formatProblem)).toEqual([
      'lines 2 and 3, column "Groep": group "Giraffen" does not exist, and the file does not say at which location: add a column "Locatie", or write the group as "Location/Group"',
    ]);
    const placed = await run(text.replaceAll(';Giraffen', ';Zoo/Giraffen'));
    expect(placed.rowErrors).toEqual([]);
    expect(placed.locations.created).toEqual(['Zoo']);
    expect((await showChild(portal.em(), admin, 'S92')).group).toBe('Zoo/Giraffen');
  });

  it('rolls the new locations and groups back with the rest when the import fails', async () => {
    await q(`create function structure_test_fail() returns trigger language plpgsql as $$
      begin if new.child_number = 'S99' then raise exception 'refused by test trigger'; end if; return new; end $$`);
    await q('create trigger structure_test_fail before insert on child for each row execute function structure_test_fail()');
    try {
      await expect(run(csv([rowAt(1, 'S99', 'Tijdelijk', 'Weg')]))).rejects.toThrow(/refused by test trigger/);
      expect(await q(`select 1 from location where name = 'Tijdelijk'`)).toEqual([]);
    } finally {
      await q('drop trigger structure_test_fail on child');
      await q('drop function structure_test_fail()');
    }
  });
});
