import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Group } from './group.ts';
import { Parent } from './parent.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

export const PHOTO_STATES = ['processing', 'ready', 'failed'] as const;
export type PhotoState = (typeof PHOTO_STATES)[number];

/**
 * A photo taken in a group. The id is a random UUID, so ids cannot be guessed or counted.
 * Whether parents see it is not stored: it is decided at query time from the tags and each
 * tagged child's consent in force, so a withdrawn consent hides the photo at once.
 * The three keys point into the PhotoStore (content-addressed, metadata stripped).
 */
export const Photo = defineEntity({
  name: 'Photo',
  tableName: 'photo',
  // The album's walk, newest first with the id breaking ties (Migration20261207040000PhotoAlbumIndex).
  indexes: [
    { properties: ['group', 'takenAt', 'id'] },
    // The reaper's look at what is still in the pipeline (Migration20261207080000PhotoProcessingLimits).
    { name: 'photo_processing_idx', expression: `create index "photo_processing_idx" on "photo" ("queued_at") where "state" = 'processing'` },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    group: p.manyToOne(Group),
    uploadedBy: p.manyToOne(Staff).nullable().deleteRule('set null'),
    caption: p.string().length(500).nullable(),
    state: p.enum(['processing', 'ready', 'failed'] as PhotoState[]).default('processing'),
    /** Why it failed, in English (CLI, logs). */
    failureReason: p.string().length(500).nullable(),
    /** Why it failed, as a code staff see translated (core/photos/reaper.ts PhotoFailureCode). */
    failureCode: p.string().length(40).nullable(),
    /** How often the reaper (or a retry) queued it again after its first job. */
    attempts: p.integer().default(0),
    /** When it last went into the processing queue: the reaper's limit counts from here. */
    queuedAt: p.datetime().nullable(),
    /** From the EXIF capture time; the upload time when the camera did not say. */
    takenAt: p.datetime(),
    uploadedAt: p.datetime().onCreate(stamp),
    /** The upload as received (metadata and all), in the incoming store until processed. */
    sourceKey: p.string().length(64).nullable(),
    originalKey: p.string().length(64).nullable(),
    displayKey: p.string().length(64).nullable(),
    thumbKey: p.string().length(64).nullable(),
    width: p.integer().nullable(),
    height: p.integer().nullable(),
    /** Staff confirmed that no child is recognisable: an untagged photo may be shared. */
    noChildConfirmed: p.boolean().default(false),
    /** Hidden by staff or the location manager: parents no longer see it. */
    hiddenAt: p.datetime().nullable(),
    /** Uploaded and not yet published by staff (core/photos/batch-tagging.ts): parents do not see it. */
    awaitingPublish: p.boolean().default(false),
    /**
     * When staff published it (null while it waits): the news in e-mail and push counts photos
     * by this, so a photo published hours after its upload is still news.
     */
    publishedAt: p.datetime().nullable(),
  },
});
export type IPhoto = InferEntity<typeof Photo>;

/** A child recognisable in a photo. Every tagged child must have internal consent for it to be shown. */
export const PhotoTag = defineEntity({
  name: 'PhotoTag',
  tableName: 'photo_tag',
  uniques: [{ properties: ['photo', 'child'] }],
  indexes: [{ properties: ['child'] }],
  properties: {
    id: p.integer().primary(),
    photo: p.manyToOne(Photo).deleteRule('cascade'),
    child: p.manyToOne(Child).deleteRule('cascade'),
    taggedBy: p.string().length(200),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IPhotoTag = InferEntity<typeof PhotoTag>;

/**
 * One download of a photo by a parent, with the trace code embedded in that copy. Kept when the
 * photo or the parent is removed (the e-mail and photo id stay as text), so a leaked copy can
 * still be traced.
 */
export const PhotoDownload = defineEntity({
  name: 'PhotoDownload',
  tableName: 'photo_download',
  indexes: [{ properties: ['parent', 'at'] }, { properties: ['photo', 'at'] }],
  properties: {
    id: p.bigint('number').primary(),
    traceCode: p.bigint('number').unique(),
    photo: p.manyToOne(Photo).nullable().deleteRule('set null'),
    // The photo's id as plain text too: it outlives the photo row.
    photoRef: p.uuid(),
    parent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    email: p.string().length(320),
    at: p.datetime().onCreate(stamp),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(300).nullable(),
  },
});
export type IPhotoDownload = InferEntity<typeof PhotoDownload>;

/**
 * A parent's display views of a photo (the 1600 px image of the photo page, the API's display
 * variant, the photos of their AVG export): one row per parent and photo, whose trace code is in
 * every such copy that parent received. Trace codes share one space with downloads (a trigger
 * keeps them apart), so `portal photos trace` finds either. Kept like a download when the photo
 * or the parent is removed. `tracedKey` names that parent's copy in the photo store, made from
 * `displayKey`: a second view is served from it without re-encoding.
 */
export const PhotoView = defineEntity({
  name: 'PhotoView',
  tableName: 'photo_view',
  uniques: [{ properties: ['parent', 'photoRef'] }],
  indexes: [{ properties: ['photo'] }],
  properties: {
    id: p.bigint('number').primary(),
    traceCode: p.bigint('number').unique(),
    photo: p.manyToOne(Photo).nullable().deleteRule('set null'),
    photoRef: p.uuid(),
    parent: p.manyToOne(Parent).nullable().deleteRule('set null'),
    email: p.string().length(320),
    firstAt: p.datetime(),
    /**
     * The last time the traced bytes were sent (a 304 revalidation sends none), to the hour: a
     * repeat view within the hour writes nothing, so a warm view is reads only.
     */
    lastAt: p.datetime(),
    /** The last time this photo left in the parent's AVG export (the same traced copy). */
    exportedAt: p.datetime().nullable(),
    displayKey: p.string().length(64).nullable(),
    tracedKey: p.string().length(64).nullable(),
  },
});
export type IPhotoView = InferEntity<typeof PhotoView>;
