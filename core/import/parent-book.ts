import type { Language } from '../entities/organisation.ts';
import type { RowProblem } from './report.ts';

/**
 * The parents of a file, gathered across its rows. In a planning export a parent is repeated on
 * the row of each of their children, copied by hand in the planning system, so the copies
 * drift: the sample export has the same e-mail with the surname of the child on one row and the
 * parent's own surname on another, and a different mobile number per child. The e-mail address
 * is the parent's key (their username), so:
 *
 * - a different first name for the same e-mail is a conflict: two people cannot share one
 *   account, and we cannot tell which is right. Every row with that e-mail is an error that
 *   names the other lines.
 * - a different infix, last name, phone or language is a warning: the first row that has the
 *   parent gives the name (first name, infix and last name together, never mixed); the first
 *   non-empty phone and language are used. Each differing later row is named in a warning.
 *
 * Memory: one entry per e-mail; a row that repeats the parent exactly (siblings) costs one
 * number. Strings are copied out of the file's text so the text itself can be freed.
 */

export interface ParentColumns {
  email: string;
  firstName: string;
  infix: string;
  lastName: string;
  phone: string;
  language?: string;
}

export interface ParentOccurrence {
  line: number;
  email: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  phone: string | null;
  language?: Language | null;
  /** The file's headers of the cells, for messages (one shared object per column set). */
  columns: ParentColumns;
}

/** The parent as the import writes it. */
export interface MergedParent {
  email: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  phone: string | null;
  language: Language | null;
  /** The first line that names the parent (among the rows imported). */
  line: number;
  /** Database id once written (null: would be created, in a dry run). */
  id?: number | null;
}

interface Entry extends MergedParent {
  columns: ParentColumns;
  /** Later rows: a line number for an exact repeat of the first, the occurrence when it differs. */
  more?: (number | ParentOccurrence)[];
}

/** A copy of the string that does not keep the file chunk it was cut from alive. */
const own = <T extends string | null | undefined>(s: T): T => (typeof s === 'string' && s.length >= 13 ? JSON.parse(JSON.stringify(s)) : s);

const same = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();

const nameOf = (p: { firstName: string; infix: string | null; lastName: string }) =>
  [p.firstName, p.infix, p.lastName].filter(Boolean).join(' ');

export class ParentBook {
  private readonly byEmail = new Map<string, Entry>();

  /** Adds a row's parent; returns the e-mail string to keep (shared by every row of the parent). */
  add(o: ParentOccurrence): string {
    const entry = this.byEmail.get(o.email);
    if (!entry) {
      const email = own(o.email);
      this.byEmail.set(email, {
        email,
        firstName: own(o.firstName),
        infix: own(o.infix),
        lastName: own(o.lastName),
        phone: own(o.phone),
        language: o.language ?? null,
        line: o.line,
        columns: o.columns,
      });
      return email;
    }
    const repeat =
      o.firstName === entry.firstName &&
      o.infix === entry.infix &&
      o.lastName === entry.lastName &&
      o.phone === entry.phone &&
      (o.language ?? null) === entry.language &&
      o.columns === entry.columns;
    entry.more ??= [];
    entry.more.push(
      repeat
        ? o.line
        : { ...o, email: entry.email, firstName: own(o.firstName), infix: own(o.infix), lastName: own(o.lastName), phone: own(o.phone) },
    );
    return entry.email;
  }

  /** Every occurrence of an entry, in file order. */
  private occurrences(e: Entry): ParentOccurrence[] {
    const first: ParentOccurrence = { ...e };
    return [first, ...(e.more ?? []).map((m) => (typeof m === 'number' ? { ...first, line: m } : m))];
  }

  /** E-mails named with different first names: an error on every row involved. */
  conflicts(): { problems: RowProblem[]; lines: Set<number> } {
    const problems: RowProblem[] = [];
    const lines = new Set<number>();
    for (const [email, entry] of this.byEmail) {
      if (!entry.more?.some((m) => typeof m !== 'number' && !same(m.firstName, entry.firstName))) continue;
      const list = this.occurrences(entry);
      for (const o of list) {
        const others = list.filter((x) => !same(x.firstName, o.firstName));
        const named = others
          .slice(0, 3)
          .map((x) => `"${x.firstName}" on line ${x.line}`)
          .join(', ');
        const more = others.length > 3 ? ` and ${others.length - 3} more` : '';
        problems.push({
          line: o.line,
          column: o.columns.firstName,
          message:
            `parent ${email} is "${o.firstName}" here but ${named}${more}: ` +
            'one e-mail address is one parent account; correct the name or give each parent their own address',
        });
        lines.add(o.line);
      }
    }
    return { problems, lines };
  }

  /**
   * Decides each parent's details from the rows still alive (see above), and warns about every
   * later row whose details differ from the ones used. Returns the parents by e-mail.
   */
  merge(alive: (line: number) => boolean): { parents: Map<string, MergedParent>; warnings: RowProblem[] } {
    const warnings: RowProblem[] = [];
    for (const [email, entry] of this.byEmail) {
      const simple = !entry.more || entry.more.every((m) => typeof m === 'number');
      if (simple && alive(entry.line)) {
        delete entry.more;
        continue;
      }
      const list = this.occurrences(entry).filter((o) => alive(o.line));
      const first = list[0];
      if (!first) {
        this.byEmail.delete(email);
        continue;
      }
      const phoneFrom = list.find((o) => o.phone);
      const languageFrom = list.find((o) => o.language);
      Object.assign(entry, {
        firstName: first.firstName,
        infix: first.infix,
        lastName: first.lastName,
        phone: phoneFrom?.phone ?? null,
        language: languageFrom?.language ?? null,
        line: first.line,
      });
      delete entry.more;
      for (const o of list) {
        if (o === first) continue;
        if (!same(o.infix, first.infix) || !same(o.lastName, first.lastName) || o.firstName !== first.firstName) {
          warnings.push({
            line: o.line,
            column: !same(o.lastName, first.lastName) ? o.columns.lastName : !same(o.infix, first.infix) ? o.columns.infix : o.columns.firstName,
            message: `parent ${email} is "${nameOf(o)}" here but "${nameOf(first)}" on line ${first.line}; the name of line ${first.line} is used`,
          });
        }
        if (o.phone && phoneFrom && o.phone !== phoneFrom.phone) {
          warnings.push({
            line: o.line,
            column: o.columns.phone,
            message: `parent ${email} has phone ${o.phone} here but ${phoneFrom.phone} on line ${phoneFrom.line}; the phone of line ${phoneFrom.line} is used`,
          });
        }
        if (o.language && languageFrom && o.language !== languageFrom.language && o.columns.language) {
          warnings.push({
            line: o.line,
            column: o.columns.language,
            message: `parent ${email} has language ${o.language} here but ${languageFrom.language} on line ${languageFrom.line}; ${languageFrom.language} is used`,
          });
        }
      }
    }
    return { parents: this.byEmail, warnings };
  }
}
