import { createRoute, z } from '@hono/zod-openapi';
import { downloadPhoto, mustAcceptRules } from '../../../core/photos/downloads.ts';
import { photoForActor } from '../../../core/photos/visibility.ts';
import { imageServer } from '../../routes/photos.ts';
import type { ApiModule } from '../deps.ts';
import { errors, IdParam, json } from '../schemas.ts';

/**
 * One photo: its metadata, its image variants, and the download (privacy invariant 2: own
 * child tagged, recorded, trace code in the file). Refused and unknown photos are both 404,
 * without a byte of the image: the same core calls as the photo pages.
 */

export const AlbumPhotoSchema = z
  .object({
    id: z.string(),
    groupId: z.number().int(),
    takenAt: z.string(),
    caption: z.string().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    downloadable: z.boolean().openapi({ description: 'One of my own children is tagged: I may download it' }),
  })
  .openapi('Photo');

const PhotoDetail = AlbumPhotoSchema.extend({
  rulesAcceptanceRequired: z.boolean().openapi({ description: 'The first download needs `acceptRules: true` (spelregels, see /spelregels)' }),
}).openapi('PhotoDetail');

const binary = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } },
});

const meta = createRoute({
  method: 'get',
  path: '/photos/{id}',
  operationId: 'getPhoto',
  tags: ['Photos'],
  summary: 'One photo: metadata and whether I may download it',
  request: { params: IdParam },
  responses: { 200: json(PhotoDetail, 'The photo'), ...errors(404) },
});

const image = createRoute({
  method: 'get',
  path: '/photos/{id}/{variant}',
  operationId: 'getPhotoImage',
  tags: ['Photos'],
  summary: 'Image bytes: thumb or display (JPEG or WebP; ETag, revalidate before reuse)',
  request: {
    params: IdParam.extend({ variant: z.enum(['thumb', 'display']).openapi({ param: { name: 'variant', in: 'path' } }) }),
  },
  responses: {
    200: binary(
      'image/jpeg',
      "The image (Cache-Control: private, no-cache; send If-None-Match). A parent's display image is their own copy with a hidden trace mark, recorded; its ETag is theirs",
    ),
    304: { description: 'Not modified' },
    ...errors(404, 422),
  },
});

const download = createRoute({
  method: 'post',
  path: '/photos/{id}/download',
  operationId: 'downloadPhoto',
  tags: ['Photos'],
  summary: 'Download the original with a trace code (own child tagged; recorded)',
  request: {
    params: IdParam,
    body: {
      content: {
        'application/json': {
          schema: z
            .object({ acceptRules: z.boolean().optional().openapi({ description: 'Required (true) before the first download' }) })
            .openapi('DownloadRequest'),
        },
      },
      required: false,
    },
  },
  responses: {
    200: {
      ...binary('image/jpeg', 'The file; its trace code in X-Trace-Code and in the file name'),
      headers: { 'X-Trace-Code': { schema: { type: 'string' }, description: 'The code that maps this copy back to the download record' } },
    },
    ...errors(404, 422),
  },
});

export const photoRoutes: ApiModule = (api, { portal }) => {
  const serve = imageServer(portal);

  api.openapi(meta, async (c) => {
    const actor = c.var.api.actor;
    const photo = await photoForActor(c.var.em, actor, c.req.valid('param').id);
    return c.json(
      {
        ...photo,
        downloadable: photo.downloadable,
        rulesAcceptanceRequired: photo.downloadable && (await mustAcceptRules(c.var.em, actor)),
      },
      200,
    );
  });

  api.openapi(image, async (c) => {
    const { id, variant } = c.req.valid('param');
    return (await serve(c as never, c.var.api.actor, id, variant, 'Authorization')) as never;
  });

  api.openapi(download, async (c) => {
    // No body at all is fine (acceptRules only matters before the first download).
    const body = c.req.valid('json');
    const file = await downloadPhoto(c.var.em, portal, c.var.api.actor, c.req.valid('param').id, {
      ip: c.var.clientIp,
      userAgent: c.req.header('User-Agent') ?? null,
      rulesAccepted: body.acceptRules === true,
    });
    return c.body(new Uint8Array(file.data), 200, {
      'Content-Type': file.contentType,
      'Content-Disposition': `attachment; filename="${file.filename}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Trace-Code': file.traceCode,
    }) as never;
  });
};
