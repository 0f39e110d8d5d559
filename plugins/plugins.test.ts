import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.ts';
import { type AppEnv, createApp } from '../http/app.ts';
import { seedAccount, TestBrowser } from '../http/testing.ts';
import { createTestPortal, type TestPortal } from '../test/portal.ts';
import { activatePlugins } from './host.ts';
import type { PortalPlugin } from './types.ts';

/**
 * The plugin contract from the outside: routes at /p/<id> behind the login gate unless
 * declared public, a switched-off plugin is not there at all, a plugin that throws is logged
 * and skipped while the portal runs on, navigation per role, templates as @<id>/…, settings
 * validated by the plugin's own schema, commands under `portal <id>`.
 */

const demo: PortalPlugin<{ greeting: string }> = {
  id: 'demo',
  configSchema: z.object({ greeting: z.string().default('Hallo') }),
  views: fileURLToPath(new URL('./fixtures/demo-views/', import.meta.url)),
  messages: { nl: { 'demo.title': 'Demo', 'demo.nav': 'Demo' }, en: { 'demo.title': 'Demo', 'demo.nav': 'Demo' } },
  nav: (actor) => (actor.kind === 'parent' ? [] : [{ href: '/p/demo', label: 'demo.nav' }]),
  routes(app, ctx) {
    app.get('/', (c) => ctx.pages.render(c, '@demo/pages/hello', { who: `${ctx.config.greeting} ${ctx.actor(c)?.kind}` }));
  },
  publicRoutes(app) {
    app.get('/open', (c) => c.text('open for everyone'));
  },
};
const off: PortalPlugin = { id: 'off', routes: (app) => app.get('/', (c) => c.text('should not be here')) };
const broken: PortalPlugin = {
  id: 'broken',
  routes(app) {
    app.get('/', (c) => c.text('half registered'));
    throw new Error('cannot find its settings');
  },
};
const brokenNav: PortalPlugin = {
  id: 'brokennav',
  nav() {
    throw new Error('nav exploded');
  },
};

let portal: TestPortal;
let app: Hono<AppEnv>;
const logged: string[] = [];

beforeAll(async () => {
  portal = await createTestPortal(
    { 'plugins.off.enabled': false, 'plugins.demo.greeting': 'Goedemorgen' },
    { log: createLogger('warn', (line) => logged.push(line)) },
  );
  app = createApp(portal, {
    plugins: [demo as PortalPlugin, off, broken, brokenNav],
    throttle: { accountIp: { points: 1000, seconds: 60 }, ip: { points: 1000, seconds: 60 } },
  });
  await seedAccount(portal, { email: 'ouder@example.nl', password: 'een lang wachtwoord 1', kind: 'parent' });
  await seedAccount(portal, { email: 'leid@example.nl', password: 'een lang wachtwoord 2', kind: 'staff' });
});
afterAll(async () => {
  await portal?.destroy();
});

async function as(email: string, password: string): Promise<TestBrowser> {
  const b = new TestBrowser(app);
  expect((await b.login(email, password)).status).toBe(303);
  return b;
}

describe('plugin routes', () => {
  it('are behind the login gate: anonymous is sent to /login', async () => {
    const res = await new TestBrowser(app).get('/p/demo');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toMatch(/^\/login/);
  });

  it('a route the plugin declares public answers without a login', async () => {
    const res = await new TestBrowser(app).get('/p/demo/open');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('open for everyone');
  });

  it('render the plugin template with its settings and the acting Actor', async () => {
    const b = await as('leid@example.nl', 'een lang wachtwoord 2');
    const res = await b.get('/p/demo');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<p class="who">Goedemorgen staff</p>');
    expect(html).toContain('<title>Demo ·');
  });

  it('of a switched-off plugin are 404, also when logged in', async () => {
    const b = await as('ouder@example.nl', 'een lang wachtwoord 1');
    expect((await b.get('/p/off')).status).toBe(404);
  });

  it('a plugin that throws while loading is skipped and logged; the portal serves the rest', async () => {
    const b = await as('ouder@example.nl', 'een lang wachtwoord 1');
    expect((await b.get('/p/broken')).status).toBe(404); // not even the route it added before throwing
    expect((await b.get('/')).status).toBe(200);
    expect(logged.some((l) => l.includes('plugin broken: not loaded: cannot find its settings'))).toBe(true);
  });
});

describe('without a help plugin', () => {
  it('the Help link and /help show the helpdesk address page, as before', async () => {
    const b = new TestBrowser(app);
    expect(await (await b.get('/login')).text()).toContain('href="/help?from=%2Flogin"');
    const help = await b.get('/help?from=/login');
    expect(help.status).toBe(200);
    expect(await help.text()).toContain('<h1>Help</h1>');
  });
});

describe('plugin navigation', () => {
  it('appears for the role it is meant for, not for the others; a nav that throws is logged', async () => {
    const staff = await (await as('leid@example.nl', 'een lang wachtwoord 2')).get('/');
    expect(await staff.text()).toMatch(/<a href="\/p\/demo"[^>]*>Demo<\/a>/);
    const parent = await (await as('ouder@example.nl', 'een lang wachtwoord 1')).get('/');
    expect(parent.status).toBe(200);
    expect(await parent.text()).not.toContain('href="/p/demo"');
    expect(logged.some((l) => l.includes('plugin brokennav: navigation failed'))).toBe(true);
  });
});

describe('plugin settings', () => {
  it('are validated by the plugin schema: a bad one skips that plugin only; an unknown plugin is reported', () => {
    const lines: string[] = [];
    const log = createLogger('warn', (l) => lines.push(l));
    const active = activatePlugins([demo as PortalPlugin, off], { demo: { greeting: 42 }, typo: {} }, log);
    expect(active.map((a) => a.plugin.id)).toEqual(['off']);
    expect(lines.join('')).toMatch(/plugin demo: not loaded: invalid settings: plugins\.demo\.greeting/);
    expect(lines.join('')).toMatch(/plugins\.typo: no plugin with that id is installed/);
  });

  it('enabled defaults to on and accepts "false" as off', () => {
    const log = createLogger('silent');
    expect(activatePlugins([off], {}, log)).toHaveLength(1);
    expect(activatePlugins([off], { off: { enabled: 'false' } }, log)).toHaveLength(0);
  });
});

describe('plugin commands', () => {
  it('live under `portal <id>`', async () => {
    let out = '';
    const io = { stdout: (s: string) => (out += s), stderr: () => {}, env: {}, cwd: process.cwd(), isTTY: false, stdin: '' };
    const withCommand: PortalPlugin = {
      id: 'demo',
      commands(program) {
        program.command('ping').action(() => {
          io.stdout('pong\n');
        });
      },
    };
    const { createProgram } = await import('../cli/program.ts');
    const program = createProgram(io as never, [withCommand]);
    await program.parseAsync(['demo', 'ping'], { from: 'user' });
    expect(out).toBe('pong\n');
  });
});

describe('the plugins’ schema', () => {
  it('plugins/schema.ts names exactly the entities and migrations the installed plugins declare, in their order', async () => {
    const { installedPlugins } = await import('./index.ts');
    const { installedSchema } = await import('./schema.ts');
    const declared = {
      entities: installedPlugins.flatMap((p) => p.entities ?? []),
      migrations: installedPlugins.flatMap((p) => p.migrations ?? []),
    };
    expect(declared.migrations.length).toBeGreaterThan(0);
    expect(installedSchema().entities).toEqual(declared.entities);
    expect(installedSchema().migrations.map((m) => m.name)).toEqual(declared.migrations.map((m) => m.name));
  });
});
