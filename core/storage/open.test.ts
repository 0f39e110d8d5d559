import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../../test/s3.ts';
import { addGroup } from '../directory/groups.ts';
import { addLocation } from '../directory/locations.ts';
import { addStaff, assignStaff } from '../directory/staff.ts';
import { Group } from '../entities/group.ts';
import { Photo } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { processUploadedPhoto, uploadPhoto } from '../photos/upload.ts';

let s3: TestS3;
let portal: TestPortal;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  s3 = await startS3();
  portal = await createTestPortal({ 'storage.url': s3.url('org') });
});

afterAll(async () => {
  await portal?.destroy();
  await s3?.close();
  vi.unstubAllEnvs();
});

async function objects(prefix: string): Promise<string[]> {
  const page = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
}

describe('storage.url', () => {
  it('puts a portal on S3: an upload is processed from and into the bucket, nothing on disk', async () => {
    const em = portal.em();
    await addLocation(em, admin, { name: 'Centrum' });
    await addGroup(em, admin, { location: 'Centrum', name: 'Boomhut' });
    await addStaff(em, admin, { email: 'mia@example.nl', firstName: 'Mia', lastName: 'B', role: 'staff' });
    await assignStaff(em, admin, 'mia@example.nl', { group: 'Boomhut' });
    const staffId = (await em.findOneOrFail(Staff, { email: 'mia@example.nl' })).id;
    const groupId = (await em.findOneOrFail(Group, { name: 'Boomhut' })).id;
    const data = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a7' } }).jpeg().toBuffer();

    const { photoId } = await uploadPhoto(portal.em(), portal, { kind: 'staff', staffId, label: 'mia@example.nl' }, { groupId, caption: 'Zandbak', data });
    expect(await objects('org/incoming/')).toHaveLength(1);
    expect(await processUploadedPhoto(portal, photoId)).toBe('ready');

    const photo = await portal.em().findOneOrFail(Photo, { id: photoId });
    const keys = [photo.originalKey, photo.displayKey, photo.thumbKey];
    expect(await objects('org/photos/')).toEqual(expect.arrayContaining(keys));
    expect(await objects('org/incoming/')).toEqual([]);
    const thumb = await portal.photos.get(photo.thumbKey!);
    expect((await sharp(thumb).metadata()).format).toBe('jpeg');
    for (const folder of ['photos', 'incoming', 'attachments']) expect(existsSync(join(portal.dataDir, folder))).toBe(false);
  });

  it('refuses a URL it cannot use, and photos.dir beside a bucket, as configuration errors', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.map((p) => `${p.key}: ${p.expected}`);
      }
    };
    expect(problems({ PORTAL_STORAGE_URL: 's3://ab' })).toEqual(['storage.url: "ab" is not a bucket name (3-63 of a-z, 0-9, . and -)']);
    expect(problems({ PORTAL_STORAGE_URL: 's3://bucket-x?endpoint=minio:9000' })).toEqual(['storage.url: endpoint "minio:9000" is not like http://host:port']);
    expect(problems({ PORTAL_STORAGE_URL: 's3://bucket-x?secret=1' })).toEqual([
      'storage.url: unknown parameter "secret" (known: endpoint, region, forcePathStyle)',
    ]);
    expect(problems({ PORTAL_STORAGE_URL: 's3://bucket-x', PORTAL_PHOTOS_DIR: '/srv/photos' })).toEqual([
      'photos.dir: only for folder storage: unset it when storage.url is s3://',
    ]);
    expect(problems({ PORTAL_STORAGE_URL: '/srv/ouderportaal-files', PORTAL_PHOTOS_DIR: '/srv/photos' })).toEqual([]);
  });
});
