import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccount } from '../../http/testing.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { createSession, lookupSession, type SessionInfo } from '../auth/sessions.ts';
import { createThrottle, type Throttle } from '../auth/throttle.ts';
import { addDays } from '../dates.ts';
import { addChild, leaveChild } from '../directory/children.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { initOrganisation } from '../directory/organisation.ts';
import { linkParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Account, PasswordResetToken, Session } from '../entities/account.ts';
import { Parent } from '../entities/parent.ts';
import { EmailChange } from '../entities/profile.ts';
import { Staff } from '../entities/staff.ts';
import { DomainError } from '../errors.ts';
import type { AccountMailJob } from '../mail/account-mail.ts';
import { sendAccountMail } from '../mail/account-mail-worker.ts';
import type { OutgoingMail } from '../mail/transport.ts';
import { checkDetails, getOwnProfile, updateOwnDetails, updateOwnLanguage } from './details.ts';
import { confirmEmailChange, EMAIL_CHANGE_PATH, requestEmailChange } from './email-change.ts';
import { myLocations } from './my-locations.ts';
import {
  findUnsubscribe,
  notificationHeaders,
  setNotificationMode,
  UNSUBSCRIBE_PATH,
  unsubscribe,
  unsubscribeToken,
  verifyUnsubscribeToken,
} from './notifications.ts';

const GOOD = 'paard batterij nietje correct';
let portal: TestPortal;
let throttle: Throttle;
let seq = 0;

beforeAll(async () => {
  portal = await createTestPortal();
  throttle = createThrottle(portal.em());
  await initOrganisation(portal.em(), admin, {
    name: 'Kinderopvang Zonnetje',
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: 'helpdesk@example.nl',
  });
});
afterAll(() => portal?.destroy());

const parentActor = (parentId: number) => ({ kind: 'parent' as const, label: `test:${parentId}`, parentId });

async function newParent(extra: { firstName?: string } = {}) {
  seq++;
  return await seedAccount(portal, { email: `ouder${seq}@example.nl`, password: GOOD, ...extra });
}

async function sessionOf(accountId: number): Promise<SessionInfo> {
  const em = portal.em();
  const account = await em.findOneOrFail(Account, { id: accountId }, { populate: ['parent', 'staff'] });
  const settings = portal.config.auth;
  const { token } = await createSession(em, settings, account);
  return (await lookupSession(portal.em(), settings, token))!;
}

/** Sends one queued kind of mail through a transport that keeps it. */
async function sendNow(job: AccountMailJob): Promise<OutgoingMail> {
  const sent: OutgoingMail[] = [];
  const mail = { description: 'memory', close() {}, send: async (m: OutgoingMail) => {
      sent.push(m);
      return { messageId: 'x', where: 'memory' };
    },
  };
  await sendAccountMail({ ...portal, mail }, job);
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

const tokenIn = (mail: OutgoingMail) => new RegExp(`${EMAIL_CHANGE_PATH}([\\w-]{43})`).exec(mail.text)![1]!;

describe('details', () => {
  it('normalises and checks: names required, Dutch postcode, phone, the address whole or not at all', () => {
    const ok = checkDetails({ firstName: ' Anna ', lastName: 'de  Vries', street: 'Dorpsstraat 1', postalCode: '1234ab', city: 'Heerlen' });
    expect(ok).toMatchObject({ ok: true, values: { firstName: 'Anna', lastName: 'de Vries', postalCode: '1234 AB', infix: null } });
    const bad = checkDetails({ firstName: '', lastName: 'x'.repeat(101), phone: 'bel me', street: 'Dorpsstraat 1', postalCode: '!!' });
    expect(bad).toEqual({
      ok: false,
      problems: { firstName: 'required', lastName: 'too_long', phone: 'invalid', postalCode: 'invalid', city: 'incomplete' },
    });
    expect(checkDetails({ firstName: 'A\u0000', lastName: 'B' })).toMatchObject({ ok: false, problems: { firstName: 'invalid' } });
    expect(checkDetails({ firstName: 'A', lastName: 'B', postalCode: 'B-6200' })).toMatchObject({ ok: false, problems: { street: 'incomplete' } });
  });

  it('a parent changes only their own row, with an audit event naming the fields (not the values)', async () => {
    const a = await newParent();
    const b = await newParent({ firstName: 'Bram' });
    const result = await updateOwnDetails(portal.em(), parentActor(a.personId), {
      firstName: 'Anna',
      infix: 'van',
      lastName: 'Dijk',
      phone: '06-12345678',
      street: 'Dorpsstraat 1',
      postalCode: '6411 AB',
      city: 'Heerlen',
    });
    expect(result).toEqual({ ok: true, changed: ['infix', 'lastName', 'phone', 'street', 'postalCode', 'city'] });
    const profile = await getOwnProfile(portal.em(), parentActor(a.personId));
    expect(profile).toMatchObject({ name: 'Anna van Dijk', phone: '06-12345678', postalCode: '6411 AB', notificationMode: 'digest' });
    const other = await portal.em().findOneOrFail(Parent, { id: b.personId });
    expect([other.firstName, other.lastName, other.phone ?? null, other.city ?? null]).toEqual(['Bram', 'de Vries', null, null]);
    const events = await portal.em().getConnection().execute("select details from audit_event where type = 'profile.updated' and subject = ?", [a.email]);
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0])).not.toContain('Dorpsstraat');
  });

  it('staff may change their language but not their directory details', async () => {
    const staff = await seedAccount(portal, { email: `mw${++seq}@example.nl`, password: GOOD, kind: 'staff' });
    const actor = { kind: 'staff' as const, label: 'test', staffId: staff.personId };
    await expect(updateOwnDetails(portal.em(), actor, { firstName: 'X', lastName: 'Y' })).rejects.toThrow(DomainError);
    await updateOwnLanguage(portal.em(), actor, 'en');
    expect((await getOwnProfile(portal.em(), actor)).language).toBe('en');
    expect((await getOwnProfile(portal.em(), actor)).editable).toBe(false);
  });
});

describe('notification preferences and the unsubscribe token', () => {
  it('default is the daily digest; the parent can choose', async () => {
    const a = await newParent();
    expect((await getOwnProfile(portal.em(), parentActor(a.personId))).notificationMode).toBe('digest');
    await setNotificationMode(portal.em(), parentActor(a.personId), 'immediate');
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('immediate');
    await expect(setNotificationMode(portal.em(), parentActor(a.personId), 'often' as never)).rejects.toThrow(/off, immediate or digest/);
  });

  it('a token names one parent: altered, swapped or forged tokens are refused', async () => {
    const a = await newParent();
    const b = await newParent();
    const em = portal.em();
    const ta = await unsubscribeToken(em, a.personId);
    const tb = await unsubscribeToken(em, b.personId);
    expect(await verifyUnsubscribeToken(em, ta)).toBe(a.personId);
    expect(await unsubscribeToken(portal.em(), a.personId)).toBe(ta); // stable: one key for every process
    const [, macA] = ta.split('.');
    const [, macB] = tb.split('.');
    expect(await verifyUnsubscribeToken(em, `${b.personId}.${macA}`)).toBeUndefined(); // a's signature on b's id
    expect(await verifyUnsubscribeToken(em, `${a.personId}.${macB}`)).toBeUndefined();
    const flipped = `${ta.slice(0, -1)}${ta.endsWith('A') ? 'B' : 'A'}`;
    expect(await verifyUnsubscribeToken(em, flipped)).toBeUndefined();
    expect(await verifyUnsubscribeToken(em, `${a.personId}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(await verifyUnsubscribeToken(em, `0${ta}`)).toBeUndefined();
    expect(await verifyUnsubscribeToken(em, '')).toBeUndefined();
    expect(await unsubscribe(em, `${b.personId}.${macA}`)).toBe(false);
    expect((await em.fork().findOneOrFail(Parent, { id: b.personId })).notificationMode).toBe('digest');

    expect(await unsubscribe(portal.em(), ta, { oneClick: true })).toBe(true);
    expect((await portal.em().findOneOrFail(Parent, { id: a.personId })).notificationMode).toBe('off');
    expect((await portal.em().findOneOrFail(Parent, { id: b.personId })).notificationMode).toBe('digest');
    expect(await unsubscribe(portal.em(), ta)).toBe(true); // again: still fine, nothing more happens
    expect(await findUnsubscribe(portal.em(), ta)).toMatchObject({ parentId: a.personId, mode: 'off', maskedEmail: `o…@example.nl` });
  });

  it('a new key voids every old link', async () => {
    const a = await newParent();
    const token = await unsubscribeToken(portal.em(), a.personId);
    await portal.em().getConnection().execute("delete from server_secret where name = 'unsubscribe'");
    expect(await verifyUnsubscribeToken(portal.em(), token)).toBeUndefined();
    expect(await unsubscribeToken(portal.em(), a.personId)).not.toBe(token);
  });

  it('notificationHeaders: a one-click List-Unsubscribe at the public URL', async () => {
    const a = await newParent();
    const headers = await notificationHeaders({ em: portal.em(), config: portal.config }, { id: a.personId });
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = /^<(.+)>$/.exec(headers['List-Unsubscribe']!)![1]!;
    expect(url.startsWith(`https://ouders.example.nl${UNSUBSCRIBE_PATH}${a.personId}.`)).toBe(true);
    expect(await verifyUnsubscribeToken(portal.em(), url.split('/').pop()!)).toBe(a.personId);
  });
});

describe('changing the e-mail address', () => {
  it('refuses an empty, malformed or unchanged address and a wrong password, per field; a taken one looks accepted', async () => {
    const a = await newParent();
    const b = await newParent();
    const session = await sessionOf(a.accountId);
    const deps = { em: portal.em(), mail: portal, hasher: portal.hasher, throttle };
    const ask = (newEmail: string, currentPassword = GOOD) => requestEmailChange(deps, session, { newEmail, currentPassword, ip: '192.0.2.9' });
    expect(await ask('')).toEqual({ ok: false, problems: { newEmail: 'required' } });
    expect(await ask('geen-adres')).toEqual({ ok: false, problems: { newEmail: 'invalid' } });
    expect(await ask(` ${a.email.toUpperCase()} `)).toEqual({ ok: false, problems: { newEmail: 'same' } });
    expect(await ask('nieuw@example.nl', 'fout wachtwoord')).toEqual({ ok: false, problems: { currentPassword: 'wrong_password' } });
    expect(await portal.em().count(EmailChange, { account: a.accountId })).toBe(0);
    // Taken: the same answer as a free address (its owner is told by mail, see http/profile.test.ts).
    expect(await ask(b.email)).toEqual({ ok: true, newEmail: b.email });
  });

  it('confirms with the link to the new address: username changed, sessions and reset links gone, old address told', async () => {
    const a = await newParent({ firstName: 'Fenna' });
    const session = await sessionOf(a.accountId);
    const em = portal.em();
    em.create(PasswordResetToken, { tokenHash: 'e'.repeat(64), account: a.accountId, expiresAt: new Date(Date.now() + 3_600_000) });
    await em.flush();
    const deps = { em: portal.em(), mail: portal, hasher: portal.hasher, throttle };
    expect(await requestEmailChange(deps, session, { newEmail: 'Fenna.Nieuw@Example.nl', currentPassword: GOOD, ip: null })).toEqual({
      ok: true,
      newEmail: 'fenna.nieuw@example.nl',
    });
    expect((await getOwnProfile(portal.em(), parentActor(a.personId))).pendingEmail).toBe('fenna.nieuw@example.nl');

    const confirm = await sendNow({ kind: 'email_change_confirm', accountId: a.accountId, requestedBy: 'test' });
    expect(confirm.to).toBe('fenna.nieuw@example.nl');
    expect(confirm.text).toContain('Beste Fenna,');
    const token = tokenIn(confirm);
    // Only the hash is stored.
    const rows = await portal.em().getConnection().execute('select * from email_change where account_id = ?', [a.accountId]);
    expect(JSON.stringify(rows)).not.toContain(token);

    const done = await confirmEmailChange({ em: portal.em(), mail: portal }, { token, ip: null });
    expect(done).toMatchObject({ ok: true, oldEmail: a.email, newEmail: 'fenna.nieuw@example.nl' });
    const account = await portal.em().findOneOrFail(Account, { id: a.accountId }, { populate: ['parent'] });
    expect([account.email, account.parent!.email]).toEqual(['fenna.nieuw@example.nl', 'fenna.nieuw@example.nl']);
    expect(await portal.em().count(Session, { account: a.accountId })).toBe(0);
    expect(await portal.em().count(PasswordResetToken, { account: a.accountId })).toBe(0);
    // Used once.
    expect(await confirmEmailChange({ em: portal.em(), mail: portal }, { token, ip: null })).toEqual({ ok: false, reason: 'invalid' });

    const row = await portal.em().findOneOrFail(EmailChange, { account: a.accountId });
    const notice = await sendNow({ kind: 'email_change_notice', accountId: a.accountId, requestedBy: 'test', ref: row.id });
    expect(notice.to).toBe(a.email);
    expect(notice.text).toContain('fenna.nieuw@example.nl');
    expect(notice.text).toContain('helpdesk@example.nl');
    expect(notice.text).not.toMatch(/[\w-]{43}/);
  });

  it('refuses an expired or forged link, and an address taken in the meantime', async () => {
    const a = await newParent();
    const deps = { em: portal.em(), mail: portal, hasher: portal.hasher, throttle };
    await requestEmailChange(deps, await sessionOf(a.accountId), { newEmail: `later${seq}@example.nl`, currentPassword: GOOD, ip: null });
    const token = tokenIn(await sendNow({ kind: 'email_change_confirm', accountId: a.accountId, requestedBy: 'test' }));
    const late = new Date(Date.now() + (portal.config.auth.emailChangeLinkHours * 60 + 1) * 60_000);
    expect(await confirmEmailChange({ em: portal.em(), mail: portal }, { token, ip: null, now: late })).toEqual({ ok: false, reason: 'invalid' });
    expect(await confirmEmailChange({ em: portal.em(), mail: portal }, { token: 'A'.repeat(43), ip: null })).toEqual({ ok: false, reason: 'invalid' });
    // Someone else gets the address first.
    await seedAccount(portal, { email: `later${seq}@example.nl`, password: GOOD });
    expect(await confirmEmailChange({ em: portal.em(), mail: portal }, { token, ip: null })).toEqual({ ok: false, reason: 'taken' });
    expect((await portal.em().findOneOrFail(Account, { id: a.accountId })).email).toBe(a.email);
  });
});

describe('mijn vestiging', () => {
  it('a parent sees the locations of their children (two locations: both), staff their own, nobody else the rest', async () => {
    const em = portal.em();
    await addStaff(em, admin, { email: 'hoofd@example.nl', firstName: 'Mieke', lastName: 'Jansen', role: 'manager' });
    await addLocation(em, admin, {
      name: 'Heerlen Centrum',
      address: 'Markt 1, 6411 AA Heerlen',
      phone: '045-1234567',
      openingHours: 'ma-vr 7:00-18:30',
      manager: 'hoofd@example.nl',
    });
    await addLocation(em, admin, { name: 'Maastricht Wyck' });
    await addLocation(em, admin, { name: 'Sittard' });
    await addGroup(em, admin, { location: 'Heerlen Centrum', name: 'Boomhut' });
    await addGroup(em, admin, { location: 'Maastricht Wyck', name: 'Egeltjes' });
    await addGroup(em, admin, { location: 'Sittard', name: 'Vlinders' });
    const start = addDays(portal.clock.today(), -100);
    await addChild(em, admin, { childNumber: 'L1', firstName: 'Evi', lastName: 'Berg', birthDate: '2023-01-01', group: 'Boomhut', startDate: start });
    await addChild(em, admin, { childNumber: 'L2', firstName: 'Daan', lastName: 'Berg', birthDate: '2024-01-01', group: 'Egeltjes', startDate: start });
    await addChild(em, admin, { childNumber: 'L3', firstName: 'Old', lastName: 'Berg', birthDate: '2020-01-01', group: 'Vlinders', startDate: start });
    await leaveChild(em, admin, 'L3', { date: addDays(portal.clock.today(), -1) });
    const p = await newParent();
    const other = await newParent();
    for (const c of ['L1', 'L2', 'L3']) await linkParent(em, admin, p.email, c);

    const mine = await myLocations(portal.em(), parentActor(p.personId));
    expect(mine.map((l) => [l.name, l.children])).toEqual([
      ['Heerlen Centrum', ['Evi']],
      ['Maastricht Wyck', ['Daan']],
    ]);
    expect(mine[0]).toMatchObject({ phone: '045-1234567', openingHours: 'ma-vr 7:00-18:30', manager: 'Mieke Jansen', address: 'Markt 1, 6411 AA Heerlen' });
    expect(await myLocations(portal.em(), parentActor(other.personId))).toEqual([]);

    await addStaff(em, admin, { email: 'pm@example.nl', firstName: 'Piet', lastName: 'Smit', role: 'staff' });
    const staff = await portal.em().findOneOrFail(Staff, { email: 'pm@example.nl' });
    await assignStaff(em, admin, 'pm@example.nl', { group: 'Egeltjes' });
    const staffView = await myLocations(portal.em(), { kind: 'staff', label: 't', staffId: staff.id });
    expect(staffView.map((l) => l.name)).toEqual(['Maastricht Wyck']);
  });
});
