import { describe, expect, it } from 'vitest';
import { loadJson, loadJsonLines } from './json-loader.js';

const encode = (value: string) => new TextEncoder().encode(value);

describe('loadJsonLines', () => {
  it('makes one document per line with id, title, text and the other fields as metadata', () => {
    const lines = [
      '{"_id": "4983", "title": "White matter", "text": "Diffusion tensor imaging.", "metadata": {"year": 2002}}',
      '',
      '{"id": 7, "text": "Second.", "lang": "en"}',
    ].join('\n');
    expect(loadJsonLines(encode(lines))).toEqual([
      {
        text: 'Diffusion tensor imaging.',
        format: 'jsonl',
        title: 'White matter',
        recordId: '4983',
        metadata: { metadata: { year: 2002 } },
      },
      { text: 'Second.', format: 'jsonl', recordId: '7', metadata: { lang: 'en' } },
    ]);
  });

  it('takes the text from configured (dotted, several) fields and keeps chosen metadata', () => {
    const line = '{"key": "a", "body": {"summary": "Short."}, "notes": "More.", "x": 1, "y": 2}';
    const [document] = loadJsonLines(encode(line), {
      textField: ['body.summary', 'notes'],
      idField: 'key',
      metadataFields: ['y'],
    });
    expect(document).toEqual({ text: 'Short.\n\nMore.', format: 'jsonl', recordId: 'a', metadata: { y: 2 } });
  });

  it('names the line of a bad record', () => {
    expect(() => loadJsonLines(encode('{"text": "ok"}\n{oops'))).toThrow(/Line 2 is not valid JSON/);
    expect(() => loadJsonLines(encode('{"body": "no text"}'))).toThrow(/Line 1 has no string field 'text'/);
    expect(() => loadJsonLines(encode('[1]'))).toThrow(/not a JSON object/);
  });
});

describe('loadJson', () => {
  it('reads an array of records or a single record', () => {
    expect(loadJson(encode('[{"text": "a"}, {"text": "b"}]')).map((document) => document.text)).toEqual([
      'a',
      'b',
    ]);
    expect(loadJson(encode('{"content": "c"}'), { textField: 'content' })[0]!.text).toBe('c');
  });
});
