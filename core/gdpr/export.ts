import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import yazl from 'yazl';
import { can, settledThreadFilter } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { Parent } from '../entities/parent.ts';
import { forbidden, notFound } from '../errors.ts';
import { downloadsOfMyChildren } from '../photos/my-children-downloads.ts';
import type { PhotoStore } from '../photos/store.ts';
import { SHAREABLE } from '../photos/visibility.ts';
import { tracedCopiesForExport } from '../photos/traced-views.ts';
import { normalizeEmail } from '../validation.ts';
import { inList, sql } from '../db/sql.ts';
import { clockOf } from '../clock.ts';
import { ensurePrivateParent, privateWriteStream } from '../files/private.ts';

/**
 * The right of access (AVG art. 15) for a parent: everything the portal holds about them and
 * their children, as one ZIP with `gegevens.json` (machine-readable, one section per kind) and
 * `fotos/` (the photos in which their children are tagged).
 *
 * Photos are those the parent may see now: a photo of their child that also shows a child
 * without consent is that other child's data too, and stays out. Other parents appear only as
 * "ouder" links of the shared child (first name), never with their address or phone. Each photo
 * carries this parent's trace mark, as on the photo page (core/photos/traced-views.ts). Secrets
 * (password hash, second-factor secret, tokens) are not data about a person but keys to an
 * account, and never leave the database.
 */

export interface GdprExportSummary {
  file: string;
  children: number;
  diaryEntries: number;
  messages: number;
  photos: number;
  downloads: number;
  auditEvents: number;
}

type Row = Record<string, unknown>;

async function collect(em: EntityManager, parentId: number, email: string) {
  const q = (text: string, params: unknown[]) => sql<Row>(em, text, params);
  const profile = (
    await q(
      `select p.email, p.first_name, p.infix, p.last_name, p.phone, p.street, p.postal_code, p.city, p.language,
              p.notification_mode, p.created_at, p.updated_at,
              a.created_at as account_created_at, a.invitation_sent_at, a.password_changed_at, a.last_login_at,
              a.suspended_at, a.suspended_reason, (a.totp_enabled_at is not null) as second_factor
         from parent p left join account a on a.parent_id = p.id where p.id = ?`,
      [parentId],
    )
  )[0];
  const children = await q(
    `select c.id, c.child_number, c.first_name, c.infix, c.last_name, c.birth_date, c.left_on,
            (select concat_ws(' ', s.first_name, s.infix, s.last_name) from staff s where s.id = c.mentor_id) as mentor
       from guardianship g join child c on c.id = g.child_id where g.parent_id = ? order by c.birth_date, c.id`,
    [parentId],
  );
  const ids = children.map((c) => c.id as number);
  const inChildren = inList(ids);
  const placements = await q(
    `select c.child_number, l.name as location, g.name as group, pl.start_date, pl.end_date
       from placement pl join child c on c.id = pl.child_id join care_group g on g.id = pl.group_id join location l on l.id = g.location_id
      where pl.child_id ${inChildren} order by c.child_number, pl.start_date`,
    ids,
  );
  const consent = await q(
    `select c.child_number, r.internal, r.external, r.source, r.note, r.recorded_at
       from consent_record r join child c on c.id = r.child_id where r.child_id ${inChildren} order by c.child_number, r.recorded_at, r.id`,
    ids,
  );
  const guardians = await q(
    `select c.child_number, case when o.id = ? then 'u' else o.first_name end as parent
       from guardianship g join child c on c.id = g.child_id join parent o on o.id = g.parent_id
      where g.child_id ${inChildren} order by c.child_number, o.id`,
    [parentId, ...ids],
  );
  const diary = await q(
    `select c.child_number, e.day, e.author_kind, e.author_label, e.text, e.lines,
            (select coalesce(json_agg(json_build_object('kind', i.kind, 'from', i.starts_at, 'until', i.ends_at, 'value', i.value, 'detail', i.detail)
                                      order by i.starts_at, i.created_at), '[]') from diary_item i where i.entry_id = e.id) as moments,
            e.created_at, e.updated_at
       from diary_entry e join child c on c.id = e.child_id where e.child_id ${inChildren} order by e.day, e.created_at`,
    ids,
  );
  // Health and who-picks-up are the family's data too (the note of a sick report included).
  const sickReports = await q(
    `select c.child_number, to_char(s.from_date, 'YYYY-MM-DD') as from_date, to_char(s.until_date, 'YYYY-MM-DD') as until_date, s.note, s.created_at
       from sick_report s join child c on c.id = s.child_id where s.child_id ${inChildren} order by s.from_date, s.id`,
    ids,
  );
  const pickups = await q(
    `select c.child_number, to_char(n.date, 'YYYY-MM-DD') as date, n.name, n.relation, n.time, n.note, n.updated_at
       from pickup_note n join child c on c.id = n.child_id where n.child_id ${inChildren} order by n.date, n.id`,
    ids,
  );
  // Not a thread that may be about another child (awaiting its child), unless this parent started it.
  const hidden = settledThreadFilter(parentId, 't');
  const messages = await q(
    `select c.child_number, t.subject, m.author_side, m.author_label, m.body, m.created_at
       from message m join message_thread t on t.id = m.thread_id join child c on c.id = t.child_id
      where t.child_id ${inChildren} and ${hidden.sql} order by t.created_at, m.created_at, m.id`,
    [...ids, ...hidden.params],
  );
  // Which announcements this parent opened and which they confirmed ("gelezen en begrepen"), with
  // the times: marks about the parent, kept as proof for the location, so theirs to see too.
  const announcementMarks = await q(
    `select a.subject, a.created_at as sent_at, r.read_at, c.confirmed_at
       from announcement a
       left join announcement_read r on r.announcement_id = a.id and r.parent_id = ?
       left join announcement_confirmation c on c.announcement_id = a.id and c.parent_id = ?
      where a.id in (select announcement_id from announcement_read where parent_id = ?
                     union select announcement_id from announcement_confirmation where parent_id = ?)
      order by a.created_at, a.id`,
    [parentId, parentId, parentId, parentId],
  );
  // Oudergesprekken about their children: when, with whom, held or not, and the note if the
  // organisation keeps notes (the right of access covers what staff wrote about the child).
  const talks = await q(
    `select c.child_number, s.starts_at, s.minutes, s.place, s.video_url, s.staff_label, s.booked_at, s.held_at, s.note
       from talk_slot s join child c on c.id = s.child_id where s.child_id ${inChildren} order by s.starts_at, s.id`,
    ids,
  );
  const ownDownloads = await q(
    `select d.photo_ref as photo, d.trace_code, d.at, d.ip, d.user_agent from photo_download d where d.parent_id = ? order by d.at`,
    [parentId],
  );
  const appLogins = await q(
    `select t.name as device, t.created_at, t.last_used_at, t.expires_at, t.revoked_at
       from api_token t join account a on a.id = t.account_id where a.parent_id = ? order by t.created_at`,
    [parentId],
  );
  const childNumbers = children.map((c) => String(c.child_number));
  const subjects = [email, ...childNumbers];
  const auditEvents = await q(
    `select at, type, case when actor = ? then 'u' else actor end as actor, subject, details from audit_event
      where subject ${inList(subjects)} or account_id = (select id from account where parent_id = ?)
      order by at, id`,
    [email, ...subjects, parentId],
  );
  const photos = await q(
    `select distinct p.id, p.taken_at, p.caption, p.display_key
       from photo p join photo_tag t on t.photo_id = p.id
      where t.child_id ${inChildren} and ${SHAREABLE} and p.display_key is not null order by p.taken_at, p.id`,
    ids,
  );
  return { profile, appLogins, children, placements, consent, guardians, diary, sickReports, pickups, messages, announcementMarks, talks, ownDownloads, auditEvents, photos };
}

/**
 * Writes the ZIP to `file` (through a temporary name, renamed when complete: a half-written
 * export never looks like a finished one). Admins for anyone; a parent only for themselves
 * (the "download mijn gegevens" job runs as that parent).
 */
export async function exportParentData(
  em: EntityManager,
  photos: Pick<PhotoStore, 'stream' | 'get' | 'put'>,
  actor: Actor,
  email: string,
  file: string,
  now = clockOf(em).now(),
): Promise<GdprExportSummary> {
  const parent = await em.findOne(Parent, { email: normalizeEmail(email) });
  if (!parent) throw notFound('parent');
  if (!(await can(em, actor, 'parent.export', parent.id))) throw forbidden('only your own data');
  const data = await collect(em, parent.id, parent.email);
  const parentActor: Actor = { kind: 'parent', parentId: parent.id, label: parent.email };
  const downloadsOfChildren = (await downloadsOfMyChildren(em, parentActor, 10_000)).map((d) => ({
    at: d.at,
    child: d.childFirstName,
    photo: d.photoId,
    by: d.by,
  }));

  // Every photo in fotos/ is the parent's own traced copy of the display image (privacy
  // invariant 2), on the same view row as the photo page shows it (same code, exported_at set).
  const traced = await tracedCopiesForExport(
    em,
    { photos },
    parent.id,
    data.photos.map((p) => ({ id: String(p.id), displayKey: String(p.display_key) })),
  );
  const yourPhotoViews = await sql<Row>(
    em,
    `select v.photo_ref as photo, v.trace_code, v.first_at, v.last_at, v.exported_at
       from photo_view v where v.parent_id = ? order by v.first_at, v.id`,
    [parent.id],
  );

  const zip = new yazl.ZipFile();
  const photoFiles: { photo: unknown; file: string; takenAt: unknown; caption: unknown }[] = [];
  for (const p of data.photos) {
    const name = `fotos/${new Date(p.taken_at as string).toISOString().slice(0, 10)}-${String(p.id).slice(0, 8)}.jpg`;
    photoFiles.push({ photo: p.id, file: name, takenAt: p.taken_at, caption: p.caption });
  }
  const document = {
    about: 'Alle gegevens die het ouderportaal over u en uw kinderen bewaart (AVG artikel 15).',
    exportedAt: now.toISOString(),
    profile: data.profile,
    appLogins: data.appLogins,
    children: data.children.map(({ id: _id, ...c }) => c),
    placements: data.placements,
    consentHistory: data.consent,
    parentsOfYourChildren: data.guardians,
    schriftje: data.diary,
    sickReports: data.sickReports,
    pickups: data.pickups,
    messages: data.messages,
    announcementsReadAndConfirmed: data.announcementMarks,
    talks: data.talks,
    yourDownloads: data.ownDownloads,
    yourPhotoViews,
    downloadsOfYourChildrensPhotos: downloadsOfChildren,
    auditEvents: data.auditEvents,
    photos: photoFiles,
  };
  zip.addBuffer(Buffer.from(`${JSON.stringify(document, null, 2)}\n`), 'gegevens.json');
  // Photos stream from the store one at a time: memory stays flat whatever the album's size.
  for (const [i, p] of data.photos.entries()) {
    zip.addReadStreamLazy(photoFiles[i]!.file, (cb) => {
      photos.stream(traced.get(String(p.id))!.key).then(
        (s) => cb(null, s),
        (err: Error) => cb(err, undefined as never),
      );
    });
  }
  zip.end();

  // 0600 in a 0700 folder when it makes one (core/files/private.ts): everything about a family.
  await ensurePrivateParent(file);
  const partial = `${file}.partial`;
  await rm(partial, { force: true }); // left behind by a run that was killed midway
  try {
    await pipeline(zip.outputStream, await privateWriteStream(partial));
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  audit(em, {
    type: 'gdpr.exported',
    actor,
    subject: parent.email,
    details: { photos: data.photos.length, diaryEntries: data.diary.length, messages: data.messages.length },
  });
  await em.flush();
  return {
    file,
    children: data.children.length,
    diaryEntries: data.diary.length,
    messages: data.messages.length,
    photos: data.photos.length,
    downloads: data.ownDownloads.length,
    auditEvents: data.auditEvents.length,
  };
}
