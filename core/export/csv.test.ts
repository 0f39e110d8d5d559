import { describe, expect, it } from 'vitest';
import { csvRecord, csvValue, readCsvRecords } from './csv.ts';

async function readAll(text: string, chunkSize: number) {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize);
  }
  const out: (string | null)[][] = [];
  for await (const r of readCsvRecords(chunks())) out.push(r);
  return out;
}

describe('the export CSV dialect', () => {
  const values = [null, '', 'plain', 'a,b', 'say "hi"', 'line\r\nbreak', '=1+1', '-5', '@home', "'=x"];

  it('writes RFC 4180 with NULL apart from the empty string and formulas neutralised', () => {
    expect(csvRecord(values, values.map(() => true))).toBe(
      `,"",plain,"a,b","say ""hi""","line\r\nbreak",'=1+1,'-5,'@home,'=x\r\n`,
    );
    // A numeric column keeps its minus sign.
    expect(csvRecord(['-5', null], [false, false])).toBe('-5,\r\n');
  });

  it('reads back what it wrote, whatever the chunk boundaries', async () => {
    const neutralise = values.map(() => true);
    const text = csvRecord(values, neutralise) + csvRecord(['x', null, '"'], [true, true, true]);
    for (const size of [1, 2, 3, 7, 1000]) {
      const records = await readAll(text, size);
      expect(records.length, `chunks of ${size}`).toBe(2);
      // "'=x" comes back as "=x": the documented limit of neutralising (ndjson is lossless).
      expect(records[0]!.map((c) => csvValue(c, true))).toEqual([...values.slice(0, 9), '=x']);
      expect(records[1]).toEqual(['x', null, '"']);
    }
  });

  it('refuses a file that ends inside quotes', async () => {
    await expect(readAll('a,"open\r\n', 4)).rejects.toThrow(/ends inside a quoted cell/);
  });
});
