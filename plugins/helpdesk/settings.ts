import { z } from 'zod';

/** `plugins.helpdesk.…` (besides `enabled`, default on). */
export const helpdeskSettings = z.object({
  /** Questions a visitor who is not logged in may send per hour from one IP address. */
  anonymousPerHour: z.coerce.number().int().min(1).max(1000).default(5),
  /** Questions one account may send per hour, from wherever (web form and app together). */
  perAccountPerHour: z.coerce.number().int().min(1).max(1000).default(10),
  /** Questions per hour from one IP address, logged in or not (a location's shared connection). */
  perIpPerHour: z.coerce.number().int().min(1).max(10_000).default(30),
  /** Questions per hour for the whole portal: each one sends two mails. */
  perHour: z.coerce.number().int().min(1).max(100_000).default(200),
});
export type HelpdeskConfig = z.output<typeof helpdeskSettings>;
