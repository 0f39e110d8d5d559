import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { inTransaction } from '../db/errors.ts';
import { type IOrganisation, type Language, Organisation } from '../entities/organisation.ts';
import { email, language, parseInput, text } from '../validation.ts';

export interface OrganisationView {
  name: string;
  publicUrl: string | null;
  helpdeskEmail: string | null;
  defaultLanguage: Language;
  configured: boolean;
}

const unconfigured: OrganisationView = {
  name: 'Ouderportaal',
  publicUrl: null,
  helpdeskEmail: null,
  defaultLanguage: 'nl',
  configured: false,
};

const view = (o: IOrganisation): OrganisationView => ({
  name: o.name,
  publicUrl: o.publicUrl ?? null,
  helpdeskEmail: o.helpdeskEmail ?? null,
  defaultLanguage: o.defaultLanguage,
  configured: true,
});

/**
 * The organisation's public face (name, URL, helpdesk, language). Public on purpose: the login
 * page shows it before anyone is known. Before `portal init` it returns neutral defaults.
 */
export async function getOrganisation(em: EntityManager): Promise<OrganisationView> {
  const org = await em.findOne(Organisation, { id: 1 });
  return org ? view(org) : unconfigured;
}

const initSchema = z.object({
  name: text(200, 'name'),
  publicUrl: z
    .url({ protocol: /^https?$/, error: 'is not a web address (https://…)' })
    .transform((u) => u.replace(/\/+$/, '')),
  helpdeskEmail: email,
  defaultLanguage: language.default('nl'),
});
export type InitOrganisationInput = z.input<typeof initSchema>;

/**
 * One answer of `portal init`, checked as it is typed with the rules initOrganisation applies
 * (the same schema, so the prompt and the use case never disagree): true, or what is wrong.
 */
export function checkOrganisationField(field: 'name' | 'publicUrl' | 'helpdeskEmail', value: string): true | string {
  const result = initSchema.shape[field].safeParse(value);
  return result.success || (result.error.issues[0]?.message ?? 'is not valid');
}

/** `portal init`: sets up the organisation, or changes it when run again. */
export async function initOrganisation(
  em: EntityManager,
  actor: Actor,
  input: InitOrganisationInput,
): Promise<OrganisationView & { created: boolean }> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(initSchema, input);
  return await inTransaction(em, async (tx) => {
    const existing = await tx.findOne(Organisation, { id: 1 }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (existing) {
      tx.assign(existing, data);
      return { ...view(existing), created: false };
    }
    const org = tx.create(Organisation, { id: 1, ...data });
    return { ...view(org), created: true };
  });
}
