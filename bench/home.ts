/**
 * Benchmark of the parent home page at the scale of a large organisation, beside its ceiling in
 * the same run, at 1x, 5x and 10x the photo history (older photos added between the runs: the
 * home page must not slow down as the years pass):
 *   - data: 90 locations, 400 groups, 5,000 children, 8,000 parents, 500,000 photos (tagged),
 *     2,000,000 schriftje entries, 300,000 messages in 30,000 threads, 9,800 announcements,
 *     generated in PostgreSQL itself;
 *   - ours: `GET /` as random logged-in parents (session, unread count in the navigation, the
 *     home statement, the page) on the portal's own app in a server process of its own;
 *   - ceiling: `GET /bench/one-query` on the same server: the same middleware and session, one
 *     indexed query, a few bytes of JSON;
 *   autocannon, 32 connections, each request with another parent's cookie, ours and the ceiling
 *   in alternating rounds (so both see the same machine), median of the rounds. Then the plan of
 *   the home statement (EXPLAIN ANALYZE) for one parent.
 *
 *   PORTAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/home.ts [--seconds 10] [--sessions 2000]
 *     [--scale 1] [--histories 1,5,10] [--keep] [--reuse DATABASE_URL]
 *   --scale 0.1: a tenth of the organisation (locations, groups, children, parents, photos,
 *   messages) with the same photo history per group, for a quicker run.
 *
 * Targets: p99 under 50 ms, and at least 50% of the one-query endpoint's throughput.
 * Shared with bench/album.ts: the data, the server, the sessions and the rounds.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cliAdmin } from '../core/actor.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { parentHomeQuery } from '../core/home/home.ts';
import { parentUnreadSql } from '../core/messages/unread.ts';
import type { Portal } from '../core/portal.ts';
import { benchPortal, num, secs } from './planning-export.ts';

/** What a browser sends for a page (the navigation's unread count is computed for pages only). */
export const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** The organisation at full scale (MIK+PIW): one year of photos, 1,250 per group. */
const FULL = { locations: 90, groups: 400, children: 5000, parents: 8000, photos: 500_000, diary: 2_000_000, threads: 30_000, messagesPerThread: 10 };
export type Scale = typeof FULL;

/** A fraction of the organisation with the same history per group (photos per group, diary per child). */
export function scaleOf(factor: number): Scale {
  const n = (x: number) => Math.max(1, Math.round(x * factor));
  return { ...FULL, locations: n(FULL.locations), groups: n(FULL.groups), children: n(FULL.children), parents: n(FULL.parents), photos: n(FULL.photos), diary: n(FULL.diary), threads: n(FULL.threads) };
}

/**
 * Photos `from`..`to` (1-based) and their tags: photo i is taken (i-1) / (photos per day) days
 * ago, so 1..photos is the last year and every further `photos` one more year back; its id is
 * derived from i so the tags can name it without reading the table back. One child of the
 * photo's group in each photo (the children of group g are g, g + groups, g + 2 groups, ...).
 */
export function photosSql(scale: Scale, from: number, to: number): string[] {
  const perDay = scale.photos / 365;
  const kids = Math.max(1, Math.floor(scale.children / scale.groups));
  return [
    `insert into photo (id, group_id, caption, state, taken_at, uploaded_at, original_key, display_key, thumb_key, width, height, no_child_confirmed, published_at)
       select md5('photo' || i)::uuid, (i - 1) % ${scale.groups} + 1, null, 'ready',
              now() - floor((i - 1) / ${perDay}) * interval '1 day' - (i % 600) * interval '1 minute',
              now() - floor((i - 1) / ${perDay}) * interval '1 day', repeat('a', 64), repeat('b', 64), repeat('c', 64), 1600, 1200, false, now()
         from generate_series(${from}, ${to}) i`,
    `insert into photo_tag (photo_id, child_id, tagged_by, created_at)
       select md5('photo' || i)::uuid, (i - 1) % ${scale.groups} + 1 + ${scale.groups} * ((i / 7) % ${kids}), 'bench', now()
         from generate_series(${from}, ${to}) i`,
  ];
}

/** Everything in SQL, set-based: a minute instead of an hour of ORM inserts. */
export function generateSql(scale: Scale): string[] {
  return [
    `insert into location (name, phone, created_at, updated_at)
       select 'Locatie ' || i, '045 ' || lpad(i::text, 6, '0'), now(), now() from generate_series(1, ${scale.locations}) i`,
    `insert into care_group (location_id, name, capacity, created_at, updated_at)
       select (i - 1) % ${scale.locations} + 1, 'Groep ' || i, 16, now(), now() from generate_series(1, ${scale.groups}) i`,
    `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at)
       select 'K' || i, 'Kind' || i, 'Bench', date '2023-01-01' + (i % 700), now(), now() from generate_series(1, ${scale.children}) i`,
    `insert into placement (child_id, group_id, start_date, created_at)
       select i, (i - 1) % ${scale.groups} + 1, date '2015-01-01', now() from generate_series(1, ${scale.children}) i`,
    // 5% of the children without internal consent, spread over the groups (i % 20 would be
    // every child of one group in twenty): their photos are held.
    `insert into consent_record (child_id, internal, external, source, recorded_by, recorded_at)
       select i, abs(hashtext('consent' || i)) % 20 <> 0, false, 'import', 'bench', now() - interval '1 year' from generate_series(1, ${scale.children}) i`,
    `insert into parent (email, first_name, last_name, language, notification_mode, created_at, updated_at)
       select 'ouder' || i || '@example.nl', 'Ouder' || i, 'Bench', 'nl', 'digest', now(), now() from generate_series(1, ${scale.parents}) i`,
    // Every child one parent, many a second; the first eighth of the parents also a sibling.
    `insert into guardianship (parent_id, child_id, created_at)
       select i, (i - 1) % ${scale.children} + 1, now() from generate_series(1, ${scale.parents}) i
       union all
       select i, (i + ${Math.floor(scale.children / 2) - 1}) % ${scale.children} + 1, now() from generate_series(1, ${Math.floor(scale.parents / 8)}) i
       on conflict do nothing`,
    `insert into account (email, parent_id, password_hash, password_must_change, created_at, updated_at)
       select email, id, 'bench-not-a-hash', false, now(), now() from parent`,
    ...photosSql(scale, 1, scale.photos),
    `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
       select gen_random_uuid(), c, current_date - d, 'staff', 'Mia',
              'Vandaag goed gespeeld in de zandbak, lekker gegeten en een uur geslapen. Bij het ophalen was ze vrolijk.',
              '[{"label":"Slapen","text":"12:30-13:30"}]'::jsonb, '[]'::jsonb, 1, now() - d * interval '1 day', now() - d * interval '1 day'
         from generate_series(1, ${scale.children}) c, generate_series(0, ${Math.round(scale.diary / scale.children) - 1}) d`,
    `insert into message_thread (id, group_id, child_id, subject, started_by_id, created_at, last_message_at, last_parent_message_at, last_staff_message_at)
       select gen_random_uuid(), (c - 1) % ${scale.groups} + 1, c, 'Vraag ' || i, null,
              now() - (i % 300) * interval '1 day', now() - (i % 300) * interval '1 day', now() - (i % 300) * interval '1 day',
              now() - (i % 300) * interval '1 day' + interval '2 hours'
         from generate_series(1, ${scale.threads}) i, lateral (select (i - 1) % ${scale.children} + 1 as c) x`,
    ...conversationSql({ messagesPerThread: scale.messagesPerThread, locations: scale.locations, groups: scale.groups, announcements: 20, locationDays: 3, groupDays: 2 }),
    'analyze',
  ];
}

/**
 * The messages of the threads already there, most of them read by the child's parents (a third
 * with an unread reply), and `announcements` to every location and every group, one each
 * `locationDays` / `groupDays` back. Shared with bench/partou.ts.
 */
export function conversationSql(o: { messagesPerThread: number; locations: number; groups: number; announcements: number; locationDays: number; groupDays: number }): string[] {
  return [
    `insert into message (thread_id, author_side, author_label, body, created_at)
       select t.id, case when m % 2 = 0 then 'parent' else 'staff' end, 'bench', 'Bericht ' || m, t.created_at + m * interval '10 minutes'
         from message_thread t, generate_series(1, ${o.messagesPerThread}) m`,
    `insert into message_read (thread_id, parent_id, read_at)
       select t.id, g.parent_id, t.last_staff_message_at + interval '1 hour'
         from message_thread t join guardianship g on g.child_id = t.child_id
        where abs(hashtext(t.id::text)) % 3 <> 0
       on conflict do nothing`,
    `insert into announcement (id, location_id, group_id, author_label, subject, body, email_copy, created_at)
       select gen_random_uuid(), l, null, 'Locatiemanager', 'Mededeling ' || i, 'Tekst', false, now() - i * interval '${o.locationDays} days'
         from generate_series(1, ${o.locations}) l, generate_series(1, ${o.announcements}) i
       union all
       select gen_random_uuid(), (g - 1) % ${o.locations} + 1, g, 'Groep', 'Groepsbericht ' || i, 'Tekst', false, now() - i * interval '${o.groupDays} days'
         from generate_series(1, ${o.groups}) g, generate_series(1, ${o.announcements}) i`,
  ];
}

export function startServer(env: Record<string, string>): Promise<{ port: number; stop: () => void }> {
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const child = spawn(tsx, [fileURLToPath(new URL('./home-server.ts', import.meta.url))], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      const m = /listening (\d+)/.exec(chunk.toString());
      if (m) resolve({ port: Number(m[1]), stop: () => child.kill('SIGTERM') });
    });
  });
}

export interface Run {
  rps: number;
  p50: number;
  p99: number;
}

export async function cannon(url: string, cookies: string[], accept: string, seconds: number): Promise<Run> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: 32,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => {
          i = (i + 1) % cookies.length;
          return { ...req, headers: { ...req.headers, cookie: cookies[i]!, accept } };
        },
      },
    ],
  });
  if (result.non2xx) throw new Error(`${url}: ${result.non2xx} non-2xx responses`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Ours and the ceiling in alternating rounds (ceiling, ours, ceiling, ours, ...), so that both
 * are measured on the same machine at the same time; the median round of each.
 */
export async function interleaved(ours: () => Promise<Run>, ceiling: () => Promise<Run>, rounds: number): Promise<{ ours: Run; ceiling: Run }> {
  const a: Run[] = [];
  const b: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    b.push(await ceiling());
    a.push(await ours());
  }
  const pick = (runs: Run[]): Run => ({ rps: median(runs.map((x) => x.rps)), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)) });
  return { ours: pick(a), ceiling: pick(b) };
}

/** Sessions for random parents, made as login makes them (only the token's hash is stored): their cookies. */
export async function parentSessions(portal: Portal, count: number, parents: number): Promise<string[]> {
  const cookies: string[] = [];
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = randomBytes(32).toString('base64url');
    const parentId = 1 + Math.floor(Math.random() * parents);
    cookies.push(`portal-session=${token}`);
    rows.push(`('${createHash('sha256').update(token).digest('hex')}', ${parentId})`);
  }
  await portal.em().getConnection().execute(
    `insert into session (id_hash, account_id, created_at, last_seen_at, expires_at, second_factor_pending)
     select v.h, a.id, now(), now(), now() + interval '12 hours', false
       from (values ${rows.join(',')}) v(h, p) join account a on a.parent_id = v.p`,
  );
  return cookies;
}

/** The bench's options, shared by bench/home.ts and bench/album.ts. */
export function benchOptions() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      sessions: { type: 'string', default: '2000' },
      scale: { type: 'string', default: '1' },
      histories: { type: 'string', default: '1,5,10' },
      rounds: { type: 'string', default: '3' },
      // Keep the generated database (its URL is printed) / use one kept earlier: for repeated runs.
      keep: { type: 'boolean', default: false },
      reuse: { type: 'string' },
    },
  });
  return {
    seconds: Number(values.seconds),
    sessions: Number(values.sessions),
    scale: scaleOf(Number(values.scale)),
    factor: Number(values.scale),
    histories: values.histories.split(',').map(Number),
    rounds: Number(values.rounds),
    keep: values.keep,
    reuse: values.reuse,
  };
}

/**
 * The generated organisation, then for each history (1x, 5x, 10x the photos) older photos added
 * and `measure` called on a running server: one line per history.
 */
export async function historyBench(
  title: string,
  measure: (ctx: { base: string; cookies: string[]; portal: Portal; history: number; options: ReturnType<typeof benchOptions> }) => Promise<string[]>,
): Promise<void> {
  const options = benchOptions();
  const { scale } = options;
  const { db, portal } = await benchPortal(options.reuse);
  const lines: string[] = [];
  let server: { port: number; stop: () => void } | undefined;
  try {
    const em = portal.em();
    if (!options.reuse) await initOrganisation(em, cliAdmin('bench'), { name: 'Bench', publicUrl: 'http://127.0.0.1', helpdeskEmail: 'help@example.nl' });
    const connection = em.getConnection();
    const t = performance.now();
    if (!options.reuse) for (const sql of generateSql(scale)) await connection.execute(sql);
    if (options.keep) console.log(`database kept: ${db.flags['database.url'] ?? '(embedded, in a temporary folder)'}`);
    const data = `${num(scale.parents)} parents, ${num(scale.children)} children, ${num(scale.groups)} groups, ${num(scale.diary)} diary entries, ${num(scale.threads * scale.messagesPerThread)} messages`;
    lines.push(`${title} (scale ${options.factor}: ${data}; ${num(scale.photos / scale.groups)} photos per group per year of history)`);
    lines.push(`data generated in ${secs(performance.now() - t)}`);
    const cookies = await parentSessions(portal, options.sessions, scale.parents);

    const env: Record<string, string> = { PORTAL_LOG_LEVEL: 'warn' };
    if (db.flags['database.url']) env['PORTAL_DATABASE_URL'] = String(db.flags['database.url']);
    env['PORTAL_DATA_DIR'] = String(db.flags['dataDir']);
    server = await startServer(env);
    const base = `http://127.0.0.1:${server.port}`;
    let have = ((await connection.execute('select count(*)::int as n from photo')) as { n: number }[])[0]!.n;
    for (const history of options.histories) {
      const target = scale.photos * history;
      if (target > have) {
        const t2 = performance.now();
        for (let from = have + 1; from <= target; from += 1_000_000) {
          for (const sql of photosSql(scale, from, Math.min(target, from + 999_999))) await connection.execute(sql);
        }
        await connection.execute('analyze photo');
        await connection.execute('analyze photo_tag');
        lines.push(`  (history ${history}x: ${num(target - have)} older photos added in ${secs(performance.now() - t2)})`);
        have = target;
      }
      console.error(`history ${history}x: ${num(have)} photos`);
      lines.push(...(await measure({ base, cookies, portal, history, options })));
    }
    console.log(lines.join('\n'));
  } finally {
    server?.stop();
    await portal.close();
    await new Promise((r) => setTimeout(r, 500));
    if (!options.keep) await db.drop().catch(() => {});
  }
}

export const row = (label: string, history: number, photos: number, ours: Run, ceiling: Run, target: number): string =>
  `${label.padEnd(8)}${`${history}x`.padStart(4)} ${num(photos).padStart(10)} photos  ${ours.rps.toFixed(0).padStart(6)} req/s p99 ${String(ours.p99).padStart(4)} ms | ceiling ${ceiling.rps
    .toFixed(0)
    .padStart(6)} req/s p99 ${String(ceiling.p99).padStart(4)} ms | ratio ${(ours.rps / ceiling.rps).toFixed(2)}x (target >= ${target}x, p99 <= 50 ms)`;

async function main() {
  await historyBench('home page: GET / as random parents beside GET /bench/one-query, 32 connections, alternating rounds', async ({ base, cookies, portal, history, options }) => {
    // Warm up both paths (connection pool, compiled templates).
    await cannon(`${base}/`, cookies.slice(0, 50), HTML, 2).catch(() => undefined);
    const run = await interleaved(
      () => cannon(`${base}/`, cookies, HTML, options.seconds),
      () => cannon(`${base}/bench/one-query`, cookies, 'application/json', options.seconds),
      options.rounds,
    );
    const out = [row('home', history, options.scale.photos * history, run.ours, run.ceiling, 0.5)];
    if (history === options.histories.at(-1)) {
      // The plan of the home statement for one parent with two children, unread count included.
      const parent = { kind: 'parent' as const, parentId: 1, label: 'bench' };
      const { sql, params } = parentHomeQuery(1, portal.clock.today(), parentUnreadSql(portal.em(), parent));
      const plan = (await portal.em().getConnection().execute(`explain (analyze, buffers, costs off) ${sql}`, params)) as { 'QUERY PLAN': string }[];
      out.push('', `plan of the home statement (parent 1, two children, ${history}x history):`, ...plan.map((r) => `  ${r['QUERY PLAN']}`));
    }
    return out;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
