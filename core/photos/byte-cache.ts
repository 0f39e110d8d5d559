/**
 * A small least-recently-used cache of stored image bytes, keyed by store key. Safe because the
 * store is content-addressed: a key always names the same bytes, so an entry can never be stale.
 * It caches bytes only, never decisions: who may see a photo is asked again on every request.
 * An album page asks for thirty thumbnails at once, and many parents of a group open the same
 * ones, so this saves a file open, read and close per request.
 */
export class ByteCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    readonly maxBytes: number,
    /** Larger items are not kept: a few big originals must not push out hundreds of thumbnails. */
    readonly maxItemBytes = Math.max(1, Math.floor(maxBytes / 64)),
  ) {}

  get size(): number {
    return this.bytes;
  }

  async get(key: string, load: (key: string) => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry as most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const data = await load(key);
    if (data.length <= this.maxItemBytes && this.maxBytes > 0) {
      this.entries.set(key, data);
      this.bytes += data.length;
      for (const [oldKey, old] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(oldKey);
        this.bytes -= old.length;
      }
    }
    return data;
  }
}
