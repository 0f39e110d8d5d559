import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDiary } from '../../test/diary-fixture.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { neutraliseCell } from '../import/csv-safe.ts';
import { neutraliseSql, readCsvRecords } from './csv.ts';
import { writeExport } from './export.ts';
import { type Manifest, parseManifest } from './manifest.ts';
import { ndjsonLines, restoreExport } from './restore.ts';
import { EXCLUDED, EXPORTED, SECRET_COLUMN } from './tables.ts';

let portal: TestPortal;
let out: string;
const HYPERLINK = '=HYPERLINK("https://evil.example","klik")';
/**
 * Texts that a line format can break on: backslashes (COPY's text format doubles them), quotes,
 * line breaks, tabs, unicode, control characters (\x01 and \x02 are the quote and delimiter
 * the ndjson COPY uses), formula starts, and the empty string.
 */
const TRICKY = [
  'back\\slash \\n \\\\ not a newline',
  'say "hi", \'ok\'',
  'line\nbreak',
  'cr\r\nlf\r',
  'tab\there',
  'ünïcødé 😀 \u2028\u2029 ｚ 中文',
  'ctrl \x01\x02\x03\x1b\x1f\x7f end',
  '\x01',
  '=1+1',
  '+31 6 12345678',
  '-5',
  '@home',
  '\t=tab',
  '\r=cr',
  ' =space',
  "'=quoted",
  '',
  ',',
  '"',
  '\\.',
  '\\',
];

/** Runs SQL on a connection of its own: a writer outside the export's transaction. */
async function sql(url: string, text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  portal = await createTestPortal();
  out = mkdtempSync(join(tmpdir(), 'portal-export-'));
  const em = portal.em();
  const f = await seedDiary(em);
  // What the fixture does not cover: accounts with credentials, sessions, the schriftje,
  // messages, downloads, audit, a parent whose name is a spreadsheet formula.
  const u = portal.dbUrl;
  await sql(u, `insert into organisation (id, name, created_at, updated_at) values (1, 'Kinderopvang Zon', now(), now())`);
  await sql(u, `insert into parent (email, first_name, last_name, created_at, updated_at) values ('evil@example.nl', $1, 'Ouder', now(), now())`, [HYPERLINK]);
  await sql(
    u,
    `insert into account (email, parent_id, password_hash, totp_secret, created_at, updated_at)
       select email, id, '$argon2id$v=19$not-really', 'JBSWY3DPEHPK3PXP', now(), now() from parent`,
  );
  await sql(u, `insert into session (id_hash, account_id, created_at, last_seen_at, expires_at) select md5(id::text), id, now(), now(), now() + interval '1 hour' from account`);
  await sql(
    u,
    `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
       select gen_random_uuid(), $1, current_date - d, 'staff', 'Mia', 'Dag ' || d || E'\n"goed", gegeten; -1', '[{"label":"Slapen","text":"12:30"}]', '[]', 1,
              now() - d * interval '1 day', now() - d * interval '1 day'
         from generate_series(0, 11) d`,
    [f.child.evi],
  );
  await sql(
    u,
    `insert into message_thread (id, group_id, child_id, subject, created_at, last_message_at) values (gen_random_uuid(), $1, $2, 'Vraag', now(), now())`,
    [f.group.boomhut, f.child.evi],
  );
  await sql(u, `insert into message (thread_id, author_side, author_label, body, created_at) select id, 'parent', 'Anna', '', now() from message_thread`);
  await sql(
    u,
    `insert into message (thread_id, author_side, author_label, body, created_at) select id, 'staff', 'Mia', b, now() from message_thread, unnest($1::text[]) b`,
    [TRICKY.filter(Boolean)],
  );
  await sql(u, `insert into audit_event (at, type, actor, details) values (now(), 'login.success', 'web:anna@example.nl', '{"n": -1}')`);
  await sql(
    u,
    `insert into photo_download (trace_code, photo_id, photo_ref, parent_id, email, at) select 42, id, id, $1, 'anna@example.nl', now() from photo limit 1`,
    [f.actors.anna.kind === 'parent' ? f.actors.anna.parentId : 0],
  );
});

afterAll(async () => {
  await portal?.destroy();
  rmSync(out, { recursive: true, force: true });
});

const read = (dir: string, file: string) => {
  const raw = readFileSync(join(dir, file));
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
};
const ndjson = (dir: string, table: string) =>
  read(dir, `${table}.ndjson`)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
async function records(text: string) {
  const out: (string | null)[][] = [];
  async function* chunks() {
    yield text;
  }
  for await (const r of readCsvRecords(chunks())) out.push(r);
  return out;
}
const manifestOf = (dir: string): Manifest => parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('the list of tables', () => {
  it('names every table of the migrated database as exported or excluded with a reason', async () => {
    const { rows } = await sql(portal.dbUrl, `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
    const inDb = rows.map((r) => r.table_name as string).sort();
    const listed = new Set([...EXPORTED.map((t) => t.name), ...Object.keys(EXCLUDED)]);
    expect(inDb.filter((t) => !listed.has(t)), 'tables in neither list of core/export/tables.ts').toEqual([]);
    expect([...listed].filter((t) => !inDb.includes(t)), 'listed tables that do not exist').toEqual([]);
    for (const [table, reason] of Object.entries(EXCLUDED)) expect(reason.length, table).toBeGreaterThan(10);
  });

  it('excludes every column whose name says credential, and names only columns that exist', async () => {
    const { rows } = await sql(portal.dbUrl, `select table_name, column_name, data_type from information_schema.columns where table_schema = current_schema()`);
    const columns = (t: string) => rows.filter((r) => r.table_name === t);
    for (const t of EXPORTED) {
      const names = columns(t.name).map((r) => r.column_name as string);
      for (const c of t.excludeColumns ?? []) expect(names, `${t.name}.${c}`).toContain(c);
      const leaking = names.filter((c) => SECRET_COLUMN.test(c) && !t.excludeColumns?.includes(c));
      expect(leaking, `${t.name}: credential-like columns that would be exported`).toEqual([]);
      if (t.since) {
        const col = columns(t.name).find((r) => r.column_name === t.since);
        expect(col?.data_type, `${t.name}.${t.since}`).toBe('timestamp with time zone');
      }
    }
  });

  it('every exported table records its deletions: a trigger with the primary key columns as arguments', async () => {
    const { rows } = await sql(
      portal.dbUrl,
      `select c.relname as table_name, encode(t.tgargs, 'escape') as args,
              (select string_agg(a.attname, ',' order by array_position(i.indkey::int2[], a.attnum))
                 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indrelid = c.oid and i.indisprimary) as key
         from pg_trigger t join pg_class c on c.oid = t.tgrelid
        where t.tgname = c.relname || '_record_deletion'`,
    );
    const byTable = new Map(rows.map((r) => [r.table_name as string, r]));
    for (const t of EXPORTED) {
      const row = byTable.get(t.name);
      expect(row, `${t.name}: no deletion trigger (add deletionTriggerSql for it in a migration)`).toBeDefined();
      // tgargs holds the arguments NUL-separated: the key's columns, in key order.
      expect(String(row!.args).split('\\000').filter(Boolean).join(','), t.name).toBe(row!.key);
    }
  });

  it('lists parents before children, so a restore can insert in this order', async () => {
    const { rows } = await sql(
      portal.dbUrl,
      `select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent from pg_constraint c where c.contype = 'f'`,
    );
    const order = EXPORTED.map((t) => t.name);
    for (const { child, parent } of rows) {
      if (child === parent || !order.includes(child)) continue;
      expect(order.indexOf(parent), `${parent} before ${child}`).toBeLessThan(order.indexOf(child));
    }
  });
});

describe('portal export', () => {
  let dir: string;
  beforeAll(async () => {
    dir = (await writeExport(portal.em(), admin, { out })).dir;
  });

  it('writes every listed table, with counts and SHA-256 in the manifest that match the files', async () => {
    // Named by the portal's clock in UTC: unique and in order also across the night 02:30 comes twice.
    const utc = portal.clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    expect(dir).toMatch(new RegExp(`export-${utc}(-\\d+)?$`));
    const m = manifestOf(dir);
    expect(m.files.map((f) => f.table)).toEqual(EXPORTED.map((t) => t.name));
    expect(m.complete).toBe(true);
    expect(m.schemaVersion).toBe(m.migrations[m.migrations.length - 1]);
    for (const f of m.files) {
      const raw = readFileSync(join(dir, f.file));
      expect(createHash('sha256').update(raw).digest('hex'), f.file).toBe(f.sha256);
      expect(raw.length, f.file).toBe(f.bytes);
      const { rows } = await sql(portal.dbUrl, `select count(*)::int as n from "${f.table}"`);
      expect(raw.toString().split('\n').filter(Boolean).length, f.file).toBe(f.rows);
      // audit_event gained this export's own event after the snapshot.
      if (f.table !== 'audit_event') expect(f.rows, f.table).toBe(rows[0].n);
    }
    expect(m.files.find((f) => f.table === 'diary_entry')?.rows).toBe(12);
    expect(readdirSync(out).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('never exports credentials', () => {
    const accounts = ndjson(dir, 'account');
    expect(accounts.length).toBeGreaterThan(0);
    for (const a of accounts) {
      expect(a).not.toHaveProperty('password_hash');
      expect(a).not.toHaveProperty('totp_secret');
    }
    expect(read(dir, 'account.ndjson')).not.toContain('argon2id');
    expect(existsSync(join(dir, 'session.ndjson'))).toBe(false);
  });

  it('writes ndjson lines exactly as JSON, whatever the text holds', () => {
    const lines = read(dir, 'message.ndjson').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(manifestOf(dir).files.find((f) => f.table === 'message')?.rows);
    const bodies = lines.map((l) => (JSON.parse(l) as { body: string }).body);
    expect(bodies.sort()).toEqual([...TRICKY].sort());
    // Not a doubled backslash, not COPY's quote: the server's JSON as it is.
    expect(lines.some((l) => l.includes(JSON.stringify(TRICKY[0])))).toBe(true);
    expect(lines.some((l) => l.includes('\x01'))).toBe(false);
  });

  it('neutralises formulas in SQL exactly as neutraliseCell does', async () => {
    const values = [...TRICKY, null, '=', '-', "'", "'-5", '\t', '\r', '\n=x', '＝fullwidth', '😀=', 'a=b', '@'];
    const { rows } = await sql(portal.dbUrl, `select ${neutraliseSql('v')} as n from unnest($1::text[]) with ordinality as u(v, i) order by i`, [values]);
    expect(rows.map((r) => r.n as string | null)).toEqual(values.map((v) => (v === null ? null : neutraliseCell(v))));
    // And a value that changed shows it could fail: the rule is applied, not skipped.
    expect(rows[values.indexOf('=1+1')]!.n).toBe("'=1+1");
  });

  it('records the export in the audit log, with counts and no personal data', async () => {
    const { rows } = await sql(portal.dbUrl, `select actor, details from audit_event where type = 'export.written' order by id desc limit 1`);
    expect(rows[0].actor).toBe(admin.label);
    expect(rows[0].details.rows.diary_entry).toBe(12);
    expect(JSON.stringify(rows[0].details)).not.toContain('@');
  });

  it('writes CSV with formula cells neutralised, NULL apart from the empty string, gzip that decompresses', async () => {
    const r = await writeExport(portal.em(), admin, { out, format: 'csv', gzip: true, tables: ['parent', 'message', 'diary_entry'] });
    const m = manifestOf(r.dir);
    expect(m.complete).toBe(false);
    expect(m.files.map((f) => f.file)).toEqual(['parent.csv.gz', 'diary_entry.csv.gz', 'message.csv.gz']);
    const parents = read(r.dir, 'parent.csv.gz');
    expect(parents.startsWith('id,email,first_name,')).toBe(true);
    expect(parents).toContain(`'=HYPERLINK(""https://evil.example"",""klik"")"`);
    expect(parents).not.toMatch(/[,\n]"?=HYPERLINK/);
    // infix is NULL: an empty unquoted cell; message.body is '': "".
    expect(read(r.dir, 'message.csv.gz')).toMatch(/,parent,,,Anna,"",/);
    const diary = read(r.dir, 'diary_entry.csv.gz');
    expect(await records(diary)).toHaveLength(1 + 12);
    expect(diary).toContain('"Dag 1\n""goed"", gegeten; -1"');
    // Every tricky text comes back neutralised, its line breaks and quotes inside the cell.
    const messages = await records(read(r.dir, 'message.csv.gz'));
    const body = messages[0]!.indexOf('body');
    expect(messages.length - 1).toBe(m.files.find((f) => f.table === 'message')?.rows);
    expect(messages.slice(1).map((rec) => rec[body]).sort()).toEqual(TRICKY.map(neutraliseCell).sort());
    const f = m.files[0]!;
    expect(createHash('sha256').update(readFileSync(join(r.dir, f.file))).digest('hex')).toBe(f.sha256);
  });

  it('--tables chooses, and refuses tables that are never exported', async () => {
    const r = await writeExport(portal.em(), admin, { out, tables: ['child', 'location'] });
    expect(readdirSync(r.dir).sort()).toEqual(['child.ndjson', 'location.ndjson', 'manifest.json']);
    await expect(writeExport(portal.em(), admin, { out, tables: ['session'] })).rejects.toThrow(/never exported/);
    await expect(writeExport(portal.em(), admin, { out, tables: ['nope'] })).rejects.toThrow(/unknown table/);
  });

  it('--since exports only rows changed at or after the time, and tables without a timestamp in full', async () => {
    const cut = new Date(Date.now() - 36 * 3600_000).toISOString();
    const r = await writeExport(portal.em(), admin, { out, since: cut, tables: ['diary_entry', 'photo'] });
    const m = manifestOf(r.dir);
    // Entries of today and yesterday (updated 0 and 1 days ago) are after the cut, 10 others not.
    expect(ndjson(r.dir, 'diary_entry').map((e) => e['text']).sort()).toEqual(['Dag 0\n"goed", gegeten; -1', 'Dag 1\n"goed", gegeten; -1']);
    expect(m.files.find((f) => f.table === 'diary_entry')).toMatchObject({ selection: 'since', sinceColumn: 'updated_at', rows: 2 });
    expect(m.files.find((f) => f.table === 'photo')).toMatchObject({ selection: 'full-no-timestamp', rows: 3 });
    expect(m.since).toBe(cut);
    await expect(writeExport(portal.em(), admin, { out, since: 'yesterday' })).rejects.toThrow(/since/);
  });

  it('--since lists the keys deleted since then (never the content), for the chosen tables; a full export has none', async () => {
    const u = portal.dbUrl;
    const cut = new Date(Date.now() - 1000).toISOString();
    // A row of its own, so the other tests keep their twelve entries.
    await sql(
      u,
      `insert into diary_entry (id, child_id, day, author_kind, author_label, text, lines, photo_ids, version, created_at, updated_at)
         select gen_random_uuid(), child_id, day - 400, author_kind, author_label, 'Weg met dit', lines, photo_ids, 1, now(), now() from diary_entry limit 1`,
    );
    const [gone] = (await sql(u, `delete from diary_entry where text = 'Weg met dit' returning id`)).rows;
    const [place] = (await sql(u, `insert into location (name, created_at, updated_at) values ('Tijdelijk', now(), now()) returning id`)).rows;
    await sql(u, `delete from location where id = $1`, [place.id]);
    const chosen = await writeExport(portal.em(), admin, { out, since: cut, tables: ['diary_entry'] });
    const deletions = ndjson(chosen.dir, 'deleted_row');
    expect(deletions.map((d) => [d['table_name'], d['row_key']])).toEqual([['diary_entry', { id: gone.id }]]);
    expect(Date.parse(String(deletions[0]!['deleted_at']))).toBeGreaterThanOrEqual(Date.parse(cut));
    expect(JSON.stringify(deletions)).not.toContain('Weg met dit');
    expect(manifestOf(chosen.dir).files.find((f) => f.table === 'deleted_row')).toMatchObject({ selection: 'since', sinceColumn: 'deleted_at', rows: 1 });

    const all = await writeExport(portal.em(), admin, { out, since: cut, format: 'csv' });
    const rows = await records(read(all.dir, 'deleted_row.csv'));
    expect(rows[0]).toEqual(['id', 'table_name', 'row_key', 'deleted_at']);
    expect(rows.slice(1).map((row) => [row[1], JSON.parse(row[2]!)])).toEqual(
      expect.arrayContaining([
        ['diary_entry', { id: gone.id }],
        ['location', { id: place.id }],
      ]),
    );
    const full = await writeExport(portal.em(), admin, { out, tables: ['diary_entry'] });
    expect(readdirSync(full.dir)).not.toContain('deleted_row.ndjson');
  });

  it('is one snapshot: a row committed by another connection during the export is not in it', async () => {
    let written = false;
    const r = await writeExport(portal.em(), admin, {
      out,
      tables: ['organisation', 'child'],
      onFile: async (f) => {
        if (f.table !== 'organisation') return;
        await sql(portal.dbUrl, `insert into child (child_number, first_name, last_name, birth_date, created_at, updated_at) values ('K777', 'Laat', 'Bakker', '2024-01-01', now(), now())`);
        written = true;
      },
    });
    expect(written).toBe(true);
    const { rows } = await sql(portal.dbUrl, `select count(*)::int as n from child where child_number = 'K777'`);
    expect(rows[0].n).toBe(1);
    expect(ndjson(r.dir, 'child').map((c) => c['child_number'])).not.toContain('K777');
    await sql(portal.dbUrl, `delete from child where child_number = 'K777'`);
  });

  it('leaves nothing that looks like an export when it fails midway', async () => {
    const failing = mkdtempSync(join(tmpdir(), 'portal-export-fail-'));
    await expect(
      writeExport(portal.em(), admin, {
        out: failing,
        onFile: (f) => {
          if (f.table === 'child') throw new Error('disk full (injected)');
        },
      }),
    ).rejects.toThrow('disk full (injected)');
    expect(readdirSync(failing)).toEqual([]);
    // The connection went back to the pool with its transaction ended: the next export works.
    const again = await writeExport(portal.em(), admin, { out: failing, tables: ['child'] });
    expect(readdirSync(failing)).toEqual([again.dir.split('/').pop()]);
    rmSync(failing, { recursive: true, force: true });
  });

  it('leaves a usable pool when a file cannot be written while its COPY runs', async () => {
    const failing = mkdtempSync(join(tmpdir(), 'portal-export-cut-'));
    // Removing the partial folder after the first file: the next file cannot be created while
    // the server is already sending its rows.
    const attempt = writeExport(portal.em(), admin, {
      out: failing,
      tables: ['organisation', 'diary_entry'],
      onFile: () => {
        for (const n of readdirSync(failing)) rmSync(join(failing, n), { recursive: true });
      },
    });
    await expect(attempt).rejects.toThrow(/ENOENT/);
    expect(readdirSync(failing)).toEqual([]);
    for (let i = 0; i < 3; i++) {
      const again = await writeExport(portal.em(), admin, { out: failing, tables: ['diary_entry'] });
      expect(again.manifest.files[0]?.rows).toBe(12);
    }
    rmSync(failing, { recursive: true, force: true });
  });

  it('is for admins only', async () => {
    await expect(writeExport(portal.em(), { kind: 'manager', staffId: 1, label: 'x' }, { out })).rejects.toThrow(/administrator/);
  });
});

describe('portal restore', () => {
  it('reads ndjson lines at LF only, whatever the JSON strings hold (Node 22+ readline also breaks at U+2028)', async () => {
    async function* chunks() {
      yield '{"a":"x\u2028y\u2029z"}\n{"b":';
      yield '"p\u0085q"}\n';
      yield '{"c":1}';
    }
    const lines: string[] = [];
    for await (const line of ndjsonLines(chunks())) lines.push(line);
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ a: 'x\u2028y\u2029z' }, { b: 'p\u0085q' }, { c: 1 }]);
  });

  let target: TestPortal;
  beforeAll(async () => {
    target = await createTestPortal();
  });
  afterAll(async () => {
    await target?.destroy();
  });

  /** The files of an export as text, by table. */
  const contents = (dir: string) => Object.fromEntries(manifestOf(dir).files.map((f) => [f.table, read(dir, f.file)]));

  it('refuses a tampered file before writing anything', async () => {
    const { dir } = await writeExport(portal.em(), admin, { out });
    const file = join(dir, 'child.ndjson');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Evi', 'Eve'));
    await expect(restoreExport(target.em(), admin, dir)).rejects.toThrow(/child\.ndjson does not match its SHA-256/);
    const { rows } = await sql(target.dbUrl, 'select (select count(*) from location)::int + (select count(*) from child)::int as n');
    expect(rows[0].n).toBe(0);
    rmSync(join(dir, 'manifest.json'));
    await expect(restoreExport(target.em(), admin, dir)).rejects.toThrow(/no manifest\.json/);
  });

  it('refuses an export of another schema version', async () => {
    const { dir } = await writeExport(portal.em(), admin, { out });
    const m = manifestOf(dir);
    const newer = { ...m, migrations: [...m.migrations, 'Migration20991231000000Future'], schemaVersion: 'Migration20991231000000Future' };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(newer));
    await expect(restoreExport(target.em(), admin, dir)).rejects.toThrow(/schema version Migration20991231000000Future/);
  });

  it('refuses an export of changes only', async () => {
    const { dir } = await writeExport(portal.em(), admin, { out, since: '2020-01-01' });
    await expect(restoreExport(target.em(), admin, dir)).rejects.toThrow(/not a backup/);
  });

  it('refuses a database that holds data', async () => {
    const { dir } = await writeExport(portal.em(), admin, { out });
    await expect(restoreExport(portal.em(), admin, dir)).rejects.toThrow(/not empty .*location/);
  });

  for (const [format, gzip] of [
    ['ndjson', false],
    ['csv', true],
  ] as const) {
    it(`round trip (${format}${gzip ? ', gzip' : ''}): export, restore, export gives the same rows and content`, async () => {
      const fresh = await createTestPortal();
      try {
        const first = await writeExport(portal.em(), admin, { out, format, gzip });
        const restored = await restoreExport(fresh.em(), admin, first.dir);
        expect(restored.rows).toBe(manifestOf(first.dir).files.reduce((n, f) => n + f.rows, 0));
        const second = await writeExport(fresh.em(), admin, { out, format, gzip });
        const a = contents(first.dir);
        const b = contents(second.dir);
        for (const table of Object.keys(a)) {
          if (table === 'audit_event') continue;
          expect(b[table], table).toBe(a[table]);
        }
        // The restored log is the original one plus the restore's own event.
        expect(b['audit_event']!.slice(0, a['audit_event']!.length)).toBe(a['audit_event']);
        expect(b['audit_event']!.slice(a['audit_event']!.length)).toContain('export.restored');
        // Sequences continue after the restored ids: new rows can be added.
        await sql(fresh.dbUrl, `insert into location (name, created_at, updated_at) values ('Nieuw', now(), now())`);
        const { rows } = await sql(fresh.dbUrl, `select (select max(id) from location) = (select count(*) from location) as ok`);
        expect(rows[0].ok).toBe(true);
      } finally {
        await fresh.destroy();
      }
    });
  }
});
