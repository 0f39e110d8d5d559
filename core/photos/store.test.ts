import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createFileStore,
  InvalidPhotoKeyError,
  type PhotoStore,
  PhotoNotFoundError,
  PhotoRangeError,
  PhotoTooLargeError,
  sweepOrphans,
} from './store.ts';

// Every call the store makes into node:fs/promises is counted, to show invalid keys never reach it.
const fsCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<Record<string, unknown>>();
  const wrapped = Object.fromEntries(
    Object.entries(actual).map(([name, value]) => [
      name,
      typeof value === 'function' && name !== 'default'
        ? (...args: unknown[]) => {
            fsCalls.count++;
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value,
    ]),
  );
  return { ...wrapped, default: wrapped };
});

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const HOUR = 60 * 60 * 1000;

let root: string;
let store: PhotoStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'photo-store-'));
  store = createFileStore(join(root, 'photos'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const tempFiles = () => {
  const dir = join(root, 'photos', '.tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};

async function allKeys(s: PhotoStore = store) {
  const keys: string[] = [];
  for await (const key of s.keys()) keys.push(key);
  return keys.sort();
}

async function readAll(stream: Readable) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function makeOld(key: string, ageMs: number) {
  const when = new Date(Date.now() - ageMs);
  utimesSync(join(root, 'photos', key.slice(0, 2), key.slice(2, 4), key), when, when);
}

describe('file photo store', () => {
  it('round-trips bytes under their sha256, sharded, written 0600 through the temp folder', async () => {
    const data = Buffer.from('een foto van de zandbak');
    const result = await store.put(data);
    expect(result).toEqual({ key: sha(data), sha256: sha(data), size: data.length, created: true });

    const path = join(root, 'photos', result.key.slice(0, 2), result.key.slice(2, 4), result.key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await store.get(result.key)).toEqual(data);
    expect(await store.stat(result.key)).toMatchObject({ size: data.length, mtime: expect.any(Date) });
    expect(await allKeys()).toEqual([result.key]);
    expect(tempFiles()).toEqual([]);
  });

  it('streams input in chunks, from async iterables and Node streams', async () => {
    const parts = [Buffer.from('abc'), Buffer.from('def'), Buffer.from('ghi')];
    const whole = Buffer.concat(parts);
    const fromIterable = await store.put(
      (async function* () {
        yield* parts;
      })(),
    );
    expect(fromIterable.key).toBe(sha(whole));
    expect(fromIterable.size).toBe(9);
    const fromStream = await store.put(Readable.from(parts), { maxBytes: 9 });
    expect(fromStream).toMatchObject({ key: sha(whole), created: false });
    expect(await store.get(fromIterable.key)).toEqual(whole);
  });

  it('stores identical content once; a second put is a no-op returning the same key', async () => {
    const data = Buffer.from('twee keer dezelfde foto');
    const first = await store.put(data);
    makeOld(first.key, 2 * HOUR);
    const second = await store.put(data);
    const third = await store.put(Readable.from([data.subarray(0, 5), data.subarray(5)]));
    expect(second).toEqual({ ...first, created: false });
    expect(third).toEqual({ ...first, created: false });
    expect(await allKeys()).toEqual([first.key]);
    expect(tempFiles()).toEqual([]);
    // The repeat put restarts the sweeper's grace period: its row is about to be committed.
    expect(Date.now() - (await store.stat(first.key))!.mtime.getTime()).toBeLessThan(60_000);
  });

  it('stops a stream as soon as it passes maxBytes, reading no further and leaving no temp file', async () => {
    let pulled = 0;
    let closed = false;
    const endless = (async function* () {
      try {
        for (;;) {
          pulled++;
          yield Buffer.alloc(1024, 7);
        }
      } finally {
        closed = true;
      }
    })();
    const error = await store.put(endless, { maxBytes: 10 * 1024 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotoTooLargeError);
    expect(error).toMatchObject({ code: 'validation', maxBytes: 10 * 1024 });
    expect(pulled).toBe(11);
    expect(closed).toBe(true);
    expect(tempFiles()).toEqual([]);
    expect(await allKeys()).toEqual([]);
  });

  it('destroys a Node stream that passes maxBytes', async () => {
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    });
    await expect(store.put(source, { maxBytes: 100_000 })).rejects.toBeInstanceOf(PhotoTooLargeError);
    expect(source.destroyed).toBe(true);
    expect(tempFiles()).toEqual([]);
  });

  it('refuses a buffer over maxBytes before writing anything; exactly maxBytes is fine', async () => {
    await expect(store.put(Buffer.alloc(11), { maxBytes: 10 })).rejects.toBeInstanceOf(PhotoTooLargeError);
    expect(existsSync(join(root, 'photos'))).toBe(false);
    await expect(store.put(Buffer.alloc(10), { maxBytes: 10 })).resolves.toMatchObject({ size: 10 });
  });

  it('leaves nothing behind when the input fails half-way (a simulated crash)', async () => {
    const failing = (async function* () {
      yield Buffer.from('first half of the upload');
      throw new Error('connection reset');
    })();
    await expect(store.put(failing)).rejects.toThrow('connection reset');
    expect(tempFiles()).toEqual([]);
    expect(await allKeys()).toEqual([]);
  });

  it('refuses invalid keys without touching the filesystem', async () => {
    const secret = join(root, 'etc', 'passwd');
    mkdirSync(join(root, 'etc'));
    writeFileSync(secret, 'root:x:0:0');
    const bad = [
      '../etc/passwd',
      '../../../../../../../etc/passwd',
      sha(Buffer.from('x')).toUpperCase(),
      'abcdef',
      `${sha(Buffer.from('x'))}/`,
      `${sha(Buffer.from('x'))}\n`,
      '',
    ];
    fsCalls.count = 0;
    for (const key of bad) {
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
      await expect(store.stream(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
      await expect(store.stat(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
      await expect(store.deleteStale(key, new Date())).rejects.toBeInstanceOf(InvalidPhotoKeyError);
    }
    expect(fsCalls.count).toBe(0);
    expect(existsSync(secret)).toBe(true);
    // …while a valid key does reach it (so the count above means something).
    await store.stat(sha(Buffer.from('x')));
    expect(fsCalls.count).toBeGreaterThan(0);
  });

  it('reports missing photos as not found', async () => {
    const key = sha(Buffer.from('nooit opgeslagen'));
    await expect(store.get(key)).rejects.toBeInstanceOf(PhotoNotFoundError);
    await expect(store.stream(key)).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.stat(key)).toBeNull();
    expect(await store.delete(key)).toBe(false);
    expect(await allKeys()).toEqual([]);
  });

  it('streams the whole content or an inclusive byte range', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const { key } = await store.put(data);
    expect(await readAll(await store.stream(key))).toEqual(data);
    expect((await readAll(await store.stream(key, { start: 2, end: 5 }))).toString()).toBe('2345');
    expect((await readAll(await store.stream(key, { start: 15 }))).toString()).toBe('fghij');
    expect((await readAll(await store.stream(key, { start: 18, end: 1000 }))).toString()).toBe('ij');
    expect((await readAll(await store.stream(key, { start: 0, end: 0 }))).toString()).toBe('0');
    await expect(store.stream(key, { start: 20 })).rejects.toBeInstanceOf(PhotoRangeError);
    await expect(store.stream(key, { start: 5, end: 4 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.stream(key, { start: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it('deletes', async () => {
    const { key } = await store.put(Buffer.from('weg ermee'));
    expect(await store.delete(key)).toBe(true);
    expect(await store.delete(key)).toBe(false);
    expect(await allKeys()).toEqual([]);
  });

  it('lists only well-formed keys in their own shard', async () => {
    const { key } = await store.put(Buffer.from('echt'));
    const other = sha(Buffer.from('verkeerd geplaatst'));
    mkdirSync(join(root, 'photos', 'zz'), { recursive: true });
    writeFileSync(join(root, 'photos', 'zz', 'note.txt'), '');
    writeFileSync(join(root, 'photos', key.slice(0, 2), key.slice(2, 4), other), ''); // wrong shard
    writeFileSync(join(root, 'photos', 'README'), '');
    expect(await allKeys()).toEqual([key]);
    expect(await allKeys(createFileStore(join(root, 'does-not-exist')))).toEqual([]);
  });
});

describe('sweepTemp', () => {
  it('removes temp files older than an hour and keeps recent ones', async () => {
    await store.put(Buffer.from('zorgt voor de map'));
    const dir = join(root, 'photos', '.tmp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'old.part'), 'half');
    writeFileSync(join(dir, 'fresh.part'), 'busy');
    const old = new Date(Date.now() - HOUR - 60_000);
    utimesSync(join(dir, 'old.part'), old, old);

    expect(await store.sweepTemp()).toEqual({ removed: ['old.part'], restored: [] });
    expect(tempFiles()).toEqual(['fresh.part']);
    // A second ago: a file's time comes from the kernel's coarse clock and can read a few
    // milliseconds after Date.now(), so "just written" would otherwise count as the future.
    const second = new Date(Date.now() - 1000);
    utimesSync(join(dir, 'fresh.part'), second, second);
    expect(await store.sweepTemp({ olderThanMs: 0 })).toEqual({ removed: ['fresh.part'], restored: [] });
    expect(await createFileStore(join(root, 'nothing-here')).sweepTemp()).toEqual({ removed: [], restored: [] });
  });

  it('puts back a file an interrupted orphan sweep had moved aside', async () => {
    const data = Buffer.from('halverwege de sweep');
    const key = sha(data);
    mkdirSync(join(root, 'photos', '.tmp'), { recursive: true });
    const name = `sweep-${Date.now() - 2 * HOUR}-${key}-abcd`;
    writeFileSync(join(root, 'photos', '.tmp', name), data);

    expect(await store.sweepTemp()).toEqual({ removed: [], restored: [name] });
    expect(await store.get(key)).toEqual(data);
    expect(tempFiles()).toEqual([]);
  });
});

describe('sweepOrphans', () => {
  async function seed() {
    const referencedOld = (await store.put(Buffer.from('in gebruik, oud'))).key;
    const orphanOld = (await store.put(Buffer.from('wees, oud'))).key;
    const orphanNew = (await store.put(Buffer.from('wees, net geüpload'))).key;
    makeOld(referencedOld, 3 * HOUR);
    makeOld(orphanOld, 3 * HOUR);
    return { referencedOld, orphanOld, orphanNew };
  }

  it('removes only unreferenced files older than the threshold', async () => {
    const { referencedOld, orphanOld, orphanNew } = await seed();
    const asked: string[][] = [];
    const result = await sweepOrphans(
      store,
      async (keys) => {
        asked.push([...keys].sort());
        return new Set(keys.filter((k) => k === referencedOld));
      },
      { olderThanMs: HOUR },
    );
    expect(result).toEqual({ checked: 3, removed: [orphanOld] });
    expect(asked).toEqual([[referencedOld, orphanOld].sort()]); // young files are not even looked up
    expect(await allKeys()).toEqual([referencedOld, orphanNew].sort());
    expect(tempFiles()).toEqual([]);
  });

  it('changes nothing in a dry run', async () => {
    const { referencedOld, orphanOld, orphanNew } = await seed();
    const result = await sweepOrphans(store, async () => new Set([referencedOld]), {
      olderThanMs: HOUR,
      dryRun: true,
    });
    expect(result).toEqual({ checked: 3, removed: [orphanOld] });
    expect(await allKeys()).toEqual([referencedOld, orphanOld, orphanNew].sort());
  });

  it('asks about references in batches', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { key } = await store.put(Buffer.from(`foto ${i}`));
      makeOld(key, 2 * HOUR);
      keys.push(key);
    }
    const sizes: number[] = [];
    const result = await sweepOrphans(
      store,
      async (batch) => {
        sizes.push(batch.length);
        return new Set(batch);
      },
      { olderThanMs: HOUR, batchSize: 3 },
    );
    expect(sizes).toEqual([3, 3, 1]);
    expect(result).toEqual({ checked: 7, removed: [] });
  });

  it('keeps a file that is put again while the sweep runs (its row is about to be committed)', async () => {
    const data = Buffer.from('opnieuw geüpload tijdens de sweep');
    const { key } = await store.put(data);
    makeOld(key, 3 * HOUR);
    const result = await sweepOrphans(
      store,
      async () => {
        await store.put(data); // between the reference check and the removal
        return new Set();
      },
      { olderThanMs: HOUR },
    );
    expect(result.removed).toEqual([]);
    expect(await store.get(key)).toEqual(data);
    expect(tempFiles()).toEqual([]);
  });

  it('removes nothing when the reference lookup fails', async () => {
    const { orphanOld } = await seed();
    await expect(
      sweepOrphans(
        store,
        async () => {
          throw new Error('database down');
        },
        { olderThanMs: HOUR },
      ),
    ).rejects.toThrow('database down');
    expect(await store.stat(orphanOld)).not.toBeNull();
  });
});
