import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { can, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { clockOf, timeOfDayOf } from '../clock.ts';
import { DIARY_ITEM_KINDS, DiaryEntry, DiaryEntryRevision, DiaryItem, type DiaryItemKind, type IDiaryEntry } from '../entities/diary.ts';
import { DomainError, type ErrorDetail, forbidden, notFound } from '../errors.ts';
import { isStorableText, UNSTORABLE_TEXT } from '../validation.ts';
import { authorName, childForActor } from './access.ts';

/**
 * Quick picks in the schriftje: staff tap "slept 12:30–14:00", "ate: beetje", "nappy 10:15: nat"
 * for one child or for several children of the group at once. Each pick is a row under the day's
 * staff entry (created empty when the first pick comes before any note), so reading, retention
 * and erasure follow the entry. Writing is `diary.write.staff` on every child named; a child the
 * actor may not see is "not found" and nothing is saved for any of them.
 */

/** The fixed choices per kind; the pages and the API show them in this order. */
export const DIARY_ITEM_CHOICES: Record<DiaryItemKind, readonly string[]> = {
  sleep: ['slept'],
  meal: ['goed', 'beetje', 'niets'],
  drink: ['goed', 'beetje', 'niets'],
  mood: ['blij', 'rustig', 'moe', 'verdrietig', 'onrustig'],
  nappy: ['nat', 'vies', 'droog', 'wc'],
};

export const DIARY_ITEM_LIMITS = {
  /** Characters of the optional "what" (pasta, water). */
  detail: 100,
  /** Children in one pick for the group. */
  children: 60,
} as const;

export interface DiaryItemInput {
  kind: string;
  /** One of the kind's choices; sleep has only one and may leave it out. */
  value?: string;
  /** 'HH:MM' today (Europe/Amsterdam): when it happened, or when the sleep began. */
  from: string;
  /** 'HH:MM', sleep only: when the child woke up. */
  to?: string;
  detail?: string;
}

export interface DiaryItemView {
  id: string;
  kind: DiaryItemKind;
  value: string;
  startsAt: string;
  endsAt: string | null;
  detail: string | null;
  /** The staff member's first name ("Mia"); null when written from the terminal. */
  authorFirstName: string | null;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * The first name from a name as stored ("Mia de Vries" → "Mia"); null for an actor label such as
 * "cli:admin" or "web:anna@…", which must never be shown to parents as a name.
 */
export function firstNameOf(label: string): string | null {
  if (/[:@]/.test(label)) return null;
  return label.trim().split(/\s+/)[0] || null;
}

function validationError(details: ErrorDetail[]): DomainError {
  return new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/** A pick, checked against the clock: valid times, the end after the start, nothing later than now. */
export function cleanItem(
  input: DiaryItemInput,
  now: string,
): { kind: DiaryItemKind; value: string; startsAt: string; endsAt: string | null; detail: string | null } {
  const details: ErrorDetail[] = [];
  const kind = DIARY_ITEM_KINDS.find((k) => k === input.kind);
  if (!kind) throw validationError([{ path: 'kind', message: `one of ${DIARY_ITEM_KINDS.join(', ')}` }]);
  const choices = DIARY_ITEM_CHOICES[kind];
  const value = (input.value ?? '').trim() || (choices.length === 1 ? choices[0]! : '');
  if (!choices.includes(value)) details.push({ path: 'value', message: `one of ${choices.join(', ')}` });
  const from = (input.from ?? '').trim();
  const to = (input.to ?? '').trim();
  if (!TIME.test(from)) details.push({ path: 'from', message: 'a time as HH:MM' });
  else if (from > now) details.push({ path: 'from', message: 'not later than now' });
  let endsAt: string | null = null;
  if (kind === 'sleep') {
    if (!TIME.test(to)) details.push({ path: 'to', message: 'a time as HH:MM' });
    else if (TIME.test(from) && to <= from) details.push({ path: 'to', message: 'after the start' });
    else if (to > now) details.push({ path: 'to', message: 'not later than now' });
    else endsAt = to;
  }
  const detail = (input.detail ?? '').replace(/\s+/g, ' ').trim();
  if (detail.length > DIARY_ITEM_LIMITS.detail) details.push({ path: 'detail', message: `at most ${DIARY_ITEM_LIMITS.detail} characters` });
  else if (!isStorableText(detail)) details.push({ path: 'detail', message: UNSTORABLE_TEXT });
  if (details.length) throw validationError(details);
  return { kind, value, startsAt: from, endsAt, detail: kind === 'meal' || kind === 'drink' ? detail || null : null };
}

const view = (i: { id: string; kind: DiaryItemKind; value: string; startsAt: string; endsAt?: string | null; detail?: string | null; authorLabel: string }): DiaryItemView => ({
  id: i.id,
  kind: i.kind,
  value: i.value,
  startsAt: i.startsAt,
  endsAt: i.endsAt ?? null,
  detail: i.detail ?? null,
  authorFirstName: firstNameOf(i.authorLabel),
});

/** The picks of these entries, in time order per entry (the caller decided the actor sees them). */
export async function itemsOfEntries(em: EntityManager, entryIds: string[]): Promise<Map<string, DiaryItemView[]>> {
  const out = new Map<string, DiaryItemView[]>();
  if (entryIds.length === 0) return out;
  const items = await em.find(DiaryItem, { entry: { $in: entryIds } }, { orderBy: { startsAt: 'asc', createdAt: 'asc', id: 'asc' } });
  for (const item of items) {
    const list = out.get(item.entry.id) ?? [];
    list.push(view(item));
    out.set(item.entry.id, list);
  }
  return out;
}

/** Today's staff entry of a child, locked; an empty one is created for the first pick. */
async function staffEntryForToday(tx: EntityManager, actor: Actor, childId: number, day: string, name: string): Promise<IDiaryEntry> {
  const existing = await tx.findOne(DiaryEntry, { child: childId, day, authorKind: 'staff' }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (existing) return existing;
  const created = tx.create(DiaryEntry, {
    child: childId,
    day,
    authorKind: 'staff',
    staff: staffIdOf(actor) ?? null,
    parent: null,
    authorLabel: name,
    text: '',
    lines: [],
    photoIds: [],
    version: 1,
  });
  tx.create(DiaryEntryRevision, { entry: created, version: 1, text: '', lines: [], photoIds: [], editedBy: actor.label, editedByName: name });
  return created;
}

/**
 * Saves one pick for each of the children (today, as the clock says). All or nothing: one child
 * out of reach, or bad input, and no child gets it.
 */
export async function addDiaryItems(em: EntityManager, actor: Actor, childIds: number[], input: DiaryItemInput): Promise<DiaryItemView[]> {
  const ids = [...new Set(childIds)];
  if (ids.length === 0) throw validationError([{ path: 'children', message: 'choose at least one child' }]);
  if (ids.length > DIARY_ITEM_LIMITS.children) throw validationError([{ path: 'children', message: `at most ${DIARY_ITEM_LIMITS.children} children` }]);
  for (const id of ids) {
    const child = await childForActor(em, actor, id);
    if (!(await can(em, actor, 'diary.write.staff', child.id))) throw forbidden('parents write their own entries');
  }
  const clock = clockOf(em);
  const day = clock.today();
  const item = cleanItem(input, timeOfDayOf(clock.now()));
  const name = await authorName(em, actor);
  const save = () =>
    em.transactional(async (tx) => {
      const made = [];
      for (const id of ids) {
        const entry = await staffEntryForToday(tx, actor, id, day, name);
        made.push(tx.create(DiaryItem, { entry, ...item, staff: staffIdOf(actor) ?? null, authorLabel: name }));
      }
      return made;
    });
  try {
    return (await save()).map(view);
  } catch (err) {
    // A colleague's first pick or note for the same child at the same moment: their entry now exists.
    if (err instanceof UniqueConstraintViolationException) return (await save()).map(view);
    throw err;
  }
}

/** Takes a pick back (a mistap), on the day itself; any staff member who may write for the child. */
export async function removeDiaryItem(em: EntityManager, actor: Actor, itemId: string): Promise<{ childId: number }> {
  if (!/^[0-9a-f-]{36}$/i.test(itemId)) throw notFound('diary item');
  const item = await em.findOne(DiaryItem, { id: itemId }, { populate: ['entry'] });
  if (!item) throw notFound('diary item');
  const child = await childForActor(em, actor, item.entry.child.id);
  if (!(await can(em, actor, 'diary.write.staff', child.id))) throw forbidden('parents write their own entries');
  const day = typeof item.entry.day === 'string' ? item.entry.day : (item.entry.day as Date).toISOString().slice(0, 10);
  if (day.slice(0, 10) !== clockOf(em).today()) {
    throw new DomainError('forbidden', 'a pick can only be taken back on the day itself', [{ path: 'day', message: 'only on the day itself' }]);
  }
  await em.nativeDelete(DiaryItem, { id: item.id });
  return { childId: child.id };
}
