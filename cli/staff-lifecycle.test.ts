import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../http/app.ts';
import { accountFor, loggedInBrowser, sentToLogin, TestBrowser } from '../http/testing.ts';
import { cliAgainst } from '../test/cli.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';

/**
 * `portal staff unassign / set-role / deactivate / reactivate / remove` as an admin types them,
 * on the database a running web app uses: every refusal, the dry runs leaving the database as it
 * was, and from the other side, a browser logged in as the staff member whose access shrank is
 * logged out on its very next request.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

let portal: TestPortal;
let app: Hono<AppEnv>;
let env: Record<string, string>;
const { cli, json } = cliAgainst(() => env);
const q = async <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
  await portal.em().getConnection().execute<T[]>(query, params);
const staffRow = async (email: string) => (await q('select * from staff where email = ?', [email]))[0];
const sessionCount = async (email: string) =>
  (await q<{ n: number }>('select count(*)::int as n from session s join account a on a.id = s.account_id where a.email = ?', [email]))[0]!.n;
const auditTypes = async (subject: string) => (await q<{ type: string }>('select type from audit_event where subject = ? order by id', [subject])).map((r) => r.type);
/** Everything a lifecycle command may touch, to compare before and after a dry run. */
const snapshot = async () => ({
  staff: await q('select id, email, role, active, deactivated_at, deactivated_reason from staff order by id'),
  assignments: await q('select staff_id, location_id, group_id from staff_assignment order by id'),
  sessions: await q('select id_hash from session order by id_hash'),
  tokens: await q('select id, revoked_at from api_token order by id'),
  diary: await q('select id, staff_id, author_label from diary_entry order by id'),
  audit: await q<{ n: number }>('select count(*)::int as n from audit_event'),
});

/** Logged in (the login answered 303), and the attacker's side: the old cookie on the next request. */
const loggedIn = (email: string) => loggedInBrowser(app, email, PASSWORD);
const expectLoggedOut = async (b: TestBrowser) => expect(await sentToLogin(b)).toBe(true);

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  app = createApp(portal, LOOSE);
  env = { PORTAL_DATABASE_URL: portal.dbUrl, PORTAL_DATA_DIR: portal.dataDir, PORTAL_DATABASE_POOL_MAX: '3' };
  const setup = [
    ['init', '--name', 'De Zon', '--url', 'https://ouders.dezon.nl', '--helpdesk-email', 'help@dezon.nl'],
    ['locations', 'add', '--name', 'Centrum'],
    ['locations', 'add', '--name', 'Noord'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Kikkers'],
    ['groups', 'add', '--location', 'Noord', '--name', 'Zolder'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
  ];
  const staff: [string, string, string[][]][] = [
    ['mia', 'staff', [['--group', 'Boomhut']]],
    ['otto', 'staff', [['--group', 'Boomhut'], ['--group', 'Kikkers'], ['--group', 'Zolder']]],
    ['lena', 'manager', [['--location', 'Centrum'], ['--group', 'Zolder']]],
    ['piet', 'staff', [['--group', 'Boomhut']]],
    ['bert', 'admin', []],
  ];
  for (const [name, role, where] of staff) {
    setup.push(['staff', 'add', '--email', `${name}@zon.nl`, '--first-name', name, '--last-name', 'Werker', '--role', role]);
    for (const w of where) setup.push(['staff', 'assign', `${name}@zon.nl`, ...w]);
  }
  for (const args of setup) {
    const r = await cli(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  for (const [name] of staff) await accountFor(portal, `${name}@zon.nl`, PASSWORD);
});
afterAll(() => portal?.destroy());

describe('portal staff deactivate / reactivate', () => {
  it('a dry run reports what would end and leaves the database as it was', async () => {
    await loggedIn('mia@zon.nl');
    const before = await snapshot();
    const dry = await json('staff', 'deactivate', 'mia@zon.nl', '--reason', 'verlof', '--dry-run');
    expect(dry).toMatchObject({ email: 'mia@zon.nl', active: false, dryRun: true, sessionsEnded: 1, deactivatedReason: 'verlof' });
    expect(await snapshot()).toEqual(before);
    const human = await cli('staff', 'deactivate', 'mia@zon.nl', '--dry-run');
    expect(human.stdout).toMatch(/^Dry run \(rolled back\): Deactivated mia@zon\.nl; 1 session\(s\) ended/);
    expect(await snapshot()).toEqual(before);
  });

  it('ends the session at once, refuses login, keeps the assignments; reactivate restores them', async () => {
    const mia = await loggedIn('mia@zon.nl');
    const r = await json('staff', 'deactivate', 'mia@zon.nl', '--reason', 'uit dienst');
    expect(r).toMatchObject({ active: false, deactivatedReason: 'uit dienst', assignments: ['Centrum/Boomhut'], dryRun: false });
    expect(r.sessionsEnded).toBeGreaterThanOrEqual(1);
    await expectLoggedOut(mia);
    expect(await sessionCount('mia@zon.nl')).toBe(0);
    expect((await new TestBrowser(app, { 'X-Forwarded-For': '198.51.100.7' }).login('mia@zon.nl', PASSWORD)).status).not.toBe(303);
    const listed = (await json('staff', 'list')).find((s: { email: string }) => s.email === 'mia@zon.nl');
    expect(listed).toMatchObject({ active: false, assignments: ['Centrum/Boomhut'] });
    expect((await cli('staff', 'list')).stdout).toMatch(/mia@zon\.nl .*deactivated 2026-/);

    const again = await cli('staff', 'deactivate', 'mia@zon.nl');
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already deactivated since 2026-/);

    expect((await json('staff', 'reactivate', 'mia@zon.nl'))).toMatchObject({ active: true, deactivatedAt: null, assignments: ['Centrum/Boomhut'] });
    await loggedIn('mia@zon.nl');
    const twice = await cli('staff', 'reactivate', 'mia@zon.nl');
    expect(twice.code).toBe(3);
    expect(twice.stderr).toMatch(/is not deactivated/);
    expect(await auditTypes('mia@zon.nl')).toEqual(expect.arrayContaining(['staff.deactivated', 'staff.reactivated']));
  });

  it('refuses the last active admin, an unknown address and an overlong reason', async () => {
    const last = await cli('staff', 'deactivate', 'bert@zon.nl');
    expect(last.code).toBe(3);
    expect(last.stderr).toMatch(/last active admin.*portal staff set-role/);
    expect((await staffRow('bert@zon.nl'))!['active']).toBe(true);
    expect((await cli('staff', 'deactivate', 'niemand@zon.nl')).code).toBe(3);
    const long = await cli('staff', 'deactivate', 'mia@zon.nl', '--reason', 'x'.repeat(501));
    expect(long.code).toBe(1);
    expect((await staffRow('mia@zon.nl'))!['active']).toBe(true);
  });
});

describe('portal staff unassign (and assign --remove)', () => {
  it('refuses without a target, with --all and a target, and for an assignment that does not exist', async () => {
    expect((await cli('staff', 'unassign', 'otto@zon.nl')).code).toBe(1);
    expect((await cli('staff', 'unassign', 'otto@zon.nl', '--all', '--group', 'Boomhut')).code).toBe(1);
    const none = await cli('staff', 'unassign', 'mia@zon.nl', '--group', 'Kikkers');
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/an assignment of mia@zon\.nl at Centrum\/Kikkers not found/);
    expect((await cli('staff', 'unassign', 'otto@zon.nl', '--group', 'Nergens')).code).toBe(3);
  });

  it('a dry run changes nothing; a group ends one assignment and the session', async () => {
    const otto = await loggedIn('otto@zon.nl');
    const before = await snapshot();
    expect(await json('staff', 'unassign', 'otto@zon.nl', '--all', '--dry-run')).toMatchObject({
      assignmentsEnded: ['Centrum/Boomhut', 'Centrum/Kikkers', 'Noord/Zolder'],
      assignments: [],
      dryRun: true,
    });
    expect(await snapshot()).toEqual(before);
    const r = await json('staff', 'unassign', 'otto@zon.nl', '--group', 'Kikkers');
    expect(r).toMatchObject({ assignmentsEnded: ['Centrum/Kikkers'], assignments: ['Centrum/Boomhut', 'Noord/Zolder'], sessionsEnded: 1 });
    await expectLoggedOut(otto);
  });

  it('--location alone ends everything at that location; assign --remove still works and ends sessions too', async () => {
    const r = await json('staff', 'unassign', 'otto@zon.nl', '--location', 'Centrum');
    expect(r).toMatchObject({ assignmentsEnded: ['Centrum/Boomhut'], assignments: ['Noord/Zolder'] });
    const otto = await loggedIn('otto@zon.nl');
    const removed = await cli('staff', 'assign', 'otto@zon.nl', '--group', 'Zolder', '--remove');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/no longer works at Zolder/);
    await expectLoggedOut(otto);
    expect(await json('staff', 'unassign', 'otto@zon.nl', '--all')).toMatchObject({ changed: false, assignmentsEnded: [] });
    expect(await auditTypes('otto@zon.nl')).toEqual(expect.arrayContaining(['staff.assigned', 'staff.unassigned']));
  });
});

describe('portal staff set-role', () => {
  it('a demotion to staff ends whole-location assignments (reported) and the session; a dry run changes nothing', async () => {
    const lena = await loggedIn('lena@zon.nl');
    const before = await snapshot();
    const dry = await cli('staff', 'set-role', 'lena@zon.nl', 'staff', '--dry-run');
    expect(dry.stdout).toMatch(/Dry run \(rolled back\): Made lena@zon\.nl staff \(was manager\); ended Centrum/);
    expect(await snapshot()).toEqual(before);
    const r = await json('staff', 'set-role', 'lena@zon.nl', 'staff');
    expect(r).toMatchObject({ role: 'staff', previousRole: 'manager', assignmentsEnded: ['Centrum'], assignments: ['Noord/Zolder'] });
    expect(r.sessionsEnded).toBeGreaterThanOrEqual(1);
    await expectLoggedOut(lena);
    expect(await json('staff', 'set-role', 'lena@zon.nl', 'staff')).toMatchObject({ changed: false, sessionsEnded: 0 });
  });

  it('a promotion keeps the session; an unknown role and demoting the last admin are refused', async () => {
    const mia = await loggedIn('mia@zon.nl');
    expect(await json('staff', 'set-role', 'mia@zon.nl', 'manager')).toMatchObject({ role: 'manager', sessionsEnded: 0 });
    expect((await mia.get('/')).status).toBe(200);
    const bad = await cli('staff', 'set-role', 'mia@zon.nl', 'baas');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/must be one of staff, manager, admin/);
    const last = await cli('staff', 'set-role', 'bert@zon.nl', 'manager');
    expect(last.code).toBe(3);
    expect(last.stderr).toMatch(/last active admin/);
    expect((await staffRow('bert@zon.nl'))!['role']).toBe('admin');
    // With a second admin, the first may step down.
    expect(await json('staff', 'set-role', 'mia@zon.nl', 'admin')).toMatchObject({ role: 'admin' });
    expect(await json('staff', 'set-role', 'bert@zon.nl', 'manager')).toMatchObject({ role: 'manager', previousRole: 'admin' });
    expect(await auditTypes('bert@zon.nl')).toContain('staff.role_changed');
  });
});

describe('portal staff remove', () => {
  let pietId: number;
  let entryId: string;

  beforeAll(async () => {
    pietId = (await staffRow('piet@zon.nl'))!['id'] as number;
    const child = (await q<{ id: number }>(`select id from child where child_number = 'K1'`))[0]!.id;
    const group = (await q<{ id: number }>(`select id from care_group where name = 'Boomhut'`))[0]!.id;
    entryId = (
      await q<{ id: string }>(
        `insert into diary_entry (id, child_id, day, author_kind, staff_id, author_label, text, lines, photo_ids, version, created_at, updated_at)
         values (gen_random_uuid(), ?, current_date, 'staff', ?, 'Piet (Boomhut)', 'Goed gegeten', '[]', '[]', 1, now(), now()) returning id`,
        [child, pietId],
      )
    )[0]!.id;
    await q(
      `insert into diary_entry_revision (entry_id, version, text, lines, photo_ids, edited_by, edited_by_name, edited_at)
       values (?, 1, 'Goed gegeten', '[]', '[]', 'web:piet@zon.nl', 'Piet (Boomhut)', now())`,
      [entryId],
    );
    await q(
      `insert into message_thread (id, group_id, child_id, subject, created_at, last_message_at) values (gen_random_uuid(), ?, ?, 'Vraag', now(), now())`,
      [group, child],
    );
    await q(`insert into message (thread_id, author_side, author_staff_id, author_label, body, created_at) select id, 'staff', ?, 'Piet (Boomhut)', 'Hallo', now() from message_thread`, [pietId]);
  });

  it('needs --yes in a script; a dry run reports and changes nothing', async () => {
    const noYes = await cli('staff', 'remove', 'piet@zon.nl');
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const before = await snapshot();
    const dry = await json('staff', 'remove', 'piet@zon.nl', '--dry-run');
    expect(dry).toMatchObject({ email: 'piet@zon.nl', dryRun: true, shownAs: 'Oud-medewerker', diaryEntriesAnonymised: 1, messagesAnonymised: 1, assignmentsEnded: ['Centrum/Boomhut'] });
    expect(await snapshot()).toEqual(before);
    expect((await q('select author_label from message where author_staff_id = ?', [pietId]))[0]).toEqual({ author_label: 'Piet (Boomhut)' });
  });

  it('removes the person and their login, keeps what they wrote under a neutral name, and the session is dead', async () => {
    const piet = await loggedIn('piet@zon.nl');
    const r = await cli('staff', 'remove', 'piet@zon.nl', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Removed piet@zon\.nl \(staff\): 1 session\(s\) and 1 assignment\(s\) ended/);
    expect(r.stdout).toMatch(/Kept under "Oud-medewerker": 1 message\(s\), 0 announcement\(s\), 1 schriftje/);
    await expectLoggedOut(piet);
    expect(await staffRow('piet@zon.nl')).toBeUndefined();
    expect(await q(`select 1 from account where email = 'piet@zon.nl'`)).toEqual([]);
    expect(await q('select 1 from staff_assignment where staff_id = ?', [pietId])).toEqual([]);
    expect(await q('select staff_id, author_label, text from diary_entry where id = ?', [entryId])).toEqual([
      { staff_id: null, author_label: 'Oud-medewerker', text: 'Goed gegeten' },
    ]);
    expect(await q('select edited_by, edited_by_name, text from diary_entry_revision where entry_id = ?', [entryId])).toEqual([
      { edited_by: `removed-staff:${pietId}`, edited_by_name: 'Oud-medewerker', text: 'Goed gegeten' },
    ]);
    expect(await q(`select author_label, body from message where body = 'Hallo'`)).toEqual([{ author_label: 'Oud-medewerker', body: 'Hallo' }]);
    // The history itself stays immutable: only who wrote it could be replaced.
    await expect(q('update diary_entry_revision set text = ? where entry_id = ?', ['herschreven', entryId])).rejects.toThrow(/never updated/);
    const [event] = await q<{ subject: string; details: Record<string, unknown> }>(`select subject, details from audit_event where type = 'staff.removed'`);
    expect(event!.subject).toBe(`staff:${pietId}`);
    expect(JSON.stringify(event!.details)).not.toMatch(/piet/i);
    // And the address is free for someone new.
    expect((await cli('staff', 'add', '--email', 'piet@zon.nl', '--first-name', 'Piet', '--last-name', 'Nieuw', '--role', 'staff')).code).toBe(0);
  });

  it('refuses the last active admin and an unknown address', async () => {
    // mia and bert: after the set-role tests mia is the one admin left.
    const last = await cli('staff', 'remove', 'mia@zon.nl', '--yes');
    expect(last.code).toBe(3);
    expect(last.stderr).toMatch(/last active admin/);
    expect(await staffRow('mia@zon.nl')).toBeDefined();
    expect((await cli('staff', 'remove', 'niemand@zon.nl', '--yes')).code).toBe(3);
  });
});
