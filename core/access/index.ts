/**
 * Who may do what: the catalogue of actions (catalogue.ts), built from shared rules (rules.ts,
 * conditions.ts) over the kinds of object (targets.ts), compiled to SQL (engine.ts). Use cases
 * name their action; nothing else in the portal decides access.
 */
export { type ActionDescription, type ActionName, type ActionsOn, actionNames, catalogue, describeCatalogue } from './catalogue.ts';
export { authorize, boundOf, can, explain, filterOf, groupsOf, mayDo, permittedActions, requireAdmin, type Scope, scopeFilter, scopeIds, scopeOf } from './engine.ts';
export { isAdmin, isManager, isPerson, isSystem, parentIdOf, type Side, sideOf, staffIdOf, worksForOrganisation } from './actors.ts';
export { everyTaggedChildConsents, SHAREABLE, settledThreadFilter } from './conditions.ts';
export type { TargetKind } from './targets.ts';
export { PARENT_GROUPS_SQL } from './rules.ts';
export { parentIsActive } from './active.ts';
export { type AccessAnswer, whyMay } from './explain.ts';
