import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { clockOf } from '../clock.ts';
import { forbidden, notFound } from '../errors.ts';
import { type ActionName, type ActionsOn, actionNames, catalogue } from './catalogue.ts';
import { EVERY, type Rule, type RuleContext, type Sql } from './rules.ts';
import { type Target, type TargetKind, targets, wellFormedId } from './targets.ts';

/**
 * The catalogue compiled to SQL. An action's rules become one statement per question:
 * - `authorize(em, actor, action, id)`: may the actor do this to that object? Not found if not.
 * - `scopeOf(em, actor, action)`: the ids a list may contain (`all`, `none`, or a sub-select).
 * - `permittedActions(em, actor, kind, id)`: which of the kind's actions the actor may take.
 * Every rule is evaluated in the database on the portal clock's day, so placements that ended
 * yesterday, a suspension a minute ago and a consent withdrawn just now all count at once.
 */

/** The ids an actor may act on: every object of the kind, none, or those a sub-select yields. */
export type Scope = { kind: 'all' } | { kind: 'none' } | ({ kind: 'some' } & Sql);

const ALL: Scope = { kind: 'all' };
const NONE: Scope = { kind: 'none' };

function context(em: EntityManager, actor: Actor): RuleContext {
  return { actor, day: clockOf(em).today() };
}

function relationColumn(target: Target, rule: Rule): string | undefined {
  if (rule.on === 'any') return undefined;
  return target[rule.on];
}

/**
 * One rule as a predicate on the target row (`t.alias`); undefined when the rule does not
 * apply to the actor or cannot reach this kind of object.
 */
function predicate(target: Target, rule: Rule, ctx: RuleContext): Sql | undefined {
  const grant = rule.grant(ctx);
  if (grant === null) return undefined;
  const parts: string[] = [];
  const params: unknown[] = [];
  if (grant !== EVERY) {
    const column = relationColumn(target, rule);
    if (!column) return undefined;
    parts.push(`${column} in (${grant.sql})`);
    params.push(...grant.params);
  }
  for (const condition of rule.where) {
    const c = condition.sql(target, ctx);
    if (!c) continue;
    parts.push(`(${c.sql})`);
    params.push(...c.params);
  }
  return { sql: parts.length ? parts.join(' and ') : 'true', params };
}

/** The action's rules as one predicate on the target row, or null when no rule applies to the actor. */
function actionPredicate(action: ActionName, ctx: RuleContext): Sql | null {
  const declaration = catalogue[action];
  const target: Target = targets[declaration.target];
  const preds = declaration.anyOf.map((rule) => predicate(target, rule, ctx)).filter((p) => p !== undefined);
  if (preds.length === 0) return null;
  if (preds.some((p) => p.sql === 'true')) return { sql: 'true', params: [] };
  // Parenthesised as a whole: callers append `and …` to it.
  return { sql: `(${preds.map((p) => `(${p.sql})`).join(' or ')})`, params: preds.flatMap((p) => p.params) };
}

/**
 * The scope of a list: which objects of the action's kind the actor may act on. Lists put it in
 * their where clause (`x.id in (scope.sql)`), so they show exactly what `authorize` allows.
 */
export function scopeOf(em: EntityManager, actor: Actor, action: ActionName): Scope {
  const pred = actionPredicate(action, context(em, actor));
  if (!pred) return NONE;
  if (pred.sql === 'true') return ALL;
  const target: Target = targets[catalogue[action].target];
  return { kind: 'some', sql: `select ${target.alias}.id from ${target.table} ${target.alias} where ${pred.sql}`, params: pred.params };
}

/**
 * The action's rules as a where-clause on the target's own alias (`p` for photos, `mt` for
 * threads, see targets.ts), for queries that read the target table themselves: the album, the
 * inbox. Cheaper than `x.id in (scope)` and the same words.
 */
export function filterOf(em: EntityManager, actor: Actor, action: ActionName): Sql {
  return actionPredicate(action, context(em, actor)) ?? { sql: 'false', params: [] };
}

/** The action's target, and its rules that apply to this actor with their grants (for the bounds below). */
function grantsOf(em: EntityManager, actor: Actor, action: ActionName): { target: Target; applying: { rule: Rule; grant: Sql | typeof EVERY }[] } {
  const ctx = context(em, actor);
  const applying = catalogue[action].anyOf.flatMap((rule) => {
    const grant = rule.grant(ctx);
    return grant === null ? [] : [{ rule, grant }];
  });
  return { target: targets[catalogue[action].target], applying };
}

/**
 * The groups the action's objects can lie in for this actor: the union of the grants of its
 * rules that reach the target through its group, conditions on the object left out. A bound,
 * not a decision: the caller still filters every object with `filterOf`. For queries that walk
 * an index group by group (the album) instead of filtering the whole table. Null when a rule
 * that applies to the actor reaches the objects otherwise (an administrator reaches them all).
 */
export function groupsOf(em: EntityManager, actor: Actor, action: ActionName): Sql | null {
  const { target, applying } = grantsOf(em, actor, action);
  const grants: Sql[] = [];
  for (const { rule, grant } of applying) {
    if (grant !== EVERY && rule.on === 'group' && target.group) grants.push(grant);
    else if (grant === EVERY || relationColumn(target, rule)) return null;
  }
  if (grants.length === 0) return { sql: 'select null::int where false', params: [] };
  return { sql: grants.map((g) => `(${g.sql})`).join(' union '), params: grants.flatMap((g) => g.params) };
}

/**
 * An index-friendly bound on the action's objects for this actor: each rule's grant as
 * `column = any(array(grant))` on the column it reaches the target by (its group, its location,
 * ...), or'ed; conditions left out. A superset of `filterOf`, never a decision: callers AND it
 * with `filterOf`. PostgreSQL plans `x in (sub-select) or y in (sub-select)` as a scan of the
 * whole table with hashed sub-plans (every announcement, on every page's unread count: 28 ms
 * at Partou's 98,000), while the `any(array(...))` form is an index scan per branch (BitmapOr).
 * Null when a rule reaches the objects without such a column (an administrator reaches all).
 */
export function boundOf(em: EntityManager, actor: Actor, action: ActionName): Sql | null {
  const { target, applying } = grantsOf(em, actor, action);
  const parts: Sql[] = [];
  for (const { rule, grant } of applying) {
    const column = relationColumn(target, rule);
    // No bound by a pair of columns (a thread's child and group): array() holds one column.
    if (grant === EVERY || !column || column.includes(',')) return null;
    parts.push({ sql: `${column} = any(array(${grant.sql}))`, params: grant.params });
  }
  if (parts.length === 0) return { sql: 'false', params: [] };
  return { sql: `(${parts.map((p) => p.sql).join(' or ')})`, params: parts.flatMap((p) => p.params) };
}

/** The scope's ids as a list, for callers that filter with the ORM (`{ id: { $in: ids } }`). */
export async function scopeIds(em: EntityManager, actor: Actor, action: ActionName): Promise<'all' | number[]> {
  const scope = scopeOf(em, actor, action);
  if (scope.kind === 'all') return 'all';
  if (scope.kind === 'none') return [];
  const rows = await em.getConnection().execute<{ id: number }[]>(scope.sql, scope.params, 'all', em.getTransactionContext());
  return [...new Set(rows.map((r) => r.id))];
}

/**
 * The scope as a where-clause fragment on a column holding the target's id (e.g. `p.id` or
 * `p.group_id`), with its bindings: `true`, `false`, or `col in (sub-select)`.
 */
export function scopeFilter(scope: Scope, column: string): Sql {
  if (scope.kind === 'all') return { sql: 'true', params: [] };
  if (scope.kind === 'none') return { sql: 'false', params: [] };
  return { sql: `${column} in (${scope.sql})`, params: scope.params };
}

function checkSql(action: ActionName, ctx: RuleContext, id: unknown): Sql | null {
  const pred = actionPredicate(action, ctx);
  if (!pred) return null;
  const target: Target = targets[catalogue[action].target];
  if (target.id === 'none') return pred.sql === 'true' ? { sql: 'true', params: [] } : null;
  const cast = target.id === 'uuid' ? '::uuid' : '::int';
  return {
    sql: `exists (select 1 from ${target.table} ${target.alias} where ${target.alias}.id = ?${cast} and (${pred.sql}))`,
    params: [id, ...pred.params],
  };
}

/** Whether the actor may take the action on the object (false for a malformed or unknown id). */
export async function can(em: EntityManager, actor: Actor, action: ActionName, id?: number | string): Promise<boolean> {
  const target: Target = targets[catalogue[action].target];
  if (!wellFormedId(target, id)) return false;
  const check = checkSql(action, context(em, actor), id);
  if (!check) return false;
  if (check.sql === 'true') return true;
  const rows = await em.getConnection().execute<{ ok: boolean }[]>(`select ${check.sql} as ok`, check.params, 'all', em.getTransactionContext());
  return rows[0]?.ok === true;
}

/**
 * The check every use case makes before it touches an object: refused, malformed or missing are
 * one answer, "not found" (named `what`, default the target's kind), so a refusal never confirms
 * that something exists.
 */
export async function authorize(em: EntityManager, actor: Actor, action: ActionName, id?: number | string, what?: string): Promise<void> {
  if (!(await can(em, actor, action, id))) throw notFound(what ?? catalogue[action].target);
}

/**
 * Which of a kind's actions the actor may take on one object, in one statement: pages and the
 * app show only the buttons that will work.
 */
export async function permittedActions<K extends TargetKind>(
  em: EntityManager,
  actor: Actor,
  kind: K,
  id: number | string,
): Promise<Set<ActionsOn<K>>> {
  const allowed = new Set<ActionsOn<K>>();
  const target: Target = targets[kind];
  if (!wellFormedId(target, id)) return allowed;
  const ctx = context(em, actor);
  const checks: { action: ActionsOn<K>; sql: Sql }[] = [];
  for (const action of actionNames) {
    if (catalogue[action].target !== kind) continue;
    const check = checkSql(action, ctx, id);
    if (check) checks.push({ action: action as ActionsOn<K>, sql: check });
  }
  if (checks.length === 0) return allowed;
  const rows = await em
    .getConnection()
    .execute<Record<string, boolean>[]>(
      `select ${checks.map((c, i) => `${c.sql.sql} as a${i}`).join(', ')}`,
      checks.flatMap((c) => c.sql.params),
      'all',
      em.getTransactionContext(),
    );
  checks.forEach((c, i) => {
    if (rows[0]?.[`a${i}`] === true) allowed.add(c.action);
  });
  return allowed;
}

/**
 * An action on no object of its own (the organisation's directory, the audit log): allowed or
 * refused by who the actor is, decided without the database.
 */
export function mayDo(actor: Actor, action: ActionsOn<'organisation'>): boolean {
  // No rule on the organisation depends on the day; an empty one keeps it that way (a rule
  // that started to would find no placement and refuse).
  return actionPredicate(action, { actor, day: '' })?.sql === 'true';
}

/**
 * Which of the action's rules let the actor take it on the object, by name (empty: refused).
 * For the admin's question "why can this parent not see that photo?" (`portal access can`).
 */
export async function explain(em: EntityManager, actor: Actor, action: ActionName, id?: number | string): Promise<string[]> {
  const declaration = catalogue[action];
  const target: Target = targets[declaration.target];
  if (!wellFormedId(target, id)) return [];
  const ctx = context(em, actor);
  const granting: string[] = [];
  for (const rule of declaration.anyOf) {
    const pred = predicate(target, rule, ctx);
    if (!pred) continue;
    if (target.id === 'none') {
      if (pred.sql === 'true') granting.push(rule.name);
      continue;
    }
    const cast = target.id === 'uuid' ? '::uuid' : '::int';
    const [row] = await em
      .getConnection()
      .execute<{ ok: boolean }[]>(
        `select exists (select 1 from ${target.table} ${target.alias} where ${target.alias}.id = ?${cast} and (${pred.sql})) as ok`,
        [id, ...pred.params],
        'all',
        em.getTransactionContext(),
      );
    if (row?.ok) granting.push(rule.name);
  }
  return granting;
}

/**
 * The administrator's tasks (provisioning, imports, the audit log, tracing): refused as
 * "forbidden", not "not found", because there is no object whose existence a refusal could
 * reveal, and the terminal should say plainly why.
 */
export function requireAdmin(actor: Actor, action: ActionsOn<'organisation'>): void {
  if (!mayDo(actor, action)) throw forbidden('only an administrator can change the directory');
}
