import { sideOf } from '../../core/access/index.ts';
import type { Context, Hono } from 'hono';
import { workGroups } from '../../core/authorization.ts';
import { type DomainError, isDomainError } from '../../core/errors.ts';
import {
  deletePhoto,
  groupPhotosForStaff,
  type StaffPhoto,
  staffPhoto,
  tagSheet,
} from '../../core/photos/manage.ts';
import { PhotoRejectedError } from '../../core/photos/process.ts';
import { PhotoTooLargeError } from '../../core/photos/store.ts';
import { batchTagSheet, type BatchSheet, saveBatchTags } from '../../core/photos/batch-tagging.ts';
import { setPhotoHidden, tagPhoto } from '../../core/photos/tagging.ts';
import { uploadPhoto } from '../../core/photos/upload.ts';
import { PhotoNotRetryableError, retryPhoto } from '../../core/photos/retry.ts';
import type { Portal } from '../../core/portal.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { isHtmx, readForm, seeOther } from '../forms.ts';
import { readMultipart, TooManyFilesError } from '../multipart.ts';
import { PHOTOS_PATH } from './photos.ts';
import type { Pages } from '../render.ts';

/**
 * The staff side of Foto's: the group's photos with what parents see of each, the upload form,
 * the tag sheet, hiding and deleting. Every decision (which groups, which photos, who may hide
 * or delete) is core's (core/photos/manage.ts, tagging.ts); parents get "not found" there.
 */

export const UPLOAD_PATH = '/fotos/uploaden';
/** The batch tagging screen: one upload's photos (or the group's unpublished ones) on one page. */
export const BATCH_PATH = '/fotos/taggen';
/** Photos per page of the staff list. */
const STAFF_PAGE = 24;
const FILE_FIELD = 'foto';

export interface UploadOutcome {
  filename: string;
  photo?: StaffPhoto;
  error?: string;
}

/** 25 MB, or 0.2 MB for a small limit (never "0 MB"). */
const megabytes = (bytes: number) => {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? String(Math.floor(mb)) : mb.toFixed(1);
};

/** Why a file was refused, in the reader's language (core's messages are for the CLI and logs). */
function refusal(c: Context<AuthedEnv>, err: DomainError): string {
  if (err instanceof PhotoRejectedError) return c.var.t(`staffPhotos.refused.${err.reason}`);
  if (err instanceof PhotoTooLargeError) {
    return c.var.t('staffPhotos.refused.too_large', { mb: megabytes(err.maxBytes) });
  }
  return err.message;
}

const photosHref = (groupId: number) => `${PHOTOS_PATH}?groep=${groupId}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The batch screen of a group, for the photos of one upload when `ids` is given. */
const batchHref = (groupId: number, ids: string[] = []) =>
  `${BATCH_PATH}?groep=${groupId}${ids.length ? `&fotos=${ids.join(',')}` : ''}`;
const parseIds = (raw: unknown): string[] =>
  typeof raw === 'string' ? raw.split(',').filter((id) => UUID.test(id)).slice(0, 100) : [];

/** Every value of a repeated form field (checkboxes), strings only. */
function all(body: Record<string, unknown>, name: string): string[] {
  const raw = body[name];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string');
}

/** The cursor of the staff list: the last photo's upload time and id. */
function parseCursor(raw: string | undefined): { uploadedAt: string; id: string } | undefined {
  const m = raw?.match(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)_([0-9a-f-]{36})$/i);
  return m && !Number.isNaN(Date.parse(m[1]!)) ? { uploadedAt: m[1]!, id: m[2]! } : undefined;
}

export function staffPhotoRoutes(app: Hono<AuthedEnv>, portal: Portal, pages: Pages, secure: boolean): void {
  /** GET /fotos for staff: group picker, upload form, the group's photos. */
  const groupPage = async (c: Context<AuthedEnv>, outcomes: UploadOutcome[] = [], status: 200 | 422 = 200) => {
    const actor = c.var.actor;
    const groups = await workGroups(c.var.em, actor);
    const wanted = Number(c.req.query('groep'));
    const group = groups.find((g) => g.id === wanted) ?? groups[0];
    const after = parseCursor(c.req.query('na'));
    const found = group ? await groupPhotosForStaff(c.var.em, actor, group.id, { after, limit: STAFF_PAGE + 1 }) : [];
    const photos = found.slice(0, STAFF_PAGE);
    const last = photos.at(-1);
    const more =
      group && last && found.length > STAFF_PAGE
        ? `${photosHref(group.id)}&na=${encodeURIComponent(`${last.uploadedAt}_${last.id}`)}`
        : undefined;
    c.header('Vary', 'HX-Request');
    if (isHtmx(c) && after) return pages.render(c, 'partials/staff-photo-list', { photos, more });
    return pages.render(
      c,
      'pages/staff-photos',
      {
        groups,
        group,
        photos,
        more,
        outcomes,
        maxFiles: portal.config.photos.maxFilesPerUpload,
        maxMb: megabytes(portal.config.photos.maxUploadBytes),
        uploadScript: true,
      },
      status,
    );
  };

  // Registered before the parents' album (routes/photos.ts), which gets the parents.
  app.get(PHOTOS_PATH, async (c, next) => {
    if (sideOf(c.var.actor) === 'parent') return await next();
    return await groupPage(c);
  });

  app.post(UPLOAD_PATH, async (c) => {
    const actor = c.var.actor;
    const outcomes: UploadOutcome[] = [];
    let groupId = 0;
    try {
      await readMultipart(
        c,
        { maxFiles: portal.config.photos.maxFilesPerUpload, maxFileBytes: portal.config.photos.maxUploadBytes },
        async (fields, file) => {
          if (file.field !== FILE_FIELD) return file.drain();
          if (!file.filename) return file.drain(); // the empty part a form sends with no file chosen
          groupId = Number(fields['groep']);
          try {
            const { photoId } = await uploadPhoto(c.var.em, portal, actor, {
              groupId,
              caption: fields['bijschrift'] || null,
              data: file.data,
            });
            outcomes.push({ filename: file.filename, photo: await staffPhoto(c.var.em, actor, photoId) });
          } catch (err) {
            file.drain();
            // A refused file (wrong format, too large, too many pixels) is reported by name and
            // the others go on; anything else (no such group, a fault) ends the request.
            if (!isDomainError(err) || err.code !== 'validation') throw err;
            outcomes.push({ filename: file.filename, error: refusal(c, err) });
          }
        },
      );
    } catch (err) {
      if (!(err instanceof TooManyFilesError)) throw err;
      // More files than allowed: the upload is refused as a whole, naming the limit, and the
      // photos already taken from it are undone (their jobs then find no row), so the staff
      // member is never left guessing which of the files made it.
      for (const o of outcomes) if (o.photo) await deletePhoto(c.var.em, portal, actor, o.photo.id);
      const refused = [{ filename: '', error: c.var.t('staffPhotos.refused.too_many_files', { max: err.maxFiles }) }];
      if (isHtmx(c)) return pages.render(c, 'partials/upload-outcomes', { outcomes: refused }, 422);
      return await groupPage(c, refused, 422);
    }
    if (isHtmx(c)) {
      return pages.render(c, 'partials/upload-outcomes', { outcomes }, outcomes.some((o) => o.error) ? 422 : 200);
    }
    if (outcomes.length === 0) {
      return await groupPage(c, [{ filename: '', error: c.var.t('staffPhotos.noFiles') }], 422);
    }
    if (outcomes.some((o) => o.error)) return await groupPage(c, outcomes, 422);
    // Straight on to the one screen where this upload's photos are tagged and published.
    setFlash(c, 'photos_ready_to_tag', secure);
    return seeOther(c, batchHref(groupId, outcomes.flatMap((o) => (o.photo ? [o.photo.id] : []))));
  });

  /** One photo's row, polled by htmx while it is being processed. */
  app.get('/fotos/:id/status', async (c) => {
    const photo = await staffPhoto(c.var.em, c.var.actor, c.req.param('id'));
    return pages.render(c, 'partials/staff-photo-row', { photo });
  });

  const tagPage = async (c: Context<AuthedEnv>, status: 200 | 422 = 200, error?: string) => {
    const sheet = await tagSheet(c.var.em, c.var.actor, c.req.param('id') ?? '');
    return pages.render(c, isHtmx(c) ? 'partials/tag-form' : 'pages/photo-tags', { sheet, error }, status);
  };

  app.get('/fotos/:id/taggen', async (c) => await tagPage(c));

  app.post('/fotos/:id/taggen', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const raw = body['kind'];
    const childNumbers = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
      (v): v is string => typeof v === 'string',
    );
    try {
      await tagPhoto(c.var.em, c.var.actor, c.req.param('id'), {
        childNumbers,
        noChildConfirmed: body['geenKind'] === 'ja',
      });
    } catch (err) {
      if (isDomainError(err) && err.code === 'validation') return await tagPage(c, 422, err.message);
      throw err;
    }
    if (isHtmx(c)) return await tagPage(c);
    setFlash(c, 'tags_saved', secure);
    return seeOther(c, `/fotos/${c.req.param('id')}/taggen`);
  });

  /**
   * The batch tagging screen. Without JS it is one form: per photo the children as checkboxes
   * and "nobody recognisable", a selection of photos plus a button per child to tag that child
   * on all selected photos, and save / publish buttons. With JS each chip saves at once
   * (POST /fotos/:id/chips below) and only the photo's status is swapped, so focus stays put.
   */
  const batchPage = async (
    c: Context<AuthedEnv>,
    groupId: number,
    ids: string[],
    status: 200 | 422 = 200,
    problem?: { error: string; photoErrors: Record<string, string>; entered?: Map<string, { tagged: string[]; none: boolean }> },
  ) => {
    const sheet: BatchSheet = await batchTagSheet(c.var.em, c.var.actor, groupId, ids.length ? { photoIds: ids } : {});
    // After a refused save the form keeps what was ticked, not what is stored.
    const photos = sheet.photos.map((p) => {
      const entered = problem?.entered?.get(p.id);
      return entered ? { ...p, tagged: entered.tagged, noChildConfirmed: entered.none } : p;
    });
    return pages.render(
      c,
      'pages/photo-tagging-batch',
      {
        sheet: { ...sheet, photos },
        ids,
        error: problem?.error,
        photoErrors: problem?.photoErrors ?? {},
        uploadScript: true,
      },
      status,
    );
  };

  app.get(BATCH_PATH, async (c) => {
    const groups = await workGroups(c.var.em, c.var.actor);
    const wanted = Number(c.req.query('groep'));
    const group = groups.find((g) => g.id === wanted) ?? (c.req.query('groep') ? undefined : groups[0]);
    if (!group) return c.notFound();
    return await batchPage(c, group.id, parseIds(c.req.query('fotos')));
  });

  app.post(BATCH_PATH, async (c) => {
    const body = await c.req.parseBody({ all: true });
    const groupId = Number(body['groep']);
    if (!Number.isSafeInteger(groupId) || groupId <= 0) return c.notFound();
    const ids = parseIds(body['fotos']);
    const photoIds = [...new Set(all(body, 'foto'))];
    const selected = new Set(all(body, 'selectie'));
    const addChild = typeof body['alleKind'] === 'string' ? body['alleKind'] : '';
    const entered = new Map<string, { tagged: string[]; none: boolean }>();
    for (const id of photoIds) {
      let tagged = all(body, `kind-${id}`);
      let none = body[`geenKind-${id}`] === 'ja';
      // "Select photos, then tap a child": that child joins the ticks of every selected photo.
      if (addChild && selected.has(id)) {
        tagged = [...new Set([...tagged, addChild])];
        none = false;
      }
      entered.set(id, { tagged, none });
    }
    const publish = body['actie'] === 'publiceren' && !addChild;
    try {
      const report = await saveBatchTags(c.var.em, c.var.actor, {
        groupId,
        publish,
        photos: [...entered].map(([photoId, e]) => ({ photoId, childNumbers: e.tagged, noChildConfirmed: e.none })),
      });
      setFlash(c, publish && report.published.length ? 'photos_published' : 'tags_saved', secure);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const photoErrors: Record<string, string> = {};
      let general = '';
      for (const d of err.details ?? []) {
        const m = d.path.match(/^photos\.([0-9a-f-]{36})\.noChildConfirmed$/i);
        if (m) photoErrors[m[1]!] = c.var.t('batchTags.bothChosen');
        else general = d.path === 'photos' ? c.var.t('batchTags.nothing') : err.message;
      }
      if (addChild && selected.size === 0) general = c.var.t('batchTags.selectFirst');
      // The photos that were in the form, whatever the page showed them for.
      return await batchPage(c, groupId, ids.length ? ids : photoIds, 422, {
        error: general ? `${c.var.t('batchTags.fixBelow')} ${general}` : c.var.t('batchTags.fixBelow'),
        photoErrors,
        entered,
      });
    }
    return seeOther(c, `${batchHref(groupId, ids)}#batch-${addChild ? 'photos' : 'actions'}`);
  });

  /** One photo's chips, saved at once by the batch screen's script; answers its status. */
  app.post('/fotos/:id/chips', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const photoId = c.req.param('id');
    let error: string | undefined;
    let status: 200 | 422 = 200;
    try {
      await tagPhoto(c.var.em, c.var.actor, photoId, {
        childNumbers: all(body, 'kind'),
        noChildConfirmed: body['geenKind'] === 'ja',
        publish: false,
      });
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      error = body['geenKind'] === 'ja' ? c.var.t('batchTags.bothChosen') : err.message;
      status = 422;
    }
    const photo = await staffPhoto(c.var.em, c.var.actor, photoId);
    return pages.render(c, 'partials/batch-photo-status', { photo, error }, status);
  });

  app.post('/fotos/:id/verbergen', async (c) => {
    const form = await readForm(c);
    const hidden = form['verbergen'] === 'ja';
    await setPhotoHidden(c.var.em, c.var.actor, c.req.param('id'), hidden);
    setFlash(c, hidden ? 'photo_hidden' : 'photo_shown', secure);
    return seeOther(c, `/fotos/${c.req.param('id')}/taggen`);
  });

  /** "Opnieuw proberen" on a failed photo whose upload is still kept (core/photos/retry.ts). */
  app.post('/fotos/:id/opnieuw', async (c) => {
    await readForm(c);
    const photo = await staffPhoto(c.var.em, c.var.actor, c.req.param('id'));
    try {
      await retryPhoto(c.var.em, portal, c.var.actor, photo.id);
      setFlash(c, 'photo_retried', secure);
    } catch (err) {
      if (!(err instanceof PhotoNotRetryableError)) throw err;
      // Not failed (any more), or its upload is gone: the row now says what to do.
      if (err.why === 'upload_gone') setFlash(c, 'photo_upload_gone', secure);
    }
    return seeOther(c, `${photosHref(photo.groupId)}#foto-${photo.id}`);
  });

  app.post('/fotos/:id/verwijderen', async (c) => {
    const { groupId } = await deletePhoto(c.var.em, portal, c.var.actor, c.req.param('id'));
    setFlash(c, 'photo_deleted', secure);
    return seeOther(c, photosHref(groupId));
  });

}
