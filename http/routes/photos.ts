import type { Context, Hono, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { SessionSettings } from '../../core/auth/sessions.ts';
import { thumbForSession } from '../../core/photos/image-gate.ts';
import type { Actor } from '../../core/actor.ts';
import { dayOf } from '../../core/dates.ts';
import { downloadPhoto, mustAcceptRules } from '../../core/photos/downloads.ts';
import { ByteCache } from '../../core/photos/byte-cache.ts';
import { displayImageForActor, imageVariantForActor } from '../../core/photos/traced-views.ts';
import { DEFAULT_THUMB_SIZE, displaySizeOf, VARIANT_WIDTHS, type VariantFormat, type VariantWidth } from '../../core/photos/process.ts';
import { childAlbumGroups } from '../../core/photos/child-album.ts';
import { parentChildren } from '../../core/diary/entries.ts';
import { sideOf } from '../../core/access/index.ts';
import {
  type AlbumCursor,
  type AlbumPhoto,
  albumCursor,
  albumNeighbours,
  imageKeyForActor,
  parentAlbum,
  parseAlbumCursor,
  photoForActor,
} from '../../core/photos/visibility.ts';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv, AuthedEnv, WebContext } from '../env.ts';
import { SESSION_COOKIE } from '../middleware/session.ts';
import { isHtmx, readForm } from '../forms.ts';
import type { HeadLink, Pages } from '../render.ts';
import { clockOf } from '../../core/clock.ts';
import { invalid } from '../../core/errors.ts';

/**
 * The parent's side of photos: the album by day, the photo page, the image bytes and the
 * download. Every request asks core/photos/visibility.ts again whether this actor may see this
 * photo, so a withdrawn consent, a suspension or a moved child takes effect at once; refused
 * and unknown photos are both "not found", without a byte of the image.
 */

export const PHOTOS_PATH = '/fotos';
export const RULES_PATH = '/spelregels';
/** Photos per page of the album. */
export const ALBUM_PAGE = 30;
/**
 * The browser may keep an image but must ask again before showing it (a 304 costs no bytes):
 * a withdrawn consent then takes effect at once, also on a page that is already open.
 */
const IMAGE_CACHE = 'private, no-cache';
/** The checkbox on the first download: the parent has read the rules. */
const RULES_FIELD = 'spelregels';

const dayFormats = {
  nl: new Intl.DateTimeFormat('nl-NL', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Amsterdam' }),
  en: new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Amsterdam' }),
};
const dayYearFormats = {
  nl: new Intl.DateTimeFormat('nl-NL', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Amsterdam' }),
  en: new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Amsterdam' }),
};
const timeFormat = new Intl.DateTimeFormat('nl-NL', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam' });
/** "14:03", Dutch time. */
export const clockTime = (at: Date) => timeFormat.format(at);

/** "vandaag", "gisteren", "maandag 24 november" (with the year when it is not this year). */
export function dayHeading(c: WebContext, iso: string, now = clockOf(c.var.em).now()): string {
  const day = dayOf(new Date(iso));
  const thisDay = dayOf(now);
  if (day === thisDay) return c.var.t('photos.today');
  const yesterday = new Date(`${thisDay}T12:00:00Z`);
  yesterday.setUTCDate(yesterday.getUTCDate() - 1);
  if (day === yesterday.toISOString().slice(0, 10)) return c.var.t('photos.yesterday');
  const lang = c.var.lang;
  const formats = day.slice(0, 4) === thisDay.slice(0, 4) ? dayFormats : dayYearFormats;
  return formats[lang].format(new Date(iso));
}

const weekdayFormats = {
  nl: new Intl.DateTimeFormat('nl-NL', { weekday: 'long', timeZone: 'Europe/Amsterdam' }),
  en: new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'Europe/Amsterdam' }),
};

/**
 * The album's day: "Vandaag", "Gisteren", a weekday ("Woensdag") within the last week, then the
 * date ("maandag 24 november"): how a phone's photo app names its days.
 */
export function albumDay(c: WebContext, iso: string, now = clockOf(c.var.em).now()): string {
  const heading = dayHeading(c, iso, now);
  const daysAgo = Math.round((Date.parse(`${dayOf(now)}T12:00:00Z`) - Date.parse(`${dayOf(new Date(iso))}T12:00:00Z`)) / 86_400_000);
  if (daysAgo < 2 || daysAgo > 6) return heading;
  const weekday = weekdayFormats[c.var.lang].format(new Date(iso));
  return weekday.charAt(0).toUpperCase() + weekday.slice(1);
}

/** dayHeading for use inside a sentence: "vandaag", "gisteren" in lower case, names as they are. */
export function dayInSentence(c: WebContext, iso: string, now = clockOf(c.var.em).now()): string {
  const day = dayHeading(c, iso, now);
  const relative = [c.var.t('photos.today'), c.var.t('photos.yesterday')];
  return relative.includes(day) ? day.charAt(0).toLowerCase() + day.slice(1) : day;
}

interface AlbumDay {
  day: string;
  heading: string;
  photos: AlbumPhoto[];
}

function byDay(c: WebContext, photos: AlbumPhoto[]): AlbumDay[] {
  const days: AlbumDay[] = [];
  for (const photo of photos) {
    const day = dayOf(new Date(photo.takenAt));
    const last = days.at(-1);
    if (last?.day === day) last.photos.push(photo);
    else days.push({ day, heading: albumDay(c, photo.takenAt), photos: [photo] });
  }
  return days;
}

/** The thumbnail's size for the width/height attributes (it keeps the photo's shape). */
export function thumbSize(photo: Pick<AlbumPhoto, 'width' | 'height'>): { width: number; height: number } {
  const w = photo.width ?? 0;
  const h = photo.height ?? 0;
  const side = Math.min(DEFAULT_THUMB_SIZE, Math.max(w, h));
  if (!w || !h) return { width: DEFAULT_THUMB_SIZE, height: DEFAULT_THUMB_SIZE };
  return w >= h ? { width: side, height: Math.round((side * h) / w) || 1 } : { width: Math.round((side * w) / h) || 1, height: side };
}

/** The stored variants are JPEG, or WebP when the portal is configured so. */
const imageType = (data: Buffer) =>
  data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP' ? 'image/webp' : 'image/jpeg';

/** Memory for image bytes (content-addressed, so never stale); thumbnails mostly. */
const IMAGE_CACHE_BYTES = 64 * 1024 * 1024;

/** The thumbnail, the display image (`/groot`), or one of the photo page's width×format variants. */
export type ImageVariant = 'thumb' | 'display' | { width: VariantWidth; format: VariantFormat };

/** File extensions of the variants in their URLs ("/fotos/<id>/1024.avif"). */
const EXTENSIONS: Record<VariantFormat, string> = { avif: 'avif', webp: 'webp', jpeg: 'jpg' };
const WIDTHS_PATTERN = VARIANT_WIDTHS.join('|');
const VARIANT_FILE = new RegExp(`^(${WIDTHS_PATTERN})\\.(avif|webp|jpg)$`);

/** The photo as the page's <picture> shows it: a srcset per format, sizes, and its size. */
export interface PhotoPicture {
  width: number;
  height: number;
  sizes: string;
  avif: string;
  webp: string;
  jpeg: string;
}

/**
 * The <picture> of a photo page: each format at 480, 1024 and 1600 px wide (the narrower ones
 * only when the display image is wider), the fallback JPEG at full width being `/groot`. The
 * image is as wide as the screen but never taller than it, which `sizes` says to the browser.
 */
export function photoPicture(photo: Pick<AlbumPhoto, 'id' | 'width' | 'height'>): PhotoPicture {
  const size = photo.width && photo.height ? displaySizeOf(photo.width, photo.height) : { width: 1600, height: 1200 };
  const set = (format: VariantFormat) =>
    [
      ...VARIANT_WIDTHS.filter((w) => w < size.width).map((w) => `${PHOTOS_PATH}/${photo.id}/${w}.${EXTENSIONS[format]} ${w}w`),
      `${format === 'jpeg' ? `${PHOTOS_PATH}/${photo.id}/groot` : `${PHOTOS_PATH}/${photo.id}/1600.${EXTENSIONS[format]}`} ${size.width}w`,
    ].join(', ');
  const sizes = `min(100vw, ${((100 * size.width) / size.height).toFixed(1)}svh)`;
  return { ...size, sizes, avif: set('avif'), webp: set('webp'), jpeg: set('jpeg') };
}
type ServeImage = (c: WebContext, actor: Actor, id: string, variant: ImageVariant, vary: 'Cookie' | 'Authorization') => Promise<Response>;
const servers = new WeakMap<object, ServeImage>();
const caches = new WeakMap<object, ByteCache>();

/** One memory for image bytes per portal, shared by the pages, the API and the thumbnail's hot path. */
function imageCacheOf(portal: object): ByteCache {
  let cache = caches.get(portal);
  if (!cache) {
    cache = new ByteCache(IMAGE_CACHE_BYTES, 512 * 1024);
    caches.set(portal, cache);
  }
  return cache;
}

/** The headers of an image answer, and the 304 when the client's copy is the same bytes. */
function imageHeaders(c: WebContext, key: string, vary: 'Cookie' | 'Authorization') {
  const etag = `"${key}"`;
  const headers = {
    'Cache-Control': IMAGE_CACHE,
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    Vary: vary,
  };
  const match = c.req.header('If-None-Match');
  const notModified = match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag) ?? false;
  return { headers, notModified };
}

/**
 * Serves one image of a photo to an actor: the pages (cookie) and the app API (bearer token)
 * share it, so both ask core the same question on every request and send the same caching
 * headers. `vary` names the request header that carries the credential.
 */
export function imageServer(portal: Pick<Portal, 'photos'>): ServeImage {
  const known = servers.get(portal);
  if (known) return known;
  const images = imageCacheOf(portal);
  const serve: ServeImage = async (c: WebContext, actor: Actor, id: string, variant: ImageVariant, vary: 'Cookie' | 'Authorization') => {
    // Asked again on every request: a client's cached copy must be revalidated, and a request
    // after a withdrawn consent gets nothing. The display image goes to a parent as their own
    // traced copy (core/photos/traced-views.ts): its key, and so the ETag, differs per parent.
    let image: { key: string; read(): Promise<Buffer>; contentType?: string };
    if (typeof variant === 'object') {
      image = await imageVariantForActor(c.var.em, { photos: portal.photos, cache: images }, actor, id, variant.width, variant.format);
    } else if (variant === 'display') {
      image = await displayImageForActor(c.var.em, { photos: portal.photos, cache: images }, actor, id);
    } else {
      const thumbKey = await imageKeyForActor(c.var.em, actor, id, variant);
      image = { key: thumbKey, read: () => images.get(thumbKey, (k) => portal.photos.get(k)) };
    }
    const { headers, notModified } = imageHeaders(c, image.key, vary);
    if (notModified) return c.body(null, 304, headers);
    const data = await image.read();
    return c.body(new Uint8Array(data), 200, { ...headers, 'Content-Type': image.contentType ?? imageType(data) });
  };
  servers.set(portal, serve);
  return serve;
}

/** The thumbnail's address: its hot path (app.ts) and the ordinary route below. */
export const THUMB_PATH = `${PHOTOS_PATH}/:id/klein`;

/**
 * `GET /fotos/:id/klein` before the session loader and the rest of the logged-in machinery
 * (http/app.ts mounts it there; the security headers and the access log are outside it and
 * still apply): one prepared statement (core/photos/image-gate.ts) decides the session and the
 * photo and yields the store key, with no unit of work and nothing hydrated. An album page asks
 * for thirty of these at once (issue 18).
 *
 * It only ever serves. Every other verdict (no or an ended session, one that owes a step, a
 * refused, unknown or unprocessed photo) goes on to the ordinary route, which decides again
 * and answers exactly as before: the login redirect (and the cookie's removal), the owed step's
 * page, "not found" for refused and unknown alike. Only the requests that get bytes are faster.
 * What is served is what the ordinary route serves a parent or staff member alike (the thumbnail
 * is not traced): the same key, bytes, ETag/304 and headers.
 */
export function thumbHotPath(
  portal: Pick<Portal, 'em' | 'photos'> & { config: { auth: SessionSettings } },
  options: { secure: boolean },
): MiddlewareHandler<AppEnv> {
  const images = imageCacheOf(portal);
  // Only for its connection pool and the portal's clock: the gate reads raw rows (and writes
  // lastSeenAt with a plain update), so this unit of work never holds an entity and can serve
  // every request.
  const em = portal.em();
  return async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE, options.secure ? 'host' : undefined);
    const verdict = await thumbForSession(em, portal.config.auth, token, c.req.param('id') ?? '');
    if (!verdict.serve) return await next();
    c.set('servedAccount', verdict.accountId);
    const { headers, notModified } = imageHeaders(c, verdict.key, 'Cookie');
    if (notModified) return c.body(null, 304, headers);
    const data = await images.get(verdict.key, (k) => portal.photos.get(k));
    return c.body(new Uint8Array(data), 200, { ...headers, 'Content-Type': imageType(data) });
  };
}

/** The album's child switcher: `?kind=<child id>` (kept in no session), checked as the child's own album. */
async function albumGroups(c: Context<AuthedEnv>): Promise<{ kind?: number; groupIds?: number[] }> {
  const raw = c.req.query('kind');
  if (raw === undefined || raw === '') return {};
  // Not a number, or another family's child: not found (childForActor), as an id in a path.
  const kind = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : 0;
  return { kind, groupIds: await childAlbumGroups(c.var.em, c.var.actor, kind) };
}

const withQuery = (path: string, query: Record<string, string | number | undefined>) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
};

/**
 * Thumbnails loaded at once: only the first, which the page also preloads in its <head> (what it
 * paints first). The rest are loading="lazy": those on the first screen are asked for right after
 * the first layout, a moment later, so on a slow line the first one has the line to itself
 * instead of sharing it six ways (bench/pages: the album's LCP on Slow 3G). Twelve at once took
 * the first one 0.4 s longer there; the whole first screen is not slower either way.
 */
const EAGER_THUMBS = 1;

export function photoRoutes(app: Hono<AuthedEnv>, portal: Pick<Portal, 'photos'>, pages: Pages): void {

  /** Whether the parent still has to confirm the rules: before their first download. */
  const photoPage = async (c: Context<AuthedEnv>, photo: AlbumPhoto, rulesError = false) => {
    const actor = c.var.actor;
    const takenAt = new Date(photo.takenAt);
    // Previous and next in the album the viewer came from: a parent's whole album or one
    // child's (?kind=), staff the photo's group (they browse one group at a time).
    const { kind, groupIds } = sideOf(actor) === 'parent' ? await albumGroups(c) : { kind: undefined, groupIds: [photo.groupId] };
    const near = await albumNeighbours(c.var.em, actor, photo, { groupIds });
    const link = (id: string | undefined) => id && withQuery(`${PHOTOS_PATH}/${id}`, { kind });
    const picture = photoPicture(photo);
    return pages.render(
      c,
      'pages/photo',
      {
        photo,
        picture,
        day: albumDay(c, photo.takenAt),
        time: timeFormat.format(takenAt),
        downloadable: photo.downloadable,
        confirmRules: await mustAcceptRules(c.var.em, actor),
        rulesError,
        newer: link(near.newer),
        older: link(near.older),
        albumHref: withQuery(PHOTOS_PATH, { kind }),
        // For the layout's <head>: the AVIF set the page will show, fetched before the CSS.
        head: [
          { rel: 'preload', as: 'image', href: `${PHOTOS_PATH}/${photo.id}/groot`, type: 'image/avif', imagesrcset: picture.avif, imagesizes: picture.sizes, fetchpriority: 'high' },
        ] satisfies HeadLink[],
        wide: true,
        photoScript: true,
      },
      rulesError ? 422 : 200,
    );
  };

  app.get(PHOTOS_PATH, async (c) => {
    const actor = c.var.actor;
    const { kind, groupIds } = await albumGroups(c);
    const badCursor = (raw: string | undefined) => raw !== undefined && raw !== '' && !parseAlbumCursor(raw);
    if (badCursor(c.req.query('voor')) || badCursor(c.req.query('tot'))) {
      throw invalid('tot', 'not a place in the album');
    }
    const before = parseAlbumCursor(c.req.query('voor'));
    const until = parseAlbumCursor(c.req.query('tot'));
    const album = (options: { before?: AlbumCursor; until?: AlbumCursor; limit: number }) => parentAlbum(c.var.em, actor, { ...options, groupIds });
    // The next page is read ahead so that its link can name where it ends: htmx puts that
    // "?tot=" in the address bar, and without JavaScript the link is that address. A page and
    // the next come from one walk of the album (two pages' worth), not two.
    let photos: AlbumPhoto[];
    let ahead: AlbumPhoto[];
    if (until && !before) {
      // Up to "?tot=" (where "meer laden" got to: a reload or Back shows the same photos).
      photos = await album({ until, limit: 300 });
      const last = photos.at(-1);
      ahead = last ? await album({ before: { takenAt: last.takenAt, id: last.id }, limit: ALBUM_PAGE }) : [];
    } else {
      const two = await album({ before, limit: 2 * ALBUM_PAGE });
      photos = two.slice(0, ALBUM_PAGE);
      ahead = two.slice(ALBUM_PAGE);
    }
    const last = photos.at(-1);
    const end = ahead.at(-1);
    const more = last && end
      ? {
          fragment: withQuery(PHOTOS_PATH, { kind, voor: albumCursor(last) }),
          href: `${withQuery(PHOTOS_PATH, { kind, tot: albumCursor(end) })}#foto-${ahead[0]!.id}`,
          push: withQuery(PHOTOS_PATH, { kind, tot: albumCursor(end) }),
        }
      : undefined;
    const days = byDay(c, photos);
    // On a following page, the day the previous page ended with needs no second heading.
    const continuedDay = before ? dayOf(new Date(before.takenAt)) : undefined;
    const photoHref = (id: string) => withQuery(`${PHOTOS_PATH}/${id}`, { kind });
    const data = { days, more, continuedDay, thumbSize, photoHref, eager: before ? 0 : EAGER_THUMBS };
    c.header('Vary', 'HX-Request');
    if (isHtmx(c) && before) return pages.render(c, 'partials/photo-days', data);
    const children = await parentChildren(c.var.em, actor);
    const switcher =
      children.length > 1
        ? [
            { href: PHOTOS_PATH, label: c.var.t('photos.allChildren'), current: kind === undefined },
            ...children.map((child) => ({ href: withQuery(PHOTOS_PATH, { kind: child.id }), label: child.firstName, current: child.id === kind })),
          ]
        : [];
    // For the layout's <head>: the first thumbnail, what the page paints first, asked for
    // before the browser has read down to the grid.
    const first = photos[0];
    const head: HeadLink[] = first ? [{ rel: 'preload', as: 'image', href: `${PHOTOS_PATH}/${first.id}/klein`, fetchpriority: 'high' }] : [];
    return pages.render(c, 'pages/photos', { ...data, continuedDay: undefined, switcher, head, wide: true });
  });

  app.get(RULES_PATH, async (c) => pages.render(c, 'pages/spelregels', {}));

  app.get(`${PHOTOS_PATH}/:id`, async (c) => {
    const photo = await photoForActor(c.var.em, c.var.actor, c.req.param('id'));
    return await photoPage(c, photo);
  });

  const serve = imageServer(portal);
  const image = (variant: ImageVariant) => async (c: Context<AuthedEnv>) =>
    await serve(c, c.var.actor, c.req.param('id') ?? '', variant, 'Cookie');
  app.get(THUMB_PATH, image('thumb'));
  app.get(`${PHOTOS_PATH}/:id/groot`, image('display'));
  app.get(`${PHOTOS_PATH}/:id/:file{(?:${WIDTHS_PATTERN})\\.(?:avif|webp|jpg)}`, async (c) => {
    const [, width, ext] = VARIANT_FILE.exec(c.req.param('file')) ?? [];
    const format: VariantFormat = ext === 'jpg' ? 'jpeg' : (ext as VariantFormat);
    return await serve(c, c.var.actor, c.req.param('id'), { width: Number(width) as VariantWidth, format }, 'Cookie');
  });

  app.post(`${PHOTOS_PATH}/:id/download`, async (c) => {
    const actor = c.var.actor;
    const id = c.req.param('id');
    const photo = await photoForActor(c.var.em, actor, id);
    // The rule (spelregels before the first download) is core's; here only its form field.
    const form = await readForm(c);
    if (photo.downloadable && form[RULES_FIELD] !== 'ja' && (await mustAcceptRules(c.var.em, actor))) {
      return await photoPage(c, photo, true);
    }
    const file = await downloadPhoto(c.var.em, portal, actor, id, {
      ip: c.var.clientIp,
      userAgent: c.req.header('User-Agent') ?? null,
      rulesAccepted: form[RULES_FIELD] === 'ja',
    });
    return c.body(new Uint8Array(file.data), 200, {
      'Content-Type': file.contentType,
      'Content-Disposition': `attachment; filename="${file.filename}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  });
}
