import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { can, parentIdOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { currentPlacement } from '../authorization.ts';
import { parseDate } from '../dates.ts';
import { Placement } from '../entities/child.ts';
import { DiaryEntry, DiaryEntryRevision, type DiaryLine, type IDiaryEntry } from '../entities/diary.ts';
import { conflict, DomainError, type ErrorDetail, forbidden, invalid } from '../errors.ts';
import { fullName } from '../people.ts';
import { type DiaryPhoto, shareablePhotos, taggedShareablePhotos } from '../photos/visibility.ts';
import { authorName, childForActor, childGroupsForActor, entryForActor } from './access.ts';
import { type DiaryItemView, firstNameOf, itemsOfEntries } from './items.ts';
import { pageLimit } from '../paging.ts';
import { clockOf } from '../clock.ts';
import { isStorableText, UNSTORABLE_TEXT } from '../validation.ts';

/**
 * The schriftje: staff write one entry per child per day (structured lines, free text, photos
 * of the day in which the child is tagged); parents read their children's schriftje by day and
 * write their own entries. Authors may change an entry on the day it was written; every saved
 * state is kept as a revision. Authorization is decided here (see access.ts), for the web pages
 * and anything that comes later alike.
 */

/** What the organisation configured (config `diary`). */
export interface DiarySettings {
  /** Labels of the structured lines staff may fill in. */
  lines: readonly string[];
}

export const DIARY_LIMITS = {
  /** Characters of the free text of an entry. */
  text: 4000,
  /** Characters of one structured line. */
  line: 300,
  /** Photos attached to one entry. */
  photos: 12,
  /** Days per page of a child's schriftje. */
  daysPerPage: 7,
} as const;

export interface DiaryEntryView {
  id: string;
  childId: number;
  day: string;
  authorKind: 'staff' | 'parent';
  authorLabel: string;
  /** The author's first name for the pages ("Mia"); null when the label is not a name (the terminal). */
  authorFirstName: string | null;
  /** The note (several lines). */
  text: string;
  lines: DiaryLine[];
  /** The quick picks of a staff entry, in time order (the day's timeline); empty for parents' entries. */
  items: DiaryItemView[];
  /** Attached photos the viewer may see right now (a withdrawn consent removes one at once). */
  photos: DiaryPhoto[];
  createdAt: string;
  updatedAt: string;
  version: number;
  /** Changed after it was first saved (the history keeps every version). */
  edited: boolean;
  /** Written by this parent (the viewer). */
  own: boolean;
  /** Written by this parent, today: they may still change it. */
  editable: boolean;
  /** A parent's entry this staff member has not seen yet (or not since it was changed). */
  isNew: boolean;
}

/** Dates are 'YYYY-MM-DD' strings in core, whatever the driver hands back. */
const isoDay = (value: string | Date): string => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));


function validationError(details: ErrorDetail[]): DomainError {
  return new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/** Free text: trimmed, Windows line ends made plain, within the limit. */
function cleanText(raw: string | undefined, path: string, details: ErrorDetail[]): string {
  const text = (raw ?? '').replace(/\r\n?/g, '\n').trim();
  if (text.length > DIARY_LIMITS.text) details.push({ path, message: `at most ${DIARY_LIMITS.text} characters` });
  // A NUL byte or a lone surrogate: the field's error, not a crash in the INSERT.
  else if (!isStorableText(text)) details.push({ path, message: UNSTORABLE_TEXT });
  return text;
}

/**
 * Views of entries for one actor, with the photos they may see and the "new" marks for staff.
 * The caller has decided that the actor may see these entries (their child is in scope).
 */
export async function diaryEntryViews(em: EntityManager, actor: Actor, entries: IDiaryEntry[]): Promise<DiaryEntryView[]> {
  const photos = await shareablePhotos(
    em,
    actor,
    entries.flatMap((e) => e.photoIds),
  );
  const staffId = staffIdOf(actor);
  const unseen = new Set<string>();
  const parentEntries = entries.filter((e) => e.authorKind === 'parent').map((e) => e.id);
  if (staffId !== undefined && parentEntries.length) {
    const rows = (await em.getConnection().execute(
      `select e.id from diary_entry e
        where e.id = any(?::uuid[])
          and not exists (select 1 from diary_entry_seen s where s.entry_id = e.id and s.staff_id = ? and s.seen_at >= e.updated_at)`,
      [`{${parentEntries.join(',')}}`, staffId],
    )) as { id: string }[];
    for (const r of rows) unseen.add(r.id);
  }
  const items = await itemsOfEntries(
    em,
    entries.filter((e) => e.authorKind === 'staff').map((e) => e.id),
  );
  const day = clockOf(em).today();
  const parentId = parentIdOf(actor);
  const ownEntry = (e: IDiaryEntry) => parentId !== undefined && e.authorKind === 'parent' && e.parent?.id === parentId;
  return entries.map((e) => ({
    id: e.id,
    childId: e.child.id,
    day: isoDay(e.day),
    authorKind: e.authorKind,
    authorLabel: e.authorLabel,
    authorFirstName: firstNameOf(e.authorLabel),
    text: e.text,
    lines: e.lines,
    items: items.get(e.id) ?? [],
    photos: e.photoIds.map((id) => photos.get(id)).filter((p): p is DiaryPhoto => p !== undefined),
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    version: e.version,
    edited: e.version > 1,
    own: ownEntry(e),
    editable: ownEntry(e) && isoDay(e.day) === day,
    isNew: unseen.has(e.id),
  }));
}

function addRevision(em: EntityManager, actor: Actor, entry: IDiaryEntry, name: string): void {
  em.create(DiaryEntryRevision, {
    entry,
    version: entry.version,
    text: entry.text,
    lines: entry.lines,
    photoIds: entry.photoIds,
    editedBy: actor.label,
    editedByName: name,
  });
}

/** Changing an entry is for the day it was written; after that it is part of the record. */
function assertSameDay(entry: IDiaryEntry, today: string): void {
  if (isoDay(entry.day) !== today) {
    throw new DomainError('forbidden', 'an entry can only be changed on the day it was written', [
      { path: 'day', message: 'only on the day itself' },
    ]);
  }
}

function assertVersion(entry: IDiaryEntry, version: number | undefined): void {
  if (version !== undefined && version !== entry.version) {
    throw conflict('this entry was changed in the meantime', [{ path: 'version', message: 'changed in the meantime' }]);
  }
}

// ---------------------------------------------------------------------------------------------
// Parents

export interface ChildChoice {
  id: number;
  name: string;
  firstName: string;
}

/** The parent's children, for the switcher (first names first); nothing for other actors. */
export async function parentChildren(em: EntityManager, actor: Actor): Promise<ChildChoice[]> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return [];
  // Plain rows, not entities: the album asks this on every page, and hydrating the children
  // cost more than reading them.
  const rows = (await em.getConnection().execute(
    `select c.id, c.first_name, c.infix, c.last_name from guardianship g join child c on c.id = g.child_id where g.parent_id = ?`,
    [parentId],
    'all',
    em.getTransactionContext(),
  )) as { id: number; first_name: string; infix: string | null; last_name: string }[];
  return rows
    .map((c) => ({ id: c.id, name: fullName({ firstName: c.first_name, infix: c.infix, lastName: c.last_name }), firstName: c.first_name }))
    .sort((a, b) => a.firstName.localeCompare(b.firstName, 'nl') || a.id - b.id);
}

export interface ParentEntryInput {
  text: string;
  /** The version the parent edited (from the form); a newer one in the database is a conflict. */
  version?: number;
}

/** A parent writes in their child's schriftje for today ("oma haalt op"). */
export async function writeParentEntry(
  em: EntityManager,
  actor: Actor,
  childId: number,
  input: ParentEntryInput,
): Promise<DiaryEntryView> {
  const child = await childForActor(em, actor, childId);
  const parentId = parentIdOf(actor);
  if (parentId === undefined || !(await can(em, actor, 'diary.write.parent', child.id))) {
    throw forbidden('staff write through the day sheet of their group');
  }
  const details: ErrorDetail[] = [];
  const text = cleanText(input.text, 'text', details);
  if (!text) details.push({ path: 'text', message: 'required' });
  if (details.length) throw validationError(details);
  const day = clockOf(em).today();
  const placed = await em.count(Placement, { child: child.id, ...currentPlacement(day) });
  if (!placed) throw forbidden('the child is not placed in a group today');
  const name = await authorName(em, actor);
  const entry = await em.transactional(async (tx) => {
    const created = tx.create(DiaryEntry, {
      child: child.id,
      day,
      authorKind: 'parent',
      staff: null,
      parent: parentId,
      authorLabel: name,
      text,
      lines: [],
      photoIds: [],
      version: 1,
    });
    addRevision(tx, actor, created, name);
    return created;
  });
  return (await diaryEntryViews(em, actor, [entry]))[0]!;
}

/** A parent changes their own entry, on the day it was written. */
export async function editParentEntry(
  em: EntityManager,
  actor: Actor,
  entryId: string,
  input: ParentEntryInput,
): Promise<DiaryEntryView> {
  const entry = await entryForActor(em, actor, entryId);
  if (!(await can(em, actor, 'diaryEntry.edit', entry.id))) {
    throw forbidden('only the parent who wrote an entry can change it');
  }
  assertSameDay(entry, clockOf(em).today());
  const details: ErrorDetail[] = [];
  const text = cleanText(input.text, 'text', details);
  if (!text) details.push({ path: 'text', message: 'required' });
  if (details.length) throw validationError(details);
  assertVersion(entry, input.version);
  if (text !== entry.text) {
    const name = await authorName(em, actor);
    await em.transactional(async (tx) => {
      const fresh = await tx.findOneOrFail(DiaryEntry, { id: entry.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      assertVersion(fresh, input.version);
      fresh.text = text;
      fresh.version += 1;
      addRevision(tx, actor, fresh, name);
    });
    await em.refresh(entry);
  }
  return (await diaryEntryViews(em, actor, [entry]))[0]!;
}

/** One entry for its page (the parent's edit form). */
export async function diaryEntry(em: EntityManager, actor: Actor, entryId: string): Promise<DiaryEntryView> {
  const entry = await entryForActor(em, actor, entryId);
  return (await diaryEntryViews(em, actor, [entry]))[0]!;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface DiaryDay {
  day: string;
  entries: DiaryEntryView[];
}

export interface DiaryPage {
  child: ChildChoice;
  days: DiaryDay[];
  /** The cursor of the next page (the last day shown), when there are older days. */
  nextBefore?: string;
}

/**
 * A child's schriftje by day, newest first, `DIARY_LIMITS.daysPerPage` days at a time before the
 * cursor `before` (a day). Within a day the newest entry comes first.
 */
export async function childDiary(
  em: EntityManager,
  actor: Actor,
  childId: number,
  options: { before?: string; days?: number } = {},
): Promise<DiaryPage> {
  const child = await childForActor(em, actor, childId);
  let before: string | undefined;
  if (options.before !== undefined) {
    before = parseDate(options.before);
    if (!before) throw invalid('before', 'not a date');
  }
  const perPage = pageLimit(options.days, DIARY_LIMITS.daysPerPage, 60);
  const dayRows = (await em.getConnection().execute(
    `select distinct day::text as day from diary_entry where child_id = ? ${before ? 'and day < ?::date' : ''} order by day desc limit ?`,
    before ? [child.id, before, perPage + 1] : [child.id, perPage + 1],
  )) as { day: string }[];
  const pageDays = dayRows.slice(0, perPage).map((r) => r.day);
  const entries = pageDays.length
    ? await em.find(DiaryEntry, { child: child.id, day: { $in: pageDays } }, { orderBy: { day: 'desc', createdAt: 'desc', id: 'asc' } })
    : [];
  const all = await diaryEntryViews(em, actor, entries);
  const days = pageDays.map((day) => ({ day, entries: all.filter((e) => e.day === day) }));
  return {
    child: { id: child.id, name: fullName(child), firstName: child.firstName },
    days,
    nextBefore: dayRows.length > perPage ? pageDays.at(-1) : undefined,
  };
}

/**
 * Staff have seen these parent entries (as they are now): the "nieuw" mark goes, until the
 * parent changes one. Entries the actor may not see, and staff entries, are left alone.
 */
export async function markParentEntriesSeen(em: EntityManager, actor: Actor, entryIds: string[]): Promise<number> {
  const staffId = staffIdOf(actor);
  if (staffId === undefined) return 0;
  let marked = 0;
  for (const id of new Set(entryIds)) {
    const entry = await entryForActor(em, actor, id).catch(() => undefined);
    if (entry?.authorKind !== 'parent') continue;
    await em.getConnection().execute(
      `insert into diary_entry_seen (entry_id, staff_id, seen_at) values (?, ?, ?)
       on conflict (entry_id, staff_id) do update set seen_at = excluded.seen_at`,
      [entry.id, staffId, clockOf(em).now()],
    );
    marked++;
  }
  return marked;
}

// ---------------------------------------------------------------------------------------------
// Staff

export interface StaffEntryInput {
  text?: string;
  /** Values of the structured lines, by configured label. */
  lines?: Record<string, string | undefined>;
  photoIds?: string[];
  /** The version shown in the form (0: there was no entry yet; absent: no check); another one is a conflict. */
  version?: number;
}

/** The photos staff may attach to a child's entry today. */
export async function photoCandidates(em: EntityManager, actor: Actor, childId: number): Promise<DiaryPhoto[]> {
  const child = await childForActor(em, actor, childId);
  if (!(await can(em, actor, 'diary.write.staff', child.id))) return [];
  const day = clockOf(em).today();
  return await taggedShareablePhotos(em, await childGroupsForActor(em, actor, child.id, day), child.id, day);
}

/**
 * Saves the staff entry of a child for today: creates it, or changes it when it exists (any
 * staff member of the group may complete it during the day). Nothing changed, nothing saved.
 */
export async function saveStaffEntry(
  em: EntityManager,
  actor: Actor,
  settings: DiarySettings,
  childId: number,
  input: StaffEntryInput,
): Promise<{ entry: DiaryEntryView; changed: boolean }> {
  const child = await childForActor(em, actor, childId);
  if (!(await can(em, actor, 'diary.write.staff', child.id))) throw forbidden('parents write their own entries');
  const day = clockOf(em).today();
  const details: ErrorDetail[] = [];
  const text = cleanText(input.text, 'text', details);
  const lines: DiaryLine[] = [];
  for (const label of settings.lines) {
    const value = (input.lines?.[label] ?? '').replace(/\s+/g, ' ').trim();
    if (value.length > DIARY_LIMITS.line) details.push({ path: `lines.${label}`, message: `at most ${DIARY_LIMITS.line} characters` });
    else if (!isStorableText(value)) details.push({ path: `lines.${label}`, message: UNSTORABLE_TEXT });
    if (value) lines.push({ label, text: value });
  }
  const photoIds = [...new Set(input.photoIds ?? [])];
  if (photoIds.length > DIARY_LIMITS.photos) details.push({ path: 'photoIds', message: `at most ${DIARY_LIMITS.photos} photos` });
  else if (photoIds.length) {
    const allowed = new Set((await photoCandidates(em, actor, child.id)).map((p) => p.id));
    if (photoIds.some((id) => !allowed.has(id))) {
      details.push({ path: 'photoIds', message: 'only photos of today in which this child is tagged and that may be shared' });
    }
  }
  if (!text && lines.length === 0 && photoIds.length === 0) details.push({ path: 'text', message: 'write something first' });
  if (details.length) throw validationError(details);

  const name = await authorName(em, actor);
  const staffId = staffIdOf(actor) ?? null;
  try {
    const result = await em.transactional(async (tx) => {
      const existing = await tx.findOne(DiaryEntry, { child: child.id, day, authorKind: 'staff' }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!existing) {
        // The form said there was an entry (version > 0), but there is none: refuse rather than guess.
        if (input.version) throw conflict('this entry was changed in the meantime', [{ path: 'version', message: 'changed in the meantime' }]);
        const created = tx.create(DiaryEntry, {
          child: child.id,
          day,
          authorKind: 'staff',
          staff: staffId,
          parent: null,
          authorLabel: name,
          text,
          lines,
          photoIds,
          version: 1,
        });
        addRevision(tx, actor, created, name);
        return { entry: created, changed: true };
      }
      // An entry the quick picks created holds no note yet: a form from before it overwrites nothing.
      const emptyHolder = existing.version === 1 && existing.text === '' && existing.lines.length === 0 && existing.photoIds.length === 0;
      if (!(input.version === 0 && emptyHolder)) assertVersion(existing, input.version);
      const same =
        existing.text === text &&
        // jsonb keeps its own key order: compare the pairs, not the serialisation.
        JSON.stringify(existing.lines.map((l) => [l.label, l.text])) === JSON.stringify(lines.map((l) => [l.label, l.text])) &&
        JSON.stringify(existing.photoIds) === JSON.stringify(photoIds);
      if (same) return { entry: existing, changed: false };
      existing.text = text;
      existing.lines = lines;
      existing.photoIds = photoIds;
      existing.version += 1;
      addRevision(tx, actor, existing, name);
      return { entry: existing, changed: true };
    });
    return { entry: (await diaryEntryViews(em, actor, [result.entry]))[0]!, changed: result.changed };
  } catch (err) {
    // Two staff members saving the first entry of a child at the same moment.
    if (err instanceof UniqueConstraintViolationException) {
      throw conflict('this entry was changed in the meantime', [{ path: 'version', message: 'changed in the meantime' }]);
    }
    throw err;
  }
}

/** The revisions of an entry, oldest first (who changed what, when). */
export async function entryHistory(
  em: EntityManager,
  actor: Actor,
  entryId: string,
): Promise<{ version: number; text: string; lines: DiaryLine[]; editedByName: string; editedAt: string }[]> {
  const entry = await entryForActor(em, actor, entryId);
  const revisions = await em.find(DiaryEntryRevision, { entry: entry.id }, { orderBy: { version: 'asc', id: 'asc' } });
  return revisions.map((r) => ({
    version: r.version,
    text: r.text,
    lines: r.lines,
    editedByName: r.editedByName,
    editedAt: r.editedAt.toISOString(),
  }));
}
