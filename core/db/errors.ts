import {
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../errors.ts';
import { UNSTORABLE_TEXT } from '../validation.ts';

/**
 * A PostgreSQL error, as the driver throws it or MikroORM wraps it. Its message holds the whole
 * statement with the values bound into it (`insert into … values ('what the visitor typed',
 * 'their@address')`) and its `detail` may quote a value (`Key (email)=(…) already exists`):
 * neither may reach a log. describeDbError says what failed from the code and names alone.
 */
interface PgError extends Error {
  code: string;
  table?: string;
  column?: string;
  constraint?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Table, column and constraint names are ours; anything else is not printed. */
const SAFE_NAME = /^[\w.]{1,100}$/;

function isPgError(err: unknown): err is PgError {
  return err instanceof Error && typeof (err as PgError).code === 'string' && SQLSTATE.test((err as PgError).code);
}

/** The condition names of the SQLSTATEs we meet (PostgreSQL's errcodes appendix), for the log. */
const CONDITIONS: Record<string, string> = {
  '08P01': 'protocol_violation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42703': 'undefined_column',
  '42P01': 'undefined_table',
  '53300': 'too_many_connections',
  '57014': 'query_canceled',
};

/**
 * `database error 22021 (character_not_in_repertoire) in table helpdesk_request`, plus the
 * stack's code locations: what an operator needs, without the statement, its parameters or the
 * detail. Null for anything that is not a database error.
 */
export function describeDbError(err: unknown): string | null {
  if (!isPgError(err)) return null;
  const where = [
    err.table && SAFE_NAME.test(err.table) ? ` in table ${err.table}` : '',
    err.column && SAFE_NAME.test(err.column) ? ` column ${err.column}` : '',
    err.constraint && SAFE_NAME.test(err.constraint) ? ` constraint ${err.constraint}` : '',
  ].join('');
  const frames = (err.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at '));
  return [`database error ${err.code} (${CONDITIONS[err.code] ?? 'see the PostgreSQL error codes'})${where}`, ...frames].join('\n');
}

/** How an error goes into a log line: a database error as describeDbError, anything else its stack. */
export function loggableError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return describeDbError(err) ?? err.stack ?? err.message;
}

/** loggableError in one line, without the stack (job failures, warnings). */
export function loggableMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return describeDbError(err)?.split('\n')[0] ?? err.message;
}

/**
 * SQLSTATEs of text the database could not store: a NUL byte (22021, or 08P01 "invalid message
 * format" when node-postgres sends it as a bound parameter), an untranslatable character, too
 * long for the column.
 */
const BAD_TEXT = new Set(['22021', '08P01', '22P05', '22001']);

/**
 * Turns a database error into a DomainError, so callers above core never see driver types.
 * The use cases check the common cases first and give a precise message; this is the net
 * under them (two admins adding the same e-mail at the same moment, say).
 */
export function translateDbError(err: unknown): unknown {
  if (err instanceof UniqueConstraintViolationException) {
    return new DomainError('conflict', 'that record already exists (it was added at the same time elsewhere)');
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return new DomainError('conflict', 'that record is still referenced by other records');
  }
  if (err instanceof NotNullConstraintViolationException) {
    return new DomainError('validation', 'a required value is missing');
  }
  return badTextError(err) ?? err;
}

/**
 * The net under the text schemas (core/validation.ts): text the database refused that one of them
 * missed is the sender's mistake (422 validation), not the server's (500). Null for other errors.
 */
export function badTextError(err: unknown): DomainError | null {
  if (!isPgError(err) || !BAD_TEXT.has(err.code)) return null;
  return new DomainError('validation', err.code === '22001' ? 'a value is too long' : UNSTORABLE_TEXT);
}

/**
 * SQLSTATEs that say the server is not there for us (rather than that a statement was wrong):
 * an administrator or a crash ended the connection (57P01, 57P02), the server is starting or
 * shutting down (57P03), its connections are full (53300), the database went away (3D000), the
 * connection class 08 (08P01 excepted: node-postgres reports a NUL byte with it, see BAD_TEXT).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '3D000', '08000', '08001', '08003', '08004', '08006']);
/** Socket errors node-postgres passes on when it cannot reach the server or loses it. */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * Failures that carry no code: node-postgres when the socket closes under a query, knex's pool
 * when no connection could be had in time, and the server refusing new connections to a database
 * (`allow_connections false`: SQLSTATE 55000, which also means other things, hence the text).
 */
// "Transaction query already complete": knex ends a transaction whose connection died under
// it (kill -9 of PostgreSQL mid-request, test/faults/embedded-kill); the request's next statement
// on it gets this. Nothing of that transaction was committed: a 503, not a 500.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|Connection ended unexpectedly|Client has encountered a connection error|Knex: Timeout acquiring a connection|is not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)|^Transaction query already complete/;

/**
 * Why the database cannot be reached, as a short label safe for a log ("57P01", "ECONNREFUSED",
 * "connection lost"), or null when err is not about reaching it. Looks through `cause` and an
 * AggregateError's errors (a refused connection to both ::1 and 127.0.0.1). Never returns the
 * message itself: knex puts the statement, values bound in, in front of it.
 */
export function databaseUnavailableReason(err: unknown, depth = 0): string | null {
  if (!(err instanceof Error) || depth > 4) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return code;
  if (err.name === 'KnexTimeoutError') return 'no connection in time';
  // The text only for errors without another SQLSTATE: a statement's error quotes what was typed,
  // and a message that says "Connection terminated" is no outage.
  const otherState = typeof code === 'string' && SQLSTATE.test(code) && code !== '55000';
  if (!otherState && UNAVAILABLE_MESSAGE.test(err.message)) return 'connection lost or refused';
  for (const inner of [err.cause, ...(err instanceof AggregateError ? err.errors : [])]) {
    const reason = databaseUnavailableReason(inner, depth + 1);
    if (reason) return reason;
  }
  return null;
}

/** The database is out of reach (stopped, restarting, refusing connections): a 503, not a 500. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return databaseUnavailableReason(err) !== null;
}

/** Runs fn in a transaction and translates database errors on the way out. */
export async function inTransaction<T>(em: EntityManager, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await em.transactional(fn);
  } catch (err) {
    throw translateDbError(err);
  }
}

/**
 * The database named in PORTAL_DATABASE_URL is not on its server. Only `portal init` and
 * `portal db create` create one there: anything else doing it would turn a typo in the URL into
 * a new, empty portal that quietly takes the place of the real one. A configuration problem
 * (exit 2 in the CLI).
 */
export class DatabaseMissingError extends Error {
  constructor(
    readonly database: string,
    readonly server: string,
    /** Why creating it failed, when it was asked for (the user may lack CREATEDB). */
    cannotCreate?: string,
  ) {
    super(
      cannotCreate
        ? `database "${database}" does not exist on ${server} and could not be created: ${cannotCreate}`
        : `database "${database}" does not exist on ${server}; create it with \`portal db create\` or check PORTAL_DATABASE_URL`,
    );
    this.name = 'DatabaseMissingError';
  }
}

/** SQLSTATE 3D000 invalid_catalog_name: the connection named a database the server does not have. */
export function isMissingDatabase(err: unknown): boolean {
  return isPgError(err) && err.code === '3D000';
}
