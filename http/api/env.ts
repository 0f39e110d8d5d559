import type { ApiTokenInfo } from '../../core/auth/api-tokens.ts';
import type { AppVariables } from '../env.ts';

/**
 * The API's request context: the web app's (request id, language, unit of work, client IP; the
 * cookie session is never loaded here) plus the bearer token behind the request, set by the
 * token gate (http/api/auth.ts) on every route that needs one.
 */
export type ApiEnv = { Variables: AppVariables & { api: ApiTokenInfo } };
