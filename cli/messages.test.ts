import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../core/audit.ts';
import { threadView } from '../core/messages/threads.ts';
import { runCli } from '../test/cli.ts';
import { type MessageWorld, seedMessageWorld } from '../test/messages.ts';
import { admin, createTestDatabase, createTestPortal, type TestPortal } from '../test/portal.ts';
import { seedTwinFamily, storeAmbiguousThread, type TwinFamily } from '../test/thread-child.ts';

/** The per-location reading time of messages, set from the terminal. */

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});
const portal = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });

describe('portal locations --messages-read-at', () => {
  it('defaults to 12:00, is set and shown, and refuses what is not a time', async () => {
    expect((await portal(['locations', 'add', '--name', 'Centrum'])).code).toBe(0);
    expect(JSON.parse((await portal(['--json', 'locations', 'show', 'Centrum'])).stdout).messagesReadAt).toBe('12:00');
    expect((await portal(['locations', 'update', 'Centrum', '--messages-read-at', '9:45'])).code).toBe(0);
    expect((await portal(['locations', 'show', 'Centrum'])).stdout).toMatch(/Messages read at:\s+09:45/);
    const bad = await portal(['locations', 'update', 'Centrum', '--messages-read-at', 'rond de middag']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/expected a time like 12:00/);
    expect(JSON.parse((await portal(['--json', 'locations', 'show', 'Centrum'])).stdout).messagesReadAt).toBe('09:45');
  });
});

describe('portal messages ambiguous | assign', () => {
  /** Cor has Sam (K2) and Ties (K5) in Boomhut; Dirk is Sam's other parent only, Femke Ties's (test/thread-child.ts). */
  let seeded: TestPortal;
  let w: MessageWorld;
  let f: TwinFamily;
  let threadId: string;
  const run = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: seeded.dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });
  const reads = async (who: TwinFamily['actors']['dirk']) =>
    await threadView(seeded.em(), who, threadId).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    seeded = await createTestPortal();
    w = await seedMessageWorld(seeded);
    f = await seedTwinFamily(seeded);
    threadId = await storeAmbiguousThread(seeded, w, f);
  });
  afterAll(() => seeded?.destroy());

  it('lists the threads awaiting their child with the candidates, for people and for scripts', async () => {
    const human = await run(['messages', 'ambiguous']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^THREAD\s+GROUP\s+STARTED BY\s+STARTED AT\s+SUBJECT\s+CANDIDATES/);
    expect(human.stdout).toContain(threadId);
    expect(human.stdout).toMatch(/Centrum\/Boomhut\s+cor@example\.nl\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+Medicijnen\s+K2 Sam Jansen, K5 Ties Jansen/);
    const json = JSON.parse((await run(['--json', 'messages', 'ambiguous'])).stdout);
    expect(json).toEqual([
      expect.objectContaining({
        id: threadId,
        group: 'Centrum/Boomhut',
        startedBy: 'cor@example.nl',
        subject: 'Medicijnen',
        candidates: [
          { childNumber: 'K2', name: 'Sam Jansen' },
          { childNumber: 'K5', name: 'Ties Jansen' },
        ],
      }),
    ]);
    expect(await reads(f.actors.dirk)).toBe(false);
    expect(await reads(f.actors.femke)).toBe(false);
  });

  it('refuses a child that is not a candidate (exit 1), and a thread that does not exist (exit 3): one line', async () => {
    const lot = await run(['messages', 'assign', threadId, '--child', 'K3']);
    expect(lot.code).toBe(1);
    expect(lot.stderr.trim().split('\n')).toHaveLength(1);
    expect(lot.stderr).toMatch(/K3 is not one of the children .* K2 \(Sam Jansen\), K5 \(Ties Jansen\)/);
    const missing = await run(['messages', 'assign', '00000000-0000-4000-8000-000000000000', '--child', 'K5']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/thread not found/);
    const usage = await run(['messages', 'assign', threadId]);
    expect(usage.code).toBe(2);
  });

  it('assigns the child: the right other parent reads it now, the other one still not; audited; no longer listed', async () => {
    const r = await run(['messages', 'assign', threadId, '--child', 'K5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Thread ${threadId} is now about K5 (Ties Jansen); it was stored under K2.\n`);
    expect(await reads(f.actors.femke)).toBe(true);
    expect(await reads(f.actors.dirk)).toBe(false);
    const [event] = await listAudit(seeded.em(), admin, { type: 'message.child_assigned' });
    expect(event).toMatchObject({ actor: expect.stringMatching(/^cli:/), subject: 'K5', details: { threadId, from: 'K2', to: 'K5' } });
    expect((await run(['messages', 'ambiguous'])).stdout).toBe('No threads await their child.\n');
    const again = await run(['messages', 'assign', threadId, '--child', 'K2']);
    expect(again.code).toBe(3); // a conflict
    expect(again.stderr).toMatch(/not awaiting its child/);
  });
});
