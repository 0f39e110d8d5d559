import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelDay } from '../core/schedule/cancel.ts';
import { requestSwap } from '../core/schedule/swaps.ts';
import { runCli } from '../test/cli.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { addDays } from '../core/dates.ts';

/** `portal schedule import|show|requests` from the terminal, over the schedule world of test/schedule.ts. */

let seeded: TestPortal;
let w: ScheduleWorld;
let dir: string;
const portal = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: seeded.dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

beforeAll(async () => {
  seeded = await createTestPortal();
  w = await seedScheduleWorld(seeded);
  dir = mkdtempSync(join(tmpdir(), 'portal-schedule-cli-'));
});
afterAll(async () => {
  await seeded?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('portal schedule import', () => {
  it('refuses a file with a bad row: line and column on stderr, exit 1, nothing imported', async () => {
    const before = (await portal(['--json', 'schedule', 'show', 'K2'])).stdout;
    const file = write('bad.csv', '\uFEFFkindnummer;locatie;groep;dag;dagdeel\r\nK2;Centrum;Boomhut;do;hele dag\r\nK2;Centrum;Boomhut;zaterdag;hele dag\r\n');
    const r = await portal(['schedule', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 3, column "dag": "zaterdag" is not a weekday');
    expect(r.stderr).toContain('nothing was imported');
    expect((await portal(['--json', 'schedule', 'show', 'K2'])).stdout).toBe(before);
  });

  it('dry run, then the import, then the same file again: no changes', async () => {
    const file = write('sam.csv', 'Child number,Location,Group,Day,Part\nK2,Centrum,Boomhut,Thursday,afternoon\n');
    const dry = await portal(['schedule', 'import', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run, nothing written: 1 row\(s\) read; 0 child\(ren\) given contracted days, 1 changed/);
    const first = await portal(['schedule', 'import', file]);
    expect(first.stdout).toContain('1 changed (1 day rows)');
    const again = await portal(['schedule', 'import', file]);
    expect(again.stdout).toContain('no changes; 1 child(ren) unchanged');
    const show = await portal(['--json', 'schedule', 'show', 'K2']);
    const days = JSON.parse(show.stdout).days as { date: string; part: string }[];
    expect(days.length).toBeGreaterThan(0);
    expect(days.every((d) => d.part === 'afternoon')).toBe(true);
  });
});

describe('portal schedule show and requests', () => {
  it("lists a child's credits and requests, and the open requests with the day's occupancy", async () => {
    const credit = (await cancelDay(seeded.em(), w.actors.anna, { childId: w.children.evi, date: w.monday })).credit!;
    const pimCredit = (await cancelDay(seeded.em(), w.pia, { childId: w.children.pim, date: w.monday })).credit!;
    await requestSwap(seeded.em(), w.pia, { childId: w.children.pim, creditId: pimCredit.id, date: addDays(w.monday, 2) });
    const show = await portal(['schedule', 'show', 'K1']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Credits available:\s+1/);
    expect(show.stdout).toContain(credit.expiresOn);
    const list = await portal(['schedule', 'requests', '--location', 'Centrum', '--status', 'pending']);
    expect(list.code).toBe(0);
    // Wednesday: Evi only (Sam comes on Thursday afternoons since the import above): 1 of 2.
    expect(list.stdout).toMatch(/Pim Pietersen \(K5\)\s+Centrum\/Boomhut\s+\S+\s+hele dag\s+pending\s+1 of 2/);
    expect((await portal(['schedule', 'requests', '--location', 'Noord'])).stdout).toBe('No swap requests.\n');
    const bad = await portal(['schedule', 'requests', '--status', 'open']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status: use one of pending, approved, rejected, withdrawn');
  });
});
