import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery } from '../../test/db-admin.ts';
import { createTestDatabase } from '../../test/portal.ts';
import { describeTables, type TableInfo } from './database.ts';
import { copySql } from './export.ts';
import { jsonKinds, NdjsonFromCopyText } from './ndjson.ts';

/**
 * The oracle: PostgreSQL's own row_to_json over copySql's SELECT list, which the export wrote
 * before. The conversion must give the same bytes for every kind of value the schema has or a
 * plugin may add.
 */
const STRINGS = [
  'back\\slash \\n \\\\ not a newline',
  'say "hi", \'ok\'',
  'line\nbreak',
  'cr\r\nlf\r',
  'tab\there',
  'vt\vff\fbs\b',
  'ünïcødé 😀 \u2028\u2029 ｚ 中文',
  'ctrl \x01\x02\x03\x1b\x1f\x7f end',
  '\x01',
  '\\N',
  'N',
  '',
  '"',
  '\\.',
  '\\',
  'a'.repeat(5000),
];

let url: string;
let client: pg.Client;
let table: TableInfo;

beforeAll(async () => {
  url = await createTestDatabase();
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`set timezone = 'UTC'`);
  await client.query(`create table ndjson_oracle (
    id serial primary key, s smallint, i integer, b bigint, n numeric, n2 numeric(10,2), re real, d double precision,
    flag boolean, j json, jb jsonb, t text, v varchar(20), u uuid, day date, at timestamptz, tags text[], ints integer[],
    raw bytea, span interval, "we""ird key" text)`);
  await client.query(
    `insert into ndjson_oracle (t, v, raw) select s, left(s, 20), convert_to(s, 'UTF8') from unnest($1::text[]) s`,
    [STRINGS],
  );
  // json keeps its text as typed: a raw tab (COPY writes \t) must come back as a tab.
  await client.query(`insert into ndjson_oracle (s, i, b, n, n2, re, d, flag, j, jb, u, day, at, tags, ints, span, "we""ird key") values
    (-32768, 2147483647, -9223372036854775808, 'NaN', 1.5, 'Infinity', '-Infinity', true, '{"a": "x\\ty",\t "b": [1, 2]}', '{"k": "q\\"uote \\\\ back \\u0001 ctl", "n": [1.50, null, true]}', gen_random_uuid(), '2024-02-29', '2026-03-29 01:30:00.123456+00',
     array['a b', 'c"d', 'e\\f', null], array[1, null, -3], '1 day 02:03:04', 'x'),
    (0, 0, 0, 'Infinity', -0.01, '-0', 1e300, false, 'null', '"str"', null, 'infinity', '-infinity', '{}', '{}', '-1 mons', null),
    (null, null, null, '-Infinity', null, 'NaN', 'NaN', null, '[]', '{}', null, null, null, null, null, null, ''),
    (1, 2, 3, 12345678901234567890.123456789, 99999999.99, 3.4e38, 2.2250738585072014e-308, true, '1e5', '123.456e-7', null, '0001-01-01 BC', '2026-01-01', null, null, null, null)`);
  table = (await describeTables(client, ['ndjson_oracle'])).get('ndjson_oracle')!;
});

afterAll(async () => {
  await client?.end();
  if (url) await adminQuery(url, `drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
});

/** What row_to_json writes for the rows, one line each. */
async function oracle(): Promise<string> {
  const sql = copySql('ndjson_oracle', table.columns, 'ndjson', null);
  // The SELECT inside copySql's COPY, read as a query: no COPY quoting in between.
  const select = /^copy \((.*)\) to stdout/s.exec(sql)![1]!;
  const { rows } = await client.query<{ row_to_json: string }>(select);
  return rows.map((r) => `${r.row_to_json}\n`).join('');
}

/** The COPY text bytes of the rows. */
async function copyText(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    client.query(copyTo(copySql('ndjson_oracle', table.columns, 'text', null))),
    new Writable({
      write(chunk: Buffer, _e, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

async function convert(chunks: Buffer[]): Promise<string> {
  const kinds = jsonKinds(table.columns)!;
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new NdjsonFromCopyText(
      table.columns.map((c) => c.name),
      kinds,
    ),
    new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out).toString('utf8');
}

describe('ndjson lines from COPY text', () => {
  it('knows every column type of the oracle table, with the kind row_to_json gives it', () => {
    const kinds = Object.fromEntries(table.columns.map((c, i) => [c.name, jsonKinds(table.columns)![i]]));
    expect(kinds).toMatchObject({ s: 'int', i: 'int', b: 'int', n: 'number', n2: 'number', re: 'number', d: 'number', flag: 'bool', j: 'json', jb: 'json' });
    expect(kinds).toMatchObject({ t: 'string', v: 'string', u: 'string', day: 'string', at: 'string', tags: 'string', raw: 'string', span: 'string' });
  });

  it('writes the bytes row_to_json writes, however the COPY output is cut into chunks', async () => {
    const expected = await oracle();
    expect(expected.split('\n')).toHaveLength(STRINGS.length + 4 + 1);
    const text = await copyText();
    expect(await convert([text])).toBe(expected);
    // Every cut: one byte at a time, and odd-sized pieces.
    expect(await convert([...text].map((b) => Buffer.from([b])))).toBe(expected);
    const pieces: Buffer[] = [];
    for (let p = 0; p < text.length; p += 37) pieces.push(text.subarray(p, p + 37));
    expect(await convert(pieces)).toBe(expected);
    // The strings survive as they were (a check of the oracle itself).
    const lines = expected.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, STRINGS.length).map((l) => l['t'])).toEqual(STRINGS);
  });

  it('leaves a column type it does not know to row_to_json', () => {
    const money = { name: 'm', type: 'money', category: 'N', sequence: null };
    expect(jsonKinds([...table.columns, money])).toBeNull();
    expect(jsonKinds([{ name: 'x', type: 'my_domain', category: 'N', sequence: null }])).toBeNull();
  });

  it('refuses COPY output that ends inside a row or has the wrong number of fields', async () => {
    const kinds = ['int', 'string'] as const;
    const run = (text: string) =>
      pipeline(
        Readable.from([Buffer.from(text)]),
        new NdjsonFromCopyText(['a', 'b'], kinds),
        new Writable({ write: (_c, _e, done) => done() }),
      );
    await expect(run('1\tx\n2\ty')).rejects.toThrow(/ends inside a row/);
    await expect(run('1\n')).rejects.toThrow(/too few fields/);
    await expect(run('1\tx\ty\n')).rejects.toThrow(/too many fields/);
    await expect(run('1\tx\n2\t\\N\n')).resolves.toBeUndefined();
  });
});
