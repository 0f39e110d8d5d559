/**
 * The server side of bench/home.ts, in its own process so that load generation is not charged
 * to it: the portal's own app (createApp, as `portal serve` builds it), plus one extra route for
 * the ceiling: `GET /bench/one-query`, behind the same middleware and login gate, doing one
 * indexed query (the parent's row by primary key) and answering a few bytes of JSON.
 * Configured by the same PORTAL_* environment as the portal; prints "listening <port>".
 * BENCH_CPU_PROFILE=FILE writes a V8 CPU profile of the server (open it in Chrome's DevTools)
 * when it stops: where a page's time goes, without the load generator in it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { serve } from '@hono/node-server';
import { loadConfig } from '../config/load.ts';
import { createPortal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { createApp } from '../http/app.ts';

const { config } = loadConfig({ env: process.env, flags: { 'log.level': 'warn' } });
const portal = await createPortal(config, { extensions: installedSchema() });
const app = createApp(portal);
app.get('/bench/one-query', async (c) => {
  const actor = c.var.session!.actor;
  const id = actor.kind === 'parent' ? actor.parentId : 0;
  const rows = (await c.var.em.getConnection().execute('select first_name from parent where id = ?', [id])) as { first_name: string }[];
  return c.json({ name: rows[0]?.first_name ?? null });
});
const profileFile = process.env['BENCH_CPU_PROFILE'];
const profiler = profileFile ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`listening ${info.port}`));
process.on('SIGTERM', async () => {
  if (profiler && profileFile) writeFileSync(profileFile, JSON.stringify((await profiler.post('Profiler.stop')).profile));
  server.close();
  void portal.close().then(() => process.exit(0));
});
