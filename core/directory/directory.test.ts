import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { addDays, } from '../dates.ts';
import { Child, ConsentRecord } from '../entities/child.ts';
import { Parent } from '../entities/parent.ts';
import { DomainError } from '../errors.ts';
import { addChild, leaveChild, listChildren, moveChild, showChild } from './children.ts';
import { listConsent, setConsent, showConsent } from './consent.ts';
import { addGroup, listGroups, removeGroup, updateGroup } from './groups.ts';
import { addLocation, listLocations, showLocation, updateLocation } from './locations.ts';
import { initOrganisation } from './organisation.ts';
import { addParent, linkParent, listParents, showParent, unlinkParent } from './parents.ts';
import { addStaff, assignStaff, listStaff } from './staff.ts';

let portal: TestPortal;
beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await initOrganisation(em, admin, {
    name: 'Kinderopvang Zonnetje',
    publicUrl: 'https://ouders.example.nl/',
    helpdeskEmail: 'helpdesk@example.nl',
  });
  await addLocation(em, admin, { name: 'Heerlen Centrum', phone: '045-1234567', openingHours: 'ma-vr 7:00-18:30' });
  await addLocation(em, admin, { name: 'Maastricht Wyck' });
  await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut', capacity: 12 });
  await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Kikkers' });
  await addGroup(em, admin, { location: 'Maastricht Wyck', name: 'Egeltjes' });
  await addChild(em, admin, {
    childNumber: 'K1',
    firstName: 'Evi',
    infix: 'van den',
    lastName: 'Berg',
    birthDate: '14-02-2024',
    group: 'Boomhut',
    startDate: '2025-01-01',
  });
  await addChild(em, admin, {
    childNumber: 'K2',
    firstName: 'Noor',
    lastName: 'Ramdin',
    birthDate: '2023-05-23',
    group: 'Maastricht Wyck/Egeltjes',
    startDate: '2025-01-01',
  });
});
afterAll(() => portal?.destroy());

async function expectError(promise: Promise<unknown>, code: DomainError['code'], text?: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  if (text) expect((err as DomainError).message).toMatch(text);
}

describe('locations and groups', () => {
  it('lists locations with their group count and manager', async () => {
    const list = await listLocations(portal.em(), admin);
    expect(list.map((l) => [l.name, l.groups])).toEqual([
      ['Heerlen Centrum', 2],
      ['Maastricht Wyck', 1],
    ]);
  });

  it('refuses a second location with the same name in another case', async () => {
    await expectError(addLocation(portal.em(), admin, { name: '  heerlen centrum ' }), 'conflict', /already exists/);
  });

  it('names the field that is wrong', async () => {
    const err = await addLocation(portal.em(), admin, { name: 'X', phone: 'call me' }).catch((e) => e);
    expect(err.details).toEqual([{ path: 'phone', message: expect.stringMatching(/phone number/) }]);
  });

  it('finds a group by name alone when it is unique, and asks which when it is not', async () => {
    await addGroup(portal.em(), admin, { location: 'Maastricht Wyck', name: 'Kikkers' });
    await expectError(updateGroup(portal.em(), admin, 'Kikkers', { capacity: 10 }), 'conflict', /Heerlen Centrum\/Kikkers/);
    const g = await updateGroup(portal.em(), admin, 'Maastricht Wyck/Kikkers', { capacity: 10 });
    expect(g.capacity).toBe(10);
  });

  it('does not remove a group that still has children, and archives an empty one', async () => {
    await expectError(removeGroup(portal.em(), admin, 'Boomhut'), 'conflict', /1 current or planned placement/);
    const removed = await removeGroup(portal.em(), admin, 'Maastricht Wyck/Kikkers');
    expect(removed.archived).toBe(true);
    const names = (await listGroups(portal.em(), admin, { location: 'Maastricht Wyck' })).map((g) => g.name);
    expect(names).toEqual(['Egeltjes']);
  });

  it('sets a manager only when that staff member has the manager role', async () => {
    await addStaff(portal.em(), admin, { email: 'pm@example.nl', firstName: 'Piet', lastName: 'Mol', role: 'staff' });
    await expectError(updateLocation(portal.em(), admin, 'Heerlen Centrum', { manager: 'pm@example.nl' }), 'validation');
    await addStaff(portal.em(), admin, { email: 'LH@example.nl', firstName: 'Lies', lastName: 'Hoofd', role: 'manager' });
    const l = await updateLocation(portal.em(), admin, 'Heerlen Centrum', { manager: 'lh@example.nl' });
    expect(l.manager).toEqual({ email: 'lh@example.nl', name: 'Lies Hoofd' });
  });
});

describe('children', () => {
  it('refuses a birth date in the future and writes nothing', async () => {
    const before = await portal.em().count(Child, {});
    await expectError(
      addChild(portal.em(), admin, {
        childNumber: 'K99',
        firstName: 'Toekomst',
        lastName: 'Kind',
        birthDate: addDays(portal.clock.today(), 1),
        group: 'Boomhut',
      }),
      'validation',
      /birthDate: lies in the future/,
    );
    await expectError(
      addChild(portal.em(), admin, { childNumber: 'K98', firstName: 'A', lastName: 'B', birthDate: '2024-01-01', group: 'Nergens' }),
      'not_found',
      /group "Nergens"/,
    );
    expect(await portal.em().count(Child, {})).toBe(before);
  });

  it('moves a child: the old placement ends the day before, history kept', async () => {
    const moved = await moveChild(portal.em(), admin, 'K1', { group: 'Heerlen Centrum/Kikkers' });
    expect(moved.group).toBe('Heerlen Centrum/Kikkers');
    expect(moved.placements).toEqual([
      { location: 'Heerlen Centrum', group: 'Boomhut', startDate: '2025-01-01', endDate: addDays(portal.clock.today(), -1) },
      { location: 'Heerlen Centrum', group: 'Kikkers', startDate: portal.clock.today(), endDate: null },
    ]);
  });

  it('lets a child leave: placement ends, the child drops out of lists', async () => {
    await addChild(portal.em(), admin, { childNumber: 'K3', firstName: 'Sam', lastName: 'Vos', birthDate: '2022-03-03', group: 'Egeltjes', startDate: '2024-01-01' });
    const left = await leaveChild(portal.em(), admin, 'K3', { date: addDays(portal.clock.today(), -1) });
    expect(left.leftOn).toBe(addDays(portal.clock.today(), -1));
    expect(left.group).toBeNull();
    const numbers = (await listChildren(portal.em(), admin)).map((c) => c.childNumber);
    expect(numbers).not.toContain('K3');
    expect((await listChildren(portal.em(), admin, { includeLeft: true })).map((c) => c.childNumber)).toContain('K3');
  });
});

describe('consent', () => {
  it('keeps every statement, newest in force', async () => {
    await setConsent(portal.em(), admin, 'K2', { internal: 'ja', external: 'nee' });
    const again = await setConsent(portal.em(), admin, 'K2', { internal: 'Ja', external: 'Nee' });
    expect(again.changed).toBe(false);
    const later = await setConsent(portal.em(), admin, 'K2', { internal: false, external: false, note: 'ingetrokken' });
    expect(later.current).toMatchObject({ internal: false, external: false, recordedBy: 'cli:test', source: 'cli' });
    expect(later.history.map((h) => h.internal)).toEqual([false, true]);
  });

  it('refuses a value other than yes/no and records nothing', async () => {
    const before = await portal.em().count(ConsentRecord, {});
    await expectError(setConsent(portal.em(), admin, 'K2', { internal: 'misschien', external: 'nee' }), 'validation', /internal: "misschien" is not yes or no/);
    expect(await portal.em().count(ConsentRecord, {})).toBe(before);
  });

  it('cannot be overwritten, not even with SQL', async () => {
    await expect(portal.em().getConnection().execute('update consent_record set internal = true')).rejects.toThrow(/never updated/);
  });

  it('lists children without internal consent', async () => {
    const missing = await listConsent(portal.em(), admin, { missing: true });
    expect(missing.map((c) => c.childNumber).sort()).toEqual(['K1', 'K2']);
  });
});

describe('parents', () => {
  it('normalises the e-mail and refuses the same address in another case', async () => {
    const p = await addParent(portal.em(), admin, { email: '  Miriam.Berg@Example.NL ', firstName: 'Miriam', infix: 'van den', lastName: 'Berg', children: ['K1'] });
    expect(p.email).toBe('miriam.berg@example.nl');
    expect(p.language).toBe('nl');
    const before = await portal.em().count(Parent, {});
    await expectError(addParent(portal.em(), admin, { email: 'MIRIAM.BERG@example.nl', firstName: 'M', lastName: 'B' }), 'conflict', /already exists/);
    expect(await portal.em().count(Parent, {})).toBe(before);
  });

  it('links and unlinks children, many to many', async () => {
    await addParent(portal.em(), admin, { email: 'fatima@example.nl', firstName: 'Fatima', lastName: 'Ramdin' });
    await linkParent(portal.em(), admin, 'fatima@example.nl', 'K2');
    const both = await linkParent(portal.em(), admin, 'fatima@example.nl', 'K1');
    expect(both.children.map((c) => c.childNumber).sort()).toEqual(['K1', 'K2']);
    expect((await linkParent(portal.em(), admin, 'fatima@example.nl', 'K1')).changed).toBe(false);
    const one = await unlinkParent(portal.em(), admin, 'fatima@example.nl', 'K1');
    expect(one.children.map((c) => c.childNumber)).toEqual(['K2']);
    const k1 = await showChild(portal.em(), admin, 'K1');
    expect(k1.parents.map((p) => p.email)).toEqual(['miriam.berg@example.nl']);
  });
});

describe('scoping by actor', () => {
  it('a parent sees only their own children; another child is not found', async () => {
    const miriam = await portal.em().findOneOrFail(Parent, { email: 'miriam.berg@example.nl' });
    const parent: Actor = { kind: 'parent', parentId: miriam.id, label: 'parent' };
    expect((await listChildren(portal.em(), parent)).map((c) => c.childNumber)).toEqual(['K1']);
    await expectError(showChild(portal.em(), parent, 'K2'), 'not_found');
    await expectError(showConsent(portal.em(), parent, 'K2'), 'not_found');
    await expectError(showParent(portal.em(), parent, 'fatima@example.nl'), 'not_found');
    expect((await listParents(portal.em(), parent)).map((p) => p.email)).toEqual(['miriam.berg@example.nl']);
  });

  it('staff see the children of their groups only, and cannot change the directory', async () => {
    await addStaff(portal.em(), admin, { email: 'egel@example.nl', firstName: 'Eva', lastName: 'Gel', role: 'staff' });
    await expectError(assignStaff(portal.em(), admin, 'egel@example.nl', { location: 'Maastricht Wyck' }), 'validation');
    await assignStaff(portal.em(), admin, 'egel@example.nl', { group: 'Egeltjes' });
    const staffRow = (await listStaff(portal.em(), admin, { group: 'Egeltjes' })).map((s) => s.email);
    expect(staffRow).toEqual(['egel@example.nl']);
    const { Staff } = await import('../entities/staff.ts');
    const eva = await portal.em().findOneOrFail(Staff, { email: 'egel@example.nl' });
    const staff: Actor = { kind: 'staff', staffId: eva.id, label: 'staff' };
    expect((await listChildren(portal.em(), staff)).map((c) => c.childNumber)).toEqual(['K2']);
    await expectError(showChild(portal.em(), staff, 'K1'), 'not_found');
    await expectError(showLocation(portal.em(), staff, 'Heerlen Centrum'), 'not_found');
    await expectError(addGroup(portal.em(), staff, { location: 'Maastricht Wyck', name: 'Stiekem' }), 'forbidden');
  });
});
