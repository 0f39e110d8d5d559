/**
 * Which column of a file means what. Each kind of file has a list of canonical keys, each with
 * its Dutch header (what our planning system writes and what the template holds), its English
 * header, and the other spellings seen in the wild. Headers are matched loosely: case, accents,
 * spaces and punctuation do not matter ("E-mail ouder 1" = "email_ouder1" = "parent1.email"
 * = "Parent 1 e-mail"). A `--map "Header=key"` names a column that no alias covers.
 */

export interface ColumnSpec<K extends string = string> {
  key: K;
  /** The Dutch header: the planning system's, and the template's. */
  nl: string;
  en: string;
  aliases?: readonly string[];
  /** The file must have this column. */
  required?: boolean;
}

const parentColumns = (n: 1 | 2) =>
  [
    {
      key: `parent${n}.email`,
      nl: `E-mail ouder ${n}`,
      en: `Parent ${n} e-mail`,
      aliases: [`Email ouder ${n}`, `E-mailadres ouder ${n}`, `Parent ${n} email`, `Parent ${n} email address`, `Email parent ${n}`],
    },
    {
      key: `parent${n}.firstName`,
      nl: `Voornaam ouder ${n}`,
      en: `Parent ${n} first name`,
      aliases: [`Roepnaam ouder ${n}`, `First name parent ${n}`],
    },
    {
      key: `parent${n}.infix`,
      nl: `Tussenvoegsel ouder ${n}`,
      en: `Parent ${n} infix`,
      aliases: [`Voorvoegsel ouder ${n}`, `Infix parent ${n}`, `Parent ${n} prefix`],
    },
    {
      key: `parent${n}.lastName`,
      nl: `Achternaam ouder ${n}`,
      en: `Parent ${n} last name`,
      aliases: [`Parent ${n} surname`, `Last name parent ${n}`],
    },
    {
      key: `parent${n}.phone`,
      nl: `Mobiel ouder ${n}`,
      en: `Parent ${n} phone`,
      aliases: [`Telefoon ouder ${n}`, `Telefoonnummer ouder ${n}`, `Mobiel nummer ouder ${n}`, `Parent ${n} mobile`, `Phone parent ${n}`],
    },
  ] as const;

/** The planning system's export: one row per child with its group, consent and up to two parents. */
export const PLANNING_COLUMNS = [
  { key: 'location', nl: 'Locatie', en: 'Location', aliases: ['Vestiging'] },
  { key: 'group', nl: 'Groep', en: 'Group', aliases: ['Groepsnaam', 'Group name'], required: true },
  {
    key: 'child.number',
    nl: 'Kindnummer',
    en: 'Child number',
    aliases: ['Kind nummer', 'Nummer kind', 'Child id', 'Child no'],
    required: true,
  },
  {
    key: 'child.firstName',
    nl: 'Roepnaam kind',
    en: 'Child first name',
    aliases: ['Voornaam kind', 'Roepnaam', 'First name child', 'Child given name'],
    required: true,
  },
  {
    key: 'child.infix',
    nl: 'Tussenvoegsel kind',
    en: 'Child infix',
    aliases: ['Voorvoegsel kind', 'Infix child', 'Child prefix'],
  },
  {
    key: 'child.lastName',
    nl: 'Achternaam kind',
    en: 'Child last name',
    aliases: ['Last name child', 'Child surname'],
    required: true,
  },
  {
    key: 'child.birthDate',
    nl: 'Geboortedatum',
    en: 'Birth date',
    aliases: ['Geboortedatum kind', 'Date of birth', 'Child birth date', 'Birthdate'],
    required: true,
  },
  {
    key: 'consent.internal',
    nl: 'Foto intern',
    en: 'Photo consent internal',
    aliases: ["Foto's intern", 'Toestemming intern', 'Toestemming foto intern', 'Photo internal', 'Consent internal'],
  },
  {
    key: 'consent.external',
    nl: 'Foto extern',
    en: 'Photo consent external',
    aliases: ["Foto's extern", 'Toestemming extern', 'Toestemming foto extern', 'Photo external', 'Consent external'],
  },
  {
    // Optional: the staff member's e-mail; empty leaves the child's mentor as it is (core/directory/mentor.ts).
    key: 'child.mentor',
    nl: 'Mentor',
    en: 'Mentor',
    aliases: ['E-mail mentor', 'Mentor e-mail', 'Mentor email', 'Mentor kind'],
  },
  ...parentColumns(1),
  ...parentColumns(2),
] as const satisfies readonly ColumnSpec[];

export type PlanningKey = (typeof PLANNING_COLUMNS)[number]['key'];

/** A parents-only file (`portal parents import`): one row per parent, or per parent and child. */
export const PARENT_COLUMNS = [
  {
    key: 'email',
    nl: 'E-mail',
    en: 'E-mail',
    aliases: ['E-mailadres', 'Email address', 'E-mail ouder', 'Parent e-mail'],
    required: true,
  },
  { key: 'firstName', nl: 'Voornaam', en: 'First name', aliases: ['Roepnaam', 'Voornaam ouder'], required: true },
  { key: 'infix', nl: 'Tussenvoegsel', en: 'Infix', aliases: ['Voorvoegsel', 'Prefix'] },
  { key: 'lastName', nl: 'Achternaam', en: 'Last name', aliases: ['Surname', 'Achternaam ouder'], required: true },
  { key: 'phone', nl: 'Mobiel', en: 'Phone', aliases: ['Telefoon', 'Telefoonnummer', 'Mobile', 'Mobiel ouder'] },
  { key: 'language', nl: 'Taal', en: 'Language', aliases: ['Voorkeurstaal'] },
  { key: 'childNumber', nl: 'Kindnummer', en: 'Child number', aliases: ['Kind nummer', 'Child id'] },
] as const satisfies readonly ColumnSpec[];

export type ParentKey = (typeof PARENT_COLUMNS)[number]['key'];

/** "E-mail ouder 1" -> "emailouder1": lower case, accents and everything but letters and digits dropped. */
export function normaliseHeader(header: string): string {
  return header
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export interface ColumnProblem {
  line: number;
  column: string;
  message: string;
}

export interface ResolvedColumns<K extends string> {
  /** The column index of each key the file has. */
  index: Partial<Record<K, number>>;
  /** Per column of the file, the key it was read as (null: not used). */
  columns: { header: string; key: K | null }[];
  /** Missing required columns, two columns with the same meaning, a --map that names nothing. */
  problems: ColumnProblem[];
}

/**
 * Parses `--map` values: "E-mail ouder 1=parent1.email". The header is the file's, the key one
 * of the spec's (or its Dutch/English header). Throws a readable message on a bad value.
 */
export function parseColumnMap<K extends string>(
  values: readonly string[],
  spec: readonly ColumnSpec<K>[],
): { header: string; key: K }[] {
  return values.map((value) => {
    const eq = value.lastIndexOf('=');
    const header = eq > 0 ? value.slice(0, eq).trim() : '';
    const target = eq > 0 ? value.slice(eq + 1).trim() : '';
    if (!header || !target) throw new Error(`--map "${value}": write it as "Header in the file=key"`);
    const wanted = normaliseHeader(target);
    const column = spec.find((c) => [c.key, c.nl, c.en].some((name) => normaliseHeader(name) === wanted));
    if (!column) {
      throw new Error(`--map "${value}": "${target}" is not a known key; use one of ${spec.map((c) => c.key).join(', ')}`);
    }
    return { header, key: column.key };
  });
}

/**
 * Decides what each column of the header means. `map` entries win over the aliases. Every
 * problem is listed, each as line 1 with the column it is about.
 */
export function resolveColumns<K extends string>(
  header: readonly string[],
  spec: readonly ColumnSpec<K>[],
  map: readonly { header: string; key: K }[] = [],
): ResolvedColumns<K> {
  const problems: ColumnProblem[] = [];
  const byName = new Map<string, K>();
  for (const c of spec) {
    for (const name of [c.key, c.nl, c.en, ...(c.aliases ?? [])]) byName.set(normaliseHeader(name), c.key);
  }
  const normalised = header.map(normaliseHeader);
  const keys: (K | null)[] = normalised.map((h) => byName.get(h) ?? null);

  for (const m of map) {
    const at = normalised.indexOf(normaliseHeader(m.header));
    if (at < 0) {
      problems.push({ line: 1, column: m.header, message: `--map names a column the file does not have` });
      continue;
    }
    // The mapped column takes the key from any column that had it by its alias.
    for (let i = 0; i < keys.length; i++) if (keys[i] === m.key && i !== at) keys[i] = null;
    keys[at] = m.key;
  }

  const index: Partial<Record<K, number>> = {};
  keys.forEach((key, i) => {
    if (key === null) return;
    const first = index[key];
    if (first !== undefined) {
      problems.push({
        line: 1,
        column: header[i]!,
        message: `means the same as column "${header[first]}" (${key}); remove one, or say which with --map`,
      });
      keys[i] = null;
      return;
    }
    index[key] = i;
  });

  for (const c of spec) {
    if (c.required && index[c.key] === undefined) {
      problems.push({ line: 1, column: c.nl, message: `is missing (also accepted: "${c.en}", or name it with --map "Header=${c.key}")` });
    }
  }
  return { index, columns: header.map((h, i) => ({ header: h, key: keys[i] ?? null })), problems };
}

/** The header line of an empty template: the Dutch headers, or the English ones. */
export function templateHeaders(spec: readonly ColumnSpec[], language: 'nl' | 'en' = 'nl'): string[] {
  return spec.map((c) => (language === 'en' ? c.en : c.nl));
}
