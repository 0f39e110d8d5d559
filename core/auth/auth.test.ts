import { generate, generateSecret } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccount } from '../../http/testing.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { initOrganisation } from '../directory/organisation.ts';
import { Account, RateLimit, Session } from '../entities/account.ts';
import { login } from './login.ts';
import { checkNewPassword } from './password-change.ts';
import { composeResetMail, validityText } from './password-reset.ts';
import { checkPassword } from './passwords.ts';
import { confirmEnrolment, normaliseRecoveryCode, verifySecondFactor } from './second-factor.ts';
import {
  actorForAccount,
  createSession,
  endAllSessions,
  hashSessionId,
  loadAccount,
  lookupSession,
  rotateSession,
  type SessionSettings,
} from './sessions.ts';
import { createThrottle, type Throttle } from './throttle.ts';

const ORGANISATION = 'Kinderopvang Zonnebloem';
let portal: TestPortal;
let throttle: Throttle;
const settings: SessionSettings = { sessionIdleMinutes: 30, sessionAbsoluteHours: 12, requireSecondFactorForStaff: false };
const minutes = (n: number) => n * 60_000;
/** The Unix time in seconds that otplib wants: the portal's clock, never the real time. */
const epochOf = (at: Date) => Math.floor(at.getTime() / 1000);

beforeAll(async () => {
  portal = await createTestPortal();
  await initOrganisation(portal.em(), admin, {
    name: ORGANISATION,
    publicUrl: 'https://ouders.example.nl',
    helpdeskEmail: 'helpdesk@example.nl',
  });
  throttle = createThrottle(portal.em());
});
afterAll(() => portal?.destroy());

describe('password policy', () => {
  it('refuses the organisation name, the person, and common passwords; no composition rules', async () => {
    const seeded = await seedAccount(portal, { email: 'lotte.jansen@example.nl', password: 'x'.repeat(12) + 'yz', firstName: 'Lotte', lastName: 'Jansen' });
    const account = (await loadAccount(portal.em(), seeded.accountId))!;
    const em = portal.em();
    expect(await checkNewPassword(em, account, 'Kinderopvang Zonnebloem')).toBe('contains_context');
    expect(await checkNewPassword(em, account, 'zonnebloem2024!!')).toBe('contains_context');
    expect(await checkNewPassword(em, account, 'kinderopvang1')).toBe('contains_context');
    expect(await checkNewPassword(em, account, 'lottejansen123')).toBe('contains_context');
    expect(await checkNewPassword(em, account, 'wachtwoord123')).toBe('common_words');
    expect(await checkNewPassword(em, account, 'Password1234')).toBe('too_common');
    expect(await checkNewPassword(em, account, '123456789012')).toBe('too_common');
    expect(await checkNewPassword(em, account, 'aaaaaaaaaaaaaaa')).toBe('predictable');
    expect(await checkNewPassword(em, account, 'kort')).toBe('too_short');
    expect(await checkNewPassword(em, account, 'x'.repeat(129))).toBe('too_long');
    expect(await checkNewPassword(em, account, '')).toBe('required');
    // A passphrase: lower case only, spaces, Unicode; 12 characters are 12 code points.
    expect(await checkNewPassword(em, account, 'fietsen naar de bakker')).toBeUndefined();
    expect(await checkNewPassword(em, account, 'één café çà 🌻🌻')).toBeUndefined();
    expect(await checkNewPassword(em, account, 'zonnebloemen in de tuin van oma')).toBeUndefined();
    expect(checkPassword('ŽŽŽŽŽŽŽŽŽŽŽŽ')).toBe('predictable');
    expect(checkPassword('日本語のパスフレーズです')).toBeUndefined();
  });
});

describe('password strength (zxcvbn-ts with Dutch dictionaries)', () => {
  const context = ['Kindercentrum Het Klavertje', 'sanne.de.vries@example.nl', 'Sanne', 'de Vries'];

  it('refuses the passwords an attacker tries first, each with the reason', () => {
    expect(checkPassword('wachtwoord12', context)).toBe('common_words');
    expect(checkPassword('Welkom2026!!', context)).toBe('common_words');
    expect(checkPassword('kinderopvang1', context)).toBe('common_words');
    expect(checkPassword('W3lk0m2026!!', context)).toBe('common_words');
    expect(checkPassword('P@ssw0rd1234', context)).toBe('too_common');
    expect(checkPassword('qwertyuiop123', context)).toBe('too_common');
  });

  it("refuses a password built on the user's name, e-mail or the organisation's name", () => {
    expect(checkPassword('SanneDeVries2026', context)).toBe('contains_context');
    expect(checkPassword('sanne.de.vries@example.nl', context)).toBe('contains_context');
    expect(checkPassword('Klavertje-Kindercentrum-1', context)).toBe('contains_context');
    expect(checkPassword('hetklavertje2026!', context)).toBe('contains_context');
  });

  it('accepts a strong passphrase, and stays fast on the longest input', () => {
    expect(checkPassword('fietsen langs de grote rivier', context)).toBeUndefined();
    expect(checkPassword('paraplu boterham vuurtoren slak', context)).toBeUndefined();
    const worst = '4@$!3105|7Xk9#mP2'.repeat(8).slice(0, 128);
    checkPassword(worst, context);
    const started = performance.now();
    for (let i = 0; i < 5; i++) checkPassword(worst, context);
    expect((performance.now() - started) / 5).toBeLessThan(250);
  });
});

describe('sessions (with an injected clock)', () => {
  it('idle and absolute timeouts, touch, rotation keeping the absolute end', async () => {
    const seeded = await seedAccount(portal, { email: 'klok@example.nl', password: 'lang genoeg wachtwoord' });
    const em = portal.em();
    const account = (await loadAccount(em, seeded.accountId))!;
    const t0 = new Date('2026-11-24T08:00:00Z');
    const { token, expiresAt } = await createSession(em, settings, account, { now: t0, ip: '192.0.2.1' });
    expect(expiresAt.toISOString()).toBe('2026-11-24T20:00:00.000Z');
    expect(await portal.em().findOne(Session, { idHash: token })).toBeNull();
    expect(await portal.em().findOne(Session, { idHash: hashSessionId(token) })).not.toBeNull();

    const at = (ms: number) => new Date(t0.getTime() + ms);
    expect(await lookupSession(portal.em(), settings, token, { now: at(minutes(29)) })).toBeDefined();
    // The lookup at 29 minutes counted as activity: 29 minutes later it is still alive.
    expect(await lookupSession(portal.em(), settings, token, { now: at(minutes(58)) })).toBeDefined();
    const rotated = await rotateSession(portal.em(), hashSessionId(token), { now: at(minutes(58)) });
    expect(rotated.expiresAt.toISOString()).toBe(expiresAt.toISOString());
    expect(await lookupSession(portal.em(), settings, token, { now: at(minutes(58)) })).toBeUndefined();
    // Active all day, still over at 12 hours.
    for (let m = 60; m < 12 * 60; m += 25) {
      expect(await lookupSession(portal.em(), settings, rotated.token, { now: at(minutes(m)) }), `${m}`).toBeDefined();
    }
    expect(await lookupSession(portal.em(), settings, rotated.token, { now: at(minutes(12 * 60)) })).toBeUndefined();
    expect(await portal.em().count(Session, { account: seeded.accountId })).toBe(0);

    const idle = await createSession(portal.em(), settings, account, { now: t0 });
    expect(await lookupSession(portal.em(), settings, idle.token, { now: at(minutes(30)) })).toBeUndefined();
    expect(await lookupSession(portal.em(), settings, 'not-a-token')).toBeUndefined();
    expect(await lookupSession(portal.em(), settings, undefined)).toBeUndefined();
  });

  it('ends all sessions of an account, or all but one', async () => {
    const seeded = await seedAccount(portal, { email: 'veel@example.nl', password: 'lang genoeg wachtwoord' });
    const account = (await loadAccount(portal.em(), seeded.accountId))!;
    const a = await createSession(portal.em(), settings, account);
    await createSession(portal.em(), settings, account);
    await createSession(portal.em(), settings, account);
    expect(await endAllSessions(portal.em(), seeded.accountId, { exceptIdHash: hashSessionId(a.token) })).toBe(2);
    expect(await lookupSession(portal.em(), settings, a.token)).toBeDefined();
    expect(await endAllSessions(portal.em(), seeded.accountId)).toBe(1);
  });

  it('builds the actor from the account: parent, staff, manager, admin', async () => {
    const kinds = ['parent', 'staff', 'manager', 'admin'] as const;
    for (const kind of kinds) {
      const seeded = await seedAccount(portal, { email: `actor-${kind}@example.nl`, password: 'lang genoeg wachtwoord', kind });
      const account = (await loadAccount(portal.em(), seeded.accountId))!;
      const actor = actorForAccount(account);
      expect(actor.kind).toBe(kind);
      expect(actor.label).toBe(`web:actor-${kind}@example.nl`);
      if (kind === 'parent') expect(actor).toMatchObject({ parentId: seeded.personId });
      else expect(actor).toMatchObject({ staffId: seeded.personId });
      const { token } = await createSession(portal.em(), settings, account);
      expect((await lookupSession(portal.em(), settings, token))?.actor).toEqual(actor);
    }
  });

  it('refuses sessions of suspended accounts and inactive staff, and deletes them', async () => {
    const seeded = await seedAccount(portal, { email: 'weg@example.nl', password: 'lang genoeg wachtwoord', kind: 'staff' });
    const account = (await loadAccount(portal.em(), seeded.accountId))!;
    const { token } = await createSession(portal.em(), settings, account);
    await portal.em().getConnection().execute('update staff set active = false where id = ?', [seeded.personId]);
    expect(await lookupSession(portal.em(), settings, token)).toBeUndefined();
    expect(await portal.em().count(Session, { account: seeded.accountId })).toBe(0);
  });
});

describe('login use case', () => {
  it('with the second factor switched on, the session is pending until the code', async () => {
    const seeded = await seedAccount(portal, { email: 'tweede@example.nl', password: 'lang genoeg wachtwoord', kind: 'manager' });
    const secret = generateSecret();
    await portal.em().nativeUpdate(Account, { id: seeded.accountId }, { totpSecret: secret, totpEnabledAt: portal.clock.now() });
    const deps = { em: portal.em(), settings, hasher: portal.hasher, throttle };
    const result = await login(deps, { email: 'TWEEDE@example.nl ', password: 'lang genoeg wachtwoord', ip: '192.0.2.7' });
    expect(result).toMatchObject({ outcome: 'ok', secondFactor: 'verify', mustChangePassword: false });
    if (result.outcome !== 'ok') return;
    const session = (await lookupSession(portal.em(), settings, result.token))!;
    expect(session.secondFactorPending).toBe(true);
    const sf = { em: portal.em(), throttle };
    for (let i = 0; i < 5; i++) {
      expect(await verifySecondFactor(sf, session, { code: '000000', ip: null })).toEqual({ ok: false, problem: 'wrong_code' });
    }
    // Five wrong codes: even the right one waits until the window passes.
    const code = await generate({ secret, epoch: epochOf(portal.clock.now()) });
    expect(await verifySecondFactor(sf, session, { code, ip: null })).toEqual({ ok: false, problem: 'throttled' });
    await portal.em().nativeDelete(RateLimit, { key: `second-factor:${seeded.accountId}` });
    const ok = await verifySecondFactor({ em: portal.em(), throttle }, session, { code, ip: null });
    expect(ok).toMatchObject({ ok: true, usedRecoveryCode: false });
    if (!ok.ok) return;
    expect(await lookupSession(portal.em(), settings, result.token)).toBeUndefined();
    expect((await lookupSession(portal.em(), settings, ok.token))?.secondFactorPending).toBe(false);
  });

  it('staff who must enrol: confirming with a code gives ten recovery codes', async () => {
    const seeded = await seedAccount(portal, { email: 'nieuw2fa@example.nl', password: 'lang genoeg wachtwoord', kind: 'staff' });
    const strict = { ...settings, requireSecondFactorForStaff: true };
    const result = await login(
      { em: portal.em(), settings: strict, hasher: portal.hasher, throttle },
      { email: seeded.email, password: 'lang genoeg wachtwoord', ip: null },
    );
    expect(result).toMatchObject({ outcome: 'ok', secondFactor: 'enrol' });
    if (result.outcome !== 'ok') return;
    const em = portal.em();
    const session = (await lookupSession(em, strict, result.token))!;
    expect(session.mustEnrolSecondFactor).toBe(true);
    const secret = generateSecret();
    session.account.totpSecret = secret;
    await em.flush();
    const done = await confirmEnrolment({ em, throttle }, session, { code: await generate({ secret, epoch: epochOf(portal.clock.now()) }), ip: null });
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.recoveryCodes).toHaveLength(10);
    expect(new Set(done.recoveryCodes.map(normaliseRecoveryCode)).size).toBe(10);
    for (const c of done.recoveryCodes) expect(c).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect((await lookupSession(portal.em(), strict, result.token))?.mustEnrolSecondFactor).toBe(false);
  });
});

describe('throttle', () => {
  it('counts per address+IP, clears on success, and per address on reset', async () => {
    const t = createThrottle(portal.em(), { accountIp: { points: 2, seconds: 60 } });
    expect((await t.checkLogin('a@example.nl', '10.0.0.1')).allowed).toBe(true);
    await t.failedLogin('a@example.nl', '10.0.0.1');
    await t.failedLogin('a@example.nl', '10.0.0.1');
    const blocked = await t.checkLogin('A@example.nl', '10.0.0.1');
    expect(blocked.allowed).toBe(false);
    expect(blocked.retryAfterSeconds).toBeGreaterThan(50);
    expect((await t.checkLogin('a@example.nl', '10.0.0.2')).allowed).toBe(true);
    await t.succeededLogin('a@example.nl', '10.0.0.1');
    expect((await t.checkLogin('a@example.nl', '10.0.0.1')).allowed).toBe(true);
    await t.failedLogin('a@example.nl', '10.0.0.1');
    await t.failedLogin('a@example.nl', '10.0.0.1');
    await t.failedLogin('a@example.nl', '10.0.0.3');
    await t.failedLogin('a@example.nl', '10.0.0.3');
    await t.clearAddress('a@example.nl');
    expect((await t.checkLogin('a@example.nl', '10.0.0.1')).allowed).toBe(true);
    expect((await t.checkLogin('a@example.nl', '10.0.0.3')).allowed).toBe(true);
    // No e-mail addresses in the table, only their hashes.
    const keys = await portal.em().find(RateLimit, {});
    expect(keys.some((k) => k.key.includes('@'))).toBe(false);
  });

  it('a TOTP time step is used once', async () => {
    expect(await throttle.useTotpStep(42, 1000)).toBe(true);
    expect(await throttle.useTotpStep(42, 1000)).toBe(false);
    expect(await throttle.useTotpStep(42, 1001)).toBe(true);
    expect(await throttle.useTotpStep(43, 1000)).toBe(true);
  });
});

describe('reset mail', () => {
  it('is Dutch or English, plain text and HTML, with the link and its validity', () => {
    const input = {
      to: 'x@example.nl',
      from: 'Zon <helpdesk@example.nl>',
      firstName: 'Ilse <b>',
      organisation: 'Zon & Maan',
      link: 'https://ouders.example.nl/wachtwoord-herstellen/abc',
      validityMinutes: 60,
    };
    const nl = composeResetMail({ ...input, lang: 'nl' });
    expect(nl.subject).toBe('Nieuw wachtwoord voor het ouderportaal van Zon & Maan');
    expect(nl.text).toContain('Beste Ilse <b>,');
    expect(nl.text).toContain('https://ouders.example.nl/wachtwoord-herstellen/abc');
    expect(nl.text).toContain('1 uur geldig');
    expect(nl.html).toContain('Beste Ilse &lt;b&gt;,');
    expect(nl.html).toContain('<a href="https://ouders.example.nl/wachtwoord-herstellen/abc">');
    const en = composeResetMail({ ...input, lang: 'en', validityMinutes: 90 });
    expect(en.text).toContain('Dear Ilse');
    expect(en.text).toContain('valid for 90 minutes');
    expect(validityText('nl', 120)).toBe('2 uur');
  });
});
