import { createRoute, z } from '@hono/zod-openapi';
import { permittedActions, type TargetKind } from '../../../core/access/index.ts';
import type { ApiModule } from '../deps.ts';
import { errors, json } from '../schemas.ts';

/** The kinds of object an app can ask about (the organisation's tasks are the terminal's). */
const KINDS = ['location', 'group', 'child', 'parent', 'photo', 'thread', 'announcement', 'diaryEntry', 'cancellation', 'credit', 'swapRequest'] as const;
const NUMERIC: ReadonlySet<TargetKind> = new Set(['location', 'group', 'child', 'parent', 'cancellation', 'credit', 'swapRequest']);

const PermittedActions = z
  .object({
    kind: z.enum(KINDS),
    id: z.string(),
    actions: z.array(z.string()).openapi({ description: 'The actions of the catalogue the caller may take on this object now', example: ['photo.view', 'photo.download'] }),
  })
  .openapi('PermittedActions');

const getPermittedActions = createRoute({
  method: 'get',
  path: '/actions/{kind}/{id}',
  operationId: 'getPermittedActions',
  tags: ['Access'],
  summary: 'What I may do with one object (show only the buttons that will work)',
  description:
    'The catalogue of actions (`portal access actions`) evaluated for the caller on one object, in one query: the same rules every ' +
    'endpoint applies. An object the caller may not see, or that does not exist, has no actions (an empty list, never an error that ' +
    'would reveal it exists).',
  request: {
    params: z.object({
      kind: z.enum(KINDS).openapi({ param: { name: 'kind', in: 'path' } }),
      id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2d3e-…' }),
    }),
  },
  responses: { 200: json(PermittedActions, 'The permitted actions'), ...errors() },
});

export const accessRoutes: ApiModule = (api) => {
  api.openapi(getPermittedActions, async (c) => {
    const { kind, id } = c.req.valid('param');
    const key = NUMERIC.has(kind) ? Number(id) : id;
    const actions = await permittedActions(c.var.em, c.var.api.actor, kind, key);
    return c.json({ kind, id, actions: [...actions].sort() }, 200);
  });
};
