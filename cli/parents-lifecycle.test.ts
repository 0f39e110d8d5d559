import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmEmailChange } from '../core/profile/email-change.ts';
import { type AppEnv, createApp } from '../http/app.ts';
import { accountFor, loggedInBrowser, sentToLogin, TestBrowser } from '../http/testing.ts';
import { cliAgainst } from '../test/cli.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';

/**
 * `portal parents update / remove` and the safe `parents invite --resend`, as an admin types
 * them, on the database a running web app uses: every refusal, the dry runs leaving the database
 * as it was, and from the other side, a parent's browser is logged out on its next request when
 * the address is changed at once or the parent is removed.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

let portal: TestPortal;
let app: Hono<AppEnv>;
let env: Record<string, string>;
const { cli, json } = cliAgainst(() => env);
const q = async <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
  await portal.em().getConnection().execute<T[]>(query, params);
const snapshot = async () => ({
  parents: await q('select id, email, first_name, infix, last_name, phone, language from parent order by id'),
  accounts: await q('select id, email, password_hash, invited_at from account order by id'),
  sessions: await q('select id_hash from session order by id_hash'),
  changes: await q('select id, new_email, confirmed_at from email_change order by id'),
  jobs: await q<{ n: number }>(`select count(*)::int as n from pgboss.job`).catch(() => []),
  audit: await q<{ n: number }>('select count(*)::int as n from audit_event'),
});
const mails = () => {
  const dir = join(env['PORTAL_DATA_DIR']!, 'mail');
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .map((f) => readFileSync(join(dir, f), 'utf8'));
  } catch {
    return [];
  }
};
/** Quoted-printable soft line breaks and =XX escapes undone, enough to read links and text. */
const decoded = (eml: string) =>
  eml.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/** Logged in (the login answered 303), and the attacker's side: the old cookie on the next request. */
const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);
const expectLoggedOut = async (b: TestBrowser) => expect(await sentToLogin(b)).toBe(true);

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  app = createApp(portal, LOOSE);
  env = { PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir, PORTAL_DATABASE_POOL_MAX: '3' };
  for (const args of [
    ['init', '--name', 'De Zon', '--url', 'https://ouders.dezon.nl', '--helpdesk-email', 'help@dezon.nl'],
    ['locations', 'add', '--name', 'Centrum'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
    ['children', 'add', '--number', 'K2', '--first-name', 'Daan', '--last-name', 'Berg', '--birth-date', '2024-02-01', '--group', 'Boomhut'],
    ['parents', 'add', '--email', 'anna@zon.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1', '--child', 'K2'],
    ['parents', 'add', '--email', 'carla@zon.nl', '--first-name', 'Carla', '--last-name', 'Berg', '--child', 'K1'],
    ['parents', 'add', '--email', 'ben@zon.nl', '--first-name', 'Ben', '--last-name', 'Vos'],
    ['parents', 'add', '--email', 'dirk@zon.nl', '--first-name', 'Dirk', '--last-name', 'Berg', '--child', 'K2', '--language', 'en'],
    ['parents', 'add', '--email', 'eva@zon.nl', '--first-name', 'Eva', '--last-name', 'Berg', '--child', 'K2'],
  ]) {
    const r = await cli(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  for (const who of ['anna', 'carla', 'ben']) await accountFor(portal, `${who}@zon.nl`, PASSWORD);
});
afterAll(() => portal?.destroy());

describe('portal parents update', () => {
  it('changes names and language, clears an infix with "", and audits; a dry run changes nothing', async () => {
    const before = await snapshot();
    expect(await json('parents', 'update', 'anna@zon.nl', '--first-name', 'Annie', '--infix', 'van', '--dry-run')).toMatchObject({
      name: 'Annie van Berg',
      changed: ['firstName', 'infix'],
      dryRun: true,
    });
    expect(await snapshot()).toEqual(before);
    const r = await json('parents', 'update', 'anna@zon.nl', '--first-name', 'Annie', '--infix', 'van', '--language', 'en');
    expect(r).toMatchObject({ name: 'Annie van Berg', language: 'en', changed: ['firstName', 'infix', 'language'], emailChange: null });
    expect(await json('parents', 'update', 'anna@zon.nl', '--infix', '')).toMatchObject({ infix: null, name: 'Annie Berg' });
    const [event] = await q<{ details: { changed: string[] } }>(
      `select details from audit_event where type = 'parent.updated' and subject = 'anna@zon.nl' order by id limit 1`,
    );
    expect(event!.details.changed).toEqual(['firstName', 'infix', 'language']);
  });

  it('refuses nothing to change, bad input and an unknown parent', async () => {
    const nothing = await cli('parents', 'update', 'anna@zon.nl');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/name something to change/);
    expect((await cli('parents', 'update', 'anna@zon.nl', '--language', 'de')).code).toBe(1);
    expect((await cli('parents', 'update', 'anna@zon.nl', '--email', 'geen-adres')).code).toBe(1);
    expect((await cli('parents', 'update', 'niemand@zon.nl', '--first-name', 'X')).code).toBe(3);
    const taken = await cli('parents', 'update', 'anna@zon.nl', '--email', 'Carla@zon.nl');
    expect(taken.code).toBe(3);
    expect(taken.stderr).toMatch(/carla@zon\.nl is already the address of another parent/);
  });

  it('a new address waits for the link sent to it; opening it applies the change and ends the sessions', async () => {
    const carla = await loggedIn('carla@zon.nl');
    const r = await json('parents', 'update', 'carla@zon.nl', '--email', 'carla.nieuw@zon.nl');
    expect(r).toMatchObject({ email: 'carla@zon.nl', emailChange: { newEmail: 'carla.nieuw@zon.nl', status: 'pending' } });
    // Nothing changes until the new address confirms: the parent still logs in as before.
    expect((await carla.get('/')).status).toBe(200);
    expect((await cli('mail', 'work')).code).toBe(0);
    const confirm = decoded(mails().find((m) => /To: carla\.nieuw@zon\.nl/.test(m))!);
    const token = /e-mailadres-bevestigen\/([A-Za-z0-9_-]{43})/.exec(confirm)![1]!;
    const done = await confirmEmailChange({ em: portal.em(), mail: portal }, { token, ip: null });
    expect(done).toMatchObject({ ok: true, oldEmail: 'carla@zon.nl', newEmail: 'carla.nieuw@zon.nl' });
    await expectLoggedOut(carla);
    await loggedIn('carla.nieuw@zon.nl');
  });

  it('--no-confirm applies at once: sessions end, the old address gets a notice, the admin is audited', async () => {
    const carla = await loggedIn('carla.nieuw@zon.nl');
    const before = await snapshot();
    const open = (await q(`select 1 from session s join account a on a.id = s.account_id where a.email = 'carla.nieuw@zon.nl'`)).length;
    expect(open).toBeGreaterThanOrEqual(1);
    const dry = await json('parents', 'update', 'carla.nieuw@zon.nl', '--email', 'carla3@zon.nl', '--no-confirm', '--dry-run');
    expect(dry).toMatchObject({ email: 'carla3@zon.nl', emailChange: { status: 'applied', sessionsEnded: open }, dryRun: true });
    expect(await snapshot()).toEqual(before);
    expect((await carla.get('/')).status).toBe(200);

    const r = await cli('parents', 'update', 'carla.nieuw@zon.nl', '--email', 'carla3@zon.nl', '--no-confirm');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the address is now carla3@zon\.nl; the old address gets a notice; \d session\(s\) ended/);
    expect(await q(`select 1 from session s join account a on a.id = s.account_id where a.email in ('carla.nieuw@zon.nl', 'carla3@zon.nl')`)).toEqual([]);
    await expectLoggedOut(carla);
    expect((await new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.9' }).login('carla.nieuw@zon.nl', PASSWORD)).status).not.toBe(303);
    await loggedIn('carla3@zon.nl');
    expect((await cli('mail', 'work')).code).toBe(0);
    expect(mails().some((m) => /To: carla\.nieuw@zon\.nl/.test(m) && /carla3@zon\.nl/.test(decoded(m)))).toBe(true);
    const [event] = await q<{ actor: string; details: Record<string, unknown> }>(
      `select actor, details from audit_event where type = 'parent.updated' and subject = 'carla.nieuw@zon.nl'`,
    );
    expect(event).toMatchObject({ actor: expect.stringMatching(/^cli:/), details: { emailChange: { status: 'applied' } } });
  });
});

describe('portal parents remove', () => {
  it('refuses a parent with a linked child, saying which and what to do first', async () => {
    const r = await cli('parents', 'remove', 'anna@zon.nl', '--yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/still linked to Evi Berg \(K1\), Daan Berg \(K2\)/);
    expect(r.stderr).toMatch(/portal parents unlink anna@zon\.nl K1/);
    expect(await q(`select 1 from parent where email = 'anna@zon.nl'`)).toHaveLength(1);
    expect((await cli('parents', 'remove', 'niemand@zon.nl', '--yes')).code).toBe(3);
    expect((await cli('parents', 'remove', 'ben@zon.nl')).code).toBe(2); // a script must say --yes
  });

  it('a dry run changes nothing; removing deletes the parent, login and sessions, and the session is dead', async () => {
    const ben = await loggedIn('ben@zon.nl');
    const before = await snapshot();
    expect(await json('parents', 'remove', 'ben@zon.nl', '--dry-run')).toMatchObject({ email: 'ben@zon.nl', sessionsEnded: 1, dryRun: true });
    expect(await snapshot()).toEqual(before);
    const r = await cli('parents', 'remove', 'ben@zon.nl', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Removed ben@zon\.nl: 1 session\(s\) ended/);
    await expectLoggedOut(ben);
    expect(await q(`select 1 from parent where email = 'ben@zon.nl'`)).toEqual([]);
    expect(await q(`select 1 from account where email = 'ben@zon.nl'`)).toEqual([]);
    const types = (await q<{ type: string }>(`select type from audit_event where subject like 'parent:%' order by id`)).map((e) => e.type);
    expect(types).toEqual(['gdpr.erased', 'parent.removed']);
  });
});

describe('portal parents invite: safe resends', () => {
  it('the dry run lists each recipient with children and language, in a table and as JSON', async () => {
    const dry = await cli('parents', 'invite', 'dirk@zon.nl', 'eva@zon.nl', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/EMAIL\s+CHILDREN\s+LANGUAGE/);
    expect(dry.stdout).toMatch(/dirk@zon\.nl\s+K2\s+en/);
    expect(dry.stdout).toMatch(/eva@zon\.nl\s+K2\s+nl/);
    expect(dry.stdout).toMatch(/Dry run: would send 2 invitation/);
    const report = await json('parents', 'invite', 'dirk@zon.nl', '--dry-run');
    expect(report.queued).toEqual([{ email: 'dirk@zon.nl', jobId: null, language: 'en', children: ['K2'], replacesOwnPassword: false }]);
  });

  it('an invitation says it replaces earlier mails, in the parent\'s language', async () => {
    expect((await cli('parents', 'invite', 'dirk@zon.nl', 'eva@zon.nl')).code).toBe(0);
    const sent = mails().map(decoded);
    expect(sent.find((m) => /To: dirk@zon\.nl/.test(m))).toMatch(/This mail replaces any earlier mail with login details/);
    expect(sent.find((m) => /To: eva@zon\.nl/.test(m))).toMatch(/Deze e-mail vervangt eerdere e-mails met inloggegevens/);
  });

  it('refuses to replace a password a parent chose (exit 1, naming them) unless --force', async () => {
    // Dirk has chosen his own password since the invitation; Eva has not.
    await q(`update account set password_must_change = false, password_changed_at = now() where email = 'dirk@zon.nl'`);
    const hash = (await q<{ password_hash: string }>(`select password_hash from account where email = 'dirk@zon.nl'`))[0]!.password_hash;
    const before = await snapshot();
    const refused = await cli('parents', 'invite', '--resend', 'dirk@zon.nl', 'eva@zon.nl');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 recipient\(s\) already chose their own password.*dirk@zon\.nl.*--force/);
    expect(refused.stderr).not.toMatch(/eva/);
    expect(await snapshot()).toEqual(before);
    // A dry run gives the same answer; with --force it lists who loses their own password.
    expect((await cli('parents', 'invite', '--resend', 'dirk@zon.nl', '--dry-run')).code).toBe(1);
    expect((await cli('parents', 'invite', '--resend', '--force', 'dirk@zon.nl', '--dry-run')).stdout).toMatch(
      /dirk@zon\.nl\s+K2\s+en\s+replaces own password/,
    );

    const forced = await cli('parents', 'invite', '--resend', '--force', 'dirk@zon.nl', 'eva@zon.nl');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/2 of 2 invitation\(s\) sent/);
    const after = (await q<{ password_hash: string; password_must_change: boolean }>(`select password_hash, password_must_change from account where email = 'dirk@zon.nl'`))[0]!;
    expect(after.password_hash).not.toBe(hash);
    expect(after.password_must_change).toBe(true);
    const [event] = await q<{ details: Record<string, unknown> }>(
      `select details from audit_event where type = 'invitation.requested' and subject = 'dirk@zon.nl' order by id desc limit 1`,
    );
    expect(event!.details).toEqual({ replacesOwnPassword: true });
  });

  it('a first invitation to someone who already has a password of their own is refused the same way', async () => {
    // Anna logs in with a password she chose (accountFor) and was never invited.
    const r = await cli('parents', 'invite', 'anna@zon.nl');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/anna@zon\.nl/);
    await loggedIn('anna@zon.nl');
  });
});
