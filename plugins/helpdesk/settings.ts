import { z } from 'zod';

/** `plugins.helpdesk.…` (besides `enabled`, default on). */
export const helpdeskSettings = z.object({
  /** Questions a visitor who is not logged in may send per hour from one IP address. */
  anonymousPerHour: z.coerce.number().int().min(1).max(1000).default(5),
});
export type HelpdeskConfig = z.output<typeof helpdeskSettings>;
