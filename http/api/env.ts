import type { ApiTokenInfo } from '../../core/auth/api-tokens.ts';
import type { AppVariables } from '../env.ts';

/**
 * The API's request context: the web app's (request id, language, unit of work, client IP; the
 * cookie session is never loaded here). Its public operations (logging in) see only this.
 */
export type ApiEnv = { Variables: AppVariables };

/**
 * Behind the token gate (http/api/auth.ts): the bearer token's account and actor are there by
 * type. Every operation of an ApiModule runs in this context; the gate is the group's own
 * middleware, so an operation cannot be registered without it (http/api/app.ts).
 */
export type AuthedApiEnv = { Variables: AppVariables & { api: ApiTokenInfo } };
