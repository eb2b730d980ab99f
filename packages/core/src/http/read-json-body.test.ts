import { describe, expect, it } from 'vitest';
import type { FusionError } from '../errors/fusion-error.js';
import { readJsonBody } from './read-json-body.js';

type BodyInitWithDuplex = RequestInit & { duplex?: 'half' };

function post(body: BodyInit | null, headers?: Record<string, string>): Request {
  const init: BodyInitWithDuplex = { method: 'POST', body, duplex: 'half' };
  if (headers) init.headers = headers;
  return new Request('http://localhost/v1/chat/completions', init);
}

/** A body stream that yields the given chunks, counting how many were pulled. */
function chunked(chunks: (Uint8Array | Error)[]) {
  const stats = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[stats.pulled++];
        if (next === undefined) controller.close();
        else if (next instanceof Error) controller.error(next);
        else controller.enqueue(next);
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

async function failure(promise: Promise<unknown>): Promise<FusionError> {
  try {
    await promise;
  } catch (error) {
    return error as FusionError;
  }
  throw new Error('expected a rejection');
}

describe('readJsonBody', () => {
  it('parses a JSON body', async () => {
    expect(await readJsonBody(post('{"a":[1,"é"]}'), 1000)).toEqual({ a: [1, 'é'] });
  });

  it('parses a body that arrives in several chunks', async () => {
    const bytes = new TextEncoder().encode('{"text":"héllo wörld"}');
    const { stream } = chunked([bytes.slice(0, 5), bytes.slice(5, 11), bytes.slice(11)]);
    expect(await readJsonBody(post(stream), 1000)).toEqual({ text: 'héllo wörld' });
  });

  it('refuses a declared content-length over the limit with 413 before reading', async () => {
    const { stream, stats } = chunked([new Uint8Array(10)]);
    const error = await failure(readJsonBody(post(stream, { 'content-length': '2000' }), 1000));
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(stats.pulled).toBe(0);
  });

  it('refuses a streamed body with 413 as soon as it passes the limit', async () => {
    const chunk = new Uint8Array(400).fill(0x20);
    const { stream, stats } = chunked([chunk, chunk, chunk, chunk, chunk, chunk]);
    const error = await failure(readJsonBody(post(stream), 1000));
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(stats.pulled).toBeLessThanOrEqual(4);
    expect(stats.cancelled).toBe(true);
  });

  it('accepts a body of exactly the limit', async () => {
    const body = `{"a":"${'x'.repeat(92)}"}`;
    expect(body.length).toBe(100);
    await expect(readJsonBody(post(body), 100)).resolves.toEqual({ a: 'x'.repeat(92) });
  });

  it('answers 413 when the stream fails with an error named PayloadTooLargeError', async () => {
    const tooLarge = Object.assign(new Error('body over 4 MiB'), { name: 'PayloadTooLargeError' });
    const { stream } = chunked([new TextEncoder().encode('{"a":'), tooLarge]);
    expect(await failure(readJsonBody(post(stream), 1_000_000))).toMatchObject({ status: 413 });
    const withStatus = Object.assign(new Error('too big'), { status: 413 });
    expect(await failure(readJsonBody(post(chunked([withStatus]).stream), 1_000_000))).toMatchObject({
      status: 413,
    });
  });

  it('answers 400 when the stream fails otherwise', async () => {
    const { stream } = chunked([new Error('ECONNRESET')]);
    expect(await failure(readJsonBody(post(stream), 1000))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
  });

  it('answers 400 for invalid JSON, an empty body, no body, and invalid UTF-8', async () => {
    const invalid = await failure(readJsonBody(post('{"model": '), 1000));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(invalid.message).toMatch(/not valid JSON/);
    expect(await failure(readJsonBody(post(''), 1000))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/empty/),
    });
    expect(await failure(readJsonBody(post(null), 1000))).toMatchObject({ status: 400 });
    const latin1 = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]); // {"a":"\xe9"}
    expect(await failure(readJsonBody(post(latin1), 1000))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/UTF-8/),
    });
  });

  it('refuses JSON nested deeper than providers can serialise with 400', async () => {
    const depth = 100_000;
    const error = await failure(
      readJsonBody(post(`{"model":"m","x":${'['.repeat(depth)}${']'.repeat(depth)}}`), 4_000_000),
    );
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(error.message).toMatch(/nested/);
    // Ordinary nesting, brackets inside strings, and escaped quotes are fine.
    const normal = { a: [[[{ b: '[[[[{{{{' }]]], 'q"[': { c: [1, { d: '\\"]' }] } };
    await expect(readJsonBody(post(JSON.stringify(normal)), 1000)).resolves.toEqual(normal);
  });
});
