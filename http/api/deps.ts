import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Throttle } from '../../core/auth/throttle.ts';
import type { Portal } from '../../core/portal.ts';
import type { ApiEnv, AuthedApiEnv } from './env.ts';

/** What every API route module gets. */
export interface ApiDeps {
  portal: Portal;
  /** The login brake shared with the web login (POST /session). */
  throttle: Throttle;
}

/**
 * One area of the API: registers its operations (createRoute + zod schemas, so they appear in
 * the OpenAPI document and the reference page by themselves) on the group behind the token gate:
 * `c.var.api` (token, account, actor) is always there, and no operation registered here can be
 * reached without a valid token. Core's areas are listed in API_MODULES (http/api/app.ts); a
 * plugin's comes through its `api` hook. Each operation names a unique camelCase `operationId`
 * (the method name of a generated client).
 */
export type ApiModule = (api: OpenAPIHono<AuthedApiEnv>, deps: ApiDeps) => void;

/**
 * Operations anyone may call (logging in), registered before the token gate. Each declares
 * `security: []` (PUBLIC), overriding the document's top-level bearer requirement; the list is
 * PUBLIC_API_MODULES in http/api/app.ts, and plugins have none.
 */
export type PublicApiModule = (api: OpenAPIHono<ApiEnv>, deps: ApiDeps) => void;

/** The security scheme of the document (every operation needs it unless it says PUBLIC). */
export const BEARER_SCHEME = 'bearer';

/** Security requirement of a public operation: none, overriding the document's top-level one. */
export const PUBLIC: Record<string, string[]>[] = [];
