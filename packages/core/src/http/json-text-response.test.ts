import { describe, expect, it } from 'vitest';
import { JsonTextResponse, RESPONSE_TEXT } from './json-text-response.js';

const init = { status: 201, headers: { 'content-type': 'application/json', 'x-request-id': 'r1' } };

describe('JsonTextResponse', () => {
  it('offers its text to adapters until a stream is made of it', async () => {
    const response = new JsonTextResponse('{"a":1}', init);
    expect(response).toBeInstanceOf(Response);
    expect(response[RESPONSE_TEXT]).toBe('{"a":1}');
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('r1');
    expect(response.bodyUsed).toBe(false);
    const body = response.body;
    expect(body).toBeInstanceOf(ReadableStream);
    expect(response[RESPONSE_TEXT]).toBeUndefined();
    expect(await new Response(body).text()).toBe('{"a":1}');
  });

  it('reads like an ordinary Response', async () => {
    expect(await new JsonTextResponse('{"a":1}', init).json()).toEqual({ a: 1 });
    expect(await new JsonTextResponse('{"a":1}', init).text()).toBe('{"a":1}');
    expect(new Uint8Array(await new JsonTextResponse('{"a":1}', init).arrayBuffer())).toEqual(
      new TextEncoder().encode('{"a":1}'),
    );
    const used = new JsonTextResponse('{"a":1}', init);
    await used.text();
    expect(used.bodyUsed).toBe(true);
    await expect(used.text()).rejects.toThrow(TypeError);
  });

  it('clones with its text and headers', async () => {
    const original = new JsonTextResponse('{"a":1}', init);
    const copy = original.clone();
    expect(copy.status).toBe(201);
    expect(copy.headers.get('x-request-id')).toBe('r1');
    expect(await copy.json()).toEqual({ a: 1 });
    expect(await original.json()).toEqual({ a: 1 });
  });
});
