/**
 * Test data for the benchmarks: a planning export like the real one (BOM, CRLF, `;`,
 * dd-mm-jjjj, Ja/Nee, siblings sharing parents), and a fresh database to load it into.
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import type { Actor } from '../core/actor.ts';
import { addGroup } from '../core/directory/groups.ts';
import { addLocation } from '../core/directory/locations.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { PLANNING_COLUMNS, templateHeaders } from '../core/import/columns.ts';
import type { EntityManager } from '../core/db/orm.ts';
import { createPortal, type Portal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';

export const LOCATIONS = ['Heerlen Centrum', 'Maastricht Wyck', 'Sittard Ophoven', 'Venlo Zuid', 'Roermond Oost', 'Weert Centrum'];
export const GROUPS = ['Boomhut', 'Kikkers', 'Zonnestraal', 'Egeltjes', 'Vlinders', 'Dolfijnen', 'Uiltjes', 'BSO De Ontdekkers'];
const FIRST = ['Aylin', 'Evi', 'Thijs', 'Julia', 'Sophie', 'Nora', 'Zoë', 'Liam', 'Siem', 'Sara', 'Finn', 'Mila', 'Noah', 'Levi'];
const PARENT_FIRST = ['Linda', 'Fatima', 'Miriam', 'Inge', 'Sanne', 'Marloes', 'Joost', 'Mark', 'Iris', 'Youssef', 'Esther', 'Bas'];
const LAST: [string, string][] = [
  ['', 'Visser'],
  ['van den', 'Berg'],
  ['', 'Ramdin'],
  ['de', 'Groot'],
  ['', 'Gülen'],
  ["van 't", 'Hof'],
  ['', 'El Amrani'],
  ['van', 'Leeuwen'],
];

export const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const num = (n: number) => Math.round(n).toLocaleString('en');

/** A planning export like the real one (BOM, CRLF, `;`, dd-mm-jjjj, Ja/Nee), with siblings sharing parents. */
export async function generate(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  const write = async (line: string) => {
    if (!out.write(`${line}\r\n`)) await once(out, 'drain');
  };
  await write(`\uFEFF${templateHeaders(PLANNING_COLUMNS).join(';')}`);
  let family = 0;
  for (let i = 0; i < rows; i++) {
    // Every third child is a sibling of the one before: same family, same parents.
    if (i % 3 !== 2) family++;
    const [infix, last] = LAST[family % LAST.length]!;
    const slug = `${infix}${last}`.toLowerCase().replace(/[^a-z]/g, '');
    const location = LOCATIONS[family % LOCATIONS.length]!;
    const group = GROUPS[(family + i) % GROUPS.length]!;
    const born = new Date(Date.UTC(2017 + (i % 9), i % 12, 1 + (i % 28)));
    const date = `${String(born.getUTCDate()).padStart(2, '0')}-${String(born.getUTCMonth() + 1).padStart(2, '0')}-${born.getUTCFullYear()}`;
    const p1 = PARENT_FIRST[family % PARENT_FIRST.length]!;
    const p2 = PARENT_FIRST[(family + 5) % PARENT_FIRST.length]!;
    const twoParents = family % 4 !== 0;
    const phone = (n: number) => `06${String(10_000_000 + ((family * 7919 + n) % 89_999_999)).padStart(8, '0')}`;
    await write(
      [
        location,
        group,
        `B${String(i + 1).padStart(7, '0')}`,
        FIRST[i % FIRST.length],
        infix,
        last,
        date,
        i % 5 === 0 ? 'Nee' : 'Ja',
        i % 2 === 0 ? 'Ja' : 'Nee',
        `${p1.toLowerCase()}.${slug}.${family}@example.nl`,
        p1,
        infix,
        last,
        phone(1),
        ...(twoParents ? [`${p2.toLowerCase()}.${slug}.${family}@example.nl`, p2, '', 'Jansen', phone(2)] : ['', '', '', '', '']),
      ].join(';'),
    );
  }
  out.end();
  await once(out, 'finish');
}

/** A fresh database: a new one on PORTAL_DATABASE_URL's server, or an embedded PostgreSQL in a temporary folder. */
export async function freshDatabase(): Promise<{ flags: Record<string, unknown>; drop: () => Promise<void> }> {
  // Its own folder: the embedded PostgreSQL (run as user postgres when we are root) owns it.
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-bench-data-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const serverUrl = process.env['PORTAL_DATABASE_URL'];
  if (!serverUrl) return { flags: { dataDir }, drop: async () => removeData() };
  const name = `portal_bench_${process.pid}_${Date.now().toString(36)}`;
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = '/postgres';
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    flags: { 'database.url': url.toString(), dataDir },
    drop: async () => {
      await admin(`drop database if exists ${name} with (force)`);
      removeData();
    },
  };
}


/**
 * The organisation, its locations and groups, as an admin provisions them before an import;
 * `structure: false` leaves out the locations and groups, for the first import to create.
 */
export async function provision(em: EntityManager, admin: Actor, { structure = true } = {}): Promise<void> {
  await initOrganisation(em, admin, { name: 'Bench', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'help@example.nl' });
  if (!structure) return;
  for (const location of LOCATIONS) {
    await addLocation(em, admin, { name: location });
    for (const name of GROUPS) await addGroup(em, admin, { location, name });
  }
}

/**
 * The database a benchmark works on (`--reuse URL`: one kept from an earlier run, so its data
 * need not be made again; else a fresh one) and a portal on it.
 */
export async function benchPortal(reuse: string | undefined): Promise<{ db: { flags: Record<string, unknown>; drop: () => Promise<void> }; portal: Portal }> {
  const db = reuse ? { flags: { 'database.url': reuse, dataDir: '/tmp' } as Record<string, unknown>, drop: async () => {} } : await freshDatabase();
  const { config } = loadConfig({ env: {}, flags: { 'log.level': 'warn', ...db.flags } });
  return { db, portal: await createPortal(config, { extensions: installedSchema() }) };
}
