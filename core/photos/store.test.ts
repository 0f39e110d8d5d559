import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createS3Store } from '../storage/s3-store.ts';
import { startS3, type TestS3 } from '../../test/s3.ts';
import {
  createFileStore,
  InvalidPhotoKeyError,
  type PhotoStore,
  PhotoNotFoundError,
  type PutResult,
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

/**
 * One contract, two implementations: every test below runs against the folder store and the
 * S3 store (on an s3rver started here). What differs is how a test reaches behind the store:
 * plant a raw file or object, backdate one, list the temp area, count backend calls.
 */
interface Backend {
  store: PhotoStore;
  /** A store at a location where nothing was ever written. */
  empty(): PhotoStore;
  /** Writes raw bytes at a name relative to the store's root (`.tmp/x.part`, `README`). */
  plant(name: string, data: Uint8Array | string): Promise<void>;
  /** Backdates a raw name, or (`content`) the stored content of a key with everything that dates it. */
  age(name: string, ageMs: number): void;
  content(key: string): string;
  tempNames(): Promise<string[]>;
  /** Whether the store's location holds nothing at all. */
  isEmpty(): Promise<boolean>;
  /** Names that look like content but are not a key in its place; keys() must skip them. */
  junk(key: string): string[];
  calls(): number;
}

interface BackendKind {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  create(): Promise<Backend>;
  destroy(): void;
}

let root: string;
let s3: TestS3;
let s3Client: S3Client;
let s3Counter = 0;

async function s3Names(prefix: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) names.push(o.Key!.slice(prefix.length));
    token = page.NextContinuationToken;
  } while (token);
  return names.sort();
}

const folderBackend: BackendKind = {
  name: 'folder',
  setup: async () => {},
  teardown: async () => {},
  create: async () => {
    root = mkdtempSync(join(tmpdir(), 'photo-store-'));
    const dir = join(root, 'photos');
    const path = (name: string) => join(dir, name);
    return {
      store: createFileStore(dir),
      empty: () => createFileStore(join(root, 'does-not-exist')),
      plant: async (name, data) => {
        mkdirSync(dirname(path(name)), { recursive: true });
        writeFileSync(path(name), data);
      },
      age: (name, ageMs) => {
        const when = new Date(Date.now() - ageMs);
        utimesSync(path(name), when, when);
      },
      content: (key) => `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`,
      tempNames: async () => (existsSync(path('.tmp')) ? readdirSync(path('.tmp')).sort() : []),
      isEmpty: async () => !existsSync(dir),
      junk: (key) => ['zz/note.txt', 'README', `${key.slice(0, 2)}/${key.slice(2, 4)}/${sha(Buffer.from('verkeerd geplaatst'))}`],
      calls: () => fsCalls.count,
    };
  },
  destroy: () => rmSync(root, { recursive: true, force: true }),
};

const s3Backend: BackendKind = {
  name: 's3',
  setup: async () => {
    s3 = await startS3();
    s3Client = s3.client();
  },
  teardown: async () => {
    await s3?.close();
  },
  create: async () => {
    // Each test in its own prefix of the one bucket.
    const prefix = `t${++s3Counter}/photos/`;
    let calls = 0;
    const client = s3.client(() => {
      calls++;
    });
    return {
      store: createS3Store({ client, bucket: s3.bucket, prefix }),
      empty: () => createS3Store({ client, bucket: s3.bucket, prefix: `t${s3Counter}/nothing/` }),
      plant: async (name, data) => {
        await s3Client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + name, Body: typeof data === 'string' ? Buffer.from(data) : data }));
      },
      age: (name, ageMs) => {
        s3.age(prefix + name, ageMs);
        // The put marker dates the content too (core/storage/s3-store.ts).
        if (/^[0-9a-f]{64}$/.test(name)) {
          try {
            s3.age(`${prefix}.put/${name}`, ageMs);
          } catch {
            // no marker
          }
        }
      },
      content: (key) => key,
      tempNames: () => s3Names(`${prefix}.tmp/`),
      isEmpty: async () => (await s3Names(prefix)).length === 0,
      junk: (key) => ['zz/note.txt', 'README', key.toUpperCase(), `.put/${sha(Buffer.from('verkeerd geplaatst'))}`],
      calls: () => calls,
    };
  },
  destroy: () => {},
};

async function allKeys(s: PhotoStore) {
  const keys: string[] = [];
  for await (const key of s.keys()) keys.push(key);
  return keys.sort();
}

async function readAll(stream: Readable) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each([folderBackend, s3Backend])('$name photo store', (kind) => {
  let b: Backend;
  let store: PhotoStore;
  const makeOld = (key: string, ageMs: number) => b.age(b.content(key), ageMs);
  const tempFiles = () => b.tempNames();

  beforeAll(() => kind.setup());
  afterAll(() => kind.teardown());
  beforeEach(async () => {
    b = await kind.create();
    store = b.store;
  });
  afterEach(() => kind.destroy());

  describe('contract', () => {
    it('round-trips bytes under their sha256, written through the temp area', async () => {
      const data = Buffer.from('een foto van de zandbak');
      const result = await store.put(data);
      expect(result).toEqual({ key: sha(data), sha256: sha(data), size: data.length, created: true });
      expect(await store.get(result.key)).toEqual(data);
      expect(await store.stat(result.key)).toMatchObject({ size: data.length, mtime: expect.any(Date) });
      expect(await allKeys(store)).toEqual([result.key]);
      expect(await tempFiles()).toEqual([]);
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
      expect(Date.now() - (await store.stat(first.key))!.mtime.getTime()).toBeGreaterThan(HOUR);
      const second = await store.put(data);
      const third = await store.put(Readable.from([data.subarray(0, 5), data.subarray(5)]));
      expect(second).toEqual({ ...first, created: false });
      expect(third).toEqual({ ...first, created: false });
      expect(await allKeys(store)).toEqual([first.key]);
      expect(await tempFiles()).toEqual([]);
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
      expect(await tempFiles()).toEqual([]);
      expect(await allKeys(store)).toEqual([]);
    });

    it('destroys a Node stream that passes maxBytes', async () => {
      const source = new Readable({
        read() {
          this.push(Buffer.alloc(64 * 1024, 1));
        },
      });
      await expect(store.put(source, { maxBytes: 100_000 })).rejects.toBeInstanceOf(PhotoTooLargeError);
      expect(source.destroyed).toBe(true);
      expect(await tempFiles()).toEqual([]);
    });

    it('refuses a buffer over maxBytes before writing anything; exactly maxBytes is fine', async () => {
      await expect(store.put(Buffer.alloc(11), { maxBytes: 10 })).rejects.toBeInstanceOf(PhotoTooLargeError);
      expect(await b.isEmpty()).toBe(true);
      await expect(store.put(Buffer.alloc(10), { maxBytes: 10 })).resolves.toMatchObject({ size: 10 });
      expect(await b.isEmpty()).toBe(false);
    });

    it('leaves nothing behind when the input fails half-way (a simulated crash)', async () => {
      const failing = (async function* () {
        yield Buffer.from('first half of the upload');
        throw new Error('connection reset');
      })();
      await expect(store.put(failing)).rejects.toThrow('connection reset');
      expect(await tempFiles()).toEqual([]);
      expect(await allKeys(store)).toEqual([]);
    });

    it('refuses invalid keys without touching the backend', async () => {
      const bad = [
        '../etc/passwd',
        '../../../../../../../etc/passwd',
        sha(Buffer.from('x')).toUpperCase(),
        'abcdef',
        `${sha(Buffer.from('x'))}/`,
        `${sha(Buffer.from('x'))}\n`,
        '',
      ];
      const before = b.calls();
      for (const key of bad) {
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
        await expect(store.stream(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
        await expect(store.stat(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidPhotoKeyError);
        await expect(store.deleteStale(key, new Date())).rejects.toBeInstanceOf(InvalidPhotoKeyError);
      }
      expect(b.calls()).toBe(before);
      // …while a valid key does reach it (so the count above means something).
      await store.stat(sha(Buffer.from('x')));
      expect(b.calls()).toBeGreaterThan(before);
    });

    it('reports missing photos as not found', async () => {
      const key = sha(Buffer.from('nooit opgeslagen'));
      await expect(store.get(key)).rejects.toBeInstanceOf(PhotoNotFoundError);
      await expect(store.stream(key)).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.stream(key, { start: 2 })).rejects.toMatchObject({ code: 'not_found' });
      expect(await store.stat(key)).toBeNull();
      expect(await store.delete(key)).toBe(false);
      expect(await allKeys(store)).toEqual([]);
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
      await expect(store.stream(key, { start: 20 })).rejects.toMatchObject({ size: 20 });
      await expect(store.stream(key, { start: 5, end: 4 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.stream(key, { start: -1 })).rejects.toBeInstanceOf(RangeError);
    });

    it('deletes', async () => {
      const { key } = await store.put(Buffer.from('weg ermee'));
      expect(await store.delete(key)).toBe(true);
      expect(await store.delete(key)).toBe(false);
      expect(await allKeys(store)).toEqual([]);
      await expect(store.get(key)).rejects.toBeInstanceOf(PhotoNotFoundError);
    });

    it('lists only well-formed keys in their place', async () => {
      const { key } = await store.put(Buffer.from('echt'));
      for (const name of b.junk(key)) await b.plant(name, '');
      expect(await allKeys(store)).toEqual([key]);
      expect(await allKeys(b.empty())).toEqual([]);
    });
  });

  describe('sweepTemp', () => {
    it('removes temp files older than an hour and keeps recent ones', async () => {
      await store.put(Buffer.from('zorgt voor de map'));
      await b.plant('.tmp/old.part', 'half');
      await b.plant('.tmp/fresh.part', 'busy');
      b.age('.tmp/old.part', HOUR + 60_000);

      expect(await store.sweepTemp()).toEqual({ removed: ['old.part'], restored: [] });
      expect(await tempFiles()).toEqual(['fresh.part']);
      // A few seconds ago: a file's time comes from the kernel's coarse clock (and an object's is
      // whole seconds), so "just written" would otherwise count as the future.
      b.age('.tmp/fresh.part', 2000);
      expect(await store.sweepTemp({ olderThanMs: 0 })).toEqual({ removed: ['fresh.part'], restored: [] });
      expect(await b.empty().sweepTemp()).toEqual({ removed: [], restored: [] });
    });

    it('puts back a file an interrupted orphan sweep had moved aside', async () => {
      const data = Buffer.from('halverwege de sweep');
      const key = sha(data);
      const name = `sweep-${Date.now() - 2 * HOUR}-${key}-abcd`;
      await b.plant(`.tmp/${name}`, data);

      expect(await store.sweepTemp()).toEqual({ removed: [], restored: [name] });
      expect(await store.get(key)).toEqual(data);
      expect(await tempFiles()).toEqual([]);
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
      expect(await allKeys(store)).toEqual([referencedOld, orphanNew].sort());
      expect(await tempFiles()).toEqual([]);
    });

    it('changes nothing in a dry run', async () => {
      const { referencedOld, orphanOld, orphanNew } = await seed();
      const result = await sweepOrphans(store, async () => new Set([referencedOld]), {
        olderThanMs: HOUR,
        dryRun: true,
      });
      expect(result).toEqual({ checked: 3, removed: [orphanOld] });
      expect(await allKeys(store)).toEqual([referencedOld, orphanOld, orphanNew].sort());
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
      expect(await tempFiles()).toEqual([]);
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
});

describe('file photo store on disk', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'photo-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('shards by the first two byte pairs and writes 0600 files', async () => {
    const store = createFileStore(join(root, 'photos'));
    const data = Buffer.from('een foto van de zandbak');
    const { key } = await store.put(data);
    const path = join(root, 'photos', key.slice(0, 2), key.slice(2, 4), key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('never touches a file outside its folder for a key that climbs out', async () => {
    const store = createFileStore(join(root, 'photos'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0');
    await expect(store.delete('../etc/passwd')).rejects.toBeInstanceOf(InvalidPhotoKeyError);
    expect(existsSync(join(root, 'etc', 'passwd'))).toBe(true);
  });
});

describe('S3 photo store, beyond the contract', () => {
  let server: TestS3;
  let n = 0;
  let prefix: string;
  const commands: { name: string; input: Record<string, unknown> }[] = [];
  let beforeSend: ((name: string, input: Record<string, unknown>) => Promise<void>) | undefined;
  let store: PhotoStore;

  beforeAll(async () => {
    server = await startS3('ouderportaal-extra');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    prefix = `x${++n}/`;
    commands.length = 0;
    beforeSend = undefined;
    const client = server.client();
    // Records each request, and lets a test act just before one is sent (a concurrent put).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '?';
        const input = args.input as Record<string, unknown>;
        commands.push({ name, input });
        const hook = beforeSend;
        if (hook) await hook(name, input);
        return next(args);
      },
      { step: 'initialize', name: 'record' },
    );
    store = createS3Store({ client, bucket: server.bucket, prefix, partBytes: 5 * 1024 * 1024 });
  });

  it('sends the SHA-256 with every single PUT, for the server to check', async () => {
    const data = Buffer.from('gecontroleerd verstuurd');
    await store.put(data);
    const put = commands.find((c) => c.name === 'PutObjectCommand' && c.input.Key === prefix + sha(data));
    expect(put?.input.ChecksumSHA256).toBe(Buffer.from(sha(data), 'hex').toString('base64'));
  });

  it('uploads a large stream in parts to a temporary key, then copies it under its hash', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const chunks = Array.from({ length: 11 }, (_, i) => big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    const result = await store.put(Readable.from(chunks));
    expect(result).toEqual({ key: sha(big), sha256: sha(big), size: big.length, created: true });
    expect(commands.filter((c) => c.name === 'UploadPartCommand')).toHaveLength(3);
    expect(commands.some((c) => c.name === 'CopyObjectCommand')).toBe(true);
    expect(sha(await store.get(result.key))).toBe(result.key);
    expect(await allKeys(store)).toEqual([result.key]);
    const temp = await server.client().send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}.tmp/` }));
    expect(temp.Contents ?? []).toEqual([]);
    // The same stream again: recognised after the upload, the temporary copy removed.
    expect(await store.put(Readable.from(chunks))).toMatchObject({ key: result.key, created: false });
  }, 60_000);

  it('refuses to hand out bytes that do not match their key', async () => {
    const data = Buffer.from('onbeschadigd opgeslagen, daarna beschadigd');
    const { key } = await store.put(data);
    writeFileSync(server.objectFile(prefix + key), Buffer.from('onbeschadigd opgeslagen, daarna BESCHADIGD'));
    await expect(store.get(key)).rejects.toThrow(`stored content of ${key}`);
    await expect(readAll(await store.stream(key))).rejects.toThrow(`stored content of ${key}`);
    // A range cannot be checked (its hash is unknown): it is served as stored.
    expect((await readAll(await store.stream(key, { start: 32 }))).toString()).toBe('BESCHADIGD');
  });

  it('lists keys across pages', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 1005; i++) keys.push(sha(Buffer.from(`pagina ${i}`)));
    // Planted directly (faster than 1005 puts through the store).
    await Promise.all(
      keys.map((key) => server.client().send(new PutObjectCommand({ Bucket: server.bucket, Key: prefix + key, Body: Buffer.from('x') }))),
    );
    commands.length = 0;
    expect(await allKeys(store)).toEqual(keys.sort());
    expect(commands.filter((c) => c.name === 'ListObjectsV2Command')).toHaveLength(2);
  }, 60_000);

  it('deleteStale puts the content back when a put saw it just before the delete', async () => {
    const data = Buffer.from('gelijktijdig opnieuw geüpload');
    const { key } = await store.put(data);
    server.age(prefix + key, 3 * HOUR);
    const other = createS3Store({ client: server.client(), bucket: server.bucket, prefix });
    let putResult: PutResult | undefined;
    beforeSend = async (name, input) => {
      if (name === 'DeleteObjectCommand' && input.Key === prefix + key && !putResult) {
        putResult = await other.put(data); // sees the content, writes its marker, returns "already there"
      }
    };
    expect(await store.deleteStale(key, new Date(Date.now() - HOUR))).toBe(false);
    expect(putResult).toMatchObject({ key, created: false });
    expect(await store.get(key)).toEqual(data);
    const temp = await server.client().send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}.tmp/` }));
    expect(temp.Contents ?? []).toEqual([]);
  });

  it('deleteStale removes what nobody put again, marker and all', async () => {
    const data = Buffer.from('echt een wees');
    const { key } = await store.put(data);
    await store.put(data); // a marker
    server.age(prefix + key, 3 * HOUR);
    server.age(`${prefix}.put/${key}`, 3 * HOUR);
    expect(await store.deleteStale(key, new Date(Date.now() - HOUR))).toBe(true);
    expect(await store.stat(key)).toBeNull();
    const left = await server.client().send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('deleteStale keeps content written just before a cutoff of "now" (server times are whole seconds)', async () => {
    const { key } = await store.put(Buffer.from('net geschreven'));
    expect(await store.deleteStale(key, new Date())).toBe(false);
    expect(await store.stat(key)).not.toBeNull();
  });

  it('sweepTemp removes markers whose content has gone', async () => {
    const data = Buffer.from('marker zonder inhoud');
    const { key } = await store.put(data);
    await store.put(data);
    // The content goes without its marker (a delete that died half-way).
    await server.client().send(new DeleteObjectCommand({ Bucket: server.bucket, Key: prefix + key }));
    server.age(`${prefix}.put/${key}`, 2 * HOUR);
    expect(await store.sweepTemp()).toEqual({ removed: [`.put/${key}`], restored: [] });
  });
});
