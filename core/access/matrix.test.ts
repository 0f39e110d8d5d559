import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { suspendParent } from '../accounts/suspension.ts';
import type { Actor } from '../actor.ts';
import { addDays } from '../dates.ts';
import { addChild, leaveChild } from '../directory/children.ts';
import { setConsent } from '../directory/consent.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addParent } from '../directory/parents.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { type ActionName, actionNames, authorize, boundOf, catalogue, filterOf, permittedActions, scopeOf, type TargetKind } from './index.ts';
import { targets } from './targets.ts';

/**
 * The access matrix, generated from the catalogue: every action, asked by every kind of actor
 * about objects in every relation to them (their own child, another child in the same group,
 * another group, another location, a child who left, a photo whose consent was withdrawn, as a
 * suspended parent). Each cell must be allowed exactly when the expectations below say so, and
 * refused as "not found" otherwise; the list scope and the permitted actions must agree with
 * the single check. A new action fails here until it has its row.
 *
 * The world: location Centrum (groups Boomhut and Kikkers) and Wyck (group Egeltjes).
 * Children: Evi (K1, Boomhut) and Sam (K5, left Boomhut yesterday) of `ouder`; Noor (K2,
 * Boomhut) of `ander`; Bo (K3, Kikkers); Mats (K4, Egeltjes) of `wyckOuder`; Lot (K6, Boomhut,
 * no photo consent). `geschorst` is Evi's other parent, suspended. `leid` works in Boomhut,
 * `manager` runs Centrum, `leidWyck` works in Egeltjes; `admin` is the terminal, `beheerder` an
 * admin account with a staff record. Accounts (push) exist for ouder, ander, geschorst (suspended),
 * leid and beheerder; the push subscriptions are ouder's, geschorst's and leid's.
 */

const ACTORS = ['ouder', 'ander', 'geschorst', 'wyckOuder', 'leid', 'manager', 'leidWyck', 'admin', 'beheerder'] as const;
type ActorName = (typeof ACTORS)[number];

/** The objects of each kind, by their relation to `ouder`, `leid` and `manager`. */
const OBJECTS: Record<TargetKind, readonly string[]> = {
  organisation: ['it'],
  location: ['centrum', 'wyck'],
  group: ['boomhut', 'kikkers', 'egeltjes'],
  child: ['evi', 'noor', 'bo', 'mats', 'sam'],
  parent: ['ouder', 'ander', 'wyckOuder'],
  photo: ['evi', 'noor', 'bo', 'mats', 'withdrawn'],
  thread: ['evi', 'noor', 'mats', 'sam'],
  announcement: ['boomhut', 'centrum', 'egeltjes'],
  diaryEntry: ['eviByOuder', 'eviByLeid', 'noorByLeid'],
  cancellation: ['evi', 'noor', 'mats'],
  credit: ['evi', 'noor', 'mats'],
  swapRequest: ['evi', 'noor', 'mats'],
  account: ['ouder', 'ander', 'geschorst', 'leid', 'beheerder'],
  pushSubscription: ['ouder', 'geschorst', 'leid'],
};

const EVERYTHING = '*';
const admins = { admin: EVERYTHING, beheerder: EVERYTHING } as const;
const staffSeeChild = { leid: 'evi noor', manager: 'evi noor bo', leidWyck: 'mats', ...admins };
const seesChild = { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats', ...staffSeeChild };
const works = { leid: 'boomhut', manager: 'boomhut kikkers', leidWyck: 'egeltjes', ...admins };
const ownSchedule = { ouder: 'evi', ander: 'noor', wyckOuder: 'mats', manager: 'evi noor', ...admins };

/** Who may: per action, per actor, the objects allowed (space-separated; '*' all). Everything else is refused. */
const EXPECTED: Record<ActionName, Partial<Record<ActorName, string>>> = {
  'directory.manage': admins,
  'audit.read': admins,
  'photo.trace': admins,
  'gdpr.manage': admins,
  'consent.record': admins,
  'accounts.manage': admins,
  'data.export': admins,
  'retention.manage': admins,
  'mail.status': admins,
  'schedule.manage': admins,
  'photo.externalExport': admins,
  'photo.pipeline': admins,
  'helpdesk.manage': admins,
  'faq.manage': admins,
  'location.read': { ouder: 'centrum', ander: 'centrum', wyckOuder: 'wyck', leid: 'centrum', manager: 'centrum', leidWyck: 'wyck', ...admins },
  'group.read': { ...works, ouder: 'boomhut', ander: 'boomhut', wyckOuder: 'egeltjes' },
  'group.work': works,
  'group.today': works,
  'group.photos.upload': works,
  'group.messages.read': works,
  'group.announce': { ...works, admin: '' },
  'location.announce': { manager: 'centrum', beheerder: EVERYTHING },
  'thread.start': { ouder: 'boomhut', ander: 'boomhut', wyckOuder: 'egeltjes' },
  'group.days': { ouder: 'boomhut', manager: 'boomhut kikkers', ...admins },
  'swap.decide': { manager: 'boomhut kikkers', ...admins },
  'child.read': seesChild,
  'diary.read': seesChild,
  'diary.write.parent': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats' },
  'diary.write.staff': staffSeeChild,
  'schedule.act': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats', manager: 'evi noor bo', ...admins },
  'schedule.read': seesChild,
  'child.photos.read': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats' },
  'child.sick.report': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats' },
  'child.pickup.set': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats' },
  'child.setMentor': { manager: 'evi noor bo', ...admins },
  'child.yearbook': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats' },
  'parent.read': { ouder: 'ouder', ander: 'ander', wyckOuder: 'wyckOuder', leid: 'ouder ander', manager: 'ouder ander', leidWyck: 'wyckOuder', ...admins },
  'parent.update': { ouder: 'ouder', ander: 'ander', wyckOuder: 'wyckOuder', ...admins },
  'parent.export': { ouder: 'ouder', ander: 'ander', wyckOuder: 'wyckOuder', ...admins },
  'photo.view': {
    ouder: 'evi noor',
    ander: 'evi noor',
    wyckOuder: 'mats',
    leid: 'evi noor withdrawn',
    manager: 'evi noor bo withdrawn',
    leidWyck: 'mats',
    ...admins,
  },
  'photo.download': { ouder: 'evi', ander: 'noor', wyckOuder: 'mats' },
  'photo.tag': { leid: 'evi noor withdrawn', manager: 'evi noor bo withdrawn', leidWyck: 'mats', ...admins },
  'photo.hide': { leid: 'evi', manager: 'evi noor bo withdrawn', ...admins },
  'thread.read': { ouder: 'evi sam', ander: 'noor', wyckOuder: 'mats', leid: 'evi noor sam', manager: 'evi noor sam', leidWyck: 'mats', ...admins },
  'thread.reply': { ouder: 'evi', ander: 'noor', wyckOuder: 'mats', leid: 'evi noor sam', manager: 'evi noor sam', leidWyck: 'mats', beheerder: EVERYTHING },
  'thread.assignChild': { leid: 'evi noor sam', manager: 'evi noor sam', leidWyck: 'mats', ...admins },
  'announcement.read': {
    ouder: 'boomhut centrum',
    ander: 'boomhut centrum',
    wyckOuder: 'egeltjes',
    leid: 'boomhut centrum',
    manager: 'boomhut centrum',
    leidWyck: 'egeltjes',
    ...admins,
  },
  'announcement.confirm': { ouder: 'boomhut centrum', ander: 'boomhut centrum' },
  'announcement.confirmations': { leid: 'boomhut', manager: 'boomhut centrum', admin: 'boomhut centrum', beheerder: 'boomhut centrum' },
  'talk.manage': works,
  'talk.book': { ouder: 'evi', ander: 'noor', wyckOuder: 'mats' },
  'talk.record': works,
  'diaryEntry.read': {
    ouder: 'eviByOuder eviByLeid',
    ander: 'noorByLeid',
    leid: 'eviByOuder eviByLeid noorByLeid',
    manager: 'eviByOuder eviByLeid noorByLeid',
    ...admins,
  },
  'diaryEntry.edit': { ouder: 'eviByOuder' },
  'cancellation.withdraw': ownSchedule,
  'credit.use': ownSchedule,
  'swapRequest.read': { ouder: 'evi', ander: 'noor', wyckOuder: 'mats', leid: 'evi noor', manager: 'evi noor', leidWyck: 'mats', ...admins },
  'swapRequest.withdraw': ownSchedule,
  'swapRequest.decide': { manager: 'evi noor', ...admins },
  // Push: only the person's own (active) login; no administrator chooses for someone else.
  'account.pushSubscribe': { ouder: 'ouder', ander: 'ander', leid: 'leid', beheerder: 'beheerder' },
  'account.pushSettings': { ouder: 'ouder', ander: 'ander', leid: 'leid', beheerder: 'beheerder' },
  'pushSubscription.remove': { ouder: 'ouder', leid: 'leid' },
  // The calendar feed: a parent's own active login only (a staff login has no children to list).
  'account.calendarFeed': { ouder: 'ouder', ander: 'ander' },
};

let portal: TestPortal;
const actors = {} as Record<ActorName, Actor>;
const ids = {} as Record<TargetKind, Record<string, number | string | undefined>>;

const allowed = (action: ActionName, who: ActorName, object: string) => {
  const spec = EXPECTED[action][who] ?? '';
  return spec === EVERYTHING || spec.split(' ').includes(object);
};

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return await portal.em().getConnection().execute<T[]>(query, params);
}

async function idOf(table: string, column: string, value: string): Promise<number> {
  const rows = await sql<{ id: number }>(`select id from ${table} where lower(${column}::text) = lower(?)`, [value]);
  return rows[0]!.id;
}

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  const today = portal.clock.today();
  const since = addDays(today, -60);
  await addLocation(em, admin, { name: 'Centrum' });
  await addLocation(em, admin, { name: 'Wyck' });
  for (const [location, name] of [['Centrum', 'Boomhut'], ['Centrum', 'Kikkers'], ['Wyck', 'Egeltjes']] as const) {
    await addGroup(em, admin, { location, name });
  }
  const children = [
    ['K1', 'Evi', 'Boomhut'],
    ['K2', 'Noor', 'Boomhut'],
    ['K3', 'Bo', 'Kikkers'],
    ['K4', 'Mats', 'Egeltjes'],
    ['K5', 'Sam', 'Boomhut'],
    ['K6', 'Lot', 'Boomhut'],
  ] as const;
  for (const [childNumber, firstName, group] of children) {
    await addChild(em, admin, { childNumber, firstName, lastName: 'Test', birthDate: '2023-01-01', group, startDate: since });
    await setConsent(em, admin, childNumber, { internal: childNumber === 'K6' ? 'nee' : 'ja', external: 'nee' });
  }
  await leaveChild(em, admin, 'K5', { date: addDays(today, -1) });
  const parents = [
    ['ouder', ['K1', 'K5']],
    ['ander', ['K2']],
    ['geschorst', ['K1']],
    ['wyckOuder', ['K4']],
    ['lotOuder', ['K6']],
  ] as const;
  for (const [name, kids] of parents) {
    await addParent(em, admin, { email: `${name}@example.nl`, firstName: name, lastName: 'Test', children: [...kids] });
  }
  await suspendParent(em, admin, 'geschorst@example.nl', 'test');
  for (const name of ['ouder', 'ander', 'geschorst', 'wyckOuder'] as const) {
    actors[name] = { kind: 'parent', parentId: await idOf('parent', 'email', `${name}@example.nl`), label: name };
  }
  const staff = [
    ['leid', 'staff', { group: 'Boomhut' }],
    ['manager', 'manager', { location: 'Centrum' }],
    ['leidWyck', 'staff', { group: 'Egeltjes' }],
    ['beheerder', 'admin', undefined],
  ] as const;
  for (const [name, role, where] of staff) {
    await addStaff(em, admin, { email: `${name}@example.nl`, firstName: name, lastName: 'Test', role });
    if (where) await assignStaff(em, admin, `${name}@example.nl`, where);
    const staffId = await idOf('staff', 'email', `${name}@example.nl`);
    actors[name] = role === 'admin' ? { kind: 'admin', staffId, label: name } : { kind: role, staffId, label: name };
  }
  actors.admin = admin;

  const group = async (name: string) => await idOf('care_group', 'name', name);
  const child = async (name: string) => await idOf('child', 'child_number', name);
  const now = portal.clock.now();
  ids.organisation = { it: undefined };
  ids.location = { centrum: await idOf('location', 'name', 'Centrum'), wyck: await idOf('location', 'name', 'Wyck') };
  ids.group = { boomhut: await group('Boomhut'), kikkers: await group('Kikkers'), egeltjes: await group('Egeltjes') };
  ids.child = { evi: await child('K1'), noor: await child('K2'), bo: await child('K3'), mats: await child('K4'), sam: await child('K5') };
  ids.parent = { ouder: actors.ouder.kind === 'parent' ? actors.ouder.parentId : 0 };
  ids.parent.ander = await idOf('parent', 'email', 'ander@example.nl');
  ids.parent.wyckOuder = await idOf('parent', 'email', 'wyckOuder@example.nl');

  ids.photo = {};
  const leidId = await idOf('staff', 'email', 'leid@example.nl');
  for (const [name, groupName, tags] of [
    ['evi', 'Boomhut', ['K1']],
    ['noor', 'Boomhut', ['K2']],
    ['bo', 'Kikkers', ['K3']],
    ['mats', 'Egeltjes', ['K4']],
    ['withdrawn', 'Boomhut', ['K1', 'K6']],
  ] as const) {
    const id = randomUUID();
    await sql(
      `insert into photo (id, group_id, uploaded_by_id, state, taken_at, uploaded_at) values (?, ?, ?, 'ready', ?, ?)`,
      [id, await group(groupName), name === 'evi' ? leidId : null, now, now],
    );
    for (const tag of tags) {
      await sql(`insert into photo_tag (photo_id, child_id, tagged_by, created_at) values (?, ?, 'test', ?)`, [id, await child(tag), now]);
    }
    ids.photo[name] = id;
  }

  ids.thread = {};
  for (const [name, childNumber, groupName] of [
    ['evi', 'K1', 'Boomhut'],
    ['noor', 'K2', 'Boomhut'],
    ['mats', 'K4', 'Egeltjes'],
    ['sam', 'K5', 'Boomhut'],
  ] as const) {
    const id = randomUUID();
    await sql(
      `insert into message_thread (id, group_id, child_id, subject, created_at, last_message_at) values (?, ?, ?, 'onderwerp', ?, ?)`,
      [id, await group(groupName), await child(childNumber), now, now],
    );
    ids.thread[name] = id;
  }

  ids.announcement = {};
  for (const [name, location, groupName] of [
    ['boomhut', 'Centrum', 'Boomhut'],
    ['centrum', 'Centrum', null],
    ['egeltjes', 'Wyck', 'Egeltjes'],
  ] as const) {
    const id = randomUUID();
    await sql(
      `insert into announcement (id, location_id, group_id, author_label, subject, body, confirmation_requested, created_at) values (?, ?, ?, 'test', 's', 'b', ?, ?)`,
      // Egeltjes' asks for no read confirmation: nobody confirms it or sees its confirmations.
      [id, await idOf('location', 'name', location), groupName ? await group(groupName) : null, name !== 'egeltjes', now],
    );
    ids.announcement[name] = id;
  }

  ids.diaryEntry = {};
  for (const [name, childNumber, by] of [
    ['eviByOuder', 'K1', 'parent'],
    ['eviByLeid', 'K1', 'staff'],
    ['noorByLeid', 'K2', 'staff'],
  ] as const) {
    const id = randomUUID();
    await sql(
      `insert into diary_entry (id, child_id, day, author_kind, staff_id, parent_id, author_label, text, lines, photo_ids, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, 'test', 'tekst', '[]', '[]', ?, ?)`,
      [id, await child(childNumber), today, by, by === 'staff' ? leidId : null, by === 'parent' ? ids.parent.ouder : null, now, now],
    );
    ids.diaryEntry[name] = id;
  }

  await sql(`insert into contract_day (child_id, group_id, weekday, part, valid_from, created_at) values (?, ?, 1, 'day', ?, ?)`, [
    await child('K1'),
    await group('Boomhut'),
    since,
    now,
  ]);

  ids.cancellation = {};
  ids.credit = {};
  ids.swapRequest = {};
  for (const [name, childNumber, groupName] of [
    ['evi', 'K1', 'Boomhut'],
    ['noor', 'K2', 'Boomhut'],
    ['mats', 'K4', 'Egeltjes'],
  ] as const) {
    const [c] = await sql<{ id: number }>(
      `insert into day_cancellation (child_id, group_id, date, part, cancelled_by, created_at) values (?, ?, ?, 'day', 'test', ?) returning id`,
      [await child(childNumber), await group(groupName), today, now],
    );
    const [credit] = await sql<{ id: number }>(
      `insert into swap_credit (child_id, group_id, cancellation_id, source_date, part, expires_on, created_at)
       values (?, ?, ?, ?, 'day', ?, ?) returning id`,
      [await child(childNumber), await group(groupName), c!.id, today, addDays(today, 60), now],
    );
    const [request] = await sql<{ id: number }>(
      `insert into swap_request (child_id, group_id, credit_id, date, part, requested_by, created_at)
       values (?, ?, ?, ?, 'day', 'test', ?) returning id`,
      [await child(childNumber), await group(groupName), credit!.id, addDays(today, 7), now],
    );
    ids.cancellation[name] = c!.id;
    ids.credit[name] = credit!.id;
    ids.swapRequest[name] = request!.id;
  }

  // Logins for the push actions (geschorst's was made by the suspension), and a browser each.
  ids.account = {};
  ids.pushSubscription = {};
  for (const name of ['ouder', 'ander', 'geschorst', 'leid', 'beheerder'] as const) {
    const column = ['leid', 'beheerder'].includes(name) ? 'staff_id' : 'parent_id';
    const person = await idOf(column === 'staff_id' ? 'staff' : 'parent', 'email', `${name}@example.nl`);
    await sql(
      `insert into account (email, ${column}, created_at, updated_at) values (?, ?, ?, ?) on conflict (${column}) do nothing`,
      [`${name}@example.nl`.toLowerCase(), person, now, now],
    );
    ids.account[name] = await idOf('account', column, String(person));
  }
  for (const name of ['ouder', 'geschorst', 'leid'] as const) {
    const [row] = await sql<{ id: number }>(
      `insert into push_subscription (account_id, endpoint, p256dh, auth, created_at) values (?, ?, 'x', 'y', ?) returning id`,
      [ids.account[name], `https://push.example.net/${name}`, now],
    );
    ids.pushSubscription[name] = row!.id;
  }
});

afterAll(async () => {
  await portal?.close();
});

describe('the catalogue', () => {
  it('has an expectation row for every action, and no row for an action it lacks', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...actionNames].sort());
  });

  it('names only objects the world has', () => {
    for (const action of actionNames) {
      for (const spec of Object.values(EXPECTED[action])) {
        if (spec === EVERYTHING || spec === '') continue;
        for (const object of spec.split(' ')) expect(OBJECTS[catalogue[action].target], `${action}: ${object}`).toContain(object);
      }
    }
  });
});

describe.each(actionNames)('%s', (action) => {
  const kind = catalogue[action].target;
  it.each(ACTORS)('as %s: allowed exactly where expected, not found elsewhere', async (who) => {
    const em = portal.em();
    const outcomes: Record<string, 'allowed' | 'not found' | string> = {};
    const expected: Record<string, string> = {};
    for (const object of OBJECTS[kind]) {
      const id = ids[kind][object];
      expected[object] = allowed(action, who, object) ? 'allowed' : 'not found';
      outcomes[object] = await authorize(em, actors[who], action, id).then(
        () => 'allowed',
        (err: { code?: string }) => (err.code === 'not_found' ? 'not found' : `error ${String(err.code ?? err)}`),
      );
    }
    expect(outcomes).toEqual(expected);
  });

  it.each(ACTORS)('as %s: the list scope and the permitted actions agree with the check', async (who) => {
    if (kind === 'organisation') return;
    const em = portal.em();
    const scope = scopeOf(em, actors[who], action);
    const inWorld = OBJECTS[kind].map((o) => ids[kind][o]);
    let listed: unknown[];
    if (scope.kind === 'all') listed = inWorld;
    else if (scope.kind === 'none') listed = [];
    else listed = (await em.getConnection().execute<{ id: unknown }[]>(scope.sql, scope.params)).map((r) => r.id);
    const expectedIds = OBJECTS[kind].filter((o) => allowed(action, who, o)).map((o) => ids[kind][o]);
    expect(inWorld.filter((id) => listed.includes(id)).sort()).toEqual([...expectedIds].sort());
    for (const object of OBJECTS[kind]) {
      const permitted = await permittedActions(em, actors[who], kind, ids[kind][object] as number | string);
      expect(permitted.has(action as never), `${object}`).toBe(allowed(action, who, object));
    }
  });
});

/** Every action with a table, asked by every actor: its filter, and a row count on its table. */
async function eachFilter(check: (c: { action: ActionName; who: (typeof ACTORS)[number]; filter: { sql: string; params: unknown[] }; count: (where: string, params: unknown[]) => Promise<number> }) => Promise<void>) {
  const em = portal.em();
  for (const action of actionNames) {
    const target = targets[catalogue[action].target];
    if (target.id === 'none') continue;
    const count = async (where: string, params: unknown[]) =>
      (await em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from ${target.table} ${target.alias} where ${where}`, params))[0]!.n;
    for (const who of ACTORS) await check({ action, who, filter: filterOf(em, actors[who], action), count });
  }
}

describe('filters compose', () => {
  it("an action's filter is one expression: `and false` after it leaves nothing, for every action and actor", async () => {
    await eachFilter(async ({ action, who, filter, count }) => {
      expect(await count(`${filter.sql} and false`, filter.params), `${action} as ${who}`).toBe(0);
    });
  });
});

describe('bounds hold everything their filter lets through', () => {
  it('`boundOf` is a superset of `filterOf`: bound and filter find the same rows, for every action and actor', async () => {
    await eachFilter(async ({ action, who, filter, count }) => {
      const bound = boundOf(portal.em(), actors[who], action);
      if (!bound) return;
      const filtered = await count(filter.sql, filter.params);
      expect(await count(`${bound.sql} and ${filter.sql}`, [...bound.params, ...filter.params]), `${action} as ${who}`).toBe(filtered);
    });
  });
});

describe('ids that name nothing', () => {
  it('a malformed or unknown id is not found, for every actor', async () => {
    const em = portal.em();
    for (const bad of ['', 'x', -1, 0, 1.5, '1 or 1=1', 2 ** 40, randomUUID(), 999_999]) {
      await expect(authorize(em, admin, 'photo.view', bad as string)).rejects.toMatchObject({ code: 'not_found' });
      await expect(authorize(em, actors.ouder, 'child.read', bad as number)).rejects.toMatchObject({ code: 'not_found' });
    }
  });
});
