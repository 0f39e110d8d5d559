import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { createTestDatabase } from '../test/portal.ts';
import { createPortal } from '../core/portal.ts';
import { loadConfig } from '../config/load.ts';
import { silentLogger } from '../core/log.ts';
import { installedSchema } from '../plugins/schema.ts';

/** The audit log: consent changes in it, filtered by child, and rows the application cannot rewrite. */

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});
const portal = (...args: string[]) => runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });

describe('portal audit', () => {
  it('records each consent change and finds them with --child', async () => {
    for (const args of [
      ['locations', 'add', '--name', 'Centrum'],
      ['groups', 'add', '--location', 'Centrum', '--name', 'Boomhut'],
      ['children', 'add', '--number', 'K1', '--first-name', 'Evi', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
      ['children', 'add', '--number', 'K2', '--first-name', 'Ties', '--last-name', 'Berg', '--birth-date', '2024-01-01', '--group', 'Boomhut'],
      ['consent', 'set', 'K1', '--internal', 'ja', '--external', 'nee'],
      ['consent', 'set', 'K1', '--internal', 'nee', '--external', 'nee'],
      ['consent', 'set', 'K1', '--internal', 'nee', '--external', 'nee'], // unchanged: no event
      ['consent', 'set', 'K2', '--internal', 'ja', '--external', 'ja'],
    ]) {
      const r = await portal(...args);
      expect(r.stderr).toBe('');
    }
    const events = JSON.parse((await portal('--json', 'audit', '--child', 'K1', '--type', 'consent.changed')).stdout);
    expect(events.map((e: { details: { internal: boolean } }) => e.details.internal)).toEqual([false, true]);
    expect(events.every((e: { subject: string; actor: string }) => e.subject === 'K1' && e.actor.startsWith('cli:'))).toBe(true);
  });

  it('cannot be changed or emptied by the application; only the retention job may delete', async () => {
    const { config } = loadConfig({ env: { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' }, cwd: process.cwd() });
    const p = await createPortal(config, { log: silentLogger, extensions: installedSchema() });
    try {
      const db = p.em().getConnection();
      const count = async () => Number((await db.execute<{ n: string }[]>('select count(*) as n from audit_event'))[0]?.n);
      const before = await count();
      expect(before).toBeGreaterThan(0);
      await expect(db.execute(`update audit_event set actor = 'someone else'`)).rejects.toThrow(/never changed or removed \(UPDATE refused\)/);
      await expect(db.execute('delete from audit_event')).rejects.toThrow(/DELETE refused/);
      expect(await count()).toBe(before);
      await p.em().transactional(async (tx) => {
        const trx = tx.getTransactionContext();
        await tx.getConnection().execute(`set local ouderportaal.audit_retention = 'on'`, [], 'run', trx);
        await tx.getConnection().execute(`delete from audit_event where type = 'consent.changed' and subject = 'K2'`, [], 'run', trx);
      });
      expect(await count()).toBe(before - 1);
    } finally {
      await p.close();
    }
  });
});
