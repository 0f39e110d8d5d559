import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Parent } from './parent.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

export const DIARY_AUTHOR_KINDS = ['staff', 'parent'] as const;
export type DiaryAuthorKind = (typeof DIARY_AUTHOR_KINDS)[number];

/** One structured line of a staff entry ("Slapen: 12:30 tot 14:00"), with the label as it was configured then. */
export interface DiaryLine {
  label: string;
  text: string;
}

/**
 * One stukje in a child's schriftje for one day (Europe/Amsterdam, 'YYYY-MM-DD'). Staff keep one
 * entry per child per day that any staff member of the child's group may complete during that
 * day (the partial unique index); parents may add any number of their own. The id is a random
 * UUID, so entries cannot be counted or guessed from a URL. `authorLabel` is the name shown
 * beside the entry, kept as written so it survives the author's removal. `version` counts the
 * saves, so that two staff members on the same row do not silently overwrite each other.
 */
export const DiaryEntry = defineEntity({
  name: 'DiaryEntry',
  tableName: 'diary_entry',
  indexes: [
    { properties: ['child', 'day'] },
    {
      name: 'diary_entry_staff_child_day_unique',
      expression:
        'create unique index "diary_entry_staff_child_day_unique" on "diary_entry" ("child_id", "day") where "author_kind" = \'staff\'',
    },
  ],
  checks: [
    {
      name: 'diary_entry_author',
      expression: "(author_kind = 'parent' and staff_id is null) or (author_kind = 'staff' and parent_id is null)",
    },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    child: p.manyToOne(Child).deleteRule('cascade'),
    day: p.date(),
    authorKind: p.enum(['staff', 'parent'] as DiaryAuthorKind[]),
    staff: p.manyToOne(Staff).nullable().deleteRule('set null'),
    parent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    authorLabel: p.string().length(200),
    text: p.text(),
    lines: p.json<DiaryLine[]>(),
    photoIds: p.json<string[]>(),
    version: p.integer().default(1),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IDiaryEntry = InferEntity<typeof DiaryEntry>;

/**
 * Every saved state of an entry, the first one included; rows are only ever added (a trigger
 * refuses updates). `editedBy` is the actor's label (who changed it), `editedByName` the name
 * shown in the portal.
 */
export const DiaryEntryRevision = defineEntity({
  name: 'DiaryEntryRevision',
  tableName: 'diary_entry_revision',
  indexes: [{ properties: ['entry', 'version'] }],
  properties: {
    id: p.bigint('number').primary(),
    entry: p.manyToOne(DiaryEntry).deleteRule('cascade'),
    version: p.integer(),
    text: p.text(),
    lines: p.json<DiaryLine[]>(),
    photoIds: p.json<string[]>(),
    editedBy: p.string().length(200),
    editedByName: p.string().length(200),
    editedAt: p.datetime().onCreate(stamp),
  },
});
export type IDiaryEntryRevision = InferEntity<typeof DiaryEntryRevision>;

/**
 * A staff member has seen a parent's entry (as it was at `seenAt`): until then, and again after
 * the parent edits it, the entry is marked "nieuw" for that staff member.
 */
export const DiaryEntrySeen = defineEntity({
  name: 'DiaryEntrySeen',
  tableName: 'diary_entry_seen',
  uniques: [{ properties: ['entry', 'staff'] }],
  indexes: [{ properties: ['staff'] }],
  properties: {
    id: p.integer().primary(),
    entry: p.manyToOne(DiaryEntry).deleteRule('cascade'),
    staff: p.manyToOne(Staff).deleteRule('cascade'),
    seenAt: p.datetime(),
  },
});
export type IDiaryEntrySeen = InferEntity<typeof DiaryEntrySeen>;

export const DIARY_ITEM_KINDS = ['sleep', 'meal', 'drink', 'mood', 'nappy'] as const;
export type DiaryItemKind = (typeof DIARY_ITEM_KINDS)[number];

/**
 * One quick pick in a child's day ("slept 12:30–14:00", "ate: goed, pasta", "nappy 10:15: nat"),
 * hanging off that day's staff entry, so the entry's retention, erasure and access cover it. Times
 * are wall-clock 'HH:MM' in Europe/Amsterdam on the entry's day (text sorts them); `endsAt` only
 * for sleep. `value` is one of the kind's fixed choices (core/diary/items.ts), `detail` the
 * optional "what" (pasta, water). `authorLabel` is the name as written, like the entry's.
 */
export const DiaryItem = defineEntity({
  name: 'DiaryItem',
  tableName: 'diary_item',
  indexes: [{ properties: ['entry', 'startsAt'] }],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    entry: p.manyToOne(DiaryEntry).deleteRule('cascade'),
    kind: p.enum([...DIARY_ITEM_KINDS] as DiaryItemKind[]),
    startsAt: p.string().length(5),
    endsAt: p.string().length(5).nullable(),
    value: p.string().length(20),
    detail: p.string().length(100).nullable(),
    staff: p.manyToOne(Staff).nullable().deleteRule('set null'),
    authorLabel: p.string().length(200),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IDiaryItem = InferEntity<typeof DiaryItem>;
