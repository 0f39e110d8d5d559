import { createRoute, z } from '@hono/zod-openapi';
import { DETAIL_FIELDS, type DetailsInput, getOwnProfile, updateOwnDetails } from '../../../core/profile/details.ts';
import { DomainError } from '../../../core/errors.ts';
import type { ApiModule } from '../deps.ts';
import { errors, json } from '../schemas.ts';

const nullableText = z.string().nullable();

const Profile = z
  .object({
    kind: z.enum(['parent', 'staff']),
    email: z.string(),
    firstName: z.string(),
    infix: nullableText,
    lastName: z.string(),
    name: z.string(),
    phone: nullableText,
    street: nullableText,
    postalCode: nullableText,
    city: nullableText,
    language: z.enum(['nl', 'en']),
    notificationMode: z.enum(['off', 'immediate', 'digest']).nullable(),
    pendingEmail: nullableText,
    editable: z.boolean().openapi({ description: 'Whether PATCH /me may change the details (parents)' }),
  })
  .openapi('Profile');

/** The editable details; a field left out keeps its value, an empty string or null clears it. */
const DetailsPatch = z
  .object(Object.fromEntries(DETAIL_FIELDS.map((f) => [f, z.string().max(500).nullable().optional()])) as Record<
    (typeof DETAIL_FIELDS)[number],
    z.ZodOptional<z.ZodNullable<z.ZodString>>
  >)
  .strict()
  .openapi('DetailsPatch');

const getMe = createRoute({
  method: 'get',
  path: '/me',
  operationId: 'getMe',
  tags: ['Profile'],
  summary: 'My details (mijn gegevens)',
  responses: { 200: json(Profile, 'The logged-in person'), ...errors() },
});

const patchMe = createRoute({
  method: 'patch',
  path: '/me',
  operationId: 'updateMe',
  tags: ['Profile'],
  summary: 'Change my name, phone or address (parents; the same rules as mijn gegevens)',
  request: { body: { content: { 'application/json': { schema: DetailsPatch } }, required: true } },
  responses: { 200: json(Profile, 'The details after the change'), ...errors(403, 422) },
});

export const meRoutes: ApiModule = (api) => {
  api.openapi(getMe, async (c) => c.json(await getOwnProfile(c.var.em, c.var.api.actor), 200));

  api.openapi(patchMe, async (c) => {
    const actor = c.var.api.actor;
    const patch = c.req.valid('json');
    // The page posts every field; PATCH sends only what changes, so the rest comes from now.
    const current = await getOwnProfile(c.var.em, actor);
    const input: DetailsInput = {};
    for (const f of DETAIL_FIELDS) {
      const sent = patch[f];
      input[f] = sent === undefined ? (current[f] ?? '') : (sent ?? '');
    }
    const result = await updateOwnDetails(c.var.em, actor, input, { ip: c.var.clientIp });
    if (!result.ok) {
      const details = Object.entries(result.problems).map(([path, problem]) => ({ path, message: problem }));
      throw new DomainError('validation', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
    }
    return c.json(await getOwnProfile(c.var.em, actor), 200);
  });
};
