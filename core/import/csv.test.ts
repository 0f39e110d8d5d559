import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseHeader, PLANNING_COLUMNS, parseColumnMap, resolveColumns } from './columns.ts';
import { CsvParser, detectDelimiter, parseCsvText, readCsv } from './csv.ts';
import { formatRejectedCsv, neutraliseCell, unneutraliseCell } from './csv-safe.ts';
import { PLANNING_SAMPLE } from '../../test/fixtures.ts';

const sample = PLANNING_SAMPLE;

describe('CSV reader', () => {
  it('reads the Dutch Excel export: BOM, CRLF, semicolons', () => {
    const { records, delimiter } = parseCsvText(readFileSync(sample, 'utf8'));
    expect(delimiter).toBe(';');
    expect(records[0]!.cells[0]).toBe('Locatie'); // no BOM glued to the first header
    expect(records[0]!.cells).toHaveLength(19);
    expect(records).toHaveLength(44);
    expect(records.every((r) => r.cells.length === 19)).toBe(true);
    expect(records[1]).toMatchObject({ line: 2, cells: expect.arrayContaining(['K10001', 'Aylin', '21-01-2025']) });
    expect(records.at(-1)!.cells.at(-1)).toBe(''); // trailing empty cells, no stray \r
  });

  it('detects the separator from the header line, ignoring separators inside quotes', () => {
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('a,b,c')).toBe(',');
    expect(detectDelimiter('"a,b";c')).toBe(';');
    expect(detectDelimiter('"a;b;c",d,e')).toBe(',');
    expect(detectDelimiter('a\tb\tc')).toBe('\t');
  });

  it('handles quotes, escaped quotes, separators and line breaks inside quoted cells', () => {
    const text = 'a,b,c\n"x, y","He said ""hi""","line1\nline2"\r\nplain,"",last\n';
    const { records } = parseCsvText(text);
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['x, y', 'He said "hi"', 'line1\nline2'] },
      // A record with a line break inside a cell is still one spreadsheet line.
      { line: 3, cells: ['plain', '', 'last'] },
    ]);
  });

  it('counts blank lines as spreadsheet lines and reads a last line without a line break', () => {
    const { records } = parseCsvText('h1;h2\r\n\r\nx;y\r\n;\r\nlast;row');
    expect(records.map((r) => [r.line, r.cells])).toEqual([
      [1, ['h1', 'h2']],
      [2, ['']],
      [3, ['x', 'y']],
      [4, ['', '']],
      [5, ['last', 'row']],
    ]);
  });

  it('gives the same records whatever the chunk boundaries (CR LF split, quotes split, BOM alone)', () => {
    const text = '\uFEFFa;b\r\n"q ""x"" ;y";2\r\n\r\nlast;"multi\r\nline"\r\n';
    const whole = parseCsvText(text).records;
    for (let size = 1; size <= 7; size++) {
      const parser = new CsvParser();
      const records = [];
      for (let i = 0; i < text.length; i += size) records.push(...parser.push(text.slice(i, i + size)));
      records.push(...parser.end());
      expect(records, `chunks of ${size}`).toEqual(whole);
    }
    expect(whole[1]!.cells).toEqual(['q "x" ;y', '2']);
    expect(whole[3]!.cells).toEqual(['last', 'multi\r\nline']);
  });

  it('reports an unclosed quote instead of crashing', () => {
    const { records } = parseCsvText('a;b\n1;"open\n2;3\n');
    expect(records[1]).toMatchObject({ line: 2, error: expect.stringMatching(/not closed/) });
  });

  it('reads a stream of chunks', async () => {
    async function* chunks() {
      yield 'a,b\n1,';
      yield '2\n3,4';
    }
    const out = [];
    for await (const r of readCsv(chunks())) out.push(r.cells);
    expect(out).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('reads 100,000 rows in linear time', () => {
    const row = 'Heerlen Centrum;Boomhut;K1;Aylin;;Visser;21-01-2025;Ja;Nee;a@b.nl;A;;B;0612345678;;;;;\r\n';
    const text = `${row}`.repeat(100_000);
    const t0 = performance.now();
    const { records } = parseCsvText(text);
    const elapsed = performance.now() - t0;
    expect(records).toHaveLength(100_000);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('columns', () => {
  it('matches Dutch and English headers loosely', () => {
    expect(normaliseHeader('E-mail ouder 1')).toBe(normaliseHeader('e_mail  OUDER 1'));
    const nl = resolveColumns(['Locatie', 'Groep', 'Kindnummer', 'Roepnaam kind', 'Achternaam kind', 'Geboortedatum'], PLANNING_COLUMNS);
    expect(nl.problems).toEqual([]);
    expect(nl.index).toMatchObject({ location: 0, group: 1, 'child.number': 2, 'child.birthDate': 5 });
    const en = resolveColumns(['Location', 'Group', 'Child number', 'Child first name', 'Child last name', 'Date of birth', 'Parent 1 email'], PLANNING_COLUMNS);
    expect(en.problems).toEqual([]);
    expect(en.index['parent1.email']).toBe(6);
  });

  it('names missing and doubled columns at line 1', () => {
    const r = resolveColumns(['Groep', 'Group', 'Kindnummer'], PLANNING_COLUMNS);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        { line: 1, column: 'Group', message: expect.stringMatching(/same as column "Groep"/) },
        { line: 1, column: 'Geboortedatum', message: expect.stringMatching(/is missing/) },
      ]),
    );
  });

  it('lets --map name a column, over an alias', () => {
    const map = parseColumnMap(['Mail verzorger=parent1.email', 'Klas=Groep'], PLANNING_COLUMNS);
    expect(map).toEqual([
      { header: 'Mail verzorger', key: 'parent1.email' },
      { header: 'Klas', key: 'group' },
    ]);
    const r = resolveColumns(['Klas', 'Groep', 'Mail verzorger'], PLANNING_COLUMNS, map);
    expect(r.index.group).toBe(0);
    expect(r.columns[1]!.key).toBeNull();
    expect(() => parseColumnMap(['X=nonsense'], PLANNING_COLUMNS)).toThrow(/not a known key/);
    expect(() => parseColumnMap(['no equals sign'], PLANNING_COLUMNS)).toThrow(/Header in the file=key/);
  });
});

describe('formula cells', () => {
  it('neutralises cells a spreadsheet would run, and undoes it on the way back in', () => {
    for (const cell of ['=HYPERLINK("http://x","klik")', '+31 6 1234', '-2+3', '@SUM(A1)', '\tx', '\r=1']) {
      expect(neutraliseCell(cell)).toBe(`'${cell}`);
      expect(unneutraliseCell(neutraliseCell(cell))).toBe(cell);
    }
    expect(neutraliseCell('Visser')).toBe('Visser');
    expect(unneutraliseCell("'t Hoen")).toBe("'t Hoen");
  });

  it('writes a rejected-rows file with every cell neutralised', () => {
    const csv = formatRejectedCsv(['Naam', 'Groep'], [{ line: 3, cells: ['=1+1', 'a;b'], problems: ['Groep: bad'] }]);
    expect(csv).toBe('\uFEFFNaam;Groep;Problems\r\n\'=1+1;"a;b";line 3: Groep: bad\r\n');
  });
});

describe('cells', () => {
  it('reads yes/no, dates and phones as the use cases do', async () => {
    const { yesNoCell, birthDateCell, phoneCell, languageCell } = await import('./cells.ts');
    expect(yesNoCell('Ja')).toEqual({ ok: true, value: true });
    expect(yesNoCell('NEE')).toEqual({ ok: true, value: false });
    expect(yesNoCell('1')).toEqual({ ok: true, value: true });
    expect(yesNoCell('constructor')).toMatchObject({ ok: false });
    expect(yesNoCell('Misschien')).toEqual({ ok: false, message: '"Misschien" is not yes or no (ja/nee, yes/no)' });
    expect(birthDateCell('21-01-2025', '2026-01-01')).toEqual({ ok: true, value: '2025-01-21' });
    expect(birthDateCell('2027-01-01', '2026-01-01')).toEqual({ ok: false, message: '2027-01-01 lies in the future' });
    expect(birthDateCell('31-02-2025', '2026-01-01')).toMatchObject({ ok: false, message: expect.stringMatching(/is not a date/) });
    expect(phoneCell('')).toEqual({ ok: true, value: null });
    expect(phoneCell('0678106871')).toEqual({ ok: true, value: '0678106871' });
    expect(phoneCell('call me')).toMatchObject({ ok: false });
    expect(languageCell('English')).toEqual({ ok: true, value: 'en' });
    expect(languageCell('toString')).toMatchObject({ ok: false });
  });
});
