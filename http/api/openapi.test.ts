import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';
import { type AppEnv, createApp } from '../app.ts';
import { API_BASE } from './app.ts';

/**
 * The OpenAPI document as tools see it: lint-clean under Redocly's `recommended` rules (so a
 * client generator gets a security scheme, an operationId per operation, and a described 4xx
 * everywhere), and its promise about tokens kept: every operation but the public ones answers
 * 401 without a bearer token.
 */

/** The operations anyone may call: logging in. (The document and its reference page are not operations in it.) */
const PUBLIC_OPERATIONS = ['POST /session'];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
}
interface Document {
  security?: Record<string, string[]>[];
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
}

let portal: TestPortal;
let app: Hono<AppEnv>;
let document: Document;

beforeAll(async () => {
  portal = await createTestPortal();
  app = createApp(portal);
  const res = await app.request(`http://localhost${API_BASE}/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as Document;
});
afterAll(() => portal?.destroy());

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ method: method.toUpperCase(), path, op: item[method] }] : [])),
  );

describe('the OpenAPI document', () => {
  it('is clean under the recommended rules: no error, no warning', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document, null, 2), absoluteRef: 'openapi.json', config });
    const shown = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location.map((l) => l.pointer).join(', ')})`);
    expect(shown, shown.join('\n')).toEqual([]);
  });

  it('declares the bearer scheme once, and every operation has a unique camelCase operationId', () => {
    expect(document.security).toEqual([{ bearer: [] }]);
    const ids = operations().map(({ op }) => op.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('opens only the public operations without a token', () => {
    const open = operations()
      .filter(({ op }) => op.security !== undefined && op.security.length === 0)
      .map(({ method, path }) => `${method} ${path}`);
    expect(open.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
  });

  it('answers 401 to every other operation without a bearer token', async () => {
    const protectedOps = operations().filter(({ method, path }) => !PUBLIC_OPERATIONS.includes(`${method} ${path}`));
    expect(protectedOps.length).toBeGreaterThan(20);
    for (const { method, path } of protectedOps) {
      // Dummy values for the path parameters: the gate must refuse before anything looks them up.
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'variant' ? 'thumb' : '1'));
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
      for (const authorization of [undefined, 'Bearer not-a-token', 'Basic dXNlcjpwYXNz']) {
        const headers: Record<string, string> = { 'X-Forwarded-For': '203.0.113.9' };
        if (body) headers['Content-Type'] = 'application/json';
        if (authorization) headers['Authorization'] = authorization;
        const res = await app.request(`http://localhost${API_BASE}${url}`, { method, headers, body });
        expect(res.status, `${method} ${path} with ${authorization ?? 'no Authorization'}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
        expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('documents the 503 of a database outage once, under components, and every operation refers to it', () => {
    const shared = (document as unknown as { components: { responses: Record<string, { headers?: Record<string, unknown> }> } }).components.responses;
    expect(shared['Unavailable']?.headers).toHaveProperty('Retry-After');
    const without = operations().filter(({ op }) => (op as { responses?: Record<string, { $ref?: string }> }).responses?.['503']?.$ref !== '#/components/responses/Unavailable');
    expect(without.map(({ method, path }) => `${method} ${path}`)).toEqual([]);
  });

  it('keeps the document and the reference public, and asks for a token before saying a path does not exist', async () => {
    for (const path of ['/openapi.json', '/docs']) expect((await app.request(`http://localhost${API_BASE}${path}`)).status, path).toBe(200);
    expect((await app.request(`http://localhost${API_BASE}/bestaat-niet`)).status).toBe(401);
  });
});
