import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contrast, DARK_ACCENT_TEXT, DARK_SURFACE, darkModeAccent, parseHex } from '../config/colours.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { initOrganisation } from '../core/directory/organisation.ts';
import { runCli } from '../test/cli.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { createApp } from './app.ts';
import { type Branding, loadBranding } from './branding.ts';

/**
 * The organisation's own name, logo and accent colour (UI.md): checked when the portal starts,
 * re-encoded so nothing but pixels reaches a parent, and readable in light and dark mode.
 */

const dir = mkdtempSync(join(tmpdir(), 'portal-branding-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const SVG_WITH_SCRIPT = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100" viewBox="0 0 400 100">
  <script>alert(document.cookie)</script>
  <rect width="400" height="100" fill="#8a1c4a"/><circle cx="50" cy="50" r="30" fill="#fff"/>
</svg>`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('branding settings', () => {
  const load = (accentColour: string) => loadConfig({ env: {}, flags: { 'branding.accentColour': accentColour } });

  it('takes a dark enough accent colour and refuses one links would be unreadable in', () => {
    expect(load('#8a1c4a').config.branding.accentColour).toBe('#8a1c4a');
    let error: unknown;
    try {
      load('#ffcc00');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/branding\.accentColour = "#ffcc00".*too light.*1\.\d:1 on white, at least 4\.5:1/);
    expect(() => load('rood')).toThrow(/"rood" is not a colour like #1d5c63/);
  });

  it('derives a dark-mode shade that reads on the dark surface and under dark button text', () => {
    for (const accent of ['#8a1c4a', '#1d5c63', '#000000', '#0b3d91', '#5a2d82', '#7a4a00']) {
      const dark = parseHex(darkModeAccent(accent))!;
      expect(contrast(dark, parseHex(DARK_SURFACE)!), accent).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark, parseHex(DARK_ACCENT_TEXT)!), accent).toBeGreaterThanOrEqual(4.5);
    }
    // The hue stays: a wine-red accent gives a lighter wine red, not grey or white.
    const [r, g, b] = parseHex(darkModeAccent('#8a1c4a'))!;
    expect(r).toBeGreaterThan(g);
    expect(r).toBeGreaterThan(b);
  });
});

describe('the logo', () => {
  it('an SVG is rendered to a PNG within the header box: its script never reaches a browser', async () => {
    const { logo } = await loadBranding({ logo: file('logo.svg', SVG_WITH_SCRIPT) });
    const bytes = Buffer.from(logo!.body);
    expect(logo!.contentType).toBe('image/png');
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(bytes.includes(Buffer.from('alert'))).toBe(false);
    expect({ width: logo!.width, height: logo!.height }).toEqual({ width: 400, height: 100 });
    expect(logo!.url).toMatch(/^\/assets\/logo\.[0-9a-f]{12}\.png$/);
  });

  it('a camera JPEG loses its EXIF and GPS, and a large one is scaled down to fit', async () => {
    const jpeg = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: '#1d5c63' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'Canon', Artist: 'Alice' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 0/1' },
      })
      .toBuffer();
    expect(await exifr.gps(jpeg)).toBeTruthy();
    const { logo } = await loadBranding({ logo: file('logo.jpg', jpeg) });
    const out = Buffer.from(logo!.body);
    expect(await exifr.gps(out)).toBeUndefined();
    expect((await sharp(out).metadata()).exif).toBeUndefined();
    for (const word of ['Canon', 'Alice']) expect(out.includes(Buffer.from(word)), word).toBe(false);
    expect({ width: logo!.width, height: logo!.height }).toEqual({ width: 720, height: 240 });
  });

  it('a missing file or one that is no image is a configuration error naming the file', async () => {
    const missing = join(dir, 'nergens.png');
    await expect(loadBranding({ logo: missing }, { 'branding.logo': 'PORTAL_BRANDING_LOGO' })).rejects.toThrow(
      new RegExp(`branding\\.logo = "${missing}" \\(PORTAL_BRANDING_LOGO\\): cannot be read \\(ENOENT\\)`),
    );
    const text = file('logo.png', 'dit is geen plaatje');
    await expect(loadBranding({ logo: text })).rejects.toBeInstanceOf(ConfigError);
    await expect(loadBranding({ logo: text })).rejects.toThrow(/is not a PNG, JPEG, WebP or SVG image/);
  });

  it('`portal serve` with a broken logo stops with exit code 2 before it opens a database', async () => {
    const dataDir = join(dir, 'serve-data');
    const run = await runCli(['serve', '--port', '0'], {
      PORTAL_DATA_DIR: dataDir,
      PORTAL_BRANDING_LOGO: file('kapot.png', 'geen png'),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/branding\.logo = ".*kapot\.png" \(PORTAL_BRANDING_LOGO\): is not a PNG, JPEG, WebP or SVG image/);
    expect(run.stdout).not.toContain('running at');
    // No embedded database was created for a start that was refused.
    expect(readdirOrEmpty(dataDir)).toEqual([]);
  });
});

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

describe('pages and the app with the organisation\'s branding', () => {
  let portal: TestPortal;
  let branding: Branding;

  beforeAll(async () => {
    portal = await createTestPortal();
    await initOrganisation(portal.em(), admin, {
      name: 'Kinderopvang De Boomgaard',
      publicUrl: 'https://ouders.example.nl',
      helpdeskEmail: 'helpdesk@example.nl',
    });
    branding = await loadBranding({ name: 'Boomgaard Ouders', accentColour: '#8a1c4a', logo: file('page-logo.svg', SVG_WITH_SCRIPT) });
  });
  afterAll(() => portal.destroy());

  it('every page shows the name and the logo, and inlines the colours after our stylesheet', async () => {
    const app = createApp(portal, { branding, publicUrl: 'https://ouders.example.nl' });
    const html = await (await app.request('https://ouders.example.nl/login')).text();
    expect(html).toContain(`<img class="site-logo" src="${branding.logo!.url}" width="400" height="100" alt="">`);
    expect(html).toMatch(/<span>Boomgaard Ouders<\/span>/);
    expect(html).toMatch(/<title>[^<]+ · Boomgaard Ouders<\/title>/);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    // Inlined minified: "prefers-color-scheme:dark", "--accent:#8a1c4a".
    const portalCss = style.search(/prefers-color-scheme:\s*dark/);
    const themeCss = style.search(/--accent:\s*#8a1c4a/);
    expect(portalCss).toBeGreaterThan(-1);
    expect(themeCss).toBeGreaterThan(portalCss);

    const logo = await app.request(`https://ouders.example.nl${branding.logo!.url}`);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('Content-Type')).toBe('image/png');
    expect(logo.headers.get('Cache-Control')).toContain('immutable');
    expect(Buffer.from(await logo.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);

    const theme = await (await app.request(`https://ouders.example.nl${branding.theme!.url}`)).text();
    expect(theme).toContain('--accent: #8a1c4a;');
    expect(theme).toContain(`--accent: ${darkModeAccent('#8a1c4a')}; --accent-text: ${DARK_ACCENT_TEXT};`);
  });

  it('the well-known file gives an app the name, the logo as an absolute URL and the colour', async () => {
    const app = createApp(portal, { branding, publicUrl: 'https://ouders.example.nl' });
    const body = await (await app.request('https://ouders.example.nl/.well-known/ouderportaal.json')).json();
    expect(body).toMatchObject({
      name: 'Boomgaard Ouders',
      logoUrl: `https://ouders.example.nl${branding.logo!.url}`,
      accentColour: '#8a1c4a',
    });
  });

  it('without branding: our name, no logo, no extra stylesheet, and no logo route', async () => {
    const app = createApp(portal, { publicUrl: 'https://ouders.example.nl' });
    const html = await (await app.request('https://ouders.example.nl/login')).text();
    expect(html).not.toContain('class="site-logo"');
    expect(html).not.toContain('/assets/theme.css');
    expect(html).not.toContain('--accent: #8a1c4a;');
    expect(html).toContain('<span>Kinderopvang De Boomgaard</span>');
    expect((await app.request('https://ouders.example.nl/assets/logo.png')).status).not.toBe(200);
    const body = await (await app.request('https://ouders.example.nl/.well-known/ouderportaal.json')).json();
    expect(body).toMatchObject({ name: 'Kinderopvang De Boomgaard', logoUrl: null, accentColour: null });
  });
});
