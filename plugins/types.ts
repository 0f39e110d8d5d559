import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import type { Command } from 'commander';
import type { Hono } from 'hono';
import type { z } from 'zod';
import type { CommandAction } from '../cli/command-context.ts';
import type { CliIO } from '../cli/io.ts';
import type { Actor } from '../core/actor.ts';
import type { Logger } from '../core/log.ts';
import type { Portal } from '../core/portal.ts';
import type { ApiModule } from '../http/api/deps.ts';
import type { AppEnv, AuthedEnv, WebContext } from '../http/env.ts';
import type { LocationSection } from '../http/location-sections.ts';
import type { Pages } from '../http/render.ts';

/** What a plugin adds to the database: split out, so opening the database loads only this. */
export type PluginSchema = Required<Pick<PortalPlugin, 'entities' | 'migrations'>>;

/**
 * The plugin contract (DESIGN.md "Plugins"). A plugin is a plain object listed in
 * plugins/index.ts. What it may touch: its own routes under /p/<id>, its own commands under
 * `portal <id> …`, its own templates (`@<id>/…`), texts (keys `<id>.…`), entities and
 * migrations, and core's services through the context, always with the acting Actor.
 */
export interface PortalPlugin<Config extends object = Record<string, unknown>> {
  /** Lowercase letters, digits and dashes. Routes mount at /p/<id>, config at plugins.<id>. */
  id: string;
  /**
   * The settings of `plugins.<id>` besides `enabled` (which the host adds: default true).
   * A plugin whose settings do not validate is logged and skipped; the portal still starts.
   */
  configSchema?: z.ZodObject;
  /** Added to the ORM after core's entities (whether the plugin is enabled or not). */
  entities?: EntitySchema[];
  /**
   * Added to the migration list after core's, always (enabled or not), so switching a plugin
   * off never makes the database look "ahead" of the code. Name them `Migration<ts><Id>…`.
   */
  migrations?: MigrationObject[];
  /** Navigation entries for this actor (labels are the plugin's own text keys). */
  nav?(actor: Actor): PluginNavItem[];
  /**
   * Routes behind the login gate, mounted at /p/<id> (so `app.get('/')` is /p/<id>). The logged-in
   * session and its actor are there by type: `c.var.session`, `c.var.actor`.
   */
  routes?(app: Hono<AuthedEnv>, ctx: PluginContext<Config>): void;
  /** Routes anyone may reach (before the login gate), also mounted at /p/<id>. Keep them few. */
  publicRoutes?(app: Hono<AppEnv>, ctx: PluginContext<Config>): void;
  /**
   * Sections this plugin adds to Mijn vestiging, asked once per location on the page (the FAQ
   * adds its questions). A section that throws is logged and left out; the page still shows.
   */
  locationSections?(ctx: PluginContext<Config>): LocationSection[];
  /**
   * Operations of the app API (/api/v1), registered like core's areas (createRoute with zod
   * schemas, so they appear in the OpenAPI document and reference). Paths start with `/<id>`.
   * They are registered behind the API's token gate (`c.var.api` is always there); a plugin has
   * no public operations. Give each a unique camelCase `operationId`.
   */
  api?(ctx: PluginContext<Config>): ApiModule;
  /** The page the Help link leads to, relative to /p/<id> (e.g. "/"); at most one plugin. */
  helpPath?: string;
  /** Subcommands of `portal <id>`; the command is registered for every installed plugin. */
  commands?(program: Command, ctx: PluginCommandContext): void;
  /** Absolute folder of templates, rendered as `@<id>/<path without .eta>`. */
  views?: string;
  /** Texts by language; every key starts with `<id>.`. */
  messages?: { nl: Record<string, string>; en: Record<string, string> };
  /** Background work of a running server (mail workers); started after core's. */
  start?(ctx: PluginWorkerContext<Config>): Promise<void>;
}

export interface PluginNavItem {
  href: string;
  /** A text key of the plugin (`<id>.…`). */
  label: string;
}

/** What a plugin's routes and workers get: core's services, its own settings, the pages. */
export interface PluginContext<Config extends object = Record<string, unknown>> {
  id: string;
  portal: Portal;
  config: Readonly<Config & { enabled: boolean }>;
  log: Logger;
  pages: Pages;
  /**
   * The acting Actor of a request on a public route: the logged-in session's, or undefined.
   * (Behind the gate, in `routes`, read `c.var.actor`: it is always there.)
   */
  actor(c: WebContext): Actor | undefined;
  /** Where the plugin's routes are mounted: /p/<id>. */
  base: string;
}

/** What a plugin's background work gets (no request, no pages). */
export type PluginWorkerContext<Config extends object = Record<string, unknown>> = Pick<
  PluginContext<Config>,
  'id' | 'portal' | 'config' | 'log'
>;

export interface PluginCommandContext {
  io: CliIO;
  /** cli/context.ts's action(): hands the command a context with withPortal, out and the admin Actor. */
  action: CommandAction;
  /** Throws a usage error when the plugin is switched off in this configuration. */
  ensureEnabled(config: { plugins: Record<string, Record<string, unknown>> }): void;
}
