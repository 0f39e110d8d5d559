import { describeStorage } from '../../config/storage-url.ts';
import { isPhotoKey, PhotoNotFoundError } from '../photos/store.ts';
import { type Storage, STORE_NAMES, type StoreName } from './open.ts';
import { PhotoChecksumError } from './checksum-error.ts';

export interface MigrateCounts {
  /** Keys in the source store. */
  checked: number;
  copied: number;
  /** Already at the target with the same size: left alone (what makes a second run resume). */
  present: number;
  /** Deleted from the source between the listing and the copy (a photo removed meanwhile). */
  vanished: number;
  /** Source content that does not hash to its key: not copied, listed in `failures`. */
  failed: number;
  /** Bytes copied (or, in a dry run, that would be). */
  bytes: number;
}

export interface MigrateReport {
  from: string;
  to: string;
  dryRun: boolean;
  stores: Record<StoreName, MigrateCounts>;
  failures: { store: StoreName; key: string; reason: string }[];
}

export interface MigrateProgress {
  store: StoreName;
  counts: Readonly<MigrateCounts>;
}

export interface MigrateOptions {
  dryRun?: boolean;
  /** Called after each key (cheap: the caller decides how often to print). */
  onProgress?: (progress: MigrateProgress) => void;
}

/**
 * Copies every key of the stores from one location to another, one at a time, streamed.
 * Keys are the SHA-256 of their content and the target's `put` hashes what it receives, so a
 * copy that arrives under its own key is verified end to end; source bytes that hash to
 * something else are reported and not copied. What the target already holds with the same
 * size is skipped unread: an interrupted run is resumed by running it again. A failing store
 * (network, permissions) stops the run with its error; nothing copied so far is lost.
 *
 * Run it while the portal still writes to the source and then once more after stopping it: the
 * second run copies only what came in meanwhile.
 */
export async function migrateStorage(from: Storage, to: Storage, options: MigrateOptions = {}): Promise<MigrateReport> {
  const dryRun = options.dryRun ?? false;
  const empty = (): MigrateCounts => ({ checked: 0, copied: 0, present: 0, vanished: 0, failed: 0, bytes: 0 });
  const report: MigrateReport = {
    from: describeStorage(from.location),
    to: describeStorage(to.location),
    dryRun,
    stores: { photos: empty(), incoming: empty(), attachments: empty(), exports: empty() },
    failures: [],
  };

  for (const name of STORE_NAMES) {
    const source = from[name];
    const target = to[name];
    const counts = report.stores[name];
    for await (const key of source.keys()) {
      if (!isPhotoKey(key)) continue;
      counts.checked++;
      const [there, here] = await Promise.all([source.stat(key), target.stat(key)]);
      if (!there) {
        counts.vanished++;
      } else if (here && here.size === there.size) {
        counts.present++;
      } else if (dryRun) {
        counts.copied++;
        counts.bytes += there.size;
      } else {
        try {
          const result = await target.put(await source.stream(key));
          if (result.key !== key) {
            // Damaged at the source: the target now holds those bytes under their own hash.
            if (result.created) await target.delete(result.key);
            throw new PhotoChecksumError(key, result.key);
          }
          counts.copied++;
          counts.bytes += result.size;
        } catch (err) {
          if (err instanceof PhotoNotFoundError) {
            counts.vanished++;
          } else if (err instanceof PhotoChecksumError) {
            counts.failed++;
            report.failures.push({ store: name, key, reason: `content at the source has SHA-256 ${err.actual}` });
          } else {
            throw err;
          }
        }
      }
      options.onProgress?.({ store: name, counts });
    }
  }
  return report;
}
