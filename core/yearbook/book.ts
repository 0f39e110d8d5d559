import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import yazl from 'yazl';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf, dayOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { YearBook } from '../entities/year-book.ts';
import type { Language } from '../entities/organisation.ts';
import { DomainError, forbidden } from '../errors.ts';
import { firstNameOf } from '../diary/items.ts';
import type { PhotoStore } from '../photos/store.ts';
import { tracedCopiesForExport } from '../photos/traced-views.ts';
import { SHAREABLE } from '../photos/visibility.ts';
import { type BookEntry, diaryHtml, photoFolder } from './diary-html.ts';
import { type YearBookChild, yearBookChild } from './window.ts';

/**
 * The year book (herinneringenboek) of one child for one parent: a ZIP, streamed as it is made,
 * with the photos of the child the parent may have (fotos/YYYY-MM/), the schriftje as a printable
 * page by month (dagboek.html, diary-html.ts) and a leesmij.txt.
 *
 * - Photos: those in which this child is tagged and which are shareable (the album's rule:
 *   processed, not hidden, every tagged child's consent in force), as the AVG export takes them;
 *   a photo that also shows a child without consent stays out.
 * - Every photo is this parent's traced copy (privacy invariant 2): the same per-parent code as
 *   the photo page and the AVG export (core/photos/traced-views.ts), recorded on the parent's
 *   photo_view row (exported_at), so `portal photos trace` names the parent of a leaked copy.
 *   The copy is kept, so a second book re-uses it instead of tracing the photo again.
 * - Making a book traces every photo once (CPU), so a parent makes a child's book at most once
 *   an hour (YEAR_BOOK_INTERVAL_MS); the mark is written before the first byte is sent.
 */

/** Once an hour per parent and child: a fresh book is rarely needed sooner, and each one costs CPU. */
export const YEAR_BOOK_INTERVAL_MS = 60 * 60_000;

export interface YearBookContext {
  config: { retention: { leaverGraceDays: number } };
  photos: Pick<PhotoStore, 'get' | 'put' | 'stream'>;
}

export interface YearBookOverview extends YearBookChild {
  photos: number;
  diaryEntries: number;
  /** The months with photos or schriftje entries, YYYY-MM, oldest first. */
  months: string[];
  /** When this parent may make the book again (within the hour after the last one), else null. */
  nextAt: Date | null;
}

function parentOf(actor: Actor): number {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) throw forbidden("only a child's parents make its year book");
  return parentId;
}

interface PhotoRow {
  id: string;
  taken_at: Date | string;
  display_key: string;
}

const photosOf = (em: EntityManager, childId: number) =>
  sql<PhotoRow>(
    em,
    `select p.id, p.taken_at, p.display_key from photo p
      where exists (select 1 from photo_tag t where t.photo_id = p.id and t.child_id = ?)
        and ${SHAREABLE} and p.display_key is not null
      order by p.taken_at, p.id`,
    [childId],
  );

/** The month a photo belongs to, in the organisation's time zone (a photo at 00:30 on 1 July is July's). */
const monthOf = (takenAt: Date | string) => dayOf(new Date(takenAt)).slice(0, 7);

async function entriesOf(em: EntityManager, childId: number): Promise<BookEntry[]> {
  const rows = await sql<{
    day: string;
    author_kind: 'staff' | 'parent';
    author_label: string;
    text: string;
    lines: { label: string; text: string }[];
    moments: BookEntry['moments'];
  }>(
    em,
    `select to_char(e.day, 'YYYY-MM-DD') as day, e.author_kind, e.author_label, e.text, e.lines,
            (select coalesce(json_agg(json_build_object('kind', i.kind, 'from', i.starts_at, 'until', i.ends_at, 'value', i.value, 'detail', i.detail)
                                      order by i.starts_at, i.created_at), '[]') from diary_item i where i.entry_id = e.id) as moments
       from diary_entry e where e.child_id = ? order by e.day, e.author_kind desc, e.created_at`,
    [childId],
  );
  // Authors by first name only, as the schriftje shows them; a terminal label ("cli:admin") is no name.
  return rows.map((r) => ({
    day: r.day,
    authorKind: r.author_kind,
    author: firstNameOf(r.author_label),
    text: r.text,
    lines: r.lines ?? [],
    moments: r.moments ?? [],
  }));
}

async function lastBuiltAt(em: EntityManager, childId: number, parentId: number): Promise<Date | null> {
  const row = await em.findOne(YearBook, { child: childId, parent: parentId }, { fields: ['lastBuiltAt'] });
  return row?.lastBuiltAt ?? null;
}

/** What the book page tells before the button: how many photos and entries, over which months. */
export async function yearBookOverview(em: EntityManager, ctx: YearBookContext, actor: Actor, childId: number): Promise<YearBookOverview> {
  // Asked first: anyone but the child's parent (staff too) gets "not found", as for every refusal.
  const child = await yearBookChild(em, actor, childId, ctx.config.retention.leaverGraceDays);
  const parentId = parentOf(actor);
  const photos = await photosOf(em, child.id);
  const months = await sql<{ month: string; n: string }>(
    em,
    `select to_char(day, 'YYYY-MM') as month, count(*) as n from diary_entry where child_id = ? group by 1`,
    [child.id],
  );
  const last = await lastBuiltAt(em, child.id, parentId);
  const next = last ? new Date(last.getTime() + YEAR_BOOK_INTERVAL_MS) : null;
  return {
    ...child,
    photos: photos.length,
    diaryEntries: months.reduce((sum, m) => sum + Number(m.n), 0),
    months: [...new Set([...months.map((m) => m.month), ...photos.map((p) => monthOf(p.taken_at))])].sort(),
    nextAt: next && next > clockOf(em).now() ? next : null,
  };
}

/**
 * Takes this parent's turn for the child's book: null when the last book is less than an hour
 * old. One statement, so two clicks at once make one book.
 */
async function takeTurn(em: EntityManager, childId: number, parentId: number, now: Date): Promise<boolean> {
  const rows = await sql(
    em,
    `insert into year_book (child_id, parent_id, last_built_at, builds) values (?, ?, ?, 1)
     on conflict (child_id, parent_id) do update set last_built_at = excluded.last_built_at, builds = year_book.builds + 1
      where year_book.last_built_at is null or year_book.last_built_at <= ?
     returning id`,
    [childId, parentId, now, new Date(now.getTime() - YEAR_BOOK_INTERVAL_MS)],
  );
  return rows.length > 0;
}

const README = {
  nl: (name: string, organisation: string) =>
    [
      `Herinneringenboek van ${name}`,
      '',
      `Uit het ouderportaal van ${organisation}.`,
      '',
      '- dagboek.html: het schriftje, per maand. Open het in een browser; "Afdrukken" of "Opslaan als PDF" maakt er een boek van (elke maand op een nieuwe bladzijde).',
      `- fotos/: de foto's waarop ${name} staat, per maand (jaar-maand/datum-nummer.jpg).`,
      '',
      "De foto's zijn voor uzelf en uw familie. Elke foto draagt een onzichtbaar kenmerk dat naar u leidt; deel foto's waarop andere kinderen of medewerkers staan niet op sociale media.",
      '',
    ].join('\r\n'),
  en: (name: string, organisation: string) =>
    [
      `${name}'s book of memories`,
      '',
      `From the parent portal of ${organisation}.`,
      '',
      '- diary.html: the diary (schriftje), by month. Open it in a browser; "Print" or "Save as PDF" makes a book of it (every month on a new page).',
      `- photos/: the photos ${name} is in, by month (year-month/date-number.jpg).`,
      '',
      'The photos are for you and your family. Every photo carries an invisible mark that leads to you; do not share photos with other children or staff in them on social media.',
      '',
    ].join('\r\n'),
};

export interface MadeYearBook {
  filename: string;
  photos: number;
  diaryEntries: number;
  /** The ZIP, made while it is read: photos are traced one at a time, memory stays flat. */
  stream: Readable;
}

/**
 * Makes the book for the acting parent. Refused: another family's child, a child whose archive
 * is gone (both not found), a second book within the hour (rate limited, saying when).
 */
export async function makeYearBook(em: EntityManager, ctx: YearBookContext, actor: Actor, childId: number, lang: Language): Promise<MadeYearBook> {
  // Asked first: anyone but the child's parent (staff too) gets "not found", as for every refusal.
  const child = await yearBookChild(em, actor, childId, ctx.config.retention.leaverGraceDays);
  const parentId = parentOf(actor);
  const now = clockOf(em).now();
  if (!(await takeTurn(em, child.id, parentId, now))) {
    throw new DomainError('rate_limited', 'the year book was made less than an hour ago; try again later', [
      { path: 'book', message: 'once an hour' },
    ]);
  }
  const organisation = await getOrganisation(em);
  const photos = await photosOf(em, child.id);
  const entries = await entriesOf(em, child.id);
  const photosByMonth = new Map<string, number>();
  for (const p of photos) photosByMonth.set(monthOf(p.taken_at), (photosByMonth.get(monthOf(p.taken_at)) ?? 0) + 1);
  audit(em, {
    type: 'yearbook.made',
    actor,
    subject: child.childNumber,
    details: { photos: photos.length, diaryEntries: entries.length },
  });
  await em.flush();

  const madeOn = dayOf(now);
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(README[lang](child.firstName, organisation.name)), lang === 'nl' ? 'leesmij.txt' : 'README.txt');
  zip.addBuffer(
    Buffer.from(diaryHtml(entries, { lang, childFirstName: child.firstName, organisation: organisation.name, madeOn, photos: photos.length, photosByMonth })),
    lang === 'nl' ? 'dagboek.html' : 'diary.html',
  );
  for (const p of photos) {
    const name = `${photoFolder(lang)}/${monthOf(p.taken_at)}/${dayOf(new Date(p.taken_at))}-${p.id.slice(0, 8)}.jpg`;
    // Traced when its turn comes (yazl reads one entry at a time), recorded before its bytes go out.
    zip.addReadStreamLazy(name, { compress: false }, (cb) => {
      tracedCopiesForExport(em, ctx, parentId, [{ id: p.id, displayKey: p.display_key }])
        .then((copies) => ctx.photos.stream(copies.get(p.id)!.key))
        .then(
          (s) => cb(null, s),
          (err: Error) => cb(err, undefined as never),
        );
    });
  }
  zip.end();
  // A photo that cannot be read ends the download with an error instead of a ZIP that hangs, and
  // gives the turn back: the parent did not get a book, and the copies made so far are kept.
  const stream = zip.outputStream as Readable;
  zip.on('error', (err: Error) => {
    stream.destroy(err);
    sql(em, 'update year_book set last_built_at = null where child_id = ? and parent_id = ? and last_built_at = ?', [child.id, parentId, now]).catch(() => {});
  });
  const safeName = child.firstName.normalize('NFD').replace(/[^A-Za-z0-9-]+/g, '').toLowerCase() || 'kind';
  return {
    filename: `${lang === 'nl' ? 'herinneringenboek' : 'memories'}-${safeName}-${madeOn}.zip`,
    photos: photos.length,
    diaryEntries: entries.length,
    stream,
  };
}
