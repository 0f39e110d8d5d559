import { createRoute, z } from '@hono/zod-openapi';
import { issueApiToken, MAX_DEVICE_NAME, revokeOwnApiToken } from '../../../core/auth/api-tokens.ts';
import { type ApiModule, PUBLIC, type PublicApiModule } from '../deps.ts';
import { apiError, ErrorSchema } from '../errors.ts';
import { errors, json, UNAVAILABLE_RESPONSE } from '../schemas.ts';

const LoginBody = z
  .object({
    username: z.string().min(1).max(320).openapi({ description: 'The login e-mail address', example: 'anna@example.nl' }),
    password: z.string().min(1).max(1024),
    deviceName: z.string().max(200).optional().openapi({ description: `Shown in Mijn gegevens (at most ${MAX_DEVICE_NAME} characters kept)`, example: 'iPhone van Anna' }),
  })
  .openapi('LoginRequest');

const TokenSchema = z
  .object({
    token: z.string().openapi({ description: 'Send as `Authorization: Bearer <token>`; shown once, stored only hashed' }),
    tokenType: z.literal('Bearer'),
    expiresAt: z.string().openapi({ description: 'Sliding: moves 90 days past every use' }),
  })
  .openapi('Token');

const refused = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

const login = createRoute({
  method: 'post',
  path: '/session',
  operationId: 'login',
  tags: ['Session'],
  summary: 'Log in: exchange username and password for a bearer token',
  description: 'The one operation without a token. Accounts that must change a generated password or use two-step verification log in on the website.',
  security: PUBLIC,
  request: { body: { content: { 'application/json': { schema: LoginBody } }, required: true } },
  responses: {
    201: json(TokenSchema, 'Logged in'),
    401: refused('Wrong username or password (the same answer for an unknown user)'),
    403: refused('account_suspended, password_change_required (change it on the website first) or second_factor_required (staff with two-step verification use the website)'),
    422: refused('Validation failed'),
    429: refused('Login brake: too many failed attempts; see Retry-After'),
    503: UNAVAILABLE_RESPONSE.ref,
  },
});

const logout = createRoute({
  method: 'delete',
  path: '/session',
  operationId: 'logout',
  tags: ['Session'],
  summary: 'Log out: revoke the token of this request',
  responses: { 204: { description: 'Revoked' }, ...errors() },
});

/** POST /session: public (PUBLIC_API_MODULES in http/api/app.ts). */
export const loginRoutes: PublicApiModule = (api, { portal, throttle }) => {
  api.openapi(login, async (c) => {
    const body = c.req.valid('json');
    const em = c.var.em;
    const result = await issueApiToken(
      { em, hasher: portal.hasher, throttle, settings: portal.config.auth, mail: portal },
      { email: body.username, password: body.password, deviceName: body.deviceName ?? '', ip: c.var.clientIp },
    );
    switch (result.outcome) {
      case 'ok':
        c.header('Cache-Control', 'no-store');
        return c.json({ token: result.token, tokenType: 'Bearer' as const, expiresAt: result.expiresAt.toISOString() }, 201);
      case 'throttled':
        c.header('Retry-After', String(result.retryAfterSeconds));
        return apiError(c, 429, 'rate_limited', `too many failed logins; try again in ${result.retryAfterSeconds} seconds`) as never;
      case 'suspended':
        return apiError(c, 403, 'account_suspended', 'this account is suspended') as never;
      case 'password_change_required':
        return apiError(c, 403, 'password_change_required', 'log in on the website once and choose a new password first') as never;
      case 'second_factor_required':
        return apiError(c, 403, 'second_factor_required', 'accounts with two-step verification log in on the website') as never;
      default:
        return apiError(c, 401, 'unauthenticated', 'wrong username or password') as never;
    }
  });
};

/** DELETE /session: behind the token gate like every other operation. */
export const sessionRoutes: ApiModule = (api) => {
  api.openapi(logout, async (c) => {
    await revokeOwnApiToken(c.var.em, c.var.api.actor, c.var.api.tokenId, c.var.clientIp);
    return c.body(null, 204);
  });
};
