/**
 * Benchmark of the parent's album as the photo history grows: the organisation of bench/home.ts
 * (same data, same server, same sessions) with 1x, 5x and 10x its year of photos (older photos
 * added between the runs), and at each
 *   - ours: `GET /fotos` as random logged-in parents (the first page and the page read ahead
 *     for its "meer laden" link, the child switcher, the layout), and `GET /fotos?voor=` a page
 *     deep in the history (a year back);
 *   - ceiling: `GET /bench/one-query` on the same server (same middleware and session, one
 *     indexed query), in alternating rounds with ours, median of the rounds.
 * And the album's statements alone (parentAlbum in this process) for 100 random parents.
 *
 *   PORTAL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/album.ts [--scale 1] [--histories 1,5,10]
 *     [--seconds 10] [--rounds 3] [--sessions 2000] [--keep] [--reuse DATABASE_URL]
 *
 * Targets: at least 33% of the one-query endpoint, p99 under 50 ms, and a p99 that does not grow
 * with the history.
 */
import { parentAlbum } from '../core/photos/visibility.ts';
import { cannon, HTML, historyBench, interleaved, row } from './home.ts';

await historyBench('album: GET /fotos as random parents beside GET /bench/one-query, 32 connections, alternating rounds', async ({ base, cookies, portal, history, options }) => {
  await cannon(`${base}/fotos`, cookies.slice(0, 50), HTML, 2).catch(() => undefined);
  const first = await interleaved(
    () => cannon(`${base}/fotos`, cookies, HTML, options.seconds),
    () => cannon(`${base}/bench/one-query`, cookies, 'application/json', options.seconds),
    options.rounds,
  );
  // A page a year back ("meer laden" many times, or a link kept): the cursor is a year ago.
  const yearAgo = new Date(portal.clock.now().getTime() - 365 * 86_400_000).toISOString();
  const deep = await interleaved(
    () => cannon(`${base}/fotos?voor=${encodeURIComponent(`${yearAgo}_ffffffff-ffff-ffff-ffff-ffffffffffff`)}`, cookies, HTML, options.seconds),
    () => cannon(`${base}/bench/one-query`, cookies, 'application/json', options.seconds),
    options.rounds,
  );
  const photos = options.scale.photos * history;
  const out = [row('album', history, photos, first.ours, first.ceiling, 0.33), row('  -1 yr', history, photos, deep.ours, deep.ceiling, 0.33)];
  // The album's statements alone, in this process: median and slowest of 100 random parents' first pages.
  const em = portal.em();
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const actor = { kind: 'parent' as const, parentId: 1 + Math.floor(Math.random() * options.scale.parents), label: 'bench' };
    const t = performance.now();
    await parentAlbum(em.fork(), actor, { limit: 30 });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  out.push(`  parentAlbum in process: median ${times[50]!.toFixed(1)} ms, slowest ${times[99]!.toFixed(1)} ms (first page, 100 random parents)`);
  return out;
});
