import type { EntityManager } from '@mikro-orm/postgresql';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { Group } from '../entities/group.ts';
import { Location } from '../entities/location.ts';
import { type Language, Organisation } from '../entities/organisation.ts';
import type { ImportChange, ImportReport } from './report.ts';
import { json } from './sql.ts';

/**
 * The locations and groups a planning export names: the ones the portal has, and the ones the
 * import creates. A first import into an empty portal creates them all: an export is the
 * organisation's own list of its locations and groups, and making the admin type them in first
 * (or see one error per row until they have) helps nobody.
 *
 * A new location gets only its name (the export has nothing else about it); the rest (address,
 * phone, e-mail, opening hours, manager) stays empty and messages are read at the default 12:00,
 * until `portal locations update` says otherwise. A new group gets its name and no capacity.
 * Names match as the directory matches them: without regard to case, so "boomhut" is the group
 * "Boomhut"; a name first seen in the file is created as the file spells it on its first row.
 * Archived groups do not count: a file that names one gets a new group of that name.
 *
 * Groups to create get negative ids while the file is read; the rows keep them until the
 * import's transaction has created the groups (`createStructure`) and knows the real ones.
 * Only what a valid row uses is created.
 */

export interface GroupRef {
  /** Negative: a group the import will create. */
  id: number;
  /** "Location/Group", as the admin reads it. */
  label: string;
}

/** A group the file names that does not exist yet, at a location that may not exist either. */
export interface PlannedGroup extends GroupRef {
  location: { id: number | null; name: string };
  name: string;
}

const key = (name: string) => name.trim().toLowerCase();

export class Directory {
  readonly locations = new Map<string, { id: number; name: string }>();
  /** "locationId/lower(group name)" -> group */
  readonly groups = new Map<string, GroupRef>();
  /** lower(group name) -> the groups of that name in the organisation */
  readonly groupsByName = new Map<string, GroupRef[]>();
  /** "lower(location)/lower(group)" -> a group to create */
  private readonly planned = new Map<string, PlannedGroup>();
  private readonly plannedById = new Map<number, PlannedGroup>();
  /** lower(name) -> a location to create, spelled as on its first row */
  private readonly plannedLocations = new Map<string, string>();

  constructor(readonly defaultLanguage: Language) {}

  addGroup(location: { id: number; name: string }, group: { id: number; name: string }): void {
    const ref = { id: group.id, label: `${location.name}/${group.name}` };
    this.groups.set(`${location.id}/${key(group.name)}`, ref);
    this.groupsByName.set(key(group.name), [...(this.groupsByName.get(key(group.name)) ?? []), ref]);
  }

  /** The group to create for this name at this location (the same one for every row that names it). */
  plan(location: string, group: string): PlannedGroup {
    const at = this.locations.get(key(location));
    const k = `${key(location)}/${key(group)}`;
    let planned = this.planned.get(k);
    if (!planned) {
      const locationName = at?.name ?? this.plannedLocations.get(key(location)) ?? location;
      if (!at) this.plannedLocations.set(key(location), locationName);
      planned = {
        id: -(this.planned.size + 1),
        label: `${locationName}/${group}`,
        location: { id: at?.id ?? null, name: locationName },
        name: group,
      };
      this.planned.set(k, planned);
      this.plannedById.set(planned.id, planned);
    }
    return planned;
  }

  plannedGroup(id: number): PlannedGroup | undefined {
    return this.plannedById.get(id);
  }
}

export async function loadDirectory(em: EntityManager): Promise<Directory> {
  const locations = await em.find(Location, {}, { fields: ['id', 'name'] });
  const groups = await em.find(Group, { archivedAt: null }, { populate: ['location'] });
  const org = await em.findOne(Organisation, { id: 1 });
  const dir = new Directory(org?.defaultLanguage ?? 'nl');
  for (const l of locations) dir.locations.set(key(l.name), { id: l.id, name: l.name });
  for (const g of groups) dir.addGroup(g.location, g);
  return dir;
}

/**
 * Creates the planned groups that valid rows use, and their new locations, in set-based SQL
 * inside the import's transaction (a dry run only reports them). Records them in the report and
 * the change list; returns the real id of each planned one (a dry run: none).
 *
 * `on conflict do nothing` and a lookup after: a location or group someone added by hand
 * while the file was being read is used, not a reason to fail the import.
 */
export async function createStructure(
  tx: EntityManager,
  used: { group: PlannedGroup; line: number }[],
  report: ImportReport,
  changes: ImportChange[] | undefined,
): Promise<Map<number, number>> {
  const newLocations = new Map<string, { name: string; line: number }>();
  for (const { group, line } of used) {
    if (group.location.id === null && !newLocations.has(key(group.location.name))) {
      newLocations.set(key(group.location.name), { name: group.location.name, line });
    }
  }
  for (const l of newLocations.values()) {
    report.locations.created.push(l.name);
    changes?.push({ line: l.line, kind: 'location', action: 'create', subject: l.name, detail: 'new location, named in the file' });
  }
  for (const { group, line } of used) {
    report.groups.created.push({ location: group.location.name, name: group.name });
    changes?.push({ line, kind: 'group', action: 'create', subject: group.label, detail: `new group at ${group.location.name}` });
  }
  const ids = new Map<number, number>();
  if (report.dryRun || used.length === 0) return ids;

  const now = clockOf(tx).now();
  const locationId = new Map<string, number>();
  if (newLocations.size) {
    await sql(
      tx,
      `insert into location (name, messages_read_at, created_at, updated_at)
       select v.name, '12:00', ?::timestamptz, ?::timestamptz from json_to_recordset(?::json) as v(name text)
       on conflict (lower(name)) do nothing`,
      [now, now, json([...newLocations.values()].map((l) => ({ name: l.name })))],
    );
    const rows = await sql<{ id: number; name: string }>(
      tx,
      'select id, name from location where lower(name) in (select lower(json_array_elements_text(?::json)))',
      [json([...newLocations.values()].map((l) => l.name))],
    );
    for (const r of rows) locationId.set(key(r.name), r.id);
  }
  const groups = used.map(({ group }) => ({
    ref: group.id,
    location_id: group.location.id ?? locationId.get(key(group.location.name))!,
    name: group.name,
  }));
  await sql(
    tx,
    `insert into care_group (location_id, name, capacity, archived_at, created_at, updated_at)
     select v.location_id, v.name, null, null, ?::timestamptz, ?::timestamptz
     from json_to_recordset(?::json) as v(location_id int, name text)
     on conflict (location_id, lower(name)) where archived_at is null do nothing`,
    [now, now, json(groups)],
  );
  const rows = await sql<{ ref: number; id: number }>(
    tx,
    `select v.ref, g.id from json_to_recordset(?::json) as v(ref int, location_id int, name text)
     join care_group g on g.location_id = v.location_id and lower(g.name) = lower(v.name) and g.archived_at is null`,
    [json(groups)],
  );
  for (const r of rows) ids.set(r.ref, r.id);
  return ids;
}
