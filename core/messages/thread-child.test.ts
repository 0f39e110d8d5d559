import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MessageWorld, seedMessageWorld } from '../../test/messages.ts';
import { errorCode } from '../../test/errors.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { FAMILY, seedTwinFamily, storeAmbiguousThread, type TwinFamily } from '../../test/thread-child.ts';
import { listAudit } from '../audit.ts';
import { MARK_AMBIGUOUS_THREADS_SQL } from '../db/migrations/Migration20261206100000ThreadChildReview.ts';
import { AuditEvent } from '../entities/audit.ts';
import { Message, MessageThread } from '../entities/message.ts';
import type { DomainError } from '../errors.ts';
import { exportParentData } from '../gdpr/export.ts';
import { parentHome } from '../home/home.ts';
import { newsFor } from '../notifications/notify.ts';
import { ambiguousThreads, assignThreadChild, threadChildCandidates } from './thread-child.ts';
import {
  groupInbox,
  markThreadRead,
  parentThreads,
  replyToThread,
  startThread,
  threadChildChoices,
  threadView,
  writableGroups,
} from './threads.ts';
import { unreadCount } from './unread.ts';

/**
 * Privacy invariant 3 from the side of the parent who must not read along: a thread is about
 * exactly one child. Cor has Sam and Ties in Boomhut; Dirk is Sam's other guardian only, Femke
 * Ties's only (test/thread-child.ts). A message about Ties never reaches Dirk; a stored thread
 * that may be about either is seen by Cor alone until staff or an admin assigns its child.
 */

let portal: TestPortal;
let w: MessageWorld;
let f: TwinFamily;

const code = async (p: Promise<unknown>) => (await errorCode(p)) ?? 'ok';

const rows = async () => ({ threads: await portal.em().fork().count(MessageThread, {}), messages: await portal.em().fork().count(Message, {}) });

/** Everything a parent could learn a thread by: list, unread count, home, notification, single read. */
async function seenBy(actor: TwinFamily['actors']['dirk'], threadId: string) {
  const em = portal.em();
  const parentId = actor.kind === 'parent' ? actor.parentId : 0;
  const home = await parentHome(em, actor);
  const news = await newsFor(em, parentId, new Date(portal.clock.now().getTime() - 3_600_000), portal.clock.now());
  return {
    listed: (await parentThreads(em, actor)).some((t) => t.id === threadId),
    unread: await unreadCount(em, actor),
    homeUnread: home.children.reduce((n, c) => n + c.unreadThreads, 0),
    notified: news.children.reduce((n, c) => n + c.messages, 0),
    read: await code(threadView(em, actor, threadId)),
  };
}

beforeAll(async () => {
  portal = await createTestPortal();
  w = await seedMessageWorld(portal);
  f = await seedTwinFamily(portal);
});
afterAll(() => portal?.destroy());

describe('the migration marks the threads that may be about the wrong child', () => {
  it('only threads by a parent with two or more children placed in the group on the day the thread was started', async () => {
    const em = portal.em();
    const start = async (who: 'cor' | 'anna', groupId: number, childId: number) =>
      (await startThread(em, portal, w.actors[who], { groupId, childId, subject: 'Vraag', body: 'Tekst' })).threadId;
    const both = await start('cor', w.groups.boomhut, f.children.sam);
    const beforeTies = await start('cor', w.groups.boomhut, f.children.sam);
    const zolder = await start('cor', w.groups.zolder, f.children.lot);
    const anna = await start('anna', w.groups.boomhut, f.children.evi);
    // Ties was placed 30 days ago: a thread from 40 days ago had one child of Cor's in Boomhut.
    await em.getConnection().execute(`update message_thread set created_at = created_at - interval '40 days' where id = ?`, [beforeTies]);
    await em.getConnection().execute(MARK_AMBIGUOUS_THREADS_SQL);
    const marked = await em.fork().find(MessageThread, { id: { $in: [both, beforeTies, zolder, anna] } });
    expect(Object.fromEntries(marked.map((t) => [t.id, t.childReview]))).toEqual({ [both]: true, [beforeTies]: false, [zolder]: false, [anna]: false });
    // Out of the way of the tests below: settled again, and removed.
    await em.getConnection().execute(`delete from message_thread where id in (?, ?, ?, ?)`, [both, beforeTies, zolder, anna]);
  });
});

describe('a new thread names its child', () => {
  it('the choices are the parent\'s own children placed in the group today', async () => {
    expect((await threadChildChoices(portal.em(), w.actors.cor, w.groups.boomhut)).map((c) => c.name)).toEqual(['Sam Jansen', 'Ties Jansen']);
    expect((await threadChildChoices(portal.em(), w.actors.cor, w.groups.zolder)).map((c) => c.name)).toEqual(['Lot Jansen']);
    expect(await threadChildChoices(portal.em(), f.actors.dirk, w.groups.zolder)).toEqual([]);
    expect(await threadChildChoices(portal.em(), w.actors.mia, w.groups.boomhut)).toEqual([]);
    const boomhut = (await writableGroups(portal.em(), w.actors.cor)).find((g) => g.groupId === w.groups.boomhut)!;
    expect(boomhut.childOptions.map((c) => c.id)).toEqual([f.children.sam, f.children.ties]);
    expect(boomhut.children).toEqual(['Sam', 'Ties']);
  });

  it('two children in the group and no choice: a validation error on childId (with the other problems), nothing written', async () => {
    const before = await rows();
    const err = (await startThread(portal.em(), portal, w.actors.cor, { groupId: w.groups.boomhut, subject: '', body: 'Tekst' }).catch((e) => e)) as DomainError;
    expect(err.code).toBe('validation');
    expect(err.details.map((d) => d.path).sort()).toEqual(['childId', 'subject']);
    const only = (await startThread(portal.em(), portal, w.actors.cor, { groupId: w.groups.boomhut, subject: 'Vraag', body: 'Tekst' }).catch((e) => e)) as DomainError;
    expect(only.details).toEqual([{ path: 'childId', message: expect.stringMatching(/more than one child/) }]);
    expect(await rows()).toEqual(before);
  });

  it('a child that is not the parent\'s, or not in that group today, is not found', async () => {
    const before = await rows();
    for (const childId of [f.children.evi, f.children.lot, 999_999]) {
      const attempt = startThread(portal.em(), portal, w.actors.cor, { groupId: w.groups.boomhut, childId, subject: 'Vraag', body: 'Tekst' });
      expect(await code(attempt), String(childId)).toBe('not_found');
    }
    expect(await code(startThread(portal.em(), portal, f.actors.dirk, { groupId: w.groups.boomhut, childId: f.children.ties, subject: 'x', body: 'y' }))).toBe(
      'not_found',
    );
    expect(await rows()).toEqual(before);
  });

  it('one child in the group: no choice needed', async () => {
    const { threadId } = await startThread(portal.em(), portal, w.actors.cor, { groupId: w.groups.zolder, subject: 'Lot', body: 'Tekst' });
    expect((await threadView(portal.em(), w.actors.cor, threadId)).childName).toBe('Lot Jansen');
    const { threadId: evi } = await startThread(portal.em(), portal, w.actors.anna, { groupId: w.groups.boomhut, subject: 'Evi', body: 'Tekst' });
    expect((await threadView(portal.em(), w.actors.bart, evi)).childName).toBe('Evi Jansen');
  });

  it('Cor writes about Ties: Femke reads it, Dirk (Sam\'s other parent) sees nothing of it anywhere', async () => {
    const { threadId } = await startThread(portal.em(), portal, w.actors.cor, {
      groupId: w.groups.boomhut,
      childId: f.children.ties,
      subject: 'Ties: medicijnen',
      body: 'Ties krijgt antibiotica.',
    });
    portal.clock.advance({ minutes: 1 });
    await replyToThread(portal.em(), portal, w.actors.mia, threadId, { body: 'Genoteerd.' });
    portal.clock.advance({ minutes: 1 });
    expect(await seenBy(f.actors.femke, threadId)).toEqual({ listed: true, unread: 1, homeUnread: 1, notified: 1, read: 'ok' });
    expect(await seenBy(f.actors.dirk, threadId)).toEqual({ listed: false, unread: 0, homeUnread: 0, notified: 0, read: 'not_found' });
    expect(await code(replyToThread(portal.em(), portal, f.actors.dirk, threadId, { body: 'Ik ook?' }))).toBe('not_found');
    expect((await threadView(portal.em(), w.actors.cor, threadId)).childName).toBe('Ties Jansen');
    expect((await portal.em().fork().findOneOrFail(MessageThread, { id: threadId })).childReview).toBe(false);
    await markThreadRead(portal.em(), f.actors.femke, threadId);
  });
});

describe('a stored thread that may be about the wrong child', () => {
  let threadId: string;

  beforeAll(async () => {
    threadId = await storeAmbiguousThread(portal, w, f);
    portal.clock.advance({ minutes: 1 });
    await replyToThread(portal.em(), portal, w.actors.mia, threadId, { body: 'Dank u, wij letten erop.' });
    portal.clock.advance({ minutes: 1 });
  });

  it('is hidden from every parent but the one who started it, although it is stored under Sam', async () => {
    expect(await seenBy(f.actors.dirk, threadId)).toEqual({ listed: false, unread: 0, homeUnread: 0, notified: 0, read: 'not_found' });
    expect(await code(replyToThread(portal.em(), portal, f.actors.dirk, threadId, { body: 'Over Sam?' }))).toBe('not_found');
    expect(await code(markThreadRead(portal.em(), f.actors.dirk, threadId))).toBe('not_found');
    expect((await seenBy(f.actors.femke, threadId)).read).toBe('not_found');
    const cor = await seenBy(w.actors.cor, threadId);
    expect(cor).toMatchObject({ listed: true, read: 'ok' });
    expect((await threadView(portal.em(), w.actors.cor, threadId)).childReview).toBe(true);
    // The starter may still add to it; the group's staff see it in their inbox.
    await replyToThread(portal.em(), portal, w.actors.cor, threadId, { body: 'Het gaat om Ties.' });
    expect((await groupInbox(portal.em(), w.actors.mia, w.groups.boomhut)).some((t) => t.id === threadId)).toBe(true);
    // Not in Dirk's AVG export either (the only thread stored under Sam is this one); in Cor's it is.
    const exported = async (email: string) =>
      (await exportParentData(portal.em(), portal.photos, admin, email, join(portal.dataDir, `avg-${email}.zip`))).messages;
    expect(await exported(FAMILY.dirk)).toBe(0);
    expect(await exported('cor@example.nl')).toBeGreaterThanOrEqual(3);
  });

  it('is listed with its candidates for staff of the group and admins, for nobody else', async () => {
    const listed = await ambiguousThreads(portal.em(), admin);
    expect(listed).toEqual([
      expect.objectContaining({
        id: threadId,
        group: 'Centrum/Boomhut',
        startedBy: 'cor@example.nl',
        subject: 'Medicijnen',
        currentChild: 'K2',
        candidates: [
          { childNumber: 'K2', name: 'Sam Jansen' },
          { childNumber: 'K5', name: 'Ties Jansen' },
        ],
      }),
    ]);
    expect((await ambiguousThreads(portal.em(), w.actors.mia)).map((t) => t.id)).toEqual([threadId]);
    expect((await ambiguousThreads(portal.em(), w.actors.hanna)).map((t) => t.id)).toEqual([threadId]);
    expect(await ambiguousThreads(portal.em(), w.actors.otto)).toEqual([]);
    expect(await ambiguousThreads(portal.em(), w.actors.cor)).toEqual([]);
    expect(await threadChildCandidates(portal.em(), w.actors.cor, threadId)).toEqual([]);
    expect((await threadChildCandidates(portal.em(), w.actors.mia, threadId)).map((c) => c.childNumber)).toEqual(['K2', 'K5']);
  });

  it('only staff of the group, the manager or an admin assign it, and only to a candidate', async () => {
    for (const who of [w.actors.otto, w.actors.cor, f.actors.femke]) {
      expect(await code(assignThreadChild(portal.em(), who, threadId, 'K5')), who.label).toBe('not_found');
    }
    for (const n of ['K3', 'K1', 'K9', '']) {
      const err = (await assignThreadChild(portal.em(), w.actors.mia, threadId, n).catch((e) => e)) as DomainError;
      expect(err.code, n).toBe('validation');
      expect(err.message).toMatch(/K2 \(Sam Jansen\), K5 \(Ties Jansen\)/);
    }
    expect(await code(assignThreadChild(portal.em(), w.actors.mia, 'niet-een-id', 'K5'))).toBe('not_found');
    expect(await portal.em().fork().count(AuditEvent, { type: 'message.child_assigned' })).toBe(0);
  });

  it('assigned to Ties: Femke reads it, Dirk still does not, and the audit log says who did it', async () => {
    const r = await assignThreadChild(portal.em(), w.actors.mia, threadId, 'K5');
    expect(r).toEqual({ threadId, from: 'K2', to: 'K5', childName: 'Ties Jansen' });
    expect(await seenBy(f.actors.femke, threadId)).toMatchObject({ listed: true, read: 'ok' });
    expect((await threadView(portal.em(), f.actors.femke, threadId)).childReview).toBe(false);
    expect(await seenBy(f.actors.dirk, threadId)).toEqual({ listed: false, unread: 0, homeUnread: 0, notified: 0, read: 'not_found' });
    expect(await ambiguousThreads(portal.em(), admin)).toEqual([]);
    const [event] = await listAudit(portal.em(), admin, { type: 'message.child_assigned' });
    expect(event).toMatchObject({ actor: 'mia@example.nl', subject: 'K5', details: { threadId, groupId: w.groups.boomhut, from: 'K2', to: 'K5' } });
    // Settled: a second assignment is a conflict and changes nothing.
    expect(await code(assignThreadChild(portal.em(), admin, threadId, 'K2'))).toBe('conflict');
    expect((await threadView(portal.em(), f.actors.femke, threadId)).childName).toBe('Ties Jansen');
  });
});
