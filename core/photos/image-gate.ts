import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { filterOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { actorForAccount, hashSessionId, type SessionSettings, TOUCH_EVERY_MS } from '../auth/sessions.ts';
import { TOKEN_SHAPE } from '../auth/tokens.ts';
import { clockOf } from '../clock.ts';
import { queryPrepared } from '../db/prepared.ts';
import { type IAccount, Session } from '../entities/account.ts';
import { STAFF_ROLES } from '../entities/staff.ts';

/**
 * The thumbnail's gate: from the session cookie's value and a photo id, in one prepared
 * statement and without the ORM, whether that session may have that photo's thumbnail right
 * now, and its store key. An album page asks for thirty thumbnails at once; the full way
 * (session hydration, then the visibility query) cost more than the bytes (issue 18).
 *
 * It decides nothing of its own. The session's life is lookupSession's (core/auth/sessions.ts):
 * suspended or inactive accounts, the absolute and idle timeouts, and the steps a session may
 * still owe (second factor, generated password, second-factor set-up) that only open their own
 * page. Who sees the photo is the catalogue's `photo.view`, compiled by `filterOf` for every kind
 * of actor an account can be (actorForAccount), with the actor's id bound to the session's row
 * inside the statement instead of a number. Every request reads the rows afresh, so a suspension
 * or a withdrawn consent counts on the very next one.
 *
 * Only "serve" is an answer: anything else (no session, an ended or gated one, a refused,
 * unknown or unprocessed photo) says why it does not serve, and the web layer then takes the
 * ordinary way, which deletes ended sessions, sends to the login page or the owed step, and
 * answers "not found" as always. The statement only reads; the activity (lastSeenAt) is written
 * once a minute beside it, as lookupSession writes it.
 */


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ThumbVerdict =
  | { serve: true; key: string; accountId: number }
  | { serve: false; why: 'no session' | 'ended' | 'gated' | 'not found' };

/**
 * Stand-ins for the acting person's id while the catalogue compiles: each `?` bound to one
 * becomes a reference to the session's own row. Symbols, so that no real id can be mistaken for
 * one, and a rule that ever put an id into its SQL text instead of binding it fails loudly.
 */
const PARENT_ID = Symbol('the session account\'s parent_id');
const STAFF_ID = Symbol('the session account\'s staff_id');
/** The statement's alias for the session row; no rule uses it. */
const GATE = 'image_gate';
const BOUND: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [PARENT_ID, `${GATE}.parent_id`],
  [STAFF_ID, `${GATE}.staff_id`],
]);

/**
 * The actor an account of each kind is, as lookupSession makes it (actorForAccount), with the
 * stand-ins for its id. Only the fields actorForAccount reads are given.
 */
function kindsOfAccount(): { when: string; actor: Actor }[] {
  const account = (person: { parent: unknown; staff: unknown }) =>
    actorForAccount({ id: 0, email: 'image-gate', ...person } as unknown as IAccount);
  return [
    { when: `${GATE}.parent_id is not null`, actor: account({ parent: { id: PARENT_ID }, staff: null }) },
    ...STAFF_ROLES.map((role) => ({
      when: `${GATE}.staff_id is not null and ${GATE}.role = '${role}'`,
      actor: account({ parent: null, staff: { id: STAFF_ID, role } }),
    })),
  ];
}

/** A compiled filter with the stand-ins replaced by columns; the other bindings stay bindings. */
function bindToSession(fragment: { sql: string; params: unknown[] }): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let i = 0;
  const sql = fragment.sql.replace(/\?/g, () => {
    const value = fragment.params[i++];
    const column = BOUND.get(value);
    if (column) return column;
    if (typeof value === 'symbol') throw new Error(`image gate: unexpected binding ${String(value)}`);
    params.push(value);
    return '?';
  });
  if (i !== fragment.params.length) throw new Error('image gate: the filter\'s bindings do not match its placeholders');
  return { sql, params };
}

interface Statement {
  day: string;
  name: string;
  sql: string;
  /** The bindings of the access part (the day), after the session's own. */
  accessParams: unknown[];
}

let compiled: Statement | undefined;

/**
 * The statement for the portal clock's day (the catalogue binds the day for placements in
 * force; the text is the same every day, the bindings are not). Made once a day.
 */
function statement(em: EntityManager): Statement {
  const day = clockOf(em).today();
  if (compiled?.day === day) return compiled;
  const branches = kindsOfAccount().map(({ when, actor }) => ({ when, filter: bindToSession(filterOf(em, actor, 'photo.view')) }));
  // An account whose kind no branch names (a role added later) is refused here and so takes
  // the ordinary way, which knows it.
  const access = `case ${branches.map((b) => `when ${b.when} then (${b.filter.sql})`).join(' ')} else false end`;
  const sql = `with ${GATE} as (
      select s.id_hash, s.account_id, a.parent_id, a.staff_id, st.role, s.last_seen_at <= ?::timestamptz as stale,
             case
               when a.suspended_at is not null or (a.staff_id is not null and not st.active) then 'ended'
               when s.expires_at <= ?::timestamptz or s.last_seen_at <= ?::timestamptz then 'ended'
               when s.second_factor_pending or a.password_must_change
                 or (?::boolean and a.staff_id is not null and a.totp_enabled_at is null) then 'gated'
               else 'live'
             end as state
        from session s
        join account a on a.id = s.account_id
        left join staff st on st.id = a.staff_id
       where s.id_hash = ?
    )
    select ${GATE}.state, ${GATE}.account_id, ${GATE}.stale,
           (select p.thumb_key from photo p where p.id = ?::uuid and ${GATE}.state = 'live' and (${access})) as key
      from ${GATE}`;
  compiled = {
    day,
    sql,
    name: `image_gate_${createHash('sha1').update(sql).digest('hex').slice(0, 12)}`,
    accessParams: branches.flatMap((b) => b.filter.params),
  };
  return compiled;
}

/**
 * Whether the session behind `token` may have the thumbnail of `photoId` now, decided in one
 * statement, and records the session's activity as lookupSession does (at most once a minute,
 * gated sessions included: a second, rare statement). Ended sessions are left for lookupSession
 * to delete.
 */
export async function thumbForSession(
  em: EntityManager,
  settings: SessionSettings,
  token: string | undefined,
  photoId: string,
): Promise<ThumbVerdict> {
  if (!token || !TOKEN_SHAPE.test(token)) return { serve: false, why: 'no session' };
  const wellFormed = UUID.test(photoId);
  const now = clockOf(em).now().getTime();
  const s = statement(em);
  const idHash = hashSessionId(token);
  const touchBefore = new Date(now - TOUCH_EVERY_MS);
  const rows = await queryPrepared<{ state: 'ended' | 'gated' | 'live'; account_id: number; stale: boolean; key: string | null }>(em, s.name, s.sql, [
    touchBefore,
    new Date(now),
    new Date(now - settings.sessionIdleMinutes * 60_000),
    settings.requireSecondFactorForStaff,
    idHash,
    // A malformed id still opens (and touches) the session; it simply finds no photo.
    wellFormed ? photoId : '00000000-0000-0000-0000-000000000000',
    ...s.accessParams,
  ]);
  const row = rows[0];
  if (!row) return { serve: false, why: 'no session' };
  if (row.state !== 'ended' && row.stale) {
    // As lookupSession: a live session's activity (a gated one's too), at most once a minute,
    // as a plain update outside the statement, so the statement itself only reads. The
    // condition keeps thirty thumbnails at once from writing thirty times.
    await em.nativeUpdate(Session, { idHash, lastSeenAt: { $lte: touchBefore } }, { lastSeenAt: new Date(now) });
  }
  if (row.state !== 'live') return { serve: false, why: row.state };
  if (!wellFormed || !row.key) return { serve: false, why: 'not found' };
  return { serve: true, key: row.key, accountId: row.account_id };
}
