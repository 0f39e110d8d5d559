import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../test/zip.ts';
import { seedMentorWorld } from '../../test/mentor-world.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import type { Actor } from '../actor.ts';
import { exportParentData } from '../gdpr/export.ts';
import { parentHome } from '../home/home.ts';
import { importPlanningExport } from '../import/planning-import.ts';
import { Child, Placement } from '../entities/child.ts';
import { Group } from '../entities/group.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import { childMentor, initials, mentorBoard, myMentorChildren, setChildMentor } from './mentor.ts';
import { addStaff, assignStaff, deactivateStaff, reactivateStaff, removeStaff, unassignStaff } from './staff.ts';

/**
 * The mentor from every side: who may set whom (the manager of the location, the terminal; staff
 * of the child's group only), what parents see (a valid mentor only: not a deactivated one, not
 * one who left the group), the mentor's own list, the import's Mentor column, the AVG export.
 * World: Centrum (Boomhut, Kikkers) and Wyck (Egeltjes). Evi (K1) and Noor (K2) in Boomhut,
 * Mats (K4) in Egeltjes. Mia and Nina work in Boomhut, Kees in Kikkers, Otto in Egeltjes; Lena
 * manages Centrum, Wim manages Wyck. Anna is Evi's parent, Bert is Noor's.
 */

let portal: TestPortal;
const actor = {} as Record<'lena' | 'wim' | 'mia' | 'otto' | 'anna' | 'bert', Actor>;
const id = {} as Record<'evi' | 'noor' | 'mats', number>;

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await seedMentorWorld(em);
  const staffId = async (e: string) => (await portal.em().findOneOrFail(Staff, { email: e })).id;
  const parentId = async (e: string) => (await portal.em().findOneOrFail(Parent, { email: e })).id;
  actor.lena = { kind: 'manager', staffId: await staffId('lena@example.nl'), label: 'lena' };
  actor.wim = { kind: 'manager', staffId: await staffId('wim@example.nl'), label: 'wim' };
  actor.mia = { kind: 'staff', staffId: await staffId('mia@example.nl'), label: 'mia' };
  actor.otto = { kind: 'staff', staffId: await staffId('otto@example.nl'), label: 'otto' };
  actor.anna = { kind: 'parent', parentId: await parentId('anna@example.nl'), label: 'anna' };
  actor.bert = { kind: 'parent', parentId: await parentId('bert@example.nl'), label: 'bert' };
  for (const [k, n] of [
    ['evi', 'K1'],
    ['noor', 'K2'],
    ['mats', 'K4'],
  ] as const) {
    id[k] = (await portal.em().findOneOrFail(Child, { childNumber: n })).id;
  }
});
afterAll(() => portal?.destroy());

const mentorOf = async (childId: number) => (await portal.em().findOneOrFail(Child, { id: childId }, { populate: ['mentor'] })).mentor?.email ?? null;
const homeMentor = async (who: Actor) => (await parentHome(portal.em(), who)).children[0]?.mentor ?? null;

describe('setting a mentor', () => {
  it('lets the location manager choose staff of the child\'s group, and says so in the audit log', async () => {
    const change = await setChildMentor(portal.em(), actor.lena, { id: id.evi }, { email: 'mia@example.nl' });
    expect(change).toMatchObject({ changed: true, from: null, to: 'Mia de Vries <mia@example.nl>' });
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    const again = await setChildMentor(portal.em(), actor.lena, { id: id.evi }, { email: 'MIA@example.nl ' });
    expect(again.changed).toBe(false);
    const [event] = await portal.em().getConnection().execute(`select details from audit_event where type = 'child.mentor_set' order by id desc limit 1`);
    expect(event?.details).toMatchObject({ from: null, to: 'Mia de Vries <mia@example.nl>' });
  });

  it('refuses staff of another group (even of the same location) as a validation error on the mentor field', async () => {
    const kees = await refusal(setChildMentor(portal.em(), actor.lena, { id: id.noor }, { email: 'kees@example.nl' }));
    expect(kees.code).toBe('validation');
    expect(kees.details[0]?.path).toBe('mentor');
    expect(kees.message).toMatch(/kees@example.nl does not work in the group of child K2: Centrum\/Boomhut/);
    const stranger = await refusal(setChildMentor(portal.em(), actor.lena, { id: id.noor }, { email: 'niemand@example.nl' }));
    expect(stranger.code).toBe('validation');
    // The manager is assigned to the location, not to the group: not a mentor.
    expect((await refusal(setChildMentor(portal.em(), actor.lena, { id: id.noor }, { email: 'lena@example.nl' }))).code).toBe('validation');
    expect(await mentorOf(id.noor)).toBeNull();
  });

  it("answers a manager of another location, staff and parents with not found, whatever the child's id", async () => {
    for (const who of [actor.wim, actor.mia, actor.anna]) {
      const err = await refusal(setChildMentor(portal.em(), who, { id: id.evi }, { email: 'nina@example.nl' }));
      expect(err.code).toBe('not_found');
    }
    expect((await refusal(setChildMentor(portal.em(), actor.lena, { id: id.mats }, { email: 'otto@example.nl' }))).code).toBe('not_found');
    expect((await refusal(setChildMentor(portal.em(), actor.lena, { id: 987654 }, null))).code).toBe('not_found');
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    expect(await mentorOf(id.mats)).toBeNull();
  });

  it('works from the terminal by child number, with a dry run that saves nothing', async () => {
    const dry = await setChildMentor(portal.em(), admin, { number: 'K4' }, { email: 'otto@example.nl' }, { dryRun: true });
    expect(dry).toMatchObject({ changed: true, dryRun: true, to: 'Otto de Vries <otto@example.nl>' });
    expect(await mentorOf(id.mats)).toBeNull();
    await setChildMentor(portal.em(), admin, { number: 'K4' }, { email: 'otto@example.nl' });
    expect(await mentorOf(id.mats)).toBe('otto@example.nl');
    await setChildMentor(portal.em(), admin, { number: 'K4' }, null);
    expect(await mentorOf(id.mats)).toBeNull();
  });
});

describe('what parents and the mentor see', () => {
  it("shows the parent their own child's mentor, and another child's mentor to nobody", async () => {
    expect(await homeMentor(actor.anna)).toEqual({ name: 'Mia de Vries' });
    expect(await childMentor(portal.em(), actor.anna, id.evi)).toEqual({ name: 'Mia de Vries' });
    // Bert's child has no mentor; Evi's is not his to see.
    expect(await homeMentor(actor.bert)).toBeNull();
    expect((await refusal(childMentor(portal.em(), actor.bert, id.evi))).code).toBe('not_found');
    expect((await refusal(childMentor(portal.em(), actor.bert, 2_147_483_647))).code).toBe('not_found');
  });

  it("lists the mentor's own children for the mentor only", async () => {
    expect(await myMentorChildren(portal.em(), actor.mia)).toEqual([{ id: id.evi, name: 'Evi Test', groupName: 'Boomhut', locationName: 'Centrum' }]);
    expect(await myMentorChildren(portal.em(), actor.otto)).toEqual([]);
    expect(await myMentorChildren(portal.em(), actor.anna)).toEqual([]);
  });

  it('hides a deactivated mentor from parents and flags it for the manager; reactivated, the mentor is back', async () => {
    await deactivateStaff(portal.em(), admin, 'mia@example.nl', { reason: 'verlof' });
    expect(await homeMentor(actor.anna)).toBeNull();
    const board = await mentorBoard(portal.em(), actor.lena);
    expect(board.map((g) => g.name)).toEqual(['Boomhut']);
    expect(board[0]!.children.find((c) => c.id === id.evi)).toMatchObject({ mentorName: 'Mia de Vries', problem: 'inactive' });
    // Nobody deactivated can be chosen.
    expect(board[0]!.staff.map((s) => s.name)).toEqual(['Nina de Vries']);
    expect((await refusal(setChildMentor(portal.em(), actor.lena, { id: id.noor }, { email: 'mia@example.nl' }))).message).toMatch(/deactivated/);
    await reactivateStaff(portal.em(), admin, 'mia@example.nl');
    expect(await homeMentor(actor.anna)).toEqual({ name: 'Mia de Vries' });
  });

  it('keeps the mentor of a staff member who left the group until changed, shown to no parent, flagged on the page', async () => {
    await assignStaff(portal.em(), admin, 'mia@example.nl', { group: 'Kikkers' });
    await unassignStaff(portal.em(), admin, 'mia@example.nl', { group: 'Boomhut' });
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    expect(await homeMentor(actor.anna)).toBeNull();
    const evi = (await mentorBoard(portal.em(), actor.lena))[0]!.children.find((c) => c.id === id.evi);
    expect(evi).toMatchObject({ problem: 'notInGroup' });
    expect(await myMentorChildren(portal.em(), actor.mia)).toEqual([]);
    await assignStaff(portal.em(), admin, 'mia@example.nl', { group: 'Boomhut' });
  });

  it('shows the mentor of a child in two groups on its one card, whichever group the card names', async () => {
    // Evi also goes to Kikkers from June: her card names the newer group; Mia works in Boomhut.
    const em = portal.em();
    const kikkers = await em.findOneOrFail(Group, { name: 'Kikkers' });
    em.create(Placement, { child: id.evi, group: kikkers, startDate: '2026-06-01', endDate: null });
    await em.flush();
    const home = await parentHome(portal.em(), actor.anna);
    expect(home.children).toHaveLength(1);
    expect(home.children[0]).toMatchObject({ groupName: 'Kikkers', mentor: { name: 'Mia de Vries' } });
    expect(await childMentor(portal.em(), actor.anna, id.evi)).toEqual({ name: 'Mia de Vries' });
    await portal.em().nativeDelete(Placement, { child: id.evi, group: kikkers.id });
    expect(await homeMentor(actor.anna)).toEqual({ name: 'Mia de Vries' });
  });

  it('empties the mentor when the staff record is removed', async () => {
    await addStaff(portal.em(), admin, { email: 'tijdelijk@example.nl', firstName: 'Tim', lastName: 'Tijdelijk', role: 'staff' });
    await assignStaff(portal.em(), admin, 'tijdelijk@example.nl', { group: 'Boomhut' });
    await setChildMentor(portal.em(), actor.lena, { id: id.noor }, { email: 'tijdelijk@example.nl' });
    await removeStaff(portal.em(), admin, 'tijdelijk@example.nl');
    expect(await mentorOf(id.noor)).toBeNull();
  });

  it("puts the mentor's name in the parent's AVG export", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mentor-')), 'anna.zip');
    await exportParentData(portal.em(), portal.photos, admin, 'anna@example.nl', file);
    const data = JSON.parse(readZip(readFileSync(file)).get('gegevens.json')!.toString('utf8'));
    expect(data.children).toEqual([expect.objectContaining({ child_number: 'K1', mentor: 'Mia de Vries' })]);
  });

  it('draws initials for the badge', () => {
    expect(initials('Mia de Vries')).toBe('MV');
    expect(initials('Otto')).toBe('O');
  });
});

describe("the planning import's Mentor column", () => {
  const file = (rows: string[]) => ['Locatie;Groep;Kindnummer;Roepnaam kind;Achternaam kind;Geboortedatum;Mentor', ...rows].join('\n');

  it('sets the mentor from a staff e-mail and leaves it alone for an empty cell', async () => {
    const report = await importPlanningExport(portal.em(), admin, {
      source: file(['Centrum;Boomhut;K2;Noor;Test;2023-01-01;nina@example.nl', 'Centrum;Boomhut;K1;Evi;Test;2023-01-01;']),
      date: '2026-01-05',
    });
    expect(report.rowErrors).toEqual([]);
    expect(await mentorOf(id.noor)).toBe('nina@example.nl');
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
  });

  it('refuses staff of another group by line and column, and imports nothing', async () => {
    const report = await importPlanningExport(portal.em(), admin, {
      source: file(['Centrum;Boomhut;K1;Evi;Test;2023-01-01;nina@example.nl', 'Centrum;Boomhut;K2;Noor;Test;2023-01-01;otto@example.nl']),
      date: '2026-01-05',
    });
    expect(report.rowErrors).toEqual([{ line: 3, column: 'Mentor', message: expect.stringMatching(/otto@example.nl does not work in the row's group/) }]);
    expect(report.applied).toBe(false);
    expect(await mentorOf(id.evi)).toBe('mia@example.nl');
    expect(await mentorOf(id.noor)).toBe('nina@example.nl');
  });
});
