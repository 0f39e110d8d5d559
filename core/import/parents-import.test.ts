import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { addChild } from '../directory/children.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { initOrganisation } from '../directory/organisation.ts';
import { addParent, linkParent, showParent } from '../directory/parents.ts';
import { UNSTORABLE_TEXT } from '../validation.ts';
import { importParents } from './parents-import.ts';

let portal: TestPortal;
beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Zon', publicUrl: 'https://ouders.zon.nl', helpdeskEmail: 'help@zon.nl' });
  await addLocation(em, admin, { name: 'Heerlen Centrum' });
  await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
  for (const [childNumber, firstName] of [
    ['K1', 'Aylin'],
    ['K2', 'Evi'],
    ['K3', 'Thijs'],
  ]) {
    await addChild(em, admin, { childNumber: childNumber!, firstName: firstName!, lastName: 'Visser', birthDate: '2024-01-01', group: 'Boomhut' });
  }
  await addParent(em, admin, { email: 'linda@example.nl', firstName: 'Linda', lastName: 'Visser', phone: '0611111111', children: ['K3'] });
});
afterAll(() => portal?.destroy());

const file = (rows: string[]) => `\uFEFFE-mail;Voornaam;Tussenvoegsel;Achternaam;Mobiel;Taal;Kindnummer\r\n${rows.join('\r\n')}\r\n`;

describe('portal parents import', () => {
  const text = file([
    'linda@example.nl;Linda;;Visser-de Wit;;;K1',
    'LINDA@example.nl ;Linda;;Visser-de Wit;;;K2',
    'mark@example.nl;Mark;van;Dijk;0622222222;en;K1',
    'ria@example.nl;Ria;;Bos;;;',
  ]);

  it('creates and updates parents and adds links, never removing one', async () => {
    const report = await importParents(portal.em(), admin, { source: text });
    expect(report.rowErrors).toEqual([]);
    expect(report.created).toMatchObject({ parents: 2, links: 3 });
    expect(report.updated).toMatchObject({ parents: 1 });
    const linda = await showParent(portal.em(), admin, 'linda@example.nl');
    // The new last name; the phone the file leaves empty stays; the K3 link the file does not mention stays.
    expect(linda).toMatchObject({ lastName: 'Visser-de Wit', phone: '0611111111', language: 'nl' });
    expect(linda.children.map((c) => c.childNumber).sort()).toEqual(['K1', 'K2', 'K3']);
    expect(await showParent(portal.em(), admin, 'mark@example.nl')).toMatchObject({ name: 'Mark van Dijk', language: 'en' });

    const again = await importParents(portal.em(), admin, { source: text });
    expect(again.created).toMatchObject({ parents: 0, links: 0 });
    expect(again.updated).toMatchObject({ parents: 0 });
    expect(again.unchanged).toMatchObject({ parents: 3, links: 3 });
  });

  it('refuses unknown children, bad cells and two people on one e-mail, and writes nothing', async () => {
    await linkParent(portal.em(), admin, 'linda@example.nl', 'K1');
    const report = await importParents(portal.em(), admin, {
      source: file(['new@example.nl;New;;Parent;;;K404', 'x@example.nl;X;;Y;12;fr;', 'linda@example.nl;Lindsey;;Visser;;;K2']),
    });
    expect(report.applied).toBe(false);
    expect(report.rowErrors.map((e) => `${e.line}|${e.column}|${e.message}`)).toEqual([
      '2|Kindnummer|child K404 does not exist; import the children first',
      '3|Mobiel|"12" is not a valid phone number (digits, spaces, + and - only)',
      '3|Taal|"fr" is not a language of the portal: nl or en',
    ]);
    await expect(showParent(portal.em(), admin, 'new@example.nl')).rejects.toMatchObject({ code: 'not_found' });
    const conflict = await importParents(portal.em(), admin, {
      source: file(['linda@example.nl;Linda;;Visser;;;K1', 'linda@example.nl;Lindsey;;Visser;;;K2']),
    });
    expect(conflict.rowErrors.map((e) => e.line)).toEqual([2, 3]);
    expect(conflict.rowErrors[1]!.message).toMatch(/"Lindsey" here but "Linda" on line 2/);
  });

  it('reports a NUL byte, bytes that are not UTF-8 and an over-long cell by line and column, and writes nothing', async () => {
    const bytes = Buffer.concat([
      Buffer.from(file(['nul@example.nl;Nina\u0000;;Nul;;;K1', 'utf@example.nl;Uta;;']).trimEnd()),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`;;;K1\r\nlang@example.nl;Lange;;${'x'.repeat(101)};;;K1\r\n`),
    ]);
    // Decoded as the CLI decodes a file: invalid bytes become U+FFFD.
    const report = await importParents(portal.em(), admin, { source: new TextDecoder().decode(bytes) });
    expect(report.applied).toBe(false);
    expect(report.rowErrors.map((e) => `${e.line}|${e.column}|${e.message}`)).toEqual([
      `2|Voornaam|${UNSTORABLE_TEXT}`,
      '3|Achternaam|has characters that are not UTF-8: save the file as "CSV UTF-8"',
      '4|Achternaam|is longer than 100 characters',
    ]);
    for (const email of ['nul@example.nl', 'utf@example.nl', 'lang@example.nl']) {
      await expect(showParent(portal.em(), admin, email)).rejects.toMatchObject({ code: 'not_found' });
    }
  });
});
