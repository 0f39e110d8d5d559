import { renameSync, rmSync } from 'node:fs';
import { createPrivateDir, ensurePrivateDir, writePrivateFile } from '../files/private.ts';
import { dirname, join, resolve } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { conflict } from '../errors.ts';
import { formatSafeCsvLine } from '../import/csv-safe.ts';
import type { PhotoContext } from './upload.ts';
import { everyTaggedChildConsents } from './visibility.ts';

/**
 * `portal photos external-export --out DIR`: the photos that may be used outside the portal
 * (website, newsletter): ready, not hidden, at least one child tagged, and every tagged child's
 * consent in force is external "yes". Untagged photos are left out: "no child recognisable"
 * was judged for the group's parents, not for the world. Written to a temporary folder and
 * renamed at the end, so a half export never looks like a whole one.
 */
export async function exportExternalPhotos(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'photos'>,
  actor: Actor,
  out: string,
): Promise<{ dir: string; photos: number }> {
  requireAdmin(actor, 'photo.externalExport');
  const dir = resolve(out);
  const rows = (await em.getConnection().execute(
    `select p.id, p.taken_at, p.caption, p.original_key, g.name as group_name, l.name as location_name
       from photo p join care_group g on g.id = p.group_id join location l on l.id = g.location_id
      where p.state = 'ready' and p.hidden_at is null and not p.awaiting_publish and p.original_key is not null
        and exists (select 1 from photo_tag t where t.photo_id = p.id)
        and ${everyTaggedChildConsents('external')}
      order by p.taken_at, p.id`,
  )) as { id: string; taken_at: string | Date; caption: string | null; original_key: string; group_name: string; location_name: string }[];
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  // Photos of children and where they are: 0600 files in 0700 folders, whatever the umask.
  await ensurePrivateDir(dirname(tmp));
  await createPrivateDir(tmp);
  const lines = [formatSafeCsvLine(['file', 'taken_at', 'location', 'group', 'caption'])];
  for (const r of rows) {
    const takenAt = new Date(r.taken_at).toISOString();
    const file = `${takenAt.slice(0, 10)}-${r.id}.jpg`;
    await writePrivateFile(join(tmp, file), await ctx.photos.get(r.original_key));
    lines.push(formatSafeCsvLine([file, takenAt, r.location_name, r.group_name, r.caption ?? '']));
  }
  await writePrivateFile(join(tmp, 'photos.csv'), `\uFEFF${lines.join('\r\n')}\r\n`);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw conflict(`${dir} already exists and is not empty: choose a new folder`);
    }
    throw err;
  }
  return { dir, photos: rows.length };
}
