import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { Actor } from '../core/actor.ts';
import type { Portal } from '../core/portal.ts';
import type { ApiModule } from '../http/api/deps.ts';
import type { AppEnv, AuthedEnv } from '../http/env.ts';
import type { LocationSection } from '../http/location-sections.ts';
import type { NavItem } from '../http/nav.ts';
import { type Pages, registerTemplate } from '../http/render.ts';
import { registerMessages } from '../views/i18n/index.ts';
import { type ActivePlugin, activatePlugins } from './host.ts';
import type { PluginContext, PortalPlugin } from './types.ts';

/**
 * The web side of plugins: templates and texts registered, public routes mounted before the
 * login gate and the rest after it, both at /p/<id>. Each plugin is built into its own sub-app
 * first and mounted only when that succeeded, so a plugin that throws leaves no half-registered
 * routes: it is logged and skipped, and the portal runs without it.
 */

export const pluginBase = (id: string) => `/p/${id}`;

function templatesIn(dir: string): { name: string; file: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.eta'))
    .map((f) => ({ name: f.replace(/\\/g, '/').replace(/\.eta$/, ''), file: join(dir, f) }));
}

export interface MountedPlugins {
  /** Navigation entries of every mounted plugin for this actor (a plugin that throws adds none). */
  nav(actor: Actor): NavItem[];
  /** The Help page of a plugin that offers one (absolute path), else undefined. */
  helpHref: string | undefined;
  /** The app API areas of every mounted plugin (after core's in /api/v1). */
  apiModules: ApiModule[];
  /** The Mijn vestiging sections of every mounted plugin. */
  locationSections: LocationSection[];
  /** Mounts the public routes; call before the login gate. */
  mountPublic(app: Hono<AppEnv>): void;
  /** Mounts the routes behind the gate on what the gate returned (http/middleware/session.ts behindLogin). */
  mountPrivate(app: Hono<AuthedEnv>): void;
}

/**
 * Prepares the active plugins for one app. `pages` is read lazily: the renderer needs the
 * navigation from here, and the plugins need the renderer.
 */
export function preparePlugins(portal: Portal, installed: readonly PortalPlugin[], pages: () => Pages): MountedPlugins {
  const ready: {
    active: ActivePlugin;
    ctx: PluginContext;
    publicApp?: Hono<AppEnv>;
    privateApp?: Hono<AuthedEnv>;
    sections: LocationSection[];
    api?: ApiModule;
  }[] = [];
  for (const active of activatePlugins(installed, portal.config.plugins, portal.log)) {
    const { plugin } = active;
    try {
      if (plugin.views) for (const t of templatesIn(plugin.views)) registerTemplate(`@${plugin.id}/${t.name}`, readFileSync(t.file, 'utf8'));
      if (plugin.messages) registerMessages(plugin.messages);
      const ctx: PluginContext = {
        id: plugin.id,
        portal,
        config: active.config,
        log: portal.log,
        get pages() {
          return pages();
        },
        actor: (c) => c.var.session?.actor,
        base: pluginBase(plugin.id),
      };
      let publicApp: Hono<AppEnv> | undefined;
      let privateApp: Hono<AuthedEnv> | undefined;
      if (plugin.publicRoutes) {
        publicApp = new Hono<AppEnv>();
        plugin.publicRoutes(publicApp, ctx);
      }
      if (plugin.routes) {
        privateApp = new Hono<AuthedEnv>();
        plugin.routes(privateApp, ctx);
      }
      const sections = plugin.locationSections?.(ctx) ?? [];
      const api = plugin.api?.(ctx);
      ready.push({ active, ctx, publicApp, privateApp, sections, api });
    } catch (err) {
      portal.log.error(`plugin ${plugin.id}: not loaded: ${(err as Error).message}`);
    }
  }
  const help = ready.find((r) => r.active.plugin.helpPath !== undefined);
  return {
    nav(actor) {
      const items: NavItem[] = [];
      for (const { active } of ready) {
        try {
          // Plugin labels are their own text keys (`<id>.…`), registered above.
          for (const item of active.plugin.nav?.(actor) ?? []) items.push(item as NavItem);
        } catch (err) {
          portal.log.error(`plugin ${active.plugin.id}: navigation failed: ${(err as Error).message}`);
        }
      }
      return items;
    },
    helpHref: help ? `${help.ctx.base}${help.active.plugin.helpPath === '/' ? '' : help.active.plugin.helpPath}` : undefined,
    locationSections: ready.flatMap((r) => r.sections),
    apiModules: ready.flatMap((r) => (r.api ? [r.api] : [])),
    mountPublic(app) {
      for (const r of ready) if (r.publicApp) app.route(r.ctx.base, r.publicApp);
    },
    mountPrivate(app) {
      for (const r of ready) if (r.privateApp) app.route(r.ctx.base, r.privateApp);
    },
  };
}
