import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';

/** The account commands as an admin types them; mail goes to .eml files (no SMTP configured). */

let env: Record<string, string>;
const portal = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  env = {
    PORTAL_DATABASE_URL: await createTestDatabase(),
    PORTAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'portal-cli-accounts-')),
    PORTAL_DATABASE_POOL_MAX: '3',
  };
  for (const args of [
    ['locations', 'add', '--name', 'Centrum'],
    ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
    ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
    ['parents', 'add', '--email', 'anna@example.nl', '--first-name', 'Anna', '--last-name', 'Berg', '--child', 'K1'],
  ]) {
    expect((await portal(...args)).code, args.join(' ')).toBe(0);
  }
});

describe('portal parents invite / mail / suspend / audit', () => {
  it('refuses to invite before the organisation is set up', async () => {
    const r = await portal('parents', 'invite');
    expect(r.code).toBe(3); // the organisation: not found
    expect(r.stderr).toMatch(/portal init/);
  });

  it('invites, says where the mail went, and does not invite twice', async () => {
    expect((await portal('init', '--name', 'De Zon', '--url', 'https://ouders.dezon.nl', '--helpdesk-email', 'help@dezon.nl')).code).toBe(0);
    const dry = await portal('parents', 'invite', '--dry-run');
    expect(dry.stdout).toMatch(/Dry run: would send 1 invitation/);
    const r = await portal('parents', 'invite');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 of 1 invitation\(s\) sent \(.*mail\)/);
    expect(readdirSync(join(env['PORTAL_DATA_DIR']!, 'mail')).filter((f) => f.endsWith('.eml'))).toHaveLength(1);
    const again = await portal('parents', 'invite');
    expect(again.stdout).toMatch(/skipped anna@example\.nl: already invited/);
    const status = JSON.parse((await portal('--json', 'mail', 'status')).stdout);
    expect(status).toMatchObject({ sent: 1, failed: 0, retrying: 0, queued: 0 });
  });

  it("revokes a parent's calendar link, says when there was none, and names an unknown address", async () => {
    const none = await portal('parents', 'revoke-feed', 'anna@example.nl');
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/anna@example\.nl had no calendar link/);
    const unknown = await portal('parents', 'revoke-feed', 'niemand@example.nl');
    expect(unknown.code).toBe(3); // not found
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('suspends with a reason, refuses a second suspension, and shows it in the audit log', async () => {
    const r = await portal('parents', 'suspend', 'anna@example.nl', '--reason', 'misbruik foto');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/anna@example\.nl is suspended/);
    const twice = await portal('parents', 'suspend', 'anna@example.nl', '--reason', 'nog eens');
    expect(twice.code).toBe(3); // a conflict
    expect(twice.stderr).toMatch(/already suspended/);
    const noReason = await portal('parents', 'suspend', 'anna@example.nl');
    expect(noReason.code).toBe(2);
    const audit = JSON.parse((await portal('--json', 'audit', '--type', 'account.')).stdout);
    expect(audit[0]).toMatchObject({ type: 'account.suspended', subject: 'anna@example.nl', details: { reason: 'misbruik foto' } });
    const types = JSON.parse((await portal('--json', 'audit', '--subject', 'ANNA@example.nl')).stdout).map((e: { type: string }) => e.type);
    expect(types).toEqual(['account.suspended', 'mail.sent', 'invitation.sent', 'mail.sending', 'invitation.requested']);
    expect((await portal('parents', 'unsuspend', 'anna@example.nl')).code).toBe(0);
  });
});

describe('portal photos trace', () => {
  it('says clearly when a code belongs to no download, and refuses what is not a code', async () => {
    const unknown = await portal('photos', 'trace', '0000ABC');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/a download with trace code 0000ABC not found/);
    const bad = await portal('photos', 'trace', 'not-a-code!');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a trace code/);
  });
});
