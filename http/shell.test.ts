import { loadAssets } from './assets.ts';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrganisation } from '../core/directory/organisation.ts';
import { admin, createTestPortal, type TestPortal } from '../test/portal.ts';
import { type AppEnv, createApp } from './app.ts';
import { loadBranding } from './branding.ts';
import { chooseEncoding } from './middleware/compression.ts';
import { seedAccount, TestBrowser } from './testing.ts';

/**
 * The fast, installable shell: compression per Accept-Encoding, content-hashed assets cached
 * for a year, the web manifest and icons, and a service worker that keeps only the shell.
 */

const ORGANISATION = 'Kinderopvang De Vlinder';
const IMMUTABLE = 'public, max-age=31536000, immutable';

let portal: TestPortal;
let app: Hono<AppEnv>;
let branded: Hono<AppEnv>;

beforeAll(async () => {
  portal = await createTestPortal();
  await initOrganisation(portal.em(), admin, { name: ORGANISATION, publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
  app = createApp(portal);
  branded = createApp(portal, { branding: await loadBranding({ name: 'Vlinder', accentColour: '#8a1c4a' }) });
});
afterAll(() => portal?.destroy());

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('compression', () => {
  it('chooses Brotli over gzip, honours q=0 and *, and nothing when nothing is offered', () => {
    expect(chooseEncoding('gzip, deflate, br')).toBe('br');
    expect(chooseEncoding('gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0.5, gzip;q=0.8')).toBe('gzip');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('identity')).toBeUndefined();
    expect(chooseEncoding('gzip;q=0, br;q=0')).toBeUndefined();
    expect(chooseEncoding(undefined)).toBeUndefined();
  });

  it('a page comes as br, gzip or plain per Accept-Encoding, always with Vary, and unpacks to the same text', async () => {
    const plain = await app.request('/login');
    expect(plain.headers.get('Content-Encoding')).toBeNull();
    expect(plain.headers.get('Vary')).toContain('Accept-Encoding');
    // The CSRF token differs per visit, so compare the page with it taken out.
    const strip = (html: string) => html.replace(/value="[^"]{20,}"/g, 'value=""').replace(/"X-CSRF-Token":"[^"]+"/, '');
    const text = strip(await plain.text());
    expect(Buffer.byteLength(text)).toBeGreaterThan(1024);

    const br = await app.request('/login', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    expect(br.headers.get('Content-Encoding')).toBe('br');
    expect(br.headers.get('Vary')).toContain('Accept-Encoding');
    expect(br.headers.get('Cache-Control')).toBe('no-store');
    const packed = await bytesOf(br);
    expect(Number(br.headers.get('Content-Length'))).toBe(packed.length);
    expect(strip(brotliDecompressSync(packed).toString('utf8'))).toBe(text);
    expect(packed.length).toBeLessThan(Buffer.byteLength(text));

    const gz = await app.request('/login', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers.get('Content-Encoding')).toBe('gzip');
    expect(strip(gunzipSync(await bytesOf(gz)).toString('utf8'))).toBe(text);
  });

  it('the JSON API is compressed too; a tiny body is not', async () => {
    const docs = await app.request('/api/v1/openapi.json', { headers: { 'Accept-Encoding': 'br' } });
    expect(docs.status).toBe(200);
    expect(docs.headers.get('Content-Encoding')).toBe('br');
    const plain = await (await app.request('/api/v1/openapi.json')).text();
    expect(brotliDecompressSync(await bytesOf(docs)).toString('utf8')).toBe(plain);
    const small = await app.request('/api/v1/no-such-thing', { headers: { 'Accept-Encoding': 'br' } });
    expect(small.headers.get('Content-Type')).toContain('json');
    expect(small.headers.get('Content-Encoding')).toBeNull();
    expect(small.headers.get('Vary')).toContain('Accept-Encoding');
    expect((await small.json()) as unknown).toBeTruthy();
  });

  it('a logged-in page is compressed and stays no-store', async () => {
    const account = await seedAccount(portal, { email: 'compress@example.nl', password: 'een lange zin als wachtwoord' });
    const browser = new TestBrowser(app);
    expect((await browser.login(account.email, account.password)).status).toBe(303);
    const res = await browser.get('/', { 'Accept-Encoding': 'br' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Encoding')).toBe('br');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(brotliDecompressSync(await bytesOf(res)).toString('utf8')).toContain('<html');
  });

  it('static assets are served from their precompressed copies, images never compressed', async () => {
    // Pages inline the stylesheet; the hashed file is still served (the offline page links it).
    const css = loadAssets().css.url;
    const plain = await bytesOf(await app.request(css));
    const br = await app.request(css, { headers: { 'Accept-Encoding': 'br, gzip' } });
    expect(br.headers.get('Content-Encoding')).toBe('br');
    expect(br.headers.get('Vary')).toBe('Accept-Encoding');
    expect(br.headers.get('Cache-Control')).toBe(IMMUTABLE);
    expect(brotliDecompressSync(await bytesOf(br)).equals(plain)).toBe(true);
    const gz = await app.request(css, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers.get('Content-Encoding')).toBe('gzip');
    expect(gunzipSync(await bytesOf(gz)).equals(plain)).toBe(true);
    expect(br.headers.get('ETag')).not.toBe(gz.headers.get('ETag'));

    const html = await (await app.request('/login')).text();
    const png = /rel="apple-touch-icon" href="([^"]+)"/.exec(html)![1]!;
    const icon = await app.request(png, { headers: { 'Accept-Encoding': 'br, gzip' } });
    expect(icon.headers.get('Content-Type')).toBe('image/png');
    expect(icon.headers.get('Content-Encoding')).toBeNull();
  });
});

describe('fingerprinted assets', () => {
  it('pages link content-hashed URLs that are immutable; the plain path is kept with a short cache', async () => {
    const html = await (await app.request('/login')).text();
    // The stylesheet is inlined in pages; the offline page still links it.
    const offline = await (await app.request('/offline')).text();
    // Scripts are linked by the loader's data-scripts (views/static/load-scripts.js), a list.
    const urls = [...`${html}${offline}`.matchAll(/(?:href|src|data-scripts)="(\/assets\/[^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
    expect(urls.length).toBeGreaterThanOrEqual(4);
    expect(urls.some((u) => u.startsWith('/assets/htmx.'))).toBe(true);
    expect(urls.some((u) => u.startsWith('/assets/portal.'))).toBe(true);
    for (const url of urls) {
      expect(url).toMatch(/^\/assets\/[a-z-]+\.[0-9a-f]{12}\.[a-z.]+$/);
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('Cache-Control'), url).toBe(IMMUTABLE);
    }
    const old = await app.request('/assets/portal.css');
    expect(old.status).toBe(200);
    expect(old.headers.get('Cache-Control')).toBe('no-cache');
  });
});

describe('installable', () => {
  it('the layout links the manifest, the icons, the theme colour and the worker registration', async () => {
    const html = await (await branded.request('/login')).text();
    expect(html).toContain('<link rel="manifest" href="/manifest.webmanifest">');
    expect(html).toContain('<meta name="theme-color" content="#8a1c4a">');
    expect(html).toMatch(/<link rel="icon" href="\/icons\/favicon\.[0-9a-f]{12}\.ico" sizes="32x32">/);
    expect(html).toMatch(/<link rel="icon" href="\/icons\/icon\.[0-9a-f]{12}\.svg" type="image\/svg\+xml">/);
    // Registered after the page's load event: the layout's loader adds it after htmx.
    expect(html).toMatch(/<script src="\/assets\/load-scripts\.[0-9a-f]{12}\.js" defer data-scripts="\/assets\/htmx\.[0-9a-f]{12}\.min\.js \/assets\/sw-register\.[0-9a-f]{12}\.js"><\/script>/);
  });

  it('the manifest carries the organisation name and the configured colour', async () => {
    const res = await app.request('/manifest.webmanifest');
    expect(res.headers.get('Content-Type')).toBe('application/manifest+json; charset=utf-8');
    const manifest = (await res.json()) as Record<string, unknown> & { icons: { src: string; sizes: string; type: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: ORGANISATION, short_name: 'Kinderopvang', start_url: '/', scope: '/', display: 'standalone', theme_color: '#1d5c63' });
    expect(manifest.icons.map((i) => `${i.sizes} ${i.type} ${i.purpose}`)).toEqual([
      'any image/svg+xml any',
      '192x192 image/png any',
      '512x512 image/png any',
      '512x512 image/png maskable',
    ]);

    const brandedManifest = (await (await branded.request('/manifest.webmanifest')).json()) as Record<string, unknown>;
    expect(brandedManifest).toMatchObject({ name: 'Vlinder', short_name: 'Vlinder', theme_color: '#8a1c4a' });

    for (const icon of manifest.icons) {
      const got = await app.request(icon.src);
      expect(got.status, icon.src).toBe(200);
      expect(got.headers.get('Content-Type')).toBe(icon.type);
      expect(got.headers.get('Cache-Control')).toBe(IMMUTABLE);
      if (icon.type === 'image/png') {
        const meta = await sharp(await bytesOf(got)).metadata();
        expect(`${meta.width}x${meta.height}`).toBe(icon.sizes);
      }
    }
  });

  it('favicon.ico and the apple-touch-icon are served, no more 404', async () => {
    const ico = await app.request('/favicon.ico');
    expect(ico.status).toBe(200);
    expect(ico.headers.get('Content-Type')).toBe('image/x-icon');
    const bytes = await bytesOf(ico);
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    const apple = await app.request('/apple-touch-icon.png');
    expect(apple.headers.get('Content-Type')).toBe('image/png');
    const meta = await sharp(await bytesOf(apple)).metadata();
    expect([meta.width, meta.height]).toEqual([180, 180]);
    expect((await app.request('/favicon.svg')).headers.get('Content-Type')).toBe('image/svg+xml');
  });

  it('the service worker is served from the root, pre-caches only the shell and never stores pages', async () => {
    const res = await app.request('/sw.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('Service-Worker-Allowed')).toBe('/');
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    const source = await res.text();
    const shell = JSON.parse(/const SHELL = (\[.*\]);/.exec(source)![1]!) as string[];
    expect(shell).toContain('/offline');
    for (const url of shell) {
      // Hashed assets and icons, and the offline page: nothing with a child's data or a photo.
      expect(url, url).toMatch(/^\/(assets|icons)\/[a-z0-9-]+\.[0-9a-f]{12}\.[a-z.]+$|^\/offline$/);
    }
    for (const personal of ['/fotos', '/schriftje', '/berichten', '/profiel', '/api/']) expect(shell.some((u) => u.startsWith(personal))).toBe(false);
    // The only writes to the cache are the pre-cache at install: no cache.put of responses.
    expect(source).not.toMatch(/\.put\(/);
    expect(source).toContain("request.mode === 'navigate'");
  });

  it('the offline page is public, has Dutch first and English too, and holds nothing personal', async () => {
    const res = await app.request('/offline');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    const html = await res.text();
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain('<h1>Geen internetverbinding</h1>');
    expect(html).toContain('<section lang="en"');
    expect(html).toContain('No internet connection');
    expect(html).not.toContain('_csrf');
    expect(html).toContain(ORGANISATION.replace('&', '&amp;'));
  });
});
