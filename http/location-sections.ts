import type { HtmlEscapedString } from 'hono/utils/html';
import type { MyLocation } from '../core/profile/my-locations.ts';
import type { AuthedEnv } from './env.ts';
import type { Context } from 'hono';

/**
 * The seam where plugins add to Mijn vestiging (the FAQ about afmelden and ruilen, a swap-day
 * balance): each section is asked once per location on the page and may answer with a heading
 * and a block of HTML, or nothing. The HTML must come from hono's `html` tagged template (which
 * escapes every value put into it); the type asks for its HtmlEscapedString, so a plain string
 * with a parent's text in it does not compile by accident. Sections are passed to createApp
 * (`locationSections`); a section that throws is logged and left out, the page still shows.
 */
export interface LocationSection {
  /** Unique, e.g. the plugin's id: "faq". */
  id: string;
  render(
    c: Context<AuthedEnv>,
    location: MyLocation,
  ): Promise<LocationSectionContent | undefined> | LocationSectionContent | undefined;
}

export interface LocationSectionContent {
  /** Plain text; escaped by the page. */
  heading: string;
  /** What `html\`…\`` returns. */
  body: HtmlEscapedString | Promise<HtmlEscapedString>;
}
