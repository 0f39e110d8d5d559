/**
 * Benchmark of the parent home page at the scale of a large organisation, beside its ceiling in
 * the same run:
 *   - data: 90 locations, 400 groups, 5,000 children, 8,000 parents, 500,000 photos (tagged),
 *     2,000,000 schriftje entries, 300,000 messages in 30,000 threads, 9,800 announcements,
 *     generated in PostgreSQL itself;
 *   - ours: `GET /` as random logged-in parents (session, unread count in the navigation, the
 *     home statement, the page) on the portal's own app in a server process of its own;
 *   - ceiling: `GET /bench/one-query` on the same server: the same middleware and session, one
 *     indexed query, a few bytes of JSON;
 *   autocannon, 32 connections, each request with another parent's cookie. Then the plan of the
 *   home statement (EXPLAIN ANALYZE) for one parent.
 *
 *   PORTAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/home.ts [--seconds 10] [--sessions 2000]
 *     [--keep] [--reuse DATABASE_URL]   (keep the generated data / run again on data kept earlier)
 *
 * Targets: p99 under 50 ms, and at least 33% of the one-query endpoint's throughput.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cliAdmin } from '../core/actor.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { parentHomeQuery } from '../core/home/home.ts';
import { benchPortal, num, secs } from './planning-export.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '2000' },
    // Keep the generated database (its URL is printed) / use one kept earlier: for repeated runs.
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const SESSIONS = Number(values.sessions);

/** What a browser sends for a page (the navigation's unread count is computed for pages only). */
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const SCALE = { locations: 90, groups: 400, children: 5000, parents: 8000, photos: 500_000, diary: 2_000_000, threads: 30_000, messagesPerThread: 10 };

/** Everything in SQL, set-based: a minute instead of an hour of ORM inserts. */
const GENERATE = [
  `insert into location (name, phone, created_at, updated_at)
     select 'Locatie ' || i, '045 ' || lpad(i::text, 6, '0'), now(), now() from generate_series(1, ${SCALE.locations}) i`,
  `insert into care_group (location_id, name, capacity, created_at, updated_at)
     select (i - 1) % ${SCALE.locations} + 1, 'Groep ' || i, 16, now(), now() from generate_series(1, ${SCALE.groups}) i`,
  `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at)
     select 'K' || i, 'Kind' || i, 'Bench', date '2023-01-01' + (i % 700), now(), now() from generate_series(1, ${SCALE.children}) i`,
  `insert into placement (child_id, group_id, start_date, created_at)
     select i, (i - 1) % ${SCALE.groups} + 1, date '2025-01-01', now() from generate_series(1, ${SCALE.children}) i`,
  // 5% of the children without internal consent: their photos are held.
  `insert into consent_record (child_id, internal, external, source, recorded_by, recorded_at)
     select i, i % 20 <> 0, false, 'import', 'bench', now() - interval '1 year' from generate_series(1, ${SCALE.children}) i`,
  `insert into parent (email, first_name, last_name, language, notification_mode, created_at, updated_at)
     select 'ouder' || i || '@example.nl', 'Ouder' || i, 'Bench', 'nl', 'digest', now(), now() from generate_series(1, ${SCALE.parents}) i`,
  // Every child one parent, 3,000 children a second; the first 1,000 parents also a sibling.
  `insert into guardianship (parent_id, child_id, created_at)
     select i, (i - 1) % ${SCALE.children} + 1, now() from generate_series(1, ${SCALE.parents}) i
     union all
     select i, (i + 2499) % ${SCALE.children} + 1, now() from generate_series(1, 1000) i`,
  `insert into account (email, parent_id, password_hash, password_must_change, created_at, updated_at)
     select email, id, 'bench-not-a-hash', false, now(), now() from parent`,
  `insert into photo (id, group_id, caption, state, taken_at, uploaded_at, original_key, display_key, thumb_key, width, height, no_child_confirmed)
     select gen_random_uuid(), (i - 1) % ${SCALE.groups} + 1, null, 'ready',
            now() - (i % 365) * interval '1 day' - (i % 600) * interval '1 minute',
            now() - (i % 365) * interval '1 day', repeat('a', 64), repeat('b', 64), repeat('c', 64), 1600, 1200, false
       from generate_series(1, ${SCALE.photos}) i`,
  // One child of the photo's group in each photo (children of group g are g, g+400, g+800, ...).
  `insert into photo_tag (photo_id, child_id, tagged_by, created_at)
     select p.id, c.id, 'bench', now()
       from (select id, group_id, row_number() over () as n from photo) p
       join lateral (select id from child where (id - 1) % ${SCALE.groups} + 1 = p.group_id
                      order by id offset (p.n % 12) limit 1) c on true`,
  `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
     select gen_random_uuid(), c, current_date - d, 'staff', 'Mia',
            'Vandaag goed gespeeld in de zandbak, lekker gegeten en een uur geslapen. Bij het ophalen was ze vrolijk.',
            '[{"label":"Slapen","text":"12:30-13:30"}]'::jsonb, '[]'::jsonb, 1, now() - d * interval '1 day', now() - d * interval '1 day'
       from generate_series(1, ${SCALE.children}) c, generate_series(0, ${SCALE.diary / SCALE.children - 1}) d`,
  `insert into message_thread (id, group_id, child_id, subject, started_by_id, created_at, last_message_at, last_parent_message_at, last_staff_message_at)
     select gen_random_uuid(), (c - 1) % ${SCALE.groups} + 1, c, 'Vraag ' || i, null,
            now() - (i % 300) * interval '1 day', now() - (i % 300) * interval '1 day', now() - (i % 300) * interval '1 day',
            now() - (i % 300) * interval '1 day' + interval '2 hours'
       from generate_series(1, ${SCALE.threads}) i, lateral (select (i - 1) % ${SCALE.children} + 1 as c) x`,
  `insert into message (thread_id, author_side, author_label, body, created_at)
     select t.id, case when m % 2 = 0 then 'parent' else 'staff' end, 'bench', 'Bericht ' || m, t.created_at + m * interval '10 minutes'
       from message_thread t, generate_series(1, ${SCALE.messagesPerThread}) m`,
  // Most conversations read by the child's parents; a third have an unread reply.
  `insert into message_read (thread_id, parent_id, read_at)
     select t.id, g.parent_id, t.last_staff_message_at + interval '1 hour'
       from message_thread t join guardianship g on g.child_id = t.child_id
      where abs(hashtext(t.id::text)) % 3 <> 0
     on conflict do nothing`,
  `insert into announcement (id, location_id, group_id, author_label, subject, body, email_copy, created_at)
     select gen_random_uuid(), l, null, 'Locatiemanager', 'Mededeling ' || i, 'Tekst', false, now() - i * interval '3 days'
       from generate_series(1, ${SCALE.locations}) l, generate_series(1, 20) i
     union all
     select gen_random_uuid(), (g - 1) % ${SCALE.locations} + 1, g, 'Groep', 'Groepsbericht ' || i, 'Tekst', false, now() - i * interval '2 days'
       from generate_series(1, ${SCALE.groups}) g, generate_series(1, 20) i`,
  'analyze',
];

function startServer(env: Record<string, string>): Promise<{ port: number; stop: () => void }> {
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

async function cannon(url: string, cookies: string[], accept: string) {
  let i = 0;
  const result = await autocannon({
    url,
    connections: 32,
    duration: SECONDS,
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

async function main() {
  const { db, portal } = await benchPortal(values.reuse);
  const lines: string[] = [];
  let server: { port: number; stop: () => void } | undefined;
  try {
    const em = portal.em();
    if (!values.reuse) await initOrganisation(em, cliAdmin('bench'), { name: 'Bench', publicUrl: 'http://127.0.0.1', helpdeskEmail: 'help@example.nl' });
    const connection = em.getConnection();
    const t = performance.now();
    if (!values.reuse) for (const sql of GENERATE) await connection.execute(sql);
    if (values.keep) console.log(`database kept: ${db.flags['database.url'] ?? '(embedded, in a temporary folder)'}`);
    const data = `${num(SCALE.parents)} parents, ${num(SCALE.children)} children, ${num(SCALE.photos)} photos, ${num(SCALE.diary)} diary entries, ${num(SCALE.threads * SCALE.messagesPerThread)} messages`;
    lines.push(`data          ${data}: ${values.reuse ? 'reused' : `generated in ${secs(performance.now() - t)}`}`);

    // Sessions for random parents, made as login makes them (only the token's hash is stored).
    const cookies: string[] = [];
    const rows: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const token = randomBytes(32).toString('base64url');
      const parentId = 1 + Math.floor(Math.random() * SCALE.parents);
      cookies.push(`portal-session=${token}`);
      rows.push(`('${createHash('sha256').update(token).digest('hex')}', ${parentId})`);
    }
    await connection.execute(
      `insert into session (id_hash, account_id, created_at, last_seen_at, expires_at, second_factor_pending)
       select v.h, a.id, now(), now(), now() + interval '12 hours', false
         from (values ${rows.join(',')}) v(h, p) join account a on a.parent_id = v.p`,
    );

    const env: Record<string, string> = { PORTAL_LOG_LEVEL: 'warn' };
    if (db.flags['database.url']) env['PORTAL_DATABASE_URL'] = String(db.flags['database.url']);
    env['PORTAL_DATA_DIR'] = String(db.flags['dataDir']);
    server = await startServer(env);
    const base = `http://127.0.0.1:${server.port}`;
    // Warm up both paths (connection pool, compiled templates).
    await cannon(`${base}/`, cookies.slice(0, 50), HTML).catch(() => undefined);
    const ceiling = await cannon(`${base}/bench/one-query`, cookies, 'application/json');
    const ours = await cannon(`${base}/`, cookies, HTML);
    lines.push(
      `home page     ${ours.rps.toFixed(0)} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms (GET / as ${num(SESSIONS)} random parents, 32 connections, ${SECONDS} s)`,
      `  ceiling     ${ceiling.rps.toFixed(0)} req/s, p50 ${ceiling.p50} ms, p99 ${ceiling.p99} ms (GET /bench/one-query: same server and session, one indexed query)`,
      `  ratio       ${((ours.rps / ceiling.rps) * 100).toFixed(1)}% of the one-query endpoint (target >= 33%, p99 < 50 ms)`,
    );

    // The plan of the home statement for one parent with two children.
    const { sql, params } = parentHomeQuery(1, portal.clock.today());
    const plan = (await connection.execute(`explain (analyze, buffers, costs off) ${sql}`, params)) as { 'QUERY PLAN': string }[];
    lines.push('', 'plan of the home statement (parent 1, two children):', ...plan.map((r) => `  ${r['QUERY PLAN']}`));
    console.log(lines.join('\n'));
  } finally {
    server?.stop();
    await portal.close();
    await new Promise((r) => setTimeout(r, 500));
    if (!values.keep) await db.drop().catch(() => {});
  }
}

await main();
