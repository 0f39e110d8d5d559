import { createRoute, z } from '@hono/zod-openapi';
import { parseDate } from '../../../core/dates.ts';
import { childDiary, DIARY_LIMITS, editParentEntry, parentChildren, writeParentEntry } from '../../../core/diary/entries.ts';
import { addDiaryItems, DIARY_ITEM_LIMITS } from '../../../core/diary/items.ts';
import { DIARY_ITEM_KINDS } from '../../../core/entities/diary.ts';
import { parentHome } from '../../../core/home/home.ts';
import { shownMentorNames } from '../../../core/directory/mentor.ts';
import { childAlbum } from '../../../core/photos/child-album.ts';
import { albumCursor, parseAlbumCursor } from '../../../core/photos/visibility.ts';
import type { ApiModule } from '../deps.ts';
import { ChildParam, CursorQuery, decodeCursor, encodeCursor, errors, IdParam, json, page } from '../schemas.ts';
import { AlbumPhotoSchema } from './photos.ts';

/**
 * The parent's children and what hangs off them: the home feed, a child's album and schriftje.
 * Every answer comes from the core use case the page calls; a child that is not the actor's
 * own is "not found".
 */

const Child = z
  .object({
    id: z.number().int(),
    name: z.string(),
    firstName: z.string(),
    mentor: z.string().nullable().openapi({ description: "The mentor's display name, while active staff of the child's group; else null" }),
  })
  .openapi('Child');

const DiaryLine = z.object({ label: z.string(), text: z.string() });
const DiaryPhoto = z.object({
  id: z.string(),
  takenAt: z.string(),
  caption: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
});
/** A quick pick on the day's timeline (staff entries only). */
const DiaryItem = z
  .object({
    id: z.string(),
    kind: z.enum(DIARY_ITEM_KINDS),
    value: z.string().openapi({ description: 'One of the kind\'s choices: sleep slept; meal and drink goed, beetje, niets; mood blij, rustig, moe, verdrietig, onrustig; nappy nat, vies, droog, wc' }),
    startsAt: z.string().openapi({ example: '12:30', description: 'HH:MM, Europe/Amsterdam, on the entry\'s day' }),
    endsAt: z.string().nullable().openapi({ example: '14:00', description: 'Sleep only' }),
    detail: z.string().nullable().openapi({ description: 'What was eaten or drunk, when given' }),
    authorFirstName: z.string().nullable(),
  })
  .openapi('DiaryItem');
const DiaryEntry = z
  .object({
    id: z.string(),
    childId: z.number().int(),
    day: z.string().openapi({ example: '2026-11-25' }),
    authorKind: z.enum(['staff', 'parent']),
    authorLabel: z.string(),
    authorFirstName: z.string().nullable(),
    text: z.string().openapi({ description: 'The note (several lines)' }),
    lines: z.array(DiaryLine),
    items: z.array(DiaryItem).openapi({ description: 'The quick picks of a staff entry in time order: the day\'s timeline' }),
    photos: z.array(DiaryPhoto),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
    edited: z.boolean(),
    own: z.boolean(),
    editable: z.boolean(),
    isNew: z.boolean(),
  })
  .openapi('DiaryEntry');
const DiaryDay = z.object({ day: z.string(), entries: z.array(DiaryEntry) }).openapi('DiaryDay');

const Home = z
  .object({
    children: z.array(
      z.object({
        id: z.number().int(),
        firstName: z.string(),
        name: z.string(),
        groupName: z.string(),
        locationName: z.string(),
        diary: z.array(z.object({ authorKind: z.enum(['staff', 'parent']), authorLabel: z.string(), text: z.string(), lines: z.array(DiaryLine) })),
        photos: z.array(z.object({ id: z.string(), width: z.number().nullable(), height: z.number().nullable(), caption: z.string().nullable() })),
        unreadThreads: z.number().int(),
        mentor: z.object({ name: z.string() }).nullable(),
      }),
    ),
    announcements: z.array(z.object({ id: z.string(), subject: z.string(), createdAt: z.string(), read: z.boolean(), where: z.string() })),
  })
  .openapi('Home');

const WriteEntry = z.object({ text: z.string().min(1).max(DIARY_LIMITS.text) }).openapi('DiaryEntryInput');

const listChildren = createRoute({
  method: 'get',
  path: '/children',
  operationId: 'listChildren',
  tags: ['Children'],
  summary: 'My children (parents; empty for staff)',
  responses: { 200: json(z.object({ items: z.array(Child) }).openapi('Children'), 'My children'), ...errors() },
});

const home = createRoute({
  method: 'get',
  path: '/home',
  operationId: 'getHome',
  tags: ['Children'],
  summary: "Home feed: per child today's schriftje, newest photos, unread threads; newest announcements",
  responses: { 200: json(Home, 'The home feed (empty for staff)'), ...errors() },
});

const album = createRoute({
  method: 'get',
  path: '/children/{child}/photos',
  operationId: 'listChildPhotos',
  tags: ['Photos'],
  summary: "A child's album: photos of the child's group, newest first, by cursor",
  request: { params: ChildParam, query: CursorQuery },
  responses: { 200: json(page(AlbumPhotoSchema, 'AlbumPage'), 'One page of the album'), ...errors(404, 422) },
});

const readDiary = createRoute({
  method: 'get',
  path: '/children/{child}/diary',
  operationId: 'listDiaryEntries',
  tags: ['Schriftje'],
  summary: `A child's schriftje by day, newest first, ${DIARY_LIMITS.daysPerPage} days per page`,
  request: { params: ChildParam, query: CursorQuery },
  responses: { 200: json(page(DiaryDay, 'DiaryPage'), 'One page of days'), ...errors(404, 422) },
});

const writeDiary = createRoute({
  method: 'post',
  path: '/children/{child}/diary',
  operationId: 'writeDiaryEntry',
  tags: ['Schriftje'],
  summary: "Write in my child's schriftje for today (parents)",
  request: { params: ChildParam, body: { content: { 'application/json': { schema: WriteEntry } }, required: true } },
  responses: { 201: json(DiaryEntry, 'The new entry'), ...errors(403, 404, 422) },
});

const EditEntry = z
  .object({
    text: z.string().min(1).max(DIARY_LIMITS.text),
    version: z.number().int().positive().optional().openapi({ description: 'The version you edited; a newer one is a 409 conflict' }),
  })
  .openapi('DiaryEntryEdit');

const editDiary = createRoute({
  method: 'patch',
  path: '/diary-entries/{id}',
  operationId: 'editDiaryEntry',
  tags: ['Schriftje'],
  summary: 'Change my own entry, on the day it was written (parents)',
  request: { params: IdParam, body: { content: { 'application/json': { schema: EditEntry } }, required: true } },
  responses: { 200: json(DiaryEntry, 'The entry after the change'), ...errors(403, 404, 409, 422) },
});

const AddItem = z
  .object({
    kind: z.enum(DIARY_ITEM_KINDS),
    value: z.string().max(20).optional(),
    from: z.string().openapi({ example: '12:30', description: 'HH:MM today, not later than now' }),
    to: z.string().optional().openapi({ example: '14:00', description: 'Sleep only: after `from`, not later than now' }),
    detail: z.string().max(DIARY_ITEM_LIMITS.detail).optional(),
  })
  .openapi('DiaryItemInput');

const addItem = createRoute({
  method: 'post',
  path: '/children/{child}/diary-items',
  operationId: 'addDiaryItem',
  tags: ['Schriftje'],
  summary: "Add a quick pick to a child's schriftje for today (staff of the child's group)",
  request: { params: ChildParam, body: { content: { 'application/json': { schema: AddItem } }, required: true } },
  responses: { 201: json(DiaryItem, 'The saved pick'), ...errors(403, 404, 422) },
});

export const childrenRoutes: ApiModule = (api) => {
  api.openapi(listChildren, async (c) => {
    const children = await parentChildren(c.var.em, c.var.api.actor);
    const mentors = await shownMentorNames(c.var.em, children.map((ch) => ch.id));
    return c.json({ items: children.map((ch) => ({ ...ch, mentor: mentors.get(ch.id) ?? null })) }, 200);
  });

  api.openapi(home, async (c) => c.json(await parentHome(c.var.em, c.var.api.actor), 200));

  api.openapi(album, async (c) => {
    const { child } = c.req.valid('param');
    const before = decodeCursor(c.req.valid('query').cursor, parseAlbumCursor);
    const found = await childAlbum(c.var.em, c.var.api.actor, child, { before });
    return c.json({ items: found.photos, nextCursor: found.next ? encodeCursor(albumCursor(found.next)) : null }, 200);
  });

  api.openapi(readDiary, async (c) => {
    const { child } = c.req.valid('param');
    const before = decodeCursor(c.req.valid('query').cursor, (raw) => (parseDate(raw) === raw ? raw : undefined));
    const diary = await childDiary(c.var.em, c.var.api.actor, child, { before });
    return c.json({ items: diary.days, nextCursor: diary.nextBefore ? encodeCursor(diary.nextBefore) : null }, 200);
  });

  api.openapi(writeDiary, async (c) => {
    const { child } = c.req.valid('param');
    const entry = await writeParentEntry(c.var.em, c.var.api.actor, child, { text: c.req.valid('json').text });
    return c.json(entry, 201);
  });

  api.openapi(addItem, async (c) => {
    const [item] = await addDiaryItems(c.var.em, c.var.api.actor, [c.req.valid('param').child], c.req.valid('json'));
    return c.json(item!, 201);
  });

  api.openapi(editDiary, async (c) => {
    const { text, version } = c.req.valid('json');
    const entry = await editParentEntry(c.var.em, c.var.api.actor, c.req.valid('param').id, { text, version });
    return c.json(entry, 200);
  });
};
