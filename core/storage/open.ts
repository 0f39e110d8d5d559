import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PortalConfig } from '../../config/schema.ts';
import { parseStorageUrl, type StorageLocation } from '../../config/storage-url.ts';
import { createFileStore, type PhotoStore } from '../photos/store.ts';
import { withDiskFullErrors } from './disk-full.ts';

/**
 * The portal's stores, each content-addressed: what `portal storage migrate` copies. `exports`
 * holds the parents' "Download mijn gegevens" ZIPs (core/gdpr/self-service.ts) until their link
 * expires: built by a job on one node, served by a request on any other.
 */
export const STORE_NAMES = ['photos', 'incoming', 'attachments', 'exports'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export interface Storage extends Record<StoreName, PhotoStore> {
  location: StorageLocation;
  /** Closes the S3 client's connections; nothing for a folder. */
  close(): void;
}

/** Where the configuration puts the stores: `storage.url`, by default the data folder. */
export function configuredLocation(config: Readonly<PortalConfig>): StorageLocation {
  return config.storage.url ? parseStorageUrl(config.storage.url, config.dataDir) : { kind: 'folder', path: config.dataDir };
}

export interface OpenStorageOptions {
  /** Folder of the photos instead of <folder>/photos (the setting photos.dir; folders only). */
  photosDir?: string;
  /** An S3 client to use instead of one made from the location (tests). */
  client?: S3Client;
}

/**
 * The stores at a location: `<folder>/photos`, `/incoming`, `/attachments`, `/exports`, or the same
 * names as key prefixes in the bucket. The AWS SDK is loaded only for an s3:// location.
 * Credentials come from the SDK's usual chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * (/ AWS_SESSION_TOKEN), AWS_PROFILE, or the machine's role.
 */
export async function openStorage(location: StorageLocation, options: OpenStorageOptions = {}): Promise<Storage> {
  if (location.kind === 'folder') {
    // A full disk says which folder and how much space the write needed (core/storage/disk-full.ts).
    const folder = (path: string) => withDiskFullErrors(createFileStore(path), path);
    return {
      location,
      photos: folder(options.photosDir ?? join(location.path, 'photos')),
      incoming: folder(join(location.path, 'incoming')),
      attachments: folder(join(location.path, 'attachments')),
      exports: folder(join(location.path, 'exports')),
      close: () => {},
    };
  }
  const [{ S3Client }, { createS3Store }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3-store.ts')]);
  const client =
    options.client ??
    new S3Client({
      endpoint: location.endpoint,
      region: location.region,
      forcePathStyle: location.forcePathStyle,
      // Checksums the SDK would add on its own (CRC32, trailers) are not what every S3-compatible
      // server understands; the store sends and asks for SHA-256 itself (core/storage/s3-store.ts).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const store = (name: StoreName) => createS3Store({ client, bucket: location.bucket, prefix: `${location.prefix}${name}/` });
  return {
    location,
    photos: store('photos'),
    incoming: store('incoming'),
    attachments: store('attachments'),
    exports: store('exports'),
    close: () => {
      if (!options.client) client.destroy();
    },
  };
}

/** The portal's own stores, as its configuration says (core/portal.ts). */
export function openConfiguredStorage(config: Readonly<PortalConfig>, client?: S3Client): Promise<Storage> {
  const location = configuredLocation(config);
  const photosDir = config.photos.dir && location.kind === 'folder' ? resolve(config.dataDir, config.photos.dir) : undefined;
  return openStorage(location, { photosDir, client });
}
