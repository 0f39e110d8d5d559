import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'portal-config-'));

describe('loadConfig', () => {
  it('uses documented defaults', () => {
    const { config } = loadConfig({ env: {}, cwd: dir });
    expect(config.server.port).toBe(3000);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir).toBe(join(dir, 'data'));
  });

  it('merges defaults < file < env < flags, and says where each value came from', () => {
    const file = join(dir, 'portal.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 4000, host: '0.0.0.0' }, log: { level: 'debug' } }));
    const { config, sources } = loadConfig({
      env: { PORTAL_PORT: '5000', PORTAL_LOG_LEVEL: 'warn' },
      flags: { 'server.port': '6000' },
      cwd: dir,
    });
    expect(config.server.port).toBe(6000);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.log.level).toBe('warn');
    expect(sources['server.port']).toBe('command-line flag');
    expect(sources['server.host']).toBe(`config file ${file}`);
    expect(sources['log.level']).toBe('PORTAL_LOG_LEVEL');
  });

  it('is frozen: nothing can change it after start', () => {
    const { config } = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'portal-config-')) });
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('lists every problem at once: key, value, source and what is expected', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'portal-config-'));
    writeFileSync(join(cwd, 'portal.config.json'), JSON.stringify({ server: { prot: 1 } }));
    let error: ConfigError | undefined;
    try {
      loadConfig({ env: { PORTAL_PORT: '99999', PORTAL_DATABASE_URL: 'mysql://x', PORTAL_TRUST_PROXY: 'maybe' }, cwd });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const byKey = Object.fromEntries(error!.problems.map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(['database.url', 'server.port', 'server.prot', 'server.trustProxy']);
    expect(byKey['server.port']).toMatchObject({ value: '99999', origin: 'PORTAL_PORT', expected: expect.stringMatching(/between 0 and 65535/) });
    expect(byKey['database.url']!.expected).toMatch(/postgres:\/\//);
    expect(byKey['server.prot']).toMatchObject({ source: 'file', expected: 'unknown setting' });
  });

  it('names a config file that does not exist', () => {
    expect(() => loadConfig({ env: { PORTAL_CONFIG: 'nope.json' }, cwd: dir })).toThrow(/nope\.json.*file not found/s);
  });
});

describe('diary.lines', () => {
  it('defaults to the five lines, takes a comma-separated list from the environment, refuses doubles', () => {
    const empty = mkdtempSync(join(tmpdir(), 'portal-config-'));
    expect(loadConfig({ env: {}, cwd: empty }).config.diary.lines).toEqual(['Eten en drinken', 'Slapen', 'Verschonen', 'Activiteiten', 'Stemming']);
    const { config } = loadConfig({ env: { PORTAL_DIARY_LINES: ' Eten , Buiten spelen,,' }, cwd: empty });
    expect(config.diary.lines).toEqual(['Eten', 'Buiten spelen']);
    expect(() => loadConfig({ env: { PORTAL_DIARY_LINES: 'Slapen,slapen' }, cwd: empty })).toThrow(/diary\.lines.*labels must differ/s);
  });
});

describe('documentation', () => {
  it('the README documents every setting and its environment variable', async () => {
    const { readFileSync } = await import('node:fs');
    const { settings } = await import('./schema.ts');
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const s of settings) {
      expect(readme, s.key).toContain(`| \`${s.key}\` | \`${s.env}\` |`);
    }
  });
});
