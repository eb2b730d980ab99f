import { FusionError, UpstreamError } from '@fusionkit/core';
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

/** Deterministic PRNG (mulberry32) so a failing split can be reproduced from its seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
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
      const next = random(seed);
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
