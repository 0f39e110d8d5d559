import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { suspendParent } from '../accounts/suspension.ts';
import { createSession, hashSessionId, lookupSession, type SessionSettings } from '../auth/sessions.ts';
import { addDays } from '../dates.ts';
import { addChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Account, Session } from '../entities/account.ts';
import { Child } from '../entities/child.ts';
import { Group } from '../entities/group.ts';
import { Parent } from '../entities/parent.ts';
import { Photo, PhotoTag } from '../entities/photo.ts';
import { Staff, type StaffRole } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import { thumbForSession } from './image-gate.ts';
import { imageKeyForActor } from './visibility.ts';

/**
 * The thumbnail's one-statement gate from the side of whoever must get nothing: another family,
 * a withdrawn consent, a suspended parent, a timed-out or half-finished session, staff of another
 * location. And the same answers as the ordinary way (lookupSession, then imageKeyForActor) for
 * every session and photo, so the gate can never be a second, drifting rule.
 */

let portal: TestPortal;
let settings: SessionSettings;
const photos: Record<string, string> = {};
const thumbKeys: Record<string, string> = {};
let seq = 0;

async function photo(name: string, group: string, tags: string[], extra: { noChildConfirmed?: boolean; thumb?: boolean } = {}) {
  const em = portal.em();
  const key = `${(++seq).toString(16).padStart(2, '0')}${'ab'.repeat(31)}`;
  const p = em.create(Photo, {
    group: await em.findOneOrFail(Group, { name: group }),
    takenAt: new Date(portal.clock.now().getTime() - seq * 60_000),
    state: 'ready',
    noChildConfirmed: extra.noChildConfirmed ?? false,
    caption: name,
    thumbKey: extra.thumb === false ? null : key,
  });
  for (const number of tags) {
    em.create(PhotoTag, { photo: p, child: await em.findOneOrFail(Child, { childNumber: number }), taggedBy: 'test' });
  }
  await em.flush();
  photos[name] = p.id;
  thumbKeys[name] = key;
}

async function account(email: string, extra: { mustChange?: boolean } = {}): Promise<number> {
  const em = portal.em();
  const parent = await em.findOne(Parent, { email });
  const staff = parent ? null : await em.findOneOrFail(Staff, { email });
  const a = em.create(Account, { email, parent, staff, passwordHash: 'x', passwordMustChange: extra.mustChange ?? false, passwordExpiresAt: null });
  await em.flush();
  return a.id;
}

async function session(accountId: number, options: { secondFactorPending?: boolean } = {}): Promise<string> {
  const em = portal.em();
  const a = await em.findOneOrFail(Account, { id: accountId }, { populate: ['parent', 'staff'] });
  return (await createSession(em, settings, a, options)).token;
}

const gate = async (token: string | undefined, name: string, s = settings) => await thumbForSession(portal.em(), s, token, photos[name] ?? name);
const lastSeen = async (token: string) => (await portal.em().findOne(Session, { idHash: hashSessionId(token) }))?.lastSeenAt.getTime();

/** The ordinary way's answer: lookupSession, the login gate's "owes a step", then imageKeyForActor. */
async function ordinary(token: string, photoId: string, s = settings): Promise<string | undefined> {
  const em = portal.em();
  const info = await lookupSession(em, s, token, { touch: false });
  if (!info || info.secondFactorPending || info.mustChangePassword || info.mustEnrolSecondFactor) return undefined;
  try {
    return await imageKeyForActor(em, info.actor, photoId, 'thumb');
  } catch (err) {
    if (err instanceof DomainError && err.code === 'not_found') return undefined;
    throw err;
  }
}

const tokens: Record<string, string> = {};

beforeAll(async () => {
  portal = await createTestPortal();
  settings = portal.config.auth;
  const em = portal.em();
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Noord' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  await addGroup(em, admin, { location: 'Noord', name: 'Zolder' });
  const since = addDays(portal.clock.today(), -10);
  for (const [n, name, group] of [['K1', 'Evi', 'Boomhut'], ['K2', 'Sam', 'Boomhut'], ['K9', 'Lot', 'Zolder']] as const) {
    await addChild(em, admin, { childNumber: n, firstName: name, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, n, { internal: 'ja', external: 'nee' });
  }
  for (const [email, child] of [['anna@example.nl', 'K1'], ['bram@example.nl', 'K2'], ['eva@example.nl', 'K9'], ['cor@example.nl', 'K1']] as const) {
    await addParent(em, admin, { email, firstName: 'Ouder', lastName: 'Test', children: [child] });
    tokens[email] = await session(await account(email));
  }
  const staff: [string, StaffRole, { group?: string; location?: string } | undefined][] = [
    ['mia@example.nl', 'staff', { group: 'Boomhut' }],
    ['otto@example.nl', 'staff', { group: 'Zolder' }],
    ['max@example.nl', 'manager', { location: 'Centrum' }],
    ['ada@example.nl', 'admin', undefined],
  ];
  for (const [email, role, where] of staff) {
    await addStaff(em, admin, { email, firstName: 'Mede', lastName: 'Werker', role });
    if (where) await assignStaff(em, admin, email, where);
    tokens[email] = await session(await account(email));
  }
  await addParent(em, admin, { email: 'nieuw@example.nl', firstName: 'Nieuw', lastName: 'Test', children: ['K1'] });
  tokens['must change'] = await session(await account('nieuw@example.nl', { mustChange: true }));
  tokens['second factor pending'] = await session((await portal.em().findOneOrFail(Account, { email: 'anna@example.nl' })).id, { secondFactorPending: true });

  await photo('Evi', 'Boomhut', ['K1']);
  await photo('Sam', 'Boomhut', ['K2']);
  await photo('Evi and Sam', 'Boomhut', ['K1', 'K2']);
  await photo('held', 'Boomhut', []);
  await photo('nobody, confirmed', 'Boomhut', [], { noChildConfirmed: true });
  await photo('no thumbnail yet', 'Boomhut', ['K1'], { thumb: false });
  await photo('Lot', 'Zolder', ['K9']);
});
afterAll(() => portal?.destroy());

describe('the thumbnail gate', () => {
  it('serves a parent the shareable photos of their child\'s group, with the store key; another family\'s photo is not found', async () => {
    expect(await gate(tokens['anna@example.nl'], 'Evi')).toMatchObject({ serve: true, key: thumbKeys['Evi'] });
    expect(await gate(tokens['anna@example.nl'], 'Sam')).toMatchObject({ serve: true, key: thumbKeys['Sam'] });
    expect(await gate(tokens['anna@example.nl'], 'nobody, confirmed')).toMatchObject({ serve: true });
    for (const name of ['Lot', 'held', 'no thumbnail yet', '00000000-0000-4000-8000-000000000000', 'niet-een-id']) {
      expect(await gate(tokens['anna@example.nl'], name), name).toEqual({ serve: false, why: 'not found' });
    }
    expect(await gate(tokens['eva@example.nl'], 'Evi')).toEqual({ serve: false, why: 'not found' });
  });

  it('staff see their own groups\' photos, held ones included; a manager those of the location; an admin all; staff elsewhere nothing', async () => {
    expect(await gate(tokens['mia@example.nl'], 'held')).toMatchObject({ serve: true, key: thumbKeys['held'] });
    expect(await gate(tokens['mia@example.nl'], 'Lot')).toEqual({ serve: false, why: 'not found' });
    expect(await gate(tokens['otto@example.nl'], 'Evi')).toEqual({ serve: false, why: 'not found' });
    expect(await gate(tokens['otto@example.nl'], 'Lot')).toMatchObject({ serve: true });
    expect(await gate(tokens['max@example.nl'], 'held')).toMatchObject({ serve: true });
    expect(await gate(tokens['max@example.nl'], 'Lot')).toEqual({ serve: false, why: 'not found' });
    expect(await gate(tokens['ada@example.nl'], 'Lot')).toMatchObject({ serve: true });
  });

  it('no cookie, a malformed or unknown one opens nothing', async () => {
    expect(await gate(undefined, 'Evi')).toEqual({ serve: false, why: 'no session' });
    expect(await gate('kort', 'Evi')).toEqual({ serve: false, why: 'no session' });
    expect(await gate('A'.repeat(43), 'Evi')).toEqual({ serve: false, why: 'no session' });
  });

  it('a session that owes a step (generated password, second factor, second-factor set-up) gets no image', async () => {
    expect(await gate(tokens['must change'], 'Evi')).toEqual({ serve: false, why: 'gated' });
    expect(await gate(tokens['second factor pending'], 'Evi')).toEqual({ serve: false, why: 'gated' });
    // Staff without a second factor where the portal requires one: gated; the same session without that rule serves.
    const strict = { ...settings, requireSecondFactorForStaff: true };
    expect(await gate(tokens['mia@example.nl'], 'Evi', strict)).toEqual({ serve: false, why: 'gated' });
    expect(await gate(tokens['anna@example.nl'], 'Evi', strict)).toMatchObject({ serve: true });
    expect(await gate(tokens['mia@example.nl'], 'Evi')).toMatchObject({ serve: true });
  });

  it('a withdrawn consent refuses the photo on the very next request, for every parent; a new grant serves it again', async () => {
    expect(await gate(tokens['bram@example.nl'], 'Evi and Sam')).toMatchObject({ serve: true });
    await setConsent(portal.em(), admin, 'K1', { internal: 'nee', external: 'nee' });
    expect(await gate(tokens['bram@example.nl'], 'Evi and Sam')).toEqual({ serve: false, why: 'not found' });
    expect(await gate(tokens['anna@example.nl'], 'Evi')).toEqual({ serve: false, why: 'not found' });
    expect(await gate(tokens['bram@example.nl'], 'Sam')).toMatchObject({ serve: true });
    await setConsent(portal.em(), admin, 'K1', { internal: 'ja', external: 'nee' });
    expect(await gate(tokens['anna@example.nl'], 'Evi')).toMatchObject({ serve: true });
  });

  it('a suspended account gets nothing on the next request, even should a session of it survive', async () => {
    const em = portal.em();
    // A session the suspension did not end (it ends them all; the gate checks again anyway).
    await em.nativeUpdate(Account, { email: 'cor@example.nl' }, { suspendedAt: portal.clock.now() });
    expect(await gate(tokens['cor@example.nl'], 'Evi')).toEqual({ serve: false, why: 'ended' });
    expect(await lastSeen(tokens['cor@example.nl']!)).toBeDefined(); // left for lookupSession to delete
    await em.nativeUpdate(Account, { email: 'cor@example.nl' }, { suspendedAt: null });
    expect(await gate(tokens['cor@example.nl'], 'Evi')).toMatchObject({ serve: true });
    await suspendParent(portal.em(), admin, 'cor@example.nl', 'foto gedeeld');
    expect(await gate(tokens['cor@example.nl'], 'Evi')).toEqual({ serve: false, why: 'no session' });
  });

  it('an inactive staff member gets nothing, whatever session they hold', async () => {
    const em = portal.em();
    await em.nativeUpdate(Staff, { email: 'otto@example.nl' }, { active: false });
    expect(await gate(tokens['otto@example.nl'], 'Lot')).toEqual({ serve: false, why: 'ended' });
    await em.nativeUpdate(Staff, { email: 'otto@example.nl' }, { active: true });
    expect(await gate(tokens['otto@example.nl'], 'Lot')).toMatchObject({ serve: true });
  });

  it('past the idle limit or the absolute end a session opens nothing; activity is recorded once a minute, as lookupSession does', async () => {
    const em = portal.em();
    const token = await session((await em.findOneOrFail(Account, { email: 'bram@example.nl' })).id);
    const idHash = hashSessionId(token);
    const now = portal.clock.now().getTime();
    // Seen 59 s ago: not written again; 61 s ago: written with the clock's now.
    await em.nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(now - 59_000) });
    expect(await gate(token, 'Sam')).toMatchObject({ serve: true });
    expect(await lastSeen(token)).toBe(now - 59_000);
    await em.nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(now - 61_000) });
    expect(await gate(token, 'Sam')).toMatchObject({ serve: true });
    expect(await lastSeen(token)).toBe(now);
    // A refused photo still counts as activity of a live session (lookupSession runs before any route).
    await em.nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(now - 61_000) });
    expect(await gate(token, 'Lot')).toEqual({ serve: false, why: 'not found' });
    expect(await lastSeen(token)).toBe(now);
    // A gated session is recorded too (lookupSession does so before the login gate sends it on).
    const gated = hashSessionId(tokens['must change']!);
    await em.nativeUpdate(Session, { idHash: gated }, { lastSeenAt: new Date(now - 61_000) });
    expect(await gate(tokens['must change'], 'Evi')).toEqual({ serve: false, why: 'gated' });
    expect(await lastSeen(tokens['must change']!)).toBe(now);
    // Idle: exactly at the limit it has ended, and an ended session is not revived by the touch.
    const idle = now - settings.sessionIdleMinutes * 60_000;
    await em.nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(idle) });
    expect(await gate(token, 'Sam')).toEqual({ serve: false, why: 'ended' });
    expect(await lastSeen(token)).toBe(idle);
    await em.nativeUpdate(Session, { idHash }, { lastSeenAt: new Date(idle + 1000) });
    expect(await gate(token, 'Sam')).toMatchObject({ serve: true });
    // Absolute end.
    await em.nativeUpdate(Session, { idHash }, { expiresAt: new Date(now) });
    expect(await gate(token, 'Sam')).toEqual({ serve: false, why: 'ended' });
  });

  it('gives the same answer as the ordinary way for every session and photo', async () => {
    const strict = { ...settings, requireSecondFactorForStaff: true };
    let served = 0;
    for (const s of [settings, strict]) {
      for (const [who, token] of Object.entries(tokens)) {
        for (const [name, id] of Object.entries(photos)) {
          const verdict = await gate(token, name, s);
          const expected = await ordinary(token, id, s);
          expect(verdict.serve ? verdict.key : undefined, `${who} ${name} ${s.requireSecondFactorForStaff}`).toBe(expected);
          if (verdict.serve) served++;
        }
      }
    }
    // Both kinds of answer occur (the comparison is not vacuous).
    expect(served).toBeGreaterThan(10);
  });
});
