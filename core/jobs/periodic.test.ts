import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { installedSchema } from '../../plugins/schema.ts';
import { type MessageWorld, seedMessageWorld } from '../../test/messages.ts';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type PushServiceStandIn, startPushService } from '../../test/push-service.ts';
import { createLogger } from '../log.ts';
import { sendAnnouncement } from '../messages/announcements.ts';
import { dutchTime, NOTIFY_QUEUE, scanNotifications } from '../notifications/notify.ts';
import { createPortal, type Portal } from '../portal.ts';
import { PUSH_QUEUE, scanPush } from '../push/scan.ts';
import { subscribeOwnDevice } from '../push/subscriptions.ts';
import { vapidKeys } from '../push/vapid.ts';
import { backgroundTasks, startBackgroundWork, tick } from './background.ts';
import { isDue, type PeriodicTask, runPeriodic } from './periodic.ts';

/**
 * Two nodes over one database, here two portals in one process: each periodic task runs once per
 * period between them (lock and mark, periodic.ts), and the scans' windows are never queued twice
 * when both nodes scan at the same moment.
 */

let a: TestPortal;
let b: Portal;
let world: MessageWorld;
const logs = { a: [] as string[], b: [] as string[] };

beforeAll(async () => {
  a = await createTestPortal({ 'log.level': 'info' }, { log: createLogger('info', (l) => logs.a.push(l)) });
  // Node B: the same database and the same (pinned) clock, its own data folder and log.
  const { config } = loadConfig({
    env: {},
    flags: { 'database.url': a.dbUrl, dataDir: `${a.dataDir}/node-b`, 'log.level': 'info', 'database.poolMax': 4 },
  });
  b = await createPortal(config, { extensions: installedSchema(), clock: a.clock, log: createLogger('info', (l) => logs.b.push(l)) });
  world = await seedMessageWorld(a);
});
afterAll(async () => {
  await b?.close();
  await a?.destroy();
});

const sql = async <T>(query: string, params: unknown[] = []) => (await a.em().getConnection().execute(query, params as never[])) as T[];

function counting(name: string, periodMs: number, work: () => Promise<void> = async () => {}): PeriodicTask & { runs: number } {
  const task = {
    name,
    periodMs,
    runs: 0,
    run: async () => {
      task.runs++;
      await work();
    },
  };
  return task;
}

describe('isDue', () => {
  it('after the period (less a little slack), never sooner; a mark far in the future is stale', () => {
    const t = new Date('2026-06-10T10:00:00Z');
    const at = (ms: number) => new Date(t.getTime() + ms);
    expect(isDue(null, t, 60_000)).toBe(true);
    expect(isDue(t, at(30_000), 60_000)).toBe(false);
    expect(isDue(t, at(55_000), 60_000)).toBe(true);
    expect(isDue(t, at(23 * 3_600_000), 86_400_000)).toBe(false);
    expect(isDue(t, at(86_400_000 - 30_000), 86_400_000)).toBe(true);
    expect(isDue(t, at(-5_000), 60_000)).toBe(false);
    expect(isDue(t, at(-2 * 86_400_000), 86_400_000)).toBe(true);
  });
});

describe('a periodic task on two nodes', () => {
  it('runs once when both tick at the same moment, not again within the period, and again after it', async () => {
    const day = 24 * 3_600_000;
    // The run that gets the lock holds it until the other tick has returned: that one was 'busy'.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task = counting('test-daily', day, () => released);
    const ticks = [runPeriodic(a.em(), task), runPeriodic(b.em(), task)];
    expect(await Promise.race(ticks)).toBe('busy');
    release();
    expect((await Promise.all(ticks)).sort()).toEqual(['busy', 'ran']);
    expect(task.runs).toBe(1);
    // One after the other, later the same day: the mark says it is done.
    a.clock.advance({ hours: 5 });
    expect(await runPeriodic(b.em(), task)).toBe('not-due');
    expect(await runPeriodic(a.em(), task)).toBe('not-due');
    expect(task.runs).toBe(1);
    // The next day: once more, on whichever node ticks first.
    a.clock.advance({ hours: 19 });
    expect(await runPeriodic(b.em(), task)).toBe('ran');
    expect(await runPeriodic(a.em(), task)).toBe('not-due');
    expect(task.runs).toBe(2);
    const [mark] = await sql<{ last_run_at: Date }>(`select last_run_at from periodic_run where name = 'test-daily'`);
    expect(new Date(mark!.last_run_at).toISOString()).toBe(a.clock.now().toISOString());
  });

  it('a failed run leaves the mark, so the next tick (on any node) tries again', async () => {
    let fail = true;
    const task = counting('test-flaky', 3_600_000, async () => {
      if (fail) throw new Error('storage unreachable');
    });
    await expect(runPeriodic(a.em(), task)).rejects.toThrow('storage unreachable');
    expect(await sql(`select 1 from periodic_run where name = 'test-flaky'`)).toHaveLength(0);
    fail = false;
    expect(await runPeriodic(b.em(), task)).toBe('ran');
    expect(task.runs).toBe(2);
    // `tick` turns a failure into a warning in the node's log instead of an error.
    fail = true;
    a.clock.advance({ hours: 1 });
    expect(await tick(a, task)).toBe('failed');
    expect(logs.a.join('')).toContain('test-flaky failed: storage unreachable');
  });

  it('the background work of two nodes starting together runs the daily retention once', async () => {
    a.clock.advance({ days: 2 });
    logs.a.length = 0;
    logs.b.length = 0;
    const stops = await Promise.all([startBackgroundWork(a), startBackgroundWork(b)]);
    for (const stop of stops) stop();
    const applied = [...logs.a, ...logs.b].filter((l) => l.includes('retention applied'));
    expect(applied).toHaveLength(1);
    // And housekeeping, the notification scan and the photo reaper and sweep, each once: the marks are at this start.
    const marks = await sql<{ name: string; last_run_at: Date }>(`select name, last_run_at from periodic_run order by name`);
    const now = a.clock.now().toISOString();
    expect(marks.filter((m) => new Date(m.last_run_at).toISOString() === now).map((m) => m.name)).toEqual([
      'housekeeping',
      'notification-scan',
      'photo-reaper',
      'photo-sweep',
      'retention',
    ]);
    // A tick of retention on either node the same day finds it done.
    const retention = backgroundTasks(b).find((t) => t.name === 'retention')!;
    a.clock.advance({ hours: 3 });
    expect(await tick(b, retention)).toBe('not-due');
    expect(await tick(a, backgroundTasks(a).find((t) => t.name === 'retention')!)).toBe('not-due');
    expect([...logs.a, ...logs.b].filter((l) => l.includes('retention applied'))).toHaveLength(1);
  });
});

describe('scans of two nodes at the same moment', () => {
  it('queue each parent\'s notification window once', async () => {
    await a.em().getConnection().execute(`delete from pgboss.job where name = ?`, [NOTIFY_QUEUE]);
    await a.em().getConnection().execute('update parent set notified_until = null');
    const evening = dutchTime(a.clock.today(), 19);
    const [onA, onB] = await Promise.all([scanNotifications(a, evening), scanNotifications(b, evening)]);
    const jobs = await sql<{ parent: number }>(`select (data->>'parentId')::int as parent from pgboss.job where name = ?`, [NOTIFY_QUEUE]);
    // Every digest parent of the world is due; each is queued by one of the two.
    expect(jobs.length).toBeGreaterThanOrEqual(4);
    expect(onA + onB).toBe(jobs.length);
    expect(new Set(jobs.map((j) => j.parent)).size).toBe(jobs.length);
    // Ten rounds more, at moments a quarter of an hour apart, for immediate parents: never twice.
    await a.em().getConnection().execute(`update parent set notification_mode = 'immediate'`);
    for (let i = 1; i <= 10; i++) {
      const at = new Date(evening.getTime() + i * 15 * 60_000);
      await Promise.all([scanNotifications(a, at), scanNotifications(b, at)]);
      const windows = await sql<{ parent: number; until: string; n: number }>(
        `select (data->>'parentId')::int as parent, data->>'until' as until, count(*)::int as n from pgboss.job where name = ? group by 1, 2`,
        [NOTIFY_QUEUE],
      );
      expect(windows.filter((w) => w.n > 1)).toEqual([]);
      expect(windows.filter((w) => w.until === at.toISOString())).toHaveLength(new Set(jobs.map((j) => j.parent)).size);
    }
    await a.em().getConnection().execute(`update parent set notification_mode = 'digest'`);
  });

  it('queue one push per device and kind of news', async () => {
    let service: PushServiceStandIn | undefined;
    try {
      const key = (await vapidKeys(a.em())).publicKey;
      service = await startPushService(async () => key);
      await a.em().getConnection().execute(`delete from pgboss.job where name = ?`, [PUSH_QUEUE]);
      await subscribeOwnDevice(a.em(), world.actors.cor, service.subscribe('cor-phone'), { allowLoopback: true });
      a.clock.advance({ minutes: 1 });
      await sendAnnouncement(a.em(), { ...a }, world.actors.hanna, { locationId: world.locations.centrum, subject: 'Studiedag', body: 'Vrijdag dicht' });
      a.clock.advance({ minutes: 1 });
      const [onA, onB] = await Promise.all([scanPush(a), scanPush(b)]);
      const jobs = await sql<{ category: string }>(`select data->>'category' as category from pgboss.job where name = ?`, [PUSH_QUEUE]);
      expect(jobs.map((j) => j.category)).toEqual(['announcements']);
      expect(onA + onB).toBe(1);
    } finally {
      await service?.close();
    }
  });
});
