import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Throttle } from '../../core/auth/throttle.ts';
import type { Portal } from '../../core/portal.ts';
import type { ApiEnv } from './env.ts';

/** What every API route module gets. */
export interface ApiDeps {
  portal: Portal;
  /** The login brake shared with the web login (POST /session). */
  throttle: Throttle;
  /** The token gate plus the per-token rate limit; put it in a route's `middleware`. */
  auth: MiddlewareHandler<ApiEnv>;
}

/**
 * One area of the API: registers its operations (createRoute + zod schemas, so they appear in
 * the OpenAPI document and the reference page by themselves). Core's areas are listed in
 * API_MODULES (http/api/app.ts); a plugin's comes through its `api` hook.
 */
export type ApiModule = (api: OpenAPIHono<ApiEnv>, deps: ApiDeps) => void;

/** Security requirement of a protected operation in the OpenAPI document. */
export const BEARER = [{ bearer: [] as string[] }];
