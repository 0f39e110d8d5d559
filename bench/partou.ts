/**
 * Query plans at the scale of the largest Dutch childcare organisation (Partou: ~1,800 locations,
 * ~8,000 groups, ~100,000 children, ~160,000 parents, 16,000 staff, 10,000,000 photos over five
 * years), for docs/scaling.md. Not a throughput benchmark (bench/home.ts and bench/album.ts are):
 * it runs the real use cases for a sample of parents, records the SQL they send at the pg client
 * (text and values, whatever path sent it: the ORM, prepared statements, COPY), and runs
 * `EXPLAIN (ANALYZE, BUFFERS)` on each recorded statement with its values.
 *
 *   npx tsx bench/partou.ts --database postgres://postgres@127.0.0.1:5432/portal_partou [--scale 1]
 *     [--parents 20] [--export-rows 1000000] [--photos N]
 *
 * The database is created and migrated as the portal does it (createPortal), then filled in
 * PostgreSQL itself (generate_series, deterministic hashes for the "random" choices), in chunks of
 * a million photos that each commit: a rerun finds the data there (or the chunks still missing)
 * and goes straight to the plans. `--scale 0.1` is a tenth of everything with the same photo
 * history per group; `--photos N` makes only the newest N of the scale's photos (the same rate per
 * group and day, a shorter history) when the whole history takes too long to make. The database is
 * kept (rerun on it; drop it by hand).
 *
 * The distributions (what a real organisation has, as far as we know it):
 *   - photos per group: skewed; a few groups upload twenty times the average, many a few a week
 *     (group = G * u^1.5 for a uniform u); photos arrive in time order, one every ~16 s of the
 *     five years at full scale, so the table's physical order is by time, as in production;
 *   - tags: 15% no child (confirmed "no child recognisable"), 50% one, 25% two, 7% three, 3% five;
 *   - consent: 3% of the children without internal consent, and in one group in a hundred 30%
 *     (a group with many held photos: the album has to walk past them); 10% of the children have a
 *     second, newer consent statement;
 *   - 0.3% of the photos hidden by staff;
 *   - every child one parent, 60% a second, an eighth of the parents a second child;
 *   - 20 days of schriftje per child, two threads of five messages per child, 10 announcements
 *     per location and per group (the home page reads these by index; their number barely matters).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { type Actor, cliAdmin } from '../core/actor.ts';
import { createSession, lookupSession } from '../core/auth/sessions.ts';
import type { EntityManager } from '../core/db/orm.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { Account } from '../core/entities/account.ts';
import { writeExport } from '../core/export/export.ts';
import { parentHome } from '../core/home/home.ts';
import { unreadCount } from '../core/messages/unread.ts';
import { imageKeyForActor, parentAlbum } from '../core/photos/visibility.ts';
import { createPortal, type Portal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { conversationSql } from './home.ts';
import { num, secs } from './planning-export.ts';

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    scale: { type: 'string', default: '1' },
    parents: { type: 'string', default: '20' },
    'export-rows': { type: 'string', default: '1000000' },
    // Fewer photos than the scale's, at the same rate (the newest ones): a shorter history when the full one takes too long to make.
    photos: { type: 'string' },
  },
});
if (!values.database) throw new Error('--database postgres://… is required (a database of its own: it is filled and kept)');
const DATABASE = values.database;
const FACTOR = Number(values.scale);
const SAMPLE = Number(values.parents);
const EXPORT_ROWS = Number(values['export-rows']);

const FULL = { locations: 1800, groups: 8000, children: 100_000, parents: 160_000, staff: 16_000, photos: 10_000_000, years: 5 };
const n = (x: number) => Math.max(1, Math.round(x * FACTOR));
const S = {
  locations: n(FULL.locations),
  groups: n(FULL.groups),
  children: n(FULL.children),
  parents: n(FULL.parents),
  staff: n(FULL.staff),
  photos: n(FULL.photos),
  years: FULL.years,
};
const CHUNK = 1_000_000;
/** The photos made: the newest `--photos` of the scale's (same rate per group and day), or all of them. */
const PHOTOS = values.photos ? Math.min(S.photos, Number(values.photos)) : S.photos;

// --- data -----------------------------------------------------------------------------------------

/** A deterministic "random" integer 0..m-1 from a label and a row number: reruns make the same data. */
const h = (label: string, i: string, m: number) => `(abs(hashtext('${label}' || ${i})) % ${m})`;

/** Photo i's group: skewed (u^1.5), so group 1 gets ~20x the average and the median group less than it. */
const groupOf = (i: string) => `(1 + floor(${S.groups} * power(${h('pg', i, 1_000_003)} / 1000003.0, 1.5)))::int`;
/** How many children are tagged in photo i (0 means "no child recognisable" confirmed). */
const tagsOf = (i: string) =>
  `(case when ${h('nt', i, 100)} < 15 then 0 when ${h('nt', i, 100)} < 65 then 1 when ${h('nt', i, 100)} < 90 then 2 when ${h('nt', i, 100)} < 97 then 3 else 5 end)`;
/** Children of group g are g, g + G, g + 2G, ... (placement below): how many. */
const kidsOf = (g: string) => `greatest(1, (${S.children} - ${g}) / ${S.groups} + 1)`;
/** Photo i is taken (i - 1) steps back from now: the five years evenly, newest first. */
const STEP_SECONDS = (S.years * 365 * 86_400) / S.photos;

function structureSql(): string[] {
  const held = (i: string) => `(${h('consent', i, 100)} < 3 or (((${i} - 1) % ${S.groups} + 1) % 100 = 7 and ${h('strict', i, 100)} < 30))`;
  return [
    `insert into location (name, phone, created_at, updated_at)
       select 'Locatie ' || i, '020 ' || lpad(i::text, 6, '0'), now(), now() from generate_series(1, ${S.locations}) i`,
    `insert into care_group (location_id, name, capacity, created_at, updated_at)
       select (i - 1) % ${S.locations} + 1, 'Groep ' || i, 16, now(), now() from generate_series(1, ${S.groups}) i`,
    `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at)
       select 'K' || i, 'Kind' || i, 'Partou', current_date - (i % 1460), now(), now() from generate_series(1, ${S.children}) i`,
    `insert into placement (child_id, group_id, start_date, created_at)
       select i, (i - 1) % ${S.groups} + 1, current_date - (i % 1400), now() from generate_series(1, ${S.children}) i`,
    `insert into consent_record (child_id, internal, external, source, recorded_by, recorded_at)
       select i, not ${held('i')}, false, 'import', 'bench', now() - interval '2 years' from generate_series(1, ${S.children}) i
       union all
       select i, not ${held('i')}, true, 'web', 'bench', now() - interval '1 year' from generate_series(1, ${S.children}) i where i % 10 = 0`,
    `insert into parent (email, first_name, last_name, language, notification_mode, created_at, updated_at)
       select 'ouder' || i || '@example.nl', 'Ouder' || i, 'Partou', 'nl', 'digest', now(), now() from generate_series(1, ${S.parents}) i`,
    `insert into guardianship (parent_id, child_id, created_at)
       select i, (i - 1) % ${S.children} + 1, now() from generate_series(1, ${S.parents}) i
       union all
       select i, (i + ${Math.floor(S.children / 2) - 1}) % ${S.children} + 1, now() from generate_series(1, ${Math.floor(S.parents / 8)}) i
       on conflict do nothing`,
    `insert into account (email, parent_id, password_hash, password_must_change, created_at, updated_at)
       select email, id, 'bench-not-a-hash', false, now(), now() from parent`,
    `insert into staff (email, first_name, last_name, role, language, active, created_at, updated_at)
       select 'medewerker' || i || '@partou.example', 'Mw' || i, 'Partou', case when i <= ${S.locations} then 'manager' else 'staff' end, 'nl', true, now(), now()
         from generate_series(1, ${S.staff}) i`,
    `insert into staff_assignment (staff_id, group_id, created_at) select i, (i - 1) % ${S.groups} + 1, now() from generate_series(1, ${S.staff}) i`,
    `insert into account (email, staff_id, password_hash, password_must_change, created_at, updated_at)
       select email, id, 'bench-not-a-hash', false, now(), now() from staff`,
    `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
       select gen_random_uuid(), c, current_date - d, 'staff', 'Mia',
              'Vandaag goed gespeeld in de zandbak, lekker gegeten en een uur geslapen. Bij het ophalen was ze vrolijk.',
              '[{"label":"Slapen","text":"12:30-13:30"}]'::jsonb, '[]'::jsonb, 1, now() - d * interval '1 day', now() - d * interval '1 day'
         from generate_series(1, ${S.children}) c, generate_series(0, 19) d`,
    `insert into message_thread (id, group_id, child_id, subject, started_by_id, created_at, last_message_at, last_parent_message_at, last_staff_message_at)
       select md5('thread' || c || '-' || k)::uuid, (c - 1) % ${S.groups} + 1, c, 'Vraag ' || k, null,
              now() - ((c * 7 + k * 90) % 1800) * interval '1 day', now() - ((c * 7 + k * 90) % 1800) * interval '1 day',
              now() - ((c * 7 + k * 90) % 1800) * interval '1 day', now() - ((c * 7 + k * 90) % 1800) * interval '1 day' + interval '2 hours'
         from generate_series(1, ${S.children}) c, generate_series(1, 2) k`,
    ...conversationSql({ messagesPerThread: 5, locations: S.locations, groups: S.groups, announcements: 10, locationDays: 9, groupDays: 5 }),
  ];
}

/** Photos from..to and their tags (ids derived from i, so the tags need not read the photos back). */
function photosSql(from: number, to: number): string[] {
  const src = `select i, ${groupOf('i')} as g, ${tagsOf('i')} as tags, ${h('tc', 'i', 1000)} as c from generate_series(${from}, ${to}) i`;
  return [
    `insert into photo (id, group_id, uploaded_by_id, caption, state, taken_at, uploaded_at, original_key, display_key, thumb_key, width, height,
                        no_child_confirmed, hidden_at, awaiting_publish, published_at)
       select md5('photo' || i)::uuid, g, (g - 1) % ${S.staff} + 1, case when i % 5 = 0 then 'Buiten spelen' end, 'ready',
              now() - (i - 1) * interval '${STEP_SECONDS} seconds', now() - (i - 1) * interval '${STEP_SECONDS} seconds' + interval '5 minutes',
              encode(sha256(('o' || i)::bytea), 'hex'), encode(sha256(('d' || i)::bytea), 'hex'), encode(sha256(('t' || i)::bytea), 'hex'),
              1600, 1200, tags = 0, case when ${h('hid', 'i', 1000)} < 3 then now() end, false, now() - (i - 1) * interval '${STEP_SECONDS} seconds'
         from (${src}) x`,
    `insert into photo_tag (photo_id, child_id, tagged_by, created_at)
       select md5('photo' || i)::uuid, g + ${S.groups} * ((c + j) % ${kidsOf('g')}), 'bench', now() - (i - 1) * interval '${STEP_SECONDS} seconds'
         from (${src}) x cross join lateral generate_series(1, least(x.tags, ${kidsOf('g')})) j`,
  ];
}

/**
 * The photo tables' indexes and keys are dropped while the photos are loaded and built once after
 * (sorted, minutes), instead of ten million random inserts into a uuid primary key (an hour on
 * this machine). Their definitions wait in bench_partou_index meanwhile, so an interrupted run
 * rebuilds them on the next one. Keys first, then indexes, then the foreign keys onto them.
 */
const BULK_TABLES = ['photo', 'photo_tag'];

async function dropIndexes(client: pg.Client): Promise<void> {
  await client.query('begin');
  await client.query(
    `insert into bench_partou_index (ord, def)
     select case c.contype when 'f' then 2 else 0 end,
            format('alter table %I add constraint %I %s', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid))
       from pg_constraint c
      where (c.contype in ('p', 'u') and c.conrelid::regclass::text = any($1))
         or (c.contype = 'f' and c.confrelid::regclass::text = any($1))
     union all
     select 1, i.indexdef from pg_indexes i
      where i.schemaname = current_schema() and i.tablename = any($1)
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
     on conflict do nothing`,
    [BULK_TABLES],
  );
  const drops = await client.query<{ sql: string }>(
    `select format('alter table %I drop constraint %I', c.conrelid::regclass::text, c.conname) as sql, 0 as o
       from pg_constraint c where c.contype = 'f' and c.confrelid::regclass::text = any($1)
     union all
     select format('alter table %I drop constraint %I', c.conrelid::regclass::text, c.conname), 1
       from pg_constraint c where c.contype in ('p', 'u') and c.conrelid::regclass::text = any($1)
     union all
     select format('drop index %I', i.indexname), 2 from pg_indexes i
      where i.schemaname = current_schema() and i.tablename = any($1)
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
     order by 2`,
    [BULK_TABLES],
  );
  for (const { sql } of drops.rows) await client.query(sql);
  await client.query('commit');
}

async function generate(client: pg.Client): Promise<string[]> {
  const lines: string[] = [];
  const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  // Generated consistently, so the foreign keys are not checked row by row (superuser only).
  await client.query(`set session_replication_role = replica`);
  await client.query(`set synchronous_commit = off`);
  await client.query(`set maintenance_work_mem = '1GB'`);
  const children = await count('select count(*) as n from child');
  if (children !== 0 && children !== S.children) throw new Error(`the database holds another scale (${children} children, not ${S.children}): use another database`);
  if (children === 0) {
    const t = performance.now();
    await client.query('begin');
    for (const sql of structureSql()) await client.query(sql);
    await client.query('commit');
    lines.push(`structure generated in ${secs(performance.now() - t)}`);
  }
  await client.query('create table if not exists bench_partou_index (ord int not null, def text primary key)');
  let have = await count('select count(*) as n from photo');
  if (have < PHOTOS) {
    const t = performance.now();
    await dropIndexes(client);
    for (let from = have + 1; from <= PHOTOS; from += CHUNK) {
      const to = Math.min(PHOTOS, from + CHUNK - 1);
      const c = performance.now();
      await client.query('begin');
      for (const sql of photosSql(from, to)) await client.query(sql);
      await client.query('commit');
      console.error(`photos ${num(from)}..${num(to)} in ${secs(performance.now() - c)}`);
    }
    have = PHOTOS;
    lines.push(`photos and tags generated in ${secs(performance.now() - t)}`);
  }
  const defs = (await client.query<{ def: string }>('select def from bench_partou_index order by ord, def')).rows;
  if (defs.length) {
    const t = performance.now();
    for (const { def } of defs) {
      const c = performance.now();
      await client.query(def);
      await client.query('delete from bench_partou_index where def = $1', [def]);
      console.error(`${def.slice(0, 100)}: ${secs(performance.now() - c)}`);
    }
    lines.push(`${defs.length} keys, indexes and foreign keys of ${BULK_TABLES.join(', ')} built in ${secs(performance.now() - t)}`);
    await client.query('vacuum analyze');
  }
  await client.query('drop table if exists bench_partou_index');
  return lines;
}

// --- recording ------------------------------------------------------------------------------------

interface Recorded {
  text: string;
  values: unknown[];
  name?: string;
}

let recording: Recorded[] | undefined;
/** A COPY … TO STDOUT passing through is cut to its first rows (the export "on the first N rows"). */
let copyLimit: number | undefined;

/**
 * Every statement any client of this process sends, as the server receives it: the ORM (knex),
 * core/db/prepared.ts and the export (pg-copy-streams, whose query object carries its text) all
 * end in pg.Client#query.
 */
function recordQueries(): void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    if (recording) {
      if (typeof first === 'string') recording.push({ text: first, values: Array.isArray(second) ? second : [] });
      else if (first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') {
        const q = first as { text: string; values?: unknown[]; name?: string };
        if (copyLimit !== undefined && /^copy \(/i.test(q.text)) {
          // The table's FROM is the innermost select's: limit it there (ndjson and csv alike).
          q.text = q.text.replace(/( from "[a-z_]+" t)\)/, `$1 limit ${copyLimit})`);
        }
        recording.push({ text: q.text, values: q.values ?? (Array.isArray(second) ? second : []), ...(q.name ? { name: q.name } : {}) });
      }
    }
    return original.apply(this, args);
  };
}

async function record<T>(fn: () => Promise<T>): Promise<{ result: T; statements: Recorded[]; ms: number }> {
  recording = [];
  const t = performance.now();
  try {
    const result = await fn();
    return { result, statements: recording, ms: performance.now() - t };
  } finally {
    recording = undefined;
  }
}

// --- plans ----------------------------------------------------------------------------------------

interface Explained {
  plan: string[];
  planning: number;
  execution: number;
}

/** EXPLAIN (ANALYZE, BUFFERS) of a recorded statement with its values, on a connection of its own. */
async function explain(client: pg.Client, s: Recorded): Promise<Explained> {
  let text = s.text;
  const copy = /^copy \((.*)\) to stdout/is.exec(text);
  // COPY cannot be EXPLAINed: its query can (what the server runs to stream the table).
  if (copy) text = copy[1]!;
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${text}`, copy ? [] : s.values);
  const plan = rows.map((r) => r['QUERY PLAN']);
  const ms = (label: string) => Number(plan.map((l) => new RegExp(`^${label} Time: ([\\d.]+) ms`).exec(l)?.[1]).find(Boolean) ?? 'NaN');
  return { plan, planning: ms('Planning'), execution: ms('Execution') };
}

const isRead = (s: Recorded) => /^\s*(select|with|copy)\b/i.test(s.text);
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const f1 = (x: number) => x.toFixed(1);

interface CaseResult {
  label: string;
  /**
   * Per call: the server's time for its statements per EXPLAIN ANALYZE: execution, plus planning
   * for the statements not prepared (a named prepared statement is planned once per connection and
   * then runs on its cached plan, so its planning is not paid per request).
   */
  dbMs: number[];
  /** Per call: planning alone (all statements, as EXPLAIN plans them afresh). */
  planMs: number[];
  execMs: number[];
  /** Per call: wall time of the use case in this process (round trips and Node included), before EXPLAIN. */
  wallMs: number[];
  statements: number[];
}

async function runCase(
  explainer: pg.Client,
  out: string[],
  label: string,
  calls: (() => Promise<unknown>)[],
  { printPlans = 1 } = {},
): Promise<CaseResult> {
  const result: CaseResult = { label, dbMs: [], planMs: [], execMs: [], wallMs: [], statements: [] };
  // Warm: the first call of each pays for the pool, the ORM's metadata and cold pages.
  await calls[0]?.();
  for (const [i, call] of calls.entries()) {
    const { statements, ms } = await record(call);
    const reads = statements.filter(isRead);
    result.wallMs.push(ms);
    result.statements.push(reads.length);
    let db = 0;
    let planning = 0;
    let execution = 0;
    for (const [k, s] of reads.entries()) {
      const e = await explain(explainer, s);
      db += e.execution + (s.name ? 0 : e.planning);
      planning += e.planning;
      execution += e.execution;
      if (i < printPlans) {
        out.push(
          '',
          `--- ${label}, statement ${k + 1} of ${reads.length}${s.name ? ` (prepared as ${s.name})` : ''}: planning ${f1(e.planning)} ms, execution ${f1(e.execution)} ms`,
          `    ${oneLine(s.text).slice(0, 400)}${oneLine(s.text).length > 400 ? ' …' : ''}`,
          `    values: ${JSON.stringify(s.values).slice(0, 300)}`,
          ...e.plan.map((l) => `    ${l}`),
        );
      }
    }
    result.dbMs.push(db);
    result.planMs.push(planning);
    result.execMs.push(execution);
  }
  return result;
}

// --- main -----------------------------------------------------------------------------------------

async function sampleParents(client: pg.Client): Promise<number[]> {
  // Spread over the ids (so over groups of every size), the same on every run.
  const ids: number[] = [];
  for (let i = 0; i < SAMPLE; i++) ids.push(1 + ((i * 7919 + 17) % S.parents));
  // Plus the parents of a child in the busiest group (group 1) and in a group with many held photos (group 7).
  const { rows } = await client.query<{ id: number }>(
    `select min(g.parent_id) as id from guardianship g join placement p on p.child_id = g.child_id where p.group_id in (1, 7) group by p.group_id order by p.group_id`,
  );
  return [...rows.map((r) => r.id), ...ids];
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-partou-'));
  const { config } = loadConfig({ env: {}, flags: { 'log.level': 'warn', 'database.url': DATABASE, dataDir } });
  // The portal's own path: create the database when missing, apply the migrations.
  const portal: Portal = await createPortal(config, { extensions: installedSchema(), createDatabase: true });
  const client = new pg.Client({ connectionString: DATABASE });
  await client.connect();
  const out: string[] = [];
  try {
    const em = portal.em();
    const orgs = await client.query('select 1 from organisation');
    if (orgs.rowCount === 0) await initOrganisation(em, cliAdmin('bench'), { name: 'Partou (bench)', publicUrl: 'http://127.0.0.1', helpdeskEmail: 'help@example.nl' });
    const t = performance.now();
    const generated = await generate(client);
    await client.query('reset session_replication_role');
    const sizes = (
      await client.query<{ t: string; rows: string; size: string }>(
        `select c.relname as t, c.reltuples::bigint::text as rows, pg_size_pretty(pg_total_relation_size(c.oid)) as size
           from pg_class c join pg_namespace s on s.oid = c.relnamespace and s.nspname = current_schema()
          where c.relkind = 'r' and c.relname = any($1) order by pg_total_relation_size(c.oid) desc`,
        [['photo', 'photo_tag', 'diary_entry', 'message', 'message_thread', 'message_read', 'announcement', 'guardianship', 'child', 'parent', 'consent_record', 'staff']],
      )
    ).rows;
    const dbSize = (await client.query<{ s: string }>('select pg_size_pretty(pg_database_size(current_database())) as s')).rows[0]!.s;
    const server = (await client.query<{ v: string }>('select version() as v')).rows[0]!.v;
    const settings = (
      await client.query<{ name: string; setting: string; unit: string | null }>(
        `select name, setting, unit from pg_settings where name in ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit', 'max_parallel_workers_per_gather')`,
      )
    ).rows;
    out.push(
      `Partou scale ${FACTOR}: ${num(S.locations)} locations, ${num(S.groups)} groups, ${num(S.children)} children, ${num(S.parents)} parents, ${num(S.staff)} staff, ${num(PHOTOS)} photos: ${PHOTOS === S.photos ? `${S.years} years` : `the newest ${((S.years * PHOTOS) / S.photos).toFixed(1)} of ${S.years} years`} at ${(S.photos / S.groups / S.years / 365).toFixed(2)} per group per day on average`,
      ...(generated.length ? generated : ['data already there: not generated again']),
      `data ready after ${secs(performance.now() - t)}; database ${dbSize}; PostgreSQL ${server}; ${settings.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ')}`,
      ...sizes.map((s) => `  ${s.t.padEnd(16)} ${num(Number(s.rows)).padStart(12)} rows  ${s.size}`),
    );

    const parents = await sampleParents(client);
    const actors: Actor[] = parents.map((parentId) => ({ kind: 'parent', parentId, label: 'bench' }));
    out.push(`sample: ${actors.length} parents (ids ${parents.join(', ')}); the first two have a child in the busiest group and in a group with many held photos`);
    recordQueries();

    // Each request's session: the real lookup, on a session made the way login makes it.
    const tokens: string[] = [];
    for (const parentId of parents) {
      const fork = portal.em();
      const account = await fork.findOneOrFail(Account, { parent: parentId });
      tokens.push((await createSession(fork, config.auth, account)).token);
    }
    const results: CaseResult[] = [];
    results.push(
      await runCase(
        client,
        out,
        'session lookup (every request)',
        tokens.map((token) => () => lookupSession(portal.em(), config.auth, token, { touch: false })),
      ),
    );
    results.push(await runCase(client, out, 'parent home (GET /, with the navigation\'s unread count)', actors.map((a) => () => parentHome(portal.em(), a))));
    // Every other page counts it on its own (the number beside "Berichten").
    results.push(await runCase(client, out, 'navigation unread count (every page but home)', actors.map((a) => () => unreadCount(portal.em(), a))));
    const albums: string[][] = [];
    results.push(
      await runCase(
        client,
        out,
        'parent album, first page (GET /fotos)',
        actors.map((a) => async () => albums.push((await parentAlbum(portal.em(), a, { limit: 30 })).map((p) => p.id))),
      ),
    );
    // A page deep in the history: a year back ("meer laden" many times, or a link kept).
    const yearAgo = new Date(portal.clock.now().getTime() - 365 * 86_400_000).toISOString();
    results.push(
      await runCase(
        client,
        out,
        'parent album, a page a year back (GET /fotos?voor=)',
        actors.map((a) => () => parentAlbum(portal.em(), a, { limit: 30, before: { takenAt: yearAgo, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' } })),
      ),
    );
    // The thumbnails of the album page each parent just got (what the browser asks next).
    const thumbCalls = actors.flatMap((a, i) => (albums[i + 1] ?? albums[i] ?? []).slice(0, 3).map((id) => () => imageKeyForActor(portal.em(), a, id, 'thumb')));
    results.push(await runCase(client, out, 'thumbnail access (GET /fotos/:id/thumb), imageKeyForActor', thumbCalls));
    const gate = await imageGate();
    if (gate) {
      // Session and photo in one statement: it replaces the session lookup and imageKeyForActor above for thumbnails.
      results.push(
        await runCase(
          client,
          out,
          'thumbnail gate, thumbForSession (session + photo, core/photos/image-gate.ts)',
          actors.flatMap((_a, i) =>
            (albums[i + 1] ?? []).slice(0, 3).map((id) => async () => {
              const verdict = (await gate(portal.em(), config.auth, tokens[i], id)) as { serve: boolean };
              if (!verdict.serve) throw new Error(`thumbForSession refused photo ${id} to parent ${parents[i]}`);
            }),
          ),
        ),
      );
    } else out.push('', '(core/photos/image-gate.ts thumbForSession not there: only the session lookup and imageKeyForActor measured)');

    // The nightly export (portal export / the export job: writeExport), cut to its first rows per table.
    const exportDir = mkdtempSync(join(tmpdir(), 'portal-partou-export-'));
    try {
      copyLimit = EXPORT_ROWS;
      const exported = await record(() => writeExport(portal.em(), cliAdmin('bench'), { out: exportDir, tables: ['photo', 'photo_tag'] }));
      copyLimit = undefined;
      const files = exported.result.manifest.files;
      out.push(
        '',
        `--- nightly export (writeExport, ndjson) of the first ${num(EXPORT_ROWS)} rows of photo and photo_tag: ${secs(exported.ms)} for ${num(files.reduce((a, f) => a + f.rows, 0))} rows, ${files.map((f) => `${f.table} ${(f.bytes / 1e6).toFixed(0)} MB`).join(', ')}`,
      );
      for (const s of exported.statements.filter((x) => /^copy \(/i.test(x.text))) {
        const e = await explain(client, s);
        out.push(`    ${oneLine(s.text).slice(0, 300)} …`, `    (the COPY's query, EXPLAINed: planning ${f1(e.planning)} ms, execution ${f1(e.execution)} ms)`, ...e.plan.map((l) => `    ${l}`));
      }
    } finally {
      copyLimit = undefined;
      rmSync(exportDir, { recursive: true, force: true });
    }

    out.push(
      '',
      'summary per call: exec and plan = EXPLAIN ANALYZE execution and planning time summed over its statements; DB = exec + plan of the',
      'statements not prepared (prepared ones run on a plan cached per connection); wall = the call itself in this process, before EXPLAIN:',
    );
    for (const r of results) {
      const q = (xs: number[]) => `${f1(quantile(xs, 0.5)).padStart(5)}/${f1(quantile(xs, 0.9)).padStart(5)}`;
      out.push(
        `  ${r.label.padEnd(75)} ${String(quantile(r.statements, 0.5)).padStart(2)} stmt  median/p90 ms: exec ${q(r.execMs)}  plan ${q(r.planMs)}  DB ${q(r.dbMs)}  wall ${q(r.wallMs)}  (max DB ${f1(Math.max(...r.dbMs))}, ${r.dbMs.length} calls)`,
      );
    }
    console.log(out.join('\n'));
  } finally {
    await client.end();
    await portal.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Gate = (em: EntityManager, settings: unknown, token: string | undefined, photoId: string) => Promise<unknown>;

/** The one-statement thumbnail gate (core/photos/image-gate.ts, added beside this bench), when it is there. */
async function imageGate(): Promise<Gate | undefined> {
  // Loaded by its path, so that this bench compiles and runs with or without it.
  const url = new URL('../core/photos/image-gate.ts', import.meta.url).href;
  const mod = (await import(url).catch(() => undefined)) as { thumbForSession?: Gate } | undefined;
  return mod?.thumbForSession;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
