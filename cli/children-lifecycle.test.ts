import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { correctedChildNumbers } from '../core/directory/children.ts';
import { silentLogger } from '../core/log.ts';
import { createPortal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { cliAgainst, runCli, ZON_CENTRUM } from '../test/cli.ts';
import { createTestDatabase, TEST_NOW } from '../test/portal.ts';

/**
 * `portal children update` and `portal children leave` through the database: corrections keep
 * their history (audit before/after, the old number stays known and cannot come back as a second
 * child), refusals write nothing, --dry-run changes nothing, and leave says what the parents keep
 * and until when.
 */

let dbUrl: string;
let dir: string;
const { cli: portal, json } = cliAgainst(() => ({ PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }));
const audit = (type: string) => json('audit', '--type', type);
const today = TEST_NOW.slice(0, 10);

beforeAll(async () => {
  dbUrl = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'portal-children-cli-'));
  for (const args of [
    ...ZON_CENTRUM,
    ['children', 'add', '--number', 'K2', '--first-name', 'Daan', '--last-name', 'Berg', '--birth-date', '2023-03-01', '--group', 'Egeltjes', '--start', '2025-01-06'],
    ['children', 'add', '--number', 'K3', '--first-name', 'Noor', '--last-name', 'Smit', '--birth-date', '2024-05-01', '--group', 'Boomhut', '--start', '2025-01-06'],
    ['parents', 'add', '--email', 'anna@example.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1'],
    ['parents', 'link', 'anna@example.nl', 'K2'],
    ['parents', 'add', '--email', 'sara@example.nl', '--first-name', 'Sara', '--last-name', 'Smit', '--child', 'K3'],
  ]) {
    const r = await portal(...args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('portal children update', () => {
  it('corrects names and the birth date, and the audit log keeps the old values', async () => {
    const c = await json('children', 'update', 'K3', '--first-name', 'Noortje', '--infix', 'van der', '--birth-date', '02-05-2024');
    expect(c).toMatchObject({ childNumber: 'K3', firstName: 'Noortje', infix: 'van der', birthDate: '2024-05-02', dryRun: false });
    expect(c.changes.map((ch: { field: string }) => ch.field)).toEqual(['firstName', 'infix', 'birthDate']);
    const [event] = await audit('child.updated');
    expect(event).toMatchObject({
      subject: 'K3',
      details: {
        before: { firstName: 'Noor', infix: null, birthDate: '2024-05-01' },
        after: { firstName: 'Noortje', infix: 'van der', birthDate: '2024-05-02' },
      },
    });
    expect(event.actor).toMatch(/^cli:/);

    const cleared = await json('children', 'update', 'K3', '--infix', '');
    expect(cleared.infix).toBeNull();
    // The same values again: nothing changes, nothing is logged.
    const again = await portal('children', 'update', 'K3', '--first-name', 'Noortje');
    expect(again.stdout).toContain('nothing to change');
    expect(await audit('child.updated')).toHaveLength(2);
  });

  it('--dry-run shows the change and leaves the database and the audit log as they were', async () => {
    const r = await portal('children', 'update', 'K3', '--last-name', 'Jansen', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Dry run');
    expect(r.stdout).toContain('lastName: "Smit" → "Jansen"');
    expect((await json('children', 'show', 'K3')).lastName).toBe('Smit');
    expect(await audit('child.updated')).toHaveLength(2);
  });

  it('corrects the child number: the old one names the new one, and cannot become a second child', async () => {
    const dry = await json('children', 'update', 'K1', '--child-number', 'K1001', '--dry-run');
    expect(dry.childNumber).toBe('K1001');
    expect((await json('children', 'show', 'K1')).childNumber).toBe('K1');

    const r = await portal('children', 'update', 'K1', '--child-number', 'K1001');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('childNumber: "K1" → "K1001"');
    const c = await json('children', 'show', 'K1001');
    expect(c).toMatchObject({ firstName: 'Evi', previousNumbers: ['K1'], group: 'Centrum/Boomhut' });
    expect(c.parents.map((p: { email: string }) => p.email)).toEqual(['anna@example.nl']);
    const [event] = await audit('child.updated');
    expect(event).toMatchObject({ subject: 'K1001', details: { before: { childNumber: 'K1' }, after: { childNumber: 'K1001' } } });

    const old = await portal('children', 'show', 'K1');
    expect(old.code).toBe(3);
    expect(old.stderr.trim()).toBe('portal: child "K1" not found: its number was corrected to K1001');
    const reuse = await portal('children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01');
    expect(reuse.code).toBe(3);
    expect(reuse.stderr).toContain('child number K1 was corrected to K1001');
    const taken = await portal('children', 'update', 'K3', '--child-number', 'K1');
    expect(taken.code).toBe(3);
    expect((await json('children', 'list', '--all')).map((x: { childNumber: string }) => x.childNumber).sort()).toEqual(['K1001', 'K2', 'K3']);
  });

  it('a planning import that still uses the old number is refused and adds no second child', async () => {
    const file = join(dir, 'planning.csv');
    writeFileSync(
      file,
      '\uFEFFLocatie;Groep;Kindnummer;Roepnaam kind;Tussenvoegsel kind;Achternaam kind;Geboortedatum;Foto intern;Foto extern;E-mail ouder 1;Voornaam ouder 1;Tussenvoegsel ouder 1;Achternaam ouder 1;Mobiel ouder 1;E-mail ouder 2;Voornaam ouder 2;Tussenvoegsel ouder 2;Achternaam ouder 2;Mobiel ouder 2\r\n' +
        'Centrum;Boomhut;K1;Evi;;Berg;01-01-2024;Ja;Nee;anna@example.nl;Anna;;Berg;0612345678;;;;;\r\n',
    );
    const r = await portal('import', file);
    // The importer names the line and the number to use; the database's trigger is the backstop.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2, column "Kindnummer": child number K1 was corrected to K1001; use the new number/);
    expect((await json('children', 'list', '--all')).map((x: { childNumber: string }) => x.childNumber).sort()).toEqual(['K1001', 'K2', 'K3']);

    // Whoever inserts (a restore, plain SQL): the trigger names the number the child has now.
    const { config } = loadConfig({ env: { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }, cwd: process.cwd() });
    const p = await createPortal(config, { log: silentLogger, extensions: installedSchema() });
    try {
      await expect(
        p.em().getConnection().execute(
          `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at) values ('K1', 'Evi', 'Berg', '2024-01-01', now(), now())`,
        ),
      ).rejects.toThrow(/child number K1 was corrected to K1001/);
      expect(await correctedChildNumbers(p.em(), ['K1', 'K2'])).toEqual(new Map([['K1', 'K1001']]));
    } finally {
      await p.close();
    }
  });

  it('goes back to an earlier number when that was the mistake', async () => {
    const c = await json('children', 'update', 'K1001', '--child-number', 'K1');
    expect(c).toMatchObject({ childNumber: 'K1', previousNumbers: ['K1001'] });
    const back = await json('children', 'update', 'K1', '--child-number', 'K1001');
    expect(back).toMatchObject({ childNumber: 'K1001', previousNumbers: ['K1'] });
  });

  it.each([
    ['a birth date in the future', ['K3', '--birth-date', '2099-01-01'], 1, /birthDate: lies in the future/],
    ['an absurd birth date', ['K3', '--birth-date', '1950-01-01'], 1, /birthDate: 1950-01-01 lies more than 18 years back/],
    ['a birth date after the first day in a group', ['K3', '--birth-date', '2025-03-01'], 1, /birthDate: 2025-03-01 lies after the child's first day in a group \(2025-01-06\)/],
    ['a number another child has', ['K3', '--child-number', 'K2'], 3, /a child with number K2 already exists/],
    ['a malformed number', ['K3', '--child-number', 'K 3'], 1, /may contain only letters, digits/],
    ['an unknown child', ['K999', '--first-name', 'X'], 3, /child "K999" not found/],
    ['nothing to change', ['K3'], 1, /nothing to change/],
  ])('refuses %s, with one line and nothing written', async (_name, args, code, message) => {
    const before = await json('children', 'show', 'K3');
    const events = (await audit('child.updated')).length;
    const r = await portal('children', 'update', ...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await json('children', 'show', 'K3')).toEqual(before);
    expect(await audit('child.updated')).toHaveLength(events);
  });
});

describe('portal children leave', () => {
  it('--dry-run says what would happen and ends nothing', async () => {
    const r = await portal('children', 'leave', 'K3', '--date', '2026-06-30', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: Child K3');
    const c = await json('children', 'show', 'K3');
    expect(c.leftOn).toBeNull();
    expect(c.placements.at(-1).endDate).toBeNull();
    expect(await audit('child.left')).toHaveLength(0);
  });

  it('says when access ends and until when the archive stays (retention.leaverGraceDays), per parent', async () => {
    const r = await portal('children', 'leave', 'K1001', '--date', '2026-06-30', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Child K1001 (Evi Berg) leaves on 2026-06-30');
    expect(r.stdout).toContain('From 2026-07-01 the parents see no new photos');
    // The default grace period is 60 days after the last day.
    expect(r.stdout).toContain('Until 2026-08-29');
    expect(r.stdout).toContain('anna@example.nl: still has Daan (Centrum/Egeltjes).');
    const [event] = await audit('child.left');
    expect(event).toMatchObject({ subject: 'K1001', details: { leftOn: '2026-06-30', placementsEnded: 1, plannedRemoved: 0, archiveUntil: '2026-08-29' } });

    const alone = await json('children', 'leave', 'K3', '--yes');
    expect(alone).toMatchObject({ leftOn: today, parentsAfter: [{ email: 'sara@example.nl', stillPlaced: [] }], dryRun: false });
    const text = await portal('children', 'leave', 'K3', '--yes', '--dry-run');
    expect(text.stdout).toContain('sara@example.nl: no other child placed; keeps the login for the archive above');
  });

  it('honours a configured grace period', async () => {
    const r = await runCli(['--json', 'children', 'leave', 'K2', '--date', '2026-07-31', '--yes', '--dry-run'], {
      PORTAL_DATABASE_URL: dbUrl,
      PORTAL_DATABASE_POOL_MAX: '2',
      PORTAL_RETENTION_LEAVER_GRACE_DAYS: '10',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).archiveUntil).toBe('2026-08-10');
  });

  it('refuses an unknown child (exit 3) and a date before the birth date (exit 1)', async () => {
    expect((await portal('children', 'leave', 'K999', '--yes')).code).toBe(3);
    const early = await portal('children', 'leave', 'K2', '--date', '2020-01-01', '--yes');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/date: lies before the birth date/);
    expect((await json('children', 'show', 'K2')).leftOn).toBeNull();
  });
});
