import { FusionError, UpstreamError } from '@fusionkit/core';
import { seededRandom } from '@fusionkit/core/test';
import { describe, expect, it } from 'vitest';
import { readFixture } from './__fixtures__/mock-upstream.js';
import { type SseEvent, SseParser } from './sse-parser.js';

function parseAll(chunks: Buffer[], parser = new SseParser()): SseEvent[] {
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...parser.push(chunk));
  events.push(...parser.end());
  return events;
}

function dataOf(events: SseEvent[]): string[] {
  return events.map((event) => event.data);
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((left, right) => left - right)) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

const MULTI_BYTE = [
  'data: {"content": "Grüße — 你好 — 🇫🇷🚀"}',
  '',
  ': keep-alive comment',
  '',
  'data: first line ✓',
  'data: second line ✓',
  '',
  'event: message',
  'id: 7',
  'data: {"k": "€"}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

describe('SseParser', () => {
  it('parses data events, comments, multi-line data, event and id fields, [DONE]', () => {
    const events = parseAll([Buffer.from(MULTI_BYTE)]);
    expect(events).toEqual([
      { data: '{"content": "Grüße — 你好 — 🇫🇷🚀"}', event: undefined, id: undefined },
      { data: 'first line ✓\nsecond line ✓', event: undefined, id: undefined },
      { data: '{"k": "€"}', event: 'message', id: '7' },
      { data: '[DONE]', event: undefined, id: '7' },
    ]);
  });

  it('accepts \\r\\n and lone \\r line ends, a BOM, "data" without a space and without a value', () => {
    const text = '\uFEFFdata: a\r\n\r\ndata:b\r\rdata\n\ndata: c\r\n\r\n';
    expect(dataOf(parseAll([Buffer.from(text)]))).toEqual(['a', 'b', '', 'c']);
  });

  it('gives the same events for every split point of every fixture stream, with \\n and \\r\\n', () => {
    const streams = [MULTI_BYTE, readFixture('upstream-chat.chunks.txt'), readFixture('lab-chat.chunks.txt')];
    for (const text of streams) {
      for (const variant of [text, text.replaceAll('\n', '\r\n')]) {
        const bytes = Buffer.from(variant);
        const expected = dataOf(parseAll([bytes]));
        for (let cut = 1; cut < bytes.length; cut++) {
          expect(dataOf(parseAll(splitAt(bytes, [cut])))).toEqual(expected);
        }
      }
    }
  });

  it('gives the same events for random multi-way splits (including inside UTF-8 characters)', () => {
    const bytes = Buffer.from(MULTI_BYTE.replaceAll('\n', '\r\n'));
    const expected = dataOf(parseAll([bytes]));
    for (let seed = 1; seed <= 300; seed++) {
      const next = seededRandom(seed);
      const cuts = Array.from(
        { length: 1 + Math.floor(next() * 12) },
        () => 1 + Math.floor(next() * (bytes.length - 1)),
      );
      expect(dataOf(parseAll(splitAt(bytes, cuts))), `seed ${seed}`).toEqual(expected);
    }
  });

  it('parses a stream fed one byte at a time', () => {
    const bytes = Buffer.from(MULTI_BYTE.replaceAll('\n', '\r\n'));
    const pieces = Array.from(bytes, (byte) => Buffer.from([byte]));
    expect(dataOf(parseAll(pieces))).toEqual(dataOf(parseAll([bytes])));
  });

  it('dispatches an unterminated last event at the end of the stream', () => {
    const parser = new SseParser();
    expect(parser.push(Buffer.from('data: {"a":1}\n\ndata: [DO'))).toHaveLength(1);
    expect(parser.push(Buffer.from('NE]'))).toHaveLength(0);
    expect(dataOf(parser.end())).toEqual(['[DONE]']);
  });

  it('ends an unterminated last line that stops inside a character with U+FFFD', () => {
    const bytes = Buffer.from('data: a\n\ndata: b你');
    const events = parseAll([bytes.subarray(0, -1)]);
    expect(dataOf(events)).toEqual(['a', 'b\uFFFD']);
    expect(dataOf(parseAll(splitAt(bytes.subarray(0, -1), [bytes.length - 3])))).toEqual(['a', 'b\uFFFD']);
  });

  it('ignores events without data and unknown fields', () => {
    const text = 'event: ping\n\nretry: 1000\nunknown-field-with-a-long-name: x\n\ndata: ok\n\n';
    expect(dataOf(parseAll([Buffer.from(text)]))).toEqual(['ok']);
  });

  it('throws an UpstreamError as soon as a 5 MB line passes the limit, without buffering it all', () => {
    const limit = 1024 * 1024;
    const parser = new SseParser({ maxEventBytes: limit });
    const piece = Buffer.alloc(64 * 1024, 'x');
    let pushed = 0;
    let thrown: unknown;
    try {
      parser.push(Buffer.from('data: '));
      for (pushed = 0; pushed < (5 * 1024 * 1024) / piece.length; pushed++) parser.push(piece);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect(FusionError.isInstance(thrown) && thrown.status).toBe(502);
    expect(pushed * piece.length).toBeLessThanOrEqual(limit);
  });

  it('counts all lines of one event against the limit', () => {
    const parser = new SseParser({ maxEventBytes: 100 });
    expect(() => parser.push(Buffer.from(`${'data: 0123456789\n'.repeat(10)}\n`))).toThrow(UpstreamError);
  });

  it('parses a 5 MB event within the default limit', () => {
    const big = 'y'.repeat(5 * 1024 * 1024);
    const bytes = Buffer.from(`data: ${big}\n\ndata: [DONE]\n\n`);
    const pieces = splitAt(
      bytes,
      Array.from({ length: 80 }, (_, index) => (index + 1) * 65536),
    );
    const events = parseAll(pieces);
    expect(events).toHaveLength(2);
    expect(events[0]?.data.length).toBe(big.length);
  });
});

/** The events of a whole stream, by a plain reading of the spec: decode, split lines, read fields. */
function referenceEvents(bytes: Buffer): SseEvent[] {
  let text = bytes.toString('utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = text.split(/\r\n|\r|\n/);
  const last = lines.pop();
  if (last !== undefined && last !== '') lines.push(last, '');
  const events: SseEvent[] = [];
  let data: string[] | undefined;
  let event: string | undefined;
  let id: string | undefined;
  for (const line of lines) {
    if (line === '') {
      if (data !== undefined) events.push({ data: data.join('\n'), event, id });
      data = undefined;
      event = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') (data ??= []).push(value);
    else if (name === 'event') event = value;
    else if (name === 'id' && !value.includes('\0')) id = value;
  }
  if (data !== undefined) events.push({ data: data.join('\n'), event, id });
  return events;
}

const VALUE_PIECES = ['a', 'é', '€', '你', '🚀', '🇫🇷', ':', ' ', '\0', '\uFEFF', 'x'.repeat(20)];
const LINE_ENDS = ['\n', '\r\n', '\r'];
const STRAY_BYTES = [0x80, 0xbf, 0xc3, 0xe4, 0xf0, 0xff];

/** A random stream: all kinds of lines and line ends, multi-byte text, a BOM, stray invalid bytes. */
function randomStream(seed: number): Buffer {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const parts: Buffer[] = [];
  if (next() < 0.3) parts.push(Buffer.from('\uFEFF'));
  const lineCount = 5 + Math.floor(next() * 40);
  for (let index = 0; index < lineCount; index++) {
    const value = Array.from({ length: Math.floor(next() * 8) }, () => pick(VALUE_PIECES)).join('');
    const kind = next();
    let line: string;
    if (kind < 0.4) line = `data${pick([': ', ':', ':  '])}${value}`;
    else if (kind < 0.45) line = 'data';
    else if (kind < 0.55) line = `event: ${value}`;
    else if (kind < 0.65) line = `id: ${value}`;
    else if (kind < 0.7) line = `: ${value}`;
    else if (kind < 0.75) line = pick(['retry: 10', 'database: x', 'Data: y', `${value}: z`, 'event', 'id']);
    else line = '';
    parts.push(Buffer.from(line + pick(LINE_ENDS)));
    if (next() < 0.05) parts.push(Buffer.from([pick(STRAY_BYTES)]));
  }
  if (next() < 0.3) parts.push(Buffer.from('data: unterminated ✓'));
  if (next() < 0.3) parts.push(Buffer.from('data: cut 你').subarray(0, -1 - Math.floor(next() * 2)));
  return Buffer.concat(parts);
}

describe('SseParser, chunk boundaries and limits', () => {
  it('decodes characters split anywhere across three chunks, whichever of them ends inside one', () => {
    const bytes = Buffer.from('data: é€你🚀x\r\n\r\ndata: 🇫🇷ü\n\n');
    const expected = ['é€你🚀x', '🇫🇷ü'];
    for (let first = 1; first < bytes.length; first++) {
      for (let second = first + 1; second < bytes.length; second++) {
        expect(dataOf(parseAll(splitAt(bytes, [first, second]))), `cuts ${first}, ${second}`).toEqual(
          expected,
        );
        // With an empty chunk after the first piece.
        expect(dataOf(parseAll(splitAt(bytes, [first, first, second]))), `cuts ${first}, ${second}`).toEqual(
          expected,
        );
      }
    }
  });

  it('takes a \\r ending one chunk and a \\n starting the next as one line end', () => {
    const pieces = (texts: string[]) => texts.map((text) => Buffer.from(text));
    expect(dataOf(parseAll(pieces(['data: a\r', '\ndata: b\r', '\n\r', '\n'])))).toEqual(['a\nb']);
    // Also when an empty chunk comes between them.
    expect(dataOf(parseAll(pieces(['data: a\r', '', '\ndata: b\n\n'])))).toEqual(['a\nb']);
    // A lone \r at the end of a chunk is a line end by itself.
    expect(dataOf(parseAll(pieces(['data: a\r', '\rdata: b\r', '\r'])))).toEqual(['a', 'b']);
  });

  it('strips a BOM split across chunks at the start of the stream, and no other', () => {
    const bytes = Buffer.from('\uFEFFdata: a\n\n');
    expect(dataOf(parseAll(splitAt(bytes, [1, 2, 3])))).toEqual(['a']);
    for (let cut = 1; cut <= 3; cut++) expect(dataOf(parseAll(splitAt(bytes, [cut])))).toEqual(['a']);
    // Elsewhere a BOM is text: "\uFEFFdata" is an unknown field name, and a value keeps it.
    expect(dataOf(parseAll([Buffer.from('data: a\n\n\uFEFFdata: b\n\n')]))).toEqual(['a']);
    expect(dataOf(parseAll([Buffer.from('\n\uFEFFdata: b\n\n')]))).toEqual([]);
    expect(dataOf(parseAll([Buffer.from('\uFEFF\uFEFFdata: a\n\ndata: \uFEFFb\n\n')]))).toEqual(['\uFEFFb']);
  });

  it('reads only the fields data, event and id, by exact name; ignores an id containing NUL', () => {
    const text = [
      'id: 1',
      'data: one',
      '',
      'id: 2\0',
      'data: two',
      '',
      'database: x',
      'Data: y',
      'dat: z',
      'data-x: w',
      'datum',
      'eventful: v',
      'data',
      'data:  spaced',
      'event',
      '',
      'event: custom',
      'id',
      'data:x',
      '',
    ].join('\n');
    expect(parseAll([Buffer.from(text)])).toEqual([
      { data: 'one', event: undefined, id: '1' },
      { data: 'two', event: undefined, id: '1' },
      { data: '\n spaced', event: '', id: '1' },
      { data: 'x', event: 'custom', id: '' },
    ]);
  });

  it('counts an unterminated line against maxEventBytes before its line end comes', () => {
    const parser = new SseParser({ maxEventBytes: 40 });
    expect(parser.push(Buffer.from('data: 0123456789\n'))).toEqual([]); // 16
    expect(parser.push(Buffer.from('data: 0123456789'))).toEqual([]); // 16 + 16
    expect(() => parser.push(Buffer.from('0123456789'))).toThrow(UpstreamError); // 16 + 26
  });

  it('allows an event of exactly maxEventBytes, and counts each event from zero', () => {
    const text = 'data: 0123456789\n\n'.repeat(3);
    expect(dataOf(parseAll([Buffer.from(text)], new SseParser({ maxEventBytes: 16 })))).toHaveLength(3);
    expect(() => parseAll([Buffer.from(text)], new SseParser({ maxEventBytes: 15 }))).toThrow(UpstreamError);
  });

  it('counts maxEventBytes in UTF-16 code units of the decoded lines, not in bytes', () => {
    // 'data: ' and five 3-byte characters: 11 code units, 21 bytes.
    const bytes = Buffer.from('data: 你你你你你\n\n');
    expect(dataOf(parseAll([bytes], new SseParser({ maxEventBytes: 11 })))).toEqual(['你你你你你']);
    expect(() => parseAll([bytes], new SseParser({ maxEventBytes: 10 }))).toThrow(UpstreamError);
    // Unterminated and split inside a character, the line is counted the same way.
    const parser = new SseParser({ maxEventBytes: 9 });
    expect(parser.push(bytes.subarray(0, 16))).toEqual([]); // 'data: 你你你' (9), a byte of the 4th 你
    expect(() => parser.push(bytes.subarray(16, 19))).toThrow(UpstreamError); // the 4th 你: 10
  });

  it('gives the events of a plain reading of the spec for random streams, fed whole, a byte at a time or split', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const bytes = randomStream(seed);
      const expected = referenceEvents(bytes);
      expect(parseAll([bytes]), `seed ${seed}, whole`).toEqual(expected);
      const oneByOne = Array.from(bytes, (byte) => Buffer.from([byte]));
      expect(parseAll(oneByOne), `seed ${seed}, a byte at a time`).toEqual(expected);
      const next = seededRandom(seed + 1000);
      const cuts = Array.from({ length: 1 + Math.floor(next() * 8) }, () =>
        Math.floor(next() * bytes.length),
      );
      expect(parseAll(splitAt(bytes, cuts)), `seed ${seed}, cuts ${cuts.join(', ')}`).toEqual(expected);
    }
  });
});
