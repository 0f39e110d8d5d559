import { createRoute, z } from '@hono/zod-openapi';
import { fullName } from '../../core/people.ts';
import type { ApiModule } from '../../http/api/deps.ts';
import { apiError } from '../../http/api/errors.ts';
import { errors, json } from '../../http/api/schemas.ts';
import type { PluginContext } from '../types.ts';
import { HELPDESK_CATEGORIES } from './entity.ts';
import { helpdeskLimits } from './limits.ts';
import { submitHelpdeskRequest } from './requests.ts';
import type { HelpdeskConfig } from './settings.ts';

/**
 * POST /api/v1/helpdesk: the help button of the app. The same use case as the form, for the
 * logged-in account: the answer goes to the account's own address, never to a typed one, so the
 * API cannot be used to send mail to anyone else. The per-token rate limit applies, and the
 * helpdesk's own limits (./limits.ts), shared with the form: 429 with Retry-After.
 */

const HelpdeskQuestion = z
  .object({
    subject: z.string().min(1).max(200),
    category: z.enum(HELPDESK_CATEGORIES),
    message: z.string().min(1).max(5000),
    fromScreen: z.string().max(200).optional().openapi({ description: 'The app screen (a portal path such as /fotos) the question is about' }),
  })
  .strict()
  .openapi('HelpdeskQuestion');

const postQuestion = createRoute({
  method: 'post',
  path: '/helpdesk',
  operationId: 'askHelpdesk',
  tags: ['Helpdesk'],
  summary: 'Ask the helpdesk a question (the answer comes by e-mail)',
  request: { body: { content: { 'application/json': { schema: HelpdeskQuestion } }, required: true } },
  responses: {
    201: json(z.object({ reference: z.string().openapi({ example: 'HD-7K3QXM' }) }).openapi('HelpdeskReceipt'), 'Stored and on its way'),
    ...errors(422),
  },
});

export const helpdeskApi =
  (ctx: Pick<PluginContext<HelpdeskConfig>, 'portal' | 'config' | 'log'>): ApiModule =>
  (api) => {
    const limits = helpdeskLimits(ctx.portal.em().getConnection().getKnex(), ctx.config);
    api.openapi(postQuestion, async (c) => {
      const body = c.req.valid('json');
      const account = c.var.api.account;
      const verdict = await limits.take({ accountId: account.id, ip: c.var.clientIp });
      if (!verdict.allowed) {
        ctx.log.warn(`helpdesk: questions from account ${account.id} at ${c.var.clientIp ?? 'unknown'} over the ${verdict.limit} limit`);
        c.header('Retry-After', String(verdict.retryAfterSeconds));
        return apiError(c, 429, 'rate_limited', `too many questions; try again in ${verdict.retryAfterSeconds} seconds`) as never;
      }
      const person = account.parent ?? account.staff;
      const { reference } = await submitHelpdeskRequest(
        c.var.em,
        ctx.portal,
        { accountId: account.id, ip: c.var.clientIp },
        {
          subject: body.subject,
          category: body.category,
          message: body.message,
          email: account.email,
          name: person ? fullName(person) : null,
          fromPath: body.fromScreen ?? null,
          language: person?.language ?? 'nl',
        },
      );
      return c.json({ reference }, 201);
    });
  };
