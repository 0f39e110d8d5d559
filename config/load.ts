import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type PortalConfig, configSchema, settings } from './schema.ts';

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export interface ConfigProblem {
  key: string;
  value: unknown;
  source: ConfigSource;
  origin: string;
  expected: string;
}

/** Thrown when the configuration cannot be used; lists every problem, not just the first. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems
        .map((p) => `  ${p.key} = ${JSON.stringify(p.value)} (${p.origin}): ${p.expected}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Environment to read PORTAL_* variables from; the caller passes process.env (core never reads it). */
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file; default: $PORTAL_CONFIG, else ./portal.config.json when it exists. */
  file?: string;
  /** Values from command-line flags, keyed by dotted setting key (`server.port`). */
  flags?: Record<string, unknown>;
  cwd?: string;
}

export interface LoadedConfig {
  config: Readonly<PortalConfig>;
  /** Where each explicitly set key came from, for `portal config show`. */
  sources: Record<string, string>;
}

type Tree = Record<string, unknown>;

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

function getPath(tree: unknown, path: PropertyKey[]): unknown {
  let node = tree;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function flatten(tree: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return { [prefix]: tree };
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Merges defaults < config file < PORTAL_* environment variables < flags, validates the result
 * once and returns it frozen. Relative paths (dataDir) are resolved against cwd here, so the
 * rest of the code never depends on the working directory.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const merged: Tree = {};
  const sources: Record<string, string> = {};
  const sourceKind: Record<string, ConfigSource> = {};
  const problems: ConfigProblem[] = [];

  const explicitFile = options.file ?? env['PORTAL_CONFIG'];
  const file = explicitFile ? resolve(cwd, explicitFile) : resolve(cwd, 'portal.config.json');
  if (explicitFile || existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
      throw new ConfigError([
        { key: '(config file)', value: file, source: 'file', origin: 'config file', expected: reason },
      ]);
    }
    for (const [key, value] of Object.entries(flatten(parsed))) {
      setPath(merged, key, value);
      sources[key] = `config file ${file}`;
      sourceKind[key] = 'file';
    }
  }

  for (const s of settings) {
    const value = env[s.env];
    if (value !== undefined && value !== '') {
      setPath(merged, s.key, value);
      sources[s.key] = s.env;
      sourceKind[s.key] = 'env';
    }
  }

  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, key, value);
    sources[key] = 'command-line flag';
    sourceKind[key] = 'flag';
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const paths =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((k) => [...issue.path, k].join('.'))
          : [issue.path.join('.')];
      for (const key of paths) {
        problems.push({
          key,
          value: getPath(merged, key.split('.')),
          source: sourceKind[key] ?? 'default',
          origin: sources[key] ?? 'default',
          expected: issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message,
        });
      }
    }
    throw new ConfigError(problems);
  }

  const config = result.data;
  config.dataDir = resolve(cwd, config.dataDir);
  return { config: deepFreeze(config), sources };
}
