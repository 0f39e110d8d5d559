import { escapeHtml } from '../../core/messages/format.ts';

/**
 * The API reference as a plain server-rendered page, built from the generated OpenAPI document:
 * no CDN, no Swagger UI bundle, no script, so it lives under the portal's strict CSP like every
 * other page. The document itself (/api/v1/openapi.json) is what tools and app builders load.
 */

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: { type?: string; enum?: string[] } }[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  /** A response shared under components (the 503) is a `$ref`: shown by its name. */
  responses?: Record<string, { description?: string; $ref?: string }>;
}

export interface DocsInput {
  title: string;
  version: string;
  base: string;
  cssHref?: string;
  paths: Record<string, Record<string, Operation>>;
  /** The document's top-level requirement, which an operation without its own `security` inherits. */
  security?: unknown[];
  /** Areas that exist on the website but not yet in the API. */
  notYet: readonly string[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function renderDocs(input: DocsInput): string {
  const e = escapeHtml;
  const ops: { tag: string; method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(input.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ tag: op.tags?.[0] ?? 'Other', method, path, op });
    }
  }
  const tags = [...new Set(ops.map((o) => o.tag))];
  const section = (tag: string) => {
    const rows = ops
      .filter((o) => o.tag === tag)
      .map(({ method, path, op }) => {
        const params = (op.parameters ?? [])
          .map((p) => `<li><code>${e(p.name)}</code> (${e(p.in)}${p.required ? ', required' : ''}${p.schema?.enum ? `: ${e(p.schema.enum.join(' | '))}` : ''})${p.description ? ` ${e(p.description)}` : ''}</li>`)
          .join('');
        const body = Object.entries(op.requestBody?.content ?? {})
          .map(([type, media]) => `<li>body: <code>${e(type)}</code>${media.schema?.$ref ? ` ${e(media.schema.$ref.split('/').at(-1) ?? '')}` : ''}</li>`)
          .join('');
        const responses = Object.entries(op.responses ?? {})
          .map(([status, r]) => `<li><code>${e(status)}</code> ${e(r.description ?? r.$ref?.split('/').at(-1) ?? '')}</li>`)
          .join('');
        return `<article class="api-op" id="${e(`${method}-${path}`)}">
  <h3><code>${e(method.toUpperCase())} ${e(input.base)}${e(path)}</code></h3>
  <p>${e(op.summary ?? '')}${(op.security ?? input.security)?.length ? '' : ' <strong>(no token needed)</strong>'}${op.operationId ? ` <small>(<code>${e(op.operationId)}</code>)</small>` : ''}</p>
  ${params || body ? `<ul>${params}${body}</ul>` : ''}
  <details><summary>Responses</summary><ul>${responses}</ul></details>
</article>`;
      })
      .join('\n');
    return `<section><h2>${e(tag)}</h2>\n${rows}</section>`;
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(input.title)} ${e(input.version)}</title>
${input.cssHref ? `<link rel="stylesheet" href="${e(input.cssHref)}">` : ''}
</head>
<body>
<main class="page">
<h1>${e(input.title)} <small>${e(input.version)}</small></h1>
<p>Base: <code>${e(input.base)}</code>. Log in with <code>POST ${e(input.base)}/session</code> and send the token as
<code>Authorization: Bearer &lt;token&gt;</code>. Errors are <code>{ "error": { "code", "message", "details" } }</code>;
lists are <code>{ "items", "nextCursor" }</code> (pass <code>?cursor=</code> for the next page). The machine-readable
document is <a href="${e(input.base)}/openapi.json"><code>openapi.json</code></a> (OpenAPI 3.1).</p>
${tags.map(section).join('\n')}
${input.notYet.length ? `<section><h2>Not yet in the API</h2><ul>${input.notYet.map((n) => `<li>${e(n)}</li>`).join('')}</ul></section>` : ''}
</main>
</body>
</html>`;
}
