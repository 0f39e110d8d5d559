import type { WebContext } from './env.ts';

/** The text fields of a posted form (files and repeated fields ignored), each at most `max` long. */
export async function readForm(c: WebContext, max = 4096): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') out[key] = value.slice(0, max);
  }
  return out;
}

export const isHtmx = (c: WebContext) => c.req.header('HX-Request') === 'true';

/**
 * After a successful POST: 303 to the next page (POST-redirect-GET). An htmx request gets
 * HX-Redirect instead, so the browser loads the whole next page rather than htmx following the
 * redirect and swapping a full page into a fragment.
 */
export function seeOther(c: WebContext, location: string): Response {
  if (isHtmx(c)) {
    c.header('HX-Redirect', location);
    return c.body(null, 204);
  }
  return c.redirect(location, 303);
}
