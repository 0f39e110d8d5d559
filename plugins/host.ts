import { z } from 'zod';
import type { Logger } from '../core/log.ts';
import type { Portal } from '../core/portal.ts';
import { installedPlugins } from './index.ts';
import type { PortalPlugin } from './types.ts';

/**
 * Loading plugins: each one's settings validated by its own schema, each failure logged and
 * that plugin skipped, never the portal. Entities and migrations come from every installed
 * plugin (enabled or not): the database schema follows the code, not the configuration.
 */

const ID = /^[a-z][a-z0-9-]{1,30}$/;

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v)));

/** An installed plugin that loaded and is switched on, with its validated settings. */
export interface ActivePlugin {
  plugin: PortalPlugin;
  config: Readonly<Record<string, unknown> & { enabled: true }>;
}

export function pluginSettingsSchema(plugin: PortalPlugin): z.ZodType<Record<string, unknown> & { enabled: boolean }> {
  return (plugin.configSchema ?? z.object({})).extend({ enabled: bool.default(true) }).strict() as never;
}

/** Parses `plugins.<id>` for one plugin; throws with every problem listed. */
export function parsePluginSettings(plugin: PortalPlugin, raw: unknown): Record<string, unknown> & { enabled: boolean } {
  const result = pluginSettingsSchema(plugin).safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k].join('.')) : [i.path.join('.')];
      return keys.map((k) => `plugins.${plugin.id}.${k}: ${i.code === 'unrecognized_keys' ? 'unknown setting' : i.message}`);
    });
    throw new Error(`invalid settings: ${problems.flat().join('; ')}`);
  }
  return result.data;
}

/**
 * The plugins to run: installed, well-formed, valid settings, enabled. Settings for a plugin
 * that is not installed are reported (a typo would otherwise silently do nothing).
 */
export function activatePlugins(
  installed: readonly PortalPlugin[],
  settings: Readonly<Record<string, unknown>>,
  log: Logger,
): ActivePlugin[] {
  const active: ActivePlugin[] = [];
  const seen = new Set<string>();
  for (const plugin of installed) {
    try {
      if (!ID.test(plugin.id)) throw new Error('id must be lowercase letters, digits and dashes');
      if (seen.has(plugin.id)) throw new Error('another plugin has the same id');
      seen.add(plugin.id);
      for (const lang of ['nl', 'en'] as const) {
        for (const key of Object.keys(plugin.messages?.[lang] ?? {})) {
          if (!key.startsWith(`${plugin.id}.`)) throw new Error(`text key ${key} must start with "${plugin.id}."`);
        }
      }
      const config = parsePluginSettings(plugin, settings[plugin.id]);
      if (config.enabled) active.push({ plugin, config: Object.freeze({ ...config, enabled: true as const }) });
    } catch (err) {
      log.error(`plugin ${plugin.id}: not loaded: ${(err as Error).message}`);
    }
  }
  for (const id of Object.keys(settings)) {
    if (!installed.some((p) => p.id === id)) log.warn(`plugins.${id}: no plugin with that id is installed`);
  }
  return active;
}

/** Starts each active plugin's background work (server only); a failure is logged, not fatal. */
export async function startPluginWork(portal: Portal, installed: readonly PortalPlugin[] = installedPlugins): Promise<void> {
  for (const { plugin, config } of activatePlugins(installed, portal.config.plugins, portal.log)) {
    if (!plugin.start) continue;
    try {
      await plugin.start({ id: plugin.id, portal, config, log: portal.log });
    } catch (err) {
      portal.log.error(`plugin ${plugin.id}: background work not started: ${(err as Error).message}`);
    }
  }
}
