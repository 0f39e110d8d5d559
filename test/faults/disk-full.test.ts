import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError, EXIT } from '../../cli/errors.ts';
import { addGroup } from '../../core/directory/groups.ts';
import { addLocation } from '../../core/directory/locations.ts';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { addStaff, assignStaff } from '../../core/directory/staff.ts';
import { Group } from '../../core/entities/group.ts';
import { Photo } from '../../core/entities/photo.ts';
import { createLogger } from '../../core/log.ts';
import { createFileStore, type PhotoStore } from '../../core/photos/store.ts';
import { rethrowAfterCleanup } from '../../core/storage/after-cleanup.ts';
import { StorageFullError, withDiskFullErrors } from '../../core/storage/disk-full.ts';
import { apiErrorHandler } from '../../http/api/errors.ts';
import { createApp } from '../../http/app.ts';
import { accountFor, LOOSE, TestBrowser } from '../../http/testing.ts';
import { texturedPhoto } from '../pictures.ts';
import { admin, createTestPortal, type TestPortal } from '../portal.ts';

/**
 * Drill: the disk fills up. ENOSPC is injected at the storage layer (a folder store whose writes
 * fail as a full disk's do), never by filling the real disk. What must hold: the user is told
 * calmly (507, nothing of the internals), the administrator's log names the folder and the bytes,
 * nothing half-stored is kept (no photo row, no file), the CLI exits with its own code and a line
 * naming the folder, a failing cleanup never takes the place of the real error, and once there is
 * room again the same upload works.
 */

const PASSWORD = 'een lange zin als wachtwoord';
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

/** A store on a full disk: reads work, every write takes the bytes and then fails with ENOSPC. */
function fullDisk(store: PhotoStore, state: { full: boolean }): PhotoStore {
  return {
    ...store,
    async put(data, options) {
      if (!state.full) return await store.put(data, options);
      if (!(data instanceof Uint8Array)) for await (const _ of data) void _;
      throw enospc();
    },
  };
}

let portal: TestPortal;
let browser: TestBrowser;
let group: number;
const logged: string[] = [];
const disk = { full: true };
let incomingDir: string;

beforeAll(async () => {
  portal = await createTestPortal();
  const em = portal.em();
  await initOrganisation(em, admin, { name: 'Kinderopvang De Boomhut', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
  await addLocation(em, admin, { name: 'Centrum' });
  await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
  group = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
  await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'Werker', role: 'staff' });
  await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
  await accountFor(portal, 'mia@example.nl', PASSWORD);
  // The incoming folder on a full disk, wrapped as core/storage/open.ts wraps every folder store.
  incomingDir = join(portal.dataDir, 'incoming');
  Object.assign(portal, { incoming: withDiskFullErrors(fullDisk(createFileStore(incomingDir), disk), incomingDir) });
  const app = createApp({ ...portal, log: createLogger('info', (line) => logged.push(line)) }, LOOSE);
  browser = new TestBrowser(app, { 'X-Forwarded-For': '203.0.113.7' });
  expect((await browser.login('mia@example.nl', PASSWORD)).status).toBe(303);
  await browser.get('/fotos');
});
afterAll(() => portal?.destroy());

async function upload(data: Uint8Array): Promise<Response> {
  const form = new FormData();
  form.append('_csrf', browser.csrf ?? '');
  form.append('groep', String(group));
  form.append('bijschrift', '');
  form.append('foto', new Blob([data], { type: 'image/jpeg' }), 'buiten.jpg');
  portal.clock.advance({ seconds: 1 });
  return await browser.request('/fotos/uploaden', { method: 'POST', body: form });
}

async function incomingFiles(): Promise<number> {
  let n = 0;
  for await (const _ of createFileStore(incomingDir).keys()) n++;
  return n;
}

describe('the disk is full', () => {
  it('the store names the folder, the bytes needed and the space free', async () => {
    const store = withDiskFullErrors(fullDisk(createFileStore(incomingDir), disk), incomingDir);
    const err = await store.put(Buffer.alloc(3000, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    const full = err as StorageFullError;
    expect(full.path).toBe(incomingDir);
    expect(full.neededBytes).toBe(3000);
    expect(full.message).toMatch(new RegExp(`^no space left on the disk at ${incomingDir} \\(.+ free\\); the write needed 2\\.9 KiB: free space there and try again$`));
    expect((full.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // A stream: what had arrived, as "at least".
    const streamed = (await store
      .put((async function* () {
        yield Buffer.alloc(1000);
        yield Buffer.alloc(500);
      })())
      .catch((e: unknown) => e)) as StorageFullError;
    expect(streamed.message).toMatch(/the write needed at least 1\.5 KiB/);
  });

  it('an upload over HTTP: 507 with a calm page, the log names the folder, nothing is kept', async () => {
    const photo = await texturedPhoto(40, { width: 320, height: 240 });
    const res = await upload(photo);
    expect(res.status).toBe(507);
    const html = await res.text();
    expect(html).toContain('Opslag vol');
    expect(html).toContain('Er is niets bewaard');
    expect(html).not.toMatch(/ENOSPC|incoming|portal-data/);
    expect(logged.some((l) => l.includes(`no space left on the disk at ${incomingDir}`) && l.includes(`needed at least ${(photo.length / 1024).toFixed(1)} KiB`)), logged.join("\n")).toBe(true);
    expect(await portal.em().count(Photo, {})).toBe(0);
    expect(await incomingFiles()).toBe(0);

    // Room again: the same upload goes through, with no restart.
    disk.full = false;
    const again = await upload(photo);
    expect(again.status).toBe(303);
    expect(await portal.em().count(Photo, {})).toBe(1);
    disk.full = true;
  });

  it('the app API: 507 with its own code, nothing of the folder in the answer', async () => {
    const api = new Hono();
    const apiLog: string[] = [];
    api.onError(apiErrorHandler(createLogger('info', (line) => apiLog.push(line))));
    api.post('/api/v1/threads/1/messages', () => {
      throw new StorageFullError(join(portal.dataDir, 'attachments'), 2048, 0);
    });
    const res = await api.request('/api/v1/threads/1/messages', { method: 'POST' });
    expect(res.status).toBe(507);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('storage_full');
    expect(body.error.message).not.toContain(portal.dataDir);
    expect(apiLog.some((l) => l.includes(join(portal.dataDir, 'attachments')))).toBe(true);
  });

  it('the CLI: exit 5 and one line naming the folder, also for a bare ENOSPC', async () => {
    const full = new StorageFullError('/srv/ouderportaal/data/photos', 5 * 1024 ** 2, 1024);
    expect(await describeError(full)).toEqual({ code: EXIT.diskFull, message: full.message });
    expect(EXIT.diskFull).toBe(5);
    const bare = Object.assign(enospc(), { path: '/var/backups/ouderportaal/export.ndjson' });
    const described = await describeError(bare);
    expect(described.code).toBe(5);
    expect(described.message).toMatch(/^no space left on the disk at \/var\/backups\/ouderportaal \(.+ free\): free space there and try again$/);
    // Without a path (a write on an open file): still its own code, never "unexpected error".
    expect(await describeError(enospc())).toEqual({ code: 5, message: 'no space left on a disk (ENOSPC: no space left on device, write): free space and run again' });
  });

  it('a cleanup that fails too (a lock file on the same full disk) never hides the real error', async () => {
    const original = new StorageFullError('/srv/data/photos', 10, 0);
    const seen: unknown[] = [];
    const err = await rethrowAfterCleanup(
      original,
      async () => {
        throw enospc(); // releasing the lock file fails on the full disk
      },
      (e) => seen.push(e),
    ).catch((e: unknown) => e);
    expect(err).toBe(original);
    expect((err as { suppressed: unknown[] }).suppressed).toHaveLength(1);
    expect(seen).toHaveLength(1);
    // And through the CLI's description: the original's exit code and message.
    expect((await describeError(err)).message).toBe(original.message);
  });
});
